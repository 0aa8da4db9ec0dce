//! Status that outlives the loading transaction: live progress seen from other sessions,
//! notifications delivered while the sync runs, truthful rows after errors, cancellation and
//! termination, resume, history pruning, password authentication on the status path.

use pg_datamart_it::{assert_error, dsn, setup, wait_until, Ctx, Session};
use std::time::Duration;
use tokio_postgres::error::SqlState;

/// Section `slow`: table 1 is quick, table 2 comes from a warehouse view that sleeps `secs`
/// before returning rows, table 3 is quick. Table 2 holds two old rows that must survive.
async fn slow_section(ctx: &Ctx, secs: u32) {
    ctx.wh
        .exec(&format!(
            "CREATE VIEW fb_ad_slow AS WITH s AS MATERIALIZED (SELECT pg_sleep({secs})) SELECT f.* FROM fb_ad f, s"
        ))
        .await;
    ctx.mart
        .exec(
            "CREATE TABLE fb_ad_extra_dm (LIKE fb_ad_dm);
             SELECT dm_add_section('slow', 'account_id', 'fb_account_dm');
             SELECT dm_add_table('slow', 'fb_campaign_dm');
             SELECT dm_add_table('slow', 'fb_ad_dm', 'fb_ad_slow');
             SELECT dm_add_table('slow', 'fb_ad_extra_dm', 'fb_ad');
             INSERT INTO fb_ad_dm (account_id, ad_id, collected_at) VALUES ('1001', 'old-1', '2026-01-11'), ('1001', 'old-2', '2026-01-12');",
        )
        .await;
}

const SLOW_CALL: &str = "CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-12')";

