import { pgTable, uuid, text, timestamp, jsonb, index, bigserial } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

export const LOG_LEVELS = ["info", "success", "warning", "error", "action_required"] as const;
export const LOG_CATEGORIES = ["install", "auth", "settings", "mapping", "sync", "support", "system"] as const;
export const ACTOR_TYPES = ["user", "support", "system", "marketplace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogCategory = (typeof LOG_CATEGORIES)[number];
export type ActorType = (typeof ACTOR_TYPES)[number];

/**
 * Append-only Action Log. Written in the same transaction as the change it describes; rows older than
 * the tenant's retention are deleted by the daily purge (lib/log/retention.ts).
 *
 * Indexes serve the queries of lib/log/action-log-query.ts (newest first, keyset on (at, id)):
 * - (tenant_id, at desc, id desc): a tenant's log, a page after a cursor, date ranges, retention;
 * - (tenant_id, level, at desc, id desc): a tenant's log filtered by level(s);
 * - (at desc, id desc): support's cross-tenant log;
 * - trigram GIN on message (pg_trgm, on PostgreSQL and PGlite): the free-text filter (ILIKE '%…%').
 */
export const actionLog = pgTable(
  "action_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    tenantId: uuid("tenant_id").references(() => tenants.id),
    actorType: text("actor_type", { enum: ACTOR_TYPES }).notNull(),
    actorId: text("actor_id"),
    actorLabel: text("actor_label").notNull(),
    level: text("level", { enum: LOG_LEVELS }).notNull(),
    category: text("category", { enum: LOG_CATEGORIES }).notNull(),
    message: text("message").notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    taskId: uuid("task_id"),
  },
  (t) => [
    index("action_log_tenant_at_id_idx").on(t.tenantId, t.at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index("action_log_tenant_level_at_id_idx").on(t.tenantId, t.level, t.at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index("action_log_at_id_idx").on(t.at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index("action_log_message_trgm_idx").using("gin", t.message.op("gin_trgm_ops")),
  ],
);

export type ActionLogRow = typeof actionLog.$inferSelect;
