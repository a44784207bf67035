CREATE TABLE "sync_batch_tasks" (
	"batch_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"task_id" uuid NOT NULL,
	CONSTRAINT "sync_batch_tasks_batch_id_position_pk" PRIMARY KEY("batch_id","position")
);
--> statement-breakpoint
CREATE TABLE "sync_batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"trigger" text NOT NULL,
	"requested_by" text NOT NULL,
	"task_count" integer NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"result" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sage_rate_budgets" (
	"key" text PRIMARY KEY NOT NULL,
	"limit" integer NOT NULL,
	"period_ms" integer NOT NULL,
	"starts" double precision[] DEFAULT '{}'::double precision[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sync_batch_tasks" ADD CONSTRAINT "sync_batch_tasks_batch_id_sync_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."sync_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_batch_tasks" ADD CONSTRAINT "sync_batch_tasks_task_id_sync_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."sync_tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_batches" ADD CONSTRAINT "sync_batches_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_batches" ADD CONSTRAINT "sync_batches_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_batch_tasks_task_idx" ON "sync_batch_tasks" USING btree ("task_id");--> statement-breakpoint
CREATE INDEX "sync_batches_tenant_created_idx" ON "sync_batches" USING btree ("tenant_id","created_at");