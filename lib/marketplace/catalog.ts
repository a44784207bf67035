import { sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { marketplaceCustomers, marketplaceProducts } from "@/db/schema";
import { findUnstorable } from "@/lib/http/storable-json";
import type { Actor } from "@/lib/log/action-log";
import type { MarketplaceCustomerDto, MarketplaceProductDto } from "./api-schemas";
import { logRejectedRecord, recordLabel, type RejectedRecord } from "./rejected-record";

/**
 * What the marketplace says about its customers and products, stored (push, pull, Refresh from
 * marketplace). One statement per call whatever the number of rows; the last word of the marketplace
 * wins, except that a missing e-mail or currency does not erase a known one.
 *
 * A record PostgreSQL cannot store (U+0000, a lone surrogate, nesting deeper than 64 levels;
 * lib/http/storable-json.ts) is left out and reported in the tenant's Action Log, in the same
 * transaction as the upsert of the others — one bad customer never fails a whole refresh.
 */

export type CatalogUpsertOptions = { actor?: Actor };
const MARKETPLACE: Actor = { type: "marketplace", label: "Marketplace" };

/** The records that can be stored, and a report for each one that cannot. */
function partition<T extends { id: string; updated?: string | null }>(items: T[], kind: "customer" | "product"): { good: T[]; bad: RejectedRecord[] } {
  const good: T[] = [];
  const bad: RejectedRecord[] = [];
  for (const item of items) {
    const problem = findUnstorable(item);
    if (problem) bad.push({ rejected: true, kind, id: recordLabel(item.id), updated: recordLabel(item.updated), problem });
    else good.push(item);
  }
  return { good, bad };
}

async function withReports<R>(q: Queryable, tenantId: string, bad: RejectedRecord[], opts: CatalogUpsertOptions, write: (q: Queryable) => Promise<R>): Promise<R> {
  if (bad.length === 0) return write(q);
  return q.transaction(async (tx) => {
    for (const record of bad) {
      await logRejectedRecord(tx, { tenantId, actor: opts.actor ?? MARKETPLACE, record, source: "catalog", dedupeKey: `catalog:${record.kind}:${record.id}:${record.updated}:${record.problem.path}` });
    }
    return write(tx);
  });
}
const excluded = (column: string) => sql.raw(`excluded.${column}`);
const lastOf = <T extends { id: string }>(items: T[]) => [...new Map(items.map((i) => [i.id, i])).values()];

/** Insert or update customers; returns marketplace customer id → row id (a refused one has none). */
export async function upsertMarketplaceCustomers(q: Queryable, tenantId: string, customers: MarketplaceCustomerDto[], opts: CatalogUpsertOptions = {}): Promise<Map<string, string>> {
  const { good, bad } = partition(lastOf(customers), "customer");
  return withReports(q, tenantId, bad, opts, (w) => writeCustomers(w, tenantId, good));
}

async function writeCustomers(q: Queryable, tenantId: string, customers: MarketplaceCustomerDto[]): Promise<Map<string, string>> {
  const now = new Date();
  const rows = customers.map((c) => ({
    tenantId,
    marketplaceCustomerId: c.id,
    name: c.name,
    email: c.contact_info?.email?.toLowerCase() ?? null,
    currency: c.currency ?? null,
    raw: c as Record<string, unknown>,
    updatedAt: now,
  }));
  if (rows.length === 0) return new Map();
  const saved = await q
    .insert(marketplaceCustomers)
    .values(rows)
    .onConflictDoUpdate({
      target: [marketplaceCustomers.tenantId, marketplaceCustomers.marketplaceCustomerId],
      set: {
        name: excluded("name"),
        email: sql`coalesce(excluded.email, ${marketplaceCustomers.email})`,
        currency: sql`coalesce(excluded.currency, ${marketplaceCustomers.currency})`,
        raw: excluded("raw"),
        updatedAt: excluded("updated_at"),
      },
    })
    .returning({ id: marketplaceCustomers.id, marketplaceCustomerId: marketplaceCustomers.marketplaceCustomerId });
  return new Map(saved.map((r) => [r.marketplaceCustomerId, r.id]));
}

/** Insert or update products; returns marketplace product id → row id (a refused one has none). */
export async function upsertMarketplaceProducts(q: Queryable, tenantId: string, products: MarketplaceProductDto[], opts: CatalogUpsertOptions = {}): Promise<Map<string, string>> {
  const { good, bad } = partition(lastOf(products), "product");
  return withReports(q, tenantId, bad, opts, (w) => writeProducts(w, tenantId, good));
}

async function writeProducts(q: Queryable, tenantId: string, products: MarketplaceProductDto[]): Promise<Map<string, string>> {
  const now = new Date();
  const rows = products.map((p) => ({
    tenantId,
    marketplaceProductId: p.id,
    mpn: p.mpn,
    name: p.name,
    description: p.description ?? null,
    unitPrice: p.unit_price ?? null,
    currency: p.currency ?? null,
    billingPeriod: p.billing_period ?? null,
    kind: p.type,
    raw: p as Record<string, unknown>,
    updatedAt: now,
  }));
  if (rows.length === 0) return new Map();
  const saved = await q
    .insert(marketplaceProducts)
    .values(rows)
    .onConflictDoUpdate({
      target: [marketplaceProducts.tenantId, marketplaceProducts.marketplaceProductId],
      set: {
        mpn: excluded("mpn"),
        name: excluded("name"),
        description: excluded("description"),
        unitPrice: excluded("unit_price"),
        currency: excluded("currency"),
        billingPeriod: excluded("billing_period"),
        kind: excluded("kind"),
        raw: excluded("raw"),
        updatedAt: excluded("updated_at"),
      },
    })
    .returning({ id: marketplaceProducts.id, marketplaceProductId: marketplaceProducts.marketplaceProductId });
  return new Map(saved.map((r) => [r.marketplaceProductId, r.id]));
}

/** One customer (an order's, pushed or pulled); returns the row id. Push and pull check the text first, so a refusal here is a bug. */
export async function upsertMarketplaceCustomer(q: Queryable, tenantId: string, c: MarketplaceCustomerDto): Promise<string> {
  const id = (await upsertMarketplaceCustomers(q, tenantId, [c])).get(c.id);
  if (!id) throw new Error(`Marketplace customer ${recordLabel(c.id)} was not stored (see the Action Log)`);
  return id;
}

/** One product; returns the row id. */
export async function upsertMarketplaceProduct(q: Queryable, tenantId: string, p: MarketplaceProductDto): Promise<string> {
  const id = (await upsertMarketplaceProducts(q, tenantId, [p])).get(p.id);
  if (!id) throw new Error(`Marketplace product ${recordLabel(p.id)} was not stored (see the Action Log)`);
  return id;
}
