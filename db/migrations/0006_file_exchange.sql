CREATE TABLE "connection_passcodes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"target" text NOT NULL,
	"country" text NOT NULL,
	"passcode" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'waiting' NOT NULL,
	"connection_id" uuid,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connection_passcodes_passcode_unique" UNIQUE("passcode")
);
--> statement-breakpoint
CREATE TABLE "file_exchange_applications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"target" text NOT NULL,
	"status" text NOT NULL,
	"registration_url" text,
	"developer_id" text,
	"application_id" text,
	"secret_encrypted" text,
	"approval_url" text,
	"notification_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "file_exchange_applications_target_unique" UNIQUE("target")
);
--> statement-breakpoint
CREATE TABLE "file_uploads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"batch_id" uuid,
	"upload_id" text NOT NULL,
	"task_ids" jsonb NOT NULL,
	"documents" jsonb NOT NULL,
	"status" text DEFAULT 'prepared' NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"status_message" text,
	"tracking_url" text,
	"checks" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "file_uploads_upload_id_unique" UNIQUE("upload_id")
);
--> statement-breakpoint
ALTER TABLE "sage_contacts" ADD COLUMN "deleted_in_sage_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sage_items" ADD COLUMN "deleted_in_sage_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connection_passcodes" ADD CONSTRAINT "connection_passcodes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connection_passcodes" ADD CONSTRAINT "connection_passcodes_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_uploads" ADD CONSTRAINT "file_uploads_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_uploads" ADD CONSTRAINT "file_uploads_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_uploads" ADD CONSTRAINT "file_uploads_batch_id_sync_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."sync_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "connection_passcodes_tenant_idx" ON "connection_passcodes" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "file_uploads_connection_idx" ON "file_uploads" USING btree ("connection_id","created_at");