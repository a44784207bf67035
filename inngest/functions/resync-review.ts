import { getDb } from "@/db/client";
import { createSyncBatch } from "@/lib/sync/batches";
import { completeResyncReview, createResyncContacts, failResyncCheck, finishResyncCheck, matchResyncCustomers, readResyncContactsPage } from "@/lib/sync/resync-guard";
import { defineFunction } from "../define";
import { resyncReviewConfirmed, resyncReviewRequested, syncBatchRequested } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/** pages of 200 contacts one run reads (≤ 100,000 contacts) and customer steps (≤ 100,000 customers), far under Inngest's 1,000 steps */
const MAX_PAGES = 500;
const MAX_MATCH_STEPS = 480;

/**
 * Re-sync review (lib/sync/resync-guard.ts): the business's customer contacts in bounded pages, then
 * every marketplace customer matched in bounded steps, then the summary. Steps are idempotent.
 */
export const resyncReview = defineFunction(
  {
    id: "resync-review",
    name: "Re-sync review: match existing Sage contacts before any is created",
    triggers: [resyncReviewRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 5,
    onFailure: async ({ event, error }) => {
      const data = resyncReviewRequested.schema.safeParse((event.data as { event?: { data?: unknown } }).event?.data);
      if (data.success) await failResyncCheck(await getDb(), data.data.reviewId, error.message);
    },
  },
  async ({ event, step }) => {
    const { reviewId } = event.data;
    let contacts = 0;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const r = await step.run(`read-contacts-${page}`, async () => readResyncContactsPage(await getDb(), { reviewId, page }));
      contacts = r.read;
      if (!r.hasMore) break;
    }
    let after: string | null = null;
    for (let n = 0; n < MAX_MATCH_STEPS; n++) {
      const from: string | null = after;
      const r: { next: string | null } = await step.run(`match-customers-${n}`, async () => matchResyncCustomers(await getDb(), { reviewId, after: from }));
      after = r.next;
      if (!after) break;
    }
    const finished = await step.run("finish", async () => finishResyncCheck(await getDb(), reviewId));
    return { contacts, status: finished.status };
  },
);

const MAX_CREATE_STEPS = 900;

/** The reseller confirmed: the missing contacts created (match before create, once), the held orders released and synced in one batch. */
export const resyncReviewConfirm = defineFunction(
  {
    id: "resync-review-confirm",
    name: "Re-sync review confirmed: create the missing Sage contacts and sync",
    triggers: [resyncReviewConfirmed],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 5,
  },
  async ({ event, step }) => {
    const { reviewId, actor } = event.data;
    let created = 0;
    for (let n = 0; n < MAX_CREATE_STEPS; n++) {
      const r = await step.run(`create-contacts-${n}`, async () => createResyncContacts(await getDb(), reviewId));
      created += r.created;
      if (r.done) break;
    }
    const released = await step.run("release-held-tasks", async () => completeResyncReview(await getDb(), reviewId));
    if (released.taskIds.length === 0) return { created, released: 0 };
    const batch = await step.run("start-sync", async () => createSyncBatch(await getDb(), { tenantId: released.tenantId, connectionId: released.connectionId, trigger: "reconnect", actor, taskIds: released.taskIds }));
    await step.sendEvent("sync-held-tasks", syncBatchRequested.create({ tenantId: released.tenantId, connectionId: released.connectionId, batchId: batch.batchId }, { id: `sync-batch-${batch.batchId}` }));
    return { created, released: released.taskIds.length, batchId: batch.batchId };
  },
);
