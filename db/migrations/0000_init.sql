CREATE TYPE "public"."calendar_day_kind" AS ENUM('work', 'off');--> statement-breakpoint
CREATE TYPE "public"."sla_tier" AS ENUM('30m', '1d', '2d');--> statement-breakpoint
CREATE TYPE "public"."staff_role" AS ENUM('liaison', 'agent', 'supervisor', 'admin');--> statement-breakpoint
CREATE TYPE "public"."unit_kind" AS ENUM('department', 'office');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" text,
	"actor_unit" text,
	"action" text NOT NULL,
	"case_id" text,
	"purpose" text,
	"source_ip" text,
	"outcome" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "calendar_days" (
	"date" text PRIMARY KEY NOT NULL,
	"kind" "calendar_day_kind" NOT NULL,
	"name" text,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "calendar_settings" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"office_hours" jsonb NOT NULL,
	"extra_covered_years" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"off_hours_receipt" text DEFAULT 'next-opening' NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "case_doc_numbers" (
	"case_id" text PRIMARY KEY NOT NULL,
	"doc_number" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "case_events" (
	"case_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" text,
	"actor_unit" text,
	"on_behalf_of" text,
	"reason" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "case_events_pk" PRIMARY KEY("case_id","seq")
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" text PRIMARY KEY NOT NULL,
	"doc_number" text NOT NULL,
	"requesting_unit" text NOT NULL,
	"issuing_unit" text NOT NULL,
	"catalog_code" text NOT NULL,
	"catalog_version" integer NOT NULL,
	"subject_kind" text NOT NULL,
	"subject_masked" text NOT NULL,
	"subject_id_hash" text NOT NULL,
	"purpose" text NOT NULL,
	"tier" "sla_tier" NOT NULL,
	"status" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"flags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"assignee_id" text,
	"registered_at" timestamp with time zone,
	"registered_by" text,
	"routing_no" integer DEFAULT 1 NOT NULL,
	"completed_at" timestamp with time zone,
	"result" text,
	"answer" jsonb,
	"waited_working_minutes" integer,
	"late" boolean DEFAULT false NOT NULL,
	"late_minutes" integer,
	"escalation_level" integer DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"last_seq" integer NOT NULL,
	"content" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_items" (
	"code" text NOT NULL,
	"version" integer NOT NULL,
	"name" text NOT NULL,
	"service_item_name" text NOT NULL,
	"service_item_code" text,
	"legal_basis" text NOT NULL,
	"issuing_unit_codes" jsonb NOT NULL,
	"default_tier" "sla_tier" NOT NULL,
	"exemption_method" text NOT NULL,
	"request_schema" jsonb NOT NULL,
	"response_schema" jsonb NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "catalog_items_pk" PRIMARY KEY("code","version")
);
--> statement-breakpoint
CREATE TABLE "doc_number_counters" (
	"unit_code" text NOT NULL,
	"year" integer NOT NULL,
	"last_value" integer NOT NULL,
	CONSTRAINT "doc_number_counters_pk" PRIMARY KEY("unit_code","year")
);
--> statement-breakpoint
CREATE TABLE "escalations" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"level" integer NOT NULL,
	"status" text NOT NULL,
	"issuing_unit" text NOT NULL,
	"requesting_unit" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"missed_due_at" timestamp with time zone NOT NULL,
	"routing_no" integer NOT NULL,
	"ordered_due_at" timestamp with time zone,
	"ordered_by" text,
	"order_note" text,
	"case_completed_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"closed_by" text,
	"outcome" text,
	"last_seq" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"staff_id" text NOT NULL,
	"key" text NOT NULL,
	"route" text NOT NULL,
	"body_hash" text NOT NULL,
	"status_code" integer,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pk" PRIMARY KEY("staff_id","key")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text,
	"recipient_staff_id" text,
	"recipient_unit" text,
	"kind" text NOT NULL,
	"message" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"read_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "staff" (
	"id" text PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"display_name" text NOT NULL,
	"unit_code" text NOT NULL,
	"role" "staff_role" NOT NULL,
	"partner_id" text,
	"password_hash" text NOT NULL,
	"must_change_password" boolean DEFAULT false NOT NULL,
	"failed_logins" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"is_demo" boolean DEFAULT false NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff_absences" (
	"id" text PRIMARY KEY NOT NULL,
	"staff_id" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"reason" text,
	"recorded_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "system_meta" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "units" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"doc_prefix" text NOT NULL,
	"parent_code" text,
	"kind" "unit_kind" DEFAULT 'department' NOT NULL,
	"can_request" boolean DEFAULT true NOT NULL,
	"can_issue" boolean DEFAULT false NOT NULL,
	"contact" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "staff" ADD CONSTRAINT "staff_unit_code_units_code_fk" FOREIGN KEY ("unit_code") REFERENCES "public"."units"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_absences" ADD CONSTRAINT "staff_absences_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_case_idx" ON "audit_log" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "cases_doc_number_uq" ON "cases" USING btree ("doc_number");--> statement-breakpoint
CREATE INDEX "cases_issuing_due_idx" ON "cases" USING btree ("issuing_unit","status","due_at");--> statement-breakpoint
CREATE INDEX "cases_requesting_due_idx" ON "cases" USING btree ("requesting_unit","status","due_at");--> statement-breakpoint
CREATE INDEX "cases_subject_hash_idx" ON "cases" USING btree ("subject_id_hash");--> statement-breakpoint
CREATE INDEX "escalations_case_idx" ON "escalations" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "escalations_status_idx" ON "escalations" USING btree ("status","opened_at");--> statement-breakpoint
CREATE INDEX "notifications_staff_idx" ON "notifications" USING btree ("recipient_staff_id","created_at");--> statement-breakpoint
CREATE INDEX "notifications_unit_idx" ON "notifications" USING btree ("recipient_unit","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "staff_username_uq" ON "staff" USING btree ("username");--> statement-breakpoint
CREATE INDEX "staff_unit_idx" ON "staff" USING btree ("unit_code");--> statement-breakpoint
CREATE INDEX "staff_absences_staff_idx" ON "staff_absences" USING btree ("staff_id");