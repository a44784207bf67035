import { pgTable, uuid, text, timestamp, jsonb, numeric, unique, index } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { tenants } from "./tenants";
import { installations } from "./installations";

/** A customer of the reseller, as the marketplace told us (push or pull). */
export const marketplaceCustomers = pgTable(
  "marketplace_customers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    marketplaceCustomerId: text("marketplace_customer_id").notNull(),
    name: text("name").notNull(),
    email: text("email"),
    currency: text("currency"),
    raw: jsonb("raw").$type<Record<string, unknown>>().notNull().default({}),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("marketplace_customers_tenant_mp_uq").on(t.tenantId, t.marketplaceCustomerId),
    index("marketplace_customers_tenant_name_idx").on(t.tenantId, t.name),
    // support's search across tenants: a name that contains the text, an exact e-mail (any case)
    index("marketplace_customers_name_trgm_idx").using("gin", t.name.op("gin_trgm_ops")),
    index("marketplace_customers_email_lower_idx").on(sql`lower(${t.email})`),
  ],
);

export const PRODUCT_KINDS = ["item", "fee"] as const;
export const BILLING_PERIODS = ["monthly", "yearly", "one_time"] as const;

/** A product of the reseller's catalog (items and fees such as the cancellation fee). */
export const marketplaceProducts = pgTable(
  "marketplace_products",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    marketplaceProductId: text("marketplace_product_id").notNull(),
    mpn: text("mpn").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    unitPrice: numeric("unit_price", { precision: 14, scale: 4 }),
    currency: text("currency"),
    billingPeriod: text("billing_period", { enum: BILLING_PERIODS }),
    kind: text("kind", { enum: PRODUCT_KINDS }).notNull().default("item"),
    raw: jsonb("raw").$type<Record<string, unknown>>().notNull().default({}),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("marketplace_products_tenant_mp_uq").on(t.tenantId, t.marketplaceProductId),
    index("marketplace_products_tenant_mpn_idx").on(t.tenantId, t.mpn),
    index("marketplace_products_tenant_name_idx").on(t.tenantId, t.name),
  ],
);

/** Where the pull side (Check Changes) stands, per installation. */
export const orderWatermarks = pgTable("order_watermarks", {
  installationId: uuid("installation_id").primaryKey().references(() => installations.id),
  tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
  /** orders updated at or after this instant are read on the next check */
  watermark: timestamp("watermark", { withTimezone: true }).notNull(),
  lastCheckedAt: timestamp("last_checked_at", { withTimezone: true }).notNull(),
});

export type MarketplaceCustomer = typeof marketplaceCustomers.$inferSelect;
export type MarketplaceProduct = typeof marketplaceProducts.$inferSelect;

