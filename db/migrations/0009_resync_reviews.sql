CREATE TABLE "resync_review_customers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"review_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"matched_by" text,
	"sage_contact_id" text,
	"sage_contact_name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "resync_review_customers_review_customer_uq" UNIQUE("review_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "resync_reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"business_id" text NOT NULL,
	"business_name" text,
	"status" text DEFAULT 'checking' NOT NULL,
	"customers_total" integer DEFAULT 0 NOT NULL,
	"customers_checked" integer DEFAULT 0 NOT NULL,
	"contacts_read" integer DEFAULT 0 NOT NULL,
	"matched" integer DEFAULT 0 NOT NULL,
	"to_create" integer DEFAULT 0 NOT NULL,
	"created" integer DEFAULT 0 NOT NULL,
	"started_by" text NOT NULL,
	"confirmed_by" text,
	"confirmed_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "resync_review_customers" ADD CONSTRAINT "resync_review_customers_review_id_resync_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."resync_reviews"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resync_review_customers" ADD CONSTRAINT "resync_review_customers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resync_review_customers" ADD CONSTRAINT "resync_review_customers_customer_id_marketplace_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."marketplace_customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resync_reviews" ADD CONSTRAINT "resync_reviews_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resync_reviews" ADD CONSTRAINT "resync_reviews_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "resync_review_customers_review_outcome_idx" ON "resync_review_customers" USING btree ("review_id","outcome");--> statement-breakpoint
CREATE UNIQUE INDEX "resync_reviews_one_active_per_tenant" ON "resync_reviews" USING btree ("tenant_id") WHERE "resync_reviews"."status" in ('checking', 'awaiting_confirmation', 'creating');--> statement-breakpoint
CREATE INDEX "resync_reviews_tenant_created_idx" ON "resync_reviews" USING btree ("tenant_id","created_at");