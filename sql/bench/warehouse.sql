-- pg_datamart benchmark: the warehouse (stand-in for Amazon Redshift).
--
-- Run in a fresh database `warehouse`:
--   psql -d warehouse -v rows_wide=1000000 -v rows_narrow=1000000 -v accounts=200 -f sql/bench/warehouse.sql
--
-- Builds two Redshift-shaped tables with deterministic synthetic data (generate_series, no
-- randomness: every build with the same variables yields the same rows):
--   facebook_ad_creative          WIDE:   36 columns, about 1.5 kB per row (text/JSON blobs)
--   facebook_ad_seg_daily_report  NARROW: 15 columns, about 150 bytes per row (metrics)
--
-- :rows_wide / :rows_narrow rows lie INSIDE the benchmark window (the 7 days ending
-- current_date, stored in bench_meta so reruns on a later day use the same window) and belong
-- to the :accounts served accounts (bench_account.served). Another 10 % lie outside: half
-- before the window for the served accounts, half inside the window for 20 accounts the mart
-- does not serve, so the date and account filters matter.
--
-- Like Redshift, the warehouse enforces no keys and has no indexes. The tables are UNLOGGED:
-- they are only read during the benchmark, and building them should not write 2 GB of WAL
-- into the cluster the mart is measured on. (After a crash they come back empty; bench.sh
-- checks the row counts and rebuilds.)

\set ON_ERROR_STOP on
\if :{?rows_wide}
\else
\set rows_wide 1000000
\endif
\if :{?rows_narrow}
\else
\set rows_narrow 1000000
\endif
\if :{?accounts}
\else
\set accounts 200
\endif

SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SET work_mem = '64MB';

DROP TABLE IF EXISTS bench_meta, bench_account, facebook_ad_creative, facebook_ad_seg_daily_report;
DROP FUNCTION IF EXISTS bench_account_id(bigint);

-- Facebook ad-account ids: 15-digit strings.
CREATE FUNCTION bench_account_id(account_no bigint) RETURNS varchar
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (100000000000000 + account_no * 104729)::varchar;

CREATE UNLOGGED TABLE bench_meta (
    rows_wide   bigint  NOT NULL,
    rows_narrow bigint  NOT NULL,
    accounts    integer NOT NULL,
    win_start   date    NOT NULL,
    win_end     date    NOT NULL,
    built_at    timestamptz NOT NULL DEFAULT now()
);
-- Written first so the generators below can read the window; bench.sh trusts it only when the
-- row counts also match (the script runs with ON_ERROR_STOP, so a failure leaves no tables).
INSERT INTO bench_meta (rows_wide, rows_narrow, accounts, win_start, win_end)
VALUES (:rows_wide, :rows_narrow, :accounts, current_date - 6, current_date);

-- Accounts 1..:accounts are served by the mart; :accounts+1 .. :accounts+20 are not.
CREATE UNLOGGED TABLE bench_account (
    account_no integer PRIMARY KEY,
    account_id varchar(32) NOT NULL,
    served     boolean NOT NULL
);
INSERT INTO bench_account
SELECT n, bench_account_id(n), n <= :accounts
FROM generate_series(1, :accounts + 20) AS n;

------------------------------------------------------------------------------------------------
-- WIDE: facebook_ad_creative (one snapshot row per creative and day)
------------------------------------------------------------------------------------------------
CREATE UNLOGGED TABLE facebook_ad_creative (
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
    effective_authorization_category varchar(32)
);

