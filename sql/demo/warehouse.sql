-- pg_datamart demo: the WAREHOUSE (a PostgreSQL stand-in for Amazon Redshift).
--
-- Run with psql in a fresh database named `warehouse`:
--     psql -v ON_ERROR_STOP=1 -v accounts=200 -v days=35 -d warehouse -f sql/demo/warehouse.sql
--
-- It creates the Redshift-shaped source tables of the eight sections from the field
-- (facebook_metric, facebook_resource, google_metric, google_resource, naver_metric,
-- naver_resource, kakao_metric, kakao_resource) in schema public and fills them with synthetic,
-- deterministic data: every value is derived from md5() of the account, the entity and the day,
-- so two runs on the same day produce the same rows.
--
-- Shape of the data, as in the field:
--   * every table has `collected_at date`: the day a report row is about, or the day a resource
--     snapshot was taken. The sync window filters on it.
--   * :days days of data ending at current_date, for :accounts served advertisers plus 20 other
--     advertisers (numbers 50001..50020) that the mart does not serve and must never load.
--   * Facebook ids and account ids are digit strings (varchar), e.g. account_id '100000123'.
--   * Google tables use the Google Ads API field names, dots included ("customer.id",
--     "segments.date", "metrics.cost_micros"); money is in micros (bigint).
--   * Naver tables use `customer_id`, except the *_master_report tables which use `customerid`;
--     some columns are camelCase ("nccCampaignId", "regTm").
--   * JSON arrives as text (varchar(65535), Redshift's longest varchar), a few hundred bytes,
--     with quotes, backslashes, newlines, tabs, Korean text and emoji inside.
--   * reserved words and odd names as column names: "start", "end", "1d_click", "type".
--   * NULLs wherever the source API omits a field.
-- Warehouse tables have no primary keys: Redshift does not enforce them.

\if :{?accounts}
\else
\set accounts 200
\endif
\if :{?days}
\else
\set days 35
\endif

SET client_min_messages = warning;
SET jit = off;  -- compiling these wide expressions would cost more than evaluating them
\echo 'warehouse: building' :accounts 'served accounts (+20 others) x' :days 'days'

DROP TABLE IF EXISTS
    facebook_ad_seg_daily_report, facebook_ad_action_seg_daily_report,
    facebook_ad_action_values_seg_daily_report, facebook_ad_seg_user_daily_report,
    facebook_campaign, facebook_ad_set, facebook_ad, facebook_ad_creative,
    facebook_creative_asset_rel, facebook_asset,
    google_ad_group_report, google_campaign_report, google_keyword_report,
    google_keyword_conversion_report,
    google_campaign, google_ad_group, google_ad, google_media_file, google_asset,
    naver_ad_stat_report, naver_ad_conversion_stat_report, naver_campaign_master_report,
    naver_adgroup_master_report, naver_keyword_master_report, naver_ad_conv_report,
    naver_shopping_product_master_report,
    naver_all_campaign_list, naver_all_adgroup_list, naver_all_ad_list,
    kakao_creative_report, kakao_all_campaign_list, kakao_all_ad_group_list, kakao_asset_list;

-------------------------------------------------------------------------------------------------
-- Generator helpers (session-local: nothing of this stays in the warehouse)
-------------------------------------------------------------------------------------------------

-- h(seed): a deterministic, non-negative pseudo-random 60-bit integer.
CREATE FUNCTION pg_temp.h(text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ('x' || substr(md5($1), 1, 15))::bit(60)::bigint $$;

-- pick(choices, seed): one element of the array, chosen by the seed (NULL elements allowed).
CREATE FUNCTION pg_temp.pick(anyarray, text) RETURNS anyelement
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT $1[1 + pg_temp.h($2) % cardinality($1)] $$;

-- num(seed, lo, hi): an integer in [lo, hi].
CREATE FUNCTION pg_temp.num(text, bigint, bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT $2 + pg_temp.h($1) % ($3 - $2 + 1) $$;

-- digits(prefix, n, seed): prefix followed by n pseudo-random digits, e.g. Facebook ids.
CREATE FUNCTION pg_temp.digits(text, int, text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT $1 || lpad((pg_temp.h($3) % (10::numeric ^ $2)::bigint)::text, $2, '0') $$;

-- ts(seed): a timestamp in the 600 days before 2025-06-01, to the second.
CREATE FUNCTION pg_temp.ts(text) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT timestamp '2025-06-01' - make_interval(secs => pg_temp.h($1) % (600 * 86400)) $$;

-- The advertisers: 1..:accounts are served by the mart, 50001..50020 are other advertisers.
CREATE TEMP TABLE acct AS
SELECT n, n <= :accounts AS served
FROM (SELECT generate_series(1, :accounts) UNION ALL SELECT generate_series(50001, 50020)) g(n);

-- The days: :days days ending today.
CREATE TEMP TABLE day AS
SELECT (current_date - i)::date AS d FROM generate_series(0, :days - 1) i;

-- Ad copy, Korean with the characters that break naive quoting.
CREATE TEMP TABLE copy AS
SELECT ARRAY[
    E'🔥 겨울 시즌 특가!\n지금 구매하면 최대 50% 할인',
    E'"한정 수량" 베스트셀러 1+1 이벤트\n오늘 자정까지만',
    E'신규 회원 첫 구매 20% 쿠폰 → 앱에서 확인하세요',
    E'경로 안내: C:\\Users\\광고\\banner.png (백슬래시 테스트)',
    E'무료 배송\t₩30,000 이상 구매 시 — Free shipping',
    E'It''s back! 다시 돌아온 ''시그니처'' 컬렉션',
    E'리뷰 이벤트 참여하고 포인트 받기 ✨\r\n자세히 보기 >',
    'Premium skincare set, 프리미엄 스킨케어 세트'
] AS bodies,
ARRAY['겨울 시즌 특가 세일', '신규 회원 첫 구매 할인', '무료 배송 이벤트', '한정 수량 "특가" 상품',
      '오늘만! 1+1 행사', '프리미엄 스킨케어 세트', '가을 신상 컬렉션', '앱 설치하고 쿠폰 받기',
      '베스트셀러 모음전', 'Black Friday 블랙프라이데이'] AS titles,
ARRAY['운동화', '원피스', '노트북 가방', '무선 이어폰', '캠핑 의자', '비타민', '유아 카시트',
      '에어프라이어', '여름 샌들', '선크림', '가습기', '러닝화 추천', '생일 선물', '꽃배달',
      '수제 쿠키'] AS keywords;

-------------------------------------------------------------------------------------------------
-- Facebook (Marketing API). Account column: account_id varchar, e.g. '100000123'.
-------------------------------------------------------------------------------------------------

-- Entities, stable across days. Per account: 1-3 campaigns, 2 ad sets, 3 ads, 5 creatives,
-- 3 assets (images and videos).
CREATE TEMP TABLE fb_campaign AS
SELECT a.n, (100000000 + a.n)::text AS account_id, k,
       pg_temp.digits('2385', 13, 'fb-cmp:' || a.n || ':' || k) AS campaign_id
FROM acct a, generate_series(1, pg_temp.num('fb-ncmp:' || a.n, 1, 3)::int) k;

CREATE TEMP TABLE fb_ad_set AS
SELECT c.n, c.account_id, j AS k, pg_temp.digits('2385', 13, 'fb-ads:' || c.n || ':' || j) AS ad_set_id,
       c.campaign_id
FROM generate_series(1, 2) gs(j)
JOIN fb_campaign c ON c.k = 1 + (j - 1) % (SELECT count(*) FROM fb_campaign c2 WHERE c2.n = c.n);

CREATE TEMP TABLE fb_creative AS
SELECT a.n, (100000000 + a.n)::text AS account_id, k,
       pg_temp.digits('2385', 13, 'fb-cre:' || a.n || ':' || k) AS creative_id,
       k IN (2, 5) AS is_video, k >= 4 AS is_dynamic
FROM acct a, generate_series(1, 5) k;

CREATE TEMP TABLE fb_ad AS
SELECT s.n, s.account_id, j AS k, pg_temp.digits('2385', 13, 'fb-ad:' || s.n || ':' || j) AS ad_id,
       s.ad_set_id, s.campaign_id, cr.creative_id, cr.is_video
FROM generate_series(1, 3) gs(j)
JOIN fb_ad_set s ON s.k = 1 + (j - 1) % 2
JOIN fb_creative cr ON cr.n = s.n AND cr.k = j;

CREATE TEMP TABLE fb_asset AS
SELECT a.n, (100000000 + a.n)::text AS account_id, k,
       CASE WHEN k = 3 THEN 'video' ELSE 'image' END AS asset_type,
       pg_temp.digits('', 15, 'fb-ast:' || a.n || ':' || k) AS asset_id,
       md5('fb-img:' || a.n || ':' || k) AS hash
FROM acct a, generate_series(1, 3) k;

CREATE TABLE facebook_campaign (
    account_id            varchar(32)  NOT NULL,
    campaign_id           varchar(32)  NOT NULL,
    name                  varchar(512),
    objective             varchar(64),
    status                varchar(32),
    effective_status      varchar(32),
    buying_type           varchar(32),
    bid_strategy          varchar(64),
    daily_budget          numeric(18,2),
    lifetime_budget       numeric(18,2),
    budget_remaining      numeric(18,2),
    special_ad_categories varchar(1024),
    start_time            timestamp,
    stop_time             timestamp,
    created_time          timestamp,
    updated_time          timestamp,
    collected_at          date         NOT NULL
);
INSERT INTO facebook_campaign
SELECT c.account_id, c.campaign_id,
       '[' || c.k || '] ' || pg_temp.pick(copy.titles, 'fb-cmp-name:' || c.campaign_id) || ' ' || c.n,
       pg_temp.pick(ARRAY['OUTCOME_SALES', 'OUTCOME_TRAFFIC', 'OUTCOME_AWARENESS', 'OUTCOME_LEADS',
                          'OUTCOME_APP_PROMOTION'], 'fb-obj:' || c.campaign_id),
       s.status, CASE WHEN s.status = 'PAUSED' THEN 'CAMPAIGN_PAUSED' ELSE s.status END,
       'AUCTION',
       pg_temp.pick(ARRAY['LOWEST_COST_WITHOUT_CAP', 'COST_CAP', 'LOWEST_COST_WITH_BID_CAP', NULL],
                    'fb-bid:' || c.campaign_id),
       CASE WHEN b.daily THEN b.amount END,
       CASE WHEN NOT b.daily THEN b.amount * 30 END,
       round(b.amount * (pg_temp.h('fb-rem:' || c.campaign_id || d.d) % 100) / 100.0, 2),
       CASE WHEN pg_temp.h('fb-sac:' || c.campaign_id) % 10 = 0 THEN '["EMPLOYMENT"]' ELSE '[]' END,
       pg_temp.ts('fb-cmp-start:' || c.campaign_id),
       CASE WHEN NOT b.daily THEN timestamp '2026-12-31 23:59:59' END,
       pg_temp.ts('fb-cmp-created:' || c.campaign_id) - interval '2 days',
       d.d - interval '1 day' + make_interval(secs => pg_temp.h('fb-cmp-upd:' || c.campaign_id || d.d) % 86400),
       d.d
FROM fb_campaign c CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT CASE WHEN pg_temp.h('fb-cmp-st:' || c.campaign_id || d.d) % 10 = 0
                                THEN 'PAUSED' ELSE 'ACTIVE' END AS status) s
CROSS JOIN LATERAL (SELECT pg_temp.h('fb-bud:' || c.campaign_id) % 2 = 0 AS daily,
                           (pg_temp.num('fb-amt:' || c.campaign_id, 5, 50) * 10000)::numeric(18,2) AS amount) b;

CREATE TABLE facebook_ad_set (
    account_id        varchar(32)  NOT NULL,
    ad_set_id         varchar(32)  NOT NULL,
    campaign_id       varchar(32)  NOT NULL,
    name              varchar(512),
    status            varchar(32),
    effective_status  varchar(32),
    optimization_goal varchar(64),
    billing_event     varchar(32),
    bid_amount        numeric(18,2),
    daily_budget      numeric(18,2),
    targeting         varchar(65535),
    "start"           timestamp,
    "end"             timestamp,
    created_time      timestamp,
    updated_time      timestamp,
    collected_at      date         NOT NULL
);
INSERT INTO facebook_ad_set
SELECT s.account_id, s.ad_set_id, s.campaign_id,
       pg_temp.pick(ARRAY['20-39 여성', '25-54 전체', 'Lookalike 1% (KR)', 'Retargeting 30d',
                          '관심사: 패션/뷰티'], 'fb-as-name:' || s.ad_set_id) || ' #' || s.k,
       'ACTIVE', 'ACTIVE',
       pg_temp.pick(ARRAY['OFFSITE_CONVERSIONS', 'LINK_CLICKS', 'REACH', 'VALUE'], 'fb-og:' || s.ad_set_id),
       'IMPRESSIONS',
       CASE WHEN pg_temp.h('fb-bidamt:' || s.ad_set_id) % 3 = 0
            THEN pg_temp.num('fb-bidv:' || s.ad_set_id, 300, 3000)::numeric(18,2) END,
       CASE WHEN pg_temp.h('fb-asb:' || s.ad_set_id) % 2 = 0
            THEN (pg_temp.num('fb-asbv:' || s.ad_set_id, 1, 20) * 10000)::numeric(18,2) END,
       jsonb_build_object(
           'age_min', pg_temp.pick(ARRAY[18, 20, 25, 30], 'fb-agemin:' || s.ad_set_id),
           'age_max', pg_temp.pick(ARRAY[44, 54, 65], 'fb-agemax:' || s.ad_set_id),
           'genders', CASE WHEN s.k = 1 THEN '[2]'::jsonb ELSE '[1, 2]'::jsonb END,
           'geo_locations', jsonb_build_object('countries', jsonb_build_array('KR'),
                                               'location_types', jsonb_build_array('home', 'recent')),
           'publisher_platforms', jsonb_build_array('facebook', 'instagram'),
           'flexible_spec', jsonb_build_array(jsonb_build_object('interests', jsonb_build_array(
               jsonb_build_object('id', pg_temp.digits('6003', 10, 'fb-int:' || s.ad_set_id), 'name', '패션'),
               jsonb_build_object('id', pg_temp.digits('6002', 10, 'fb-int2:' || s.ad_set_id), 'name', '뷰티 "코스메틱"')))),
           'targeting_automation', jsonb_build_object('advantage_audience', s.k % 2))::text,
       pg_temp.ts('fb-as-start:' || s.ad_set_id),
       CASE WHEN pg_temp.h('fb-as-end:' || s.ad_set_id) % 2 = 0
            THEN (current_date + 30 + (pg_temp.h('fb-as-endd:' || s.ad_set_id) % 60)::int)::timestamp END,
       pg_temp.ts('fb-as-created:' || s.ad_set_id) - interval '1 day',
       d.d - interval '1 day' + make_interval(secs => pg_temp.h('fb-as-upd:' || s.ad_set_id || d.d) % 86400),
       d.d
FROM fb_ad_set s CROSS JOIN day d;

CREATE TABLE facebook_ad (
    account_id        varchar(32)  NOT NULL,
    ad_id             varchar(32)  NOT NULL,
    ad_set_id         varchar(32)  NOT NULL,
    campaign_id       varchar(32)  NOT NULL,
    name              varchar(512),
    status            varchar(32),
    effective_status  varchar(32),
    creative_id       varchar(32),
    tracking_specs    varchar(65535),
    conversion_domain varchar(256),
    created_time      timestamp,
    updated_time      timestamp,
    collected_at      date         NOT NULL
);
INSERT INTO facebook_ad
SELECT a.account_id, a.ad_id, a.ad_set_id, a.campaign_id,
       pg_temp.pick(copy.titles, 'fb-ad-name:' || a.ad_id) || ' - 소재 ' || a.k,
       st.status, CASE WHEN st.status = 'PAUSED' THEN 'ADSET_PAUSED' ELSE st.status END,
       a.creative_id,
       jsonb_build_array(
           jsonb_build_object('action.type', jsonb_build_array('offsite_conversion'),
                              'fb_pixel', jsonb_build_array(pg_temp.digits('', 15, 'fb-px:' || a.n))),
           jsonb_build_object('action.type', jsonb_build_array('post_engagement'),
                              'page', jsonb_build_array(pg_temp.digits('1', 14, 'fb-page:' || a.n))))::text,
       CASE WHEN a.k <> 3 THEN 'shop' || a.n || '.example.co.kr' END,
       pg_temp.ts('fb-ad-created:' || a.ad_id),
       d.d - interval '1 day' + make_interval(secs => pg_temp.h('fb-ad-upd:' || a.ad_id || d.d) % 86400),
       d.d
FROM fb_ad a CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT CASE WHEN pg_temp.h('fb-ad-st:' || a.ad_id || d.d) % 8 = 0
                                THEN 'PAUSED' ELSE 'ACTIVE' END AS status) st;

CREATE TABLE facebook_ad_creative (
    account_id          varchar(32)  NOT NULL,
    creative_id         varchar(32)  NOT NULL,
    name                varchar(512),
    title               varchar(1024),
    body                varchar(65535),
    object_type         varchar(32),
    call_to_action_type varchar(64),
    image_hash          varchar(64),
    image_url           varchar(2048),
    video_id            varchar(32),
    thumbnail_url       varchar(2048),
    object_story_spec   varchar(65535),
    asset_feed_spec     varchar(65535),
    url_tags            varchar(1024),
    status              varchar(32),
    collected_at        date         NOT NULL
);
INSERT INTO facebook_ad_creative
SELECT c.account_id, c.creative_id,
       '{{product.name}} ' || v.title || ' ' || to_char(d.d, 'YYYY-MM-DD'),
       CASE WHEN NOT c.is_dynamic THEN v.title END,
       CASE WHEN NOT c.is_dynamic THEN v.body END,
       CASE WHEN c.is_video THEN 'VIDEO' ELSE 'SHARE' END,
       v.cta,
       CASE WHEN NOT c.is_video THEN v.hash END,
       CASE WHEN NOT c.is_video THEN 'https://scontent.xx.fbcdn.net/v/t45.1600-4/' || v.hash || '_n.jpg?stp=dst-jpg&_nc_cat=1' END,
       CASE WHEN c.is_video THEN pg_temp.digits('1', 15, 'fb-vid:' || c.creative_id) END,
       'https://scontent.xx.fbcdn.net/v/t15.5256-10/' || v.hash || '_n.jpg?_nc_cat=' || c.k,
       jsonb_build_object(
           'page_id', pg_temp.digits('1', 14, 'fb-page:' || c.n),
           'instagram_actor_id', pg_temp.digits('17841', 12, 'fb-ig:' || c.n),
           CASE WHEN c.is_video THEN 'video_data' ELSE 'link_data' END,
           jsonb_build_object(
               'link', v.link,
               'message', v.body,
               'name', v.title,
               'description', '무료 배송 · 30일 무료 반품 · "정품" 보장',
               'image_hash', v.hash,
               'call_to_action', jsonb_build_object('type', v.cta, 'value', jsonb_build_object('link', v.link)),
               'attachment_style', 'link'))::text,
       CASE WHEN c.is_dynamic THEN jsonb_build_object(
           'images', jsonb_build_array(jsonb_build_object('hash', v.hash),
                                       jsonb_build_object('hash', md5(v.hash))),
           'bodies', jsonb_build_array(jsonb_build_object('text', v.body),
                                       jsonb_build_object('text', pg_temp.pick(copy.bodies, 'fb-b2:' || c.creative_id))),
           'titles', jsonb_build_array(jsonb_build_object('text', v.title),
                                       jsonb_build_object('text', pg_temp.pick(copy.titles, 'fb-t2:' || c.creative_id))),
           'descriptions', jsonb_build_array(jsonb_build_object('text', '지금 바로 확인하세요\n(자세히 보기)')),
           'ad_formats', jsonb_build_array('SINGLE_IMAGE', 'CAROUSEL'),
           'call_to_action_types', jsonb_build_array(v.cta),
           'link_urls', jsonb_build_array(jsonb_build_object('website_url', v.link,
                                                             'display_url', 'shop' || c.n || '.example.co.kr')),
           'optimization_type', 'DEGREES_OF_FREEDOM')::text END,
       CASE WHEN c.k % 2 = 1 THEN 'utm_source=facebook&utm_medium=paid&utm_campaign={{campaign.name}}' END,
       'ACTIVE',
       d.d
FROM fb_creative c CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT pg_temp.pick(copy.titles, 'fb-cre-t:' || c.creative_id || d.d) AS title,
                           pg_temp.pick(copy.bodies, 'fb-cre-b:' || c.creative_id || d.d) AS body,
                           pg_temp.pick(ARRAY['SHOP_NOW', 'LEARN_MORE', 'SIGN_UP', 'INSTALL_MOBILE_APP'],
                                        'fb-cta:' || c.creative_id) AS cta,
                           md5('fb-hash:' || c.creative_id) AS hash,
                           'https://shop' || c.n || '.example.co.kr/products/' || c.k
                               || '?utm_source=facebook&utm_content=' || c.creative_id AS link) v;

CREATE TABLE facebook_creative_asset_rel (
    account_id   varchar(32) NOT NULL,
    creative_id  varchar(32) NOT NULL,
    asset_id     varchar(32) NOT NULL,
    asset_type   varchar(16),
    collected_at date        NOT NULL
);
INSERT INTO facebook_creative_asset_rel
SELECT c.account_id, c.creative_id, s.asset_id, s.asset_type, d.d
FROM fb_creative c
JOIN fb_asset s ON s.n = c.n AND s.k = CASE WHEN c.is_video THEN 3 ELSE 1 + c.k % 2 END
CROSS JOIN day d;

CREATE TABLE facebook_asset (
    account_id   varchar(32)   NOT NULL,
    asset_id     varchar(32)   NOT NULL,
    asset_type   varchar(16),
    hash         varchar(64),
    url          varchar(2048),
    width        integer,
    height       integer,
    video_id     varchar(32),
    name         varchar(512),
    created_time timestamp,
    collected_at date          NOT NULL
);
INSERT INTO facebook_asset
SELECT s.account_id, s.asset_id, s.asset_type,
       CASE WHEN s.asset_type = 'image' THEN s.hash END,
       'https://scontent.xx.fbcdn.net/v/t39.35426-6/' || s.hash || '_n.' ||
           CASE WHEN s.asset_type = 'image' THEN 'jpg' ELSE 'mp4' END,
       CASE WHEN s.k = 2 THEN 1080 ELSE 1200 END,
       CASE WHEN s.k = 2 THEN 1920 ELSE 628 END,
       CASE WHEN s.asset_type = 'video' THEN pg_temp.digits('1', 15, 'fb-asset-vid:' || s.asset_id) END,
       CASE WHEN s.k = 1 THEN NULL ELSE '배너_' || s.k || '_' || s.asset_type || '.jpg' END,
       pg_temp.ts('fb-asset-created:' || s.asset_id),
       d.d
FROM fb_asset s CROSS JOIN day d;

-- Facebook insights, broken down by placement (seg) or by age and gender (seg_user).
CREATE TABLE facebook_ad_seg_daily_report (
    account_id           varchar(32)   NOT NULL,
    campaign_id          varchar(32)   NOT NULL,
    ad_set_id            varchar(32)   NOT NULL,
    ad_id                varchar(32)   NOT NULL,
    date_start           date,
    date_stop            date,
    publisher_platform   varchar(32)   NOT NULL,
    platform_position    varchar(64)   NOT NULL,
    impressions          bigint,
    reach                bigint,
    frequency            double precision,
    clicks               bigint,
    inline_link_clicks   bigint,
    spend                numeric(18,2),
    cpm                  numeric(18,4),
    ctr                  numeric(18,6),
    video_p25_watched_actions bigint,
    collected_at         date          NOT NULL
);
INSERT INTO facebook_ad_seg_daily_report
SELECT a.account_id, a.campaign_id, a.ad_set_id, a.ad_id, d.d, d.d, p.platform, p.position,
       m.impressions, m.reach,
       CASE WHEN m.reach > 0 THEN m.impressions::double precision / m.reach END,
       m.clicks, m.clicks * 8 / 10, m.spend,
       CASE WHEN m.impressions > 0 THEN round(m.spend * 1000 / m.impressions, 4) END,
       CASE WHEN m.impressions > 0 THEN round(m.clicks * 100.0 / m.impressions, 6) END,
       CASE WHEN a.is_video THEN m.impressions / 4 END,
       d.d
FROM fb_ad a CROSS JOIN day d
CROSS JOIN (VALUES ('facebook', 'feed'), ('instagram', 'instagram_stories')) p(platform, position)
CROSS JOIN LATERAL (SELECT impressions, impressions * 7 / 10 AS reach,
                           impressions * pg_temp.num('fb-ctr:' || a.ad_id || d.d || p.platform, 3, 40) / 1000 AS clicks,
                           round(impressions * pg_temp.num('fb-cpm:' || a.ad_id || d.d || p.platform, 2000, 9000) / 1000.0, 2) AS spend
                    FROM (SELECT CASE WHEN pg_temp.h('fb-zero:' || a.ad_id || d.d || p.platform) % 12 = 0 THEN 0
                                      ELSE pg_temp.num('fb-imp:' || a.ad_id || d.d || p.platform, 50, 20000) END
                                 AS impressions) i) m;

CREATE TABLE facebook_ad_action_seg_daily_report (
    account_id         varchar(32)   NOT NULL,
    campaign_id        varchar(32)   NOT NULL,
    ad_set_id          varchar(32)   NOT NULL,
    ad_id              varchar(32)   NOT NULL,
    date_start         date,
    publisher_platform varchar(32)   NOT NULL,
    platform_position  varchar(64)   NOT NULL,
    action_type        varchar(128)  NOT NULL,
    value              numeric(18,2),
    "1d_click"         numeric(18,2),
    "7d_click"         numeric(18,2),
    "1d_view"          numeric(18,2),
    collected_at       date          NOT NULL
);
INSERT INTO facebook_ad_action_seg_daily_report
SELECT a.account_id, a.campaign_id, a.ad_set_id, a.ad_id, d.d, 'facebook', 'feed', t.action_type,
       v.value,
       CASE WHEN t.action_type <> 'link_click' THEN round(v.value * 0.6, 0) END,
       CASE WHEN t.action_type <> 'link_click' THEN round(v.value * 0.9, 0) END,
       CASE WHEN t.action_type <> 'link_click' AND v.value > 2 THEN round(v.value * 0.1, 0) END,
       d.d
FROM fb_ad a CROSS JOIN day d
CROSS JOIN (VALUES ('link_click'), ('offsite_conversion.fb_pixel_purchase')) t(action_type)
CROSS JOIN LATERAL (SELECT pg_temp.num('fb-act:' || a.ad_id || d.d || t.action_type, 0,
                                       CASE WHEN t.action_type = 'link_click' THEN 400 ELSE 12 END)::numeric(18,2)
                           AS value) v;

CREATE TABLE facebook_ad_action_values_seg_daily_report (
    account_id         varchar(32)   NOT NULL,
    campaign_id        varchar(32)   NOT NULL,
    ad_set_id          varchar(32)   NOT NULL,
    ad_id              varchar(32)   NOT NULL,
    date_start         date,
    publisher_platform varchar(32)   NOT NULL,
    platform_position  varchar(64)   NOT NULL,
    action_type        varchar(128)  NOT NULL,
    value              numeric(18,2),
    "1d_click"         numeric(18,2),
    "7d_click"         numeric(18,2),
    "1d_view"          numeric(18,2),
    collected_at       date          NOT NULL
);
INSERT INTO facebook_ad_action_values_seg_daily_report
SELECT a.account_id, a.campaign_id, a.ad_set_id, a.ad_id, d.d, 'facebook', 'feed', t.action_type,
       v.value, round(v.value * 0.55, 2), round(v.value * 0.92, 2),
       CASE WHEN v.value > 0 THEN round(v.value * 0.08, 2) END,
       d.d
FROM fb_ad a CROSS JOIN day d
CROSS JOIN (VALUES ('offsite_conversion.fb_pixel_purchase'), ('omni_purchase')) t(action_type)
CROSS JOIN LATERAL (SELECT (pg_temp.num('fb-val:' || a.ad_id || d.d || t.action_type, 0, 250000) * 10)::numeric(18,2)
                           AS value) v;

CREATE TABLE facebook_ad_seg_user_daily_report (
    account_id   varchar(32)   NOT NULL,
    campaign_id  varchar(32)   NOT NULL,
    ad_set_id    varchar(32)   NOT NULL,
    ad_id        varchar(32)   NOT NULL,
    date_start   date,
    age          varchar(16)   NOT NULL,
    gender       varchar(16)   NOT NULL,
    impressions  bigint,
    reach        bigint,
    clicks       bigint,
    spend        numeric(18,2),
    collected_at date          NOT NULL
);
INSERT INTO facebook_ad_seg_user_daily_report
SELECT a.account_id, a.campaign_id, a.ad_set_id, a.ad_id, d.d, s.age, s.gender,
       m.impressions, m.impressions * 3 / 4, m.impressions * pg_temp.num('fb-uc:' || a.ad_id || d.d || s.age || s.gender, 5, 30) / 1000,
       round(m.impressions * pg_temp.num('fb-us:' || a.ad_id || d.d || s.age || s.gender, 2000, 8000) / 1000.0, 2),
       d.d
FROM fb_ad a CROSS JOIN day d
CROSS JOIN (VALUES ('25-34', 'female'), ('35-44', 'male'), ('65+', 'unknown')) s(age, gender)
CROSS JOIN LATERAL (SELECT pg_temp.num('fb-ui:' || a.ad_id || d.d || s.age || s.gender, 0, 8000) AS impressions) m;

-------------------------------------------------------------------------------------------------
-- Google Ads (API v17 field names, dots included). Account column: "customer.id" bigint.
-- The mart names these columns with underscores: "customer.id" -> customer_id.
-------------------------------------------------------------------------------------------------

-- Entities. Per customer: 1-3 campaigns, 2-3 ad groups, 3 ads, 5 keywords, 1-2 media files,
-- 3 assets.
CREATE TEMP TABLE g_campaign AS
SELECT a.n, 5100000000 + a.n AS customer_id, k,
       pg_temp.num('g-cmp:' || a.n || ':' || k, 10000000000, 21999999999) AS campaign_id,
       pg_temp.pick(ARRAY['SEARCH', 'DISPLAY', 'PERFORMANCE_MAX', 'VIDEO', 'SHOPPING'],
                    'g-ch:' || a.n || ':' || k) AS channel
FROM acct a, generate_series(1, pg_temp.num('g-ncmp:' || a.n, 1, 3)::int) k;

CREATE TEMP TABLE g_ad_group AS
SELECT c.n, c.customer_id, g.k, c.campaign_id, c.channel,
       pg_temp.num('g-ag:' || c.n || ':' || g.k, 100000000000, 169999999999) AS ad_group_id
FROM (SELECT a.n, k FROM acct a, generate_series(1, pg_temp.num('g-nag:' || a.n, 2, 3)::int) k) g
JOIN g_campaign c ON c.n = g.n
 AND c.k = 1 + (g.k - 1) % (SELECT count(*) FROM g_campaign c2 WHERE c2.n = g.n);

CREATE TEMP TABLE g_ad AS
SELECT g.n, g.customer_id, j AS k, g.campaign_id, g.ad_group_id, g.channel,
       pg_temp.num('g-ad:' || g.n || ':' || j, 600000000000, 699999999999) AS ad_id
FROM generate_series(1, 3) gs(j)
JOIN g_ad_group g ON g.k = 1 + (j - 1) % (SELECT count(*) FROM g_ad_group g2 WHERE g2.n = g.n);

CREATE TEMP TABLE g_keyword AS
SELECT g.n, g.customer_id, j AS k, g.campaign_id, g.ad_group_id,
       pg_temp.num('g-kw:' || g.n || ':' || j, 10000000, 999999999999) AS criterion_id
FROM generate_series(1, 5) gs(j)
JOIN g_ad_group g ON g.k = 1 + (j - 1) % (SELECT count(*) FROM g_ad_group g2 WHERE g2.n = g.n);

CREATE TABLE google_campaign (
    "customer.id"                          bigint       NOT NULL,
    "customer.descriptive_name"            varchar(256),
    "customer.currency_code"               varchar(3),
    "campaign.id"                          bigint       NOT NULL,
    "campaign.name"                        varchar(512),
    "campaign.status"                      varchar(32),
    "campaign.serving_status"              varchar(32),
    "campaign.advertising_channel_type"    varchar(64),
    "campaign.advertising_channel_sub_type" varchar(64),
    "campaign.bidding_strategy_type"       varchar(64),
    "campaign_budget.amount_micros"        bigint,
    "campaign.start_date"                  varchar(10),
    "campaign.end_date"                    varchar(10),
    collected_at                           date         NOT NULL
);
INSERT INTO google_campaign
SELECT c.customer_id, '광고주 ' || lpad(c.n::text, 5, '0') || ' (Google)', 'KRW',
       c.campaign_id,
       c.channel || ' | ' || pg_temp.pick(copy.titles, 'g-cmp-name:' || c.campaign_id),
       CASE WHEN pg_temp.h('g-cmp-st:' || c.campaign_id || d.d) % 9 = 0 THEN 'PAUSED' ELSE 'ENABLED' END,
       'SERVING',
       c.channel,
       CASE WHEN c.channel = 'VIDEO' THEN 'VIDEO_ACTION' END,
       pg_temp.pick(ARRAY['MAXIMIZE_CONVERSIONS', 'TARGET_ROAS', 'MANUAL_CPC', 'TARGET_CPA'], 'g-bs:' || c.campaign_id),
       pg_temp.num('g-bud:' || c.campaign_id, 10, 500) * 1000 * 1000000,
       to_char(pg_temp.ts('g-cmp-start:' || c.campaign_id), 'YYYY-MM-DD'),
       CASE WHEN pg_temp.h('g-cmp-end:' || c.campaign_id) % 3 = 0 THEN '2037-12-30' END,
       d.d
FROM g_campaign c CROSS JOIN day d CROSS JOIN copy;

CREATE TABLE google_ad_group (
    "customer.id"               bigint       NOT NULL,
    "campaign.id"               bigint       NOT NULL,
    "ad_group.id"               bigint       NOT NULL,
    "ad_group.name"             varchar(512),
    "ad_group.status"           varchar(32),
    "ad_group.type"             varchar(64),
    "ad_group.cpc_bid_micros"   bigint,
    "ad_group.target_cpa_micros" bigint,
    collected_at                date         NOT NULL
);
INSERT INTO google_ad_group
SELECT g.customer_id, g.campaign_id, g.ad_group_id,
       '광고그룹 ' || g.k || ' - ' || pg_temp.pick(copy.keywords, 'g-ag-name:' || g.ad_group_id),
       'ENABLED',
       CASE g.channel WHEN 'SEARCH' THEN 'SEARCH_STANDARD' WHEN 'DISPLAY' THEN 'DISPLAY_STANDARD'
                      WHEN 'VIDEO' THEN 'VIDEO_TRUE_VIEW_IN_STREAM' WHEN 'SHOPPING' THEN 'SHOPPING_PRODUCT_ADS'
                      END,
       pg_temp.num('g-cpc:' || g.ad_group_id, 100, 3000) * 1000000,
       CASE WHEN pg_temp.h('g-tcpa:' || g.ad_group_id) % 3 = 0
            THEN pg_temp.num('g-tcpav:' || g.ad_group_id, 5, 50) * 1000 * 1000000 END,
       d.d
FROM g_ad_group g CROSS JOIN day d CROSS JOIN copy;

CREATE TABLE google_ad (
    "customer.id"                                    bigint        NOT NULL,
    "campaign.id"                                    bigint        NOT NULL,
    "ad_group.id"                                    bigint        NOT NULL,
    "ad_group_ad.ad.id"                              bigint        NOT NULL,
    "ad_group_ad.ad.name"                            varchar(512),
    "ad_group_ad.ad.type"                            varchar(64),
    "ad_group_ad.status"                             varchar(32),
    "ad_group_ad.ad.final_urls"                      varchar(65535),
    "ad_group_ad.ad.responsive_search_ad.headlines"    varchar(65535),
    "ad_group_ad.ad.responsive_search_ad.descriptions" varchar(65535),
    "ad_group_ad.policy_summary.approval_status"     varchar(64),
    collected_at                                     date          NOT NULL
);
INSERT INTO google_ad
SELECT a.customer_id, a.campaign_id, a.ad_group_id, a.ad_id,
       CASE WHEN a.channel <> 'SEARCH' THEN 'display_ad_' || a.k || '.png' END,
       CASE WHEN a.channel = 'SEARCH' THEN 'RESPONSIVE_SEARCH_AD' ELSE 'RESPONSIVE_DISPLAY_AD' END,
       'ENABLED',
       jsonb_build_array('https://shop' || a.n || '.example.co.kr/?gclid={gclid}&kw={keyword}')::text,
       CASE WHEN a.channel = 'SEARCH' THEN jsonb_build_array(
           jsonb_build_object('text', pg_temp.pick(copy.titles, 'g-h1:' || a.ad_id), 'pinnedField', 'HEADLINE_1'),
           jsonb_build_object('text', pg_temp.pick(copy.titles, 'g-h2:' || a.ad_id), 'pinnedField', NULL),
           jsonb_build_object('text', pg_temp.pick(copy.keywords, 'g-h3:' || a.ad_id) || ' 최저가', 'pinnedField', NULL),
           jsonb_build_object('text', '공식 온라인 스토어', 'pinnedField', NULL))::text END,
       CASE WHEN a.channel = 'SEARCH' THEN jsonb_build_array(
           jsonb_build_object('text', pg_temp.pick(copy.bodies, 'g-d1:' || a.ad_id)),
           jsonb_build_object('text', pg_temp.pick(copy.bodies, 'g-d2:' || a.ad_id)))::text END,
       pg_temp.pick(ARRAY['APPROVED', 'APPROVED', 'APPROVED_LIMITED', 'AREA_OF_INTEREST_ONLY'], 'g-ap:' || a.ad_id || d.d),
       d.d
FROM g_ad a CROSS JOIN day d CROSS JOIN copy;

CREATE TABLE google_media_file (
    "customer.id"                          bigint        NOT NULL,
    "media_file.id"                        bigint        NOT NULL,
    "media_file.name"                      varchar(512),
    "media_file.type"                      varchar(32),
    "media_file.mime_type"                 varchar(32),
    "media_file.source_url"                varchar(2048),
    "media_file.file_size"                 bigint,
    "media_file.image.full_size_image_url" varchar(2048),
    collected_at                           date          NOT NULL
);
INSERT INTO google_media_file
SELECT 5100000000 + a.n, m.id,
       CASE WHEN k = 1 THEN '메인배너_1200x628.jpg' ELSE 'logo square 1:1.png' END,
       'IMAGE',
       CASE WHEN k = 1 THEN 'IMAGE_JPEG' ELSE 'IMAGE_PNG' END,
       CASE WHEN k = 2 THEN 'https://shop' || a.n || '.example.co.kr/static/logo.png' END,
       pg_temp.num('g-mf-size:' || m.id, 20000, 5000000),
       'https://tpc.googlesyndication.com/simgad/' || m.id,
       d.d
FROM acct a
CROSS JOIN LATERAL generate_series(1, pg_temp.num('g-nmf:' || a.n, 1, 2)::int) k
CROSS JOIN LATERAL (SELECT pg_temp.num('g-mf:' || a.n || ':' || k, 10000000000, 99999999999) AS id) m
CROSS JOIN day d;

CREATE TABLE google_asset (
    "customer.id"                              bigint        NOT NULL,
    "asset.id"                                 bigint        NOT NULL,
    "asset.name"                               varchar(512),
    "asset.type"                               varchar(32),
    "asset.text_asset.text"                    varchar(2048),
    "asset.image_asset.full_size.url"          varchar(2048),
    "asset.youtube_video_asset.youtube_video_id" varchar(32),
    "asset.policy_summary.approval_status"     varchar(64),
    collected_at                               date          NOT NULL
);
INSERT INTO google_asset
SELECT 5100000000 + a.n, s.id,
       CASE WHEN k = 2 THEN 'banner_' || s.id || '.jpg' END,
       t.type,
       CASE WHEN t.type = 'TEXT' THEN pg_temp.pick(copy.bodies, 'g-as-t:' || s.id) END,
       CASE WHEN t.type = 'IMAGE' THEN 'https://tpc.googlesyndication.com/simgad/' || s.id END,
       CASE WHEN t.type = 'YOUTUBE_VIDEO' THEN substr(md5('yt' || s.id), 1, 11) END,
       'APPROVED',
       d.d
FROM acct a CROSS JOIN copy
CROSS JOIN generate_series(1, 3) k
CROSS JOIN LATERAL (SELECT pg_temp.num('g-as:' || a.n || ':' || k, 10000000000, 99999999999) AS id) s
CROSS JOIN LATERAL (SELECT (ARRAY['TEXT', 'IMAGE', 'YOUTUBE_VIDEO'])[k] AS type) t
CROSS JOIN day d;

CREATE TABLE google_campaign_report (
    "customer.id"                       bigint           NOT NULL,
    "campaign.id"                       bigint           NOT NULL,
    "campaign.name"                     varchar(512),
    "campaign.advertising_channel_type" varchar(64),
    "segments.date"                     date             NOT NULL,
    "segments.device"                   varchar(32)      NOT NULL,
    "metrics.impressions"               bigint,
    "metrics.clicks"                    bigint,
    "metrics.cost_micros"               bigint,
    "metrics.conversions"               double precision,
    "metrics.conversions_value"         double precision,
    "metrics.all_conversions"           double precision,
    "metrics.all_conversions_value"     double precision,
    "metrics.video_views"               bigint,
    collected_at                        date             NOT NULL
);
INSERT INTO google_campaign_report
SELECT c.customer_id, c.campaign_id, c.channel || ' | ' || pg_temp.pick(copy.titles, 'g-cmp-name:' || c.campaign_id),
       c.channel, d.d, dev.device,
       m.impressions, m.clicks, m.clicks * pg_temp.num('g-cr-cpc:' || m.seed, 150, 2500) * 1000000,
       m.conv, m.conv * 35000.5, m.conv + 0.25, m.conv * 41000.75,
       CASE WHEN c.channel = 'VIDEO' THEN m.impressions / 3 END,
       d.d
FROM g_campaign c CROSS JOIN day d CROSS JOIN copy
CROSS JOIN (VALUES ('MOBILE'), ('DESKTOP'), ('TABLET')) dev(device)
CROSS JOIN LATERAL (SELECT seed, impressions, impressions * pg_temp.num('g-cr-ctr:' || seed, 5, 60) / 1000 AS clicks,
                           pg_temp.num('g-cr-conv:' || seed, 0, 40) / 4.0::double precision AS conv
                    FROM (SELECT c.campaign_id || ':' || d.d || ':' || dev.device AS seed) s0,
                         LATERAL (SELECT pg_temp.num('g-cr-imp:' || s0.seed, 0, 30000) AS impressions) i) m;

CREATE TABLE google_ad_group_report (
    "customer.id"                   bigint           NOT NULL,
    "campaign.id"                   bigint           NOT NULL,
    "ad_group.id"                   bigint           NOT NULL,
    "ad_group.name"                 varchar(512),
    "segments.date"                 date             NOT NULL,
    "segments.device"               varchar(32)      NOT NULL,
    "metrics.impressions"           bigint,
    "metrics.clicks"                bigint,
    "metrics.cost_micros"           bigint,
    "metrics.average_cpc"           double precision,
    "metrics.conversions"           double precision,
    "metrics.all_conversions_value" double precision,
    collected_at                    date             NOT NULL
);
INSERT INTO google_ad_group_report
SELECT g.customer_id, g.campaign_id, g.ad_group_id,
       '광고그룹 ' || g.k || ' - ' || pg_temp.pick(copy.keywords, 'g-ag-name:' || g.ad_group_id),
       d.d, dev.device, m.impressions, m.clicks, m.cost,
       CASE WHEN m.clicks > 0 THEN m.cost::double precision / m.clicks END,
       m.conv, m.conv * 38000.25,
       d.d
FROM g_ad_group g CROSS JOIN day d CROSS JOIN copy
CROSS JOIN (VALUES ('MOBILE'), ('DESKTOP')) dev(device)
CROSS JOIN LATERAL (SELECT x.*, x.clicks * pg_temp.num('g-agr-cpc:' || x.seed, 150, 2500) * 1000000 AS cost
                    FROM (SELECT s.seed, s.impressions,
                                 s.impressions * pg_temp.num('g-agr-ctr:' || s.seed, 5, 60) / 1000 AS clicks,
                                 pg_temp.num('g-agr-conv:' || s.seed, 0, 20) / 4.0::double precision AS conv
                          FROM (SELECT g.ad_group_id || ':' || d.d || ':' || dev.device AS seed,
                                       pg_temp.num('g-agr-imp:' || g.ad_group_id || ':' || d.d || ':' || dev.device,
                                                   0, 15000) AS impressions) s) x) m;

CREATE TABLE google_keyword_report (
    "customer.id"                           bigint           NOT NULL,
    "campaign.id"                           bigint           NOT NULL,
    "ad_group.id"                           bigint           NOT NULL,
    "ad_group_criterion.criterion_id"       bigint           NOT NULL,
    "ad_group_criterion.keyword.text"       varchar(512),
    "ad_group_criterion.keyword.match_type" varchar(16),
    "segments.date"                         date             NOT NULL,
    "metrics.impressions"                   bigint,
    "metrics.clicks"                        bigint,
    "metrics.cost_micros"                   bigint,
    "metrics.conversions"                   double precision,
    "metrics.all_conversions_value"         double precision,
    "metrics.search_impression_share"       double precision,
    collected_at                            date             NOT NULL
);
INSERT INTO google_keyword_report
SELECT k.customer_id, k.campaign_id, k.ad_group_id, k.criterion_id,
       pg_temp.pick(copy.keywords, 'g-kw-text:' || k.criterion_id),
       pg_temp.pick(ARRAY['EXACT', 'PHRASE', 'BROAD'], 'g-kw-mt:' || k.criterion_id),
       d.d, m.impressions, m.clicks, m.clicks * pg_temp.num('g-kw-cpc:' || m.seed, 100, 4000) * 1000000,
       m.conv, m.conv * 29000.5,
       CASE WHEN m.impressions >= 100 THEN pg_temp.num('g-kw-sis:' || m.seed, 1000, 9999) / 10000.0::double precision END,
       d.d
FROM g_keyword k CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT s.seed, s.impressions, s.impressions * pg_temp.num('g-kw-ctr:' || s.seed, 5, 90) / 1000 AS clicks,
                           pg_temp.num('g-kw-conv:' || s.seed, 0, 12) / 4.0::double precision AS conv
                    FROM (SELECT k.criterion_id || ':' || d.d AS seed,
                                 pg_temp.num('g-kw-imp:' || k.criterion_id || ':' || d.d, 0, 5000) AS impressions) s) m;

