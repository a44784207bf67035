import { pgTable, text, timestamp, integer, doublePrecision } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";

/**
 * One pace per Sage business, shared by every process: the start times (epoch ms, database clock)
 * of the calls admitted in the current window. A worker admits a call only inside one atomic
 * statement on this row, so all app instances together stay within Sage's limit.
 */
export const sageRateBudgets = pgTable("sage_rate_budgets", {
  /** e.g. "sage-accounting:business:<businessId>" */
  key: text("key").primaryKey(),
  limit: integer("limit").notNull(),
  periodMs: integer("period_ms").notNull(),
  /** admitted call starts still inside the window (plus margin), oldest first */
  starts: doublePrecision("starts").array().notNull().default(sql`'{}'::double precision[]`),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
