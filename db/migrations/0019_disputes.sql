CREATE TABLE "disputes" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"unit_code" text NOT NULL,
	"routing_no" integer NOT NULL,
	"requesting_unit" text NOT NULL,
	"status" text NOT NULL,
	"reason" text NOT NULL,
	"suggested_unit" text,
	"filed_by" text NOT NULL,
	"filed_by_name" text NOT NULL,
	"filed_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone,
	"overdue_at" timestamp with time zone,
	"outcome" text,
	"target_unit" text,
	"decision_reason" text,
	"decided_by" text,
	"decided_by_name" text,
	"decided_at" timestamp with time zone,
	"decided_late" boolean,
	"seq" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "disputes_one_open_per_case_uq" ON "disputes" USING btree ("case_id") WHERE "disputes"."status" in ('open', 'overdue');--> statement-breakpoint
CREATE INDEX "disputes_unit_idx" ON "disputes" USING btree ("unit_code","filed_at");--> statement-breakpoint
CREATE INDEX "disputes_target_idx" ON "disputes" USING btree ("target_unit","filed_at");--> statement-breakpoint
CREATE INDEX "disputes_filed_idx" ON "disputes" USING btree ("filed_at");