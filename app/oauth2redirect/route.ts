import { plainPage } from "@/components/plain-page";
import { getConfig } from "@/lib/config";
import { decideOAuthRedirect } from "@/lib/oauth/redirector";

/**
 * The central OAuth 2.0 redirect URL, registered verbatim at Sage for every tenant and brand.
 * Forwards to the brand named in the signed state, only if that brand is on the allowlist.
 */
export async function GET(request: Request) {
  const decision = await decideOAuthRedirect(new URL(request.url).searchParams);
  if (decision.kind === "forward") {
    return new Response(null, { status: 303, headers: { Location: decision.location, "Cache-Control": "no-store" } });
  }
  return plainPage(decision.status, "Sign-in could not continue", decision.message, { href: `${getConfig().appUrl}/connect`, label: "Start the connection again" });
}
