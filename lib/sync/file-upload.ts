import { and, eq, inArray, sql } from "drizzle-orm";
import { arrayParam } from "@/db/array-param";
import type { Database } from "@/db/client";
import { actionLog, connections, customerMappings, feeMappings, fileUploads, marketplaceCustomers, marketplaceProducts, productMappings, sageDocuments, sageItems, syncTasks, type FileUpload } from "@/db/schema";
import { connectionTarget, sageFiles } from "@/lib/connections/sage-session";
import { withRecordedCalls } from "@/lib/trace/sage-call-recorder";
import { SYSTEM_ACTOR, writeActionLog } from "@/lib/log/action-log";
import { FINAL_UPLOAD_STATUSES, type SageDocumentDraft, type SageFileExchangeApi, type SageFileExchangeTarget, type SageUploadStatus } from "@/lib/sage/target";
import { getSettings } from "@/lib/settings/settings";
import { batchTaskIds, type SyncBatchHead } from "./batches";
import { deriveIdempotencyId, documentDraft, idempotencyIds, recordWritten, storePendingMarkers } from "./documents";
import { planSync, type MarketplaceProductForPlan, type SageItemForPlan } from "./plan";
import { businessTimeZone } from "./business-date";
import { effectiveTaxRules, taxCaseOf } from "./tax-rules";

/**
 * Sync all for a file-exchange target (Sage 50 Cloud): a slice of the batch becomes ONE order file.
 *   prepare  plan the tasks, claim them, store their pending markers and the upload row — whose id is
 *            derived from the batch and the slice — all before anything is sent (one transaction);
 *   send     upload the file unless Sage already holds an upload with this id (a crash after the
 *            upload was stored resumes here and sends nothing twice);
 *   track    read the tracking until a final status (the flow sleeps between reads, growing, bounded);
 *   apply    per record: accepted → the document number recorded, the task synced; failed → the task
 *            failed with Sage's own message; badRequest → every task of the file failed, saying so.
 */

/** Tasks one order file carries (one step prepares them; the file is a few hundred KB at most). */
export const UPLOAD_TASKS = 250;
/** Tracking reads before an upload is given up as stuck (with the growing waits: about 40 minutes). */
export const UPLOAD_MAX_CHECKS = 30;
/**
 * The wait before tracking read `check`: 2 s, 4 s, 8 s, … at most 120 s (FILE_UPLOAD_FIRST_WAIT_MS
 * sets the first wait; tests shorten it). An Inngest duration string.
 */
export function uploadWait(check: number): string {
  const first = Number(process.env.FILE_UPLOAD_FIRST_WAIT_MS ?? 2_000);
  return `${Math.max(1, Math.round(Math.min(120_000, first * 2 ** check)))}ms`;
}

export type PreparedUpload = { uploadRowId: string; uploadId: string; tasks: number; documents: number; actionRequired: number; skipped: number } | { uploadRowId: null; actionRequired: number; skipped: number };

const ZERO_PREPARED = (actionRequired = 0, skipped = 0): PreparedUpload => ({ uploadRowId: null, actionRequired, skipped });

async function fileTarget(db: Database, connectionId: string): Promise<SageFileExchangeTarget> {
  const target = await connectionTarget(db, connectionId);
  if (target.exchange !== "file_exchange") throw new Error(`${target.label} does not work by file exchange`);
  return target;
}

