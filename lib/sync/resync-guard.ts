import { and, asc, count, eq, gt, gte, inArray, isNotNull, isNull, like, sql } from "drizzle-orm";
import type { Database, Queryable } from "@/db/client";
import {
  connections,
  customerMappings,
  marketplaceCustomers,
  resyncReviewCustomers,
  resyncReviews,
  RESYNC_HOLDING_STATUSES,
  sageContacts,
  sageDocuments,
  syncTasks,
  type ResyncMatchBy,
  type ResyncReview,
  type ResyncReviewStatus,
} from "@/db/schema";
import { sageConnection } from "@/lib/connections/sage-session";
import { SYSTEM_ACTOR, writeActionLog, type Actor } from "@/lib/log/action-log";
import { contactCacheValues, upsertCachedContacts } from "@/lib/sage-catalog/refresh";
import { getSageTarget } from "@/lib/sage/targets";
import type { SageContactRecord } from "@/lib/sage/target";
import { contactDirectory, findOrCreateSageContact, matchSageContact } from "./contacts";
import { idempotencyIds } from "./documents";

/**
 * Re-sync guard. A (re)connect that finds no Sage contact id on any customer mapping of a tenant
 * that synced before would have the next sync create a Sage contact for every customer it cannot
 * match live — possibly a second one of a contact the reseller's books already hold. So instead:
 *
 * 1. the connect opens a re-sync review (`openResyncReviewIfNeeded`, in the connect transaction);
 * 2. a flow reads the business's customer contacts in bounded pages and matches every marketplace
 *    customer with the one matcher (lib/sync/contacts.ts) against what it read; matches become
 *    mappings at once (nothing is ever created for them), the rest "would be created";
 * 3. while the review is checking or awaiting the reseller's decision, the sync creates no contact
 *    for the tenant: a task whose customer has no mapping and no live match waits as
 *    `action_required` (reason + link to the review); tasks of mapped or matched customers sync;
 * 4. the reseller confirms ("Create the N missing contacts and sync"; support never can): the
 *    missing contacts are created exactly once (idempotency ids, match before create), the held
 *    tasks go back to pending and one sync batch takes them.
 */

export const RESYNC_REVIEW_LINK = "/mapping/customers";
/** the reason of a task held by the review starts with this (released by `reason like …%`) */
export const RESYNC_HOLD_PREFIX = "Waiting for the re-sync review:";
const CUSTOMERS_PER_STEP = 200;
const CONTACTS_PER_PAGE = 200;
/** creates per step of the confirmed review (each a look-up and at most one create) */
export const CREATES_PER_STEP = 25;

export class ResyncReviewError extends Error {
  constructor(
    readonly reason: "support_refused" | "no_review" | "not_awaiting" | "not_connected",
    message: string,
    /** the HTTP status a route answers with */
    readonly status: 403 | 404 | 409,
  ) {
    super(message);
  }
}

