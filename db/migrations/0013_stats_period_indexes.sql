CREATE INDEX "cases_open_received_idx" ON "cases" USING btree ("created_at","issuing_unit","tier","due_at") WHERE status IN ('awaiting_registration', 'registered');--> statement-breakpoint
CREATE INDEX "stat_counts_period_idx" ON "stat_counts" USING btree ("span","start");--> statement-breakpoint
CREATE INDEX "stat_minutes_period_idx" ON "stat_minutes" USING btree ("span","tier","start");