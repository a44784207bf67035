import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import {
  connections,
  customerMappings,
  feeMappings,
  marketplaceCustomers,
  marketplaceProducts,
  productMappings,
  sageDocuments,
  sageItems,
  syncTasks,
  type SageDocumentKind,
  type SyncTask,
} from "@/db/schema";
import { findActiveConnection } from "@/lib/connections/authorize";
import { writeActionLog, SYSTEM_ACTOR, type Actor } from "@/lib/log/action-log";
import { SageError } from "@/lib/sage/errors";
import { getSettings } from "@/lib/settings/settings";
import { documentTotals, planSync, type MarketplaceProductForPlan, type PlannedLine, type SageItemForPlan, type SyncPlan } from "./plan";
import { findOrCreateSageContact, matchSageContact } from "./contacts";
import { holdTaskForResync, resyncHold, resyncHoldReason, ResyncHoldError } from "./resync-guard";
import { documentDraft, idempotencyIds, markerOf, writeDocumentOnce } from "./documents";
import { effectiveTaxRules, taxCaseOf } from "./tax-rules";
import { businessDefaults, currencyForPlan, syncConnection } from "./sage-context";
import { connectionTarget } from "@/lib/connections/sage-session";
import { refundedInvoiceOf } from "./refund-allocation";

/**
 * The sync of one task, as steps an Inngest function runs one after another. Every step is
 * idempotent: a step retried after a crash, a timeout or a lost answer never writes twice, because
 * each Sage create carries an idempotency_id derived from tenant + task + kind, a pending marker is
 * stored before the write, and a pending write is looked up in Sage (by reference) before it is
 * tried again.
 */

export type TaskContext = { taskId: string; tenantId: string; connectionId: string; orderId: string };

type Notify = "errors_and_actions" | "all_tasks";

async function notificationsMode(db: Database, tenantId: string): Promise<Notify> {
  return (await getSettings(db, tenantId)).notifications;
}

// ─── 1. begin ────────────────────────────────────────────────────────────────────────────────

export type BeginResult = { proceed: true; ctx: TaskContext } | { proceed: false; state: SyncTask["state"]; why: string };

/** Claim the task (→ processing). Synced and ignored tasks are left alone. */
export async function beginTaskSync(db: Database, input: { tenantId: string; taskId: string }): Promise<BeginResult> {
  const connection = await findActiveConnection(db, input.tenantId);
  return db.transaction(async (tx): Promise<BeginResult> => {
    const [task] = await tx
      .select()
      .from(syncTasks)
      .where(and(eq(syncTasks.id, input.taskId), eq(syncTasks.tenantId, input.tenantId)))
      .for("update");
    if (!task) return { proceed: false, state: "failed", why: "no such task" };
    if (task.state === "synced" || task.state === "ignored") return { proceed: false, state: task.state, why: `task is ${task.state}` };
    if (!connection || connection.status !== "connected" || !connection.businessId) {
      const reason = !connection
        ? "Connect Sage first: there is no Sage connection."
        : connection.status === "reconnect_required"
          ? "Reconnect Sage: the connection's authorization was refused."
          : "Choose the Sage business to write to.";
      await tx.update(syncTasks).set({ state: "action_required", reason, reasonLink: "/dashboard", updatedAt: new Date() }).where(eq(syncTasks.id, task.id));
      await writeActionLog(tx, { tenantId: input.tenantId, actor: SYSTEM_ACTOR, level: "action_required", category: "sync", message: `Order ${task.marketplaceOrderId} was not synced: ${reason}`, taskId: task.id });
      return { proceed: false, state: "action_required", why: reason };
    }
    await tx
      .update(syncTasks)
      .set({ state: "processing", attempts: sql`${syncTasks.attempts} + 1`, updatedAt: new Date() })
      .where(eq(syncTasks.id, task.id));
    return { proceed: true, ctx: { taskId: task.id, tenantId: input.tenantId, connectionId: connection.id, orderId: task.marketplaceOrderId } };
  });
}

// ─── 2. contact ──────────────────────────────────────────────────────────────────────────────

/** creates of one contact tried in place (each after a look-up) before the error goes to the caller */
const CONTACT_ATTEMPTS = 4;

