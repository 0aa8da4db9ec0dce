-- golden: fixture google_metric, mode delete_insert, window 2024-02-26 .. 2024-03-02, accounts 5100000001, 5100000002, 5100000003, per_query 2, remote_timeout_ms Some(900000)

-- ===== [1] public.google_ad_group_report_dm <- public.google_ad_group_report
-- remote_script:
SELECT "customer.id", "campaign.id", "ad_group.id", "ad_group.name", "segments.date", "segments.device", "metrics.impressions", "metrics.clicks", "metrics.cost_micros", "metrics.all_conversions_value", "collected_at" FROM "public"."google_ad_group_report" WHERE "collected_at" >= '2024-02-26' AND "collected_at" < '2024-03-03' AND "customer.id" IN ('5100000001', '5100000002');
SELECT "customer.id", "campaign.id", "ad_group.id", "ad_group.name", "segments.date", "segments.device", "metrics.impressions", "metrics.clicks", "metrics.cost_micros", "metrics.all_conversions_value", "collected_at" FROM "public"."google_ad_group_report" WHERE "collected_at" >= '2024-02-26' AND "collected_at" < '2024-03-03' AND "customer.id" IN ('5100000003');
-- column_definitions:
"customer_id" bigint, "campaign_id" bigint, "ad_group_id" bigint, "ad_group_name" character varying(512), "segments_date" date, "segments_device" character varying(32), "metrics_impressions" bigint, "metrics_clicks" bigint, "metrics_cost_micros" bigint, "metrics_all_conversions_value" double precision, "collected_at" date
-- local_script:
CREATE TABLE "public"."google_ad_group_report_dm_p202403" (LIKE "public"."google_ad_group_report_dm" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION);
ALTER TABLE "public"."google_ad_group_report_dm" ATTACH PARTITION "public"."google_ad_group_report_dm_p202403" FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
DELETE FROM "public"."google_ad_group_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-02-26' AND "collected_at" OPERATOR(pg_catalog.<) '2024-03-03' AND "customer_id" OPERATOR(pg_catalog.=) ANY (ARRAY['5100000001', '5100000002', '5100000003']::bigint[]);
COPY "public"."google_ad_group_report_dm" ("customer_id", "campaign_id", "ad_group_id", "ad_group_name", "segments_date", "segments_device", "metrics_impressions", "metrics_clicks", "metrics_cost_micros", "metrics_all_conversions_value", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."google_ad_group_report_dm_p202402"; ANALYZE "public"."google_ad_group_report_dm_p202403";

-- ===== [2] public.google_campaign_report_dm <- public.google_campaign_report
-- remote_script:
SELECT "customer.id", "campaign.id", "campaign.name", "campaign.advertising_channel_type", "segments.date", "metrics.clicks", "metrics.conversions_value", "collected_at" FROM "public"."google_campaign_report" WHERE "collected_at" >= '2024-02-26' AND "collected_at" < '2024-03-03' AND "customer.id" IN ('5100000001', '5100000002');
SELECT "customer.id", "campaign.id", "campaign.name", "campaign.advertising_channel_type", "segments.date", "metrics.clicks", "metrics.conversions_value", "collected_at" FROM "public"."google_campaign_report" WHERE "collected_at" >= '2024-02-26' AND "collected_at" < '2024-03-03' AND "customer.id" IN ('5100000003');
-- column_definitions:
"customer_id" bigint, "campaign_id" bigint, "campaign_name" character varying(512), "campaign_advertising_channel_type" character varying(64), "segments_date" date, "metrics_clicks" bigint, "metrics_conversions_value" double precision, "collected_at" date
-- local_script:
DELETE FROM "public"."google_campaign_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) '2024-02-26' AND "collected_at" OPERATOR(pg_catalog.<) '2024-03-03' AND "customer_id" OPERATOR(pg_catalog.=) ANY (ARRAY['5100000001', '5100000002', '5100000003']::bigint[]);
COPY "public"."google_campaign_report_dm" ("customer_id", "campaign_id", "campaign_name", "campaign_advertising_channel_type", "segments_date", "metrics_clicks", "metrics_conversions_value", "collected_at", "created_at", "updated_at") FROM STDIN;
/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE "public"."google_campaign_report_dm_history"; ANALYZE "public"."google_campaign_report_dm_p202403";

-- ===== procedures::describe
-- fingerprint: 7bb8382116d70601
-- Section google_metric: 2 table(s), mode delete_insert, server redshift_prd, date column collected_at, account column customer_id listed in public.google_customer_dm, default window today - 7 days .. today.
-- <account_ids>: the requested accounts present in the account table; the window is <start_date> .. <end_date>.
-- Before each table, the window's monthly partitions are created as needed (see dm_preview).
--
-- [1] public.google_ad_group_report_dm <- "public"."google_ad_group_report"
-- remote SQL:
--   SELECT "customer.id", "campaign.id", "ad_group.id", "ad_group.name", "segments.date", "segments.device", "metrics.impressions", "metrics.clicks", "metrics.cost_micros", "metrics.all_conversions_value", "collected_at" FROM "public"."google_ad_group_report" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "customer.id" IN (<account_ids>)
-- column definitions:
--   "customer_id" bigint, "campaign_id" bigint, "ad_group_id" bigint, "ad_group_name" character varying(512), "segments_date" date, "segments_device" character varying(32), "metrics_impressions" bigint, "metrics_clicks" bigint, "metrics_cost_micros" bigint, "metrics_all_conversions_value" double precision, "collected_at" date
-- local statements:
--   DELETE FROM "public"."google_ad_group_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "customer_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::bigint[]);
--   COPY "public"."google_ad_group_report_dm" ("customer_id", "campaign_id", "ad_group_id", "ad_group_name", "segments_date", "segments_device", "metrics_impressions", "metrics_clicks", "metrics_cost_micros", "metrics_all_conversions_value", "collected_at", "created_at", "updated_at") FROM STDIN;
--
-- [2] public.google_campaign_report_dm <- "public"."google_campaign_report"
-- remote SQL:
--   SELECT "customer.id", "campaign.id", "campaign.name", "campaign.advertising_channel_type", "segments.date", "metrics.clicks", "metrics.conversions_value", "collected_at" FROM "public"."google_campaign_report" WHERE "collected_at" >= <start_date> AND "collected_at" < <end_date + 1> AND "customer.id" IN (<account_ids>)
-- column definitions:
--   "customer_id" bigint, "campaign_id" bigint, "campaign_name" character varying(512), "campaign_advertising_channel_type" character varying(64), "segments_date" date, "metrics_clicks" bigint, "metrics_conversions_value" double precision, "collected_at" date
-- local statements:
--   DELETE FROM "public"."google_campaign_report_dm" WHERE "collected_at" OPERATOR(pg_catalog.>=) <start_date> AND "collected_at" OPERATOR(pg_catalog.<) <end_date + 1> AND "customer_id" OPERATOR(pg_catalog.=) ANY (ARRAY[<account_ids>]::bigint[]);
--   COPY "public"."google_campaign_report_dm" ("customer_id", "campaign_id", "campaign_name", "campaign_advertising_channel_type", "segments_date", "metrics_clicks", "metrics_conversions_value", "collected_at", "created_at", "updated_at") FROM STDIN;
