import { getDb } from "@/db/client";
import { getConfig } from "@/lib/config";
import { purgeSageCallsSlice, sageCallCutoff, SAGE_CALL_PURGE_ROWS_PER_STEP } from "@/lib/trace/sage-call-recorder";
import { defineFunction } from "../define";

export const SAGE_CALL_RETENTION_CRON = "TZ=UTC 50 3 * * *";
/** slices per daily run (≤ 1,000,000 rows); what is left goes the next day */
const SLICES_PER_RUN = 100;

/**
 * Daily: the order trace's record of Sage calls (sage_calls) older than SAGE_CALL_RETENTION_DAYS
 * (default 30) is deleted, oldest first, ≤ 10,000 rows per step, against one cut-off fixed at the start.
 */
export const sageCallRetentionDaily = defineFunction(
  { id: "sage-call-retention-daily", name: "Delete recorded Sage calls past their retention", triggers: [{ cron: SAGE_CALL_RETENTION_CRON }], concurrency: { limit: 1 }, retries: 3 },
  async ({ step, event }) => {
    const now = new Date(event.ts ?? Date.now());
    const before = sageCallCutoff(now, getConfig().sageCallRetentionDays);
    let deleted = 0;
    for (let slice = 0; slice < SLICES_PER_RUN; slice++) {
      const purged = await step.run(`purge-slice-${slice}`, async () => purgeSageCallsSlice(await getDb(), { before, limit: SAGE_CALL_PURGE_ROWS_PER_STEP }));
      deleted += purged.deleted;
      if (purged.done) return { done: true, deleted, before };
    }
    return { done: false, deleted, before };
  },
);
