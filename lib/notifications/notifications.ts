import { and, desc, eq, gt, inArray, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "@/db/client";
import { actionLog, syncTasks, type LogLevel } from "@/db/schema";
import { getSettings } from "@/lib/settings/settings";

/**
 * Pop-up notifications (toasts): new Action Log entries of one tenant since the last one the
 * browser has seen. The tenant's Notifications setting decides what pops up: "errors and actions
 * required" → levels error and action_required; "all tasks" → also the sync results (success).
 */

export const notificationsQuerySchema = z.object({
  after: z.coerce.number({ message: "after must be an Action Log id" }).int("after must be an Action Log id").min(0, "after must be an Action Log id").optional(),
});

/** Entries older than this never pop up (a tab reopened after a long time shows nothing stale). */
const RECENT = sql`now() - interval '10 minutes'`;
/** At most this many entries are returned one by one; the rest are counted. */
const MAX_ENTRIES = 20;

export type Notification = {
  id: number;
  at: string;
  level: LogLevel;
  category: string;
  message: string;
  taskId: string | null;
  /** the task's marketplace order id (the toast links to the task list searched for it) */
  orderId: string | null;
  /** where to fix it (action required), when the entry says */
  fixLink: string | null;
};

export type NotificationsPage = {
  /** the newest Action Log id the browser has now seen: send it back as `after` */
  cursor: number;
  mode: "errors_and_actions" | "all_tasks";
  /** how many entries qualified, by level (may exceed `entries.length`) */
  counts: Partial<Record<LogLevel, number>>;
  /** the first MAX_ENTRIES qualifying entries, oldest first */
  entries: Notification[];
};

function shownLevels(mode: "errors_and_actions" | "all_tasks"): SQL {
  const alerts = inArray(actionLog.level, ["error", "action_required"]);
  return mode === "all_tasks" ? or(alerts, and(eq(actionLog.level, "success"), eq(actionLog.category, "sync")))! : alerts;
}

/**
 * New notifications of a tenant after `after` (an Action Log id). Without `after` (the first poll of
 * a page): nothing, and the cursor starts at the newest entry, so old entries never pop up.
 */
export async function newNotifications(db: Queryable, tenantId: string, input: { after?: number }): Promise<NotificationsPage> {
  const { notifications: mode } = await getSettings(db, tenantId);
  if (input.after === undefined) {
    const [newest] = await db.select({ id: actionLog.id }).from(actionLog).where(eq(actionLog.tenantId, tenantId)).orderBy(desc(actionLog.at), desc(actionLog.id)).limit(1);
    return { cursor: newest?.id ?? 0, mode, counts: {}, entries: [] };
  }
  // recent rows only (the (tenant, at) index), newer than the cursor
  const window = and(eq(actionLog.tenantId, tenantId), sql`${actionLog.at} > ${RECENT}`, gt(actionLog.id, input.after));
  const [newest] = await db.select({ id: sql<number | null>`max(${actionLog.id})` }).from(actionLog).where(window);
  const cursor = newest?.id != null ? Number(newest.id) : input.after;
  if (cursor === input.after) return { cursor, mode, counts: {}, entries: [] };
  const upTo = and(window, sql`${actionLog.id} <= ${cursor}`, shownLevels(mode));
  const byLevel = await db.select({ level: actionLog.level, n: sql<number>`count(*)::int` }).from(actionLog).where(upTo).groupBy(actionLog.level);
  const counts = Object.fromEntries(byLevel.map((r) => [r.level, Number(r.n)])) as Partial<Record<LogLevel, number>>;
  const rows = byLevel.length
    ? await db
        .select({ entry: actionLog, orderId: syncTasks.marketplaceOrderId })
        .from(actionLog)
        .leftJoin(syncTasks, eq(syncTasks.id, actionLog.taskId))
        .where(upTo)
        .orderBy(actionLog.id)
        .limit(MAX_ENTRIES)
    : [];
  return {
    cursor,
    mode,
    counts,
    entries: rows.map(({ entry, orderId }) => {
      const link = (entry.details as { link?: unknown }).link;
      return {
        id: entry.id,
        at: entry.at.toISOString(),
        level: entry.level,
        category: entry.category,
        message: entry.message,
        taskId: entry.taskId,
        orderId: orderId ?? null,
        fixLink: typeof link === "string" && link.startsWith("/") ? link : null,
      };
    }),
  };
}
