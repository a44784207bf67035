import { eq, inArray, max, sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { signInThrottles } from "@/db/schema";

/**
 * Sign-in rate limit, shared by every app instance (a row per key in `sign_in_throttles`):
 * failures are counted per e-mail address and per client address in a fixed window; once a key
 * reaches its limit, sign-ins for it are refused without checking the password until the block ends.
 */
export const SIGN_IN_LIMITS = {
  email: { failures: 5, windowSeconds: 15 * 60, blockSeconds: 15 * 60 },
  address: { failures: 20, windowSeconds: 15 * 60, blockSeconds: 15 * 60 },
} as const;

export type ThrottleKey = { key: string; limit: (typeof SIGN_IN_LIMITS)[keyof typeof SIGN_IN_LIMITS] };

export function throttleKeys(email: string, address: string | null): ThrottleKey[] {
  const keys: ThrottleKey[] = [{ key: `email:${email.trim().toLowerCase()}`, limit: SIGN_IN_LIMITS.email }];
  if (address) keys.push({ key: `ip:${address}`, limit: SIGN_IN_LIMITS.address });
  return keys;
}

/** Seconds until sign-in is allowed again for any of the keys; 0 when allowed. */
export async function signInBlockedFor(db: Queryable, keys: ThrottleKey[]): Promise<number> {
  const [row] = await db
    .select({ until: max(signInThrottles.blockedUntil) })
    .from(signInThrottles)
    .where(inArray(signInThrottles.key, keys.map((k) => k.key)));
  const until = row?.until ? new Date(row.until).getTime() : 0;
  return Math.max(0, Math.ceil((until - Date.now()) / 1000));
}

/** Count one failure against every key (atomically per key); a key at its limit is blocked. */
export async function recordSignInFailure(db: Queryable, keys: ThrottleKey[]): Promise<void> {
  for (const { key, limit } of keys) {
    await db.execute(sql`
      insert into sign_in_throttles as t (key, failures, window_started_at, blocked_until)
      values (${key}, 1, now(), ${limit.failures <= 1 ? sql`now() + make_interval(secs => ${limit.blockSeconds})` : sql`null`})
      on conflict (key) do update set
        failures = case when t.window_started_at < now() - make_interval(secs => ${limit.windowSeconds}) then 1 else t.failures + 1 end,
        window_started_at = case when t.window_started_at < now() - make_interval(secs => ${limit.windowSeconds}) then now() else t.window_started_at end,
        blocked_until = case
          when (case when t.window_started_at < now() - make_interval(secs => ${limit.windowSeconds}) then 1 else t.failures + 1 end) >= ${limit.failures}
          then now() + make_interval(secs => ${limit.blockSeconds})
          else t.blocked_until end`);
  }
}

/** A successful sign-in clears the e-mail's count (the address keeps its own). */
export async function clearSignInFailures(db: Queryable, email: string): Promise<void> {
  await db.delete(signInThrottles).where(eq(signInThrottles.key, `email:${email.trim().toLowerCase()}`));
}