/** Thrown by the sync's contact step: this customer would get a new Sage contact while a review holds creation. */
export class ResyncHoldError extends Error {
  constructor(
    readonly reviewId: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-GB")} ${n === 1 ? one : many}`;

/** Why a task waits: said per customer, with where to decide. */
export function resyncHoldReason(customerName: string, businessName: string | null): string {
  return `${RESYNC_HOLD_PREFIX} ${customerName} has no Sage contact in ${businessName ?? "the connected business"} yet. Nothing is created until you confirm "Create the missing contacts and sync" on Mapping → Customers.`;
}

// ─── 1. detection ────────────────────────────────────────────────────────────────────────────

/**
 * In the transaction that (re)connects a connection or selects its business: open a re-sync review
 * when the tenant has marketplace customers, wrote to Sage before (sage_documents or synced tasks),
 * and no customer mapping carries a Sage contact id. An active review of another connection or
 * business is superseded; one already checking this business is kept (its id returned so the flow
 * is asked again — its steps are idempotent). Returns the review id to start the flow for, or null.
 */
export async function openResyncReviewIfNeeded(tx: Queryable, input: { tenantId: string; connectionId: string; actor: Actor }): Promise<string | null> {
  const [conn] = await tx.select().from(connections).where(and(eq(connections.id, input.connectionId), eq(connections.tenantId, input.tenantId)));
  if (!conn?.businessId || conn.status !== "connected") return null;
  let exchange: string;
  try {
    exchange = getSageTarget(conn.target).exchange;
  } catch {
    return null;
  }
  // a file-exchange target (Sage 50 Cloud) matches contacts from its Customers file, not this flow
  if (exchange !== "api") return null;
  const [customers] = await tx.select({ n: count() }).from(marketplaceCustomers).where(eq(marketplaceCustomers.tenantId, input.tenantId));
  if (!customers || customers.n === 0) return null;
  const [mapped] = await tx.select({ n: count() }).from(customerMappings).where(and(eq(customerMappings.tenantId, input.tenantId), isNotNull(customerMappings.sageContactId)));
  if ((mapped?.n ?? 0) > 0) return null;
  const [wrote] = await tx.select({ id: sageDocuments.id }).from(sageDocuments).where(eq(sageDocuments.tenantId, input.tenantId)).limit(1);
  const [synced] = wrote ? [wrote] : await tx.select({ id: syncTasks.id }).from(syncTasks).where(and(eq(syncTasks.tenantId, input.tenantId), eq(syncTasks.state, "synced"))).limit(1);
  if (!synced) return null;

  const [active] = await tx
    .select()
    .from(resyncReviews)
    .where(and(eq(resyncReviews.tenantId, input.tenantId), inArray(resyncReviews.status, ["checking", "awaiting_confirmation", "creating"])))
    .for("update");
  if (active) {
    if (active.connectionId === conn.id && active.businessId === conn.businessId) return active.status === "checking" ? active.id : null;
    await tx.update(resyncReviews).set({ status: "superseded", finishedAt: new Date(), updatedAt: new Date() }).where(eq(resyncReviews.id, active.id));
  }
  const [review] = await tx
    .insert(resyncReviews)
    .values({ tenantId: input.tenantId, connectionId: conn.id, businessId: conn.businessId, businessName: conn.businessName, status: "checking", customersTotal: customers.n, startedBy: input.actor.label })
    .returning({ id: resyncReviews.id });
  const business = conn.businessName ?? conn.businessId;
  await writeActionLog(tx, {
    tenantId: input.tenantId,
    actor: input.actor,
    level: "warning",
    category: "sync",
    message: `Reconnected to ${business}: no customer carries a Sage contact id, so the existing Sage contacts of ${business} are checked against ${plural(customers.n, "marketplace customer")} before any contact is created. New Sage contacts wait for your confirmation (Mapping → Customers).`,
    details: { op: "resync_review_started", reviewId: review!.id, connectionId: conn.id, businessId: conn.businessId, customers: customers.n, superseded: active?.id ?? null },
  });
  return review!.id;
}

// ─── 2. the hold ─────────────────────────────────────────────────────────────────────────────

export type ResyncHold = { reviewId: string; businessName: string | null; status: ResyncReviewStatus };

/** The review that holds contact creation for the tenant (checking or awaiting confirmation), if any. */
export async function resyncHold(q: Queryable, tenantId: string): Promise<ResyncHold | null> {
  const [row] = await q
    .select({ reviewId: resyncReviews.id, businessName: resyncReviews.businessName, status: resyncReviews.status })
    .from(resyncReviews)
    .where(and(eq(resyncReviews.tenantId, tenantId), inArray(resyncReviews.status, [...RESYNC_HOLDING_STATUSES])))
    .limit(1);
  return row ?? null;
}

/** A task the hold stopped: action_required with the reason and the link to the review, and its Action Log row. */
export async function holdTaskForResync(db: Database, input: { tenantId: string; taskId: string; orderId: string; hold: ResyncHoldError }) {
  await db.transaction(async (tx) => {
    await tx.update(syncTasks).set({ state: "action_required", reason: input.hold.reason, reasonLink: RESYNC_REVIEW_LINK, updatedAt: new Date() }).where(and(eq(syncTasks.id, input.taskId), eq(syncTasks.tenantId, input.tenantId)));
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: SYSTEM_ACTOR,
      level: "action_required",
      category: "sync",
      message: `Order ${input.orderId}: ${input.hold.reason}`,
      details: { op: "resync_hold", reviewId: input.hold.reviewId, link: RESYNC_REVIEW_LINK },
      taskId: input.taskId,
    });
  });
}

