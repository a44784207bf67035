import { and, asc, count, eq, ilike, inArray, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "@/db/client";
import { customerMappings, marketplaceCustomers, sageContacts, type SageContactRow } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { activeConnection, chunk, likePattern, listNames, lockTenantMappings, mappingListQueryShape, MappingError, normalizeKey, NOTHING_SAVED, requireActiveConnection } from "./common";
import { requireCachedSageContact } from "./sage-cache";

export const customerListQuerySchema = z.object(mappingListQueryShape);
export type CustomerListQuery = z.infer<typeof customerListQuerySchema>;

export type CustomerRow = {
  id: string;
  marketplaceCustomerId: string;
  name: string;
  email: string | null;
  currency: string | null;
  autoSync: boolean;
  mapping: { sageContactId: string; sageContactName: string | null; contactExists: boolean; /** Sage 50 Cloud: missing from the latest Customers file (kept, flagged, never offered for new mappings) */ deletedInSage: boolean } | null;
};

export type CustomerPage = { rows: CustomerRow[]; total: number; offset: number; limit: number };

const joinMapping = and(eq(customerMappings.tenantId, marketplaceCustomers.tenantId), eq(customerMappings.customerId, marketplaceCustomers.id));

function customerFilter(tenantId: string, query: Pick<CustomerListQuery, "search" | "unmapped">) {
  const pattern = query.search ? likePattern(query.search) : null;
  return and(
    eq(marketplaceCustomers.tenantId, tenantId),
    query.unmapped ? isNull(customerMappings.sageContactId) : undefined,
    pattern
      ? or(ilike(marketplaceCustomers.name, pattern), ilike(marketplaceCustomers.email, pattern), ilike(marketplaceCustomers.marketplaceCustomerId, pattern))
      : undefined,
  );
}

/** One page of the reseller's marketplace customers with their mapping and auto-sync flag. */
export async function listCustomers(q: Queryable, tenantId: string, query: CustomerListQuery): Promise<CustomerPage> {
  const connection = await activeConnection(q, tenantId);
  const where = customerFilter(tenantId, query);
  const rows = await q
    .select({
      id: marketplaceCustomers.id,
      marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId,
      name: marketplaceCustomers.name,
      email: marketplaceCustomers.email,
      currency: marketplaceCustomers.currency,
      autoSync: customerMappings.autoSync,
      sageContactId: customerMappings.sageContactId,
      sageContactName: customerMappings.sageContactName,
      cachedContactId: sageContacts.id,
      deletedInSageAt: sageContacts.deletedInSageAt,
    })
    .from(marketplaceCustomers)
    .leftJoin(customerMappings, joinMapping)
    .leftJoin(sageContacts, and(eq(sageContacts.connectionId, connection?.id ?? sql`null::uuid`), eq(sageContacts.sageId, customerMappings.sageContactId)))
    .where(where)
    .orderBy(asc(marketplaceCustomers.name), asc(marketplaceCustomers.id))
    .limit(query.limit)
    .offset(query.offset);
  const total =
    query.offset === 0 && rows.length < query.limit
      ? rows.length
      : ((await q.select({ n: count() }).from(marketplaceCustomers).leftJoin(customerMappings, joinMapping).where(where))[0]?.n ?? 0);
  return {
    total,
    offset: query.offset,
    limit: query.limit,
    rows: rows.map((r) => ({
      id: r.id,
      marketplaceCustomerId: r.marketplaceCustomerId,
      name: r.name,
      email: r.email,
      currency: r.currency,
      autoSync: r.autoSync ?? false,
      mapping: r.sageContactId ? { sageContactId: r.sageContactId, sageContactName: r.sageContactName, contactExists: r.cachedContactId !== null, deletedInSage: r.deletedInSageAt !== null } : null,
    })),
  };
}

export async function customerCounts(q: Queryable, tenantId: string) {
  const [row] = await q
    .select({ total: count(), mapped: count(customerMappings.sageContactId) })
    .from(marketplaceCustomers)
    .leftJoin(customerMappings, joinMapping)
    .where(eq(marketplaceCustomers.tenantId, tenantId));
  return { total: row?.total ?? 0, mapped: row?.mapped ?? 0, unmapped: (row?.total ?? 0) - (row?.mapped ?? 0) };
}

const customerLabel = (c: { name: string; marketplaceCustomerId: string }) => `${c.name} (${c.marketplaceCustomerId})`;
const contactLabel = (c: { name: string; reference: string | null }) => `Sage contact “${c.name}”${c.reference ? ` (${c.reference})` : ""}`;

const customerIds = z.array(z.string().uuid("Unknown customer id")).min(1, "Select at least one customer.").max(10_000);

export const mapCustomersInputSchema = z.object({ customerIds, sageContactId: z.string().trim().min(1, "Choose a Sage contact.") });
export const unmapCustomersInputSchema = z.object({ customerIds });
export const autoSyncInputSchema = z.object({ customerIds, autoSync: z.boolean({ message: "autoSync must be true or false" }) });
export const autoMatchCustomersInputSchema = z.object({ customerIds: z.array(z.string().uuid("Unknown customer id")).max(10_000).optional() });

async function loadCustomers(tx: Queryable, tenantId: string, ids: string[]) {
  const rows = await tx
    .select({
      id: marketplaceCustomers.id,
      name: marketplaceCustomers.name,
      marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId,
      email: marketplaceCustomers.email,
      previousId: customerMappings.sageContactId,
      previousName: customerMappings.sageContactName,
    })
    .from(marketplaceCustomers)
    .leftJoin(customerMappings, joinMapping)
    .where(and(eq(marketplaceCustomers.tenantId, tenantId), inArray(marketplaceCustomers.id, ids)));
  if (rows.length !== ids.length) throw new MappingError("not_found", `Some of the selected customers do not exist (refresh the page). ${NOTHING_SAVED}`);
  return rows;
}

async function upsertCustomerMapping(tx: Queryable, tenantId: string, customerIds: string[], contact: Pick<SageContactRow, "sageId" | "name">, now: Date) {
  for (const part of chunk(customerIds, 1000)) {
    await tx
      .insert(customerMappings)
      .values(part.map((customerId) => ({ tenantId, customerId, sageContactId: contact.sageId, sageContactName: contact.name, mappedAt: now, updatedAt: now })))
      .onConflictDoUpdate({
        target: [customerMappings.tenantId, customerMappings.customerId],
        set: { sageContactId: contact.sageId, sageContactName: contact.name, mappedAt: now, updatedAt: now },
      });
  }
}

/** Map customers to a cached Sage contact; keeps each customer's auto-sync flag. */
export async function mapCustomers(db: Database, input: { tenantId: string; customerIds: string[]; sageContactId: string; actor: Actor }) {
  return db.transaction((tx) => mapCustomersInTx(tx, { ...input, customerIds: [...new Set(input.customerIds)] }));
}

export async function mapCustomersInTx(
  tx: Queryable,
  input: { tenantId: string; customerIds: string[]; sageContactId: string; actor: Actor; via?: string; requestId?: string; message?: string },
) {
  await lockTenantMappings(tx, input.tenantId);
  const connection = await requireActiveConnection(tx, input.tenantId);
  const contact = await requireCachedSageContact(tx, connection.id, input.sageContactId);
  const customers = await loadCustomers(tx, input.tenantId, input.customerIds);
  const changed = customers.filter((c) => c.previousId !== contact.sageId);
  await upsertCustomerMapping(tx, input.tenantId, changed.map((c) => c.id), contact, new Date());
  // a queued request always gets its outcome row (the UI waits for it), even when nothing changed
  if (changed.length > 0 || input.requestId) {
    const only = changed.length === 1 ? changed[0]! : null;
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "success",
      category: "mapping",
      message:
        input.message ??
        (only
          ? `Customer mapped: ${customerLabel(only)} → ${contactLabel(contact)}${only.previousName ? ` (was “${only.previousName}”)` : ""}`
          : `${changed.length} customers mapped to ${contactLabel(contact)}: ${listNames(changed.map(customerLabel))}`),
      details: {
        op: "customer_map",
        via: input.via ?? "manual",
        requestId: input.requestId,
        sageContactId: contact.sageId,
        customers: changed.slice(0, 500).map((c) => ({ id: c.id, marketplaceCustomerId: c.marketplaceCustomerId, previousSageContactId: c.previousId })),
      },
    });
  }
  return { mapped: changed.length, unchanged: customers.length - changed.length, contact: { sageId: contact.sageId, name: contact.name, reference: contact.reference } };
}

