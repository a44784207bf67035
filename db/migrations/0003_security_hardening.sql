CREATE TABLE "sign_in_throttles" (
	"key" text PRIMARY KEY NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"window_started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"blocked_until" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "inbox_events" DROP CONSTRAINT "inbox_events_pkey";--> statement-breakpoint
ALTER TABLE "inbox_events" ADD CONSTRAINT "inbox_events_installation_webhook_pk" PRIMARY KEY("installation_id","webhook_id");--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "session_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "installations" DROP COLUMN "marketplace_secret_encrypted";