-- Idempotency-Key scope: per unit (the case ID is unit + key), no longer per person. Existing rows take
-- their person's unit; where two colleagues used one key, the first use keeps it.
ALTER TABLE "idempotency_keys" ADD COLUMN "unit_code" text;--> statement-breakpoint
UPDATE "idempotency_keys" k SET "unit_code" = coalesce((SELECT s."unit_code" FROM "staff" s WHERE s."id" = k."staff_id"), 'staff:' || k."staff_id");--> statement-breakpoint
DELETE FROM "idempotency_keys" k USING "idempotency_keys" o WHERE o."unit_code" = k."unit_code" AND o."key" = k."key" AND (o."created_at", o."staff_id") < (k."created_at", k."staff_id");--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "unit_code" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys_pk";--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_pk" PRIMARY KEY("unit_code","key");
