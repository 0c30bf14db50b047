ALTER TABLE "notifications" ADD COLUMN "event_key" text;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "recipient_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_event_recipient_uq" ON "notifications" USING btree ("event_key","recipient_key");--> statement-breakpoint
-- ─── Hand-written backfill (keep at the end when renumbering) ───────────────────────────────────
-- Rows written before notifications were keyed per event and recipient get their recipient key; their
-- event key stays null (an older row's ID named the notice's position, not the event), so the unique index
-- leaves them as they are and the inbox hides an older unit-wide row beside the person's own of the same event.
UPDATE "notifications" SET "recipient_key" = coalesce("recipient_staff_id", 'unit:' || "recipient_unit") WHERE "recipient_key" IS NULL;
