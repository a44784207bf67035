import { and, eq, sql } from "drizzle-orm";
import { arrayParam } from "@/db/array-param";
import type { Database, Queryable } from "@/db/client";
import {
  actionLog,
  customerMappings,
  feeMappings,
  marketplaceCustomers,
  marketplaceProducts,
  productMappings,
  syncTasks,
  type SyncTask,
} from "@/db/schema";
import type { TaskItemDelta } from "@/db/schema";
import { SYSTEM_ACTOR, redact } from "@/lib/log/action-log";
import { SageError } from "@/lib/sage/errors";
import { getConfig } from "@/lib/config";
import { getSettings } from "@/lib/settings/settings";
import { documentTotals, planSync, type MarketplaceProductForPlan, type PlannedLine, type SageItemForPlan } from "./plan";
import type { SageCapabilityTable, SageConnectionApi, SageCreatedAnswer } from "@/lib/sage/target";
import { documentDraft, existingMarkers, findInterruptedWrites, findWrittenDocument, idempotencyIds, recordWrittenStatement, storePendingMarkers, type ExistingMarker } from "./documents";
import { businessDefaults, currencyForPlan, syncConnection } from "./sage-context";
import { connectionTarget } from "@/lib/connections/sage-session";
import { markTasksHaltedByReconnect } from "./reconnect-halt";
import { RESYNC_REVIEW_LINK, ResyncHoldError } from "./resync-guard";
import {
  beginTaskSync,
  completeTaskSync,
  describeWritten,
  ensureSageContact,
  ensureSageContactOrHold,
  failTaskSync,
  itemDetails,
  planTaskSync,
  writeTaskCreditNote,
  writeTaskInvoice,
  type TaskContext,
  type WrittenDocument,
} from "./sync-task";
import { allocateRefundOrSayWhy, refundedInvoiceOf } from "./refund-allocation";
import { effectiveTaxRules, taxCaseOf, type TaxCase, type TaxRule } from "./tax-rules";
import { currentTraceContext, withTraceContext } from "@/lib/trace/call-context";
import { withRecordedCalls } from "@/lib/trace/sage-call-recorder";
import { randomUUID } from "node:crypto";

/**
 * Sync many tasks of one connection in one pass ("Sync all", auto-sync, benchmarks). Same rules
 * and the same exactly-once guarantees as the per-task flow, with the database work done in a few
 * set-based statements instead of a dozen per task:
 *   1. read tasks, mappings and settings once; ensure each customer's contact once;
 *   2. one transaction: plan every task, mark action_required ones, claim the rest (processing)
 *      and store a pending marker (idempotency id) for every document about to be written;
 *   3. write the documents to Sage one by one (throttled); a marker left pending by an earlier,
 *      interrupted attempt is looked up in Sage by reference before anything is written again;
 *   4. every `FLUSH_EVERY` documents (and before an error propagates) one transaction records the
 *      Sage ids, marks tasks synced or failed and writes their Action Log rows.
 */

const FLUSH_EVERY = 250;
/** ... and at least this often while documents are being written (the progress bar reads what is recorded) */
const FLUSH_INTERVAL_MS = 1_000;
/** attempts per document inside a batch before the whole chunk is handed back to Inngest's retries */
const DOC_ATTEMPTS = 6;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Repeat an idempotent step (it matches before it creates) when Sage's answer was lost or it was unavailable. */
async function retryInPlace<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const transient = e instanceof SageError && (e.kind === "unknown_outcome" || e.kind === "retryable" || e.kind === "rate_limit");
      if (!transient || attempt >= DOC_ATTEMPTS) throw e;
      await sleep(Math.min(2_000, 25 * 2 ** attempt));
    }
  }
}

/** What a batch reads of a task (not the stored marketplace order, which can be large). */
const BATCH_TASK_COLUMNS = {
  id: syncTasks.id,
  state: syncTasks.state,
  marketplaceOrderId: syncTasks.marketplaceOrderId,
  marketplaceCustomerId: syncTasks.marketplaceCustomerId,
  orderType: syncTasks.orderType,
  items: syncTasks.items,
  currency: syncTasks.currency,
  billingPeriod: syncTasks.billingPeriod,
};
type BatchTask = Pick<SyncTask, keyof typeof BATCH_TASK_COLUMNS>;

type DocKind = "sales_invoice" | "sales_credit_note";
type PlannedDoc = { task: BatchTask; ctx: TaskContext; kind: DocKind; lines: PlannedLine[]; exchangeRate: number | null; timeZone: string; contactId: string; idempotencyId: string; resume: boolean; refunds?: { number: string; createdAt: Date } | null };
type Outcome = { doc: PlannedDoc; written?: WrittenDocument; refused?: SageError };

export type BatchResult = { synced: number; failed: number; actionRequired: number; skipped: number; documents: number };

export async function syncTaskBatch(db: Database, input: { tenantId: string; connectionId: string; taskIds: string[] }): Promise<BatchResult> {
  return (await syncTaskBatchUntil(db, input)).result;
}

/**
 * Sync the tasks in order, taking no new chunk of them once `deadline` (epoch ms) has passed: a time
 * box for one step when Sage answers slower than its rate limit would pace it. `consumed` = how many
 * of `taskIds`, from the first, this call dealt with (all of them without a deadline); the rest are
 * untouched, for the next step.
 */
