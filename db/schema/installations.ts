import { pgTable, uuid, text, timestamp, jsonb, unique, index } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

/** The plugin installed for a tenant from one marketplace (brand). */
export const installations = pgTable(
  "installations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    marketplaceId: text("marketplace_id").notNull(),
    brandId: text("brand_id").notNull(),
    /**
     * This installation's own secret: the Standard Webhooks key (`whsec_…`) the marketplace issued at
     * registration and signs this installation's events with, envelope-encrypted. Launch tokens are
     * verified with the marketplace's configured secret(s), never with a copy stored here.
     */
    webhookSecretEncrypted: text("webhook_secret_encrypted"),
    /** the marketplace's id for this installation (its API and webhooks use it) */
    marketplaceInstallationId: text("marketplace_installation_id"),
    allowedEmbedOrigins: jsonb("allowed_embed_origins").$type<string[]>().notNull().default([]),
    installedAt: timestamp("installed_at", { withTimezone: true }).notNull().defaultNow(),
    /** set by the marketplace's `installation.uninstalled` event; cleared by installing again */
    uninstalledAt: timestamp("uninstalled_at", { withTimezone: true }),
    /** when the kept tenant data is purged (uninstalled + the retention); null while installed */
    purgeAfter: timestamp("purge_after", { withTimezone: true }),
    /** when the purge flow deleted the tenant's data */
    purgedAt: timestamp("purged_at", { withTimezone: true }),
  },
  (t) => [unique("installations_tenant_marketplace_uq").on(t.tenantId, t.marketplaceId), index("installations_purge_after_idx").on(t.purgeAfter)],
);

export type Installation = typeof installations.$inferSelect;