// ─── 3. the check (the flow's steps) ─────────────────────────────────────────────────────────

async function loadReview(q: Queryable, reviewId: string): Promise<ResyncReview | null> {
  const [row] = await q.select().from(resyncReviews).where(eq(resyncReviews.id, reviewId));
  return row ?? null;
}

/**
 * One page of the business's customer contacts into the mapping cache (the same rows Refresh from
 * Sage writes), stamped now: the match step uses only rows this review read. `hasMore` → next page.
 */
export async function readResyncContactsPage(db: Database, input: { reviewId: string; page: number }): Promise<{ hasMore: boolean; read: number }> {
  const review = await loadReview(db, input.reviewId);
  if (!review || review.status !== "checking") return { hasMore: false, read: 0 };
  const page = await sageConnection(db, review.connectionId).listCustomerContactsPage(input.page, CONTACTS_PER_PAGE);
  const at = new Date();
  const read = (input.page - 1) * CONTACTS_PER_PAGE + page.contacts.length;
  await db.transaction(async (tx) => {
    await upsertCachedContacts(tx, page.contacts.map((c) => contactCacheValues(review.tenantId, review.connectionId, c, at)));
    await tx.update(resyncReviews).set({ contactsRead: read, updatedAt: at }).where(eq(resyncReviews.id, review.id));
  });
  return { hasMore: page.hasMore && page.contacts.length > 0, read };
}

const byWords: Record<ResyncMatchBy, string> = { stored_id: "their mapping", email: "e-mail", reference: "reference", name: "name" };

/**
 * Match the next CUSTOMERS_PER_STEP marketplace customers (by id, after `after`) with the one
 * matcher against the contacts this review read; a match becomes the customer's mapping (unless one
 * was set meanwhile — the sync's live match or the reseller — which is then what counts). Every
 * customer gets its outcome row; counters and one Action Log row per step. Idempotent (a retried
 * step finds its rows). `next` = the id to continue after, null when every customer is checked.
 */
