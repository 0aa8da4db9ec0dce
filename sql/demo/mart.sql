-- pg_datamart demo: the MART (the PostgreSQL database the product reads).
--
-- Run with psql in a fresh database named `mart`, after the extension is installed:
--     CREATE EXTENSION pg_datamart CASCADE;
--     psql -v ON_ERROR_STOP=1 -v wh_port=28816 -v accounts=200 -d mart -f sql/demo/mart.sql
--
-- It sets up what a user of pg_datamart writes by hand, once:
--   1. the foreign server `redshift_prd` (postgres_fdw only holds host/port/dbname; the user
--      mapping holds the credentials) that dblink uses to reach the warehouse;
--   2. the account tables: the advertisers this mart serves (the first :accounts of each network);
--   3. one mart table `<warehouse table>_dm` per warehouse table: same column names, except that
--      dots become underscores ("campaign.id" -> campaign_id) and camelCase becomes snake_case
--      ("nccCampaignId" -> ncc_campaign_id); same types; plus the bookkeeping columns id,
--      created_at and updated_at, which are never fetched; range-partitioned by month on
--      collected_at;
--   4. the eight sections, their tables in sync order, and the column mappings for every column
--      whose warehouse name differs from its mart name.
-- No column lists are written anywhere else: pg_datamart reads them from these tables' catalog.

\if :{?accounts}
\else
\set accounts 200
\endif
\if :{?wh_port}
\else
DO $$ BEGIN RAISE EXCEPTION 'mart.sql needs the warehouse server''s port: psql -v wh_port=PORT ...'; END $$;
\endif

SET client_min_messages = warning;

-------------------------------------------------------------------------------------------------
-- 1. The warehouse connection
-------------------------------------------------------------------------------------------------
-- In production this points at Redshift, e.g.
--   CREATE SERVER redshift_prd FOREIGN DATA WRAPPER postgres_fdw
--       OPTIONS (host 'prd.abc123.ap-northeast-2.redshift.amazonaws.com', port '5439',
--                dbname 'prd', sslmode 'require');
--   CREATE USER MAPPING FOR etl_user SERVER redshift_prd OPTIONS (user 'mart_reader', password '...');
-- Here the "warehouse" is a PostgreSQL database on the same server, reached over TCP loopback,
-- so every row takes the same path it takes from Redshift.
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER redshift_prd FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port :'wh_port', dbname 'warehouse');
CREATE USER MAPPING FOR CURRENT_USER SERVER redshift_prd OPTIONS (user 'postgres');

