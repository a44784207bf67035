import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { users } from "@/db/schema";
import { verifyPassword } from "./passwords";
import type { SessionUser } from "./session-user";
import { clearSignInFailures, recordSignInFailure, signInBlockedFor, throttleKeys } from "./sign-in-throttle";

/** Too many failed sign-ins for this e-mail address or client address: nothing was checked. */
export class SignInThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many failed sign-ins. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute${retryAfterSeconds > 60 ? "s" : ""}.`);
    this.name = "SignInThrottledError";
  }
}

/**
 * E-mail + password sign-in, rate limited per e-mail and per client address (sign-in-throttle.ts).
 * null = wrong e-mail or password (counted); throws SignInThrottledError while blocked.
 */
export async function signInWithPassword(db: Database, email: string, password: string, opts: { address?: string | null } = {}): Promise<SessionUser | null> {
  const normalized = email.trim().toLowerCase();
  const keys = throttleKeys(normalized, opts.address ?? null);
  const blocked = await signInBlockedFor(db, keys);
  if (blocked > 0) throw new SignInThrottledError(blocked);
  const [user] = await db.select().from(users).where(eq(users.email, normalized));
  if (!user || !verifyPassword(password, user.passwordHash)) {
    await recordSignInFailure(db, keys);
    return null;
  }
  await clearSignInFailures(db, normalized);
  return { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId, via: "password", sessionVersion: user.sessionVersion };
}

/** The client address a request came from, for the per-address limit (the last X-Forwarded-For hop). */
export function clientAddress(headers: { get(name: string): string | null } | undefined): string | null {
  const forwarded = headers?.get("x-forwarded-for");
  const last = forwarded?.split(",").map((s) => s.trim()).filter(Boolean).pop();
  return last ? last.slice(0, 64) : null;
}
