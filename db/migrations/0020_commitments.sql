CREATE TABLE "commitments" (
	"id" text PRIMARY KEY NOT NULL,
	"requesting_unit" text NOT NULL,
	"issuing_unit" text NOT NULL,
	"catalog_code" text NOT NULL,
	"catalog_name" text NOT NULL,
	"subject_kind" text NOT NULL,
	"subject_masked" text NOT NULL,
	"subject_id_hash" text NOT NULL,
	"promise" text NOT NULL,
	"application_number" text NOT NULL,
	"service_name" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"check_due_at" timestamp with time zone,
	"case_id" text,
	"case_doc_number" text,
	"check_outcome" text,
	"check_note" text,
	"checked_at" timestamp with time zone,
	"decision" text,
	"decision_reason" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"content" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_records" (
	"id" text PRIMARY KEY NOT NULL,
	"commitment_id" text NOT NULL,
	"requesting_unit" text NOT NULL,
	"subject_kind" text NOT NULL,
	"subject_masked" text NOT NULL,
	"subject_id_hash" text NOT NULL,
	"catalog_name" text NOT NULL,
	"application_number" text NOT NULL,
	"reason" text NOT NULL,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"barred_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "commitments_unit_idx" ON "commitments" USING btree ("requesting_unit","recorded_at","id");--> statement-breakpoint
CREATE INDEX "commitments_subject_idx" ON "commitments" USING btree ("subject_id_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_records_commitment_uq" ON "credit_records" USING btree ("commitment_id");--> statement-breakpoint
CREATE INDEX "credit_records_subject_idx" ON "credit_records" USING btree ("subject_id_hash","barred_until");--> statement-breakpoint
CREATE INDEX "credit_records_unit_idx" ON "credit_records" USING btree ("requesting_unit","recorded_at");