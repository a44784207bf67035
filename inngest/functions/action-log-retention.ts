import { getDb } from "@/db/client";
import { getConfig } from "@/lib/config";
import { ACTION_LOG_PURGE_ROWS_PER_STEP, listActionLogPurgesDue, purgeActionLogSlice } from "@/lib/log/retention";
import { defineFunction } from "../define";
import { actionLogRetentionPurgeRequested } from "../events";

export const ACTION_LOG_RETENTION_CRON = "TZ=UTC 45 3 * * *";
/** tenants listed per step, and events per `step.sendEvent` */
export const RETENTION_TENANTS_PER_STEP = 100;
/** listing pages per daily run (2 steps each): 40,000 tenants */
const LIST_PAGES_PER_RUN = 400;
/** slices per purge run (Inngest allows 1,000 steps a run); past them it continues in a new run */
const SLICES_PER_RUN = 200;

/**
 * Daily: every tenant whose Action Log holds rows older than its retention (tenant setting, else
 * ACTION_LOG_RETENTION_DAYS) — and the rows of no tenant — gets one purge event, with the cut-off
 * fixed now; each is purged by its own run.
 */
export const actionLogRetentionDaily = defineFunction(
  { id: "action-log-retention-daily", name: "Delete Action Log rows past their retention", triggers: [{ cron: ACTION_LOG_RETENTION_CRON }], concurrency: { limit: 1 }, retries: 3 },
  async ({ step, event }) => {
    const now = new Date(event.ts ?? Date.now());
    const day = now.toISOString().slice(0, 10);
    let after: string | null = null;
    let dispatched = 0;
    for (let page = 0; page < LIST_PAGES_PER_RUN; page++) {
      const due = await step.run(`list-due-${page}`, async () =>
        listActionLogPurgesDue(await getDb(), { now, defaultRetentionDays: getConfig().actionLogRetentionDays, afterTenantId: after, limit: RETENTION_TENANTS_PER_STEP, includeSystem: page === 0 }),
      );
      const events = due.map((d) => actionLogRetentionPurgeRequested.create({ tenantId: d.tenantId, before: d.before, retentionDays: d.retentionDays }, { id: `action-log-retention-${d.tenantId ?? "system"}-${day}` }));
      if (events.length > 0) await step.sendEvent(`purge-${page}`, events);
      dispatched += events.length;
      const tenantIds = due.flatMap((d) => (d.tenantId ? [d.tenantId] : []));
      if (tenantIds.length < RETENTION_TENANTS_PER_STEP) break;
      after = tenantIds.at(-1)!;
    }
    return { dispatched };
  },
);

/**
 * One tenant's purge: slices of ≤ 10,000 rows per step, oldest first; the last slice writes the
 * tenant's one summary row. Past 200 slices (2,000,000 rows) it continues in a new run.
 */
export const actionLogRetentionPurge = defineFunction(
  { id: "action-log-retention-purge", name: "Delete one tenant's Action Log rows past their retention", triggers: [actionLogRetentionPurgeRequested], concurrency: { limit: 1, key: "event.data.tenantId" }, retries: 5 },
  async ({ step, event }) => {
    const { tenantId, before, retentionDays } = event.data;
    let deleted = event.data.deletedBefore ?? 0;
    for (let slice = 0; slice < SLICES_PER_RUN; slice++) {
      const result = await step.run(`purge-slice-${slice}`, async () => purgeActionLogSlice(await getDb(), { tenantId, before, retentionDays, limit: ACTION_LOG_PURGE_ROWS_PER_STEP, deletedBefore: deleted }));
      deleted = result.total;
      if (result.done) return { done: true, deleted };
    }
    await step.sendEvent(
      "continue",
      actionLogRetentionPurgeRequested.create({ tenantId, before, retentionDays, deletedBefore: deleted }, { id: `action-log-retention-${tenantId ?? "system"}-${before}-${deleted}` }),
    );
    return { done: false, deleted };
  },
);
