CREATE TABLE "case_reply_numbers" (
	"case_id" text PRIMARY KEY NOT NULL,
	"reply_number" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reply_number_counters" (
	"unit_code" text NOT NULL,
	"year" integer NOT NULL,
	"last_value" integer NOT NULL,
	CONSTRAINT "reply_number_counters_pk" PRIMARY KEY("unit_code","year")
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "deadlines" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "tier_reason" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "application_number" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "wait_intervals" jsonb;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "reply_number" text;