CREATE TABLE google_keyword_conversion_report (
    "customer.id"                       bigint           NOT NULL,
    "campaign.id"                       bigint           NOT NULL,
    "ad_group.id"                       bigint           NOT NULL,
    "ad_group_criterion.criterion_id"   bigint           NOT NULL,
    "segments.date"                     date             NOT NULL,
    "segments.conversion_action"        varchar(256)     NOT NULL,
    "segments.conversion_action_name"   varchar(512),
    "metrics.conversions"               double precision,
    "metrics.conversions_value"         double precision,
    "metrics.all_conversions"           double precision,
    "metrics.all_conversions_value"     double precision,
    collected_at                        date             NOT NULL
);
INSERT INTO google_keyword_conversion_report
SELECT k.customer_id, k.campaign_id, k.ad_group_id, k.criterion_id, d.d,
       'customers/' || k.customer_id || '/conversionActions/' || (k.customer_id % 1000000 * 10 + ca.i),
       ca.name, m.conv, m.conv * 45000, m.conv + 0.5, m.conv * 47000.125,
       d.d
FROM g_keyword k CROSS JOIN day d
CROSS JOIN (VALUES (1, '구매 완료 (Purchase)'), (2, '장바구니 담기 "Add to cart"')) ca(i, name)
CROSS JOIN LATERAL (SELECT pg_temp.num('g-kc:' || k.criterion_id || d.d || ca.i, 0, 16) / 4.0::double precision AS conv) m
WHERE k.k <= 3;