/** The task customer's Sage contact: the stored id, else matched (e-mail, reference), else created (once). */
export async function ensureSageContact(db: Database, ctx: TaskContext): Promise<{ contactId: string; created: boolean }> {
  const [task] = await db.select().from(syncTasks).where(eq(syncTasks.id, ctx.taskId));
  const [customer] = await db
    .select()
    .from(marketplaceCustomers)
    .where(and(eq(marketplaceCustomers.tenantId, ctx.tenantId), eq(marketplaceCustomers.marketplaceCustomerId, task!.marketplaceCustomerId)));
  if (!customer) throw new SageError("validation", `The marketplace customer ${task!.marketplaceCustomerId} is unknown; run Check Changes`);
  const [mapping] = await db
    .select()
    .from(customerMappings)
    .where(and(eq(customerMappings.tenantId, ctx.tenantId), eq(customerMappings.customerId, customer.id)));
  if (mapping?.sageContactId) return { contactId: mapping.sageContactId, created: false };

  const idempotencyId = idempotencyIds.contact(ctx.tenantId, customer.marketplaceCustomerId);
  // a re-sync review holds contact creation for the tenant: a live match still maps, nothing is created
  const hold = await resyncHold(db, ctx.tenantId);
  const { contact, created } = hold
    ? await (async () => {
        const match = await matchSageContact(syncConnection(db, ctx.connectionId), customer);
        if (!match) throw new ResyncHoldError(hold.reviewId, resyncHoldReason(customer.name, hold.businessName));
        return { contact: match.contact, created: false };
      })()
    : await findOrCreateSageContact(syncConnection(db, ctx.connectionId), { tenantId: ctx.tenantId, customer, attempts: CONTACT_ATTEMPTS });
  await db.transaction(async (tx) => {
    await tx
      .insert(customerMappings)
      .values({ tenantId: ctx.tenantId, customerId: customer.id, sageContactId: contact.id, sageContactName: contact.displayedAs ?? customer.name, mappedAt: new Date() })
      .onConflictDoUpdate({ target: [customerMappings.tenantId, customerMappings.customerId], set: { sageContactId: contact.id, sageContactName: contact.displayedAs ?? customer.name, mappedAt: new Date(), updatedAt: new Date() } });
    if (created) {
      await tx.insert(sageDocuments).values({ tenantId: ctx.tenantId, connectionId: ctx.connectionId, taskId: ctx.taskId, kind: "contact", sageId: contact.id, displayedAs: contact.displayedAs ?? null, reference: customer.marketplaceCustomerId, idempotencyId }).onConflictDoNothing();
    }
    await writeActionLog(tx, {
      tenantId: ctx.tenantId,
      actor: SYSTEM_ACTOR,
      level: "info",
      category: "mapping",
      message: created ? `Sage contact created for ${customer.name}` : `${customer.name} matched to the existing Sage contact ${contact.displayedAs ?? contact.id}`,
      details: { sageContactId: contact.id },
      taskId: ctx.taskId,
    });
  });
  return { contactId: contact.id, created };
}

/** The contact step of the per-task flows: a task a re-sync review holds is marked action_required (reason + link) instead. */
export async function ensureSageContactOrHold(db: Database, ctx: TaskContext): Promise<{ contactId: string; created: boolean } | { held: string }> {
  try {
    return await ensureSageContact(db, ctx);
  } catch (e) {
    if (!(e instanceof ResyncHoldError)) throw e;
    await holdTaskForResync(db, { tenantId: ctx.tenantId, taskId: ctx.taskId, orderId: ctx.orderId, hold: e });
    return { held: e.reason };
  }
}

// ─── 3. plan ─────────────────────────────────────────────────────────────────────────────────

export async function itemDetails(db: Database, ctx: TaskContext, ref: { sageItemId: string; sageItemType: "product" | "service"; sageItemName: string }): Promise<SageItemForPlan> {
  const [cached] = await db.select().from(sageItems).where(and(eq(sageItems.connectionId, ctx.connectionId), eq(sageItems.sageId, ref.sageItemId)));
  if (cached?.salesLedgerAccountId) {
    return { sageItemId: ref.sageItemId, type: ref.sageItemType, description: cached.description, salesPrice: cached.salesPrice, salesLedgerAccountId: cached.salesLedgerAccountId, salesTaxRateId: cached.salesTaxRateId };
  }
  let item: Awaited<ReturnType<ReturnType<typeof syncConnection>["getItem"]>>;
  try {
    item = await syncConnection(db, ctx.connectionId).getItem(ref.sageItemType, ref.sageItemId);
  } catch (e) {
    if (e instanceof SageError && e.kind === "not_found") throw new SageError("not_found", `The Sage item “${ref.sageItemName}” no longer exists in Sage; map the product again`);
    throw e;
  }
  const price = item.prices[0]?.amount ?? null;
  const values = {
    tenantId: ctx.tenantId,
    connectionId: ctx.connectionId,
    sageId: item.id,
    type: ref.sageItemType,
    itemCode: item.itemCode,
    description: item.description ?? ref.sageItemName,
    salesPrice: price === null ? null : String(price),
    salesLedgerAccountId: item.salesLedgerAccountId,
    salesTaxRateId: item.salesTaxRateId,
    refreshedAt: new Date(),
  };
  await db
    .insert(sageItems)
    .values(values)
    .onConflictDoUpdate({ target: [sageItems.connectionId, sageItems.sageId], set: { salesLedgerAccountId: values.salesLedgerAccountId, salesTaxRateId: values.salesTaxRateId, salesPrice: values.salesPrice, description: values.description } });
  return { sageItemId: item.id, type: ref.sageItemType, description: values.description, salesPrice: values.salesPrice, salesLedgerAccountId: values.salesLedgerAccountId, salesTaxRateId: values.salesTaxRateId };
}