export async function matchResyncCustomers(db: Database, input: { reviewId: string; after: string | null }): Promise<{ next: string | null }> {
  const review = await loadReview(db, input.reviewId);
  if (!review || review.status !== "checking") return { next: null };
  const batch = await db
    .select({
      id: marketplaceCustomers.id,
      name: marketplaceCustomers.name,
      email: marketplaceCustomers.email,
      currency: marketplaceCustomers.currency,
      marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId,
      raw: marketplaceCustomers.raw,
      sageContactId: customerMappings.sageContactId,
      sageContactName: customerMappings.sageContactName,
    })
    .from(marketplaceCustomers)
    .leftJoin(customerMappings, and(eq(customerMappings.tenantId, marketplaceCustomers.tenantId), eq(customerMappings.customerId, marketplaceCustomers.id)))
    .where(and(eq(marketplaceCustomers.tenantId, review.tenantId), input.after ? gt(marketplaceCustomers.id, input.after) : undefined))
    .orderBy(asc(marketplaceCustomers.id))
    .limit(CUSTOMERS_PER_STEP);
  if (batch.length === 0) return { next: null };
  const cached = await db
    .select()
    .from(sageContacts)
    .where(and(eq(sageContacts.connectionId, review.connectionId), gte(sageContacts.refreshedAt, review.createdAt), isNull(sageContacts.deletedInSageAt)));
  const directory = contactDirectory(cached.map((c): SageContactRecord => ({ id: c.sageId, displayedAs: c.name, name: c.name, reference: c.reference, email: c.email, currency: c.currency })));
  const outcomes: { customerId: string; name: string; outcome: "matched" | "create"; by: ResyncMatchBy | null; sageContactId: string | null; sageContactName: string | null }[] = [];
  for (const c of batch) {
    if (c.sageContactId) {
      outcomes.push({ customerId: c.id, name: c.name, outcome: "matched", by: "stored_id", sageContactId: c.sageContactId, sageContactName: c.sageContactName });
      continue;
    }
    const match = await matchSageContact(directory, { name: c.name, email: c.email, currency: c.currency, marketplaceCustomerId: c.marketplaceCustomerId, raw: c.raw }, { byName: directory.findContactsByName });
    outcomes.push(
      match
        ? { customerId: c.id, name: c.name, outcome: "matched", by: match.by, sageContactId: match.contact.id, sageContactName: match.contact.name ?? match.contact.displayedAs }
        : { customerId: c.id, name: c.name, outcome: "create", by: null, sageContactId: null, sageContactName: null },
    );
  }
  await db.transaction(async (tx) => {
    const fresh = await tx
      .insert(resyncReviewCustomers)
      .values(outcomes.map((o) => ({ reviewId: review.id, tenantId: review.tenantId, customerId: o.customerId, outcome: o.outcome, matchedBy: o.by, sageContactId: o.sageContactId, sageContactName: o.sageContactName })))
      .onConflictDoNothing()
      .returning({ customerId: resyncReviewCustomers.customerId });
    const isFresh = new Set(fresh.map((f) => f.customerId));
    const now = new Date();
    for (const o of outcomes) {
      if (!isFresh.has(o.customerId) || o.outcome !== "matched" || o.by === "stored_id") continue;
      await tx
        .insert(customerMappings)
        .values({ tenantId: review.tenantId, customerId: o.customerId, sageContactId: o.sageContactId, sageContactName: o.sageContactName, mappedAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: [customerMappings.tenantId, customerMappings.customerId],
          set: { sageContactId: o.sageContactId, sageContactName: o.sageContactName, mappedAt: now, updatedAt: now },
          setWhere: isNull(customerMappings.sageContactId),
        });
    }
    const [totals] = await tx
      .select({ checked: count(), matched: sql<number>`count(*) filter (where ${resyncReviewCustomers.outcome} = 'matched')::int`, toCreate: sql<number>`count(*) filter (where ${resyncReviewCustomers.outcome} = 'create')::int` })
      .from(resyncReviewCustomers)
      .where(eq(resyncReviewCustomers.reviewId, review.id));
    await tx.update(resyncReviews).set({ customersChecked: totals!.checked, matched: totals!.matched, toCreate: totals!.toCreate, updatedAt: now }).where(eq(resyncReviews.id, review.id));
    const done = outcomes.filter((o) => isFresh.has(o.customerId));
    if (done.length > 0) {
      const matched = done.filter((o) => o.outcome === "matched");
      const ways = (Object.keys(byWords) as ResyncMatchBy[]).map((k) => [k, matched.filter((m) => m.by === k).length] as const).filter(([, n]) => n > 0);
      await writeActionLog(tx, {
        tenantId: review.tenantId,
        actor: SYSTEM_ACTOR,
        level: "info",
        category: "mapping",
        message: `Re-sync review of ${review.businessName ?? review.businessId}: ${totals!.checked} of ${review.customersTotal} customers checked — ${plural(matched.length, "customer")} of this step matched to existing Sage contacts${ways.length ? ` (${ways.map(([k, n]) => `${n} by ${byWords[k]}`).join(", ")})` : ""}, ${done.length - matched.length} without a Sage contact`,
        details: { op: "resync_review_match", reviewId: review.id, matches: matched.slice(0, 500).map((m) => ({ customerId: m.customerId, sageContactId: m.sageContactId, by: m.by })), toCreate: done.filter((o) => o.outcome === "create").slice(0, 500).map((o) => o.customerId) },
      });
    }
  });
  return { next: batch.length < CUSTOMERS_PER_STEP ? null : batch[batch.length - 1]!.id };
}

