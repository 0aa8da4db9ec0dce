-- golden: fixture kakao_resource, mode delete_insert, window 2024-06-30 .. 2024-07-01, accounts 200001, per_query 1000, remote_timeout_ms Some(600000)

-- ===== [1] public.kakao_all_campaign_list_dm <- public.kakao_all_campaign_list
-- remote_script:
SELECT "account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at" FROM "public"."kakao_all_campaign_list" WHERE "collected_at" >= '2024-06-30' AND "collected_at" < '2024-07-02' AND "account_id" IN ('200001');
-- column_definitions:
"account_id" character varying(32), "campaign_id" bigint, "name" character varying(512), "objective_type" character varying(32), "config" character varying(8), "daily_budget_amount" bigint, "created_date" timestamp without time zone, "collected_at" date
-- local_script:
SELECT "public".dblink_disconnect(c) FROM pg_catalog.unnest("public".dblink_get_connections()) c WHERE c OPERATOR(pg_catalog.=) 'pg_datamart_fetch';
SELECT "public".dblink_connect('pg_datamart_fetch', 'redshift_prd');
SELECT "public".dblink_exec('pg_datamart_fetch', 'SET statement_timeout = 600000');
DELETE FROM "public"."kakao_all_campaign_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-06-30' AND "collected_at" OPERATOR(pg_catalog.<) '2024-07-02' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['200001']::character varying(32)[]);
INSERT INTO "public"."kakao_all_campaign_list_dm" ("account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at", "created_at", "updated_at") SELECT r."account_id", r."campaign_id", r."name", r."objective_type", r."config", r."daily_budget_amount", r."created_date", r."collected_at", pg_catalog.now(), pg_catalog.now() FROM "public".dblink('pg_datamart_fetch', 'SELECT "account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at" FROM "public"."kakao_all_campaign_list" WHERE "collected_at" >= ''2024-06-30'' AND "collected_at" < ''2024-07-02'' AND "account_id" IN (''200001'')') AS r("account_id" character varying(32), "campaign_id" bigint, "name" character varying(512), "objective_type" character varying(32), "config" character varying(8), "daily_budget_amount" bigint, "created_date" timestamp without time zone, "collected_at" date);
SELECT "public".dblink_disconnect('pg_datamart_fetch');
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."kakao_all_campaign_list_dm_p202406"; ANALYZE "public"."kakao_all_campaign_list_dm_p202407";

-- ===== [2] public.kakao_all_ad_group_list_dm <- public.kakao_all_ad_group_list
-- remote_script:
SELECT "account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at" FROM "public"."kakao_all_ad_group_list" WHERE "collected_at" >= '2024-06-30' AND "collected_at" < '2024-07-02' AND "account_id" IN ('200001');
-- column_definitions:
"account_id" character varying(32), "campaign_id" bigint, "ad_group_id" bigint, "name" character varying(512), "type" character varying(32), "bid_amount" bigint, "schedule_begin_date" date, "targeting" json, "collected_at" date
-- local_script:
SELECT "public".dblink_disconnect(c) FROM pg_catalog.unnest("public".dblink_get_connections()) c WHERE c OPERATOR(pg_catalog.=) 'pg_datamart_fetch';
SELECT "public".dblink_connect('pg_datamart_fetch', 'redshift_prd');
SELECT "public".dblink_exec('pg_datamart_fetch', 'SET statement_timeout = 600000');
DELETE FROM "public"."kakao_all_ad_group_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-06-30' AND "collected_at" OPERATOR(pg_catalog.<) '2024-07-02' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['200001']::character varying(32)[]);
INSERT INTO "public"."kakao_all_ad_group_list_dm" ("account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at", "updated_at") SELECT r."account_id", r."campaign_id", r."ad_group_id", r."name", r."type", r."bid_amount", r."schedule_begin_date", r."targeting", r."collected_at", pg_catalog.now() FROM "public".dblink('pg_datamart_fetch', 'SELECT "account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at" FROM "public"."kakao_all_ad_group_list" WHERE "collected_at" >= ''2024-06-30'' AND "collected_at" < ''2024-07-02'' AND "account_id" IN (''200001'')') AS r("account_id" character varying(32), "campaign_id" bigint, "ad_group_id" bigint, "name" character varying(512), "type" character varying(32), "bid_amount" bigint, "schedule_begin_date" date, "targeting" json, "collected_at" date);
SELECT "public".dblink_disconnect('pg_datamart_fetch');
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."kakao_all_ad_group_list_dm_p202406"; ANALYZE "public"."kakao_all_ad_group_list_dm_p202407";

