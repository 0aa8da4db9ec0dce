-- pg_datamart benchmark: the mart.
--
-- Run in a fresh database `mart` after `CREATE EXTENSION pg_datamart CASCADE;`, once the
-- warehouse database has been built by sql/bench/warehouse.sql on the same cluster:
--   psql -d mart -v wh_port=28818 -f sql/bench/mart.sql
-- Optional: -v register=false skips the dm_add_section / dm_add_table calls (to exercise the
-- other methods without the extension; dblink alone is then enough).
--
-- Creates
--   * the foreign server redshift_prd (postgres_fdw holds host/port/dbname; dblink connects
--     through it over TCP, exactly as it reaches Redshift) and a user mapping;
--   * facebook_account_dm, the accounts the mart serves (read from the warehouse's bench_account);
--   * the mart tables facebook_ad_creative_dm (wide) and facebook_ad_seg_daily_report_dm
--     (narrow): the warehouse columns plus the bookkeeping columns id / created_at / updated_at,
--     range-partitioned by month on collected_at, with the monthly partitions the benchmark
--     window needs (window read from the warehouse's bench_meta);
--   * the sections bench_wide and bench_narrow (pg_datamart);
--   * the OLD way, for comparison: rs_bench_wide_dumps / rs_bench_narrow_dumps, PL/pgSQL
--     procedures in the style of the field's generated rs_<section>_dumps procedures: a
--     hand-written dblink column-definition list and one INSERT per fetched row.

\set ON_ERROR_STOP on
\if :{?wh_port}
\else
DO $$BEGIN RAISE EXCEPTION 'mart.sql needs the warehouse port: psql -v wh_port=PORT'; END$$;
\endif
\if :{?register}
\else
\set register true
\endif

SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS dblink;          -- already there via pg_datamart CASCADE
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER redshift_prd FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port :'wh_port', dbname 'warehouse');
CREATE USER MAPPING FOR CURRENT_USER SERVER redshift_prd OPTIONS (user 'postgres');

-- The benchmark window, as built into the warehouse.
SELECT win_start, win_end
FROM dblink('redshift_prd', 'SELECT win_start, win_end FROM bench_meta')
     AS t(win_start date, win_end date) \gset

------------------------------------------------------------------------------------------------
-- Accounts served by the mart
------------------------------------------------------------------------------------------------
CREATE TABLE facebook_account_dm (
    account_id varchar(32) PRIMARY KEY,
    name       varchar(256)
);
INSERT INTO facebook_account_dm (account_id, name)
SELECT account_id, 'Advertiser ' || account_no
FROM dblink('redshift_prd', 'SELECT account_no, account_id FROM bench_account WHERE served')
     AS t(account_no integer, account_id varchar(32));

------------------------------------------------------------------------------------------------
-- Mart tables
------------------------------------------------------------------------------------------------
CREATE TABLE facebook_ad_creative_dm (
    id                               bigint GENERATED ALWAYS AS IDENTITY,
    account_id                       varchar(32)  NOT NULL,
    ad_creative_id                   varchar(32)  NOT NULL,
    collected_at                     date         NOT NULL,
    name                             varchar(512),
    title                            varchar(512),
    body                             text,
    status                           varchar(32),
    object_type                      varchar(32),
    call_to_action_type              varchar(64),
    object_story_id                  varchar(64),
    effective_object_story_id        varchar(64),
    object_story_spec                text,
    asset_feed_spec                  text,
    url_tags                         text,
    link_url                         text,
    image_hash                       varchar(64),
    image_url                        text,
    thumbnail_url                    text,
    video_id                         varchar(32),
    instagram_actor_id               varchar(32),
    instagram_permalink_url          text,
    page_id                          varchar(32),
    product_set_id                   varchar(32),
    template_url                     text,
    degrees_of_freedom_spec          text,
    thumbnail_width                  integer,
    thumbnail_height                 integer,
    bid_amount                       numeric(18,2),
    spend_cap                        numeric(18,2),
    is_dynamic                       boolean,
    enable_direct_install            boolean,
    "end"                            timestamp,
    created_time                     timestamptz,
    updated_time                     timestamptz,
    authorization_category           varchar(32),
    effective_authorization_category varchar(32),
    created_at                       timestamptz  NOT NULL DEFAULT now(),
    updated_at                       timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_creative_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_ad_seg_daily_report_dm (
    id                 bigint GENERATED ALWAYS AS IDENTITY,
    account_id         varchar(32) NOT NULL,
    campaign_id        varchar(32),
    adset_id           varchar(32),
    ad_id              varchar(32) NOT NULL,
    collected_at       date        NOT NULL,
    impressions        bigint,
    reach              bigint,
    frequency          numeric(18,6),
    clicks             bigint,
    unique_clicks      bigint,
    inline_link_clicks bigint,
    spend              numeric(18,2),
    cpm                numeric(18,6),
    ctr                numeric(18,6),
    cpc                numeric(18,6),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_id, collected_at)
) PARTITION BY RANGE (collected_at);

-- Monthly partitions covering the window, with the field's autovacuum storage parameters
-- (the ones pg_datamart applies), so that every method loads into identical partitions.
SELECT format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) '
              'WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200000, '
              'autovacuum_analyze_scale_factor = 0)',
              t || '_' || to_char(m, 'YYYYMM'), t, m::date, (m + interval '1 month')::date)