/** Every customer checked: awaiting the reseller's decision when some have no Sage contact, else done (the hold lifts). */
export async function finishResyncCheck(db: Database, reviewId: string): Promise<{ status: ResyncReviewStatus | null }> {
  return db.transaction(async (tx) => {
    const [review] = await tx.select().from(resyncReviews).where(eq(resyncReviews.id, reviewId)).for("update");
    if (!review || review.status !== "checking") return { status: review?.status ?? null };
    const status = review.toCreate > 0 ? ("awaiting_confirmation" as const) : ("completed" as const);
    const now = new Date();
    await tx.update(resyncReviews).set({ status, finishedAt: status === "completed" ? now : null, updatedAt: now }).where(eq(resyncReviews.id, review.id));
    const business = review.businessName ?? review.businessId;
    await writeActionLog(tx, {
      tenantId: review.tenantId,
      actor: SYSTEM_ACTOR,
      level: status === "completed" ? "success" : "action_required",
      category: "mapping",
      message:
        status === "completed"
          ? `Re-sync review of ${business} done: all ${plural(review.matched, "customer")} matched to existing Sage contacts; no contact will be created. Syncing goes on as usual.`
          : `Re-sync review of ${business}: ${plural(review.matched, "customer")} matched to existing Sage contacts, ${plural(review.toCreate, "customer")} have none. Confirm "Create the ${review.toCreate} missing contacts and sync" on Mapping → Customers; until then no Sage contact is created.`,
      details: { op: "resync_review_checked", reviewId: review.id, matched: review.matched, toCreate: review.toCreate, contactsRead: review.contactsRead, link: RESYNC_REVIEW_LINK },
    });
    return { status };
  });
}

/** The flow ran out of retries: the error is kept and shown; the hold stays (nothing is created unseen), the reseller can still confirm. */
export async function failResyncCheck(db: Database, reviewId: string, message: string) {
  await db.transaction(async (tx) => {
    const [review] = await tx.select().from(resyncReviews).where(eq(resyncReviews.id, reviewId)).for("update");
    if (!review || review.status !== "checking") return;
    await tx.update(resyncReviews).set({ status: "awaiting_confirmation", lastError: message, updatedAt: new Date() }).where(eq(resyncReviews.id, review.id));
    await writeActionLog(tx, {
      tenantId: review.tenantId,
      actor: SYSTEM_ACTOR,
      level: "error",
      category: "mapping",
      message: `Re-sync review of ${review.businessName ?? review.businessId} stopped after ${review.customersChecked} of ${review.customersTotal} customers: ${message}. New Sage contacts still wait for your confirmation; confirming lets the sync match each remaining customer in Sage before it creates one.`,
      details: { op: "resync_review_failed", reviewId: review.id },
    });
  });
}

// ─── 4. the decision ─────────────────────────────────────────────────────────────────────────

/**
 * "Create the N missing contacts and sync": only the reseller (never support — refused with 403,
 * nothing changed, the attempt logged), only for a review awaiting confirmation of the tenant's
 * connected connection. → creating; the flow then creates the contacts and releases the held tasks.
 */
