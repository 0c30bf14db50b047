CREATE TABLE "batch_rows" (
	"batch_id" text NOT NULL,
	"row_number" integer NOT NULL,
	"status" text NOT NULL,
	"subject_masked" text NOT NULL,
	"content" jsonb NOT NULL,
	"errors" jsonb NOT NULL,
	"case_id" text,
	"doc_number" text,
	"failure" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batch_rows_pk" PRIMARY KEY("batch_id","row_number")
);
--> statement-breakpoint
CREATE TABLE "batches" (
	"id" text PRIMARY KEY NOT NULL,
	"unit_code" text NOT NULL,
	"catalog_code" text NOT NULL,
	"catalog_version" integer NOT NULL,
	"file_name" text NOT NULL,
	"file_hash" text,
	"status" text NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"valid" integer DEFAULT 0 NOT NULL,
	"invalid" integer DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_by" text,
	"submitted_at" timestamp with time zone,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "batch_rows_status_idx" ON "batch_rows" USING btree ("batch_id","status","row_number");--> statement-breakpoint
CREATE UNIQUE INDEX "batches_unit_file_uq" ON "batches" USING btree ("unit_code","catalog_code","file_hash");--> statement-breakpoint
CREATE INDEX "batches_unit_created_idx" ON "batches" USING btree ("unit_code","created_at");