async fn steps(s: &Session, run_id: i64) -> Vec<(i32, String)> {
    s.client
        .query(
            "SELECT position, status FROM dm.run_step WHERE run_id = $1 ORDER BY position",
            &[&run_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn events(listener: &Session) -> Vec<serde_json::Value> {
    listener
        .notifications()
        .into_iter()
        .filter(|(channel, _)| channel == "dm_status")
        .map(|(_, payload)| serde_json::from_str(&payload).expect("notification payload is JSON"))
        .collect()
}

#[tokio::test]
async fn progress_is_visible_live_and_notified_while_a_table_loads() {
    let ctx = setup("it_live").await;
    slow_section(&ctx, 3).await;
    let listener = Session::connect(&ctx.mart_db).await;
    listener.exec("LISTEN dm_status").await;
    let syncer = Session::connect(&ctx.mart_db).await;
    let sync = tokio::spawn(async move {
        let r = syncer.client.batch_execute(SLOW_CALL).await;
        (r.map_err(|e| e.to_string()), syncer.take_notices())
    });

    let observer = &ctx.mart;
    wait_until(
        observer,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE position = 2 AND status = 'running')",
        10,
    )
    .await;
    assert!(!sync.is_finished(), "the sync is still loading table 2");
    assert_eq!(
        observer.text("SELECT status FROM dm.run").await.unwrap(),
        "running"
    );
    assert_eq!(
        steps(observer, 1).await,
        vec![
            (1, "succeeded".into()),
            (2, "running".into()),
            (3, "pending".into())
        ]
    );
    assert_eq!(
        observer
            .i64("SELECT rows_fetched FROM dm.run_step WHERE position = 1")
            .await,
        6
    );
    let live = observer
        .client
        .query_one("SELECT status, tables_done, tables_total, current_table, rows_fetched FROM dm_status WHERE section = 'slow'", &[])
        .await
        .unwrap();
    assert_eq!(
        (
            live.get::<_, String>(0),
            live.get::<_, i32>(1),
            live.get::<_, i32>(2),
            live.get::<_, String>(3),
            live.get::<_, i64>(4)
        ),
        ("running".into(), 1, 3, "public.fb_ad_dm".into(), 6)
    );
    // The LISTENing session already has table 2's start, delivered while the run goes on.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        listener.client.simple_query("SELECT 1").await.unwrap(); // let the connection read
        let got = events(&listener);
        if got
            .iter()
            .any(|e| e["event"] == "step_start" && e["position"] == 2)
        {
            let start = got
                .iter()
                .find(|e| e["event"] == "run_start")
                .expect("run_start first");
            assert_eq!(start["section"], "slow");
            assert_eq!(start["tables"], 3);
            let first = got
                .iter()
                .find(|e| e["event"] == "step_finish" && e["position"] == 1)
                .expect("table 1 finished");
            assert_eq!(first["rows_fetched"], 6);
            assert_eq!(first["mart_table"], "public.fb_campaign_dm");
            assert!(
                first["at"].is_string() && first["seconds"].is_number(),
                "{first}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no step_start for table 2 yet: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !sync.is_finished(),
        "notification arrived before the run ended"
    );

    let (result, notices) = sync.await.unwrap();
    result.unwrap();
    listener.client.simple_query("SELECT 1").await.unwrap();
    let got = events(&listener);
    let last = got.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["status"].as_str()),
        (Some("run_finish"), Some("succeeded"))
    );
    assert_eq!(
        got.iter().filter(|e| e["event"] == "step_finish").count(),
        3
    );
    // Notices carry the time, the table, the rows and the seconds.
    let line = notices
        .iter()
        .find(|n| n.contains("[2/3] public.fb_ad_dm"))
        .expect("a notice for table 2");
    assert!(
        line.starts_with("pg_datamart 20") && line.contains("fetched 9,") && line.ends_with(" s"),
        "{line}"
    );
}

/// Starts SLOW_CALL in its own session, waits until table 2 is loading, then stops that
/// session's backend with `stop` (`pg_cancel_backend` or `pg_terminate_backend`). Returns the
/// backend's pid, fb_ad_dm's checksum just before, and how the CALL ended.
async fn stop_mid_table(
    ctx: &Ctx,
    stop: &str,
) -> (i32, (i64, String), Result<(), tokio_postgres::Error>) {
    let syncer = Session::connect(&ctx.mart_db).await;
    let pid: i32 = syncer
        .client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let sync = tokio::spawn(async move { syncer.client.batch_execute(SLOW_CALL).await });
    let m = &ctx.mart;
    wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE position = 2 AND status = 'running')",
        10,
    )
    .await;
    let before = m.checksum("SELECT * FROM fb_ad_dm").await;
    let stopped: bool = m
        .client
        .query_one(&format!("SELECT {stop}"), &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(stopped, "{stop} found the syncing backend");
    (pid, before, sync.await.unwrap())
}