export async function confirmResyncReview(db: Database, input: { tenantId: string; actor: Actor }): Promise<{ reviewId: string; connectionId: string; toCreate: number }> {
  if (input.actor.type !== "user") {
    await writeActionLog(db, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "warning",
      category: "support",
      message: "Refused: support staff cannot confirm a re-sync review for a reseller; the reseller's administrator decides which Sage contacts are created.",
      details: { op: "resync_review_confirm_refused" },
    });
    throw new ResyncReviewError("support_refused", "Support staff cannot confirm a re-sync for a reseller: the reseller's administrator must. Nothing was changed.", 403);
  }
  return db.transaction(async (tx) => {
    const [review] = await tx
      .select()
      .from(resyncReviews)
      .where(and(eq(resyncReviews.tenantId, input.tenantId), inArray(resyncReviews.status, ["checking", "awaiting_confirmation", "creating"])))
      .for("update");
    if (!review) throw new ResyncReviewError("no_review", "There is no re-sync review to confirm. Nothing was changed.", 404);
    if (review.status !== "awaiting_confirmation") {
      throw new ResyncReviewError("not_awaiting", review.status === "checking" ? "The existing Sage contacts are still being checked; confirm when the check is done. Nothing was changed." : "This re-sync is already confirmed and running. Nothing was changed.", 409);
    }
    const [conn] = await tx.select({ status: connections.status }).from(connections).where(eq(connections.id, review.connectionId));
    if (conn?.status !== "connected") throw new ResyncReviewError("not_connected", "Reconnect Sage first: the re-sync needs a working connection. Nothing was changed.", 409);
    const now = new Date();
    await tx.update(resyncReviews).set({ status: "creating", confirmedBy: input.actor.label, confirmedAt: now, updatedAt: now }).where(eq(resyncReviews.id, review.id));
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "mapping",
      message: `Re-sync confirmed: ${plural(review.toCreate, "missing Sage contact")} will be created in ${review.businessName ?? review.businessId} (each matched once more before it is created), then the held orders sync.`,
      details: { op: "resync_review_confirmed", reviewId: review.id, toCreate: review.toCreate },
    });
    return { reviewId: review.id, connectionId: review.connectionId, toCreate: review.toCreate };
  });
}

/**
 * The next CREATES_PER_STEP customers the review would create a contact for: matched in Sage once
 * more, else created with the same idempotency id the sync uses (never a second contact), mapped and
 * recorded. `done` when none is left.
 */
