import { pgTable, uuid, text, timestamp, jsonb, index, bigserial } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

export const LOG_LEVELS = ["info", "success", "warning", "error", "action_required"] as const;
export const LOG_CATEGORIES = ["install", "auth", "settings", "mapping", "sync", "support", "system"] as const;
export const ACTOR_TYPES = ["user", "support", "system", "marketplace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogCategory = (typeof LOG_CATEGORIES)[number];
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Append-only Action Log. Written in the same transaction as the change it describes. */
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
  (t) => [index("action_log_tenant_at_idx").on(t.tenantId, t.at)],
);

export type ActionLogRow = typeof actionLog.$inferSelect;