#[tokio::test]
async fn cancel_mid_table_ends_the_run_cancelled_and_keeps_the_table() {
    let ctx = setup("it_cancel").await;
    slow_section(&ctx, 3).await;
    let (_, before, result) = stop_mid_table(&ctx, "pg_cancel_backend($1)").await;
    let m = &ctx.mart;
    let err = result.expect_err("the CALL is cancelled");
    assert_eq!(
        err.as_db_error().map(|e| e.code().clone()),
        Some(SqlState::QUERY_CANCELED),
        "{err}"
    );

    let run = m
        .client
        .query_one(
            "SELECT status, error, finished_at IS NOT NULL FROM dm.run",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(run.get::<_, String>(0), "cancelled");
    assert!(run.get::<_, String>(1).contains("public.fb_ad_dm (2 of 3)"));
    assert!(run.get::<_, bool>(2));
    assert_eq!(
        steps(m, 1).await,
        vec![
            (1, "succeeded".into()),
            (2, "cancelled".into()),
            (3, "pending".into())
        ]
    );
    assert_eq!(
        m.checksum("SELECT * FROM fb_ad_dm").await,
        before,
        "table 2 is as it was"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm").await,
        6,
        "table 1 stays committed"
    );
}

#[tokio::test]
async fn terminated_sync_is_reconciled_to_failed() {
    let ctx = setup("it_kill").await;
    slow_section(&ctx, 3).await;
    let (pid, before, result) = stop_mid_table(&ctx, "pg_terminate_backend($1, 30000)").await;
    let m = &ctx.mart;
    assert!(result.is_err(), "the syncing session is gone");

    // The rows survived the backend; the next status read reconciles them.
    assert_eq!(
        m.text("SELECT status FROM dm.run").await.unwrap(),
        "running"
    );
    let row = m
        .client
        .query_one(
            "SELECT status, last_error FROM dm_status WHERE section = 'slow'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "failed");
    assert!(row
        .get::<_, String>(1)
        .contains(&format!("backend {pid} is no longer running")));
    assert_eq!(
        steps(m, 1).await,
        vec![
            (1, "succeeded".into()),
            (2, "failed".into()),
            (3, "pending".into())
        ]
    );
    assert!(m
        .text("SELECT error FROM dm.run_step WHERE position = 2")
        .await
        .unwrap()
        .contains("rolled back"));
    assert_eq!(m.checksum("SELECT * FROM fb_ad_dm").await, before);
}

#[tokio::test]
async fn a_failed_run_resumes_from_its_failed_table() {
    let ctx = setup("it_resume").await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE fb_ad_extra_dm (LIKE fb_ad_dm);
         SELECT dm_add_section('later', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('later', 'fb_campaign_dm');
         SELECT dm_add_table('later', 'fb_ad_dm', 'fb_ad_later');
         SELECT dm_add_table('later', 'fb_ad_extra_dm', 'fb_ad');",
    )
    .await;
    let e = m
        .fails("CALL dm_sync('later', '1001,1002', '2026-01-10', '2026-01-11')")
        .await;
    assert_error(&e, SqlState::UNDEFINED_TABLE, &["(2 of 3)"]);
    assert!(
        e.hint().unwrap().contains("CALL dm_resume(1)"),
        "{:?}",
        e.hint()
    );
    let loaded_at = m
        .text("SELECT max(created_at)::text FROM fb_campaign_dm")
        .await;

    ctx.wh
        .exec("CREATE VIEW fb_ad_later AS SELECT * FROM fb_ad")
        .await;
    m.exec("CALL dm_resume(1)").await;
    let r = m.client.query_one("SELECT run_id, status, resumed_from, accounts, start_date::text, end_date::text FROM dm.run WHERE run_id = 2", &[]).await.unwrap();
    assert_eq!(r.get::<_, String>(1), "succeeded");
    assert_eq!(r.get::<_, Option<i64>>(2), Some(1));
    assert_eq!(r.get::<_, Vec<String>>(3), vec!["1001", "1002"]);
    assert_eq!(
        (r.get::<_, String>(4), r.get::<_, String>(5)),
        ("2026-01-10".into(), "2026-01-11".into())
    );
    assert_eq!(
        steps(m, 2).await,
        vec![(2, "succeeded".into()), (3, "succeeded".into())],
        "table 1 is not reloaded"
    );
    assert_eq!(
        m.text("SELECT max(created_at)::text FROM fb_campaign_dm")
            .await,
        loaded_at
    );
    assert_eq!(m.i64("SELECT count(*) FROM fb_ad_dm").await, 12);
    assert_eq!(m.i64("SELECT count(*) FROM fb_ad_extra_dm").await, 12);

    for (sql, parts) in [
        ("CALL dm_resume(2)", vec!["run_id", "run 2 is succeeded"]),
        ("CALL dm_resume(99)", vec!["run 99 does not exist"]),
    ] {
        let e = m.fails(sql).await;
        let code = if sql.contains("99") {
            SqlState::UNDEFINED_OBJECT
        } else {
            SqlState::INVALID_PARAMETER_VALUE
        };
        assert_error(&e, code, &parts);
    }
}

#[tokio::test]
async fn old_history_is_pruned_when_a_sync_starts() {
    let ctx = setup("it_prune").await;
    let m = &ctx.mart;
    m.exec(
        "INSERT INTO dm.run (section, accounts, start_date, end_date, mode, status, started_at, finished_at, pid)
         VALUES ('fb', '{1001}', '2025-01-01', '2025-01-02', 'delete_insert', 'succeeded', now() - interval '40 days', now() - interval '40 days', 1),
                ('fb', '{1001}', '2025-01-01', '2025-01-02', 'delete_insert', 'failed', now() - interval '5 days', now() - interval '5 days', 1)",
    )
    .await;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run").await,
        2,
        "the 40-day-old run is gone (default 30 days)"
    );
    m.exec("SET pg_datamart.history_days = 1").await;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE started_at < now() - interval '1 day'")
            .await,
        0
    );
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 2);
}

