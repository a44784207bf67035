import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { sageDocuments, syncTasks } from "@/db/schema";
import { writeActionLog, SYSTEM_ACTOR } from "@/lib/log/action-log";
import { SageError } from "@/lib/sage/errors";
import { arrayParam } from "@/db/array-param";
import { businessDate } from "./business-date";
import { idempotencyIds } from "./documents";
import { businessDefaults, syncConnection } from "./sage-context";

/**
 * A refund credit note is allocated against the invoice it refunds, while that invoice is open
 * (`POST /contact_allocations`, CUSTOMER_ALLOCATION): the customer's statement then shows the
 * invoice reduced by the credit, not an invoice owed in full next to a loose credit.
 *
 * The invoice it refunds: the newest invoice we wrote (or appended lines to) for an earlier order of
 * the same subscription (marketplace asset) and customer, in the same currency, that added or
 * increased one of the products the refund reduces, and that Sage still shows open. The amount is the smaller of the two
 * outstanding amounts, so after an allocation one of them is settled — a repeat (a retried step,
 * an answer that never arrived) finds nothing left to allocate and writes nothing.
 */
export type RefundAllocation =
  | { outcome: "allocated"; allocationId: string; invoiceId: string; invoiceNumber: string | null; creditNoteNumber: string | null; amount: number }
  | { outcome: "already_allocated" }
  | { outcome: "no_open_invoice"; why: string };


const round2 = (n: number) => Math.round(n * 100) / 100;
const CANDIDATES = 10;

export async function allocateRefundCreditNote(
  db: Database,
  input: { tenantId: string; connectionId: string; taskId: string; creditNoteId: string; contactId: string; currency: string | null },
): Promise<RefundAllocation> {
  const idempotencyId = idempotencyIds.allocation(input.tenantId, input.taskId);
  const [done] = await db.select().from(sageDocuments).where(eq(sageDocuments.idempotencyId, idempotencyId));
  if (done && done.sageId !== "") return { outcome: "already_allocated" };

  const [task] = await db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, input.tenantId), eq(syncTasks.id, input.taskId)));
  if (!task) return { outcome: "no_open_invoice", why: "the task is gone" };
  const candidates = await refundedInvoiceCandidates(db, { ...input, task });
  if ("why" in candidates) return { outcome: "no_open_invoice", why: candidates.why };
  const invoices = candidates.invoices;
  if (invoices.length === 0) return { outcome: "no_open_invoice", why: "no invoice of this subscription was written by the connector" };

  const sage = syncConnection(db, input.connectionId);
  const credit = await sage.getDocument("sales_credit_note", input.creditNoteId);
  const creditOutstanding = round2(credit.outstanding);
  if (!(creditOutstanding > 0)) return { outcome: "already_allocated" };

  let open: { invoice: { id: string; displayedAs: string | null }; outstanding: number } | undefined;
  for (const id of [...new Set(invoices.map((i) => i.sageId))]) {
    let invoice: Awaited<ReturnType<typeof sage.getDocument>>;
    try {
      invoice = await sage.getDocument("sales_invoice", id);
    } catch (e) {
      if (e instanceof SageError && e.kind === "not_found") continue;
      throw e;
    }
    const outstanding = round2(invoice.outstanding);
    const status = invoice.status;
    if (status === "VOID" || status === "DRAFT" || !(outstanding > 0)) continue;
    if (invoice.contactId && invoice.contactId !== input.contactId) continue;
    open = { invoice, outstanding };
    break;
  }
  if (!open) return { outcome: "no_open_invoice", why: "the invoice it refunds is already paid or void in Sage" };

  const amount = round2(Math.min(creditOutstanding, open.outstanding));
  // the business's calendar day, as the documents it settles
  const date = businessDate((await businessDefaults(db, input.connectionId)).timeZone);
  const created = await sage.createAllocation({ contactId: input.contactId, date, invoiceId: open.invoice.id, creditNoteId: input.creditNoteId, amount });
  const allocationId = created?.id ?? "";
  const invoiceNumber = open.invoice.displayedAs;
  const creditNoteNumber = credit.displayedAs;
  await db.transaction(async (tx) => {
    await tx
      .insert(sageDocuments)
      .values({
        tenantId: input.tenantId,
        connectionId: input.connectionId,
        taskId: input.taskId,
        kind: "contact_allocation",
        sageId: allocationId || `allocated:${input.creditNoteId}`,
        displayedAs: `${creditNoteNumber ?? "credit note"} → ${invoiceNumber ?? "invoice"}`,
        reference: task.marketplaceOrderId,
        idempotencyId,
        currency: input.currency,
        details: { invoiceId: open!.invoice.id, invoiceNumber, creditNoteId: input.creditNoteId, creditNoteNumber, amount },
      })
      .onConflictDoUpdate({ target: sageDocuments.idempotencyId, set: { sageId: allocationId || `allocated:${input.creditNoteId}`, details: { invoiceId: open!.invoice.id, invoiceNumber, creditNoteId: input.creditNoteId, creditNoteNumber, amount } } });
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: SYSTEM_ACTOR,
      level: "info",
      category: "sync",
      message: `Credit note ${creditNoteNumber ?? input.creditNoteId} for order ${task.marketplaceOrderId} allocated against invoice ${invoiceNumber ?? open!.invoice.id}: ${amount.toFixed(2)}${input.currency ? ` ${input.currency}` : ""}`,
      details: { creditNoteId: input.creditNoteId, invoiceId: open!.invoice.id, amount, allocationId },
      taskId: input.taskId,
    });
  });
  return { outcome: "allocated", allocationId, invoiceId: open.invoice.id, invoiceNumber, creditNoteNumber, amount };
}

