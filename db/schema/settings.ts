import { pgTable, uuid, text, boolean, timestamp, jsonb, integer } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

export const PRICE_SOURCES = ["sage", "marketplace"] as const;
export const AUTO_SYNC_MODES = ["off", "daily", "every_5_minutes", "instant"] as const;
export const DOWNGRADE_MODES = ["credit_note", "quantity_only"] as const;
export const NOTIFICATION_MODES = ["errors_and_actions", "all_tasks"] as const;
export const INVOICE_MODES = ["new_per_order", "latest_open"] as const;

/** The seven settings of DESIGN.md flow 3, one row per tenant. */
export const tenantSettings = pgTable("tenant_settings", {
  tenantId: uuid("tenant_id").primaryKey().references(() => tenants.id),
  priceSource: text("price_source", { enum: PRICE_SOURCES }).notNull().default("marketplace"),
  trimDescription: boolean("trim_description").notNull().default(false),
  allowManyProductsToOneItem: boolean("allow_many_products_to_one_item").notNull().default(false),
  autoSync: text("auto_sync", { enum: AUTO_SYNC_MODES }).notNull().default("off"),
  downgrades: text("downgrades", { enum: DOWNGRADE_MODES }).notNull().default("credit_note"),
  notifications: text("notifications", { enum: NOTIFICATION_MODES }).notNull().default("errors_and_actions"),
  invoiceMode: text("invoice_mode", { enum: INVOICE_MODES }).notNull().default("new_per_order"),
  /**
   * The reseller's tax rule table (lib/sync/tax-rules.ts `TaxRule[]`, validated there); null = the
   * defaults for the business's country
   */
  taxRules: jsonb("tax_rules").$type<unknown[]>(),
  /** days the tenant's Action Log rows are kept (daily purge); null = ACTION_LOG_RETENTION_DAYS */
  actionLogRetentionDays: integer("action_log_retention_days"),
  /** null until the reseller has saved the settings window once */
  confirmedAt: timestamp("confirmed_at", { withTimezone: true }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type TenantSettings = typeof tenantSettings.$inferSelect;