/// The test server requires scram passwords for role dm_pw (Makefile: PG_HBA_PREPEND).
#[tokio::test]
async fn status_needs_no_password_nor_loopback_and_never_leaks_it() {
    let ctx = setup("it_password").await;
    let admin = Session::connect("postgres").await;
    admin
        .exec("DO $$ BEGIN CREATE ROLE dm_pw SUPERUSER LOGIN PASSWORD 'Pw-S3cret-9'; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        .await;
    let pw_dsn = format!(
        "{} user=dm_pw password=Pw-S3cret-9",
        dsn(&ctx.mart_db).replace("user=postgres", "")
    );
    let s = Session::connect_dsn(&pw_dsn)
        .await
        .expect("dm_pw logs in with its password");
    if s.fails("SELECT 1 FROM dblink('host=127.0.0.1 port=' || current_setting('port') || ' dbname=postgres user=dm_pw', 'SELECT 1') AS t(x int)").await.code() != &SqlState::SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION {
        panic!("the test server must require a password for dm_pw (run through `make it`)");
    }
    s.exec("CREATE USER MAPPING FOR dm_pw SERVER redshift_prd OPTIONS (user 'postgres')")
        .await;

    // Status needs no password and no connection: the sync's status writer is a background
    // worker. A setting left from the old loopback status session is ignored.
    s.exec("SET pg_datamart.status_server = 'no_such_loopback'")
        .await;
    s.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        s.text("SELECT status || ' by ' || run_by FROM dm.run")
            .await
            .unwrap(),
        "succeeded by dm_pw"
    );
    assert_eq!(
        s.text("SELECT string_agg(status, ',' ORDER BY position) FROM dm.run_step")
            .await
            .unwrap(),
        "succeeded,succeeded"
    );
    assert_eq!(s.i64("SELECT count(*) FROM fb_campaign_dm").await, 2);
    // Each step records the warehouse backend and the server it runs on (for the watchdog).
    assert_eq!(
        s.text("SELECT string_agg(DISTINCT remote_server, ',') FROM dm.run_step WHERE remote_pid IS NOT NULL")
            .await
            .as_deref(),
        Some("redshift_prd")
    );
    let notices = s.take_notices().join(" ");
    assert!(!notices.contains("Pw-S3cret-9"), "{notices}");
    // The writer is gone once the sync ended.
    wait_until(
        &s,
        "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_datamart status writer'",
        10,
    )
    .await;
    // The sync's steps cannot be called to rewrite a run: not one that ended, not a step
    // that was not just loaded.
    let run_id = s.i64("SELECT max(run_id) FROM dm.run").await;
    let recorded = s.checksum("SELECT * FROM dm.run_step").await;
    for call in [
        format!("SELECT dm._run_finish({run_id})"),
        format!(
            "SELECT dm._step_done({run_id}, 1, '{{\"loaded\": {{\"counts\": {{\"fetched\": 9, \"deleted\": 0, \"inserted\": 9, \"updated\": 0}}, \"seconds\": 1.0, \"note\": null}}}}')"
        ),
        format!("SELECT dm._step_failed({run_id}, 1, '22000', 'forged')"),
    ] {
        let e = s.fails(&call).await;
        assert_error(&e, SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE, &[&run_id.to_string()]);
    }
    assert_eq!(
        s.text("SELECT status || ' ' || COALESCE(error, '') FROM dm.run")
            .await
            .unwrap(),
        "succeeded "
    );
    assert_eq!(s.checksum("SELECT * FROM dm.run_step").await, recorded);
    // A CALL that fails after its writer started leaves no worker behind in the idle session.
    let e = s.fails(&format!("CALL dm_resume({run_id})")).await;
    assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, &["succeeded"]);
    wait_until(
        &s,
        "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_datamart status writer' AND datname = current_database()",
        10,
    )
    .await;
    let all = s.text("SELECT string_agg(concat_ws(' ', r.*::text, s.*::text), ' ') FROM dm.run r JOIN dm.run_step s USING (run_id)").await.unwrap();
    assert!(!all.contains("Pw-S3cret-9"));
}

