-- golden: fixture naver_metric, mode delete_insert, window 2024-12-01 .. 2024-12-31, accounts 1000001, 1000002, per_query 1000, remote_timeout_ms None

-- ===== [1] public.naver_ad_stat_report_dm <- public.naver_ad_stat_report
-- remote_script:
SELECT "stat_date", "customer_id", "campaign_id", "keyword_id", "ad_id", "pc_mobile_type", "impression", "click", "cost", "collected_at" FROM "public"."naver_ad_stat_report" WHERE "collected_at" >= '2024-12-01' AND "collected_at" < '2025-01-01' AND "customer_id" IN ('1000001', '1000002');
-- column_definitions:
"stat_date" date, "customer_id" bigint, "campaign_id" character varying(64), "keyword_id" character varying(64), "ad_id" character varying(64), "pc_mobile_type" character varying(1), "impression" bigint, "click" bigint, "cost" numeric(18,2), "collected_at" date
-- local_script:
DELETE FROM "public"."naver_ad_stat_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-12-01' AND "collected_at" OPERATOR(pg_catalog.<) '2025-01-01' AND "customer_id" OPERATOR(pg_catalog.=) ANY (ARRAY['1000001', '1000002']::bigint[]);
COPY "public"."naver_ad_stat_report_dm" ("stat_date", "customer_id", "campaign_id", "keyword_id", "ad_id", "pc_mobile_type", "impression", "click", "cost", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."naver_ad_stat_report_dm";

-- ===== [2] public.naver_campaign_master_report_dm <- public.naver_campaign_master_report
-- remote_script:
SELECT "customerid", "nccCampaignId", "name", "campaignTp", "deliveryMethod", "regTm", "delTm", "collected_at" FROM "public"."naver_campaign_master_report" WHERE "collected_at" >= '2024-12-01' AND "collected_at" < '2025-01-01' AND "customerid" IN ('1000001', '1000002');
-- column_definitions:
"customerid" bigint, "ncc_campaign_id" character varying(64), "name" character varying(512), "campaign_tp" character varying(32), "delivery_method" integer, "reg_tm" timestamp without time zone, "del_tm" timestamp without time zone, "collected_at" date
-- local_script:
DELETE FROM "public"."naver_campaign_master_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-12-01' AND "collected_at" OPERATOR(pg_catalog.<) '2025-01-01' AND "customerid" OPERATOR(pg_catalog.=) ANY (ARRAY['1000001', '1000002']::bigint[]);
COPY "public"."naver_campaign_master_report_dm" ("customerid", "ncc_campaign_id", "name", "campaign_tp", "delivery_method", "reg_tm", "del_tm", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."naver_campaign_master_report_dm_p202412";

-- ===== procedures::describe
-- fingerprint: c5a079536c63ebb8
-- Section naver_metric: 2 table(s), mode delete_insert, server redshift_prd, date column collected_at, account column customer_id listed in public.naver_customer_dm, default window today - 7 days .. today.
-- <account_ids>: the requested accounts present in the account table; the window is <start_date> .. <end_date>.
-- Before each table, the window's monthly partitions are created as needed (see dm_preview).
--
-- [1] public.naver_ad_stat_report_dm <- "public"."naver_ad_stat_report"
-- remote SQL:
--   SELECT "stat_date", "customer_id", "campaign_id", "keyword_id", "ad_id", "pc_mobile_type", "impression", "click", "cost", "collected_at" FROM "public"."naver_ad_stat_report" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "customer_id" IN (<account_ids>)
-- column definitions:
--   "stat_date" date, "customer_id" bigint, "campaign_id" character varying(64), "keyword_id" character varying(64), "ad_id" character varying(64), "pc_mobile_type" character varying(1), "impression" bigint, "click" bigint, "cost" numeric(18,2), "collected_at" date
-- local statements:
--   DELETE FROM "public"."naver_ad_stat_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "customer_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::bigint[]);
--   COPY "public"."naver_ad_stat_report_dm" ("stat_date", "customer_id", "campaign_id", "keyword_id", "ad_id", "pc_mobile_type", "impression", "click", "cost", "collected_at", "created_at", "updated_at") FROM STDIN;
--
-- [2] public.naver_campaign_master_report_dm <- "public"."naver_campaign_master_report"
-- remote SQL:
--   SELECT "customerid", "nccCampaignId", "name", "campaignTp", "deliveryMethod", "regTm", "delTm", "collected_at" FROM "public"."naver_campaign_master_report" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "customerid" IN (<account_ids>)
-- column definitions:
--   "customerid" bigint, "ncc_campaign_id" character varying(64), "name" character varying(512), "campaign_tp" character varying(32), "delivery_method" integer, "reg_tm" timestamp without time zone, "del_tm" timestamp without time zone, "collected_at" date
-- local statements:
--   DELETE FROM "public"."naver_campaign_master_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "customerid" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::bigint[]);
--   COPY "public"."naver_campaign_master_report_dm" ("customerid", "ncc_campaign_id", "name", "campaign_tp", "delivery_method", "reg_tm", "del_tm", "collected_at", "created_at", "updated_at") FROM STDIN;
