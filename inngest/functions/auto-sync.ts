import { getDb } from "@/db/client";
import { SYSTEM_ACTOR } from "@/lib/log/action-log";
import { checkChanges } from "@/lib/marketplace/check-changes";
import { createAutoSyncBatch, createStuckTaskBatches, tenantsWithAutoSync } from "@/lib/sync/dispatch";
import { defineFunction } from "../define";
import { autoSyncTenantRequested, syncBatchRequested } from "../events";

/** Tenants listed per step, and events per `step.sendEvent`. */
export const AUTO_SYNC_PAGE = 500;

/**
 * Auto-sync ticks, fanned out: the tick lists the tenants on that schedule a page at a time and
 * sends one `sync/auto-sync.tenant.requested` per tenant (~2 steps per 500 tenants, whatever their
 * number); each tenant's run does Check Changes (pull) and queues a sync batch of the pending tasks
 * of customers whose auto-sync toggle is on. "Instant" tenants get the 5-minute tick too, as a
 * safety net for a missed webhook; their orders are otherwise synced on arrival.
 */
function autoSyncTick(id: string, name: string, cron: string, modes: ("daily" | "every_5_minutes" | "instant")[]) {
  return defineFunction(
    { id, name, triggers: [{ cron }], concurrency: { limit: 1 }, retries: 2 },
    async ({ step, event }) => {
      const tick = new Date(event.ts ?? Date.now()).toISOString();
      let afterTenantId: string | undefined;
      let tenants = 0;
      for (let page = 0; ; page++) {
        const ids = await step.run(`tenants-${page}`, async () => (await tenantsWithAutoSync(await getDb(), modes, { afterTenantId, limit: AUTO_SYNC_PAGE })).map((t) => t.tenantId));
        if (ids.length === 0) break;
        await step.sendEvent(`auto-sync-tenants-${page}`, ids.map((tenantId) => autoSyncTenantRequested.create({ tenantId, tick }, { id: `auto-sync-${tenantId}-${tick}` })));
        tenants += ids.length;
        afterTenantId = ids[ids.length - 1];
        if (ids.length < AUTO_SYNC_PAGE) break;
      }
      return { tenants };
    },
  );
}

export const autoSyncEvery5Minutes = autoSyncTick("auto-sync-every-5-minutes", "Auto-sync every 5 minutes", "*/5 * * * *", ["every_5_minutes", "instant"]);
export const autoSyncDaily = autoSyncTick("auto-sync-daily", "Auto-sync once a day", "TZ=UTC 0 2 * * *", ["daily"]);

/** One tenant's auto-sync: Check Changes (marketplace only), then one sync batch of its auto-sync tasks. */
export const autoSyncTenant = defineFunction(
  {
    id: "auto-sync-tenant",
    name: "Auto-sync one tenant",
    triggers: [autoSyncTenantRequested],
    concurrency: { limit: 1, key: "event.data.tenantId" },
    retries: 2,
  },
  async ({ step, event }) => {
    const { tenantId, tick } = event.data;
    const changes = await step.run("check-changes", async () => {
      try {
        const r = await checkChanges(await getDb(), { tenantId, actor: SYSTEM_ACTOR });
        return { ok: true as const, result: r };
      } catch (e) {
        // the pull's own errors are in the Action Log; already-known tasks are still synced
        return { ok: false as const, message: (e as Error).message };
      }
    });
    const batch = await step.run("create-batch", async () => createAutoSyncBatch(await getDb(), tenantId));
    if (!batch) return { changes: changes.ok, dispatched: 0 };
    await step.sendEvent("sync", syncBatchRequested.create({ tenantId, connectionId: batch.connectionId, batchId: batch.batchId }, { id: `auto-sync-batch-${batch.batchId}-${tick}` }));
    return { changes: changes.ok, dispatched: batch.taskCount, batchId: batch.batchId };
  },
);

/** Re-dispatches tasks left `processing` after a crash or a lost run (every sync step is idempotent). */
export const syncSweeper = defineFunction(
  { id: "sync-sweeper", name: "Re-dispatch stuck sync tasks", triggers: [{ cron: "* * * * *" }], concurrency: { limit: 1 }, retries: 1 },
  async ({ step }) => {
    const batches = await step.run("find-stuck", async () => createStuckTaskBatches(await getDb(), Number(process.env.SYNC_STUCK_AFTER_MS ?? 10 * 60_000)));
    for (let i = 0; i < batches.length; i += AUTO_SYNC_PAGE) {
      const chunk = batches.slice(i, i + AUTO_SYNC_PAGE);
      await step.sendEvent(`redispatch-${i / AUTO_SYNC_PAGE}`, chunk.map((b) => syncBatchRequested.create({ tenantId: b.tenantId, connectionId: b.connectionId, batchId: b.batchId }, { id: `sweep-${b.batchId}` })));
    }
    return { redispatched: batches.reduce((n, b) => n + b.taskCount, 0), batches: batches.length };
  },
);