/// The status writer is a background worker of the sync: terminated in the middle of a run,
/// it is replaced at the next event, and the run is recorded in full.
#[tokio::test]
async fn a_terminated_status_writer_is_replaced_and_the_run_recorded() {
    let ctx = setup("it_writer_kill").await;
    slow_section(&ctx, 3).await;
    let syncer = Session::connect(&ctx.mart_db).await;
    let sync = tokio::spawn(async move {
        syncer
            .client
            .batch_execute(SLOW_CALL)
            .await
            .map_err(|e| pg_datamart_it::describe(&e))
    });
    let observer = &ctx.mart;
    wait_until(
        observer,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE position = 2 AND status = 'running')",
        10,
    )
    .await;
    const WRITER: &str = "FROM pg_stat_activity WHERE backend_type = 'pg_datamart status writer' AND datname = current_database()";
    assert_eq!(observer.i64(&format!("SELECT count(*) {WRITER}")).await, 1);
    observer
        .exec(&format!("SELECT pg_terminate_backend(pid) {WRITER}"))
        .await;
    sync.await
        .unwrap()
        .expect("the sync goes on with a new writer");
    assert_eq!(
        steps(observer, 1).await,
        vec![
            (1, "succeeded".into()),
            (2, "succeeded".into()),
            (3, "succeeded".into())
        ]
    );
    assert_eq!(
        observer.text("SELECT status FROM dm.run").await.unwrap(),
        "succeeded"
    );
    assert_eq!(
        observer
            .i64("SELECT rows_fetched FROM dm.run_step WHERE position = 2")
            .await,
        observer.i64("SELECT count(*) FROM fb_ad_dm WHERE collected_at BETWEEN '2026-01-10' AND '2026-01-12'").await
    );
}

/// With RUST_BACKTRACE=1 in the server's environment (the Makefile starts the test server so),
/// no error, notice or stored error carries a Rust backtrace.
#[tokio::test]
async fn no_backtrace_reaches_an_error_or_a_status_row() {
    let ctx = setup("it_no_backtrace").await;
    let m = &ctx.mart;
    let environ = m
        .text("SELECT encode(pg_read_binary_file('/proc/' || split_part(pg_read_file('postmaster.pid'), E'\\n', 1) || '/environ'), 'escape')")
        .await
        .unwrap_or_default();
    assert!(
        environ.contains("RUST_BACKTRACE=1"),
        "the test server must run with RUST_BACKTRACE=1 (start it through `make it`)"
    );
    let clean = |what: &str, text: &str| {
        for frame in ["stack backtrace", "rust_begin_unwind", "core::", "pgrx::"] {
            assert!(!text.contains(frame), "{what} carries a backtrace: {text}");
        }
    };
    // An argument refused by the planner, and a table the warehouse does not have.
    for call in [
        "CALL dm_sync('fb', '1001', '2026-01-12', '2026-01-10')",
        "CALL dm_sync('broken', '1001', '2026-01-10', '2026-01-10')",
    ] {
        if call.contains("broken") {
            m.exec(
                "SELECT dm_add_section('broken', 'account_id', 'fb_account_dm');
                 SELECT dm_add_table('broken', 'fb_campaign_dm', 'no_such_table');",
            )
            .await;
        }
        let e = m.fails(call).await;
        assert_ne!(e.code(), &SqlState::INTERNAL_ERROR, "{}", e.message());
        clean(
            "the error",
            &format!("{} {:?} {:?}", e.message(), e.detail(), e.hint()),
        );
        clean("a notice", &m.take_notices().join("\n"));
    }
    let stored = m
        .text(
            "SELECT concat_ws(' ', (SELECT string_agg(error, ' ') FROM dm.run), (SELECT string_agg(error, ' ') FROM dm.run_step),
                              (SELECT string_agg(last_error, ' ') FROM dm_status))",
        )
        .await
        .unwrap_or_default();
    assert!(stored.contains("no_such_table"), "{stored}");
    clean("a stored error", &stored);
    // The failed sync's warehouse connection is closed (the session lives on).
    wait_until(
        &ctx.wh,
        "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pg_datamart fetch' AND datname = current_database()",
        5,
    )
    .await;
}