export async function syncTaskBatchUntil(db: Database, input: { tenantId: string; connectionId: string; taskIds: string[]; deadline?: number }): Promise<{ result: BatchResult; consumed: number }> {
  // the order trace: calls made for one task carry its id (set per task below), calls shared by the
  // run (reference data, look-ups) carry this run's batch id only
  return withRecordedCalls({ tenantId: input.tenantId, batchId: currentTraceContext().batchId ?? `sync-run-${randomUUID()}` }, () => syncTaskBatchTraced(db, input));
}

async function syncTaskBatchTraced(db: Database, input: { tenantId: string; connectionId: string; taskIds: string[]; deadline?: number }): Promise<{ result: BatchResult; consumed: number }> {
  const run: RunState = { result: { synced: 0, failed: 0, actionRequired: 0, skipped: 0, documents: 0 }, claimed: new Set(), consumed: 0, deadline: input.deadline ?? Infinity };
  try {
    const result = await syncTaskBatchRun(db, input, run);
    return { result, consumed: run.consumed };
  } catch (e) {
    // Sage refused the authorization mid-sync: the tasks this run left processing are marked, so a reconnect releases them at once
    if (e instanceof SageError && e.reconnectRequired) await markTasksHaltedByReconnect(db, input);
    else await handBackAfterFailure(db, input, run, e).catch(() => {}); // the attempt's own error is the one to report
    throw e;
  }
}

/** What one attempt did so far: its counts, the tasks it claimed (set `processing`), how many of its tasks it dealt with, and its time box. */
type RunState = { result: BatchResult; claimed: Set<string>; consumed: number; deadline: number };

const tasksWord = (n: number) => `${n.toLocaleString("en-GB")} ${n === 1 ? "task" : "tasks"}`;

/** What stopped an attempt, and what the reseller can do about it, in the Action Log's words. */
function describeFailure(e: unknown): { cause: string; todo: string; kind: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof SageError && (e.kind === "retryable" || e.kind === "unknown_outcome" || e.kind === "rate_limit")) {
    return {
      kind: e.kind,
      cause: e.kind === "rate_limit" ? `Sage kept asking us to slow down (${message})` : `Sage could not be reached or kept failing (${message})`,
      todo: "The sync is retried automatically; if it keeps failing, check Sage's service status and click Sync all later — nothing is written twice.",
    };
  }
  if (e instanceof SageError) {
    return { kind: e.kind, cause: `Sage refused a request (${message})`, todo: "Check the Sage connection on the dashboard (Test connection), then click Sync all — nothing is written twice." };
  }
  return { kind: "internal", cause: `an internal error stopped it (${message})`, todo: "The sync is retried automatically; if it keeps failing, click Sync all later or contact support with this message — nothing is written twice." };
}

/**
 * An attempt failed (its results recorded up to the error): the tasks it claimed and did not finish
 * go back to `pending` (syncable: Sync all sees them) with the reason, and one Action Log error row
 * says what happened, how far it got and what to do — one transaction. A document whose write was
 * under way keeps its pending marker, so the next attempt looks it up in Sage before writing again.
 */
async function handBackAfterFailure(db: Database, input: { tenantId: string; connectionId: string; taskIds: string[] }, run: RunState, e: unknown) {
  const { cause, todo, kind } = describeFailure(e);
  const total = new Set(input.taskIds).size;
  const reason = `Not synced yet: the last attempt stopped — ${cause}. ${todo}`.slice(0, 2000);
  await db.transaction(async (tx) => {
    const handedBack = run.claimed.size
      ? await tx
          .update(syncTasks)
          .set({ state: "pending", reason, reasonLink: null, lastError: (e instanceof Error ? e.message : String(e)).slice(0, 2000), updatedAt: new Date() })
          .where(and(eq(syncTasks.tenantId, input.tenantId), eq(syncTasks.state, "processing"), sql`${syncTasks.id} = any(${arrayParam([...run.claimed], "uuid")})`))
          .returning({ id: syncTasks.id })
      : [];
    const synced = run.result.synced;
    await tx.insert(actionLog).values({
      tenantId: input.tenantId,
      actorType: SYSTEM_ACTOR.type,
      actorLabel: SYSTEM_ACTOR.label,
      level: "error",
      category: "sync",
      message: `Sync stopped: ${cause}. ${synced} of ${tasksWord(total)} ${synced === 1 ? "was" : "were"} synced and ${synced === 1 ? "is" : "are"} recorded${handedBack.length ? `; ${handedBack.length} ${handedBack.length === 1 ? "is" : "are"} pending again` : ""}. ${todo}`,
      details: redact({ op: "sync_attempt_failed", kind, connectionId: input.connectionId, tasks: total, synced, failed: run.result.failed, actionRequired: run.result.actionRequired, pendingAgain: handedBack.length, documents: run.result.documents }),
    });
  });
}