/**
 * The allocation as a follow-up of a written credit note: Sage refusing it (validation) or no open
 * invoice leaves the credit note unallocated and says so in the Action Log — the credit note itself
 * is right and stays; only an unavailable Sage (retryable, rate limit, unknown outcome) is thrown,
 * for the step to retry.
 */
export async function allocateRefundOrSayWhy(db: Database, input: Parameters<typeof allocateRefundCreditNote>[1] & { orderId: string }): Promise<RefundAllocation | { outcome: "refused"; message: string }> {
  try {
    const result = await allocateRefundCreditNote(db, input);
    if (result.outcome === "no_open_invoice") {
      await writeActionLog(db, {
        tenantId: input.tenantId,
        actor: SYSTEM_ACTOR,
        level: "info",
        category: "sync",
        message: `The credit note for order ${input.orderId} is left unallocated: ${result.why}.`,
        details: { creditNoteId: input.creditNoteId },
        taskId: input.taskId,
      });
    }
    return result;
  } catch (e) {
    if (!(e instanceof SageError) || e.retryable || e.kind === "unknown_outcome" || e.kind === "rate_limit" || e.kind === "auth") throw e;
    await writeActionLog(db, {
      tenantId: input.tenantId,
      actor: SYSTEM_ACTOR,
      level: "warning",
      category: "sync",
      message: `The credit note for order ${input.orderId} is in Sage but could not be allocated against its invoice: ${e.message}. Allocate it in Sage (Sales › Customer receipts/allocations).`,
      details: { creditNoteId: input.creditNoteId, kind: e.kind },
      taskId: input.taskId,
    });
    return { outcome: "refused", message: e.message };
  }
}

type RefundTask = typeof syncTasks.$inferSelect;

/**
 * The invoices a refund's credit note is for, newest first: written by the connector for an earlier
 * order of the same subscription (and customer, currency) that billed one of the reduced products.
 */
async function refundedInvoiceCandidates(
  db: Database,
  input: { tenantId: string; connectionId: string; currency: string | null; task: RefundTask },
): Promise<{ invoices: { sageId: string; displayedAs: string | null; createdAt: Date }[] } | { why: string }> {
  const { task } = input;
  const assetId = ((task.order as { asset?: { id?: unknown } }).asset?.id ?? null) as string | null;
  if (!assetId) return { why: "the order names no subscription" };
  const refunded = [...new Set(task.items.filter((i) => i.delta < 0).map((i) => i.mpn))];
  if (refunded.length === 0) return { why: "the order reduces no product" };
  const invoices = await db
    .select({ sageId: sageDocuments.sageId, displayedAs: sageDocuments.displayedAs, createdAt: sageDocuments.createdAt })
    .from(sageDocuments)
    .innerJoin(syncTasks, eq(syncTasks.id, sageDocuments.taskId))
    .where(
      and(
        eq(sageDocuments.tenantId, input.tenantId),
        eq(sageDocuments.connectionId, input.connectionId),
        inArray(sageDocuments.kind, ["sales_invoice", "sales_invoice_lines"]),
        ne(sageDocuments.sageId, ""),
        ne(syncTasks.id, task.id),
        eq(syncTasks.marketplaceCustomerId, task.marketplaceCustomerId),
        sql`${syncTasks.order} -> 'asset' ->> 'id' = ${assetId}`,
        // an earlier order (ties on the marketplace's second-precision time: the one recorded first)
        sql`(${syncTasks.orderCreatedAt}, ${syncTasks.createdAt}) < (${task.orderCreatedAt}, ${task.createdAt})`,
        // that billed what is refunded: one of the reduced products was added or increased there
        sql`exists (select 1 from jsonb_array_elements(${syncTasks.items}) as i where i ->> 'mpn' = any(${arrayParam(refunded, "text")}) and (i ->> 'delta')::numeric > 0)`,
        input.currency ? eq(sageDocuments.currency, input.currency) : sql`true`,
      ),
    )
    .orderBy(desc(syncTasks.orderCreatedAt), desc(sageDocuments.createdAt))
    .limit(CANDIDATES);
  return { invoices };
}

/**
 * The invoice a refund credit note names (its `notes` and `original_invoice_date`), decided before
 * the credit note is written: the newest invoice the allocation would try first. Null when there is none.
 */
export async function refundedInvoiceOf(
  db: Database,
  input: { tenantId: string; connectionId: string; taskId: string; currency: string | null },
): Promise<{ number: string; createdAt: Date } | null> {
  const [task] = await db.select().from(syncTasks).where(and(eq(syncTasks.tenantId, input.tenantId), eq(syncTasks.id, input.taskId)));
  if (!task) return null;
  const found = await refundedInvoiceCandidates(db, { ...input, task });
  const first = "invoices" in found ? found.invoices.find((i) => i.displayedAs) : undefined;
  return first ? { number: first.displayedAs!, createdAt: first.createdAt } : null;
}
