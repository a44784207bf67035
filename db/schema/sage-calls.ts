import { pgTable, uuid, text, timestamp, integer, index, bigserial } from "drizzle-orm/pg-core";

/**
 * Every HTTP attempt made to Sage, with the task it served (the order trace, issue #13). One row per
 * attempt: a retry is a row of its own (`attempt` > 1). Bodies are redacted (no secrets, no
 * personal data) and truncated before they are stored (lib/trace/sage-call-recorder.ts); rows older
 * than SAGE_CALL_RETENTION_DAYS are purged by the daily retention flow.
 *
 * - (tenant_id, task_id, at): a task's calls in time order (the trace);
 * - (tenant_id, batch_id, at): the calls a batch or an upload made for many tasks;
 * - (at): retention.
 */
export const sageCalls = pgTable(
  "sage_calls",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    tenantId: uuid("tenant_id"),
    connectionId: uuid("connection_id"),
    taskId: uuid("task_id"),
    /** a Sync all batch, or a Sage 50 upload's batch */
    batchId: text("batch_id"),
    runId: text("run_id"),
    step: text("step"),
    target: text("target").notNull(),
    method: text("method").notNull(),
    /** the path without its query string */
    path: text("path").notNull(),
    /** null: no HTTP answer (network error, timeout) */
    status: integer("status"),
    durationMs: integer("duration_ms").notNull(),
    /** 1 = the first attempt, > 1 = a retry */
    attempt: integer("attempt").notNull().default(1),
    errorKind: text("error_kind"),
    errorMessage: text("error_message"),
    requestBody: text("request_body"),
    responseBody: text("response_body"),
  },
  (t) => [
    index("sage_calls_tenant_task_at_idx").on(t.tenantId, t.taskId, t.at),
    index("sage_calls_tenant_batch_at_idx").on(t.tenantId, t.batchId, t.at),
    index("sage_calls_at_idx").on(t.at),
  ],
);

export type SageCallRow = typeof sageCalls.$inferSelect;
export type NewSageCall = typeof sageCalls.$inferInsert;