-- ===== [3] public.kakao_asset_list_dm <- public.kakao_asset_list
-- remote_script:
SELECT "account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at" FROM "public"."kakao_asset_list" WHERE "collected_at" >= '2024-06-30' AND "collected_at" < '2024-07-02' AND "account_id" IN ('200001');
-- column_definitions:
"account_id" character varying(32), "asset_id" bigint, "asset_type" character varying(16), "format" character varying(32), "url" character varying(2048), "width" integer, "height" integer, "collected_at" date
-- local_script:
SELECT "public".dblink_disconnect(c) FROM pg_catalog.unnest("public".dblink_get_connections()) c WHERE c OPERATOR(pg_catalog.=) 'pg_datamart_fetch';
SELECT "public".dblink_connect('pg_datamart_fetch', 'redshift_prd');
SELECT "public".dblink_exec('pg_datamart_fetch', 'SET statement_timeout = 600000');
DELETE FROM "public"."kakao_asset_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-06-30' AND "collected_at" OPERATOR(pg_catalog.<) '2024-07-02' AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY['200001']::character varying(32)[]);
INSERT INTO "public"."kakao_asset_list_dm" ("account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at") SELECT r."account_id", r."asset_id", r."asset_type", r."format", r."url", r."width", r."height", r."collected_at" FROM "public".dblink('pg_datamart_fetch', 'SELECT "account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at" FROM "public"."kakao_asset_list" WHERE "collected_at" >= ''2024-06-30'' AND "collected_at" < ''2024-07-02'' AND "account_id" IN (''200001'')') AS r("account_id" character varying(32), "asset_id" bigint, "asset_type" character varying(16), "format" character varying(32), "url" character varying(2048), "width" integer, "height" integer, "collected_at" date);
SELECT "public".dblink_disconnect('pg_datamart_fetch');
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."kakao_asset_list_dm";

-- ===== procedures::describe
-- fingerprint: d76c4da692fa1db6
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
--   INSERT INTO "public"."kakao_all_campaign_list_dm" ("account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at", "created_at", "updated_at") SELECT r."account_id", r."campaign_id", r."name", r."objective_type", r."config", r."daily_budget_amount", r."created_date", r."collected_at", pg_catalog.now(), pg_catalog.now() FROM "public".dblink('pg_datamart_fetch', 'SELECT "account_id", "campaign_id", "name", "objective_type", "config", "daily_budget_amount", "created_date", "collected_at" FROM "public"."kakao_all_campaign_list" WHERE "collected_at" >= ''<start_date>'' AND "collected_at" < ''<end_date + 1>'' AND "account_id" IN (''<account_ids>'')') AS r("account_id" character varying(32), "campaign_id" bigint, "name" character varying(512), "objective_type" character varying(32), "config" character varying(8), "daily_budget_amount" bigint, "created_date" timestamp without time zone, "collected_at" date);
--
-- [2] public.kakao_all_ad_group_list_dm <- "public"."kakao_all_ad_group_list"
-- remote SQL:
--   SELECT "account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at" FROM "public"."kakao_all_ad_group_list" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "campaign_id" bigint, "ad_group_id" bigint, "name" character varying(512), "type" character varying(32), "bid_amount" bigint, "schedule_begin_date" date, "targeting" json, "collected_at" date
-- local statements:
--   DELETE FROM "public"."kakao_all_ad_group_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   INSERT INTO "public"."kakao_all_ad_group_list_dm" ("account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at", "updated_at") SELECT r."account_id", r."campaign_id", r."ad_group_id", r."name", r."type", r."bid_amount", r."schedule_begin_date", r."targeting", r."collected_at", pg_catalog.now() FROM "public".dblink('pg_datamart_fetch', 'SELECT "account_id", "campaign_id", "ad_group_id", "name", "type", "bid_amount", "schedule_begin_date", "targeting", "collected_at" FROM "public"."kakao_all_ad_group_list" WHERE "collected_at" >= ''<start_date>'' AND "collected_at" < ''<end_date + 1>'' AND "account_id" IN (''<account_ids>'')') AS r("account_id" character varying(32), "campaign_id" bigint, "ad_group_id" bigint, "name" character varying(512), "type" character varying(32), "bid_amount" bigint, "schedule_begin_date" date, "targeting" json, "collected_at" date);
--
-- [3] public.kakao_asset_list_dm <- "public"."kakao_asset_list"
-- remote SQL:
--   SELECT "account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at" FROM "public"."kakao_asset_list" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "account_id" IN (<account_ids>)
-- column definitions:
--   "account_id" character varying(32), "asset_id" bigint, "asset_type" character varying(16), "format" character varying(32), "url" character varying(2048), "width" integer, "height" integer, "collected_at" date
-- local statements:
--   DELETE FROM "public"."kakao_asset_list_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "account_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::character varying(32)[]);
--   INSERT INTO "public"."kakao_asset_list_dm" ("account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at") SELECT r."account_id", r."asset_id", r."asset_type", r."format", r."url", r."width", r."height", r."collected_at" FROM "public".dblink('pg_datamart_fetch', 'SELECT "account_id", "asset_id", "asset_type", "format", "url", "width", "height", "collected_at" FROM "public"."kakao_asset_list" WHERE "collected_at" >= ''<start_date>'' AND "collected_at" < ''<end_date + 1>'' AND "account_id" IN (''<account_ids>'')') AS r("account_id" character varying(32), "asset_id" bigint, "asset_type" character varying(16), "format" character varying(32), "url" character varying(2048), "width" integer, "height" integer, "collected_at" date);