/** Step "prepare": the slice at `from` as one upload row with its documents, tasks claimed and markers stored. */
export async function prepareFileUpload(db: Database, head: SyncBatchHead, from: number, limit = UPLOAD_TASKS): Promise<PreparedUpload> {
  const uploadId = `up${deriveIdempotencyId("upload", head.batchId, String(from))}`;
  const [already] = await db.select().from(fileUploads).where(eq(fileUploads.uploadId, uploadId));
  if (already) return { uploadRowId: already.id, uploadId, tasks: already.taskIds.length, documents: already.documents.length, actionRequired: 0, skipped: 0 };

  const ids = await batchTaskIds(db, head.batchId, from, limit);
  if (ids.length === 0) return ZERO_PREPARED();
  const target = await fileTarget(db, head.connectionId);
  const settings = await getSettings(db, head.tenantId);
  const [connection] = await db.select({ country: connections.country }).from(connections).where(eq(connections.id, head.connectionId));
  // open tasks not already carried by an upload that is still under way (never the same task in two files)
  const tasks = await db
    .select()
    .from(syncTasks)
    .where(
      and(
        eq(syncTasks.tenantId, head.tenantId),
        sql`${syncTasks.id} = any(${arrayParam(ids, "uuid")})`,
        sql`${syncTasks.state} not in ('synced', 'ignored')`,
        sql`not exists (select 1 from ${fileUploads} u where u.connection_id = ${head.connectionId} and u.status <> 'applied' and u.task_ids @> to_jsonb(array[${syncTasks.id}::text]))`,
      ),
    );
  const skipped = ids.length - tasks.length;
  if (tasks.length === 0) return ZERO_PREPARED(0, skipped);

  const mpns = [...new Set(tasks.flatMap((t) => t.items.map((i) => i.mpn)))];
  const productRows = mpns.length
    ? await db
        .select({ product: marketplaceProducts, mapping: productMappings, item: sageItems })
        .from(marketplaceProducts)
        .leftJoin(productMappings, eq(productMappings.productId, marketplaceProducts.id))
        .leftJoin(sageItems, and(eq(sageItems.connectionId, head.connectionId), eq(sageItems.sageId, productMappings.sageItemId)))
        .where(and(eq(marketplaceProducts.tenantId, head.tenantId), inArray(marketplaceProducts.mpn, mpns)))
    : [];
  const products = new Map<string, MarketplaceProductForPlan>();
  const itemMappings = new Map<string, SageItemForPlan>();
  const asPlanItem = (item: typeof sageItems.$inferSelect): SageItemForPlan => ({ sageItemId: item.sageId, type: item.type, description: item.description, salesPrice: item.salesPrice, salesLedgerAccountId: item.salesLedgerAccountId, salesTaxRateId: item.salesTaxRateId });
  for (const { product, item } of productRows) {
    products.set(product.mpn, { name: product.name, description: product.description, unitPrice: product.unitPrice, kind: product.kind });
    // an item deleted in Sage 50 (missing from its latest file) is not mapped any more: the order waits
    if (item && !item.deletedInSageAt) itemMappings.set(product.mpn, asPlanItem(item));
  }
  const [fee] = await db
    .select({ item: sageItems })
    .from(feeMappings)
    .innerJoin(sageItems, and(eq(sageItems.connectionId, head.connectionId), eq(sageItems.sageId, feeMappings.sageItemId)))
    .where(and(eq(feeMappings.tenantId, head.tenantId), eq(feeMappings.feeKind, "cancellation")));
  const cancellationFee = fee && !fee.item.deletedInSageAt ? asPlanItem(fee.item) : null;
  const taxRateIds = (await db.selectDistinct({ id: sageItems.salesTaxRateId }).from(sageItems).where(eq(sageItems.connectionId, head.connectionId))).map((r) => r.id);
  const reference = target.referenceData({ itemTaxRateIds: taxRateIds, country: connection?.country ?? "gb" });
  const taxRates = new Map(reference.taxRates.map((r) => [r.id, r]));
  const country = (reference.country ?? "GB").toUpperCase();
  const rules = effectiveTaxRules(settings.taxRules, country);
  const customerIds = [...new Set(tasks.map((t) => t.marketplaceCustomerId))];
  const customers = await db
    .select({ id: marketplaceCustomers.marketplaceCustomerId, name: marketplaceCustomers.name, raw: marketplaceCustomers.raw, contactId: customerMappings.sageContactId })
    .from(marketplaceCustomers)
    .leftJoin(customerMappings, eq(customerMappings.customerId, marketplaceCustomers.id))
    .where(and(eq(marketplaceCustomers.tenantId, head.tenantId), inArray(marketplaceCustomers.marketplaceCustomerId, customerIds)));
  const customerOf = new Map(customers.map((c) => [c.id, c]));
  const timeZone = businessTimeZone(country);

  const drafts: { taskId: string; draft: SageDocumentDraft; billingPeriod: string | null }[] = [];
  const actionRequired: { taskId: string; orderId: string; reason: string; link: string | null }[] = [];
  const claimed: string[] = [];
  for (const task of tasks) {
    const plan = planSync({
      target,
      orderId: task.marketplaceOrderId,
      orderType: task.orderType,
      items: task.items,
      settings,
      products,
      itemMappings,
      cancellationFee,
      taxRates,
      defaults: { ledgerAccountId: reference.defaultLedgerAccountId, taxRateId: reference.taxRates[0]!.id },
      currency: { order: task.currency, base: reference.baseCurrency ?? "GBP", multiCurrency: reference.multiCurrency, exchangeRates: new Map() },
      tax: { businessCountry: country, rules, customer: taxCaseOf(country, customerOf.get(task.marketplaceCustomerId)?.raw ?? {}) },
    });
    if (plan.kind === "action_required") {
      actionRequired.push({ taskId: task.id, orderId: task.marketplaceOrderId, reason: plan.reason, link: plan.link });
      continue;
    }
    const customer = customerOf.get(task.marketplaceCustomerId);
    if (!customer?.contactId) {
      actionRequired.push({ taskId: task.id, orderId: task.marketplaceOrderId, reason: `Map ${customer?.name ?? task.marketplaceCustomerId} to a ${target.label} customer first: ${target.label} cannot create customers through the connector. Nothing was written to Sage.`, link: "/mapping/customers" });
      continue;
    }
    claimed.push(task.id);
    for (const [kind, lines] of [["sales_invoice", plan.invoiceLines], ["sales_credit_note", plan.creditNoteLines]] as const) {
      if (lines.length === 0) continue;
      drafts.push({ taskId: task.id, billingPeriod: task.billingPeriod, draft: documentDraft({ kind, contactId: customer.contactId, reference: task.marketplaceOrderId, currency: task.currency, exchangeRate: null, timeZone, lines, idempotencyId: idempotencyIds.document(head.tenantId, task.id, kind) }) });
    }
  }

  return db.transaction(async (tx): Promise<PreparedUpload> => {
    for (const a of actionRequired) {
      await tx.update(syncTasks).set({ state: "action_required", reason: a.reason, reasonLink: a.link, updatedAt: new Date() }).where(eq(syncTasks.id, a.taskId));
    }
    if (actionRequired.length) {
      await tx.insert(actionLog).values(actionRequired.map((a) => ({ tenantId: head.tenantId, actorType: SYSTEM_ACTOR.type, actorLabel: SYSTEM_ACTOR.label, level: "action_required" as const, category: "sync" as const, message: `Order ${a.orderId}: ${a.reason}`, details: { link: a.link }, taskId: a.taskId })));
    }
    if (claimed.length === 0) return ZERO_PREPARED(actionRequired.length, skipped);
    await storePendingMarkers(
      tx,
      { tenantId: head.tenantId, connectionId: head.connectionId },
      drafts.map((d) => ({ taskId: d.taskId, kind: d.draft.kind, reference: d.draft.reference, idempotencyId: d.draft.idempotencyId, currency: d.draft.currency, billingPeriod: d.billingPeriod, contactId: d.draft.contactId })),
      claimed,
    );
    const [row] = await tx
      .insert(fileUploads)
      .values({ tenantId: head.tenantId, connectionId: head.connectionId, batchId: head.batchId, uploadId, taskIds: claimed, documents: drafts.map((d) => ({ taskId: d.taskId, draft: d.draft })), status: "prepared" })
      .returning({ id: fileUploads.id });
    await writeActionLog(tx, {
      tenantId: head.tenantId,
      actor: SYSTEM_ACTOR,
      level: "info",
      category: "sync",
      message: `${target.label}: order file ${uploadId} prepared with ${drafts.length} document(s) for ${claimed.length} order(s)`,
      details: { op: "file_upload_prepared", uploadId, batchId: head.batchId, tasks: claimed.length, documents: drafts.length },
    });
    return { uploadRowId: row!.id, uploadId, tasks: claimed.length, documents: drafts.length, actionRequired: actionRequired.length, skipped };
  });
}

