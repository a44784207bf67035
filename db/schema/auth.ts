import { pgTable, uuid, text, timestamp, index } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

/** Single-use OAuth `state` nonces. A nonce is consumed exactly once (used_at set atomically). */
export const oauthStates = pgTable(
  "oauth_states",
  {
    nonce: text("nonce").primaryKey(),
    purpose: text("purpose", { enum: ["connect", "validate_redirect"] }).notNull(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    installationId: uuid("installation_id"),
    userId: uuid("user_id"),
    product: text("product"),
    country: text("country"),
    /** connection to re-authorize (Reconnect), if any */
    connectionId: uuid("connection_id"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("oauth_states_expires_idx").on(t.expiresAt)],
);

/** Marketplace launch tokens already used (single use by `jti`). */
export const launchTokenUses = pgTable("launch_token_uses", {
  jti: text("jti").primaryKey(),
  marketplaceId: text("marketplace_id").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }).notNull().defaultNow(),
});
