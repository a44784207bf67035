import { pgTable, uuid, text, timestamp, jsonb, primaryKey } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { installations } from "./installations";

/**
 * Every verified webhook delivery, keyed by (installation, `webhook-id`): the dedupe happens here,
 * before anything else. The key includes the installation because webhook ids are unique only per
 * sender: another installation's event with the same id is a different event.
 */
export const inboxEvents = pgTable(
  "inbox_events",
  {
  webhookId: text("webhook_id").notNull(),
  installationId: uuid("installation_id").notNull().references(() => installations.id),
  tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
  type: text("type").notNull(),
  payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  processedAt: timestamp("processed_at", { withTimezone: true }),
  error: text("error"),
  },
  (t) => [primaryKey({ name: "inbox_events_installation_webhook_pk", columns: [t.installationId, t.webhookId] })],
);

export type InboxEvent = typeof inboxEvents.$inferSelect;