type StoredDocument = { taskId: string; draft: SageDocumentDraft };

async function uploadRow(db: Database, uploadRowId: string): Promise<FileUpload> {
  const [row] = await db.select().from(fileUploads).where(eq(fileUploads.id, uploadRowId));
  if (!row) throw new Error(`No upload ${uploadRowId}`);
  return row;
}

/**
 * The file operations for one upload, each call recorded for the order trace under the upload's id
 * (one upload serves many tasks: a task's trace finds these calls through the upload that holds it).
 */
async function uploadFiles(db: Database, row: { tenantId: string; connectionId: string; uploadId: string }): Promise<SageFileExchangeApi> {
  const files = await sageFiles(db, row.connectionId);
  const context = { tenantId: row.tenantId, batchId: row.uploadId, taskId: null };
  return new Proxy(files, {
    get(target, name) {
      const member = (target as unknown as Record<string | symbol, unknown>)[name];
      return typeof member === "function" ? (...args: unknown[]) => withRecordedCalls(context, async () => (member as (...a: unknown[]) => unknown).apply(target, args)) : member;
    },
  });
}

/** Step "send": the file goes to Sage unless Sage already holds an upload with this id. */
export async function sendFileUpload(db: Database, uploadRowId: string): Promise<{ status: string; resumed: boolean }> {
  const row = await uploadRow(db, uploadRowId);
  if (row.status !== "prepared") return { status: row.status, resumed: true };
  const files = await uploadFiles(db, row);
  // stored by an attempt whose answer never came back: nothing is sent again, the tracking resumes
  const known = await files.tracking(row.uploadId);
  let trackingUrl: string | null = null;
  let resumed = !!known;
  if (!known) {
    const sent = await files.upload(row.uploadId, (row.documents as StoredDocument[]).map((d) => d.draft));
    trackingUrl = sent.trackingUrl;
    resumed = sent.duplicate;
  }
  await db.transaction(async (tx) => {
    await tx.update(fileUploads).set({ status: "uploaded", trackingUrl, updatedAt: new Date() }).where(eq(fileUploads.id, row.id));
    await writeActionLog(tx, {
      tenantId: row.tenantId,
      actor: SYSTEM_ACTOR,
      level: "info",
      category: "sync",
      message: resumed ? `Order file ${row.uploadId} was already with Sage 50 (an earlier attempt's answer was lost); tracking it, nothing sent twice` : `Order file ${row.uploadId} uploaded to Sage 50: ${row.taskIds.length} order(s); tracking it`,
      details: { op: "file_upload_sent", uploadId: row.uploadId, resumed },
    });
  });
  return { status: "uploaded", resumed };
}

