import { sql } from "drizzle-orm";
import { pgTable, uuid, text, timestamp, jsonb, integer, index } from "drizzle-orm/pg-core";

export const INLINE_RUN_STATUSES = ["queued", "running", "completed", "failed"] as const;

/**
 * Durable state of the inline Inngest runner (development and test mode, used when no Inngest
 * server is configured). One row per function run; `steps` memoizes finished step results so a run
 * resumes after a restart exactly where it stopped.
 */
export const inlineRuns = pgTable(
  "inline_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    functionId: text("function_id").notNull(),
    event: jsonb("event").$type<{ name: string; data: unknown; id?: string; ts?: number }>().notNull(),
    concurrencyKey: text("concurrency_key"),
    status: text("status", { enum: INLINE_RUN_STATUSES }).notNull().default("queued"),
    attempt: integer("attempt").notNull().default(0),
    runAt: timestamp("run_at", { withTimezone: true }).notNull().defaultNow(),
    steps: jsonb("steps").$type<Record<string, unknown>>().notNull().default({}),
    output: jsonb("output"),
    lastError: text("last_error"),
    lockedBy: text("locked_by"),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("inline_runs_due_idx").on(t.status, t.runAt),
    // `send` looks an explicit event id up (the 24 h dedupe) on every event: without this index that is a
    // sequential scan of every run (~14 ms at 30,000 runs, bench/webhook-p5.ts), with it ~0.05 ms
    index("inline_runs_event_id_idx").using("btree", sql`(${t.event}->>'id')`),
  ],
);

/** Last time each cron-triggered function fired (so a restart neither skips nor repeats a tick). */
export const inlineCronMarks = pgTable("inline_cron_marks", {
  functionId: text("function_id").primaryKey(),
  lastFiredAt: timestamp("last_fired_at", { withTimezone: true }).notNull(),
});
