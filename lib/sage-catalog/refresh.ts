import { and, eq, lt, ne, sql } from "drizzle-orm";
import type { Database, Queryable } from "@/db/client";
import { sageContacts, sageItems } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { chunk, MappingError, requireActiveConnection } from "@/lib/mapping/common";
import { REFRESH_OPS } from "@/lib/mapping/status";
import { collectSagePages, createSageAccountingClient, type SageAccountingClient } from "@/lib/sage/accounting/api";
import type { RetryPolicy } from "@/lib/sage/accounting/retry";
import { connectionBudget } from "@/lib/sage/rate-budget";
import { SageError } from "@/lib/sage/errors";

/** What the cache keeps of a Sage product or service (list items with the attributes we ask for). */
export type SageItemDto = {
  id: string;
  displayed_as?: string;
  item_code?: string | null;
  description?: string | null;
  active?: boolean | null;
  sales_prices?: { price_name?: string | null; price?: number | string | null }[] | null;
  sales_rates?: { rate_name?: string | null; rate?: number | string | null }[] | null;
  sales_ledger_account?: { id?: string | null } | null;
  sales_tax_rate?: { id?: string | null } | null;
};

export type SageContactDto = {
  id: string;
  displayed_as?: string;
  name?: string | null;
  reference?: string | null;
  email?: string | null;
  main_contact_person?: { email?: string | null } | null;
  currency?: { id?: string | null } | null;
};

export const ITEM_ATTRIBUTES = {
  product: "item_code,description,active,sales_prices,sales_ledger_account,sales_tax_rate",
  service: "item_code,description,active,sales_rates,sales_ledger_account,sales_tax_rate",
} as const;
export const CONTACT_ATTRIBUTES = "name,reference,email,currency";

/** The typed client for mapping work, paced by the same shared rate budget of the Sage business as the sync engine. */
export function sageClientFor(db: Database, connectionId: string, policy?: Partial<RetryPolicy>): SageAccountingClient {
  return createSageAccountingClient({ db, connectionId, policy, beforeAttempt: connectionBudget(db, connectionId) });
}

/** A Sage item as a cache row (the "Selling Price" first, else the first price). */
export function itemCacheValues(tenantId: string, connectionId: string, type: "product" | "service", i: SageItemDto, at: Date) {
  const prices = type === "product" ? (i.sales_prices ?? []).map((p) => ({ name: p.price_name, amount: p.price })) : (i.sales_rates ?? []).map((r) => ({ name: r.rate_name, amount: r.rate }));
  const price = prices.find((p) => p.name === "Selling Price") ?? prices[0];
  const amount = price?.amount === null || price?.amount === undefined || price.amount === "" ? null : Number(price.amount);
  return {
    tenantId,
    connectionId,
    sageId: i.id,
    type,
    itemCode: i.item_code ?? null,
    description: i.description ?? i.displayed_as ?? i.id,
    salesPrice: amount === null || !Number.isFinite(amount) ? null : amount.toFixed(4),
    salesLedgerAccountId: i.sales_ledger_account?.id ?? null,
    salesTaxRateId: i.sales_tax_rate?.id ?? null,
    active: i.active ?? true,
    refreshedAt: at,
  };
}

export function contactCacheValues(tenantId: string, connectionId: string, c: SageContactDto, at: Date) {
  const email = c.email ?? c.main_contact_person?.email ?? null;
  return {
    tenantId,
    connectionId,
    sageId: c.id,
    name: c.name ?? c.displayed_as ?? c.id,
    reference: c.reference ?? null,
    email: email ? email.toLowerCase() : null,
    currency: c.currency?.id ?? null,
    refreshedAt: at,
  };
}

const excluded = (column: string) => sql.raw(`excluded.${column}`);

export async function upsertCachedItems(q: Queryable, rows: ReturnType<typeof itemCacheValues>[]) {
  for (const part of chunk(rows, 500)) {
    await q
      .insert(sageItems)
      .values(part)
      .onConflictDoUpdate({
        target: [sageItems.connectionId, sageItems.sageId],
        set: { type: excluded("type"), itemCode: excluded("item_code"), description: excluded("description"), salesPrice: excluded("sales_price"),
          salesLedgerAccountId: sql`coalesce(excluded.sales_ledger_account_id, ${sageItems.salesLedgerAccountId})`,
          salesTaxRateId: sql`coalesce(excluded.sales_tax_rate_id, ${sageItems.salesTaxRateId})`,
          active: excluded("active"), refreshedAt: excluded("refreshed_at") },
      });
  }
}

