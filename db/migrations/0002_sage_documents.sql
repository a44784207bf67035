CREATE TABLE "sage_documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"task_id" uuid,
	"kind" text NOT NULL,
	"sage_id" text NOT NULL,
	"displayed_as" text,
	"reference" text,
	"idempotency_id" text NOT NULL,
	"currency" text,
	"billing_period" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sage_documents_idempotency_uq" UNIQUE("idempotency_id")
);
--> statement-breakpoint
ALTER TABLE "sage_items" ADD COLUMN "sales_ledger_account_id" text;--> statement-breakpoint
ALTER TABLE "sage_items" ADD COLUMN "sales_tax_rate_id" text;--> statement-breakpoint
ALTER TABLE "sage_documents" ADD CONSTRAINT "sage_documents_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sage_documents" ADD CONSTRAINT "sage_documents_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sage_documents" ADD CONSTRAINT "sage_documents_task_id_sync_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."sync_tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sage_documents_connection_kind_sage_idx" ON "sage_documents" USING btree ("connection_id","kind","sage_id");--> statement-breakpoint
CREATE INDEX "sage_documents_task_idx" ON "sage_documents" USING btree ("task_id");