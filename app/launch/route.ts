import { z } from "zod";
import { plainPage } from "@/components/plain-page";
import { LaunchSignInError, signIn } from "@/lib/auth/auth";
import { LaunchTokenError, verifyLaunchToken, type LaunchFailure } from "@/lib/auth/launch-token";
import { getSessionUser } from "@/lib/auth/session";

const query = z.object({ token: z.string().min(1).max(4096) });

const MESSAGES: Record<LaunchFailure, string> = {
  expired: "This launch link has expired (they are valid for 5 minutes). Reopen Sage Integration from the marketplace.",
  replayed: "This launch link was already used. Reopen Sage Integration from the marketplace.",
  other_account: "This user belongs to another reseller account, or is not a reseller administrator. Ask your marketplace administrator for access.",
  bad_signature: "This launch link is not valid (its signature does not match). Reopen Sage Integration from the marketplace.",
  malformed: "This launch link is not valid. Reopen Sage Integration from the marketplace.",
  too_long_lived: "This launch link is valid for longer than 5 minutes, which is not allowed. Ask your marketplace administrator.",
};

/**
 * The marketplace portal opens the iframe at /launch?token=<JWT>. The signature is verified first
 * (nothing in the token is used before); a valid, unused token signs the user in and lands on the
 * dashboard. If someone else is already signed in in this browser, the session is not replaced
 * silently: /launch/switch asks first. Anything else is a 401 page.
 */
export async function GET(request: Request) {
  const parsed = query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return plainPage(401, "Sign-in link not valid", "The marketplace did not send a launch token. Reopen Sage Integration from the marketplace.");
  let email: string;
  try {
    email = (await verifyLaunchToken(parsed.data.token)).email;
  } catch (e) {
    if (e instanceof LaunchTokenError) return plainPage(401, "Could not sign you in", MESSAGES[e.reason]);
    throw e;
  }
  const current = await getSessionUser();
  if (current && current.email !== email) {
    return new Response(null, { status: 303, headers: { Location: `/launch/switch?token=${encodeURIComponent(parsed.data.token)}`, "Cache-Control": "no-store" } });
  }
  try {
    await signIn("launch-token", { token: parsed.data.token, redirectTo: "/dashboard" });
  } catch (e) {
    if (e instanceof LaunchSignInError) return plainPage(401, "Could not sign you in", MESSAGES[e.code as LaunchFailure] ?? MESSAGES.malformed);
    throw e; // NEXT_REDIRECT after a successful sign-in
  }
  return plainPage(401, "Could not sign you in", "Reopen Sage Integration from the marketplace.");
}