-- Row sources. k numbers the creative (one creative = up to 7 daily rows of one account).
--   in window, served:     n in [0, rows)        k = n/7,            day = n%7
--   before window, served: m in [0, rows/20)     k = rows + m/7,     4 weeks before the window
--   in window, unserved:   u in [0, rows/20)     k = 2*rows + u/7,   accounts :accounts+1..+20
INSERT INTO facebook_ad_creative
SELECT
    bench_account_id(s.account_no),
    (120200000000000000 + s.k)::varchar,
    s.collected_at,
    'Creative ' || s.k || ' - ' || (ARRAY['Spring sale','Retargeting','Lookalike 1%','Brand awareness','App install','Catalog sales'])[1 + s.k % 6] || ' - ' || substr(h.h1, 1, 12),
    (ARRAY['New season, new styles','Only this week','Your cart is waiting','Free shipping today','Download the app'])[1 + s.k % 5] || ' ' || substr(h.h2, 1, 16),
    'Discover our new collection ' || h.h1 || '. Free shipping on orders over ' || (s.k % 100) || ' USD. '
        || 'Limited time offer: save up to ' || (s.k % 70) || '% on selected items. Terms apply.',
    CASE WHEN s.k % 10 < 7 THEN 'ACTIVE' WHEN s.k % 10 < 9 THEN 'PAUSED' ELSE 'ARCHIVED' END,
    (ARRAY['SHARE','VIDEO','PHOTO','SHARE','INVALID'])[1 + s.k % 5],
    (ARRAY['SHOP_NOW','LEARN_MORE','INSTALL_MOBILE_APP','SIGN_UP','NO_BUTTON'])[1 + s.k % 5],
    h.page_id || '_' || (s.k * 31 + 7),
    h.page_id || '_' || (s.k * 31 + 11),
    '{"page_id":"' || h.page_id || '","link_data":{"link":"https://shop.example.com/p/' || substr(h.h1, 1, 20)
        || '","message":"' || h.h2 || '","name":"Creative ' || s.k
        || '","call_to_action":{"type":"SHOP_NOW","value":{"link":"https://shop.example.com/c/' || substr(h.h2, 1, 10)
        || '"}},"attachment_style":"link"}}',
    CASE WHEN s.k % 3 = 0 THEN NULL ELSE
        '{"images":[{"hash":"' || h.h1 || '"}],"bodies":[{"text":"' || h.h3 || '"}],"titles":[{"text":"'
        || substr(h.h1, 1, 20) || '"}],"ad_formats":["SINGLE_IMAGE"],"optimization_type":"DEGREES_OF_FREEDOM"}'
    END,
    'utm_source=facebook&utm_medium=cpc&utm_campaign=' || s.k || '&utm_content=' || substr(h.h1, 1, 16) || '&utm_term=' || substr(h.h2, 1, 12),
    'https://shop.example.com/landing/' || h.h3 || '?ref=' || s.account_no,
    h.h1,
    'https://scontent.xx.fbcdn.net/v/t45.1600-4/' || (s.k % 1000000) || '_' || h.h2 || '_n.jpg?stp=dst-jpg&_nc_cat=' || (s.k % 100)
        || '&ccb=1-7&_nc_sid=' || substr(h.h3, 1, 6) || '&oh=00_' || substr(h.h1, 1, 20) || '&oe=' || upper(substr(h.h3, 1, 8)),
    'https://external.xx.fbcdn.net/emg1/v/t13/' || substr(h.h3, 1, 20) || '?url=https%3A%2F%2Fshop.example.com%2Fimg%2F' || substr(h.h1, 1, 12)
        || '.jpg&stp=dst-emg0_p64x64_q75&oh=06_' || substr(h.h2, 1, 16),
    CASE WHEN s.k % 5 = 1 THEN (1100000000000000 + s.k)::varchar END,
    h.ig_id,
    CASE WHEN s.k % 2 = 0 THEN 'https://www.instagram.com/p/' || substr(h.h3, 1, 11) || '/' END,
    h.page_id,
    CASE WHEN s.k % 5 = 0 THEN (2400000000000000 + s.k / 50)::varchar END,
    CASE WHEN s.k % 5 = 0 THEN 'https://shop.example.com/product/{{product.retailer_id}}?utm_source=fb&c=' || s.k END,
    '{"creative_features_spec":{"standard_enhancements":{"enroll_status":"' || CASE WHEN s.k % 2 = 0 THEN 'OPT_IN' ELSE 'OPT_OUT' END || '"}}}',
    64 * (1 + s.k % 3),
    64 * (1 + s.k % 2),
    CASE WHEN s.k % 4 = 0 THEN NULL ELSE round((s.k % 5000) / 100.0 + 1, 2) END,
    CASE WHEN s.k % 3 = 0 THEN NULL ELSE (s.k % 1000) * 100.00 END,
    s.k % 5 = 0,
    CASE WHEN s.k % 7 = 0 THEN NULL ELSE s.k % 2 = 0 END,
    CASE WHEN s.k % 6 = 0 THEN NULL ELSE s.collected_at + 30 + make_interval(secs => s.k % 86400) END,
    timestamptz '2023-01-01 00:00:00+00' + make_interval(secs => s.k % 40000000),
    timestamptz '2024-06-01 00:00:00+00' + make_interval(secs => (s.k * 7) % 30000000),
    CASE WHEN s.k % 50 = 0 THEN 'POLITICAL' ELSE 'NONE' END,
    CASE WHEN s.k % 50 = 0 THEN 'POLITICAL' ELSE 'NONE' END
