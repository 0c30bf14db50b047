CREATE TABLE "complaint_events" (
	"complaint_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" text,
	"actor_name" text,
	"actor_unit" text,
	"reason" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "complaint_events_pk" PRIMARY KEY("complaint_id","seq")
);
--> statement-breakpoint
CREATE TABLE "complaints" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" integer NOT NULL,
	"status" text NOT NULL,
	"unit_code" text NOT NULL,
	"handling_unit" text,
	"assignee_id" text,
	"assignee_name" text,
	"channel" text NOT NULL,
	"ticket_no" text,
	"related_case_id" text,
	"complainant_name" text NOT NULL,
	"complainant_phone" text NOT NULL,
	"content" text NOT NULL,
	"accepted_at" timestamp with time zone NOT NULL,
	"accepted_by" text NOT NULL,
	"accepted_by_name" text NOT NULL,
	"accepted_unit" text NOT NULL,
	"assigned_at" timestamp with time zone,
	"due_at" timestamp with time zone NOT NULL,
	"original_due_at" timestamp with time zone NOT NULL,
	"deadline_flags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"extension" jsonb,
	"escalated_at" timestamp with time zone,
	"answered_at" timestamp with time zone,
	"answered_by" text,
	"answered_by_name" text,
	"answer" text,
	"answered_on_time" boolean,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "complaints_handling_idx" ON "complaints" USING btree ("handling_unit","accepted_at");--> statement-breakpoint
CREATE INDEX "complaints_unit_idx" ON "complaints" USING btree ("unit_code","accepted_at");--> statement-breakpoint
CREATE INDEX "complaints_accepted_idx" ON "complaints" USING btree ("accepted_at","id");