CREATE TABLE "answer_reviews" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"unit_code" text NOT NULL,
	"draft" jsonb NOT NULL,
	"author" jsonb NOT NULL,
	"author_id" text NOT NULL,
	"submitted_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"reviewer_id" text,
	"reviewed_at" timestamp with time zone,
	"reason" text
);
--> statement-breakpoint
CREATE TABLE "catalog_changes" (
	"id" text PRIMARY KEY NOT NULL,
	"unit_code" text NOT NULL,
	"cause_kind" text NOT NULL,
	"cause_date" date NOT NULL,
	"cause_description" text NOT NULL,
	"item_code" text,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"filing_due_at" timestamp with time zone NOT NULL,
	"filing_remind_at" timestamp with time zone NOT NULL,
	"reminder_sent_at" timestamp with time zone,
	"filing_overdue_at" timestamp with time zone,
	"change_type" text,
	"request" jsonb,
	"filed_by" text,
	"filed_at" timestamp with time zone,
	"filed_late" boolean DEFAULT false NOT NULL,
	"decision_due_at" timestamp with time zone,
	"decision_overdue_at" timestamp with time zone,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"published_version" integer,
	"published_at" timestamp with time zone,
	"snapshot" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "units" ADD COLUMN "answer_review_required" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "answer_reviews_unit_idx" ON "answer_reviews" USING btree ("unit_code","status");--> statement-breakpoint
CREATE INDEX "answer_reviews_case_idx" ON "answer_reviews" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "catalog_changes_unit_idx" ON "catalog_changes" USING btree ("unit_code","recorded_at");--> statement-breakpoint
CREATE INDEX "catalog_changes_status_idx" ON "catalog_changes" USING btree ("status");