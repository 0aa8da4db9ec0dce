//! Streaming fetch (issue 10): rows reach the mart table while the warehouse is still sending,
//! and a cancel, a terminate or a statement_timeout in the middle of the stream ends the load
//! within two seconds, leaves the table as it was, and cancels the query on the warehouse.

use pg_datamart_it::{setup, wait_until, Ctx, Session};
use std::time::Instant;
use tokio_postgres::error::SqlState;

/// Section `trickle`: fb_ad_dm from a warehouse view that sends 2 999 rows at once, then
/// sleeps 60 s before row 3 000 (so only a cancel on the warehouse ends its query early: a
/// closed socket is not noticed while it sleeps). fb_ad_dm holds two old rows of the window
/// that must survive.
async fn trickle_section(ctx: &Ctx) {
    ctx.wh
        .exec(
            "CREATE VIEW fb_ad_trickle AS
             SELECT '1001'::varchar(32) AS account_id, g::text AS ad_id, 'u' AS \"user\", g AS \"order\",
                    true AS \"open\", NULL::text AS tag, NULL::timestamptz AS shown_at,
                    g / 3.0::float8 AS ratio, date '2026-01-10' + (g % 3) AS collected_at
               FROM generate_series(1, 100000) g, LATERAL (SELECT pg_sleep(CASE WHEN g = 3000 THEN 60 ELSE 0 END) AS z OFFSET 0) s",
        )
        .await;
    ctx.mart
        .exec(
            "SELECT dm_add_section('trickle', 'account_id', 'fb_account_dm');
             SELECT dm_add_table('trickle', 'fb_ad_dm', 'fb_ad_trickle');
             INSERT INTO fb_ad_dm (account_id, ad_id, collected_at) VALUES ('1001', 'old-1', '2026-01-11'), ('1001', 'old-2', '2026-01-12');",
        )
        .await;
}

/// Starts the trickle sync, waits until COPY has inserted most of the first rows while the
/// warehouse query still runs (pg_stat_progress_copy), then runs `stop` (with the syncing backend's pid as $1, or
/// nothing when it is None: the session's own statement_timeout ends it). Returns how the
/// CALL ended and the seconds from the stop to its end.
async fn stop_mid_stream(
    ctx: &Ctx,
    setup_sql: &str,
    stop: Option<&str>,
) -> (Result<(), tokio_postgres::Error>, f64) {
    let syncer = Session::connect(&ctx.mart_db).await;
    syncer.exec(setup_sql).await;
    let pid: i32 = syncer
        .client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let sync = tokio::spawn(async move {
        let r = syncer
            .client
            .batch_execute("CALL dm_sync('trickle', '1001', '2026-01-10', '2026-01-12')")
            .await;
        (r, Instant::now())
    });
    let m = &ctx.mart;
    wait_until(
        m,
        &format!("SELECT EXISTS (SELECT 1 FROM pg_stat_progress_copy WHERE pid = {pid} AND tuples_processed >= 2500)"),
        20,
    )
    .await;
    let t = Instant::now();
    if let Some(stop) = stop {
        let stopped: bool = m
            .client
            .query_one(&format!("SELECT {stop}"), &[&pid])
            .await
            .unwrap()
            .get(0);
        assert!(stopped, "{stop} found the syncing backend");
    }
    let (r, ended) = sync.await.unwrap();
    (r, ended.duration_since(t).as_secs_f64())
}

async fn assert_untouched_and_remote_cancelled(ctx: &Ctx) {
    assert_eq!(
        ctx.mart
            .i64("SELECT count(*) FROM fb_ad_dm WHERE ad_id IN ('old-1', 'old-2')")
            .await,
        2
    );
    assert_eq!(ctx.mart.i64("SELECT count(*) FROM fb_ad_dm").await, 2);
    // The warehouse query is gone within two seconds, long before its 60 s sleep ends.
    wait_until(
        &ctx.wh,
        "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg_datamart fetch' AND state = 'active')",
        2,
    )
    .await;
}

#[tokio::test]
async fn cancel_mid_stream_returns_within_two_seconds_and_cancels_the_warehouse_query() {
    let ctx = setup("it_stream_cancel").await;
    trickle_section(&ctx).await;
    let (r, secs) = stop_mid_stream(&ctx, "SELECT 1", Some("pg_cancel_backend($1)")).await;
    let err = r.expect_err("the CALL is cancelled");
    assert_eq!(
        err.as_db_error().map(|e| e.code().clone()),
        Some(SqlState::QUERY_CANCELED),
        "{err}"
    );
    assert!(secs < 2.0, "the CALL ended {secs:.2} s after the cancel");
    assert_untouched_and_remote_cancelled(&ctx).await;
}

#[tokio::test]
async fn terminate_mid_stream_cancels_the_warehouse_query() {
    let ctx = setup("it_stream_term").await;
    trickle_section(&ctx).await;
    let (r, secs) = stop_mid_stream(&ctx, "SELECT 1", Some("pg_terminate_backend($1)")).await;
    assert!(r.is_err(), "the session is terminated");
    assert!(
        secs < 2.0,
        "the session ended {secs:.2} s after the terminate"
    );
    assert_untouched_and_remote_cancelled(&ctx).await;
}