async function syncTaskBatchRun(db: Database, input: { tenantId: string; connectionId: string; taskIds: string[] }, run: RunState): Promise<BatchResult> {
  const { result } = run;
  if (input.taskIds.length === 0) return result;
  const settings = await getSettings(db, input.tenantId);

  if (settings.invoiceMode === "latest_open") {
    // appending depends on the invoice the previous order left open: one task after the other
    for (const taskId of input.taskIds) {
      if (run.consumed > 0 && Date.now() >= run.deadline) break;
      await syncOneTaskDirect(db, input.tenantId, taskId, run);
      run.consumed++;
    }
    return result;
  }

  // Chunks of tasks, read when they are prepared: while one chunk's documents are written (waiting on
  // Sage), the next chunk is read, planned, claimed and marked (database only). Sage calls stay one at
  // a time. The first chunk is small so the first write starts early.
  const taskIds = [...new Set(input.taskIds)];
  const shared = await resolveSageSide(db, input, taskIds, settings);
  if (!shared) {
    // nothing open: every task found is synced or ignored already
    const [found] = await db.select({ n: sql<number>`count(*)::int` }).from(syncTasks).where(and(eq(syncTasks.tenantId, input.tenantId), sql`${syncTasks.id} = any(${arrayParam(taskIds, "uuid")})`));
    result.skipped += Number(found?.n ?? 0);
    run.consumed = input.taskIds.length;
    return result;
  }
  const chunks: string[][] = [taskIds.slice(0, FIRST_CHUNK)];
  for (let i = FIRST_CHUNK; i < taskIds.length; i += CHUNK) chunks.push(taskIds.slice(i, i + CHUNK));
  // Results are recorded behind the writes (FlushQueue), so no chunk waits for the previous one's.
  // one client and one sender for the whole run: each resolves the connection's rate budget once
  const sage = syncConnection(db, input.connectionId);
  const flushes = new FlushQueue();
  const creditNotes: WrittenCreditNote[] = [];
  let next: Promise<PreparedChunk> | null = prepareChunk(db, input, chunks[0]!, shared, run);
  try {
    for (let i = 0; i < chunks.length; i++) {
      const prepared: PreparedChunk = await next!;
      // past the time box: the chunks not yet prepared are left for the next step, untouched
      next = i + 1 < chunks.length && Date.now() < run.deadline ? prepareChunk(db, input, chunks[i + 1]!, shared, run) : null;
      await writeChunk(db, input, sage, prepared, settings.notifications, result, flushes, creditNotes);
      run.consumed += chunks[i]!.length;
      if (!next) break;
    }
    if (run.consumed >= taskIds.length) run.consumed = input.taskIds.length; // all of them (duplicates in the input included)
  } catch (e) {
    // before the error propagates: the chunk being prepared is claimed or not, and every outcome so far is recorded
    await next?.catch(() => {});
    await flushes.settle();
    throw e;
  }
  await flushes.drain();
  // refunds allocated against the invoices they refund, once every invoice of the run is recorded
  for (const c of creditNotes) await withTraceContext({ taskId: c.taskId }, () => retryInPlace(() => allocateRefundOrSayWhy(db, { tenantId: input.tenantId, connectionId: input.connectionId, ...c })));
  return result;
}

type WrittenCreditNote = { taskId: string; orderId: string; creditNoteId: string; contactId: string; currency: string | null };

/** Database work queued behind the Sage writes, run one after the other; the first failure stops the rest. */
class FlushQueue {
  private tail: Promise<void> = Promise.resolve();
  failure: unknown;
  push(work: () => Promise<void>) {
    this.tail = this.tail.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await work();
      } catch (e) {
        this.failure = e;
      }
    });
  }
  /** wait for everything queued, failure or not */
  settle(): Promise<void> {
    return this.tail;
  }
  /** wait for everything queued; throw the first failure */
  async drain(): Promise<void> {
    await this.tail;
    if (this.failure !== undefined) throw this.failure;
  }
}

const FIRST_CHUNK = 25;
const CHUNK = 200;

type SharedSide = {
  settings: Awaited<ReturnType<typeof getSettings>>;
  contactOf: Map<string, string>;
  contactFailure: Map<string, SageError>;
  /** customers none of whose open tasks can be written yet (a line unmapped…): no contact is created for them */
  contactDeferred: Set<string>;
  /** customers a re-sync review holds (no mapping, no live match, creation held): their tasks wait as action_required */
  contactHeld: Map<string, ResyncHoldError>;
  products: Map<string, MarketplaceProductForPlan>;
  itemMappings: Map<string, SageItemForPlan>;
  itemFailure: Map<string, SageError>;
  /** every product sold in the tasks that were open when the batch started */
  mpnsSeen: Set<string>;
  cancellationFee: SageItemForPlan | null;
  defaults: Awaited<ReturnType<typeof businessDefaults>>;
  taxCaseOfCustomer: Map<string, TaxCase>;
  taxRules: TaxRule[];
  /** the Sage product written to, with what it can do */
  target: { label: string; capabilities: SageCapabilityTable };
};