FROM unnest(ARRAY['facebook_ad_creative_dm', 'facebook_ad_seg_daily_report_dm']) AS t,
     generate_series(date_trunc('month', :'win_start'::date),
                     date_trunc('month', :'win_end'::date), interval '1 month') AS m
ORDER BY t, m
\gexec

------------------------------------------------------------------------------------------------
-- pg_datamart sections
------------------------------------------------------------------------------------------------
\if :register
SELECT dm_add_section('bench_wide', 'account_id', 'facebook_account_dm', 6);
SELECT dm_add_table('bench_wide', 'facebook_ad_creative_dm');
SELECT dm_add_section('bench_narrow', 'account_id', 'facebook_account_dm', 6);
SELECT dm_add_table('bench_narrow', 'facebook_ad_seg_daily_report_dm');
\endif

------------------------------------------------------------------------------------------------
-- The old way: generated-style procedures, row by row
------------------------------------------------------------------------------------------------
CREATE PROCEDURE rs_bench_wide_dumps(account_ids varchar DEFAULT '0',
                                     start_date date DEFAULT current_date - 6,
                                     end_date date DEFAULT current_date)
LANGUAGE plpgsql AS $proc$
DECLARE
    r record;
    accounts text;
    query text;
BEGIN
    IF account_ids = '0' THEN
        SELECT string_agg(quote_literal(account_id), ',') INTO accounts FROM facebook_account_dm;
    ELSE
        SELECT string_agg(quote_literal(trim(a)), ',') INTO accounts
        FROM unnest(string_to_array(account_ids, ',')) AS a;
    END IF;

    RAISE NOTICE 'facebook_ad_creative_dm: % .. %', start_date, end_date;
    EXECUTE 'DELETE FROM facebook_ad_creative_dm WHERE collected_at BETWEEN $1 AND $2'
            ' AND account_id IN (' || accounts || ')'
    USING start_date, end_date;

    query := 'SELECT account_id, ad_creative_id, collected_at, name, title, body, status, object_type, '
          || 'call_to_action_type, object_story_id, effective_object_story_id, object_story_spec, '
          || 'asset_feed_spec, url_tags, link_url, image_hash, image_url, thumbnail_url, video_id, '
          || 'instagram_actor_id, instagram_permalink_url, page_id, product_set_id, template_url, '
          || 'degrees_of_freedom_spec, thumbnail_width, thumbnail_height, bid_amount, spend_cap, '
          || 'is_dynamic, enable_direct_install, "end", created_time, updated_time, '
          || 'authorization_category, effective_authorization_category '
          || 'FROM public.facebook_ad_creative '
          || 'WHERE collected_at >= ''' || start_date || ''' AND collected_at <= ''' || end_date || ''' '
          || 'AND account_id IN (' || accounts || ')';

    FOR r IN
        SELECT * FROM dblink('redshift_prd', query) AS t(
            account_id varchar(32), ad_creative_id varchar(32), collected_at date,
            name varchar(512), title varchar(512), body text, status varchar(32),
            object_type varchar(32), call_to_action_type varchar(64), object_story_id varchar(64),
            effective_object_story_id varchar(64), object_story_spec text, asset_feed_spec text,
            url_tags text, link_url text, image_hash varchar(64), image_url text, thumbnail_url text,
            video_id varchar(32), instagram_actor_id varchar(32), instagram_permalink_url text,
            page_id varchar(32), product_set_id varchar(32), template_url text,
            degrees_of_freedom_spec text, thumbnail_width integer, thumbnail_height integer,
            bid_amount numeric(18,2), spend_cap numeric(18,2), is_dynamic boolean,
            enable_direct_install boolean, "end" timestamp, created_time timestamptz,
            updated_time timestamptz, authorization_category varchar(32),
            effective_authorization_category varchar(32))
    LOOP
        INSERT INTO facebook_ad_creative_dm (
            account_id, ad_creative_id, collected_at, name, title, body, status, object_type,
            call_to_action_type, object_story_id, effective_object_story_id, object_story_spec,
            asset_feed_spec, url_tags, link_url, image_hash, image_url, thumbnail_url, video_id,
            instagram_actor_id, instagram_permalink_url, page_id, product_set_id, template_url,
            degrees_of_freedom_spec, thumbnail_width, thumbnail_height, bid_amount, spend_cap,
            is_dynamic, enable_direct_install, "end", created_time, updated_time,
            authorization_category, effective_authorization_category)
        VALUES (
            r.account_id, r.ad_creative_id, r.collected_at, r.name, r.title, r.body, r.status, r.object_type,
            r.call_to_action_type, r.object_story_id, r.effective_object_story_id, r.object_story_spec,
            r.asset_feed_spec, r.url_tags, r.link_url, r.image_hash, r.image_url, r.thumbnail_url, r.video_id,
            r.instagram_actor_id, r.instagram_permalink_url, r.page_id, r.product_set_id, r.template_url,
            r.degrees_of_freedom_spec, r.thumbnail_width, r.thumbnail_height, r.bid_amount, r.spend_cap,
            r.is_dynamic, r.enable_direct_install, r."end", r.created_time, r.updated_time,
            r.authorization_category, r.effective_authorization_category);
    END LOOP;
    RAISE NOTICE 'facebook_ad_creative_dm: done';
END
$proc$;

CREATE PROCEDURE rs_bench_narrow_dumps(account_ids varchar DEFAULT '0',
                                       start_date date DEFAULT current_date - 6,
                                       end_date date DEFAULT current_date)
LANGUAGE plpgsql AS $proc$
DECLARE
    r record;
    accounts text;
    query text;
BEGIN
    IF account_ids = '0' THEN
        SELECT string_agg(quote_literal(account_id), ',') INTO accounts FROM facebook_account_dm;
    ELSE
        SELECT string_agg(quote_literal(trim(a)), ',') INTO accounts
        FROM unnest(string_to_array(account_ids, ',')) AS a;
    END IF;

    RAISE NOTICE 'facebook_ad_seg_daily_report_dm: % .. %', start_date, end_date;
    EXECUTE 'DELETE FROM facebook_ad_seg_daily_report_dm WHERE collected_at BETWEEN $1 AND $2'
            ' AND account_id IN (' || accounts || ')'
    USING start_date, end_date;

    query := 'SELECT account_id, campaign_id, adset_id, ad_id, collected_at, impressions, reach, '
          || 'frequency, clicks, unique_clicks, inline_link_clicks, spend, cpm, ctr, cpc '
          || 'FROM public.facebook_ad_seg_daily_report '
          || 'WHERE collected_at >= ''' || start_date || ''' AND collected_at <= ''' || end_date || ''' '
          || 'AND account_id IN (' || accounts || ')';

    FOR r IN
        SELECT * FROM dblink('redshift_prd', query) AS t(
            account_id varchar(32), campaign_id varchar(32), adset_id varchar(32), ad_id varchar(32),
            collected_at date, impressions bigint, reach bigint, frequency numeric(18,6),
            clicks bigint, unique_clicks bigint, inline_link_clicks bigint, spend numeric(18,2),
            cpm numeric(18,6), ctr numeric(18,6), cpc numeric(18,6))
    LOOP
        INSERT INTO facebook_ad_seg_daily_report_dm (
            account_id, campaign_id, adset_id, ad_id, collected_at, impressions, reach,
            frequency, clicks, unique_clicks, inline_link_clicks, spend, cpm, ctr, cpc)
        VALUES (
            r.account_id, r.campaign_id, r.adset_id, r.ad_id, r.collected_at, r.impressions, r.reach,
            r.frequency, r.clicks, r.unique_clicks, r.inline_link_clicks, r.spend, r.cpm, r.ctr, r.cpc);
    END LOOP;
    RAISE NOTICE 'facebook_ad_seg_daily_report_dm: done';
END
$proc$;
