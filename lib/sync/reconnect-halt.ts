import { and, eq, sql } from "drizzle-orm";
import { arrayParam } from "@/db/array-param";
import type { Database, Queryable } from "@/db/client";
import { syncTasks } from "@/db/schema";
import { SYSTEM_ACTOR, writeActionLog, type Actor } from "@/lib/log/action-log";

/**
 * Tasks a sync run had claimed (`processing`) when Sage refused the connection's authorization
 * (refresh token revoked or expired → `reconnect_required`). Their run cannot go on, and the sweeper
 * would only pick them up ten minutes after a reconnect; so the halt marks them with this reason,
 * and a successful reconnect releases exactly the marked ones back to `pending` at once.
 *
 * Releasing is safe for exactly-once: a document the halted run was writing has its pending marker
 * (idempotency id) in sage_documents, and the next sync looks it up in Sage before writing again.
 */
export const RECONNECT_HALT_REASON = "Halted: Sage refused the connection's authorization. Reconnect Sage from the dashboard; this task is released to sync again at once.";
export const RECONNECT_HALT_LINK = "/dashboard";

const tasks = (n: number) => `${n.toLocaleString("en-GB")} ${n === 1 ? "task" : "tasks"}`;

/**
 * The sync run stopped on `reconnect_required`: every task of `taskIds` it left `processing` is
 * marked (reason + link), with one Action Log row, in one transaction. Returns how many.
 */
export async function markTasksHaltedByReconnect(db: Database, input: { tenantId: string; connectionId: string; taskIds: string[] }): Promise<number> {
  if (input.taskIds.length === 0) return 0;
  return db.transaction(async (tx) => {
    const halted = await tx
      .update(syncTasks)
      .set({ reason: RECONNECT_HALT_REASON, reasonLink: RECONNECT_HALT_LINK, updatedAt: new Date() })
      // a retried run that halts again finds them marked already: no second row
      .where(
        and(
          eq(syncTasks.tenantId, input.tenantId),
          eq(syncTasks.state, "processing"),
          sql`${syncTasks.reason} is distinct from ${RECONNECT_HALT_REASON}`,
          sql`${syncTasks.id} = any(${arrayParam([...new Set(input.taskIds)], "uuid")})`,
        ),
      )
      .returning({ id: syncTasks.id });
    if (halted.length > 0) {
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: SYSTEM_ACTOR,
        level: "action_required",
        category: "sync",
        message: `Sync halted: Sage refused the connection's authorization. ${tasks(halted.length)} wait for Reconnect (dashboard); they are released to sync again as soon as Sage is reconnected.`,
        details: { op: "sync_halted_reconnect", connectionId: input.connectionId, tasks: halted.length, taskIds: halted.slice(0, 500).map((t) => t.id) },
      });
    }
    return halted.length;
  });
}

/**
 * A reconnect succeeded: the tenant's tasks halted by `reconnect_required` go back to `pending`
 * (syncable: Sync all sees them), with one Action Log row — inside the caller's transaction (the one
 * that stores the new tokens). Returns how many.
 */
export async function releaseTasksHaltedByReconnect(tx: Queryable, input: { tenantId: string; connectionId: string; actor: Actor }): Promise<number> {
  const released = await tx
    .update(syncTasks)
    .set({ state: "pending", reason: null, reasonLink: null, updatedAt: new Date() })
    .where(and(eq(syncTasks.tenantId, input.tenantId), eq(syncTasks.state, "processing"), eq(syncTasks.reason, RECONNECT_HALT_REASON)))
    .returning({ id: syncTasks.id });
  if (released.length > 0) {
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "sync",
      message: `${tasks(released.length)} released after reconnect: they were halted when Sage refused the authorization and can be synced again (Sync all; nothing is written twice).`,
      details: { op: "tasks_released_after_reconnect", connectionId: input.connectionId, tasks: released.length, taskIds: released.slice(0, 500).map((t) => t.id) },
    });
  }
  return released.length;
}