/** Everything that needs Sage before writing: each customer's contact and each item's details, once (open tasks only). */
async function resolveSageSide(db: Database, input: { tenantId: string; connectionId: string }, taskIds: string[], settings: SharedSide["settings"]): Promise<SharedSide | null> {
  const ctxOf = (t: { id: string; marketplaceOrderId: string }): TaskContext => ({ taskId: t.id, tenantId: input.tenantId, connectionId: input.connectionId, orderId: t.marketplaceOrderId });
  const open = and(eq(syncTasks.tenantId, input.tenantId), sql`${syncTasks.id} = any(${arrayParam(taskIds, "uuid")})`, sql`${syncTasks.state} not in ('synced', 'ignored')`);
  // one task per customer (its context names the customer in the Action Log), and every product sold
  const firstOfCustomer = await db
    .selectDistinctOn([syncTasks.marketplaceCustomerId], { id: syncTasks.id, marketplaceOrderId: syncTasks.marketplaceOrderId, marketplaceCustomerId: syncTasks.marketplaceCustomerId })
    .from(syncTasks)
    .where(open)
    .orderBy(syncTasks.marketplaceCustomerId, syncTasks.createdAt);
  if (firstOfCustomer.length === 0) return null;
  const mpns = (await db.execute(sql`select distinct item->>'mpn' as mpn from ${syncTasks}, jsonb_array_elements(${syncTasks.items}) as item where ${open}`)) as unknown as { rows: { mpn: string | null }[] };
  const customerIds = firstOfCustomer.map((t) => t.marketplaceCustomerId);
  const known = customerIds.length
    ? await db
        .select({ marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId, contactId: customerMappings.sageContactId, raw: marketplaceCustomers.raw })
        .from(marketplaceCustomers)
        .leftJoin(customerMappings, eq(customerMappings.customerId, marketplaceCustomers.id))
        .where(and(eq(marketplaceCustomers.tenantId, input.tenantId), sql`${marketplaceCustomers.marketplaceCustomerId} = any(${arrayParam(customerIds, "text")})`))
    : [];
  const soldMpns = mpns.rows.map((r) => r.mpn).filter((m): m is string => !!m);
  const rows = soldMpns.length
    ? await db
        .select({ product: marketplaceProducts, mapping: productMappings })
        .from(marketplaceProducts)
        .leftJoin(productMappings, eq(productMappings.productId, marketplaceProducts.id))
        .where(and(eq(marketplaceProducts.tenantId, input.tenantId), sql`${marketplaceProducts.mpn} = any(${arrayParam(soldMpns, "text")})`))
    : [];
  const anyCtx = ctxOf(firstOfCustomer[0]!);
  const products = new Map<string, MarketplaceProductForPlan>();
  const itemMappings = new Map<string, SageItemForPlan>();
  const itemFailure = new Map<string, SageError>();
  for (const { product, mapping } of rows) {
    products.set(product.mpn, { name: product.name, description: product.description, unitPrice: product.unitPrice, kind: product.kind });
    if (!mapping || itemMappings.has(product.mpn)) continue;
    try {
      itemMappings.set(product.mpn, await retryInPlace(() => itemDetails(db, anyCtx, mapping)));
    } catch (e) {
      if (e instanceof SageError && e.kind === "not_found") itemFailure.set(product.mpn, e);
      else throw e;
    }
  }
  const [fee] = await db.select().from(feeMappings).where(and(eq(feeMappings.tenantId, input.tenantId), eq(feeMappings.feeKind, "cancellation")));
  const cancellationFee = fee ? await retryInPlace(() => itemDetails(db, anyCtx, fee)) : null;
  const openItems = await db.select({ customer: syncTasks.marketplaceCustomerId, items: syncTasks.items, currency: syncTasks.currency }).from(syncTasks).where(open);
  const readFrom = Date.now();
  let defaults = await retryInPlace(() => businessDefaults(db, input.connectionId));
  // an order in another currency is decided on Sage's current currency settings and rates, not a copy cached before this run
  const foreign = (c: string | null) => !!c && c.toUpperCase() !== defaults.baseCurrency;
  if (openItems.some((t) => foreign(t.currency))) defaults = await retryInPlace(() => businessDefaults(db, input.connectionId, { freshSince: readFrom }));
  const currencyOk = (c: string | null) => !foreign(c) || (defaults.multiCurrency && (defaults.exchangeRates.get(c!.toUpperCase()) ?? 0) > 0);

  // Contacts last, and only for customers with an order that can be written now: nothing — no
  // contact either — goes to Sage for an order whose lines do not all resolve.
  const resolves = (i: TaskItemDelta) => {
    if (i.change === "unchanged") return true;
    if ((i as TaskItemDelta & { invalid?: unknown }).invalid || itemFailure.has(i.mpn)) return false;
    return products.get(i.mpn)?.kind === "fee" ? !!(cancellationFee ?? itemMappings.get(i.mpn)) : itemMappings.has(i.mpn);
  };
  const writable = new Set(openItems.filter((t) => t.items.length > 0 && t.items.every(resolves) && currencyOk(t.currency)).map((t) => t.customer));
  const contactOf = new Map<string, string>();
  for (const k of known) if (k.contactId) contactOf.set(k.marketplaceCustomerId, k.contactId);
  const contactFailure = new Map<string, SageError>();
  const contactDeferred = new Set<string>();
  const contactHeld = new Map<string, ResyncHoldError>();
  for (const first of firstOfCustomer) {
    if (contactOf.has(first.marketplaceCustomerId)) continue;
    if (!writable.has(first.marketplaceCustomerId)) {
      contactDeferred.add(first.marketplaceCustomerId);
      continue;
    }
    try {
      contactOf.set(first.marketplaceCustomerId, (await withTraceContext({ taskId: first.id }, () => retryInPlace(() => ensureSageContact(db, ctxOf(first))))).contactId);
    } catch (e) {
      if (e instanceof SageError && (e.kind === "validation" || e.kind === "not_found")) contactFailure.set(first.marketplaceCustomerId, e);
      else if (e instanceof ResyncHoldError) contactHeld.set(first.marketplaceCustomerId, e);
      else throw e;
    }
  }
  const taxCaseOfCustomer = new Map(known.map((k) => [k.marketplaceCustomerId, taxCaseOf(defaults.businessCountry, k.raw)]));
  const target = await connectionTarget(db, input.connectionId);
  return { target, settings, contactOf, contactFailure, contactDeferred, contactHeld, products, itemMappings, itemFailure, mpnsSeen: new Set(soldMpns), cancellationFee, defaults, taxCaseOfCustomer, taxRules: effectiveTaxRules(settings.taxRules, defaults.businessCountry) };
}