-------------------------------------------------------------------------------------------------
-- Naver Search Ad. Account column: customer_id bigint; the *_master_report tables call it
-- `customerid`. Some columns are camelCase as the Naver API spells them.
-------------------------------------------------------------------------------------------------

-- Entities. Per customer: 1-3 campaigns, 2 ad groups, 3 ads, 5 keywords, 3 shopping products.
CREATE TEMP TABLE n_campaign AS
SELECT a.n, 1000000 + a.n AS customer_id, k,
       pg_temp.digits('cmp-a001-01-', 15, 'n-cmp:' || a.n || ':' || k) AS campaign_id,
       pg_temp.pick(ARRAY['WEB_SITE', 'SHOPPING', 'POWER_CONTENTS', 'BRAND_SEARCH'], 'n-tp:' || a.n || ':' || k) AS tp
FROM acct a, generate_series(1, pg_temp.num('n-ncmp:' || a.n, 1, 3)::int) k;

CREATE TEMP TABLE n_adgroup AS
SELECT c.n, c.customer_id, j AS k, c.campaign_id, c.tp,
       pg_temp.digits('grp-a001-01-', 15, 'n-grp:' || c.n || ':' || j) AS adgroup_id
FROM generate_series(1, 2) gs(j)
JOIN n_campaign c ON c.k = 1 + (j - 1) % (SELECT count(*) FROM n_campaign c2 WHERE c2.n = c.n);

