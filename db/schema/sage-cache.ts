import { pgTable, uuid, text, timestamp, numeric, boolean, unique, index } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { connections } from "./connections";

/**
 * What the connected Sage business holds that mapping needs (items and contacts), cached so the
 * Mapping screen never waits on Sage. Refreshed by an Inngest function; `refreshed_at` is shown.
 */
export const sageItems = pgTable(
  "sage_items",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    connectionId: uuid("connection_id").notNull().references(() => connections.id),
    sageId: text("sage_id").notNull(),
    type: text("type", { enum: ["product", "service"] }).notNull(),
    itemCode: text("item_code"),
    description: text("description").notNull(),
    salesPrice: numeric("sales_price", { precision: 14, scale: 4 }),
    /** filled by the sync engine the first time it invoices the item */
    salesLedgerAccountId: text("sales_ledger_account_id"),
    salesTaxRateId: text("sales_tax_rate_id"),
    active: boolean("active").notNull().default(true),
    /** a file-exchange target's full file no longer lists it: deleted in Sage, flagged (never dropped silently) */
    deletedInSageAt: timestamp("deleted_in_sage_at", { withTimezone: true }),
    refreshedAt: timestamp("refreshed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("sage_items_connection_sage_uq").on(t.connectionId, t.sageId), index("sage_items_tenant_code_idx").on(t.tenantId, t.itemCode)],
);

export const sageContacts = pgTable(
  "sage_contacts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    connectionId: uuid("connection_id").notNull().references(() => connections.id),
    sageId: text("sage_id").notNull(),
    name: text("name").notNull(),
    reference: text("reference"),
    email: text("email"),
    currency: text("currency"),
    /** a file-exchange target's full file no longer lists it: deleted in Sage, flagged (never dropped silently) */
    deletedInSageAt: timestamp("deleted_in_sage_at", { withTimezone: true }),
    refreshedAt: timestamp("refreshed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("sage_contacts_connection_sage_uq").on(t.connectionId, t.sageId), index("sage_contacts_tenant_email_idx").on(t.tenantId, t.email)],
);

export type SageItemRow = typeof sageItems.$inferSelect;
export type SageContactRow = typeof sageContacts.$inferSelect;