type PreparedChunk = {
  tasks: BatchTask[];
  docs: PlannedDoc[];
  notesOf: Map<string, string[]>;
  failures: { task: BatchTask; error: SageError }[];
  claimIds: string[];
  already: Map<string, { sageId: string; displayedAs: string | null; createdAt: Date }>;
};

/** Plan a chunk, then one statement (one transaction when some need action): the writable ones claimed with their pending markers stored, action_required marked. */
async function prepareChunk(db: Database, input: { tenantId: string; connectionId: string }, taskIds: string[], shared: SharedSide, run: RunState): Promise<PreparedChunk> {
  const { result } = run;
  const read = await db.select(BATCH_TASK_COLUMNS).from(syncTasks).where(and(eq(syncTasks.tenantId, input.tenantId), sql`${syncTasks.id} = any(${arrayParam(taskIds, "uuid")})`));
  const position = new Map(taskIds.map((id, i) => [id, i]));
  const tasks = read
    .filter((t) => {
      const open = t.state !== "synced" && t.state !== "ignored";
      if (!open) result.skipped++;
      return open;
    })
    .sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  const ctxOf = (t: BatchTask): TaskContext => ({ taskId: t.id, tenantId: input.tenantId, connectionId: input.connectionId, orderId: t.marketplaceOrderId });
  const docs: PlannedDoc[] = [];
  const notesOf = new Map<string, string[]>();
  const failures: { task: BatchTask; error: SageError }[] = [];
  const actionRequired: { task: BatchTask; reason: string; link: string | null; unmapped: string[] }[] = [];
  for (const task of tasks) {
    // opened after this batch looked at its customers and products (un-ignored meanwhile): next sync
    const customerKnown = shared.contactOf.has(task.marketplaceCustomerId) || shared.contactFailure.has(task.marketplaceCustomerId) || shared.contactDeferred.has(task.marketplaceCustomerId) || shared.contactHeld.has(task.marketplaceCustomerId);
    if (!customerKnown || task.items.some((i) => !shared.mpnsSeen.has(i.mpn))) {
      result.skipped++;
      continue;
    }
    const contactError = shared.contactFailure.get(task.marketplaceCustomerId);
    const itemError = task.items.map((i) => shared.itemFailure.get(i.mpn)).find(Boolean);
    if (contactError || itemError) {
      failures.push({ task, error: (contactError ?? itemError)! });
      continue;
    }
    const plan = planSync({
      target: shared.target,
      orderId: task.marketplaceOrderId,
      orderType: task.orderType,
      items: task.items,
      settings: shared.settings,
      products: shared.products,
      itemMappings: shared.itemMappings,
      cancellationFee: shared.cancellationFee,
      taxRates: shared.defaults.taxRates,
      defaults: shared.defaults,
      currency: currencyForPlan(shared.defaults, task.currency),
      tax: { businessCountry: shared.defaults.businessCountry, rules: shared.taxRules, customer: shared.taxCaseOfCustomer.get(task.marketplaceCustomerId) ?? taxCaseOf(shared.defaults.businessCountry, {}) },
    });
    if (plan.kind === "action_required") {
      actionRequired.push({ task, ...plan });
      continue;
    }
    const held = shared.contactHeld.get(task.marketplaceCustomerId);
    if (held) {
      actionRequired.push({ task, reason: held.reason, link: RESYNC_REVIEW_LINK, unmapped: [] });
      continue;
    }
    const contactId = shared.contactOf.get(task.marketplaceCustomerId);
    if (!contactId) {
      // no contact was made for this customer (none of its orders looked writable): the next sync
      result.skipped++;
      continue;
    }
    notesOf.set(task.id, plan.notes);
    for (const [kind, lines] of [["sales_invoice", plan.invoiceLines], ["sales_credit_note", plan.creditNoteLines]] as const) {
      if (lines.length === 0) continue;
      const refunds = kind === "sales_credit_note" ? await refundedInvoiceOf(db, { tenantId: input.tenantId, connectionId: input.connectionId, taskId: task.id, currency: task.currency }) : null;
      docs.push({ task, ctx: ctxOf(task), kind, lines, exchangeRate: plan.exchangeRate, timeZone: shared.defaults.timeZone, contactId, idempotencyId: idempotencyIds.document(input.tenantId, task.id, kind), resume: false, refunds });
    }
  }
  const claimIds = tasks.filter((t) => notesOf.has(t.id)).map((t) => t.id);
  let already = new Map<string, ExistingMarker>();
  // the claims and the pending markers in ONE statement (atomic on its own): no transaction holds the
  // database connection — on PGlite the only one — while the writes of the chunk before wait for it
  const markers = docs.map((d) => ({ taskId: d.task.id, kind: d.kind, reference: d.task.marketplaceOrderId, idempotencyId: d.idempotencyId, currency: d.task.currency, billingPeriod: d.task.billingPeriod, contactId: d.contactId }));
  const claimAndMark = (q: Queryable) => storePendingMarkers(q, input, markers, claimIds);
  const markedIds =
    actionRequired.length === 0
      ? await claimAndMark(db)
      : await db.transaction(async (tx) => {
          const ids = await claimAndMark(tx);
          for (const a of actionRequired) {
            await tx.update(syncTasks).set({ state: "action_required", reason: a.reason, reasonLink: a.link, updatedAt: new Date() }).where(eq(syncTasks.id, a.task.id));
          }
          await tx.insert(actionLog).values(
            actionRequired.map((a) => ({ tenantId: input.tenantId, actorType: SYSTEM_ACTOR.type, actorLabel: SYSTEM_ACTOR.label, level: "action_required" as const, category: "sync" as const, message: `Order ${a.task.marketplaceOrderId}: ${a.reason}`, details: { link: a.link, unmapped: a.unmapped }, taskId: a.task.id })),
          );
          return ids;
        });
  if (markedIds.length < docs.length) {
    // markers that already existed (an earlier attempt) are read back: written ones are adopted, pending ones looked up
    const fresh = new Set(markedIds);
    already = await existingMarkers(db, docs.filter((d) => !fresh.has(d.idempotencyId)).map((d) => d.idempotencyId));
  }
  for (const id of claimIds) run.claimed.add(id);
  for (const d of docs) d.resume = already.has(d.idempotencyId);
  result.actionRequired += actionRequired.length;
  return { tasks, docs, notesOf, failures, claimIds, already };
}

