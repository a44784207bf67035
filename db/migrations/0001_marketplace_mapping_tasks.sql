CREATE TABLE "marketplace_customers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"marketplace_customer_id" text NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"currency" text,
	"raw" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "marketplace_customers_tenant_mp_uq" UNIQUE("tenant_id","marketplace_customer_id")
);
--> statement-breakpoint
CREATE TABLE "marketplace_products" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"marketplace_product_id" text NOT NULL,
	"mpn" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"unit_price" numeric(14, 4),
	"currency" text,
	"billing_period" text,
	"kind" text DEFAULT 'item' NOT NULL,
	"raw" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "marketplace_products_tenant_mp_uq" UNIQUE("tenant_id","marketplace_product_id")
);
--> statement-breakpoint
CREATE TABLE "order_watermarks" (
	"installation_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"watermark" timestamp with time zone NOT NULL,
	"last_checked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_mappings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"sage_contact_id" text,
	"sage_contact_name" text,
	"auto_sync" boolean DEFAULT false NOT NULL,
	"mapped_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_mappings_tenant_customer_uq" UNIQUE("tenant_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "fee_mappings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"fee_kind" text NOT NULL,
	"sage_item_id" text NOT NULL,
	"sage_item_type" text NOT NULL,
	"sage_item_name" text NOT NULL,
	"mapped_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fee_mappings_tenant_kind_uq" UNIQUE("tenant_id","fee_kind")
);
--> statement-breakpoint
CREATE TABLE "product_mappings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"sage_item_id" text NOT NULL,
	"sage_item_type" text NOT NULL,
	"sage_item_code" text,
	"sage_item_name" text NOT NULL,
	"mapped_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "product_mappings_tenant_product_uq" UNIQUE("tenant_id","product_id")
);
--> statement-breakpoint
CREATE TABLE "sage_contacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"sage_id" text NOT NULL,
	"name" text NOT NULL,
	"reference" text,
	"email" text,
	"currency" text,
	"refreshed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sage_contacts_connection_sage_uq" UNIQUE("connection_id","sage_id")
);
--> statement-breakpoint
CREATE TABLE "sage_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"sage_id" text NOT NULL,
	"type" text NOT NULL,
	"item_code" text,
	"description" text NOT NULL,
	"sales_price" numeric(14, 4),
	"active" boolean DEFAULT true NOT NULL,
	"refreshed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sage_items_connection_sage_uq" UNIQUE("connection_id","sage_id")
);
--> statement-breakpoint
CREATE TABLE "inbox_events" (
	"webhook_id" text PRIMARY KEY NOT NULL,
	"installation_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "sync_tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"marketplace_order_id" text NOT NULL,
	"marketplace_customer_id" text NOT NULL,
	"request_type" text NOT NULL,
	"order_type" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"reason_link" text,
	"items" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"currency" text,
	"billing_period" text,
	"order" jsonb NOT NULL,
	"source" text NOT NULL,
	"order_created_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"ignored_at" timestamp with time zone,
	"ignored_by" text,
	"synced_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_tasks_tenant_order_uq" UNIQUE("tenant_id","marketplace_order_id")
);
--> statement-breakpoint
ALTER TABLE "installations" ADD COLUMN "webhook_secret_encrypted" text;--> statement-breakpoint
ALTER TABLE "installations" ADD COLUMN "marketplace_installation_id" text;--> statement-breakpoint
ALTER TABLE "marketplace_customers" ADD CONSTRAINT "marketplace_customers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "marketplace_products" ADD CONSTRAINT "marketplace_products_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_watermarks" ADD CONSTRAINT "order_watermarks_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_watermarks" ADD CONSTRAINT "order_watermarks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_mappings" ADD CONSTRAINT "customer_mappings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_mappings" ADD CONSTRAINT "customer_mappings_customer_id_marketplace_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."marketplace_customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fee_mappings" ADD CONSTRAINT "fee_mappings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_mappings" ADD CONSTRAINT "product_mappings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_mappings" ADD CONSTRAINT "product_mappings_product_id_marketplace_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."marketplace_products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sage_contacts" ADD CONSTRAINT "sage_contacts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sage_contacts" ADD CONSTRAINT "sage_contacts_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sage_items" ADD CONSTRAINT "sage_items_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sage_items" ADD CONSTRAINT "sage_items_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbox_events" ADD CONSTRAINT "inbox_events_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbox_events" ADD CONSTRAINT "inbox_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_tasks" ADD CONSTRAINT "sync_tasks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "marketplace_customers_tenant_name_idx" ON "marketplace_customers" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "marketplace_products_tenant_mpn_idx" ON "marketplace_products" USING btree ("tenant_id","mpn");--> statement-breakpoint
CREATE INDEX "marketplace_products_tenant_name_idx" ON "marketplace_products" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "customer_mappings_contact_idx" ON "customer_mappings" USING btree ("tenant_id","sage_contact_id");--> statement-breakpoint
CREATE INDEX "product_mappings_item_idx" ON "product_mappings" USING btree ("tenant_id","sage_item_id");--> statement-breakpoint
CREATE INDEX "sage_contacts_tenant_email_idx" ON "sage_contacts" USING btree ("tenant_id","email");--> statement-breakpoint
CREATE INDEX "sage_items_tenant_code_idx" ON "sage_items" USING btree ("tenant_id","item_code");--> statement-breakpoint
CREATE INDEX "sync_tasks_tenant_state_idx" ON "sync_tasks" USING btree ("tenant_id","state","created_at");