/** Unmap: forget the Sage contact; the customer's auto-sync flag is kept (it applies again once mapped). */
export async function unmapCustomers(db: Database, input: { tenantId: string; customerIds: string[]; actor: Actor }) {
  return db.transaction(async (tx) => {
    await lockTenantMappings(tx, input.tenantId);
    const ids = [...new Set(input.customerIds)];
    const before = await tx
      .select({ customerId: customerMappings.customerId, sageContactId: customerMappings.sageContactId, sageContactName: customerMappings.sageContactName, name: marketplaceCustomers.name, marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId })
      .from(customerMappings)
      .innerJoin(marketplaceCustomers, eq(marketplaceCustomers.id, customerMappings.customerId))
      .where(and(eq(customerMappings.tenantId, input.tenantId), inArray(customerMappings.customerId, ids), sql`${customerMappings.sageContactId} is not null`));
    if (before.length === 0) return { unmapped: 0 };
    await tx
      .update(customerMappings)
      .set({ sageContactId: null, sageContactName: null, mappedAt: null, updatedAt: new Date() })
      .where(and(eq(customerMappings.tenantId, input.tenantId), inArray(customerMappings.customerId, before.map((b) => b.customerId))));
    const only = before.length === 1 ? before[0]! : null;
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "mapping",
      message: only ? `Customer unmapped: ${customerLabel(only)} (was “${only.sageContactName ?? only.sageContactId}”)` : `${before.length} customers unmapped: ${listNames(before.map(customerLabel))}`,
      details: { op: "customer_unmap", customers: before.slice(0, 500).map((b) => ({ id: b.customerId, previousSageContactId: b.sageContactId })) },
    });
    return { unmapped: before.length };
  });
}