/** Write a prepared chunk's documents (a few at once, each customer's in order); results are recorded in the background every FLUSH_EVERY. */
async function writeChunk(
  db: Database,
  input: { tenantId: string; connectionId: string },
  sage: SageConnectionApi,
  chunk: PreparedChunk,
  notifications: "errors_and_actions" | "all_tasks",
  result: BatchResult,
  flushes: FlushQueue,
  creditNotes: WrittenCreditNote[],
) {
  const { docs, already, notesOf, claimIds, tasks } = chunk;
  await adoptInterruptedWrites(sage, docs, already);
  const progress: Progress = {
    outcomes: [],
    failures: chunk.failures,
    recorded: new Set(),
    completed: new Set(),
    refused: new Set(),
    docsByTask: new Map(claimIds.map((id) => [id, docs.filter((d) => d.task.id === id).map((d) => d.idempotencyId)])),
    tasks: new Map(tasks.map((t) => [t.id, t])),
  };
  // flushes run behind the writes (database work while the next call waits on Sage), in order
  // (at most one queued per chunk: when it runs it takes every outcome gathered until then)
  let queued = false;
  const flush = () => {
    if (queued) return;
    queued = true;
    flushes.push(() => {
      queued = false;
      return recordProgress(db, input.tenantId, progress, notesOf, notifications, result);
    });
  };
  let lastFlushAt = Date.now();
  const refusedHere = new Set<string>();
  // Sage's 2xx answer means the document exists; the answer's body (its id and number) is read while
  // the next call goes out. A body that cannot be read sends the document back for a look-up.
  const reading: Promise<void>[] = [];
  const unread: PlannedDoc[] = [];
  const wrote = (doc: PlannedDoc, written: WrittenDocument) => {
    progress.outcomes.push({ doc, written });
    if (doc.kind === "sales_credit_note") creditNotes.push({ taskId: doc.task.id, orderId: doc.task.marketplaceOrderId, creditNoteId: written.sageId, contactId: doc.contactId, currency: doc.task.currency });
  };
  const writeOne = async (doc: PlannedDoc) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const w = await writeDocument(sage, doc);
        if ("written" in w) wrote(doc, w.written);
        else
          reading.push(
            readCreated(doc, w.answer).then(
              (written) => void wrote(doc, written),
              () => void unread.push(doc),
            ),
          );
        return;
      } catch (e) {
        if (e instanceof SageError && (e.kind === "validation" || e.kind === "not_found")) {
          progress.outcomes.push({ doc, refused: e });
          refusedHere.add(doc.task.id);
          return;
        }
        // outcome unknown or Sage unavailable: look it up, then write again, a few times in place
        if (e instanceof SageError && (e.kind === "unknown_outcome" || e.kind === "retryable" || e.kind === "rate_limit") && attempt < DOC_ATTEMPTS) {
          doc.resume = true;
          await sleep(Math.min(2_000, 25 * 2 ** attempt));
          continue;
        }
        throw e;
      }
    }
  };
  // Up to SAGE_WRITES_IN_FLIGHT documents are written at once (each call still waits for the rate
  // budget); one customer's documents go one after the other, in order (a task's credit note after its
  // invoice, a customer's orders in the order they came). The first error stops new writes; the ones
  // under way finish (and are recorded), then it is thrown.
  const inFlightLimit = getConfig().sage.writesInFlight;
  const inFlight = new Set<Promise<void>>();
  const lastOfCustomer = new Map<string, Promise<void>>();
  let stopped: { error: unknown } | undefined;
  const afterWrite = () => {
    // recorded every FLUSH_EVERY documents, and at least every FLUSH_INTERVAL_MS: progress is what is recorded
    if (progress.outcomes.length >= FLUSH_EVERY || (progress.outcomes.length > 0 && Date.now() - lastFlushAt >= FLUSH_INTERVAL_MS)) {
      lastFlushAt = Date.now();
      flush();
    }
  };
  try {
    for (const doc of docs) {
      if (flushes.failure !== undefined || stopped) break; // recording failed or a write threw: stop writing, the run is retried
      if (refusedHere.has(doc.task.id)) continue;
      const prior = already.get(doc.idempotencyId);
      if (prior && prior.sageId) {
        wrote(doc, writtenAs(doc, prior.sageId, prior.displayedAs));
        continue;
      }
      while (inFlight.size >= inFlightLimit) await Promise.race(inFlight);
      if (flushes.failure !== undefined || stopped) break;
      const customer = doc.task.marketplaceCustomerId;
      const previous = lastOfCustomer.get(customer);
      const write: Promise<void> = (async () => {
        if (previous) await previous;
        if (stopped || refusedHere.has(doc.task.id)) return;
        await withTraceContext({ taskId: doc.task.id }, () => writeOne(doc));
        afterWrite();
      })().catch((e: unknown) => {
        stopped ??= { error: e };
      });
      inFlight.add(write);
      lastOfCustomer.set(customer, write);
      void write.then(() => {
        inFlight.delete(write);
        if (lastOfCustomer.get(customer) === write) lastOfCustomer.delete(customer);
      });
    }
    await Promise.all(inFlight);
    if (stopped) throw stopped.error;
    await Promise.all(reading.splice(0));
    for (const doc of unread.splice(0)) {
      doc.resume = true;
      await withTraceContext({ taskId: doc.task.id }, () => writeOne(doc));
      await Promise.all(reading.splice(0));
    }
  } finally {
    await Promise.allSettled(reading);
    flush(); // the rest of this chunk, recorded while the next chunk is written
  }
}

