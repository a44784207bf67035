import { and, eq, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { Database, Queryable } from "@/db/client";
import { actionLog, tenantSettings, tenants } from "@/db/schema";
import { writeActionLog } from "./action-log";

/**
 * Action Log retention: rows older than the tenant's retention are deleted by a daily flow
 * (inngest/functions/action-log-retention.ts). The retention is the tenant's own
 * `tenant_settings.action_log_retention_days` when set, else ACTION_LOG_RETENTION_DAYS (default 365).
 * Rows of no tenant (system-wide) follow ACTION_LOG_RETENTION_DAYS.
 *
 * The cut-off of one purge is fixed when the daily run lists the tenants (now − retention), so every
 * slice of that purge deletes against the same instant; a slice deletes at most `limit` rows (one
 * short transaction), oldest first, and the slice that finds nothing more to delete writes the one
 * summary row of that purge in its own transaction.
 */

export const ACTION_LOG_PURGE_ROWS_PER_STEP = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A tenant (or null: rows of no tenant) with rows past its retention. */
export type ActionLogPurgeDue = { tenantId: string | null; retentionDays: number; before: string };

function tenantIs(tenantId: string | null): SQL {
  return tenantId ? eq(actionLog.tenantId, tenantId) : isNull(actionLog.tenantId);
}

/**
 * Up to `limit` tenants (by id, after `afterTenantId`) that hold Action Log rows older than their
 * retention at `now`. With `includeSystem`, rows of no tenant come first as tenantId null.
 * One index probe per tenant ((tenant_id, at desc, id desc)).
 */
export async function listActionLogPurgesDue(
  db: Queryable,
  input: { now: Date; defaultRetentionDays: number; afterTenantId?: string | null; limit: number; includeSystem?: boolean },
): Promise<ActionLogPurgeDue[]> {
  const due: ActionLogPurgeDue[] = [];
  if (input.includeSystem) {
    const before = new Date(input.now.getTime() - input.defaultRetentionDays * DAY_MS);
    const [old] = await db.select({ id: actionLog.id }).from(actionLog).where(and(isNull(actionLog.tenantId), lt(actionLog.at, before))).limit(1);
    if (old) due.push({ tenantId: null, retentionDays: input.defaultRetentionDays, before: before.toISOString() });
  }
  const days = sql<number>`coalesce(${tenantSettings.actionLogRetentionDays}, ${input.defaultRetentionDays})::int`;
  const rows = await db
    .select({ tenantId: tenants.id, retentionDays: days })
    .from(tenants)
    .leftJoin(tenantSettings, eq(tenantSettings.tenantId, tenants.id))
    .where(
      and(
        input.afterTenantId ? sql`${tenants.id} > ${input.afterTenantId}` : undefined,
        sql`exists (select 1 from ${actionLog} where ${actionLog.tenantId} = ${tenants.id} and ${actionLog.at} < ${input.now.toISOString()}::timestamptz - make_interval(days => ${days}))`,
      ),
    )
    .orderBy(tenants.id)
    .limit(input.limit);
  for (const r of rows) {
    const retentionDays = Number(r.retentionDays);
    due.push({ tenantId: r.tenantId, retentionDays, before: new Date(input.now.getTime() - retentionDays * DAY_MS).toISOString() });
  }
  return due;
}

export type ActionLogPurgeSlice = { deleted: number; done: boolean; total: number };

/**
 * One slice of one tenant's purge: deletes up to `limit` of its rows older than `before` (oldest
 * first). When fewer than `limit` were left, the purge is done: if it deleted anything at all
 * (`deletedBefore` + this slice), the summary row is written in the same transaction.
 */
export async function purgeActionLogSlice(
  db: Database,
  input: { tenantId: string | null; before: string; retentionDays: number; limit?: number; deletedBefore?: number },
): Promise<ActionLogPurgeSlice> {
  const limit = input.limit ?? ACTION_LOG_PURGE_ROWS_PER_STEP;
  const before = new Date(input.before);
  return db.transaction(async (tx) => {
    const doomed = tx
      .select({ id: actionLog.id })
      .from(actionLog)
      .where(and(tenantIs(input.tenantId), lt(actionLog.at, before)))
      .orderBy(actionLog.at, actionLog.id)
      .limit(limit);
    const deleted = (await tx.delete(actionLog).where(inArray(actionLog.id, doomed)).returning({ id: actionLog.id })).length;
    const total = (input.deletedBefore ?? 0) + deleted;
    const done = deleted < limit;
    if (done && total > 0) {
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: { type: "system", label: "Action Log retention" },
        level: "info",
        category: "system",
        message: `Action Log retention: ${total} ${total === 1 ? "entry" : "entries"} older than ${input.retentionDays} days (before ${input.before.slice(0, 10)}) deleted.`,
        details: { deleted: total, retentionDays: input.retentionDays, before: input.before },
      });
    }
    return { deleted, done, total };
  });
}

/** The retention (days) a tenant's Action Log is kept for. */
export async function actionLogRetentionDays(db: Queryable, tenantId: string, defaultRetentionDays: number): Promise<number> {
  const [row] = await db.select({ days: tenantSettings.actionLogRetentionDays }).from(tenantSettings).where(eq(tenantSettings.tenantId, tenantId));
  return row?.days ?? defaultRetentionDays;
}