/** The per-customer auto-sync toggle (`customer_mappings.auto_sync`). */
export async function setCustomerAutoSync(db: Database, input: { tenantId: string; customerIds: string[]; autoSync: boolean; actor: Actor }) {
  return db.transaction(async (tx) => {
    await lockTenantMappings(tx, input.tenantId);
    const customers = await tx
      .select({ id: marketplaceCustomers.id, name: marketplaceCustomers.name, marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId, autoSync: customerMappings.autoSync })
      .from(marketplaceCustomers)
      .leftJoin(customerMappings, joinMapping)
      .where(and(eq(marketplaceCustomers.tenantId, input.tenantId), inArray(marketplaceCustomers.id, [...new Set(input.customerIds)])));
    if (customers.length !== new Set(input.customerIds).size) throw new MappingError("not_found", `Some of the selected customers do not exist (refresh the page). ${NOTHING_SAVED}`);
    const changed = customers.filter((c) => (c.autoSync ?? false) !== input.autoSync);
    if (changed.length === 0) return { changed: 0 };
    const now = new Date();
    for (const part of chunk(changed, 1000)) {
      await tx
        .insert(customerMappings)
        .values(part.map((c) => ({ tenantId: input.tenantId, customerId: c.id, autoSync: input.autoSync, updatedAt: now })))
        .onConflictDoUpdate({ target: [customerMappings.tenantId, customerMappings.customerId], set: { autoSync: input.autoSync, updatedAt: now } });
    }
    const only = changed.length === 1 ? changed[0]! : null;
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "mapping",
      message: only
        ? `Auto-sync turned ${input.autoSync ? "on" : "off"} for customer ${customerLabel(only)}`
        : `Auto-sync turned ${input.autoSync ? "on" : "off"} for ${changed.length} customers: ${listNames(changed.map(customerLabel))}`,
      details: { op: "customer_auto_sync", autoSync: input.autoSync, customers: changed.slice(0, 500).map((c) => c.id) },
    });
    return { changed: changed.length };
  });
}

export type CustomerAutoMatchSummary = {
  considered: number;
  matched: number;
  byStoredId: number;
  byEmail: number;
  byReference: number;
  byName: number;
  noMatch: number;
  ambiguous: number;
  matches: { customerId: string; name: string; sageContactId: string; sageContactName: string; by: "stored_id" | "email" | "reference" | "name" }[];
  message: string;
};

/**
 * Auto-match customers against the cached Sage contacts: the stored Sage id first (kept when the
 * contact still exists), then e-mail, then reference (= the marketplace customer id, which is what
 * "Create contact in Sage" writes), then name — all case-insensitive. Several candidates at the
 * first step that finds any → left alone (ambiguous).
 */
