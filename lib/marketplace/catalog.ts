import { sql } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { marketplaceCustomers, marketplaceProducts } from "@/db/schema";
import type { MarketplaceCustomerDto, MarketplaceProductDto } from "./api-schemas";

/** Insert or update what the marketplace says about a customer (push or pull); returns the row id. */
export async function upsertMarketplaceCustomer(tx: Queryable, tenantId: string, c: MarketplaceCustomerDto): Promise<string> {
  const values = {
    tenantId,
    marketplaceCustomerId: c.id,
    name: c.name,
    email: c.contact_info?.email?.toLowerCase() ?? null,
    currency: c.currency ?? null,
    raw: c as Record<string, unknown>,
    updatedAt: new Date(),
  };
  const [row] = await tx
    .insert(marketplaceCustomers)
    .values(values)
    .onConflictDoUpdate({
      target: [marketplaceCustomers.tenantId, marketplaceCustomers.marketplaceCustomerId],
      set: { name: values.name, email: sql`coalesce(excluded.email, ${marketplaceCustomers.email})`, currency: sql`coalesce(excluded.currency, ${marketplaceCustomers.currency})`, raw: values.raw, updatedAt: values.updatedAt },
    })
    .returning({ id: marketplaceCustomers.id });
  return row!.id;
}

export async function upsertMarketplaceProduct(tx: Queryable, tenantId: string, p: MarketplaceProductDto): Promise<string> {
  const values = {
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
    updatedAt: new Date(),
  };
  const [row] = await tx
    .insert(marketplaceProducts)
    .values(values)
    .onConflictDoUpdate({
      target: [marketplaceProducts.tenantId, marketplaceProducts.marketplaceProductId],
      set: { mpn: values.mpn, name: values.name, description: values.description, unitPrice: values.unitPrice, currency: values.currency, billingPeriod: values.billingPeriod, kind: values.kind, raw: values.raw, updatedAt: values.updatedAt },
    })
    .returning({ id: marketplaceProducts.id });
  return row!.id;
}