export async function upsertCachedContacts(q: Queryable, rows: ReturnType<typeof contactCacheValues>[]) {
  for (const part of chunk(rows, 500)) {
    await q
      .insert(sageContacts)
      .values(part)
      .onConflictDoUpdate({
        target: [sageContacts.connectionId, sageContacts.sageId],
        set: { name: excluded("name"), reference: excluded("reference"), email: excluded("email"), currency: excluded("currency"), refreshedAt: excluded("refreshed_at") },
      });
  }
}

export type SageRefreshResult =
  | { ok: true; items: number; products: number; services: number; contacts: number; removedItems: number; removedContacts: number }
  | { ok: false; kind: string; message: string };

/**
 * "Refresh from Sage" (run by an Inngest function): reads every product, service and customer
 * contact of the connected business through the typed client, upserts them into the cache and
 * removes the cached rows Sage no longer has — one transaction, with its Action Log row.
 * Sage refusals (auth, validation) are logged and returned; transient trouble is thrown so the
 * function retries.
 */
export async function refreshSageCatalog(
  db: Database,
  input: { tenantId: string; actor: Actor; requestId?: string; policy?: Partial<RetryPolicy> },
): Promise<SageRefreshResult> {
  let connection: Awaited<ReturnType<typeof requireActiveConnection>>;
  try {
    connection = await requireActiveConnection(db, input.tenantId);
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
    await writeActionLog(db, { tenantId: input.tenantId, actor: input.actor, level: "error", category: "mapping", message: `Refresh from Sage failed: ${e.message}`, details: { op: REFRESH_OPS.sage, requestId: input.requestId } });
    return { ok: false, kind: e.reason, message: e.message };
  }
  const sage = sageClientFor(db, connection.id, input.policy);
  let products: SageItemDto[], services: SageItemDto[], contacts: SageContactDto[];
  try {
    products = await collectSagePages<SageItemDto>(sage, `/products?items_per_page=200&attributes=${ITEM_ATTRIBUTES.product}`);
    services = await collectSagePages<SageItemDto>(sage, `/services?items_per_page=200&attributes=${ITEM_ATTRIBUTES.service}`);
    contacts = await collectSagePages<SageContactDto>(sage, `/contacts?items_per_page=200&contact_type_id=CUSTOMER&attributes=${CONTACT_ATTRIBUTES}`);
  } catch (e) {
    if (!(e instanceof SageError) || e.retryable || e.kind === "unknown_outcome") throw e;
    await writeActionLog(db, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "error",
      category: "mapping",
      message: `Refresh from Sage failed: ${e.message}`,
      details: { op: REFRESH_OPS.sage, requestId: input.requestId, connectionId: connection.id, kind: e.kind, status: e.status },
    });
    return { ok: false, kind: e.kind, message: e.message };
  }
  return db.transaction(async (tx) => {
    const at = new Date();
    await upsertCachedItems(tx, [
      ...products.map((p) => itemCacheValues(input.tenantId, connection.id, "product", p, at)),
      ...services.map((s) => itemCacheValues(input.tenantId, connection.id, "service", s, at)),
    ]);
    await upsertCachedContacts(tx, contacts.map((c) => contactCacheValues(input.tenantId, connection.id, c, at)));
    // what this refresh did not see is gone from Sage (rows added after it started are kept)
    const removedItems = await tx.delete(sageItems).where(and(eq(sageItems.connectionId, connection.id), lt(sageItems.refreshedAt, at))).returning({ id: sageItems.id });
    const removedContacts = await tx.delete(sageContacts).where(and(eq(sageContacts.connectionId, connection.id), lt(sageContacts.refreshedAt, at))).returning({ id: sageContacts.id });
    // rows of an earlier (disconnected) connection of this tenant are stale too
    await tx.delete(sageItems).where(and(eq(sageItems.tenantId, input.tenantId), ne(sageItems.connectionId, connection.id)));
    await tx.delete(sageContacts).where(and(eq(sageContacts.tenantId, input.tenantId), ne(sageContacts.connectionId, connection.id)));
    const result = {
      ok: true as const,
      items: products.length + services.length,
      products: products.length,
      services: services.length,
      contacts: contacts.length,
      removedItems: removedItems.length,
      removedContacts: removedContacts.length,
    };
    const removed = result.removedItems + result.removedContacts > 0 ? `; removed ${result.removedItems} items and ${result.removedContacts} contacts Sage no longer has` : "";
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "success",
      category: "mapping",
      message: `Refreshed from Sage: ${result.items} items (${result.services} services, ${result.products} products) and ${result.contacts} customer contacts${removed}`,
      details: { op: REFRESH_OPS.sage, requestId: input.requestId, connectionId: connection.id, ...result },
    });
    return result;
  });
}
