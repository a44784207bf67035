CREATE TABLE "sage_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"tenant_id" uuid,
	"connection_id" uuid,
	"task_id" uuid,
	"batch_id" text,
	"run_id" text,
	"step" text,
	"target" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"status" integer,
	"duration_ms" integer NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"error_kind" text,
	"error_message" text,
	"request_body" text,
	"response_body" text
);
--> statement-breakpoint
CREATE INDEX "sage_calls_tenant_task_at_idx" ON "sage_calls" USING btree ("tenant_id","task_id","at");--> statement-breakpoint
CREATE INDEX "sage_calls_tenant_batch_at_idx" ON "sage_calls" USING btree ("tenant_id","batch_id","at");--> statement-breakpoint
CREATE INDEX "sage_calls_at_idx" ON "sage_calls" USING btree ("at");