/// A sync step called by hand outside a CALL leaves nothing behind once its statement ends:
/// no status writer (a background worker slot) and no advisory lock in the idle session.
#[tokio::test]
async fn a_step_called_by_hand_leaves_no_writer_and_no_lock() {
    let ctx = setup("it_hand_step").await;
    let s = Session::connect(&ctx.mart_db).await;
    let pid = s.i64("SELECT pg_backend_pid()::bigint").await;
    s.exec("SELECT dm._run_begin('fb', '1001', '2026-01-10', '2026-01-10', NULL)")
        .await;
    wait_until(
        &ctx.mart,
        "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_datamart status writer' AND datname = current_database()",
        10,
    )
    .await;
    assert_eq!(
        ctx.mart
            .i64(&format!(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = {pid}"
            ))
            .await,
        0
    );
    // A real sync in the same session works as usual.
    s.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        ctx.mart
            .text("SELECT status FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .as_deref(),
        Some("succeeded")
    );
}

/// A run whose backend stopped after every table committed (a cancel that lands after the last
/// COMMIT) is reconciled as succeeded, with a note saying so, not as failed.
#[tokio::test]
async fn a_run_whose_tables_all_committed_is_reconciled_as_succeeded() {
    let ctx = setup("it_reconcile_done").await;
    let m = &ctx.mart;
    m.exec(
        "INSERT INTO dm.run (section, accounts, start_date, end_date, mode, status, pid)
         VALUES ('fb', '{1001}', '2026-01-01', '2026-01-01', 'delete_insert', 'running', 999999),
                ('fb', '{1001}', '2026-01-01', '2026-01-01', 'delete_insert', 'running', 999998);
         INSERT INTO dm.run_step (run_id, position, mart_oid, mart_table, status)
         VALUES (1, 1, 'fb_campaign_dm', 'public.fb_campaign_dm', 'succeeded'),
                (1, 2, 'fb_ad_dm', 'public.fb_ad_dm', 'skipped'),
                (2, 1, 'fb_campaign_dm', 'public.fb_campaign_dm', 'succeeded'),
                (2, 2, 'fb_ad_dm', 'public.fb_ad_dm', 'pending');",
    )
    .await;
    m.exec("SELECT * FROM dm_status").await;
    assert_eq!(
        m.text("SELECT status || ' ' || (error IS NULL) FROM dm.run WHERE run_id = 1")
            .await
            .as_deref(),
        Some("succeeded true")
    );
    assert!(m
        .text("SELECT status || ': ' || error FROM dm.run WHERE run_id = 2")
        .await
        .unwrap()
        .starts_with("failed: backend 999998 is no longer running this sync"));
    assert!(m
        .text("SELECT note FROM dm.run WHERE run_id = 1")
        .await
        .unwrap()
        .starts_with("every table was loaded and committed; backend 999999 stopped before it recorded the end"));
}
