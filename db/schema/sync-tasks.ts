import { pgTable, uuid, text, timestamp, jsonb, integer, unique, index } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

export const TASK_STATES = ["pending", "processing", "synced", "action_required", "failed", "ignored"] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const ORDER_TYPES = ["sales", "change", "billing", "cancellation"] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

/** One item of an order with its change: quantities as numbers (parsed from the marketplace's strings). */
export type TaskItemDelta = {
  mpn: string;
  name?: string;
  quantity: number;
  oldQuantity: number;
  change: "added" | "removed" | "upgrade" | "downgrade" | "unchanged" | "usage";
  /** quantity - oldQuantity */
  delta: number;
  unitPrice?: string | null;
  /** the line's net amount as the marketplace states it (pro-rated mid-cycle change, usage): invoiced as is */
  amount?: string | null;
};

/** One marketplace order to sync to Sage. Unique per (tenant, marketplace order). */
export const syncTasks = pgTable(
  "sync_tasks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    marketplaceOrderId: text("marketplace_order_id").notNull(),
    marketplaceCustomerId: text("marketplace_customer_id").notNull(),
    requestType: text("request_type").notNull(),
    orderType: text("order_type", { enum: ORDER_TYPES }).notNull(),
    state: text("state", { enum: TASK_STATES }).notNull().default("pending"),
    /** why the task is action_required / failed / ignored, in words a reseller can act on */
    reason: text("reason"),
    /** where to fix it (e.g. /mapping/products?unmapped=1) */
    reasonLink: text("reason_link"),
    items: jsonb("items").$type<TaskItemDelta[]>().notNull().default([]),
    currency: text("currency"),
    billingPeriod: text("billing_period"),
    order: jsonb("order").$type<Record<string, unknown>>().notNull(),
    source: text("source", { enum: ["push", "pull"] }).notNull(),
    orderCreatedAt: timestamp("order_created_at", { withTimezone: true }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    ignoredAt: timestamp("ignored_at", { withTimezone: true }),
    ignoredBy: text("ignored_by"),
    syncedAt: timestamp("synced_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("sync_tasks_tenant_order_uq").on(t.tenantId, t.marketplaceOrderId),
    index("sync_tasks_tenant_state_idx").on(t.tenantId, t.state, t.createdAt),
    // support's search across tenants: an order id or a customer id without its tenant
    index("sync_tasks_order_idx").on(t.marketplaceOrderId),
    index("sync_tasks_customer_idx").on(t.marketplaceCustomerId),
  ],
);

export type SyncTask = typeof syncTasks.$inferSelect;