CREATE TEMP TABLE n_ad AS
SELECT g.n, g.customer_id, j AS k, g.campaign_id, g.adgroup_id, g.tp,
       pg_temp.digits('nad-a001-01-', 15, 'n-ad:' || g.n || ':' || j) AS ad_id,
       pg_temp.digits('nkw-a001-01-', 15, 'n-kw:' || g.n || ':' || j) AS keyword_id
FROM generate_series(1, 3) gs(j)
JOIN n_adgroup g ON g.k = 1 + (j - 1) % 2;

CREATE TEMP TABLE n_keyword AS
SELECT g.n, g.customer_id, j AS k, g.adgroup_id,
       pg_temp.digits('nkw-a001-01-', 15, 'n-kw:' || g.n || ':' || j) AS keyword_id
FROM generate_series(1, 5) gs(j)
JOIN n_adgroup g ON g.k = 1 + (j - 1) % 2;

CREATE TABLE naver_ad_stat_report (
    stat_date           date          NOT NULL,
    customer_id         bigint        NOT NULL,
    campaign_id         varchar(64)   NOT NULL,
    adgroup_id          varchar(64)   NOT NULL,
    keyword_id          varchar(64),
    ad_id               varchar(64)   NOT NULL,
    business_channel_id varchar(64),
    media_code          bigint,
    pc_mobile_type      varchar(1)    NOT NULL,
    impression          bigint,
    click               bigint,
    cost                numeric(18,2),
    sum_of_ad_rank      bigint,
    view_count          bigint,
    collected_at        date          NOT NULL
);
INSERT INTO naver_ad_stat_report
SELECT d.d, a.customer_id, a.campaign_id, a.adgroup_id,
       CASE WHEN a.tp IN ('WEB_SITE', 'POWER_CONTENTS') THEN a.keyword_id END,
       a.ad_id, pg_temp.digits('bsn-a001-00-', 15, 'n-bsn:' || a.n),
       pg_temp.pick(ARRAY[27758, 8753, 11068, 122875], 'n-media:' || a.ad_id || d.d || t.pm),
       t.pm, m.imp, m.clk, round(m.clk * pg_temp.num('n-cpc:' || a.ad_id || d.d || t.pm, 70, 1500)::numeric, 2),
       m.imp * pg_temp.num('n-rank:' || a.ad_id || d.d || t.pm, 1, 5),
       CASE WHEN a.tp = 'POWER_CONTENTS' THEN m.imp / 10 END,
       d.d