/** Step "track": one read of the tracking; the upload row shows status and progress (the Tasks page reads it). */
export async function trackFileUpload(db: Database, uploadRowId: string): Promise<{ status: SageUploadStatus | "applied"; progress: number; final: boolean }> {
  const row = await uploadRow(db, uploadRowId);
  if (row.status === "applied") return { status: "applied", progress: 100, final: true };
  if ((FINAL_UPLOAD_STATUSES as readonly string[]).includes(row.status)) return { status: row.status as SageUploadStatus, progress: row.progress, final: true };
  const files = await uploadFiles(db, row);
  const t = await files.tracking(row.uploadId);
  if (!t) throw new Error(`Sage 50 holds no upload ${row.uploadId} although it was sent`);
  const final = (FINAL_UPLOAD_STATUSES as readonly string[]).includes(t.status);
  await db
    .update(fileUploads)
    .set({ status: t.status, progress: Math.max(0, Math.min(100, Math.round(t.progress))), statusMessage: t.statusMessage, checks: sql`${fileUploads.checks} + 1`, updatedAt: new Date() })
    .where(eq(fileUploads.id, row.id));
  return { status: t.status, progress: t.progress, final };
}

/**
 * Step "apply": the final status's results per record, one transaction with the Action Log rows.
 * A failed or refused document's pending marker is removed (nothing exists in Sage for it), so a later
 * sync writes it again; an accepted one records Sage's document number.
 */
