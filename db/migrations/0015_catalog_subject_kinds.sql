ALTER TABLE "catalog_items" ADD COLUMN "subject_kinds" jsonb DEFAULT '["person","company"]'::jsonb NOT NULL;--> statement-breakpoint
-- ─── Hand-written backfill (keep at the end when renumbering) ───────────────────────────────────
-- The demo catalog (db/seed.ts, embedded mode only: marked by system_meta 'demo_seed') is about persons:
-- 户籍, 无犯罪记录, 婚姻登记 and 婚姻档案 take a resident ID, never a company. Other catalogs keep both kinds.
UPDATE "catalog_items" SET "subject_kinds" = '["person"]'::jsonb WHERE "code" IN ('HJ-001', 'WF-002', 'HY-003', 'DA-004') AND EXISTS (SELECT 1 FROM "system_meta" WHERE "key" = 'demo_seed');