FROM n_ad a CROSS JOIN day d
CROSS JOIN (VALUES ('P'), ('M')) t(pm)
CROSS JOIN LATERAL (SELECT i.imp, i.imp * pg_temp.num('n-ctr:' || a.ad_id || d.d || t.pm, 5, 50) / 1000 AS clk
                    FROM (SELECT pg_temp.num('n-imp:' || a.ad_id || d.d || t.pm, 0, 12000) AS imp) i) m;

CREATE TABLE naver_ad_conversion_stat_report (
    stat_date           date          NOT NULL,
    customer_id         bigint        NOT NULL,
    campaign_id         varchar(64)   NOT NULL,
    adgroup_id          varchar(64)   NOT NULL,
    keyword_id          varchar(64),
    ad_id               varchar(64)   NOT NULL,
    business_channel_id varchar(64),
    media_code          bigint,
    pc_mobile_type      varchar(1),
    conversion_method   integer,
    conversion_type     varchar(32)   NOT NULL,
    conversion_count    bigint,
    sales_by_conversion numeric(18,2),
    collected_at        date          NOT NULL
);
INSERT INTO naver_ad_conversion_stat_report
SELECT d.d, a.customer_id, a.campaign_id, a.adgroup_id,
       CASE WHEN a.tp IN ('WEB_SITE', 'POWER_CONTENTS') THEN a.keyword_id END,
       a.ad_id, pg_temp.digits('bsn-a001-00-', 15, 'n-bsn:' || a.n), 27758,
       pg_temp.pick(ARRAY['P', 'M'], 'n-cv-pm:' || a.ad_id || d.d),
       1 + (pg_temp.h('n-cv-m:' || a.ad_id || d.d) % 2)::int,
       ct.conversion_type, c.cnt,
       CASE WHEN ct.conversion_type = 'purchase' THEN (c.cnt * pg_temp.num('n-cv-v:' || a.ad_id || d.d, 9000, 90000))::numeric(18,2)
            ELSE 0 END,
       d.d