export async function applyFileUploadResults(db: Database, uploadRowId: string, opts: { gaveUp?: boolean } = {}): Promise<{ synced: number; failed: number; pendingAgain: number }> {
  const row = await uploadRow(db, uploadRowId);
  if (row.status === "applied") return { synced: 0, failed: 0, pendingAgain: 0 };
  const documents = row.documents as StoredDocument[];
  let results: Map<string, { status: "accepted" | "failed"; documentNumber: string | null; message: string | null }> = new Map();
  if (row.status === "accepted" || row.status === "failed") {
    const files = await uploadFiles(db, row);
    const t = await files.tracking(row.uploadId);
    if (!t?.resultUrl) throw new Error(`Sage 50 gives no result for upload ${row.uploadId} although it is ${row.status}`);
    const records = await files.results(t.resultUrl);
    results = new Map(records.map((r) => [`${r.kind}|${r.reference}`, r]));
  }
  const label = (await connectionTarget(db, row.connectionId)).label;
  return db.transaction(async (tx) => {
    const written: { idempotencyId: string; sageId: string; displayedAs: string | null; contactId: string; total: number }[] = [];
    const failedTasks = new Map<string, string>();
    const pendingAgain = new Set<string>();
    for (const d of documents) {
      if (opts.gaveUp) {
        pendingAgain.add(d.taskId);
        continue;
      }
      if (row.status === "badRequest") {
        failedTasks.set(d.taskId, `${label} refused the whole order file (${row.statusMessage ?? "bad request"}); nothing was written. Sync again; if it keeps failing, contact support with upload ${row.uploadId}.`);
        continue;
      }
      const r = results.get(`${d.draft.kind}|${d.draft.reference}`);
      if (r?.status === "accepted" && r.documentNumber) written.push({ idempotencyId: d.draft.idempotencyId, sageId: r.documentNumber, displayedAs: r.documentNumber, contactId: d.draft.contactId, total: d.draft.totals.total });
      else failedTasks.set(d.taskId, r ? `${label} refused the document — ${r.message ?? "no reason given"}` : `${label}'s result for upload ${row.uploadId} does not list this order; sync it again.`);
    }
    await recordWritten(tx, written);
    const undone = documents.filter((d) => failedTasks.has(d.taskId) || pendingAgain.has(d.taskId)).map((d) => d.draft.idempotencyId);
    if (undone.length) await tx.delete(sageDocuments).where(and(inArray(sageDocuments.idempotencyId, undone), eq(sageDocuments.sageId, "")));
    const now = new Date();
    const synced = row.taskIds.filter((id) => !failedTasks.has(id) && !pendingAgain.has(id));
    if (synced.length) await tx.update(syncTasks).set({ state: "synced", syncedAt: now, reason: null, reasonLink: null, lastError: null, updatedAt: now }).where(inArray(syncTasks.id, synced));
    for (const [taskId, reason] of failedTasks) {
      await tx.update(syncTasks).set({ state: "failed", reason, lastError: reason, updatedAt: now }).where(eq(syncTasks.id, taskId));
    }
    if (pendingAgain.size) await tx.update(syncTasks).set({ state: "pending", reason: `${label} kept upload ${row.uploadId} in processing for too long; the orders are pending again (nothing was written). Sync again later.`, updatedAt: now }).where(inArray(syncTasks.id, [...pendingAgain]));
    const byTask = new Map(documents.map((d) => [d.taskId, d.draft.reference]));
    if (failedTasks.size) {
      await tx.insert(actionLog).values([...failedTasks].map(([taskId, reason]) => ({ tenantId: row.tenantId, actorType: SYSTEM_ACTOR.type, actorLabel: SYSTEM_ACTOR.label, level: "error" as const, category: "sync" as const, message: `Order ${byTask.get(taskId) ?? taskId} failed: ${reason}`, details: { uploadId: row.uploadId }, taskId })));
    }
    // "applied": the results are recorded; the message keeps what Sage 50 decided (accepted / failed / badRequest)
    const outcome = opts.gaveUp
      ? `Gave up waiting for ${label} (still ${row.status}); the orders are pending again`
      : row.status === "badRequest"
        ? `${label} refused the file (badRequest): ${row.statusMessage ?? "no reason given"}`
        : `${row.status === "accepted" ? "Accepted" : "Processed with failures"}: ${synced.length} of ${row.taskIds.length} orders synced${failedTasks.size ? `, ${failedTasks.size} refused` : ""}${row.statusMessage ? ` (${label}: ${row.statusMessage})` : ""}`;
    await tx.update(fileUploads).set({ status: "applied", statusMessage: outcome.slice(0, 1000), updatedAt: now }).where(eq(fileUploads.id, row.id));
    await writeActionLog(tx, {
      tenantId: row.tenantId,
      actor: SYSTEM_ACTOR,
      level: failedTasks.size || pendingAgain.size ? "warning" : "success",
      category: "sync",
      message: `Order file ${row.uploadId} ${opts.gaveUp ? "given up after waiting" : row.status}: ${synced.length} order(s) synced${failedTasks.size ? `, ${failedTasks.size} failed` : ""}${pendingAgain.size ? `, ${pendingAgain.size} pending again` : ""}`,
      details: { op: "file_upload_applied", uploadId: row.uploadId, status: row.status, synced: synced.length, failed: failedTasks.size, pendingAgain: pendingAgain.size, documents: written.map((w) => w.sageId) },
    });
    return { synced: synced.length, failed: failedTasks.size, pendingAgain: pendingAgain.size };
  });
}

/** The uploads of a connection as the Tasks page shows them (newest first). */
export async function recentFileUploads(db: Database, tenantId: string, limit = 5, connectionId?: string) {
  return db
    .select({ uploadId: fileUploads.uploadId, status: fileUploads.status, progress: fileUploads.progress, statusMessage: fileUploads.statusMessage, tasks: sql<number>`jsonb_array_length(${fileUploads.taskIds})::int`, createdAt: fileUploads.createdAt, updatedAt: fileUploads.updatedAt })
    .from(fileUploads)
    .where(connectionId ? and(eq(fileUploads.tenantId, tenantId), eq(fileUploads.connectionId, connectionId)) : eq(fileUploads.tenantId, tenantId))
    .orderBy(sql`${fileUploads.createdAt} desc`)
    .limit(limit);
}
