-- golden: fixture kakao_resource, mode delete_insert, window 2024-06-30 .. 2024-07-01, accounts 200001, per_query 1000, remote_timeout_ms Some(600000)

-- ===== [1] public.kakao_all_campaign_list_dm <- public.kakao_all_campaign_list
-- remote_script:
SELECT "account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at" FROM "public"."kakao_all_campaign_list" WHERE "collected_at" >= '2024-06-30' AND "collected_at" < '2024-07-02' AND "account_id" IN ('200001');
-- column_definitions:
"account_id" character varying(32), "campaign_id" bigint, "name" character varying(512), "objective_type" character varying(32), "config" character varying(8), "daily_budget_amount" bigint, "created_date" timestamp without time zone, "collected_at" date
-- local_script:
DELETE FROM "public"."kakao_all_campaign_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-06-30' AND "collected_at" OPERATOR(pg_catalog.<) '2024-07-02' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['200001']::character varying(32)[]);
COPY "public"."kakao_all_campaign_list_dm" ("account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."kakao_all_campaign_list_dm_p202406"; ANALYZE "public"."kakao_all_campaign_list_dm_p202407";

-- ===== [2] public.kakao_all_ad_group_list_dm <- public.kakao_all_ad_group_list
-- remote_script:
SELECT "account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at" FROM "public"."kakao_all_ad_group_list" WHERE "collected_at" >= '2024-06-30' AND "collected_at" < '2024-07-02' AND "account_id" IN ('200001');
-- column_definitions:
"account_id" character varying(32), "campaign_id" bigint, "ad_group_id" bigint, "name" character varying(512), "type" character varying(32), "bid_amount" bigint, "schedule_begin_date" date, "targeting" json, "collected_at" date
-- local_script:
DELETE FROM "public"."kakao_all_ad_group_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-06-30' AND "collected_at" OPERATOR(pg_catalog.<) '2024-07-02' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['200001']::character varying(32)[]);
COPY "public"."kakao_all_ad_group_list_dm" ("account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."kakao_all_ad_group_list_dm_p202406"; ANALYZE "public"."kakao_all_ad_group_list_dm_p202407";

-- ===== [3] public.kakao_asset_list_dm <- public.kakao_asset_list
-- remote_script:
SELECT "account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at" FROM "public"."kakao_asset_list" WHERE "collected_at" >= '2024-06-30' AND "collected_at" < '2024-07-02' AND "account_id" IN ('200001');
-- column_definitions:
"account_id" character varying(32), "asset_id" bigint, "asset_type" character varying(16), "format" character varying(32), "url" character varying(2048), "width" integer, "height" integer, "collected_at" date
-- local_script:
DELETE FROM "public"."kakao_asset_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-06-30' AND "collected_at" OPERATOR(pg_catalog.<) '2024-07-02' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['200001']::character varying(32)[]);
COPY "public"."kakao_asset_list_dm" ("account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."kakao_asset_list_dm";

-- ===== procedures::describe
-- fingerprint: 22bdc136d5524ad4
-- Section kakao_resource: 3 table(s), mode delete_insert, server redshift_prd, date column collected_at, account column account_id listed in public.kakao_account_dm, default window today - 7 days .. today.
-- <account_ids>: the requested accounts present in the account table; the window is <start_date> .. <end_date>.
-- Before each table, the window's monthly partitions are created as needed (see dm_preview).
--
-- [1] public.kakao_all_campaign_list_dm <- "public"."kakao_all_campaign_list"
-- remote SQL:
--   SELECT "account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at" FROM "public"."kakao_all_campaign_list" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "campaign_id" bigint, "name" character varying(512), "objective_type" character varying(32), "config" character varying(8), "daily_budget_amount" bigint, "created_date" timestamp without time zone, "collected_at" date
-- local statements:
--   DELETE FROM "public"."kakao_all_campaign_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   COPY "public"."kakao_all_campaign_list_dm" ("account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at", "created_at", "updated_at") FROM STDIN;
--
-- [2] public.kakao_all_ad_group_list_dm <- "public"."kakao_all_ad_group_list"
-- remote SQL:
--   SELECT "account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at" FROM "public"."kakao_all_ad_group_list" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "campaign_id" bigint, "ad_group_id" bigint, "name" character varying(512), "type" character varying(32), "bid_amount" bigint, "schedule_begin_date" date, "targeting" json, "collected_at" date
-- local statements:
--   DELETE FROM "public"."kakao_all_ad_group_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   COPY "public"."kakao_all_ad_group_list_dm" ("account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at", "updated_at") FROM STDIN;
--
-- [3] public.kakao_asset_list_dm <- "public"."kakao_asset_list"
-- remote SQL:
--   SELECT "account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at" FROM "public"."kakao_asset_list" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "asset_id" bigint, "asset_type" character varying(16), "format" character varying(32), "url" character varying(2048), "width" integer, "height" integer, "collected_at" date
-- local statements:
--   DELETE FROM "public"."kakao_asset_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   COPY "public"."kakao_asset_list_dm" ("account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at") FROM STDIN;