FROM n_ad a CROSS JOIN day d
CROSS JOIN (VALUES ('purchase'), ('cart')) ct(conversion_type)
CROSS JOIN LATERAL (SELECT pg_temp.num('n-cv:' || a.ad_id || d.d || ct.conversion_type, 0, 15) AS cnt) c;

CREATE TABLE naver_campaign_master_report (
    customerid        bigint        NOT NULL,
    "nccCampaignId"   varchar(64)   NOT NULL,
    name              varchar(512),
    "campaignTp"      varchar(32),
    delivery_method   integer,
    using_period      integer,
    period_start_date timestamp,
    period_end_date   timestamp,
    "regTm"           timestamp,
    "delTm"           timestamp,
    on_off            integer,
    shared_budget_id  varchar(64),
    collected_at      date          NOT NULL
);
INSERT INTO naver_campaign_master_report
SELECT c.customer_id, c.campaign_id,
       '#' || c.k || ' ' || c.tp || ' - ' || pg_temp.pick(copy.titles, 'n-cmp-name:' || c.campaign_id),
       c.tp, 1 + (pg_temp.h('n-dm:' || c.campaign_id) % 2)::int, p.used,
       CASE WHEN p.used = 1 THEN pg_temp.ts('n-cmp-ps:' || c.campaign_id) END,
       CASE WHEN p.used = 1 THEN (current_date + 90)::timestamp END,
       pg_temp.ts('n-cmp-reg:' || c.campaign_id) - interval '30 days',
       CASE WHEN c.k = 3 AND pg_temp.h('n-cmp-del:' || c.campaign_id || d.d) % 20 = 0 THEN d.d::timestamp END,
       CASE WHEN pg_temp.h('n-cmp-oo:' || c.campaign_id || d.d) % 10 = 0 THEN 0 ELSE 1 END,
       CASE WHEN c.k = 2 THEN pg_temp.digits('sbg-a001-01-', 15, 'n-sbg:' || c.n) END,
       d.d
FROM n_campaign c CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT (pg_temp.h('n-up:' || c.campaign_id) % 2)::int AS used) p;

CREATE TABLE naver_adgroup_master_report (
    customerid                 bigint        NOT NULL,
    "nccAdgroupId"             varchar(64)   NOT NULL,
    "nccCampaignId"            varchar(64)   NOT NULL,
    name                       varchar(512),
    bid_amt                    bigint,
    on_off                     integer,
    using_contents_network_bid integer,
    contents_network_bid       bigint,
    pc_network_bid_weight      integer,
    mobile_network_bid_weight  integer,
    "regTm"                    timestamp,
    "delTm"                    timestamp,
    collected_at               date          NOT NULL
);
INSERT INTO naver_adgroup_master_report
SELECT g.customer_id, g.adgroup_id, g.campaign_id,
       '그룹_' || g.k || ' ' || pg_temp.pick(copy.keywords, 'n-grp-name:' || g.adgroup_id),
       pg_temp.num('n-bid:' || g.adgroup_id, 7, 500) * 10,
       CASE WHEN pg_temp.h('n-grp-oo:' || g.adgroup_id || d.d) % 12 = 0 THEN 0 ELSE 1 END,
       u.used,
       CASE WHEN u.used = 1 THEN pg_temp.num('n-cnb:' || g.adgroup_id, 7, 300) * 10 END,
       100, pg_temp.pick(ARRAY[100, 120, 150, 200], 'n-mbw:' || g.adgroup_id),
       pg_temp.ts('n-grp-reg:' || g.adgroup_id),
       NULL,
       d.d
FROM n_adgroup g CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT (pg_temp.h('n-ucnb:' || g.adgroup_id) % 2)::int AS used) u;

CREATE TABLE naver_keyword_master_report (
    customerid         bigint        NOT NULL,
    "nccKeywordId"     varchar(64)   NOT NULL,
    "nccAdgroupId"     varchar(64)   NOT NULL,
    keyword            varchar(512),
    bid_amt            bigint,
    on_off             integer,
    inspect_status     varchar(32),
    use_group_bid_amt  boolean,
    "regTm"            timestamp,
    "delTm"            timestamp,
    collected_at       date          NOT NULL
);
INSERT INTO naver_keyword_master_report
SELECT k.customer_id, k.keyword_id, k.adgroup_id,
       pg_temp.pick(copy.keywords, 'n-kw-text:' || k.keyword_id),
       CASE WHEN g.grp THEN NULL ELSE pg_temp.num('n-kw-bid:' || k.keyword_id, 7, 900) * 10 END,
       1,
       pg_temp.pick(ARRAY['APPROVED', 'APPROVED', 'APPROVED', 'UNDER_REVIEW', 'REJECTED'], 'n-kw-ins:' || k.keyword_id || d.d),
       g.grp,
       pg_temp.ts('n-kw-reg:' || k.keyword_id),
       NULL,
       d.d
