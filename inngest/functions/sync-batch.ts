import { getConfig } from "@/lib/config";
import { getDb } from "@/db/client";
import { syncTaskBatch, type BatchResult } from "@/lib/sync/batch";
import { defineFunction } from "../define";

export const SYNC_BATCH_REQUESTED = "sync/batch.requested";
export type SyncBatchRequested = { tenantId: string; connectionId: string; taskIds: string[] };

/**
 * Tasks per step: a step is retried as a whole (every write in it is idempotent and a retry adopts
 * what an interrupted attempt wrote); inside a step the engine pipelines chunks of 200.
 */
export const SYNC_CHUNK = 5000;

/**
 * "Sync all" and auto-sync: many tasks of one connection, in chunks. Same per-connection
 * serialization and throttle as the single-task flow; exactly-once per document.
 */
export const syncBatch = defineFunction(
  {
    id: "sync-batch",
    name: "Sync many marketplace orders to Sage",
    triggers: [{ event: SYNC_BATCH_REQUESTED }],
    concurrency: { limit: 1, key: "event.data.connectionId" },
    throttle: { limit: getConfig().sage.rateLimit.limit, period: `${getConfig().sage.rateLimit.periodSeconds}s`, key: "event.data.connectionId" },
    retries: 5,
  },
  async ({ event, step }) => {
    const data = event.data as SyncBatchRequested;
    const total: BatchResult = { synced: 0, failed: 0, actionRequired: 0, skipped: 0, documents: 0 };
    for (let i = 0; i < data.taskIds.length; i += SYNC_CHUNK) {
      const chunk = data.taskIds.slice(i, i + SYNC_CHUNK);
      const r = await step.run(`chunk-${i / SYNC_CHUNK}`, async () => syncTaskBatch(await getDb(), { tenantId: data.tenantId, connectionId: data.connectionId, taskIds: chunk }));
      for (const k of Object.keys(total) as (keyof BatchResult)[]) total[k] += r[k];
    }
    return total;
  },
);
