// Bearer-token checks and X-Business resolution for /sage/v3.1.
import { sageError, type Reply } from "../http";
import type { RequestContext } from "../router";
import type { AccessToken, SageBusiness, SageUser } from "./world";

export type AuthResult = { ok: true; token: AccessToken; user: SageUser } | { ok: false; reply: Reply };

/**
 * Missing, unknown or expired token → 401 with Sage's error array
 * (`AuthorizationFailure` / "Access denied.", as observed from Sage) plus a
 * WWW-Authenticate header that says which of the three it was.
 */
export function authenticate(ctx: RequestContext): AuthResult {
  const header = ctx.req.headers.authorization ?? "";
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const deny = (why: string): AuthResult => ({
    ok: false,
    reply: sageError(401, "AuthorizationFailure", "Access denied.", "", {
      "www-authenticate": `Bearer realm="sage", error="invalid_token", error_description="${why}"`,
    }),
  });
  if (!m || !m[1]) return deny("The access token is missing");
  const token = ctx.sb.sage.accessTokens.get(m[1]);
  if (!token) return deny("The access token is invalid");
  if (token.expiresAt <= ctx.sb.now()) return deny("The access token expired");
  const user = ctx.sb.sage.users.get(token.userId);
  if (!user) return deny("The access token is invalid");
  return { ok: true, token, user };
}

export type BusinessResult = { ok: true; business: SageBusiness } | { ok: false; reply: Reply };

/**
 * `X-Business` selects the business; absent → the user's lead business.
 * An id the user has no access to (or that does not exist) → 403 AuthorizationFailure with
 * `$source: "X-Business"` (Sage does not document this case; a 403 keeps clients from treating it
 * as an expired token).
 */
export function resolveBusiness(ctx: RequestContext, user: SageUser): BusinessResult {
  const raw = ctx.req.headers["x-business"];
  const requested = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  const id = requested ? requested : user.leadBusinessId;
  const business = ctx.sb.sage.businesses.get(id);
  if (!business || !user.businessIds.includes(id)) {
    return {
      ok: false,
      reply: sageError(
        403,
        "AuthorizationFailure",
        `Access denied. You do not have access to the business "${id}".`,
        "X-Business",
      ),
    };
  }
  ctx.entry.business = business.id;
  return { ok: true, business };
}

/** 401 for a business whose subscription lapsed (SAGE-FACTS §1.3, frequently raised errors). */
export function subscriptionCheck(business: SageBusiness): Reply | null {
  if (business.subscriptionActive) return null;
  return sageError(401, "AuthorizationFailure", "No active subscription. (MSE)");
}