export type TaskPlan = SyncPlan & { currency: string | null; billingPeriod: string | null };

/** Resolve every line's Sage item and plan the documents. Unmapped ⇒ action_required, nothing written. */
export async function planTaskSync(db: Database, ctx: TaskContext): Promise<TaskPlan> {
  const [task] = await db.select().from(syncTasks).where(eq(syncTasks.id, ctx.taskId));
  const settings = await getSettings(db, ctx.tenantId);
  const mpns = [...new Set(task!.items.map((i) => i.mpn))];
  const products = mpns.length
    ? await db
        .select({ product: marketplaceProducts, mapping: productMappings })
        .from(marketplaceProducts)
        .leftJoin(productMappings, eq(productMappings.productId, marketplaceProducts.id))
        .where(and(eq(marketplaceProducts.tenantId, ctx.tenantId), inArray(marketplaceProducts.mpn, mpns)))
    : [];
  const productByMpn = new Map<string, MarketplaceProductForPlan>();
  const itemMappings = new Map<string, SageItemForPlan>();
  for (const { product, mapping } of products) {
    productByMpn.set(product.mpn, { name: product.name, description: product.description, unitPrice: product.unitPrice, kind: product.kind });
    if (mapping && !itemMappings.has(product.mpn)) itemMappings.set(product.mpn, await itemDetails(db, ctx, mapping));
  }
  const [fee] = await db.select().from(feeMappings).where(and(eq(feeMappings.tenantId, ctx.tenantId), eq(feeMappings.feeKind, "cancellation")));
  const cancellationFee = fee ? await itemDetails(db, ctx, fee) : null;
  const [customer] = await db
    .select({ raw: marketplaceCustomers.raw })
    .from(marketplaceCustomers)
    .where(and(eq(marketplaceCustomers.tenantId, ctx.tenantId), eq(marketplaceCustomers.marketplaceCustomerId, task!.marketplaceCustomerId)));
  const target = await connectionTarget(db, ctx.connectionId);
  const planWith = (defaults: Awaited<ReturnType<typeof businessDefaults>>) =>
    planSync({
      target,
      orderId: ctx.orderId,
      orderType: task!.orderType,
      items: task!.items,
      settings,
      products: productByMpn,
      itemMappings,
      cancellationFee,
      taxRates: defaults.taxRates,
      defaults: { ledgerAccountId: defaults.ledgerAccountId, taxRateId: defaults.taxRateId },
      currency: currencyForPlan(defaults, task!.currency),
      tax: { businessCountry: defaults.businessCountry, rules: effectiveTaxRules(settings.taxRules, defaults.businessCountry), customer: taxCaseOf(defaults.businessCountry, customer?.raw ?? {}) },
    });
  let plan = planWith(await businessDefaults(db, ctx.connectionId));
  // held back by its currency: decided again on Sage's current settings, not a cached copy
  if (plan.kind === "action_required" && plan.cause === "currency") plan = planWith(await businessDefaults(db, ctx.connectionId, { fresh: true }));
  if (plan.kind === "action_required") {
    await db.transaction(async (tx) => {
      await tx.update(syncTasks).set({ state: "action_required", reason: plan.reason, reasonLink: plan.link, updatedAt: new Date() }).where(eq(syncTasks.id, ctx.taskId));
      await writeActionLog(tx, { tenantId: ctx.tenantId, actor: SYSTEM_ACTOR, level: "action_required", category: "sync", message: `Order ${ctx.orderId}: ${plan.reason}`, details: { link: plan.link, unmapped: plan.unmapped }, taskId: ctx.taskId });
    });
  }
  return { ...plan, currency: task!.currency, billingPeriod: task!.billingPeriod };
}

