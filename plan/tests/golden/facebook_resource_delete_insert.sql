-- golden: fixture facebook_resource, mode delete_insert, window 2024-12-28 .. 2025-01-03, accounts 100000001, 100000002, 100000003, per_query 1000, remote_timeout_ms None

-- ===== [1] public.facebook_campaign_dm <- public.facebook_campaign
-- remote_script:
SELECT "account_id", "campaign_id", "name", "objective", "status", "daily_budget", "start_time", "collected_at" FROM "public"."facebook_campaign" WHERE "collected_at" >= '2024-12-28' AND "collected_at" < '2025-01-04' AND "account_id" IN ('100000001', '100000002', '100000003');
-- column_definitions:
"account_id" character varying(32), "campaign_id" character varying(32), "name" character varying(512), "objective" character varying(64), "status" character varying(32), "daily_budget" numeric(18,2), "start_time" timestamp without time zone, "collected_at" date
-- local_script:
DELETE FROM "public"."facebook_campaign_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-12-28' AND "collected_at" OPERATOR(pg_catalog.<) '2025-01-04' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['100000001', '100000002', '100000003']::character varying(32)[]);
COPY "public"."facebook_campaign_dm" ("account_id", "campaign_id", "name", "objective", "status", "daily_budget", "start_time", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."facebook_campaign_dm_p202412"; ANALYZE "public"."facebook_campaign_dm_p202501";

-- ===== [2] public.facebook_ad_set_dm <- public.facebook_ad_set
-- remote_script:
SELECT "account_id", "ad_set_id", "campaign_id", "name", "targeting", "start", "end", "collected_at" FROM "public"."facebook_ad_set" WHERE "collected_at" >= '2024-12-28' AND "collected_at" < '2025-01-04' AND "account_id" IN ('100000001', '100000002', '100000003');
-- column_definitions:
"account_id" character varying(32), "ad_set_id" character varying(32), "campaign_id" character varying(32), "name" character varying(512), "targeting" character varying(65535), "start" timestamp without time zone, "end" timestamp without time zone, "collected_at" date
-- local_script:
DELETE FROM "public"."facebook_ad_set_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-12-28' AND "collected_at" OPERATOR(pg_catalog.<) '2025-01-04' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['100000001', '100000002', '100000003']::character varying(32)[]);
COPY "public"."facebook_ad_set_dm" ("account_id", "ad_set_id", "campaign_id", "name", "targeting", "start", "end", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."facebook_ad_set_dm";

-- ===== [3] public.facebook_ad_creative_dm <- public.facebook_ad_creative
-- remote_script:
SELECT "account_id", "creative_id", "name", "title", "body", "user", "order", "end", "object_story_spec", "asset_feed_spec", "status", "collected_at" FROM "public"."facebook_ad_creative" WHERE "collected_at" >= '2024-12-28' AND "collected_at" < '2025-01-04' AND "account_id" IN ('100000001', '100000002', '100000003');
-- column_definitions:
"account_id" character varying(32), "creative_id" character varying(32), "name" character varying(512), "title" character varying(1024), "body" character varying(65535), "user" character varying(64), "order" integer, "end" timestamp without time zone, "object_story_spec" jsonb, "asset_feed_spec" json, "status" character varying(32), "collected_at" date
-- local_script:
SELECT pg_catalog.count(*) FROM "public"."facebook_ad_creative_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2025-01-01' AND "collected_at" OPERATOR(pg_catalog.<) '2025-02-01' AND tableoid OPERATOR(pg_catalog.=) '"public"."facebook_ad_creative_dm_default"'::pg_catalog.regclass /* any row refuses the load */;
ALTER TABLE "public"."facebook_ad_creative_dm_p202412" SET (autovacuum_vacuum_scale_factor=0, autovacuum_vacuum_threshold=200000, autovacuum_analyze_scale_factor=0);
CREATE TABLE "public"."facebook_ad_creative_dm_p202501" (LIKE "public"."facebook_ad_creative_dm" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION) WITH (autovacuum_vacuum_scale_factor=0, autovacuum_vacuum_threshold=200000, autovacuum_analyze_scale_factor=0);
ALTER TABLE "public"."facebook_ad_creative_dm" ATTACH PARTITION "public"."facebook_ad_creative_dm_p202501" FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');
DELETE FROM "public"."facebook_ad_creative_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-12-28' AND "collected_at" OPERATOR(pg_catalog.<) '2025-01-04' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['100000001', '100000002', '100000003']::character varying(32)[]);
COPY "public"."facebook_ad_creative_dm" ("account_id", "creative_id", "name", "title", "body", "user", "order", "end", "object_story_spec", "asset_feed_spec", "status", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."facebook_ad_creative_dm_p202412"; ANALYZE "public"."facebook_ad_creative_dm_p202501";

-- ===== procedures::describe
-- fingerprint: 1a4ec55cb4548f95
-- Section facebook_resource: 3 table(s), mode delete_insert, server redshift_prd, date column collected_at, account column account_id listed in public.facebook_account_dm, default window today - 7 days .. today.
-- <account_ids>: the requested accounts present in the account table; the window is <start_date> .. <end_date>.
-- Before each table, the window's monthly partitions are created as needed (see dm_preview).
--
-- [1] public.facebook_campaign_dm <- "public"."facebook_campaign"
-- remote SQL:
--   SELECT "account_id", "campaign_id", "name", "objective", "status", "daily_budget", "start_time", "collected_at" FROM "public"."facebook_campaign" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "campaign_id" character varying(32), "name" character varying(512), "objective" character varying(64), "status" character varying(32), "daily_budget" numeric(18,2), "start_time" timestamp without time zone, "collected_at" date
-- local statements:
--   DELETE FROM "public"."facebook_campaign_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   COPY "public"."facebook_campaign_dm" ("account_id", "campaign_id", "name", "objective", "status", "daily_budget", "start_time", "collected_at", "created_at", "updated_at") FROM STDIN;
--
-- [2] public.facebook_ad_set_dm <- "public"."facebook_ad_set"
-- remote SQL:
--   SELECT "account_id", "ad_set_id", "campaign_id", "name", "targeting", "start", "end", "collected_at" FROM "public"."facebook_ad_set" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "ad_set_id" character varying(32), "campaign_id" character varying(32), "name" character varying(512), "targeting" character varying(65535), "start" timestamp without time zone, "end" timestamp without time zone, "collected_at" date
-- local statements:
--   DELETE FROM "public"."facebook_ad_set_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   COPY "public"."facebook_ad_set_dm" ("account_id", "ad_set_id", "campaign_id", "name", "targeting", "start", "end", "collected_at", "created_at", "updated_at") FROM STDIN;
--
-- [3] public.facebook_ad_creative_dm <- "public"."facebook_ad_creative"
-- remote SQL:
--   SELECT "account_id", "creative_id", "name", "title", "body", "user", "order", "end", "object_story_spec", "asset_feed_spec", "status", "collected_at" FROM "public"."facebook_ad_creative" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "creative_id" character varying(32), "name" character varying(512), "title" character varying(1024), "body" character varying(65535), "user" character varying(64), "order" integer, "end" timestamp without time zone, "object_story_spec" jsonb, "asset_feed_spec" json, "status" character varying(32), "collected_at" date
-- local statements:
--   DELETE FROM "public"."facebook_ad_creative_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   COPY "public"."facebook_ad_creative_dm" ("account_id", "creative_id", "name", "title", "body", "user", "order", "end", "object_story_spec", "asset_feed_spec", "status", "collected_at", "created_at", "updated_at") FROM STDIN;
