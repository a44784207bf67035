import { allocateRefundOrSayWhy } from "@/lib/sync/refund-allocation";
import { getDb } from "@/db/client";
import { SageError } from "@/lib/sage/errors";
import {
  beginTaskSync,
  completeTaskSync,
  ensureSageContactOrHold,
  failTaskSync,
  planTaskSync,
  writeTaskCreditNote,
  writeTaskInvoice,
  type TaskContext,
} from "@/lib/sync/sync-task";
import { defineFunction } from "../define";
import { routeFileExchangeTask } from "@/lib/sync/dispatch";
import { syncBatchRequested, syncTaskRequested } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";
import { withRecordedCalls } from "@/lib/trace/sage-call-recorder";

/** @deprecated name kept for callers; use `syncTaskRequested` from inngest/events.ts */
export const SYNC_TASK_REQUESTED = syncTaskRequested.name;

type Refused = { refused: { kind: string; message: string; details: { source?: string; message: string }[] } };

/** Run a write step; Sage refusing the data ends the task as failed (no retry), anything else is retried. */
async function refusing<T>(fn: () => Promise<T>): Promise<T | Refused> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SageError && (e.kind === "validation" || e.kind === "not_found" || (e.kind === "auth" && e.reconnectRequired))) {
      return { refused: { kind: e.kind, message: e.message, details: e.details.map((d) => ({ source: d.source, message: d.message })) } };
    }
    throw e;
  }
}
const isRefused = (v: unknown): v is Refused => !!v && typeof v === "object" && "refused" in v;

/**
 * One task → Sage: ensure contact → resolve items and plan (unmapped ⇒ action_required, nothing
 * written) → invoice → credit note → record. One step at a time per Sage connection (shared with
 * every Sage-writing function); Sage calls are paced by the database rate budget per business.
 */
export const syncTask = defineFunction(
  {
    id: "sync-task",
    name: "Sync a marketplace order to Sage",
    triggers: [syncTaskRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 5,
  },
  async ({ event, step, runId }) => {
    const data = event.data;
    // each step's Sage calls recorded with the task they serve (the order trace)
    const traced = <T>(name: string, fn: () => Promise<T>) => step.run(name, () => withRecordedCalls({ tenantId: data.tenantId, taskId: data.taskId, runId: runId ?? null, step: name }, fn));
    // a file-exchange target (Sage 50 Cloud) takes order files: one task goes as a batch of one
    const asFile = await step.run("route", async () => routeFileExchangeTask(await getDb(), data));
    if (asFile) {
      await step.sendEvent("as-batch", syncBatchRequested.create(asFile, { id: `sync-batch-${asFile.batchId}` }));
      return { asBatch: asFile.batchId };
    }
    const begin = await traced("begin", async () => beginTaskSync(await getDb(), data));
    if (!begin.proceed) return { skipped: begin.why };
    const ctx: TaskContext = begin.ctx;
    try {
      // the plan first: an order whose lines do not all resolve writes nothing, not even the contact
      const plan = await traced("plan", async () => refusing(async () => planTaskSync(await getDb(), ctx)));
      if (isRefused(plan)) return await traced("fail", async () => failTaskSync(await getDb(), ctx, plan.refused));
      if (plan.kind === "action_required") return { actionRequired: plan.reason };
      const contact = await traced("ensure-contact", async () => refusing(async () => ensureSageContactOrHold(await getDb(), ctx)));
      if (isRefused(contact)) return await traced("fail", async () => failTaskSync(await getDb(), ctx, contact.refused));
      // a re-sync review holds new contacts: the task waits (action_required, linked to the review)
      if ("held" in contact) return { actionRequired: contact.held };
      const invoice = await traced("write-invoice", async () => refusing(async () => writeTaskInvoice(await getDb(), ctx, contact.contactId, plan)));
      if (isRefused(invoice)) return await traced("fail", async () => failTaskSync(await getDb(), ctx, invoice.refused));
      const credit = await traced("write-credit-note", async () => refusing(async () => writeTaskCreditNote(await getDb(), ctx, contact.contactId, plan)));
      if (isRefused(credit)) return await traced("fail", async () => failTaskSync(await getDb(), ctx, credit.refused));
      // a refund is allocated against the invoice it refunds (a follow-up: refusal is logged, not fatal)
      if (credit) await traced("allocate-refund", async () => allocateRefundOrSayWhy(await getDb(), { tenantId: ctx.tenantId, connectionId: ctx.connectionId, taskId: ctx.taskId, orderId: ctx.orderId, creditNoteId: credit.sageId, contactId: contact.contactId, currency: plan.currency }));
      const documents = [invoice, credit].filter((d) => d !== null);
      await traced("complete", async () => completeTaskSync(await getDb(), ctx, { documents, notes: plan.notes, currency: plan.currency }));
      return { documents };
    } catch (e) {
      // a step ran out of retries: the task is failed with what Sage (or the network) said
      const message = e instanceof Error ? e.message : String(e);
      await traced("fail-after-retries", async () => failTaskSync(await getDb(), ctx, { kind: "retryable", message }));
      return { failed: message };
    }
  },
);