FROM (
    SELECT n / 7 AS k, 1 + (n / 7) % m.accounts AS account_no, m.win_start + (n % 7)::int AS collected_at
    FROM bench_meta m, generate_series(0::bigint, m.rows_wide - 1) AS n
    UNION ALL
    SELECT m.rows_wide + n / 7, 1 + (m.rows_wide + n / 7) % m.accounts,
           m.win_start - 1 - (n % 7)::int - 7 * ((n / 7) % 4)::int
    FROM bench_meta m, generate_series(0::bigint, m.rows_wide / 20 - 1) AS n
    UNION ALL
    SELECT 2 * m.rows_wide + n / 7, m.accounts + 1 + (2 * m.rows_wide + n / 7) % 20, m.win_start + (n % 7)::int
    FROM bench_meta m, generate_series(0::bigint, m.rows_wide / 20 - 1) AS n
) AS s
CROSS JOIN LATERAL (
    SELECT md5(s.k::text) AS h1,
           md5(s.k::text || 'b') AS h2,
           md5(s.k::text || 'c') AS h3,
           (100000000000 + s.account_no * 977 + s.k % 3)::varchar AS page_id,
           (17840000000000000 + s.account_no * 131)::varchar AS ig_id
) AS h;

------------------------------------------------------------------------------------------------
-- NARROW: facebook_ad_seg_daily_report (one metric row per ad and day)
------------------------------------------------------------------------------------------------
CREATE UNLOGGED TABLE facebook_ad_seg_daily_report (
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
    cpc                numeric(18,6)
);

INSERT INTO facebook_ad_seg_daily_report
SELECT
    bench_account_id(v.account_no),
    (120212000000000000 + v.k / 25)::varchar,
    (120211000000000000 + v.k / 5)::varchar,
    (120210000000000000 + v.k)::varchar,
    v.collected_at,
    v.impressions,
    v.reach,
    round(v.impressions::numeric / v.reach, 6),
    v.clicks,
    v.clicks * 9 / 10,
    CASE WHEN v.k % 9 = 0 THEN NULL ELSE v.clicks * 3 / 4 END,
    v.spend,
    round(v.spend * 1000 / v.impressions, 6),
    round(v.clicks * 100.0 / v.impressions, 6),
    CASE WHEN v.clicks > 0 THEN round(v.spend / v.clicks, 6) END
FROM (
    SELECT s.k, s.account_no, s.collected_at, i.impressions,
           greatest(1, i.impressions * (60 + s.k % 30) / 100) AS reach,
           i.impressions * (s.k % 50) / 1000 AS clicks,
           round(i.impressions * (1 + s.k % 20) / 1000.0, 2) AS spend
    FROM (
        SELECT n / 7 AS k, 1 + (n / 7) % m.accounts AS account_no, m.win_start + (n % 7)::int AS collected_at, n
        FROM bench_meta m, generate_series(0::bigint, m.rows_narrow - 1) AS n
        UNION ALL
        SELECT m.rows_narrow + n / 7, 1 + (m.rows_narrow + n / 7) % m.accounts,
               m.win_start - 1 - (n % 7)::int - 7 * ((n / 7) % 4)::int, n
        FROM bench_meta m, generate_series(0::bigint, m.rows_narrow / 20 - 1) AS n
        UNION ALL
        SELECT 2 * m.rows_narrow + n / 7, m.accounts + 1 + (2 * m.rows_narrow + n / 7) % 20, m.win_start + (n % 7)::int, n
        FROM bench_meta m, generate_series(0::bigint, m.rows_narrow / 20 - 1) AS n
    ) AS s
    CROSS JOIN LATERAL (SELECT 100 + (s.k * 7919 + s.n * 104729) % 50000 AS impressions) AS i
) AS v;

-- Set hint bits and the visibility map now, so the timed runs only read.
VACUUM (FREEZE, ANALYZE) bench_meta, bench_account, facebook_ad_creative, facebook_ad_seg_daily_report;

-- The window must hold exactly the requested rows for the served accounts.
DO $check$
DECLARE
    m bench_meta;
    wide bigint;
    narrow bigint;
BEGIN
    SELECT * INTO m FROM bench_meta;
    SELECT count(*) INTO wide FROM facebook_ad_creative
    WHERE collected_at BETWEEN m.win_start AND m.win_end
      AND account_id IN (SELECT account_id FROM bench_account WHERE served);
    SELECT count(*) INTO narrow FROM facebook_ad_seg_daily_report
    WHERE collected_at BETWEEN m.win_start AND m.win_end
      AND account_id IN (SELECT account_id FROM bench_account WHERE served);
    IF wide <> m.rows_wide OR narrow <> m.rows_narrow THEN
        RAISE EXCEPTION 'warehouse window holds % wide / % narrow rows, expected % / %',
            wide, narrow, m.rows_wide, m.rows_narrow;
    END IF;
END
$check$;

SELECT relname AS "table",
       reltuples::bigint AS "rows (all)",
       pg_size_pretty(pg_table_size(oid)) AS size,
       (pg_table_size(oid) / greatest(reltuples, 1))::int AS "bytes/row"
FROM pg_class
WHERE relname IN ('facebook_ad_creative', 'facebook_ad_seg_daily_report')
ORDER BY relname;
