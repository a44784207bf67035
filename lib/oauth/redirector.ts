import { brandBaseUrl } from "@/lib/config";
import { printable } from "@/lib/http/storable-json";
import { OAuthStateError, verifyOAuthState } from "./state";

/** Parameters the redirector forwards; nothing else from the request is passed on. */
const FORWARDED = ["code", "state", "error", "error_description", "country"] as const;

export const TENANT_CALLBACK_PATH = "/connect/sage/callback";

export type RedirectDecision =
  | { kind: "forward"; location: string }
  | { kind: "reject"; status: 400; message: string; reason: "missing_state" | "tampered" | "unknown_brand" };

/**
 * The central OAuth 2.0 redirect (`/oauth2redirect`): one public URL for every tenant and brand.
 * It reads the brand from the signed state and forwards to that brand's callback, taken from the
 * configured allowlist — never from a URL in the request. It exchanges nothing and holds no Sage secret.
 */
export async function decideOAuthRedirect(params: URLSearchParams): Promise<RedirectDecision> {
  let brand: string;
  try {
    brand = (await verifyOAuthState(params.get("state"), { allowExpired: true })).brand;
  } catch (e) {
    const missing = e instanceof OAuthStateError && e.reason === "missing";
    return {
      kind: "reject",
      status: 400,
      reason: missing ? "missing_state" : "tampered",
      message: missing ? "This address is only for answers from Sage; it was opened without a sign-in state." : "The sign-in state is not valid: it was not issued by Sage Connector or was changed on the way.",
    };
  }
  // own allowlist entries only: a signed state naming `__proto__` or `constructor` is an unknown brand
  const base = brandBaseUrl(brand);
  if (!base) {
    return { kind: "reject", status: 400, reason: "unknown_brand", message: `The brand “${printable(brand, 80)}” is not on this redirector's allowlist.` };
  }
  const target = new URL(TENANT_CALLBACK_PATH, base);
  for (const name of FORWARDED) {
    const value = params.get(name);
    if (value !== null) target.searchParams.set(name, value);
  }
  return { kind: "forward", location: target.toString() };
}
