import { pgTable, uuid, text, timestamp, jsonb } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { installations } from "./installations";

/** Every verified webhook delivery, keyed by `webhook-id`: the dedupe happens here, before anything else. */
export const inboxEvents = pgTable("inbox_events", {
  webhookId: text("webhook_id").primaryKey(),
  installationId: uuid("installation_id").notNull().references(() => installations.id),
  tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
  type: text("type").notNull(),
  payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  processedAt: timestamp("processed_at", { withTimezone: true }),
  error: text("error"),
});

export type InboxEvent = typeof inboxEvents.$inferSelect;