// ─── 4. write ────────────────────────────────────────────────────────────────────────────────

export type WrittenDocument = { kind: SageDocumentKind; sageId: string; displayedAs: string | null; total: number };

/**
 * Create one invoice or credit note exactly once (./documents.ts): an existing record for this
 * idempotency id wins; a pending one (outcome unknown) is looked up in Sage by reference before the
 * create is repeated.
 */
async function createDocumentOnce(db: Database, ctx: TaskContext, kind: "sales_invoice" | "sales_credit_note", contactId: string, lines: PlannedLine[], plan: TaskPlan): Promise<WrittenDocument> {
  const { timeZone } = await businessDefaults(db, ctx.connectionId);
  const refunds = kind === "sales_credit_note" ? await refundedInvoiceOf(db, { tenantId: ctx.tenantId, connectionId: ctx.connectionId, taskId: ctx.taskId, currency: plan.currency }) : null;
  const draft = documentDraft({ kind, contactId, reference: ctx.orderId, currency: plan.currency, exchangeRate: plan.kind === "write" ? plan.exchangeRate : null, timeZone, lines, idempotencyId: idempotencyIds.document(ctx.tenantId, ctx.taskId, kind), refunds });
  const written = await writeDocumentOnce(db, syncConnection(db, ctx.connectionId), { tenantId: ctx.tenantId, connectionId: ctx.connectionId, taskId: ctx.taskId, billingPeriod: plan.billingPeriod }, draft);
  return { kind, sageId: written.sageId, displayedAs: written.displayedAs, total: written.total };
}

/** Lines added to the customer's latest open invoice (same currency and billing cycle), exactly once. */
async function appendToOpenInvoice(db: Database, ctx: TaskContext, contactId: string, lines: PlannedLine[], plan: TaskPlan): Promise<WrittenDocument | null> {
  const idempotencyId = idempotencyIds.invoiceLines(ctx.tenantId, ctx.taskId);
  const done = await markerOf(db, idempotencyId);
  if (done && (done.details as { status?: string }).status === "written") return { kind: "sales_invoice_lines", sageId: done.sageId, displayedAs: done.displayedAs, total: documentTotals(lines).total };

  const candidates = await db
    .select()
    .from(sageDocuments)
    .where(
      and(
        eq(sageDocuments.tenantId, ctx.tenantId),
        eq(sageDocuments.connectionId, ctx.connectionId),
        eq(sageDocuments.kind, "sales_invoice"),
        sql`${sageDocuments.details}->>'contactId' = ${contactId}`,
        plan.currency ? eq(sageDocuments.currency, plan.currency) : sql`${sageDocuments.currency} is null`,
        plan.billingPeriod ? eq(sageDocuments.billingPeriod, plan.billingPeriod) : sql`${sageDocuments.billingPeriod} is null`,
        sql`${sageDocuments.sageId} <> ''`,
      ),
    )
    .orderBy(desc(sageDocuments.createdAt))
    .limit(1);
  const target = done ? { sageId: done.sageId } : candidates[0];
  if (!target) return null;
  const sage = syncConnection(db, ctx.connectionId);
  const invoice = await sage.getDocument("sales_invoice", target.sageId);
  if (!["UNPAID", "DRAFT", "PART_PAID"].includes(invoice.status ?? "")) return null;
  const linesNow = invoice.lineCount;
  if (done) {
    const before = Number((done.details as { linesBefore?: number }).linesBefore ?? 0);
    if (linesNow >= before + lines.length) {
      await db.update(sageDocuments).set({ details: { ...(done.details as object), status: "written" } }).where(eq(sageDocuments.idempotencyId, idempotencyId));
      return { kind: "sales_invoice_lines", sageId: target.sageId, displayedAs: invoice.displayedAs, total: documentTotals(lines).total };
    }
  } else {
    await db
      .insert(sageDocuments)
      .values({ tenantId: ctx.tenantId, connectionId: ctx.connectionId, taskId: ctx.taskId, kind: "sales_invoice_lines", sageId: target.sageId, displayedAs: invoice.displayedAs, reference: ctx.orderId, idempotencyId, currency: plan.currency, billingPeriod: plan.billingPeriod, details: { status: "pending", linesBefore: linesNow, contactId } })
      .onConflictDoNothing();
  }
  await sage.appendInvoiceLines(target.sageId, lines);
  await db.update(sageDocuments).set({ details: { status: "written", linesBefore: linesNow, contactId } }).where(eq(sageDocuments.idempotencyId, idempotencyId));
  return { kind: "sales_invoice_lines", sageId: target.sageId, displayedAs: invoice.displayedAs, total: documentTotals(lines).total };
}

