ALTER TABLE "case_events" ADD COLUMN "run_id" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "run_id" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "last_event_at" timestamp with time zone;