-------------------------------------------------------------------------------------------------
-- 2. The advertisers we serve (the warehouse also holds other advertisers' rows: never loaded)
-------------------------------------------------------------------------------------------------
CREATE TABLE facebook_account_dm (
    account_id varchar(32) PRIMARY KEY,
    name       text        NOT NULL
);
INSERT INTO facebook_account_dm
SELECT (100000000 + n)::text, '광고주 ' || lpad(n::text, 5, '0') || ' (Facebook)'
FROM generate_series(1, :accounts) n;

CREATE TABLE google_customer_dm (
    customer_id      bigint PRIMARY KEY,
    descriptive_name text   NOT NULL,
    currency_code    text   NOT NULL DEFAULT 'KRW'
);
INSERT INTO google_customer_dm (customer_id, descriptive_name)
SELECT 5100000000 + n, '광고주 ' || lpad(n::text, 5, '0') || ' (Google)'
FROM generate_series(1, :accounts) n;

CREATE TABLE naver_customer_dm (
    customer_id bigint PRIMARY KEY,
    login_id    text   NOT NULL
);
INSERT INTO naver_customer_dm
SELECT 1000000 + n, 'advertiser' || lpad(n::text, 5, '0')
FROM generate_series(1, :accounts) n;

CREATE TABLE kakao_account_dm (
    account_id varchar(32) PRIMARY KEY,
    name       text        NOT NULL
);
INSERT INTO kakao_account_dm
SELECT (200000 + n)::text, '광고주 ' || lpad(n::text, 5, '0') || ' (Kakao)'
FROM generate_series(1, :accounts) n;

-------------------------------------------------------------------------------------------------
-- 3. The mart tables
-------------------------------------------------------------------------------------------------
-- Primary keys must include the partition key (collected_at). Warehouse keys are not enforced,
-- so these keys are where duplicate rows from upstream get caught.
-------------------------------------------------------------------------------------------------
-- facebook_metric
-------------------------------------------------------------------------------------------------

CREATE TABLE facebook_ad_seg_daily_report_dm (
    id                        bigint GENERATED ALWAYS AS IDENTITY,
    account_id                varchar(32) NOT NULL,
    campaign_id               varchar(32) NOT NULL,
    ad_set_id                 varchar(32) NOT NULL,
    ad_id                     varchar(32) NOT NULL,
    date_start                date,
    date_stop                 date,
    publisher_platform        varchar(32) NOT NULL,
    platform_position         varchar(64) NOT NULL,
    impressions               bigint,
    reach                     bigint,
    frequency                 double precision,
    clicks                    bigint,
    inline_link_clicks        bigint,
    spend                     numeric(18,2),
    cpm                       numeric(18,4),
    ctr                       numeric(18,6),
    video_p25_watched_actions bigint,
    collected_at              date NOT NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_id, publisher_platform, platform_position, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_ad_action_seg_daily_report_dm (
    id                 bigint GENERATED ALWAYS AS IDENTITY,
    account_id         varchar(32) NOT NULL,
    campaign_id        varchar(32) NOT NULL,
    ad_set_id          varchar(32) NOT NULL,
    ad_id              varchar(32) NOT NULL,
    date_start         date,
    publisher_platform varchar(32) NOT NULL,
    platform_position  varchar(64) NOT NULL,
    action_type        varchar(128) NOT NULL,
    value              numeric(18,2),
    "1d_click"         numeric(18,2),
    "7d_click"         numeric(18,2),
    "1d_view"          numeric(18,2),
    collected_at       date NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_id, publisher_platform, platform_position, action_type, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_ad_action_values_seg_daily_report_dm (
    id                 bigint GENERATED ALWAYS AS IDENTITY,
    account_id         varchar(32) NOT NULL,
    campaign_id        varchar(32) NOT NULL,
    ad_set_id          varchar(32) NOT NULL,
    ad_id              varchar(32) NOT NULL,
    date_start         date,
    publisher_platform varchar(32) NOT NULL,
    platform_position  varchar(64) NOT NULL,
    action_type        varchar(128) NOT NULL,
    value              numeric(18,2),
    "1d_click"         numeric(18,2),
    "7d_click"         numeric(18,2),
    "1d_view"          numeric(18,2),
    collected_at       date NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_id, publisher_platform, platform_position, action_type, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_ad_seg_user_daily_report_dm (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    account_id   varchar(32) NOT NULL,
    campaign_id  varchar(32) NOT NULL,
    ad_set_id    varchar(32) NOT NULL,
    ad_id        varchar(32) NOT NULL,
    date_start   date,
    age          varchar(16) NOT NULL,
    gender       varchar(16) NOT NULL,
    impressions  bigint,
    reach        bigint,
    clicks       bigint,
    spend        numeric(18,2),
    collected_at date NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_id, age, gender, collected_at)
) PARTITION BY RANGE (collected_at);

-------------------------------------------------------------------------------------------------
-- facebook_resource
-------------------------------------------------------------------------------------------------

CREATE TABLE facebook_campaign_dm (
    id                    bigint GENERATED ALWAYS AS IDENTITY,
    account_id            varchar(32) NOT NULL,
    campaign_id           varchar(32) NOT NULL,
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
    collected_at          date NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, campaign_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_ad_set_dm (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    account_id        varchar(32) NOT NULL,
    ad_set_id         varchar(32) NOT NULL,
    campaign_id       varchar(32) NOT NULL,
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
    collected_at      date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_set_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_ad_dm (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    account_id        varchar(32) NOT NULL,
    ad_id             varchar(32) NOT NULL,
    ad_set_id         varchar(32) NOT NULL,
    campaign_id       varchar(32) NOT NULL,
    name              varchar(512),
    status            varchar(32),
    effective_status  varchar(32),
    creative_id       varchar(32),
    tracking_specs    varchar(65535),
    conversion_domain varchar(256),
    created_time      timestamp,
    updated_time      timestamp,
    collected_at      date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_ad_creative_dm (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    account_id          varchar(32) NOT NULL,
    creative_id         varchar(32) NOT NULL,
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
    collected_at        date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, creative_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_creative_asset_rel_dm (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    account_id   varchar(32) NOT NULL,
    creative_id  varchar(32) NOT NULL,
    asset_id     varchar(32) NOT NULL,
    asset_type   varchar(16),
    collected_at date NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, creative_id, asset_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE facebook_asset_dm (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    account_id   varchar(32) NOT NULL,
    asset_id     varchar(32) NOT NULL,
    asset_type   varchar(16),
    hash         varchar(64),
    url          varchar(2048),
    width        integer,
    height       integer,
    video_id     varchar(32),
    name         varchar(512),
    created_time timestamp,
    collected_at date NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, asset_id, collected_at)
) PARTITION BY RANGE (collected_at);

-------------------------------------------------------------------------------------------------
-- google_metric
-------------------------------------------------------------------------------------------------

CREATE TABLE google_ad_group_report_dm (
    id                            bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                   bigint NOT NULL,
    campaign_id                   bigint NOT NULL,
    ad_group_id                   bigint NOT NULL,
    ad_group_name                 varchar(512),
    segments_date                 date NOT NULL,
    segments_device               varchar(32) NOT NULL,
    metrics_impressions           bigint,
    metrics_clicks                bigint,
    metrics_cost_micros           bigint,
    metrics_average_cpc           double precision,
    metrics_conversions           double precision,
    metrics_all_conversions_value double precision,
    collected_at                  date NOT NULL,
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_group_id, segments_date, segments_device, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE google_campaign_report_dm (
    id                                bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                       bigint NOT NULL,
    campaign_id                       bigint NOT NULL,
    campaign_name                     varchar(512),
    campaign_advertising_channel_type varchar(64),
    segments_date                     date NOT NULL,
    segments_device                   varchar(32) NOT NULL,
    metrics_impressions               bigint,
    metrics_clicks                    bigint,
    metrics_cost_micros               bigint,
    metrics_conversions               double precision,
    metrics_conversions_value         double precision,
    metrics_all_conversions           double precision,
    metrics_all_conversions_value     double precision,
    metrics_video_views               bigint,
    collected_at                      date NOT NULL,
    created_at                        timestamptz NOT NULL DEFAULT now(),
    updated_at                        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, campaign_id, segments_date, segments_device, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE google_keyword_report_dm (
    id                                    bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                           bigint NOT NULL,
    campaign_id                           bigint NOT NULL,
    ad_group_id                           bigint NOT NULL,
    ad_group_criterion_criterion_id       bigint NOT NULL,
    ad_group_criterion_keyword_text       varchar(512),
    ad_group_criterion_keyword_match_type varchar(16),
    segments_date                         date NOT NULL,
    metrics_impressions                   bigint,
    metrics_clicks                        bigint,
    metrics_cost_micros                   bigint,
    metrics_conversions                   double precision,
    metrics_all_conversions_value         double precision,
    metrics_search_impression_share       double precision,
    collected_at                          date NOT NULL,
    created_at                            timestamptz NOT NULL DEFAULT now(),
    updated_at                            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_group_id, ad_group_criterion_criterion_id, segments_date, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE google_keyword_conversion_report_dm (
    id                              bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                     bigint NOT NULL,
    campaign_id                     bigint NOT NULL,
    ad_group_id                     bigint NOT NULL,
    ad_group_criterion_criterion_id bigint NOT NULL,
    segments_date                   date NOT NULL,
    segments_conversion_action      varchar(256) NOT NULL,
    segments_conversion_action_name varchar(512),
    metrics_conversions             double precision,
    metrics_conversions_value       double precision,
    metrics_all_conversions         double precision,
    metrics_all_conversions_value   double precision,
    collected_at                    date NOT NULL,
    created_at                      timestamptz NOT NULL DEFAULT now(),
    updated_at                      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_group_id, ad_group_criterion_criterion_id, segments_date, segments_conversion_action, collected_at)
) PARTITION BY RANGE (collected_at);

-------------------------------------------------------------------------------------------------
-- google_resource
-------------------------------------------------------------------------------------------------

CREATE TABLE google_campaign_dm (
    id                                    bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                           bigint NOT NULL,
    customer_descriptive_name             varchar(256),
    customer_currency_code                varchar(3),
    campaign_id                           bigint NOT NULL,
    campaign_name                         varchar(512),
    campaign_status                       varchar(32),
    campaign_serving_status               varchar(32),
    campaign_advertising_channel_type     varchar(64),
    campaign_advertising_channel_sub_type varchar(64),
    campaign_bidding_strategy_type        varchar(64),
    campaign_budget_amount_micros         bigint,
    campaign_start_date                   varchar(10),
    campaign_end_date                     varchar(10),
    collected_at                          date NOT NULL,
    created_at                            timestamptz NOT NULL DEFAULT now(),
    updated_at                            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, campaign_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE google_ad_group_dm (
    id                         bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                bigint NOT NULL,
    campaign_id                bigint NOT NULL,
    ad_group_id                bigint NOT NULL,
    ad_group_name              varchar(512),
    ad_group_status            varchar(32),
    ad_group_type              varchar(64),
    ad_group_cpc_bid_micros    bigint,
    ad_group_target_cpa_micros bigint,
    collected_at               date NOT NULL,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_group_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE google_ad_dm (
    id                                               bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                                      bigint NOT NULL,
    campaign_id                                      bigint NOT NULL,
    ad_group_id                                      bigint NOT NULL,
    ad_group_ad_ad_id                                bigint NOT NULL,
    ad_group_ad_ad_name                              varchar(512),
    ad_group_ad_ad_type                              varchar(64),
    ad_group_ad_status                               varchar(32),
    ad_group_ad_ad_final_urls                        varchar(65535),
    ad_group_ad_ad_responsive_search_ad_headlines    varchar(65535),
    ad_group_ad_ad_responsive_search_ad_descriptions varchar(65535),
    ad_group_ad_policy_summary_approval_status       varchar(64),
    collected_at                                     date NOT NULL,
    created_at                                       timestamptz NOT NULL DEFAULT now(),
    updated_at                                       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_group_id, ad_group_ad_ad_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE google_media_file_dm (
    id                                   bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                          bigint NOT NULL,
    media_file_id                        bigint NOT NULL,
    media_file_name                      varchar(512),
    media_file_type                      varchar(32),
    media_file_mime_type                 varchar(32),
    media_file_source_url                varchar(2048),
    media_file_file_size                 bigint,
    media_file_image_full_size_image_url varchar(2048),
    collected_at                         date NOT NULL,
    created_at                           timestamptz NOT NULL DEFAULT now(),
    updated_at                           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, media_file_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE google_asset_dm (
    id                                         bigint GENERATED ALWAYS AS IDENTITY,
    customer_id                                bigint NOT NULL,
    asset_id                                   bigint NOT NULL,
    asset_name                                 varchar(512),
    asset_type                                 varchar(32),
    asset_text_asset_text                      varchar(2048),
    asset_image_asset_full_size_url            varchar(2048),
    asset_youtube_video_asset_youtube_video_id varchar(32),
    asset_policy_summary_approval_status       varchar(64),
    collected_at                               date NOT NULL,
    created_at                                 timestamptz NOT NULL DEFAULT now(),
    updated_at                                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, asset_id, collected_at)
) PARTITION BY RANGE (collected_at);

-------------------------------------------------------------------------------------------------
-- naver_metric
-------------------------------------------------------------------------------------------------

CREATE TABLE naver_ad_stat_report_dm (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    stat_date           date NOT NULL,
    customer_id         bigint NOT NULL,
    campaign_id         varchar(64) NOT NULL,
    adgroup_id          varchar(64) NOT NULL,
    keyword_id          varchar(64),
    ad_id               varchar(64) NOT NULL,
    business_channel_id varchar(64),
    media_code          bigint,
    pc_mobile_type      varchar(1) NOT NULL,
    impression          bigint,
    click               bigint,
    cost                numeric(18,2),
    sum_of_ad_rank      bigint,
    view_count          bigint,
    collected_at        date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_id, pc_mobile_type, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_ad_conversion_stat_report_dm (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    stat_date           date NOT NULL,
    customer_id         bigint NOT NULL,
    campaign_id         varchar(64) NOT NULL,
    adgroup_id          varchar(64) NOT NULL,
    keyword_id          varchar(64),
    ad_id               varchar(64) NOT NULL,
    business_channel_id varchar(64),
    media_code          bigint,
    pc_mobile_type      varchar(1),
    conversion_method   integer,
    conversion_type     varchar(32) NOT NULL,
    conversion_count    bigint,
    sales_by_conversion numeric(18,2),
    collected_at        date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_id, conversion_type, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_campaign_master_report_dm (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    customerid        bigint NOT NULL,
    ncc_campaign_id   varchar(64) NOT NULL,
    name              varchar(512),
    campaign_tp       varchar(32),
    delivery_method   integer,
    using_period      integer,
    period_start_date timestamp,
    period_end_date   timestamp,
    reg_tm            timestamp,
    del_tm            timestamp,
    on_off            integer,
    shared_budget_id  varchar(64),
    collected_at      date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customerid, ncc_campaign_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_adgroup_master_report_dm (
    id                         bigint GENERATED ALWAYS AS IDENTITY,
    customerid                 bigint NOT NULL,
    ncc_adgroup_id             varchar(64) NOT NULL,
    ncc_campaign_id            varchar(64) NOT NULL,
    name                       varchar(512),
    bid_amt                    bigint,
    on_off                     integer,
    using_contents_network_bid integer,
    contents_network_bid       bigint,
    pc_network_bid_weight      integer,
    mobile_network_bid_weight  integer,
    reg_tm                     timestamp,
    del_tm                     timestamp,
    collected_at               date NOT NULL,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customerid, ncc_adgroup_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_keyword_master_report_dm (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    customerid        bigint NOT NULL,
    ncc_keyword_id    varchar(64) NOT NULL,
    ncc_adgroup_id    varchar(64) NOT NULL,
    keyword           varchar(512),
    bid_amt           bigint,
    on_off            integer,
    inspect_status    varchar(32),
    use_group_bid_amt boolean,
    reg_tm            timestamp,
    del_tm            timestamp,
    collected_at      date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customerid, ncc_keyword_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_ad_conv_report_dm (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    stat_date           date NOT NULL,
    customer_id         bigint NOT NULL,
    campaign_id         varchar(64) NOT NULL,
    adgroup_id          varchar(64) NOT NULL,
    keyword_id          varchar(64),
    ad_id               varchar(64) NOT NULL,
    hh                  integer NOT NULL,
    pc_mobile_type      varchar(1),
    conversion_method   integer,
    conversion_type     varchar(32),
    conversion_count    bigint,
    sales_by_conversion numeric(18,2),
    collected_at        date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ad_id, hh, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_shopping_product_master_report_dm (
    id                 bigint GENERATED ALWAYS AS IDENTITY,
    customerid         bigint NOT NULL,
    ncc_ad_id          varchar(64) NOT NULL,
    ncc_adgroup_id     varchar(64) NOT NULL,
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
    reg_tm             timestamp,
    del_tm             timestamp,
    collected_at       date NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customerid, ncc_ad_id, collected_at)
) PARTITION BY RANGE (collected_at);

-------------------------------------------------------------------------------------------------
-- naver_resource
-------------------------------------------------------------------------------------------------

CREATE TABLE naver_all_campaign_list_dm (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    customer_id      bigint NOT NULL,
    ncc_campaign_id  varchar(64) NOT NULL,
    name             varchar(512),
    campaign_tp      varchar(32),
    delivery_method  varchar(16),
    tracking_mode    varchar(32),
    user_lock        boolean,
    status           varchar(32),
    status_reason    varchar(64),
    daily_budget     bigint,
    use_daily_budget boolean,
    del_flag         boolean,
    reg_tm           timestamp,
    edit_tm          timestamp,
    collected_at     date NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ncc_campaign_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_all_adgroup_list_dm (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    customer_id       bigint NOT NULL,
    ncc_adgroup_id    varchar(64) NOT NULL,
    ncc_campaign_id   varchar(64) NOT NULL,
    name              varchar(512),
    adgroup_type      varchar(32),
    bid_amt           bigint,
    use_daily_budget  boolean,
    daily_budget      bigint,
    pc_channel_id     varchar(64),
    mobile_channel_id varchar(64),
    target_summary    varchar(65535),
    status            varchar(32),
    reg_tm            timestamp,
    edit_tm           timestamp,
    collected_at      date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ncc_adgroup_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE naver_all_ad_list_dm (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    customer_id    bigint NOT NULL,
    ncc_ad_id      varchar(64) NOT NULL,
    ncc_adgroup_id varchar(64) NOT NULL,
    type           varchar(32),
    ad             varchar(65535),
    inspect_status varchar(32),
    status         varchar(32),
    user_lock      boolean,
    reg_tm         timestamp,
    edit_tm        timestamp,
    collected_at   date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, ncc_ad_id, collected_at)
) PARTITION BY RANGE (collected_at);

-------------------------------------------------------------------------------------------------
-- kakao_metric
-------------------------------------------------------------------------------------------------

CREATE TABLE kakao_creative_report_dm (
    id                 bigint GENERATED ALWAYS AS IDENTITY,
    account_id         varchar(32) NOT NULL,
    campaign_id        bigint NOT NULL,
    ad_group_id        bigint NOT NULL,
    creative_id        bigint NOT NULL,
    "start"            date,
    "end"              date,
    dimension          varchar(32),
    imp                bigint,
    click              bigint,
    spending           numeric(18,2),
    ctr                double precision,
    video_play_3s      bigint,
    conv_purchase_7d   numeric(18,2),
    conv_purchase_p_7d numeric(18,2),
    collected_at       date NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, creative_id, collected_at)
) PARTITION BY RANGE (collected_at);

-------------------------------------------------------------------------------------------------
-- kakao_resource
-------------------------------------------------------------------------------------------------

CREATE TABLE kakao_all_campaign_list_dm (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    account_id          varchar(32) NOT NULL,
    campaign_id         bigint NOT NULL,
    name                varchar(512),
    campaign_type_goal  varchar(1024),
    objective_type      varchar(32),
    objective_value     varchar(64),
    config              varchar(8),
    daily_budget_amount bigint,
    status_description  varchar(64),
    created_date        timestamp,
    last_modified_date  timestamp,
    collected_at        date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, campaign_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE kakao_all_ad_group_list_dm (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    account_id          varchar(32) NOT NULL,
    campaign_id         bigint NOT NULL,
    ad_group_id         bigint NOT NULL,
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
    collected_at        date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, ad_group_id, collected_at)
) PARTITION BY RANGE (collected_at);

CREATE TABLE kakao_asset_list_dm (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    account_id   varchar(32) NOT NULL,
    asset_id     bigint NOT NULL,
    ad_group_id  bigint,
    creative_id  bigint,
    asset_type   varchar(16),
    format       varchar(32),
    name         varchar(512),
    url          varchar(2048),
    width        integer,
    height       integer,
    file_size    bigint,
    collected_at date NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, asset_id, collected_at)
) PARTITION BY RANGE (collected_at);
-- Monthly partitions <table>_pYYYYMM from 3 months before today to 2 months after. pg_datamart
-- creates any other month a sync window needs, and sets the autovacuum storage parameters on all.
DO $$
DECLARE
    t     regclass;
    month date;
BEGIN
    FOR t IN
        SELECT c.oid FROM pg_class c
        WHERE c.relkind = 'p' AND c.relnamespace = 'public'::regnamespace AND c.relname LIKE '%\_dm'
        ORDER BY c.relname
    LOOP
        FOR month IN
            SELECT generate_series(date_trunc('month', current_date) - interval '3 months',
                                   date_trunc('month', current_date) + interval '2 months',
                                   interval '1 month')::date
        LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                           t::text || '_p' || to_char(month, 'YYYYMM'), t,
                           month, (month + interval '1 month')::date);
        END LOOP;
    END LOOP;
END
$$;

-------------------------------------------------------------------------------------------------
-- 4. The sections
-------------------------------------------------------------------------------------------------
-- dm_add_section(section, account column, account table, days, mode): every section reloads its
-- window (today - 7 days .. today by default). Metric sections use delete_insert, as the field
-- does; resource sections use upsert, which writes only the rows that changed upstream.
-- dm_add_table appends a table to a section: tables sync in this order.

SELECT dm_add_section('facebook_metric', 'account_id', 'facebook_account_dm', days => 7, mode => 'delete_insert');
SELECT dm_add_table('facebook_metric', 'facebook_ad_seg_daily_report_dm');
SELECT dm_add_table('facebook_metric', 'facebook_ad_action_seg_daily_report_dm');
SELECT dm_add_table('facebook_metric', 'facebook_ad_action_values_seg_daily_report_dm');
SELECT dm_add_table('facebook_metric', 'facebook_ad_seg_user_daily_report_dm');

SELECT dm_add_section('facebook_resource', 'account_id', 'facebook_account_dm', days => 7, mode => 'upsert');
SELECT dm_add_table('facebook_resource', 'facebook_campaign_dm');
SELECT dm_add_table('facebook_resource', 'facebook_ad_set_dm');
SELECT dm_add_table('facebook_resource', 'facebook_ad_dm');
SELECT dm_add_table('facebook_resource', 'facebook_ad_creative_dm');
SELECT dm_add_table('facebook_resource', 'facebook_creative_asset_rel_dm');
SELECT dm_add_table('facebook_resource', 'facebook_asset_dm');

-- Google: the mart's customer_id is the warehouse's "customer.id" (mapped below).
SELECT dm_add_section('google_metric', 'customer_id', 'google_customer_dm', days => 7, mode => 'delete_insert');
SELECT dm_add_table('google_metric', 'google_ad_group_report_dm');
SELECT dm_add_table('google_metric', 'google_campaign_report_dm');
SELECT dm_add_table('google_metric', 'google_keyword_report_dm');
SELECT dm_add_table('google_metric', 'google_keyword_conversion_report_dm');

SELECT dm_add_section('google_resource', 'customer_id', 'google_customer_dm', days => 7, mode => 'upsert');
SELECT dm_add_table('google_resource', 'google_campaign_dm');
SELECT dm_add_table('google_resource', 'google_ad_group_dm');
SELECT dm_add_table('google_resource', 'google_ad_dm');
SELECT dm_add_table('google_resource', 'google_media_file_dm');
SELECT dm_add_table('google_resource', 'google_asset_dm');

-- Naver: the *_master_report tables name their account column `customerid`.
SELECT dm_add_section('naver_metric', 'customer_id', 'naver_customer_dm', days => 7, mode => 'delete_insert');
SELECT dm_add_table('naver_metric', 'naver_ad_stat_report_dm');
SELECT dm_add_table('naver_metric', 'naver_ad_conversion_stat_report_dm');
SELECT dm_add_table('naver_metric', 'naver_campaign_master_report_dm', account_column => 'customerid');
SELECT dm_add_table('naver_metric', 'naver_adgroup_master_report_dm', account_column => 'customerid');
SELECT dm_add_table('naver_metric', 'naver_keyword_master_report_dm', account_column => 'customerid');
SELECT dm_add_table('naver_metric', 'naver_ad_conv_report_dm');
SELECT dm_add_table('naver_metric', 'naver_shopping_product_master_report_dm', account_column => 'customerid');

SELECT dm_add_section('naver_resource', 'customer_id', 'naver_customer_dm', days => 7, mode => 'upsert');
SELECT dm_add_table('naver_resource', 'naver_all_campaign_list_dm');
SELECT dm_add_table('naver_resource', 'naver_all_adgroup_list_dm');
SELECT dm_add_table('naver_resource', 'naver_all_ad_list_dm');

SELECT dm_add_section('kakao_metric', 'account_id', 'kakao_account_dm', days => 7, mode => 'delete_insert');
SELECT dm_add_table('kakao_metric', 'kakao_creative_report_dm');

SELECT dm_add_section('kakao_resource', 'account_id', 'kakao_account_dm', days => 7, mode => 'upsert');
SELECT dm_add_table('kakao_resource', 'kakao_all_campaign_list_dm');
SELECT dm_add_table('kakao_resource', 'kakao_all_ad_group_list_dm');
SELECT dm_add_table('kakao_resource', 'kakao_asset_list_dm');

-------------------------------------------------------------------------------------------------
-- 5. Column mappings: mart column <- warehouse column, wherever the names differ
-------------------------------------------------------------------------------------------------
-- Columns with identical names (collected_at, account_id, the Naver master reports' customerid,
-- "1d_click", "end", ...) need no mapping. The account and date columns go through these
-- mappings too: Google's mart customer_id is fetched from "customer.id".

SELECT dm_map_column('google_ad_group_report_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                   'customer.id'),
    ('campaign_id',                   'campaign.id'),
    ('ad_group_id',                   'ad_group.id'),
    ('ad_group_name',                 'ad_group.name'),
    ('segments_date',                 'segments.date'),
    ('segments_device',               'segments.device'),
    ('metrics_impressions',           'metrics.impressions'),
    ('metrics_clicks',                'metrics.clicks'),
    ('metrics_cost_micros',           'metrics.cost_micros'),
    ('metrics_average_cpc',           'metrics.average_cpc'),
    ('metrics_conversions',           'metrics.conversions'),
    ('metrics_all_conversions_value', 'metrics.all_conversions_value')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_campaign_report_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                       'customer.id'),
    ('campaign_id',                       'campaign.id'),
    ('campaign_name',                     'campaign.name'),
    ('campaign_advertising_channel_type', 'campaign.advertising_channel_type'),
    ('segments_date',                     'segments.date'),
    ('segments_device',                   'segments.device'),
    ('metrics_impressions',               'metrics.impressions'),
    ('metrics_clicks',                    'metrics.clicks'),
    ('metrics_cost_micros',               'metrics.cost_micros'),
    ('metrics_conversions',               'metrics.conversions'),
    ('metrics_conversions_value',         'metrics.conversions_value'),
    ('metrics_all_conversions',           'metrics.all_conversions'),
    ('metrics_all_conversions_value',     'metrics.all_conversions_value'),
    ('metrics_video_views',               'metrics.video_views')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_keyword_report_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                           'customer.id'),
    ('campaign_id',                           'campaign.id'),
    ('ad_group_id',                           'ad_group.id'),
    ('ad_group_criterion_criterion_id',       'ad_group_criterion.criterion_id'),
    ('ad_group_criterion_keyword_text',       'ad_group_criterion.keyword.text'),
    ('ad_group_criterion_keyword_match_type', 'ad_group_criterion.keyword.match_type'),
    ('segments_date',                         'segments.date'),
    ('metrics_impressions',                   'metrics.impressions'),
    ('metrics_clicks',                        'metrics.clicks'),
    ('metrics_cost_micros',                   'metrics.cost_micros'),
    ('metrics_conversions',                   'metrics.conversions'),
    ('metrics_all_conversions_value',         'metrics.all_conversions_value'),
    ('metrics_search_impression_share',       'metrics.search_impression_share')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_keyword_conversion_report_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                     'customer.id'),
    ('campaign_id',                     'campaign.id'),
    ('ad_group_id',                     'ad_group.id'),
    ('ad_group_criterion_criterion_id', 'ad_group_criterion.criterion_id'),
    ('segments_date',                   'segments.date'),
    ('segments_conversion_action',      'segments.conversion_action'),
    ('segments_conversion_action_name', 'segments.conversion_action_name'),
    ('metrics_conversions',             'metrics.conversions'),
    ('metrics_conversions_value',       'metrics.conversions_value'),
    ('metrics_all_conversions',         'metrics.all_conversions'),
    ('metrics_all_conversions_value',   'metrics.all_conversions_value')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_campaign_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                           'customer.id'),
    ('customer_descriptive_name',             'customer.descriptive_name'),
    ('customer_currency_code',                'customer.currency_code'),
    ('campaign_id',                           'campaign.id'),
    ('campaign_name',                         'campaign.name'),
    ('campaign_status',                       'campaign.status'),
    ('campaign_serving_status',               'campaign.serving_status'),
    ('campaign_advertising_channel_type',     'campaign.advertising_channel_type'),
    ('campaign_advertising_channel_sub_type', 'campaign.advertising_channel_sub_type'),
    ('campaign_bidding_strategy_type',        'campaign.bidding_strategy_type'),
    ('campaign_budget_amount_micros',         'campaign_budget.amount_micros'),
    ('campaign_start_date',                   'campaign.start_date'),
    ('campaign_end_date',                     'campaign.end_date')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_ad_group_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                'customer.id'),
    ('campaign_id',                'campaign.id'),
    ('ad_group_id',                'ad_group.id'),
    ('ad_group_name',              'ad_group.name'),
    ('ad_group_status',            'ad_group.status'),
    ('ad_group_type',              'ad_group.type'),
    ('ad_group_cpc_bid_micros',    'ad_group.cpc_bid_micros'),
    ('ad_group_target_cpa_micros', 'ad_group.target_cpa_micros')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_ad_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                                      'customer.id'),
    ('campaign_id',                                      'campaign.id'),
    ('ad_group_id',                                      'ad_group.id'),
    ('ad_group_ad_ad_id',                                'ad_group_ad.ad.id'),
    ('ad_group_ad_ad_name',                              'ad_group_ad.ad.name'),
    ('ad_group_ad_ad_type',                              'ad_group_ad.ad.type'),
    ('ad_group_ad_status',                               'ad_group_ad.status'),
    ('ad_group_ad_ad_final_urls',                        'ad_group_ad.ad.final_urls'),
    ('ad_group_ad_ad_responsive_search_ad_headlines',    'ad_group_ad.ad.responsive_search_ad.headlines'),
    ('ad_group_ad_ad_responsive_search_ad_descriptions', 'ad_group_ad.ad.responsive_search_ad.descriptions'),
    ('ad_group_ad_policy_summary_approval_status',       'ad_group_ad.policy_summary.approval_status')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_media_file_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                          'customer.id'),
    ('media_file_id',                        'media_file.id'),
    ('media_file_name',                      'media_file.name'),
    ('media_file_type',                      'media_file.type'),
    ('media_file_mime_type',                 'media_file.mime_type'),
    ('media_file_source_url',                'media_file.source_url'),
    ('media_file_file_size',                 'media_file.file_size'),
    ('media_file_image_full_size_image_url', 'media_file.image.full_size_image_url')
) AS m(mart_column, remote_column);

SELECT dm_map_column('google_asset_dm', mart_column, remote_column)
FROM (VALUES
    ('customer_id',                                'customer.id'),
    ('asset_id',                                   'asset.id'),
    ('asset_name',                                 'asset.name'),
    ('asset_type',                                 'asset.type'),
    ('asset_text_asset_text',                      'asset.text_asset.text'),
    ('asset_image_asset_full_size_url',            'asset.image_asset.full_size.url'),
    ('asset_youtube_video_asset_youtube_video_id', 'asset.youtube_video_asset.youtube_video_id'),
    ('asset_policy_summary_approval_status',       'asset.policy_summary.approval_status')
) AS m(mart_column, remote_column);

SELECT dm_map_column('naver_campaign_master_report_dm', mart_column, remote_column)
FROM (VALUES
    ('ncc_campaign_id', 'nccCampaignId'),
    ('campaign_tp',     'campaignTp'),
    ('reg_tm',          'regTm'),
    ('del_tm',          'delTm')
) AS m(mart_column, remote_column);

SELECT dm_map_column('naver_adgroup_master_report_dm', mart_column, remote_column)
FROM (VALUES
    ('ncc_adgroup_id',  'nccAdgroupId'),
    ('ncc_campaign_id', 'nccCampaignId'),
    ('reg_tm',          'regTm'),
    ('del_tm',          'delTm')
) AS m(mart_column, remote_column);

SELECT dm_map_column('naver_keyword_master_report_dm', mart_column, remote_column)
FROM (VALUES
    ('ncc_keyword_id', 'nccKeywordId'),
    ('ncc_adgroup_id', 'nccAdgroupId'),
    ('reg_tm',         'regTm'),
    ('del_tm',         'delTm')
) AS m(mart_column, remote_column);

SELECT dm_map_column('naver_shopping_product_master_report_dm', mart_column, remote_column)
FROM (VALUES
    ('ncc_ad_id',      'nccAdId'),
    ('ncc_adgroup_id', 'nccAdgroupId'),
    ('reg_tm',         'regTm'),
    ('del_tm',         'delTm')
) AS m(mart_column, remote_column);

SELECT dm_map_column('naver_all_campaign_list_dm', mart_column, remote_column)
FROM (VALUES
    ('ncc_campaign_id',  'nccCampaignId'),
    ('campaign_tp',      'campaignTp'),
    ('delivery_method',  'deliveryMethod'),
    ('tracking_mode',    'trackingMode'),
    ('user_lock',        'userLock'),
    ('status_reason',    'statusReason'),
    ('daily_budget',     'dailyBudget'),
    ('use_daily_budget', 'useDailyBudget'),
    ('del_flag',         'delFlag'),
    ('reg_tm',           'regTm'),
    ('edit_tm',          'editTm')
) AS m(mart_column, remote_column);

SELECT dm_map_column('naver_all_adgroup_list_dm', mart_column, remote_column)
FROM (VALUES
    ('ncc_adgroup_id',    'nccAdgroupId'),
    ('ncc_campaign_id',   'nccCampaignId'),
    ('adgroup_type',      'adgroupType'),
    ('bid_amt',           'bidAmt'),
    ('use_daily_budget',  'useDailyBudget'),
    ('daily_budget',      'dailyBudget'),
    ('pc_channel_id',     'pcChannelId'),
    ('mobile_channel_id', 'mobileChannelId'),
    ('target_summary',    'targetSummary'),
    ('reg_tm',            'regTm'),
    ('edit_tm',           'editTm')
) AS m(mart_column, remote_column);

SELECT dm_map_column('naver_all_ad_list_dm', mart_column, remote_column)
FROM (VALUES
    ('ncc_ad_id',      'nccAdId'),
    ('ncc_adgroup_id', 'nccAdgroupId'),
    ('inspect_status', 'inspectStatus'),
    ('user_lock',      'userLock'),
    ('reg_tm',         'regTm'),
    ('edit_tm',        'editTm')
) AS m(mart_column, remote_column);