export async function writeTaskInvoice(db: Database, ctx: TaskContext, contactId: string, plan: TaskPlan): Promise<WrittenDocument | null> {
  if (plan.kind !== "write" || plan.invoiceLines.length === 0) return null;
  const settings = await getSettings(db, ctx.tenantId);
  if (settings.invoiceMode === "latest_open") {
    const appended = await appendToOpenInvoice(db, ctx, contactId, plan.invoiceLines, plan);
    if (appended) return appended;
  }
  return createDocumentOnce(db, ctx, "sales_invoice", contactId, plan.invoiceLines, plan);
}

export async function writeTaskCreditNote(db: Database, ctx: TaskContext, contactId: string, plan: TaskPlan): Promise<WrittenDocument | null> {
  if (plan.kind !== "write" || plan.creditNoteLines.length === 0) return null;
  return createDocumentOnce(db, ctx, "sales_credit_note", contactId, plan.creditNoteLines, plan);
}

// ─── 5. finish ───────────────────────────────────────────────────────────────────────────────

export function describeWritten(doc: WrittenDocument, currency: string | null) {
  const what = doc.kind === "sales_credit_note" ? "credit note" : doc.kind === "sales_invoice_lines" ? "lines added to invoice" : "invoice";
  return `${what} ${doc.displayedAs ?? doc.sageId} (${doc.total.toFixed(2)}${currency ? ` ${currency}` : ""})`;
}

export async function completeTaskSync(db: Database, ctx: TaskContext, result: { documents: WrittenDocument[]; notes: string[]; currency: string | null }, actor: Actor = SYSTEM_ACTOR) {
  const mode = await notificationsMode(db, ctx.tenantId);
  await db.transaction(async (tx) => {
    await tx
      .update(syncTasks)
      .set({ state: "synced", syncedAt: new Date(), reason: result.notes.length ? result.notes.join("; ") : null, reasonLink: null, lastError: null, updatedAt: new Date() })
      .where(eq(syncTasks.id, ctx.taskId));
    if (mode === "all_tasks") {
      const what = result.documents.length ? result.documents.map((d) => describeWritten(d, result.currency)).join(", ") : result.notes.join("; ") || "nothing to write";
      await writeActionLog(tx, {
        tenantId: ctx.tenantId,
        actor,
        level: "success",
        category: "sync",
        message: `Order ${ctx.orderId} synced: ${what}`,
        details: { documents: result.documents },
        taskId: ctx.taskId,
      });
    }
  });
}

/** Sage refused the data (or the retries ran out): `failed` with Sage's own message and field. */
export async function failTaskSync(db: Database, ctx: Pick<TaskContext, "taskId" | "tenantId" | "orderId">, error: { kind: string; message: string; details?: { source?: string; message: string }[] }) {
  const sageSaid = error.details?.length ? error.details.map((d) => (d.source ? `${d.source}: ${d.message}` : d.message)).join("; ") : error.message;
  const reason =
    error.kind === "validation"
      ? `Sage refused the document — ${sageSaid}`
      : error.kind === "not_found"
        ? error.message
        : `Sage could not be reached or kept failing (${sageSaid}). Sync again later.`;
  await db.transaction(async (tx) => {
    await tx.update(syncTasks).set({ state: "failed", reason, lastError: sageSaid, reasonLink: error.kind === "not_found" ? "/mapping/products" : null, updatedAt: new Date() }).where(eq(syncTasks.id, ctx.taskId));
    await writeActionLog(tx, { tenantId: ctx.tenantId, actor: SYSTEM_ACTOR, level: "error", category: "sync", message: `Order ${ctx.orderId} failed: ${reason}`, details: { kind: error.kind, sage: error.details ?? [] }, taskId: ctx.taskId });
  });
}

/** Which connection a task syncs through (for the per-connection concurrency key). */
export async function connectionForTenant(db: Database, tenantId: string): Promise<string | null> {
  const [row] = await db.select({ id: connections.id }).from(connections).where(and(eq(connections.tenantId, tenantId), eq(connections.status, "connected"))).limit(1);
  return row?.id ?? null;
}
