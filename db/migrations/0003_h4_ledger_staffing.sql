ALTER TABLE "units" ADD COLUMN "backup_liaison_id" text;--> statement-breakpoint
CREATE INDEX "case_ledger_unit_at_idx" ON "case_ledger" USING btree ("recorded_unit","at","id");