import { pgTable, uuid, text, timestamp, boolean, unique, index } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { marketplaceCustomers, marketplaceProducts } from "./marketplace";

export const SAGE_ITEM_TYPES = ["product", "service"] as const;
export type SageItemType = (typeof SAGE_ITEM_TYPES)[number];

/** Marketplace customer → Sage contact, with the customer's own auto-sync toggle. */
export const customerMappings = pgTable(
  "customer_mappings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    customerId: uuid("customer_id").notNull().references(() => marketplaceCustomers.id),
    sageContactId: text("sage_contact_id"),
    sageContactName: text("sage_contact_name"),
    autoSync: boolean("auto_sync").notNull().default(false),
    mappedAt: timestamp("mapped_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("customer_mappings_tenant_customer_uq").on(t.tenantId, t.customerId), index("customer_mappings_contact_idx").on(t.tenantId, t.sageContactId)],
);

/** Marketplace product → Sage item (product or service). Many → one only when the setting allows it. */
export const productMappings = pgTable(
  "product_mappings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    productId: uuid("product_id").notNull().references(() => marketplaceProducts.id),
    sageItemId: text("sage_item_id").notNull(),
    sageItemType: text("sage_item_type", { enum: SAGE_ITEM_TYPES }).notNull(),
    sageItemCode: text("sage_item_code"),
    sageItemName: text("sage_item_name").notNull(),
    mappedAt: timestamp("mapped_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("product_mappings_tenant_product_uq").on(t.tenantId, t.productId), index("product_mappings_item_idx").on(t.tenantId, t.sageItemId)],
);

export const FEE_KINDS = ["cancellation"] as const;

/** A fee (e.g. the cancellation fee) → the Sage item it is invoiced as. */
export const feeMappings = pgTable(
  "fee_mappings",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    feeKind: text("fee_kind", { enum: FEE_KINDS }).notNull(),
    sageItemId: text("sage_item_id").notNull(),
    sageItemType: text("sage_item_type", { enum: SAGE_ITEM_TYPES }).notNull(),
    sageItemName: text("sage_item_name").notNull(),
    mappedAt: timestamp("mapped_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("fee_mappings_tenant_kind_uq").on(t.tenantId, t.feeKind)],
);

export type CustomerMapping = typeof customerMappings.$inferSelect;
export type ProductMapping = typeof productMappings.$inferSelect;
