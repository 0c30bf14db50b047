CREATE TABLE "audit_checkpoints" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"through_id" bigint NOT NULL,
	"through_hash" text NOT NULL,
	"through_at" timestamp with time zone NOT NULL,
	"through_mac_version" smallint NOT NULL,
	"purged_rows" bigint NOT NULL,
	"cutoff" timestamp with time zone NOT NULL,
	"retention_days" integer NOT NULL,
	"purged_by" text NOT NULL,
	"mac_version" smallint NOT NULL,
	"mac" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");