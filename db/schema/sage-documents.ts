import { pgTable, uuid, text, timestamp, jsonb, unique, index } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { tenants } from "./tenants";
import { connections } from "./connections";
import { syncTasks } from "./sync-tasks";

export const SAGE_DOCUMENT_KINDS = ["contact", "sales_invoice", "sales_invoice_lines", "sales_credit_note", "service", "product", "contact_allocation"] as const;
export type SageDocumentKind = (typeof SAGE_DOCUMENT_KINDS)[number];

/**
 * Everything we created (or appended) in Sage. `idempotency_id` is derived from tenant + task +
 * kind, so a retried write can never become a second document.
 */
export const sageDocuments = pgTable(
  "sage_documents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    connectionId: uuid("connection_id").notNull().references(() => connections.id),
    taskId: uuid("task_id").references(() => syncTasks.id),
    kind: text("kind", { enum: SAGE_DOCUMENT_KINDS }).notNull(),
    sageId: text("sage_id").notNull(),
    /** e.g. the invoice number Sage gave it (SI-12) */
    displayedAs: text("displayed_as"),
    reference: text("reference"),
    idempotencyId: text("idempotency_id").notNull(),
    currency: text("currency"),
    billingPeriod: text("billing_period"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("sage_documents_idempotency_uq").on(t.idempotencyId),
    index("sage_documents_connection_kind_sage_idx").on(t.connectionId, t.kind, t.sageId),
    index("sage_documents_task_idx").on(t.taskId),
    // support's search across tenants: a Sage id, a number (SI-12) or a reference, case-insensitively
    index("sage_documents_sage_id_idx").on(t.sageId),
    index("sage_documents_displayed_as_lower_idx").on(sql`lower(${t.displayedAs})`),
    index("sage_documents_reference_lower_idx").on(sql`lower(${t.reference})`),
  ],
);

export type SageDocument = typeof sageDocuments.$inferSelect;