/** The id and number of a document Sage has just created, from its answer. */
async function readCreated(doc: PlannedDoc, answer: SageCreatedAnswer): Promise<WrittenDocument> {
  const created = await answer.read();
  return writtenAs(doc, created.id, created.displayedAs);
}

/** A planned document as written in Sage under `sageId`. */
function writtenAs(doc: PlannedDoc, sageId: string, displayedAs: string | null): WrittenDocument {
  return { kind: doc.kind, sageId, displayedAs, total: documentTotals(doc.lines).total };
}

type Progress = {
  outcomes: Outcome[];
  failures: { task: BatchTask; error: SageError }[];
  /** idempotency ids whose Sage id is stored */
  recorded: Set<string>;
  completed: Set<string>;
  refused: Set<string>;
  docsByTask: Map<string, string[]>;
  tasks: Map<string, BatchTask>;
};

/**
 * Documents whose pending marker survived an interrupted attempt may or may not exist in Sage.
 * One listing of what was created since the oldest such marker (./documents.ts) tells which: found
 * ones are adopted, the rest are written normally.
 */
async function adoptInterruptedWrites(sage: SageConnectionApi, docs: PlannedDoc[], already: Map<string, ExistingMarker>) {
  const resumed = docs.filter((d) => d.resume && !already.get(d.idempotencyId)?.sageId);
  if (resumed.length === 0) return;
  const found = await findInterruptedWrites(
    sage,
    resumed.map((d) => ({ kind: d.kind, reference: d.task.marketplaceOrderId, contactId: d.contactId, idempotencyId: d.idempotencyId, markedAt: already.get(d.idempotencyId)!.createdAt })),
    retryInPlace,
  );
  for (const d of resumed) {
    const hit = found.get(d.idempotencyId);
    if (hit) already.set(d.idempotencyId, { sageId: hit.sageId, displayedAs: hit.displayedAs, createdAt: new Date() });
    d.resume = false; // the listing is authoritative: not there means not written
  }
}

/** Write one document: what an earlier attempt created (found by reference), or Sage's 2xx answer to a create. */
async function writeDocument(sage: SageConnectionApi, doc: PlannedDoc): Promise<{ written: WrittenDocument } | { answer: SageCreatedAnswer }> {
  if (doc.resume) {
    // an earlier attempt may have created it: look before writing again
    const found = await findWrittenDocument(sage, { kind: doc.kind, reference: doc.task.marketplaceOrderId, contactId: doc.contactId });
    if (found) return { written: writtenAs(doc, found.id, found.displayedAs) };
  }
  const draft = documentDraft({ kind: doc.kind, contactId: doc.contactId, reference: doc.task.marketplaceOrderId, currency: doc.task.currency, exchangeRate: doc.exchangeRate, timeZone: doc.timeZone, lines: doc.lines, idempotencyId: doc.idempotencyId, refunds: doc.refunds });
  return { answer: await sage.createDocument(draft) };
}

