import { getDb } from "@/db/client";
import { SYSTEM_ACTOR } from "@/lib/log/action-log";
import { checkChanges } from "@/lib/marketplace/check-changes";
import { autoSyncRequest, stuckTasks, tenantsWithAutoSync } from "@/lib/sync/dispatch";
import { defineFunction } from "../define";
import { SYNC_BATCH_REQUESTED } from "./sync-batch";

/**
 * Auto-sync ticks: Check Changes (pull) for every tenant on that schedule, then Sync the pending
 * tasks of customers whose own auto-sync toggle is on. "Instant" tenants get the 5-minute tick too,
 * as a safety net for a missed webhook; their orders are otherwise synced on arrival.
 */
function autoSyncTick(id: string, name: string, cron: string, modes: ("daily" | "every_5_minutes" | "instant")[]) {
  return defineFunction(
    { id, name, triggers: [{ cron }], concurrency: { limit: 1 }, retries: 2 },
    async ({ step, event }) => {
      const tenants = await step.run("tenants", async () => tenantsWithAutoSync(await getDb(), modes));
      let dispatched = 0;
      for (const { tenantId } of tenants) {
        await step.run(`check-changes-${tenantId}`, async () => {
          try {
            return await checkChanges(await getDb(), { tenantId, actor: SYSTEM_ACTOR });
          } catch (e) {
            return { ok: false, message: (e as Error).message };
          }
        });
        const request = await step.run(`auto-sync-${tenantId}`, async () => autoSyncRequest(await getDb(), tenantId));
        if (!request) continue;
        await step.sendEvent(`sync-${tenantId}`, { name: SYNC_BATCH_REQUESTED, id: `auto-sync-${tenantId}-${event.ts ?? Date.now()}`, data: request });
        dispatched += request.taskIds.length;
      }
      return { tenants: tenants.length, dispatched };
    },
  );
}

export const autoSyncEvery5Minutes = autoSyncTick("auto-sync-every-5-minutes", "Auto-sync every 5 minutes", "*/5 * * * *", ["every_5_minutes", "instant"]);
export const autoSyncDaily = autoSyncTick("auto-sync-daily", "Auto-sync once a day", "TZ=UTC 0 2 * * *", ["daily"]);

/** Re-dispatches tasks left `processing` after a crash or a lost run (every sync step is idempotent). */
export const syncSweeper = defineFunction(
  { id: "sync-sweeper", name: "Re-dispatch stuck sync tasks", triggers: [{ cron: "* * * * *" }], concurrency: { limit: 1 }, retries: 1 },
  async ({ step, event }) => {
    const stuck = await step.run("find-stuck", async () => stuckTasks(await getDb(), Number(process.env.SYNC_STUCK_AFTER_MS ?? 10 * 60_000)));
    for (const request of stuck) {
      await step.sendEvent(`redispatch-${request.tenantId}`, { name: SYNC_BATCH_REQUESTED, id: `sweep-${request.tenantId}-${event.ts ?? Date.now()}`, data: request });
    }
    return { redispatched: stuck.reduce((n, r) => n + r.taskIds.length, 0) };
  },
);