export async function createResyncContacts(db: Database, reviewId: string): Promise<{ done: boolean; created: number }> {
  const review = await loadReview(db, reviewId);
  if (!review || review.status !== "creating") return { done: true, created: 0 };
  const todo = await db
    .select({ rowId: resyncReviewCustomers.id, customer: marketplaceCustomers, sageContactId: customerMappings.sageContactId, sageContactName: customerMappings.sageContactName })
    .from(resyncReviewCustomers)
    .innerJoin(marketplaceCustomers, eq(marketplaceCustomers.id, resyncReviewCustomers.customerId))
    .leftJoin(customerMappings, and(eq(customerMappings.tenantId, marketplaceCustomers.tenantId), eq(customerMappings.customerId, marketplaceCustomers.id)))
    .where(and(eq(resyncReviewCustomers.reviewId, review.id), eq(resyncReviewCustomers.outcome, "create")))
    .orderBy(asc(resyncReviewCustomers.customerId))
    .limit(CREATES_PER_STEP);
  if (todo.length === 0) return { done: true, created: 0 };
  const api = sageConnection(db, review.connectionId);
  let created = 0;
  for (const row of todo) {
    const c = row.customer;
    if (row.sageContactId) {
      // mapped meanwhile (the reseller, or "Create contact in Sage"): nothing to create
      await db.update(resyncReviewCustomers).set({ outcome: "matched", matchedBy: "stored_id", sageContactId: row.sageContactId, sageContactName: row.sageContactName }).where(eq(resyncReviewCustomers.id, row.rowId));
      continue;
    }
    const result = await findOrCreateSageContact(api, { tenantId: review.tenantId, customer: c, attempts: 4 });
    const name = result.contact.displayedAs ?? result.contact.name ?? c.name;
    await db.transaction(async (tx) => {
      const now = new Date();
      await tx
        .insert(customerMappings)
        .values({ tenantId: review.tenantId, customerId: c.id, sageContactId: result.contact.id, sageContactName: name, mappedAt: now, updatedAt: now })
        .onConflictDoUpdate({ target: [customerMappings.tenantId, customerMappings.customerId], set: { sageContactId: result.contact.id, sageContactName: name, mappedAt: now, updatedAt: now } });
      if (result.created) {
        await tx
          .insert(sageDocuments)
          .values({ tenantId: review.tenantId, connectionId: review.connectionId, kind: "contact", sageId: result.contact.id, displayedAs: result.contact.displayedAs ?? null, reference: c.marketplaceCustomerId, idempotencyId: idempotencyIds.contact(review.tenantId, c.marketplaceCustomerId) })
          .onConflictDoNothing();
      }
      await tx
        .update(resyncReviewCustomers)
        .set(result.created ? { outcome: "created", sageContactId: result.contact.id, sageContactName: name } : { outcome: "matched", matchedBy: result.matchedBy ?? null, sageContactId: result.contact.id, sageContactName: name })
        .where(eq(resyncReviewCustomers.id, row.rowId));
      if (result.created) await tx.update(resyncReviews).set({ created: sql`${resyncReviews.created} + 1`, updatedAt: now }).where(eq(resyncReviews.id, review.id));
      await writeActionLog(tx, {
        tenantId: review.tenantId,
        actor: SYSTEM_ACTOR,
        level: "info",
        category: "mapping",
        message: result.created ? `Re-sync: Sage contact created for ${c.name} (${c.marketplaceCustomerId})` : `Re-sync: ${c.name} matched to the existing Sage contact ${name} before creating one`,
        details: { op: "resync_review_create", reviewId: review.id, customerId: c.id, sageContactId: result.contact.id, created: result.created },
      });
    });
    if (result.created) created++;
  }
  return { done: todo.length < CREATES_PER_STEP, created };
}

/**
 * The missing contacts exist: the review is completed, the tasks it held go back to pending (one
 * Action Log row), and their ids are returned for one sync batch.
 */
export async function completeResyncReview(db: Database, reviewId: string): Promise<{ tenantId: string; connectionId: string; taskIds: string[] }> {
  return db.transaction(async (tx) => {
    const [review] = await tx.select().from(resyncReviews).where(eq(resyncReviews.id, reviewId)).for("update");
    if (!review) return { tenantId: "", connectionId: "", taskIds: [] };
    if (review.status === "creating") {
      const now = new Date();
      await tx.update(resyncReviews).set({ status: "completed", finishedAt: now, updatedAt: now }).where(eq(resyncReviews.id, review.id));
    } else if (review.status !== "completed") {
      return { tenantId: review.tenantId, connectionId: review.connectionId, taskIds: [] };
    }
    const released = await tx
      .update(syncTasks)
      .set({ state: "pending", reason: null, reasonLink: null, updatedAt: new Date() })
      .where(and(eq(syncTasks.tenantId, review.tenantId), eq(syncTasks.state, "action_required"), like(syncTasks.reason, `${RESYNC_HOLD_PREFIX}%`)))
      .returning({ id: syncTasks.id });
    if (review.status === "creating" || released.length > 0) {
      await writeActionLog(tx, {
        tenantId: review.tenantId,
        actor: SYSTEM_ACTOR,
        level: "success",
        category: "sync",
        message: `Re-sync of ${review.businessName ?? review.businessId} done: ${plural(review.created, "Sage contact")} created, ${plural(review.matched, "customer")} matched to existing contacts; ${plural(released.length, "held order")} released to sync.`,
        details: { op: "resync_review_completed", reviewId: review.id, created: review.created, matched: review.matched, released: released.length, taskIds: released.slice(0, 500).map((t) => t.id) },
      });
    }
    return { tenantId: review.tenantId, connectionId: review.connectionId, taskIds: released.map((t) => t.id) };
  });
}

