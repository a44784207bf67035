import { sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { marketplaceCustomers, marketplaceProducts } from "@/db/schema";
import type { MarketplaceCustomerDto, MarketplaceProductDto } from "./api-schemas";

/**
 * What the marketplace says about its customers and products, stored (push, pull, Refresh from
 * marketplace). One statement per call whatever the number of rows; the last word of the marketplace
 * wins, except that a missing e-mail or currency does not erase a known one.
 */
const excluded = (column: string) => sql.raw(`excluded.${column}`);
const lastOf = <T extends { id: string }>(items: T[]) => [...new Map(items.map((i) => [i.id, i])).values()];

/** Insert or update customers; returns marketplace customer id → row id. */
export async function upsertMarketplaceCustomers(q: Queryable, tenantId: string, customers: MarketplaceCustomerDto[]): Promise<Map<string, string>> {
  const now = new Date();
  const rows = lastOf(customers).map((c) => ({
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

/** Insert or update products; returns marketplace product id → row id. */
export async function upsertMarketplaceProducts(q: Queryable, tenantId: string, products: MarketplaceProductDto[]): Promise<Map<string, string>> {
  const now = new Date();
  const rows = lastOf(products).map((p) => ({
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

/** One customer (an order's, pushed or pulled); returns the row id. */
export async function upsertMarketplaceCustomer(q: Queryable, tenantId: string, c: MarketplaceCustomerDto): Promise<string> {
  return (await upsertMarketplaceCustomers(q, tenantId, [c])).get(c.id)!;
}

/** One product; returns the row id. */
export async function upsertMarketplaceProduct(q: Queryable, tenantId: string, p: MarketplaceProductDto): Promise<string> {
  return (await upsertMarketplaceProducts(q, tenantId, [p])).get(p.id)!;
}
