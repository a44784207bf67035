import { pgTable, uuid, text, timestamp, jsonb, integer, primaryKey, index } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { connections } from "./connections";
import { syncTasks } from "./sync-tasks";

export const SYNC_BATCH_STATUSES = ["queued", "running", "completed", "failed"] as const;
export type SyncBatchStatus = (typeof SYNC_BATCH_STATUSES)[number];
export const SYNC_BATCH_TRIGGERS = ["sync_all", "sync_selected", "auto_sync", "sweeper", "reconnect"] as const;
export type SyncBatchTrigger = (typeof SYNC_BATCH_TRIGGERS)[number];

/**
 * One "Sync all" / "Sync selected" / auto-sync / sweeper request: the Inngest event carries only the
 * batch id; the tasks are rows of `sync_batch_tasks` (any number, in order), read a slice per step.
 */
export const syncBatches = pgTable(
  "sync_batches",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    connectionId: uuid("connection_id").notNull().references(() => connections.id),
    trigger: text("trigger", { enum: SYNC_BATCH_TRIGGERS }).notNull(),
    /** who asked (Action Log actor label) */
    requestedBy: text("requested_by").notNull(),
    taskCount: integer("task_count").notNull(),
    status: text("status", { enum: SYNC_BATCH_STATUSES }).notNull().default("queued"),
    /** BatchResult totals so far: { synced, failed, actionRequired, skipped, documents } */
    result: jsonb("result").$type<Record<string, number>>().notNull().default({}),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("sync_batches_tenant_created_idx").on(t.tenantId, t.createdAt)],
);

/** The tasks of a batch, in the order they are synced (`position` 0…taskCount-1). */
export const syncBatchTasks = pgTable(
  "sync_batch_tasks",
  {
    batchId: uuid("batch_id").notNull().references(() => syncBatches.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    taskId: uuid("task_id").notNull().references(() => syncTasks.id),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.position] }), index("sync_batch_tasks_task_idx").on(t.taskId)],
);

export type SyncBatch = typeof syncBatches.$inferSelect;
