import { eq, sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { users } from "@/db/schema";
import { writeActionLog } from "@/lib/log/action-log";
import { actorFor, type SessionUser } from "./session-user";

/**
 * Sessions are JWTs (next-auth, cookie): to make sign-out final, every session carries the user's
 * `session_version` from when it began, and a session is accepted only while that is still the
 * user's current version. Signing out raises it: that session (and every other of the user's) ends.
 */
export async function currentSessionVersion(db: Queryable, userId: string): Promise<number | null> {
  const [row] = await db.select({ v: users.sessionVersion }).from(users).where(eq(users.id, userId));
  return row ? row.v : null;
}

export async function endSessions(db: Queryable, user: SessionUser): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(users).set({ sessionVersion: sql`${users.sessionVersion} + 1` }).where(eq(users.id, user.id));
    if (user.tenantId) {
      await writeActionLog(tx, { tenantId: user.tenantId, actor: actorFor(user), level: "info", category: "auth", message: `${user.email} signed out (every open session of this user ended)` });
    }
  });
}