FROM n_keyword k CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT pg_temp.h('n-kw-g:' || k.keyword_id) % 3 = 0 AS grp) g;

CREATE TABLE naver_ad_conv_report (
    stat_date           date          NOT NULL,
    customer_id         bigint        NOT NULL,
    campaign_id         varchar(64)   NOT NULL,
    adgroup_id          varchar(64)   NOT NULL,
    keyword_id          varchar(64),
    ad_id               varchar(64)   NOT NULL,
    hh                  integer       NOT NULL,
    pc_mobile_type      varchar(1),
    conversion_method   integer,
    conversion_type     varchar(32),
    conversion_count    bigint,
    sales_by_conversion numeric(18,2),
    collected_at        date          NOT NULL
);
INSERT INTO naver_ad_conv_report
SELECT d.d, a.customer_id, a.campaign_id, a.adgroup_id,
       CASE WHEN a.tp IN ('WEB_SITE', 'POWER_CONTENTS') THEN a.keyword_id END,
       a.ad_id, pg_temp.num('n-cr-hh:' || a.ad_id || d.d, 0, 23),
       pg_temp.pick(ARRAY['P', 'M', 'M'], 'n-cr-pm:' || a.ad_id || d.d),
       1, 'purchase', c.cnt, (c.cnt * pg_temp.num('n-cr-v:' || a.ad_id || d.d, 9900, 129000))::numeric(18,2),
       d.d
FROM n_ad a CROSS JOIN day d
CROSS JOIN LATERAL (SELECT pg_temp.num('n-cr:' || a.ad_id || d.d, 1, 6) AS cnt) c;

CREATE TABLE naver_shopping_product_master_report (
    customerid         bigint         NOT NULL,
    "nccAdId"          varchar(64)    NOT NULL,
    "nccAdgroupId"     varchar(64)    NOT NULL,
    on_off             integer,
    ad_product_name    varchar(1024),
    ad_image_url       varchar(2048),
    bid                numeric(18,2),
    using_group_bid    boolean,
    ad_link_status     varchar(32),
    product_id         varchar(64),
    product_id_of_mall varchar(64),
    product_name       varchar(1024),
    product_image_url  varchar(2048),
    pc_landing_url     varchar(2048),
    mobile_landing_url varchar(2048),
    price              numeric(18,2),
    delivery_fee       numeric(18,2),
    category_name      varchar(512),
    "regTm"            timestamp,
    "delTm"            timestamp,
    collected_at       date           NOT NULL
);
INSERT INTO naver_shopping_product_master_report
SELECT a.customer_id, a.ad_id, a.adgroup_id, 1,
       '[' || pg_temp.pick(copy.titles, 'n-sp-t:' || a.ad_id) || '] ' || pg_temp.pick(copy.keywords, 'n-sp-k:' || a.ad_id),
       'https://shopping-phinf.pstatic.net/main_' || p.pid || '/' || p.pid || '.jpg',
       CASE WHEN u.grp THEN NULL ELSE pg_temp.num('n-sp-bid:' || a.ad_id, 5, 200) * 10 END::numeric(18,2),
       u.grp, 'ELIGIBLE', p.pid, 'P' || (pg_temp.h('n-sp-mall:' || a.ad_id) % 100000000)::text,
       pg_temp.pick(copy.keywords, 'n-sp-k:' || a.ad_id) || E' 1+1 "특가" \\ 정품',
       'https://shopping-phinf.pstatic.net/main_' || p.pid || '/' || p.pid || '.1.jpg',
       'https://smartstore.naver.com/shop' || a.n || '/products/' || p.pid,
       'https://m.smartstore.naver.com/shop' || a.n || '/products/' || p.pid,
       (pg_temp.num('n-sp-price:' || a.ad_id, 99, 3000) * 100)::numeric(18,2),
       CASE WHEN pg_temp.h('n-sp-df:' || a.ad_id) % 3 = 0 THEN NULL ELSE 3000 END,
       pg_temp.pick(ARRAY['패션의류>여성의류>원피스', '디지털/가전>음향가전>이어폰', '생활/건강>캠핑>의자',
                          '화장품/미용>스킨케어>선케어'], 'n-sp-cat:' || a.ad_id),
       pg_temp.ts('n-sp-reg:' || a.ad_id), NULL,
       d.d
FROM n_ad a CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT (80000000000 + pg_temp.h('n-sp-pid:' || a.ad_id) % 9999999999)::text AS pid) p
CROSS JOIN LATERAL (SELECT pg_temp.h('n-sp-g:' || a.ad_id) % 2 = 0 AS grp) u;

CREATE TABLE naver_all_campaign_list (
    customer_id      bigint        NOT NULL,
    "nccCampaignId"  varchar(64)   NOT NULL,
    name             varchar(512),
    "campaignTp"     varchar(32),
    "deliveryMethod" varchar(16),
    "trackingMode"   varchar(32),
    "userLock"       boolean,
    status           varchar(32),
    "statusReason"   varchar(64),
    "dailyBudget"    bigint,
    "useDailyBudget" boolean,
    "delFlag"        boolean,
    "regTm"          timestamp,
    "editTm"         timestamp,
    collected_at     date          NOT NULL
);
INSERT INTO naver_all_campaign_list
SELECT c.customer_id, c.campaign_id,
       '#' || c.k || ' ' || c.tp || ' - ' || pg_temp.pick(copy.titles, 'n-cmp-name:' || c.campaign_id),
       c.tp, pg_temp.pick(ARRAY['STANDARD', 'ACCELERATED'], 'n-dm2:' || c.campaign_id),
       'TRACKING_DISABLED', l.locked,
       CASE WHEN l.locked THEN 'PAUSED' ELSE 'ELIGIBLE' END,
       CASE WHEN l.locked THEN 'CAMPAIGN_PAUSED' ELSE 'ELIGIBLE' END,
       CASE WHEN b.used THEN pg_temp.num('n-db:' || c.campaign_id, 1, 100) * 10000 ELSE 0 END,
       b.used, false,
       pg_temp.ts('n-cmp-reg:' || c.campaign_id) - interval '30 days',
       d.d - interval '1 day' + make_interval(secs => pg_temp.h('n-cmp-edit:' || c.campaign_id || d.d) % 86400),
       d.d
FROM n_campaign c CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT pg_temp.h('n-lock:' || c.campaign_id || d.d) % 10 = 0 AS locked) l
CROSS JOIN LATERAL (SELECT pg_temp.h('n-udb:' || c.campaign_id) % 2 = 0 AS used) b;

CREATE TABLE naver_all_adgroup_list (
    customer_id        bigint        NOT NULL,
    "nccAdgroupId"     varchar(64)   NOT NULL,
    "nccCampaignId"    varchar(64)   NOT NULL,
    name               varchar(512),
    "adgroupType"      varchar(32),
    "bidAmt"           bigint,
    "useDailyBudget"   boolean,
    "dailyBudget"      bigint,
    "pcChannelId"      varchar(64),
    "mobileChannelId"  varchar(64),
    "targetSummary"    varchar(65535),
    status             varchar(32),
    "regTm"            timestamp,
    "editTm"           timestamp,
    collected_at       date          NOT NULL
);
INSERT INTO naver_all_adgroup_list
SELECT g.customer_id, g.adgroup_id, g.campaign_id,
       '그룹_' || g.k || ' ' || pg_temp.pick(copy.keywords, 'n-grp-name:' || g.adgroup_id),
       g.tp, pg_temp.num('n-bid:' || g.adgroup_id, 7, 500) * 10,
       false, NULL,
       pg_temp.digits('bsn-a001-00-', 15, 'n-bsn:' || g.n),
       CASE WHEN g.k = 1 THEN pg_temp.digits('bsn-a001-00-', 15, 'n-bsnm:' || g.n) END,
       jsonb_build_object('pcMobile', '전체', 'media', '네이버 검색, 파트너 "검색" 매체',
                          'time', '월~금 09:00-18:00', 'region', '서울특별시\경기도',
                          'gender', NULL)::text,
       'ELIGIBLE',
       pg_temp.ts('n-grp-reg:' || g.adgroup_id),
       d.d - interval '1 day' + make_interval(secs => pg_temp.h('n-grp-edit:' || g.adgroup_id || d.d) % 86400),
       d.d
FROM n_adgroup g CROSS JOIN day d CROSS JOIN copy;

CREATE TABLE naver_all_ad_list (
    customer_id       bigint        NOT NULL,
    "nccAdId"         varchar(64)   NOT NULL,
    "nccAdgroupId"    varchar(64)   NOT NULL,
    type              varchar(32),
    ad                varchar(65535),
    "inspectStatus"   varchar(32),
    status            varchar(32),
    "userLock"        boolean,
    "regTm"           timestamp,
    "editTm"          timestamp,
    collected_at      date          NOT NULL
);
INSERT INTO naver_all_ad_list
SELECT a.customer_id, a.ad_id, a.adgroup_id,
       CASE a.tp WHEN 'SHOPPING' THEN 'SHOPPING_PRODUCT_AD' WHEN 'POWER_CONTENTS' THEN 'CONTENTS_AD'
                 ELSE 'TEXT_45' END,
       jsonb_build_object(
           'headline', pg_temp.pick(copy.titles, 'n-ad-h:' || a.ad_id),
           'description', pg_temp.pick(copy.bodies, 'n-ad-d:' || a.ad_id || d.d),
           'pc', jsonb_build_object('display', 'shop' || a.n || '.example.co.kr',
                                    'final', 'https://shop' || a.n || '.example.co.kr/?n_media=27758&n_query={keyword}'),
           'mobile', jsonb_build_object('display', 'm.shop' || a.n || '.example.co.kr',
                                        'final', 'https://m.shop' || a.n || '.example.co.kr/?n_media=27758&n_query={keyword}'))::text,
       pg_temp.pick(ARRAY['APPROVED', 'APPROVED', 'PENDING'], 'n-ad-ins:' || a.ad_id || d.d),
       'ELIGIBLE', false,
       pg_temp.ts('n-ad-reg:' || a.ad_id),
       d.d - interval '1 day' + make_interval(secs => pg_temp.h('n-ad-edit:' || a.ad_id || d.d) % 86400),
       d.d
