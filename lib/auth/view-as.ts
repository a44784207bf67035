import { createHash } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { cookies } from "next/headers";
import { authSecret } from "./auth-secret";
import type { SessionUser } from "./session-user";

/**
 * "View as" (support console): a support user opens one tenant's own pages read only. The choice
 * lives in its own cookie, a short-lived JWT (HS256, a key derived from AUTH_SECRET) bound to the
 * support user and the session version it was issued under — a sign-out ends it with the session;
 * a reseller's browser holding it is ignored (the subject must be the signed-in support user).
 * It grants reads only: every write path refuses support (lib/auth/session.ts).
 */
export const VIEW_AS_COOKIE = "sc.view-as";
export const VIEW_AS_TTL_SECONDS = 60 * 60;

export type ViewAsGrant = { tenantId: string; expiresAt: Date };

function key(): Uint8Array {
  return createHash("sha256").update(`sage-connector/view-as/${authSecret()}`).digest();
}

export async function issueViewAsToken(user: SessionUser, tenantId: string, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
  const expiresAt = new Date(now.getTime() + VIEW_AS_TTL_SECONDS * 1000);
  const token = await new SignJWT({ tid: tenantId, sv: user.sessionVersion })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user.id)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .setAudience("view-as")
    .sign(key());
  return { token, expiresAt };
}

/** The tenant a support user is viewing, when the token is theirs, current and unexpired. */
export async function verifyViewAsToken(user: SessionUser, token: string | undefined): Promise<ViewAsGrant | null> {
  if (!token || user.role !== "support") return null;
  try {
    const { payload } = await jwtVerify(token, key(), { algorithms: ["HS256"], audience: "view-as", subject: user.id });
    if (typeof payload.tid !== "string" || payload.sv !== user.sessionVersion || typeof payload.exp !== "number") return null;
    return { tenantId: payload.tid, expiresAt: new Date(payload.exp * 1000) };
  } catch {
    return null;
  }
}

const cookieOptions = { httpOnly: true, sameSite: "none" as const, secure: true, partitioned: true, path: "/" };

export async function readViewAsCookie(user: SessionUser): Promise<ViewAsGrant | null> {
  return verifyViewAsToken(user, (await cookies()).get(VIEW_AS_COOKIE)?.value);
}

/** Server actions only (cookies can be set there). */
export async function setViewAsCookie(token: string, expiresAt: Date) {
  (await cookies()).set(VIEW_AS_COOKIE, token, { ...cookieOptions, expires: expiresAt });
}

export async function clearViewAsCookie() {
  (await cookies()).set(VIEW_AS_COOKIE, "", { ...cookieOptions, maxAge: 0 });
}
