-- pg_trgm (contrib; PGlite loads it as an extension, db/client.ts and db/pglite-worker.mjs) serves the Action Log's free-text filter
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
DROP INDEX "action_log_tenant_at_idx";--> statement-breakpoint
ALTER TABLE "tenant_settings" ADD COLUMN "action_log_retention_days" integer;--> statement-breakpoint
CREATE INDEX "action_log_tenant_at_id_idx" ON "action_log" USING btree ("tenant_id","at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "action_log_tenant_level_at_id_idx" ON "action_log" USING btree ("tenant_id","level","at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "action_log_at_id_idx" ON "action_log" USING btree ("at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "action_log_message_trgm_idx" ON "action_log" USING gin ("message" gin_trgm_ops);