export async function autoMatchCustomers(db: Database, input: { tenantId: string; actor: Actor; customerIds?: string[] }): Promise<CustomerAutoMatchSummary> {
  return db.transaction(async (tx) => {
    await lockTenantMappings(tx, input.tenantId);
    const connection = await requireActiveConnection(tx, input.tenantId);
    // a customer deleted in Sage 50 (flagged by the last file) is never matched to
    const contacts = await tx.select().from(sageContacts).where(and(eq(sageContacts.connectionId, connection.id), isNull(sageContacts.deletedInSageAt)));
    const byId = new Map(contacts.map((c) => [c.sageId, c]));
    const index = (key: (c: SageContactRow) => string | null) => {
      const m = new Map<string, SageContactRow[]>();
      for (const c of contacts) {
        const k = normalizeKey(key(c));
        if (k) m.set(k, [...(m.get(k) ?? []), c]);
      }
      return m;
    };
    const byEmail = index((c) => c.email);
    const byReference = index((c) => c.reference);
    const byName = index((c) => c.name);
    const all = await tx
      .select({ id: marketplaceCustomers.id, name: marketplaceCustomers.name, marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId, email: marketplaceCustomers.email, sageContactId: customerMappings.sageContactId })
      .from(marketplaceCustomers)
      .leftJoin(customerMappings, joinMapping)
      .where(and(eq(marketplaceCustomers.tenantId, input.tenantId), input.customerIds ? inArray(marketplaceCustomers.id, input.customerIds) : undefined))
      .orderBy(asc(marketplaceCustomers.name));
    const candidates = all;
    const summary: CustomerAutoMatchSummary = { considered: candidates.length, matched: 0, byStoredId: 0, byEmail: 0, byReference: 0, byName: 0, noMatch: 0, ambiguous: 0, matches: [], message: "" };
    const picks: { customer: (typeof candidates)[number]; contact: SageContactRow; by: CustomerAutoMatchSummary["matches"][number]["by"] }[] = [];
    for (const customer of candidates) {
      const steps: [CustomerAutoMatchSummary["matches"][number]["by"], SageContactRow[]][] = [
        ["stored_id", customer.sageContactId && byId.has(customer.sageContactId) ? [byId.get(customer.sageContactId)!] : []],
        ["email", customer.email ? (byEmail.get(normalizeKey(customer.email)) ?? []) : []],
        ["reference", byReference.get(normalizeKey(customer.marketplaceCustomerId)) ?? []],
        ["name", byName.get(normalizeKey(customer.name)) ?? []],
      ];
      const step = steps.find(([, found]) => found.length > 0);
      if (!step) {
        summary.noMatch++;
        continue;
      }
      if (step[1].length > 1) {
        summary.ambiguous++;
        continue;
      }
      picks.push({ customer, contact: step[1][0]!, by: step[0] });
    }
    const now = new Date();
    // a stored Sage id that still exists is kept as it is: nothing to write
    const writes = picks.filter((p) => p.by !== "stored_id");
    for (const { customer, contact } of writes) await upsertCustomerMapping(tx, input.tenantId, [customer.id], contact, now);
    summary.matched = writes.length;
    summary.byStoredId = picks.filter((p) => p.by === "stored_id").length;
    summary.byEmail = picks.filter((p) => p.by === "email").length;
    summary.byReference = picks.filter((p) => p.by === "reference").length;
    summary.byName = picks.filter((p) => p.by === "name").length;
    summary.matches = writes.slice(0, 200).map(({ customer, contact, by }) => ({ customerId: customer.id, name: customer.name, sageContactId: contact.sageId, sageContactName: contact.name, by }));
    const skipped = [summary.noMatch ? `${summary.noMatch} without a match` : null, summary.ambiguous ? `${summary.ambiguous} with several possible Sage contacts (map them by hand)` : null].filter(Boolean);
    const unmapped = candidates.length - summary.byStoredId;
    summary.message =
      candidates.length === 0
        ? "Auto-match: there are no marketplace customers yet. Refresh from the marketplace first."
        : contacts.length === 0
          ? "Auto-match: there are no Sage contacts to match against yet. Refresh from Sage first."
          : unmapped === 0
        ? `Auto-match: every customer is already mapped (${summary.byStoredId} kept their stored Sage contact).`
        : `Auto-match: ${summary.matched} of ${unmapped} unmapped customers mapped (${summary.byEmail} by e-mail, ${summary.byReference} by reference, ${summary.byName} by name)${summary.byStoredId ? `; ${summary.byStoredId} kept their stored Sage contact` : ""}${skipped.length ? `; ${skipped.join("; ")}` : ""}.`;
    if (summary.matched > 0) {
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: "success",
        category: "mapping",
        message: summary.message,
        details: { op: "customer_auto_match", ...summary, message: undefined, matches: summary.matches.map((m) => ({ customerId: m.customerId, sageContactId: m.sageContactId, by: m.by })) },
      });
    }
    return summary;
  });
}