FROM n_ad a CROSS JOIN day d CROSS JOIN copy;

-------------------------------------------------------------------------------------------------
-- Kakao Moment. Account column: account_id varchar, e.g. '200123'.
-------------------------------------------------------------------------------------------------

-- Entities. Per ad account: 1-2 campaigns, 2 ad groups, 5 creatives, 3 assets.
CREATE TEMP TABLE k_campaign AS
SELECT a.n, (200000 + a.n)::text AS account_id, k,
       pg_temp.num('k-cmp:' || a.n || ':' || k, 100000, 9999999) AS campaign_id
FROM acct a, generate_series(1, pg_temp.num('k-ncmp:' || a.n, 1, 2)::int) k;

CREATE TEMP TABLE k_ad_group AS
SELECT c.n, c.account_id, j AS k, c.campaign_id,
       pg_temp.num('k-ag:' || c.n || ':' || j, 1000000, 99999999) AS ad_group_id
FROM generate_series(1, 2) gs(j)
JOIN k_campaign c ON c.k = 1 + (j - 1) % (SELECT count(*) FROM k_campaign c2 WHERE c2.n = c.n);

CREATE TEMP TABLE k_creative AS
SELECT g.n, g.account_id, j AS k, g.campaign_id, g.ad_group_id,
       pg_temp.num('k-cr:' || g.n || ':' || j, 10000000, 999999999) AS creative_id
FROM generate_series(1, 5) gs(j)
JOIN k_ad_group g ON g.k = 1 + (j - 1) % 2;

CREATE TABLE kakao_creative_report (
    account_id       varchar(32)    NOT NULL,
    campaign_id      bigint         NOT NULL,
    ad_group_id      bigint         NOT NULL,
    creative_id      bigint         NOT NULL,
    "start"          date,
    "end"            date,
    dimension        varchar(32),
    imp              bigint,
    click            bigint,
    spending         numeric(18,2),
    ctr              double precision,
    video_play_3s    bigint,
    conv_purchase_7d numeric(18,2),
    conv_purchase_p_7d numeric(18,2),
    collected_at     date           NOT NULL
);
INSERT INTO kakao_creative_report
SELECT c.account_id, c.campaign_id, c.ad_group_id, c.creative_id, d.d, d.d, 'CREATIVE',
       m.imp, m.clk, round(m.clk * pg_temp.num('k-cpc:' || c.creative_id || d.d, 100, 900)::numeric, 2),
       CASE WHEN m.imp > 0 THEN m.clk * 100.0::double precision / m.imp END,
       CASE WHEN c.k = 5 THEN m.imp / 5 END,
       CASE WHEN m.clk > 0 THEN pg_temp.num('k-cv:' || c.creative_id || d.d, 0, 5)::numeric(18,2) END,
       CASE WHEN m.clk > 0 THEN (pg_temp.num('k-cvp:' || c.creative_id || d.d, 0, 5) * 32900)::numeric(18,2) END,
       d.d
FROM k_creative c CROSS JOIN day d
CROSS JOIN LATERAL (SELECT i.imp, i.imp * pg_temp.num('k-ctr:' || c.creative_id || d.d, 2, 25) / 1000 AS clk
                    FROM (SELECT pg_temp.num('k-imp:' || c.creative_id || d.d, 0, 40000) AS imp) i) m;

CREATE TABLE kakao_all_campaign_list (
    account_id          varchar(32)   NOT NULL,
    campaign_id         bigint        NOT NULL,
    name                varchar(512),
    campaign_type_goal  varchar(1024),
    objective_type      varchar(32),
    objective_value     varchar(64),
    config              varchar(8),
    daily_budget_amount bigint,
    status_description  varchar(64),
    created_date        timestamp,
    last_modified_date  timestamp,
    collected_at        date          NOT NULL
);
INSERT INTO kakao_all_campaign_list
SELECT c.account_id, c.campaign_id,
       '카카오 ' || pg_temp.pick(copy.titles, 'k-cmp-name:' || c.campaign_id),
       jsonb_build_object('campaignType', t.ctype, 'goal', t.goal)::text,
       CASE WHEN t.goal = 'CONVERSION' THEN 'PIXEL_AND_SDK' END,
       CASE WHEN t.goal = 'CONVERSION' THEN pg_temp.digits('', 18, 'k-px:' || c.n) END,
       CASE WHEN pg_temp.h('k-cmp-cfg:' || c.campaign_id || d.d) % 10 = 0 THEN 'OFF' ELSE 'ON' END,
       CASE WHEN c.k = 1 THEN pg_temp.num('k-cmp-db:' || c.campaign_id, 5, 100) * 10000 END,
       '운영중',
       pg_temp.ts('k-cmp-created:' || c.campaign_id),
       d.d - interval '1 day' + make_interval(secs => pg_temp.h('k-cmp-mod:' || c.campaign_id || d.d) % 86400),
       d.d
FROM k_campaign c CROSS JOIN day d CROSS JOIN copy
CROSS JOIN LATERAL (SELECT pg_temp.pick(ARRAY['TALK_BIZ_BOARD', 'DISPLAY', 'VIDEO'], 'k-ct:' || c.campaign_id) AS ctype,
                           pg_temp.pick(ARRAY['CONVERSION', 'VISITING', 'REACH'], 'k-goal:' || c.campaign_id) AS goal) t;

CREATE TABLE kakao_all_ad_group_list (
    account_id          varchar(32)   NOT NULL,
    campaign_id         bigint        NOT NULL,
    ad_group_id         bigint        NOT NULL,
    name                varchar(512),
    type                varchar(32),
    config              varchar(8),
    daily_budget_amount bigint,
    bid_strategy        varchar(32),
    bid_amount          bigint,
    pacing              varchar(16),
    schedule_begin_date date,
    schedule_end_date   date,
    targeting           varchar(65535),
    collected_at        date          NOT NULL
);
INSERT INTO kakao_all_ad_group_list
SELECT g.account_id, g.campaign_id, g.ad_group_id,
       '광고그룹 ' || g.k || ' "' || pg_temp.pick(copy.keywords, 'k-ag-name:' || g.ad_group_id) || '"',
       'DISPLAY', 'ON',
       pg_temp.num('k-ag-db:' || g.ad_group_id, 5, 100) * 10000,
       pg_temp.pick(ARRAY['AUTOBID', 'MANUAL'], 'k-ag-bs:' || g.ad_group_id),
       pg_temp.num('k-ag-bid:' || g.ad_group_id, 50, 2000),
       CASE WHEN g.k = 1 THEN 'NORMAL' ELSE 'QUICK' END,
       (pg_temp.ts('k-ag-begin:' || g.ad_group_id))::date,
       CASE WHEN pg_temp.h('k-ag-end:' || g.ad_group_id) % 2 = 0 THEN current_date + 60 END,
       jsonb_build_object(
           'ages', jsonb_build_array('25~29', '30~34', '35~39'),
           'genders', jsonb_build_array('FEMALE'),
           'locations', jsonb_build_array(jsonb_build_object('id', 'I', 'name', '서울특별시')),
           'devices', jsonb_build_array('ANDROID', 'IOS'),
           'placements', jsonb_build_array('KAKAO_TALK', 'KAKAO_SERVICE', 'NETWORK'),
           'audienceMemo', E'리타겟팅\n"구매자 제외" \\ 30일')::text,
       d.d
FROM k_ad_group g CROSS JOIN day d CROSS JOIN copy;

CREATE TABLE kakao_asset_list (
    account_id   varchar(32)    NOT NULL,
    asset_id     bigint         NOT NULL,
    ad_group_id  bigint,
    creative_id  bigint,
    asset_type   varchar(16),
    format       varchar(32),
    name         varchar(512),
    url          varchar(2048),
    width        integer,
    height       integer,
    file_size    bigint,
    collected_at date           NOT NULL
);
INSERT INTO kakao_asset_list
SELECT c.account_id, pg_temp.num('k-as:' || c.creative_id, 100000000, 999999999), c.ad_group_id, c.creative_id,
       CASE WHEN c.k = 3 THEN 'VIDEO' ELSE 'IMAGE' END,
       CASE WHEN c.k = 3 THEN 'VIDEO_NATIVE' ELSE 'IMAGE_BANNER' END,
       CASE WHEN c.k = 2 THEN NULL ELSE '소재_' || c.k || '.' || CASE WHEN c.k = 3 THEN 'mp4' ELSE 'png' END END,
       'https://t1.daumcdn.net/b2/creative/' || c.creative_id || '/' || md5('k' || c.creative_id) || '.png',
       CASE WHEN c.k = 3 THEN 1280 ELSE 1200 END,
       CASE WHEN c.k = 3 THEN 720 ELSE 600 END,
       pg_temp.num('k-as-size:' || c.creative_id, 30000, 9000000),
       d.d
FROM k_creative c CROSS JOIN day d
WHERE c.k <= 3;

ANALYZE;

-- What was built (exact counts).
SELECT c.relname AS warehouse_table,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname),
                                            false, true, '')))[1]::text::bigint AS rows
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
ORDER BY c.relname;