#[tokio::test]
async fn statement_timeout_mid_stream_ends_the_load() {
    let ctx = setup("it_stream_timeout").await;
    trickle_section(&ctx).await;
    let t = Instant::now();
    let (r, _) = stop_mid_stream(&ctx, "SET statement_timeout = '3s'", None).await;
    let err = r.expect_err("the CALL times out");
    assert_eq!(
        err.as_db_error().map(|e| e.code().clone()),
        Some(SqlState::QUERY_CANCELED),
        "{err}"
    );
    let secs = t.elapsed().as_secs_f64();
    assert!(
        secs < 5.0,
        "the CALL ended after {secs:.2} s for a 3 s timeout"
    );
    let run_error = ctx
        .mart
        .text("SELECT error FROM dm.run")
        .await
        .unwrap_or_default();
    assert!(
        run_error.contains("public.fb_ad_dm"),
        "the table is named: {run_error}"
    );
    assert_untouched_and_remote_cancelled(&ctx).await;
}

/// Every bookkeeping and streamed value lands exactly: created_at/updated_at get the load's
/// time, and the progress view showed rows while the warehouse was still sending.
#[tokio::test]
async fn streamed_rows_carry_the_load_time() {
    let ctx = setup("it_stream_stamp").await;
    let m = &ctx.mart;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    let n = m
        .i64("SELECT count(*) FROM fb_campaign_dm WHERE created_at IS NOT NULL AND created_at = updated_at AND created_at > now() - interval '1 minute'")
        .await;
    assert_eq!(n, m.i64("SELECT count(*) FROM fb_campaign_dm").await);
    assert!(n > 0);
}

/// Prefetch (`pg_datamart.max_warehouse_queries` 2): the second table's warehouse query is
/// sent while the first table is still loading, the result equals a one-at-a-time sync, and no
/// warehouse session is left behind, also when the first table fails. With 1 it is sent only
/// after the first table is done.
#[tokio::test]
async fn the_next_tables_query_starts_while_the_current_one_loads() {
    let ctx = setup("it_prefetch").await;
    ctx.wh
        .exec(
            "CREATE TABLE wh_starts (t text, at timestamptz);
             CREATE FUNCTION wh_started(t text) RETURNS boolean LANGUAGE sql VOLATILE
               AS $$ INSERT INTO wh_starts VALUES (t, clock_timestamp()); SELECT true $$;
             -- table 1: its last row comes after 1.5 s, so its load lasts that long
             CREATE VIEW pf_one AS
               WITH s AS MATERIALIZED (SELECT wh_started('one')), z AS MATERIALIZED (SELECT pg_sleep(1.5))
               SELECT c.* FROM fb_campaign c, s WHERE c.campaign_id <> '1001001'
               UNION ALL
               SELECT c.* FROM fb_campaign c, z WHERE c.campaign_id = '1001001';
             CREATE VIEW pf_two AS
               WITH s AS MATERIALIZED (SELECT wh_started('two'))
               SELECT c.* FROM fb_campaign c, s;",
        )
        .await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE pf_one_dm (LIKE fb_campaign_dm INCLUDING ALL);
         CREATE TABLE pf_two_dm (LIKE fb_campaign_dm INCLUDING ALL);
         SELECT dm_add_section('pf', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('pf', 'pf_one_dm', 'pf_one');
         SELECT dm_add_table('pf', 'pf_two_dm', 'pf_two');",
    )
    .await;
    let call = "CALL dm_sync('pf', '0', '2026-01-25', '2026-02-05')";
    let started_before_one_finished = || async {
        let one_done = m
            .text("SELECT finished_at::text FROM dm.run_step WHERE run_id = (SELECT max(run_id) FROM dm.run) AND position = 1")
            .await
            .unwrap();
        ctx.wh
            .i64(&format!(
                "SELECT count(*) FROM wh_starts WHERE t = 'two' AND at < '{one_done}'::timestamptz"
            ))
            .await
    };
    let no_session_left = || async {
        wait_until(
            &ctx.wh,
            "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg_datamart fetch'",
            10,
        )
        .await;
    };

    m.exec("SET pg_datamart.max_warehouse_queries = 1").await;
    m.exec(call).await;
    assert_eq!(started_before_one_finished().await, 0, "one at a time");
    let sequential = (
        m.checksum("SELECT account_id, campaign_id, name, collected_at FROM pf_one_dm")
            .await,
        m.checksum("SELECT account_id, campaign_id, name, collected_at FROM pf_two_dm")
            .await,
    );
    no_session_left().await;

    ctx.wh.exec("TRUNCATE wh_starts").await;
    m.exec("SET pg_datamart.max_warehouse_queries = 2").await;
    m.exec(call).await;
    assert_eq!(
        started_before_one_finished().await,
        1,
        "table two's query was sent while table one was loading"
    );
    let prefetched = (
        m.checksum("SELECT account_id, campaign_id, name, collected_at FROM pf_one_dm")
            .await,
        m.checksum("SELECT account_id, campaign_id, name, collected_at FROM pf_two_dm")
            .await,
    );
    assert!(sequential.0 .0 > 0 && sequential.1 .0 > 0);
    assert_eq!(prefetched, sequential);
    no_session_left().await;

    // Table one fails after table two's query was sent: that query is cancelled, its session
    // closed, and table two untouched.
    m.exec("ALTER TABLE pf_one_dm ADD CONSTRAINT short_name CHECK (length(name) < 5) NOT VALID")
        .await;
    let before = m.checksum("SELECT * FROM pf_two_dm").await;
    m.fails(call).await;
    no_session_left().await;
    assert_eq!(m.checksum("SELECT * FROM pf_two_dm").await, before);
}
