ALTER TYPE "public"."staff_role" ADD VALUE 'reviewer';--> statement-breakpoint
CREATE TABLE "escalation_records" (
	"id" text PRIMARY KEY NOT NULL,
	"escalation_id" text NOT NULL,
	"case_id" text NOT NULL,
	"kind" text NOT NULL,
	"parent_id" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"recorded_by" text NOT NULL,
	"recorded_by_name" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "responsible" jsonb;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "missed_orders" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "judged_level" integer;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "judged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "judged_by" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "judgement_reason" text;--> statement-breakpoint
ALTER TABLE "staff" ADD COLUMN "is_leader" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "escalation_records_escalation_idx" ON "escalation_records" USING btree ("escalation_id","recorded_at");--> statement-breakpoint
CREATE INDEX "escalations_unit_opened_idx" ON "escalations" USING btree ("issuing_unit","opened_at","id");