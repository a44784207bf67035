CREATE INDEX "marketplace_customers_name_trgm_idx" ON "marketplace_customers" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "marketplace_customers_email_lower_idx" ON "marketplace_customers" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "sync_tasks_order_idx" ON "sync_tasks" USING btree ("marketplace_order_id");--> statement-breakpoint
CREATE INDEX "sync_tasks_customer_idx" ON "sync_tasks" USING btree ("marketplace_customer_id");--> statement-breakpoint
CREATE INDEX "sage_documents_sage_id_idx" ON "sage_documents" USING btree ("sage_id");--> statement-breakpoint
CREATE INDEX "sage_documents_displayed_as_lower_idx" ON "sage_documents" USING btree (lower("displayed_as"));--> statement-breakpoint
CREATE INDEX "sage_documents_reference_lower_idx" ON "sage_documents" USING btree (lower("reference"));