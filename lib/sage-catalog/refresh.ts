import { and, eq, lt, ne, sql } from "drizzle-orm";
import type { Database, Queryable } from "@/db/client";
import { sageContacts, sageItems } from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { chunk, MappingError, requireActiveConnection } from "@/lib/mapping/common";
import { REFRESH_OPS } from "@/lib/mapping/status";
import { connectionTarget, sageConnection } from "@/lib/connections/sage-session";
import { reconcileScopeFiles } from "./scope-files";
import { SageError } from "@/lib/sage/errors";
import type { SageConnectionApi, SageContactRecord, SageItemRecord, SageItemType, SageRetryPolicy } from "@/lib/sage/target";

/** The connection's Sage business for mapping work, paced by the same shared rate budget of the business as the sync engine. */
export function catalogConnection(db: Database, connectionId: string, policy?: Partial<SageRetryPolicy>): SageConnectionApi {
  return sageConnection(db, connectionId, { policy });
}

/** A Sage item as a cache row (the "Selling Price" first, else the first price). */
export function itemCacheValues(tenantId: string, connectionId: string, type: SageItemType, i: SageItemRecord, at: Date) {
  const price = i.prices.find((p) => p.name === "Selling Price") ?? i.prices[0];
  const amount = price?.amount === null || price?.amount === undefined || price.amount === "" ? null : Number(price.amount);
  return {
    tenantId,
    connectionId,
    sageId: i.id,
    type,
    itemCode: i.itemCode,
    description: i.description ?? i.displayedAs ?? i.id,
    salesPrice: amount === null || !Number.isFinite(amount) ? null : amount.toFixed(4),
    salesLedgerAccountId: i.salesLedgerAccountId,
    salesTaxRateId: i.salesTaxRateId,
    active: i.active ?? true,
    refreshedAt: at,
  };
}

export function contactCacheValues(tenantId: string, connectionId: string, c: SageContactRecord, at: Date) {
  return {
    tenantId,
    connectionId,
    sageId: c.id,
    name: c.name ?? c.displayedAs ?? c.id,
    reference: c.reference,
    email: c.email ? c.email.toLowerCase() : null,
    currency: c.currency,
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
  input: { tenantId: string; actor: Actor; requestId?: string; policy?: Partial<SageRetryPolicy> },
): Promise<SageRefreshResult> {
  let connection: Awaited<ReturnType<typeof requireActiveConnection>>;
  try {
    connection = await requireActiveConnection(db, input.tenantId);
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
    await writeActionLog(db, { tenantId: input.tenantId, actor: input.actor, level: "error", category: "mapping", message: `Refresh from Sage failed: ${e.message}`, details: { op: REFRESH_OPS.sage, requestId: input.requestId } });
    return { ok: false, kind: e.reason, message: e.message };
  }
  if ((await connectionTarget(db, connection.id)).exchange === "file_exchange") {
    // a file-exchange target: the latest full scope files, reconciled (deletions flagged, not dropped)
    try {
      const scopes = await reconcileScopeFiles(db, { tenantId: input.tenantId, connectionId: connection.id, actor: input.actor, requestId: input.requestId });
      const products = scopes.find((x) => x.scope === "Products");
      const customers = scopes.find((x) => x.scope === "Customers");
      return { ok: true, items: products?.records ?? 0, products: products?.records ?? 0, services: 0, contacts: customers?.records ?? 0, removedItems: products?.flaggedDeleted ?? 0, removedContacts: customers?.flaggedDeleted ?? 0 };
    } catch (e) {
      if (!(e instanceof SageError) || e.retryable || e.kind === "unknown_outcome") throw e;
      await writeActionLog(db, { tenantId: input.tenantId, actor: input.actor, level: "error", category: "mapping", message: `Refresh from Sage failed: ${e.message}`, details: { op: REFRESH_OPS.sage, requestId: input.requestId, connectionId: connection.id, kind: e.kind, status: e.status } });
      return { ok: false, kind: e.kind, message: e.message };
    }
  }
  const sage = catalogConnection(db, connection.id, input.policy);
  let products: SageItemRecord[], services: SageItemRecord[], contacts: SageContactRecord[];
  try {
    products = await sage.listItems("product");
    services = await sage.listItems("service");
    contacts = await sage.listCustomerContacts();
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
