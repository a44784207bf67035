import { getDb } from "@/db/client";
import { failSyncBatch, finishSyncBatch, startSyncBatch, syncBatchSlice, SYNC_STEPS_PER_RUN, tasksPerStepOf } from "@/lib/sync/batches";
import type { BatchResult } from "@/lib/sync/batch";
import { applyFileUploadResults, prepareFileUpload, sendFileUpload, trackFileUpload, UPLOAD_MAX_CHECKS, UPLOAD_TASKS, uploadWait } from "@/lib/sync/file-upload";
import { defineFunction } from "../define";
import { syncBatchRequested } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/** @deprecated name kept for callers; use `syncBatchRequested` from inngest/events.ts */
export const SYNC_BATCH_REQUESTED = syncBatchRequested.name;

/**
 * A sync batch (Sync all, Sync selected, auto-sync, sweeper) → Sage. The event names the batch row
 * only; each step syncs the next slice of tasks — as many as ~30 s of Sage work at the rate limit
 * (100 at 200 calls a minute, at most 1,000; fixed by the start step for the run) — and a retried step
 * redoes that slice only, adopting what an interrupted attempt wrote. After
 * SYNC_STEPS_PER_RUN slices the batch continues in a new run (Inngest allows 1,000 steps a run).
 * Pacing is the database rate budget per Sage business (lib/connections/rate-budget.ts), shared by every
 * worker; one step at a time per connection across every Sage-writing function.
 */
/** Order files one run uploads and tracks before the batch continues in a new run. */
const UPLOADS_PER_RUN = 12;

export const syncBatch = defineFunction(
  {
    id: "sync-batch",
    name: "Sync many marketplace orders to Sage",
    triggers: [syncBatchRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 5,
    onFailure: async ({ event, error }) => {
      const data = syncBatchRequested.schema.safeParse((event.data as { event?: { data?: unknown } }).event?.data);
      if (data.success) await failSyncBatch(await getDb(), data.data.batchId, error.message);
    },
  },
  async ({ event, step }) => {
    const { batchId, fromPosition = 0 } = event.data;
    const head = await step.run("start", async () => startSyncBatch(await getDb(), batchId));
    if (!head) return { skipped: `no sync batch ${batchId}` };
    const total: BatchResult = { synced: 0, failed: 0, actionRequired: 0, skipped: 0, documents: 0 };
    let slices = 0;
    if (head.exchange === "file_exchange") {
      // a file-exchange target (Sage 50 Cloud): each slice is one order file, uploaded once and tracked
      for (let position = fromPosition, uploads = 0; position < head.taskCount; position += UPLOAD_TASKS, uploads++) {
        // each file takes up to ~2 × UPLOAD_MAX_CHECKS steps: a new run after a few (Inngest allows 1,000 steps a run)
        if (uploads >= UPLOADS_PER_RUN) {
          await step.sendEvent("continue-batch", syncBatchRequested.create({ tenantId: head.tenantId, connectionId: head.connectionId, batchId, fromPosition: position }, { id: `sync-batch-${batchId}-from-${position}` }));
          return { ...total, continuedFrom: position };
        }
        const prepared = await step.run(`prepare-upload-${position}`, async () => prepareFileUpload(await getDb(), head, position));
        total.actionRequired += prepared.actionRequired;
        total.skipped += prepared.skipped;
        if (!prepared.uploadRowId) continue;
        const uploadRowId = prepared.uploadRowId;
        await step.run(`send-upload-${position}`, async () => sendFileUpload(await getDb(), uploadRowId));
        let final = false;
        for (let check = 0; check < UPLOAD_MAX_CHECKS && !final; check++) {
          await step.sleep(`wait-upload-${position}-${check}`, uploadWait(check));
          final = (await step.run(`track-upload-${position}-${check}`, async () => trackFileUpload(await getDb(), uploadRowId))).final;
        }
        const applied = await step.run(`apply-upload-${position}`, async () => applyFileUploadResults(await getDb(), uploadRowId, { gaveUp: !final }));
        total.synced += applied.synced;
        total.failed += applied.failed;
        total.documents += prepared.documents;
      }
      await step.run("finish", async () => finishSyncBatch(await getDb(), batchId));
      return total;
    }
    const perStep = tasksPerStepOf(head);
    for (let position = fromPosition; position < head.taskCount; ) {
      if (slices >= SYNC_STEPS_PER_RUN) {
        await step.sendEvent("continue-batch", syncBatchRequested.create({ tenantId: head.tenantId, connectionId: head.connectionId, batchId, fromPosition: position }, { id: `sync-batch-${batchId}-from-${position}` }));
        return { ...total, continuedFrom: position };
      }
      const r = await step.run(`sync-tasks-${position}`, async () => syncBatchSlice(await getDb(), head, position));
      for (const k of Object.keys(total) as (keyof BatchResult)[]) total[k] += r[k];
      slices += 1;
      // a time-boxed step dealt with the first r.tasks of its slice; the next step starts after them
      position += r.tasks > 0 ? r.tasks : perStep;
    }
    await step.run("finish", async () => finishSyncBatch(await getDb(), batchId));
    return total;
  },
);
