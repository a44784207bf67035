import { pgTable, uuid, text, timestamp, index, integer } from "drizzle-orm/pg-core";
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

/**
 * Failed sign-ins per key (`email:<address>` or `ip:<address>`) in a fixed window: shared by every
 * app instance, so the limit holds across processes. A row whose window has passed starts over.
 */
export const signInThrottles = pgTable("sign_in_throttles", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull().default(0),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull().defaultNow(),
  blockedUntil: timestamp("blocked_until", { withTimezone: true }),
});