/** One statement (a transaction with their Action Log rows when every task is notified): Sage ids stored, finished tasks synced; then refusals failed. */
async function recordProgress(db: Database, tenantId: string, p: Progress, notesOf: Map<string, string[]>, notifications: "errors_and_actions" | "all_tasks", result: BatchResult) {
  const outcomes = p.outcomes.splice(0);
  const failures = p.failures.splice(0);
  const written = outcomes.filter((o) => o.written);
  const refusals = new Map<string, SageError>();
  for (const o of outcomes) if (o.refused) refusals.set(o.doc.task.id, o.refused);
  for (const f of failures) refusals.set(f.task.id, f.error);
  for (const id of refusals.keys()) p.refused.add(id);
  const recordedNow = new Set(written.map((o) => o.doc.idempotencyId));
  const done = [...p.docsByTask.entries()]
    .filter(([id, keys]) => !p.completed.has(id) && !p.refused.has(id) && keys.every((k) => p.recorded.has(k) || recordedNow.has(k)))
    .map(([id]) => id);
  if (written.length === 0 && done.length === 0 && refusals.size === 0) return;
  // one statement: the Sage ids stored and every finished task synced (with its planner notes, if
  // any, as the reason) — atomic on its own, so no transaction holds the connection between them
  const now = new Date();
  const reasons = done.map((id) => (notesOf.get(id) ?? []).join("; ") || null);
  const records = written.map((o) => ({ idempotencyId: o.doc.idempotencyId, sageId: o.written!.sageId, displayedAs: o.written!.displayedAs, contactId: o.doc.contactId, total: o.written!.total }));
  const recordAndFinish = sql`
    with recorded as (${recordWrittenStatement(records)}
      returning 1
    )
    update ${syncTasks} set state = 'synced', synced_at = ${now}, reason = v.reason, reason_link = null, last_error = null, updated_at = ${now}
    from unnest(${arrayParam(done, "uuid")}, ${arrayParam(reasons, "text")}) as v(id, reason)
    where ${syncTasks.id} = v.id`;
  if (notifications !== "all_tasks" || done.length === 0) {
    if (written.length || done.length) await db.execute(recordAndFinish);
  } else {
    // a success row per finished task in the Action Log, in the same transaction
    await db.transaction(async (tx) => {
      await tx.execute(recordAndFinish);
      const byTask = new Map<string, WrittenDocument[]>();
      for (const o of written) byTask.set(o.doc.task.id, [...(byTask.get(o.doc.task.id) ?? []), o.written!]);
      await tx.insert(actionLog).values(
        done.map((id) => {
          const task = p.tasks.get(id)!;
          const what = (byTask.get(id) ?? []).map((d) => describeWritten(d, task.currency)).join(", ") || (notesOf.get(id) ?? []).join("; ") || "nothing to write";
          return { tenantId, actorType: SYSTEM_ACTOR.type, actorLabel: SYSTEM_ACTOR.label, level: "success" as const, category: "sync" as const, message: `Order ${task.marketplaceOrderId} synced: ${what}`, details: redact({ documents: byTask.get(id) ?? [] }), taskId: id };
        }),
      );
    });
  }
  for (const k of recordedNow) p.recorded.add(k);
  for (const id of done) p.completed.add(id);
  result.synced += done.length;
  result.documents += written.length;
  for (const [taskId, error] of refusals) {
    const task = p.tasks.get(taskId)!;
    await failTaskSync(db, { taskId, tenantId, orderId: task.marketplaceOrderId }, { kind: error.kind, message: error.message, details: error.details });
    result.failed++;
  }
}

/** The per-task flow, run directly (used for modes that must go one task at a time). */
async function syncOneTaskDirect(db: Database, tenantId: string, taskId: string, run: RunState) {
  return withTraceContext({ taskId }, () => syncOneTaskDirectTraced(db, tenantId, taskId, run));
}

async function syncOneTaskDirectTraced(db: Database, tenantId: string, taskId: string, run: RunState) {
  const { result } = run;
  const begin = await beginTaskSync(db, { tenantId, taskId });
  if (!begin.proceed) {
    if (begin.state === "action_required") result.actionRequired++;
    else result.skipped++;
    return;
  }
  const ctx = begin.ctx;
  run.claimed.add(taskId);
  try {
    // each step is idempotent (matches, or looks a pending write up, before writing): repeated in place
    // the plan first: an order whose lines do not all resolve writes nothing, not even the contact
    const plan = await retryInPlace(() => planTaskSync(db, ctx));
    if (plan.kind === "action_required") {
      result.actionRequired++;
      return;
    }
    const contact = await retryInPlace(() => ensureSageContactOrHold(db, ctx));
    if ("held" in contact) {
      result.actionRequired++;
      return;
    }
    const { contactId } = contact;
    const invoice = await retryInPlace(() => writeTaskInvoice(db, ctx, contactId, plan));
    const credit = await retryInPlace(() => writeTaskCreditNote(db, ctx, contactId, plan));
    if (credit) await retryInPlace(() => allocateRefundOrSayWhy(db, { tenantId, connectionId: ctx.connectionId, taskId, orderId: ctx.orderId, creditNoteId: credit.sageId, contactId, currency: plan.currency }));
    const documents = [invoice, credit].filter((d): d is WrittenDocument => d !== null);
    await completeTaskSync(db, ctx, { documents, notes: plan.notes, currency: plan.currency });
    result.synced++;
    result.documents += documents.length;
  } catch (e) {
    if (e instanceof SageError && (e.kind === "validation" || e.kind === "not_found")) {
      await failTaskSync(db, ctx, { kind: e.kind, message: e.message, details: e.details });
      result.failed++;
      return;
    }
    throw e;
  }
}
