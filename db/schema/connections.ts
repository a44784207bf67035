import { pgTable, uuid, text, timestamp, jsonb, unique, uniqueIndex, index } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { tenants, branches } from "./tenants";
import { installations } from "./installations";

export const CONNECTION_STATUSES = ["connected", "refreshing", "reconnect_required", "disconnected"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export type SageBusinessSummary = { id: string; name: string; country?: string | null };

/** One Sage target for a branch. Credentials are envelope-encrypted; never stored in plaintext. */
export const connections = pgTable(
  "connections",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    branchId: uuid("branch_id").notNull().references(() => branches.id),
    installationId: uuid("installation_id").references(() => installations.id),
    name: text("name").notNull(),
    /** e.g. "sage-accounting" */
    target: text("target").notNull(),
    country: text("country").notNull(),
    status: text("status", { enum: CONNECTION_STATUSES }).notNull(),
    businessId: text("business_id"),
    businessName: text("business_name"),
    availableBusinesses: jsonb("available_businesses").$type<SageBusinessSummary[]>().notNull().default([]),
    sageUserId: text("sage_user_id"),
    scope: text("scope"),
    /** envelope-encrypted JSON { accessToken, refreshToken } */
    credentialsEncrypted: text("credentials_encrypted"),
    tokensIssuedAt: timestamp("tokens_issued_at", { withTimezone: true }),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true }),
    refreshTokenIssuedAt: timestamp("refresh_token_issued_at", { withTimezone: true }),
    refreshTokenExpiresAt: timestamp("refresh_token_expires_at", { withTimezone: true }),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("connections_tenant_name_uq").on(t.tenantId, t.name),
    uniqueIndex("connections_one_active_per_branch_target")
      .on(t.branchId, t.target)
      .where(sql`${t.status} <> 'disconnected'`),
    index("connections_refresh_issued_idx").on(t.refreshTokenIssuedAt),
  ],
);

export type Connection = typeof connections.$inferSelect;
