import { pgTable, uuid, text, timestamp, integer } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

export const USER_ROLES = ["reseller_admin", "support"] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** People who sign in: reseller admins (scoped to a tenant) and support staff (no tenant). */
export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  role: text("role", { enum: USER_ROLES }).notNull(),
  tenantId: uuid("tenant_id").references(() => tenants.id),
  /** scrypt hash (`scrypt$<salt>$<hash>`); null for users who only arrive through a marketplace launch. */
  passwordHash: text("password_hash"),
  /**
   * Raised on sign-out (and on anything that must end every session of the user): a session whose
   * JWT carries an older version is no longer accepted.
   */
  sessionVersion: integer("session_version").notNull().default(0),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export type User = typeof users.$inferSelect;
