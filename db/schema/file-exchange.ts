import { pgTable, uuid, text, timestamp, integer, jsonb, index } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { connections } from "./connections";
import { syncBatches } from "./sync-batches";

/**
 * File-exchange targets (Sage 50 Cloud): the deployment's application registration, the passcodes
 * resellers are shown, and the order files uploaded with their tracking.
 */

export const FILE_EXCHANGE_APPLICATION_STATUSES = ["registering", "ready"] as const;

/** One per target per deployment (operator set-up); the secret is envelope-encrypted. */
export const fileExchangeApplications = pgTable("file_exchange_applications", {
  id: uuid("id").primaryKey().defaultRandom(),
  target: text("target").notNull().unique(),
  status: text("status", { enum: FILE_EXCHANGE_APPLICATION_STATUSES }).notNull(),
  registrationUrl: text("registration_url"),
  developerId: text("developer_id"),
  applicationId: text("application_id"),
  secretEncrypted: text("secret_encrypted"),
  approvalUrl: text("approval_url"),
  notificationUrl: text("notification_url"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const PASSCODE_STATUSES = ["waiting", "granted", "denied"] as const;
export type PasscodeStatus = (typeof PASSCODE_STATUSES)[number];

/** A passcode a reseller enters in Sage 50 desktop; the approval call names it. */
export const connectionPasscodes = pgTable(
  "connection_passcodes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    target: text("target").notNull(),
    country: text("country").notNull(),
    passcode: text("passcode").notNull().unique(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    status: text("status", { enum: PASSCODE_STATUSES }).notNull().default("waiting"),
    connectionId: uuid("connection_id").references(() => connections.id),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("connection_passcodes_tenant_idx").on(t.tenantId, t.createdAt)],
);

export const FILE_UPLOAD_STATUSES = ["prepared", "uploaded", "received", "validating", "processing", "accepted", "failed", "badRequest", "applied"] as const;
export type FileUploadStatus = (typeof FILE_UPLOAD_STATUSES)[number];

/**
 * One order file: its id is derived from the tasks it carries and stored BEFORE the upload, so the
 * same tasks are never uploaded twice and a crash between upload and tracking resumes tracking.
 */
export const fileUploads = pgTable(
  "file_uploads",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    connectionId: uuid("connection_id").notNull().references(() => connections.id),
    batchId: uuid("batch_id").references(() => syncBatches.id),
    uploadId: text("upload_id").notNull().unique(),
    taskIds: jsonb("task_ids").$type<string[]>().notNull(),
    /** the documents the file carries, as planned when it was prepared (a retried upload sends exactly these) */
    documents: jsonb("documents").$type<unknown[]>().notNull(),
    status: text("status", { enum: FILE_UPLOAD_STATUSES }).notNull().default("prepared"),
    progress: integer("progress").notNull().default(0),
    statusMessage: text("status_message"),
    trackingUrl: text("tracking_url"),
    checks: integer("checks").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("file_uploads_connection_idx").on(t.connectionId, t.createdAt)],
);

export type FileUpload = typeof fileUploads.$inferSelect;
