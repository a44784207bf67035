ALTER TABLE "installations" ADD COLUMN "uninstalled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "installations" ADD COLUMN "purge_after" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "installations" ADD COLUMN "purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenant_settings" ADD COLUMN "tax_rules" jsonb;--> statement-breakpoint
CREATE INDEX "installations_purge_after_idx" ON "installations" USING btree ("purge_after");