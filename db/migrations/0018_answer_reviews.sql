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
ALTER TABLE "units" ADD COLUMN "answer_review_required" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "answer_reviews_unit_idx" ON "answer_reviews" USING btree ("unit_code","status");--> statement-breakpoint
CREATE INDEX "answer_reviews_case_idx" ON "answer_reviews" USING btree ("case_id");