// ─── 5. the read (dashboard, Mapping → Customers, the support console) ──────────────────────

export type ResyncReviewCustomer = { customerId: string; marketplaceCustomerId: string; name: string; email: string | null; matchedBy: ResyncMatchBy | null; sageContactId: string | null; sageContactName: string | null };

export type ResyncReviewView = {
  id: string;
  status: ResyncReviewStatus;
  connectionId: string;
  businessId: string;
  businessName: string | null;
  progress: { checked: number; total: number; contactsRead: number };
  matched: number;
  toCreate: number;
  created: number;
  startedBy: string;
  confirmedBy: string | null;
  confirmedAt: string | null;
  createdAt: string;
  finishedAt: string | null;
  lastError: string | null;
  /** contact creation is held for the tenant (checking or awaiting confirmation) */
  holding: boolean;
  /** tasks waiting for the decision */
  heldTasks: number;
  /** up to `listLimit` of each */
  matchedCustomers: ResyncReviewCustomer[];
  toCreateCustomers: ResyncReviewCustomer[];
  createdCustomers: ResyncReviewCustomer[];
};

/**
 * The tenant's latest re-sync review (read only; the support console shows it too), or null when
 * there never was one. Lists are capped at `listLimit` (default 200) each; the counts are exact.
 */
export async function getResyncReview(db: Queryable, tenantId: string, opts: { listLimit?: number } = {}): Promise<ResyncReviewView | null> {
  const [review] = await db.select().from(resyncReviews).where(and(eq(resyncReviews.tenantId, tenantId), sql`${resyncReviews.status} <> 'superseded'`)).orderBy(sql`${resyncReviews.createdAt} desc`).limit(1);
  if (!review) return null;
  const limit = Math.min(Math.max(opts.listLimit ?? 200, 0), 1000);
  const list = async (outcome: "matched" | "create" | "created") =>
    limit === 0
      ? []
      : db
          .select({ customerId: resyncReviewCustomers.customerId, marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId, name: marketplaceCustomers.name, email: marketplaceCustomers.email, matchedBy: resyncReviewCustomers.matchedBy, sageContactId: resyncReviewCustomers.sageContactId, sageContactName: resyncReviewCustomers.sageContactName })
          .from(resyncReviewCustomers)
          .innerJoin(marketplaceCustomers, eq(marketplaceCustomers.id, resyncReviewCustomers.customerId))
          .where(and(eq(resyncReviewCustomers.reviewId, review.id), eq(resyncReviewCustomers.outcome, outcome)))
          .orderBy(asc(marketplaceCustomers.name), asc(marketplaceCustomers.id))
          .limit(limit);
  const [held] = await db.select({ n: count() }).from(syncTasks).where(and(eq(syncTasks.tenantId, tenantId), eq(syncTasks.state, "action_required"), like(syncTasks.reason, `${RESYNC_HOLD_PREFIX}%`)));
  return {
    id: review.id,
    status: review.status,
    connectionId: review.connectionId,
    businessId: review.businessId,
    businessName: review.businessName,
    progress: { checked: review.customersChecked, total: review.customersTotal, contactsRead: review.contactsRead },
    matched: review.matched,
    toCreate: review.toCreate,
    created: review.created,
    startedBy: review.startedBy,
    confirmedBy: review.confirmedBy,
    confirmedAt: review.confirmedAt?.toISOString() ?? null,
    createdAt: review.createdAt.toISOString(),
    finishedAt: review.finishedAt?.toISOString() ?? null,
    lastError: review.lastError,
    holding: (RESYNC_HOLDING_STATUSES as readonly string[]).includes(review.status),
    heldTasks: held?.n ?? 0,
    matchedCustomers: await list("matched"),
    toCreateCustomers: await list("create"),
    createdCustomers: await list("created"),
  };
}
