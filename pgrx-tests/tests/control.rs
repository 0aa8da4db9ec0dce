//! Concurrency and job control with real concurrent sessions: (table, account) locks that skip
//! instead of queueing, pause, the VACUUM policy, the watchdog, and bans.

use pg_datamart_it::{assert_error, setup, wait_until, Ctx, Session};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

/// Section `slow` (fb_campaign_dm quick, fb_ad_dm from a view that sleeps as long as
/// `sleep_conf.secs` says, once per pull).
async fn slow_section(ctx: &Ctx, secs: f64) {
    ctx.wh
        .exec(&format!(
            "CREATE TABLE sleep_conf (secs float8); INSERT INTO sleep_conf VALUES ({secs});
             CREATE VIEW fb_ad_slow AS WITH s AS MATERIALIZED (SELECT pg_sleep((SELECT secs FROM sleep_conf)))
             SELECT f.* FROM fb_ad f, s;"
        ))
        .await;
    ctx.mart
        .exec(
            "SELECT dm_add_section('slow', 'account_id', 'fb_account_dm');
             SELECT dm_add_table('slow', 'fb_campaign_dm');
             SELECT dm_add_table('slow', 'fb_ad_dm', 'fb_ad_slow');",
        )
        .await;
}

fn spawn_call(s: Session, sql: String) -> tokio::task::JoinHandle<(Result<(), String>, f64)> {
    tokio::spawn(async move {
        let t = Instant::now();
        let r = s
            .client
            .batch_execute(&sql)
            .await
            .map_err(|e| pg_datamart_it::describe(&e));
        (r, t.elapsed().as_secs_f64())
    })
}

#[tokio::test]
async fn disjoint_accounts_run_together_and_overlapping_ones_skip_with_the_holder_named() {
    let ctx = setup("it_locks").await;
    slow_section(&ctx, 2.0).await;
    let a = spawn_call(
        Session::connect(&ctx.mart_db).await,
        "CALL dm_sync('slow', '1001,1002', '2026-01-10', '2026-01-12')".into(),
    );
    let m = &ctx.mart;
    wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE position = 2 AND status = 'running')",
        10,
    )
    .await;
    // Same section, disjoint accounts: runs at the same time.
    let b = spawn_call(
        Session::connect(&ctx.mart_db).await,
        "CALL dm_sync('slow', '1003', '2026-01-10', '2026-01-12')".into(),
    );
    wait_until(m, "SELECT count(*) = 2 FROM dm.run", 10).await;
    // dm_status shows both running runs of the section, not only the latest.
    assert_eq!(
        m.text("SELECT string_agg(run_id || ':' || status, ',' ORDER BY run_id) FROM dm_status WHERE section = 'slow'")
            .await
            .as_deref(),
        Some("1:running,2:running")
    );
    // Overlapping accounts: skipped within the configured wait, without an error.
    let c_session = Session::connect(&ctx.mart_db).await;
    c_session.exec("SET pg_datamart.lock_wait = '500ms'").await;
    let c = spawn_call(
        c_session,
        "CALL dm_sync('slow', '1002,1004', '2026-01-10', '2026-01-12')".into(),
    );
    let (rc, secs_c) = c.await.unwrap();
    rc.unwrap();
    assert!(
        secs_c < 1.8,
        "the overlapping sync gave up after lock_wait, not after the other run: {secs_c} s"
    );
    // A skipped run does not hide the running ones.
    let shown = m
        .text("SELECT string_agg(run_id || ':' || status, ',' ORDER BY run_id) FROM dm_status WHERE section = 'slow'")
        .await
        .unwrap_or_default();
    let running = m
        .text("SELECT string_agg(run_id || ':running', ',' ORDER BY run_id) FROM dm.run WHERE status = 'running'")
        .await;
    assert_eq!(
        shown,
        [running.as_deref(), Some("3:skipped")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(",")
    );
    let (ra, _) = a.await.unwrap();
    let (rb, _) = b.await.unwrap();
    ra.unwrap();
    rb.unwrap();
    let runs = m
        .client
        .query(
            "SELECT run_id, account_ids, status, note FROM dm.run ORDER BY run_id",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, String)> = runs.iter().map(|r| (r.get(1), r.get(2))).collect();
    assert_eq!(
        got,
        vec![
            ("1001,1002".into(), "succeeded".into()),
            ("1003".into(), "succeeded".into()),
            ("1002,1004".into(), "skipped".into())
        ]
    );
    let note: String = runs[2].get(3);
    assert!(note.starts_with("busy: an account of public.fb_campaign_dm is being loaded by run 1 of section slow (pid "), "{note}");
    assert!(note.contains("gave up after 500 ms"), "{note}");
    let overlap = m
        .i64(
            "SELECT count(*) FROM dm.run_step a JOIN dm.run_step b ON a.run_id = 1 AND b.run_id = 2 AND a.position = 2 AND b.position = 2
              WHERE a.started_at < b.finished_at AND b.started_at < a.finished_at",
        )
        .await;
    assert_eq!(overlap, 1, "the two runs loaded table 2 at the same time");
    // A whole-table lock (more accounts than lock_accounts_max) excludes every account.
    let d_session = Session::connect(&ctx.mart_db).await;
    d_session
        .exec("SET pg_datamart.lock_accounts_max = 1")
        .await;
    let d = spawn_call(
        d_session,
        "CALL dm_sync('slow', '1001,1002', '2026-01-10', '2026-01-12')".into(),
    );
    wait_until(m, "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE run_id = 4 AND position = 1 AND status <> 'pending')", 10).await;
    m.exec("SET pg_datamart.lock_wait = 0").await;
    m.exec("CALL dm_sync('slow', '1007', '2026-01-10', '2026-01-12')")
        .await;
    assert_eq!(
        m.text("SELECT status || ': ' || note FROM dm.run WHERE run_id = 5")
            .await
            .unwrap()
            .split(" is being")
            .next()
            .unwrap(),
        "skipped: busy: table public.fb_campaign_dm"
    );
    d.await.unwrap().0.unwrap();
}

#[tokio::test]
async fn many_sessions_with_overlapping_accounts_never_deadlock_and_stay_consistent() {
    let ctx = setup("it_stress").await;
    let accounts = ["1001", "1002", "1003", "1004", "1007"];
    let mut tasks = Vec::new();
    for i in 0..6usize {
        let s = Session::connect(&ctx.mart_db).await;
        s.exec("SET pg_datamart.lock_wait = '300ms'").await;
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for round in 0..4usize {
                // deterministic pseudo-random overlapping subsets
                let picked: Vec<&str> = accounts
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| (i * 7 + round * 3 + k * 5) % 3 != 0)
                    .map(|(_, a)| *a)
                    .collect();
                let r = s
                    .client
                    .batch_execute(&format!(
                        "CALL dm_sync('fb', '{}', '2026-01-10', '2026-01-20')",
                        picked.join(",")
                    ))
                    .await;
                outcomes.push(r.map_err(|e| pg_datamart_it::describe(&e)));
            }
            outcomes
        }));
    }
    for t in tasks {
        for r in t.await.unwrap() {
            r.expect("no sync errors: they succeed or are skipped");
        }
    }
    let m = &ctx.mart;
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 24);
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE status NOT IN ('succeeded', 'skipped')")
            .await,
        0
    );
    assert!(
        m.i64("SELECT count(*) FROM dm.run WHERE status = 'succeeded'")
            .await
            > 0
    );
    // No row twice (fb_ad_dm has no key that would have caught it), and what is there is exact.
    assert_eq!(m.i64("SELECT count(*) FROM (SELECT 1 FROM fb_ad_dm GROUP BY account_id, ad_id, collected_at HAVING count(*) > 1) d").await, 0);
    let loaded = m
        .text("SELECT string_agg(DISTINCT quote_literal(account_id), ',') FROM fb_ad_dm")
        .await
        .unwrap();
    let w = ctx.wh.checksum(&format!("SELECT * FROM fb_ad WHERE account_id IN ({loaded}) AND collected_at BETWEEN '2026-01-10' AND '2026-01-20'")).await;
    assert_eq!(m.checksum("SELECT * FROM fb_ad_dm").await, w);
}

#[tokio::test]
async fn paused_sections_skip_new_syncs_while_running_ones_finish() {
    let ctx = setup("it_pause").await;
    slow_section(&ctx, 1.5).await;
    let m = &ctx.mart;
    let running = spawn_call(
        Session::connect(&ctx.mart_db).await,
        "CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-10')".into(),
    );
    wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM dm.run WHERE status = 'running')",
        10,
    )
    .await;
    assert!(m
        .text("SELECT dm_pause()")
        .await
        .unwrap()
        .contains("all sections paused"));
    m.exec("CALL dm_sync('slow', '1002', '2026-01-10', '2026-01-10')")
        .await; // no error
    m.exec("CALL dm_sync('fb', '1002', '2026-01-10', '2026-01-10')")
        .await;
    running.await.unwrap().0.unwrap();
    let st = m
        .text("SELECT string_agg(section || ':' || status, ',' ORDER BY run_id) FROM dm.run")
        .await
        .unwrap();
    assert_eq!(st, "slow:succeeded,slow:skipped,fb:skipped");
    assert!(m
        .text("SELECT note FROM dm.run WHERE run_id = 2")
        .await
        .unwrap()
        .starts_with("paused (by postgres at "));
    m.exec("SELECT dm_unpause(); SELECT dm_pause('slow')").await;
    m.exec("CALL dm_sync('fb', '1002', '2026-01-10', '2026-01-10')")
        .await;
    m.exec("CALL dm_sync('slow', '1002', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.text("SELECT string_agg(status, ',' ORDER BY run_id) FROM dm.run WHERE run_id > 3")
            .await
            .unwrap(),
        "succeeded,skipped"
    );
    m.exec("SELECT dm_unpause('slow')").await;
    m.exec("CALL dm_sync('slow', '1002', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.text("SELECT status FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .unwrap(),
        "succeeded"
    );
    let e = m.fails("SELECT dm_pause('nope')").await;
    assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, &["unknown section"]);
}

#[tokio::test]
async fn a_running_vacuum_is_handled_by_the_section_policy() {
    let ctx = setup("it_vacuum").await;
    let m = &ctx.mart;
    // A partition with plenty of dead tuples, and a VACUUM crawling over it in another session.
    m.exec(
        "INSERT INTO fb_campaign_dm (account_id, campaign_id, collected_at)
           SELECT '1004', 'bulk-' || g, date '2026-01-01' + (g % 28) FROM generate_series(1, 200000) g;
         DELETE FROM fb_campaign_dm WHERE campaign_id LIKE 'bulk-%';
         SET pg_datamart.analyze_threshold = -1;",
    )
    .await;
    let vac = Session::connect(&ctx.mart_db).await;
    let vac_pid: i32 = vac
        .client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    vac.exec("SET vacuum_cost_delay = '100ms'").await;
    vac.exec("SET vacuum_cost_limit = 1").await;
    let vacuum = tokio::spawn(async move {
        vac.client
            .batch_execute("VACUUM (INDEX_CLEANUP OFF) fb_campaign_dm_p202601")
            .await
    });
    wait_until(m, "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_vacuum WHERE relid = 'fb_campaign_dm_p202601'::regclass)", 10).await;

    m.exec("SELECT dm_alter_section('fb', vacuum_policy => 'skip')")
        .await;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    let step = |run: i64| {
        format!("SELECT status || ' | ' || coalesce(note, '') FROM dm.run_step WHERE run_id = {run} AND position = 1")
    };
    assert_eq!(
        m.text(&step(1)).await.unwrap(),
        format!("skipped | skipped: VACUUM running on \"public\".\"fb_campaign_dm_p202601\" (pid {vac_pid})")
    );
    assert_eq!(
        m.text("SELECT status FROM dm.run WHERE run_id = 1")
            .await
            .unwrap(),
        "succeeded"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm WHERE account_id = '1001'")
            .await,
        0,
        "table 1 was not loaded"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_ad_dm").await,
        3,
        "table 2 was"
    );

    m.exec("SELECT dm_alter_section('fb', vacuum_policy => 'wait', vacuum_wait => 1)")
        .await;
    let t = Instant::now();
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert!(t.elapsed() >= Duration::from_secs(1));
    let s2 = m.text(&step(2)).await.unwrap();
    assert!(
        s2.starts_with("succeeded | VACUUM on \"public\".\"fb_campaign_dm_p202601\""),
        "{s2}"
    );
    assert!(s2.contains("still running after 1."), "{s2}");

    m.exec("SELECT dm_alter_section('fb', vacuum_policy => 'proceed')")
        .await;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert!(m
        .text(&step(3))
        .await
        .unwrap()
        .starts_with("succeeded | loaded while VACUUM ran on"));
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm WHERE account_id = '1001'")
            .await,
        2
    );
    let e = m
        .fails("SELECT dm_alter_section('fb', vacuum_policy => 'hope')")
        .await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &["vacuum_policy", "wait, skip, proceed"],
    );

    m.exec(&format!("SELECT pg_cancel_backend({vac_pid})"))
        .await;
    assert!(
        vacuum.await.unwrap().is_err(),
        "the VACUUM was still running when cancelled"
    );
}

#[tokio::test]
async fn the_watchdog_warns_then_cancels_a_slow_run() {
    let ctx = setup("it_watchdog").await;
    slow_section(&ctx, 1.0).await;
    let m = &ctx.mart;
    m.exec("CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-10')")
        .await;
    let previous: f64 = m
        .client
        .query_one(
            "SELECT extract(epoch FROM finished_at - started_at)::float8 FROM dm.run",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    ctx.wh.exec("UPDATE sleep_conf SET secs = 60").await;
    let listener = Session::connect(&ctx.mart_db).await;
    listener.exec("LISTEN dm_status").await;
    let sync = spawn_call(
        Session::connect(&ctx.mart_db).await,
        "CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-10')".into(),
    );
    wait_until(m, "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE run_id = 2 AND position = 2 AND remote_pid IS NOT NULL)", 10).await;
    m.exec("SET pg_datamart.watchdog_min_duration = 0").await;
    let elapsed = || async {
        m.client
            .query_one("SELECT extract(epoch FROM clock_timestamp() - started_at)::float8 FROM dm.run WHERE run_id = 2", &[])
            .await
            .unwrap()
            .get::<_, f64>(0)
    };
    let watchdog = || async {
        m.client
            .query(
                "SELECT coalesce(run_id, 0), section, action, detail FROM dm_watchdog()",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.get::<_, i64>(0),
                    r.get::<_, String>(2),
                    r.get::<_, String>(3),
                )
            })
            .collect::<Vec<_>>()
    };
    // Nothing to do yet, then a warning past 3x, once.
    assert!(watchdog().await.is_empty(), "the run is young");
    while elapsed().await < previous * 4.0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let w = watchdog().await;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!((w[0].0, w[0].1.as_str()), (2, "warned"));
    assert!(
        w[0].2.contains("x the previous successful run")
            && w[0].2.contains("loading public.fb_ad_dm"),
        "{}",
        w[0].2
    );
    assert!(watchdog().await.is_empty(), "flagged once");
    assert!(!sync.is_finished());
    // Past 5x: cancelled, the query on the warehouse included.
    while elapsed().await < previous * 5.5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let w = watchdog().await;
    assert_eq!((w[0].0, w[0].1.as_str()), (2, "cancelled"), "{w:?}");
    assert!(
        w[0].2.contains("its query on the warehouse was cancelled"),
        "{}",
        w[0].2
    );
    let (r, secs) = sync.await.unwrap();
    assert!(
        r.unwrap_err().starts_with("57014"),
        "the CALL ends cancelled"
    );
    assert!(secs < 30.0, "not after the warehouse's 60 s");
    let run = m
        .client
        .query_one("SELECT status, note FROM dm.run WHERE run_id = 2", &[])
        .await
        .unwrap();
    assert_eq!(run.get::<_, String>(0), "cancelled");
    let note: String = run.get(1);
    assert!(
        note.contains("flagged by dm_watchdog") && note.contains("cancelled by dm_watchdog"),
        "{note}"
    );
    assert_eq!(
        m.text("SELECT status FROM dm.run_step WHERE run_id = 2 AND position = 2")
            .await
            .unwrap(),
        "cancelled"
    );
    listener.client.simple_query("SELECT 1").await.unwrap();
    let events: Vec<String> = listener
        .notifications()
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| p.contains("\"watchdog\""))
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
}

#[tokio::test]
async fn repeated_failures_ban_a_section_for_a_while() {
    let ctx = setup("it_ban").await;
    let m = &ctx.mart;
    m.exec(
        "SELECT dm_add_section('broken', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('broken', 'fb_ad_dm', 'missing_table');",
    )
    .await;
    for _ in 0..3 {
        let e = m
            .fails("CALL dm_sync('broken', '1001', '2026-01-10', '2026-01-10')")
            .await;
        assert_eq!(e.code(), &SqlState::UNDEFINED_TABLE);
    }
    m.exec("CALL dm_sync('broken', '1001', '2026-01-10', '2026-01-10')")
        .await; // no error: skipped
    let r = m
        .client
        .query_one(
            "SELECT status, note FROM dm.run ORDER BY run_id DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, String>(0), "skipped");
    let note: String = r.get(1);
    assert!(
        note.starts_with("banned until ")
            && note.contains("after 3 consecutive failures (last: table public.fb_ad_dm")
            && note.ends_with("an admin lifts the ban with SELECT dm_unban('broken')"),
        "{note}"
    );
    // dm_unban lifts it: the next sync runs (and fails again, for the same cause); the ban
    // comes back only after as many new failures.
    assert_eq!(
        m.text("SELECT dm_unban('broken')").await.as_deref(),
        Some("section broken unbanned: its failures before now no longer count towards a ban")
    );
    let e = m
        .fails("CALL dm_sync('broken', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(e.code(), &SqlState::UNDEFINED_TABLE, "{}", e.message());
    let e = m.fails("SELECT dm_unban('no_such_section')").await;
    assert_error(
        &e,
        SqlState::UNDEFINED_OBJECT,
        &["section no_such_section does not exist"],
    );
    let e = m.fails("SELECT dm_unban(NULL)").await;
    assert_error(
        &e,
        SqlState::NULL_VALUE_NOT_ALLOWED,
        &["section must not be NULL"],
    );
    for _ in 0..2 {
        m.fails("CALL dm_sync('broken', '1001', '2026-01-10', '2026-01-10')")
            .await;
    }
    m.exec("CALL dm_sync('broken', '1001', '2026-01-10', '2026-01-10')")
        .await; // banned again: skipped
    assert_eq!(
        m.text("SELECT status FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .as_deref(),
        Some("skipped")
    );
    let w = m
        .client
        .query("SELECT section, action, detail FROM dm_watchdog()", &[])
        .await
        .unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].get::<_, String>(0), w[0].get::<_, String>(1)),
        ("broken".to_string(), "banned".to_string())
    );
    // Other sections are not affected; a shorter ban has expired.
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    m.exec("SET pg_datamart.ban_duration = 0").await;
    let e = m
        .fails("CALL dm_sync('broken', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        e.code(),
        &SqlState::UNDEFINED_TABLE,
        "runs again once the ban is over"
    );
}

/// A run row naming a backend that does not run it (stale, or forged by whoever could write
/// dm.run) is never acted on: the watchdog reports it `unverified` and the backend lives on.
#[tokio::test]
async fn the_watchdog_never_cancels_a_backend_that_does_not_run_the_run() {
    let ctx = setup("it_wdforge").await;
    let m = &ctx.mart;
    m.exec(
        "SELECT dm_add_section('forged', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('forged', 'fb_ad_dm');",
    )
    .await;
    // An unrelated session, busy with its own work.
    let victim = Session::connect(&ctx.mart_db).await;
    let pid: i32 = victim
        .client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let work = tokio::spawn(async move {
        let r = victim.client.batch_execute("SELECT pg_sleep(4)").await;
        r.map_err(|e| e.to_string())
    });
    wait_until(
        m,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = {pid} AND state = 'active')"
        ),
        5,
    )
    .await;
    // A 1 ms successful run, then a "running" one, started after the victim's backend (so it
    // is not reconciled away), that has soon lasted far more than 5x that.
    m.exec(&format!(
        "INSERT INTO dm.run (section, accounts, start_date, end_date, mode, status, started_at, finished_at, pid)
         VALUES ('forged', '{{1001}}', '2026-01-10', '2026-01-10', 'delete_insert', 'succeeded', now() - interval '1 hour', now() - interval '1 hour' + interval '1 millisecond', {pid});
         INSERT INTO dm.run (section, accounts, start_date, end_date, mode, status, pid)
         VALUES ('forged', '{{1001}}', '2026-01-10', '2026-01-10', 'delete_insert', 'running', {pid});
         SET pg_datamart.watchdog_min_duration = 0;"
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows = m
        .client
        .query(
            "SELECT action, detail FROM dm_watchdog() WHERE section = 'forged'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one action for the long run");
    let (action, detail): (String, String) = (rows[0].get(0), rows[0].get(1));
    assert_eq!(action, "unverified", "{detail}");
    assert!(
        detail.contains(&format!("backend {pid} is not running run")),
        "{detail}"
    );
    assert_eq!(
        work.await.unwrap(),
        Ok(()),
        "the unrelated backend was not cancelled"
    );
}

/// A sync cancelled while it waits for its advisory locks releases those it already took: the
/// session lives on holding none, and a later sync of the same accounts runs.
#[tokio::test]
async fn a_sync_cancelled_while_waiting_for_its_locks_leaves_none_behind() {
    let ctx = setup("it_lock_cancel").await;
    slow_section(&ctx, 3.0).await;
    let m = &ctx.mart;
    let a = spawn_call(
        Session::connect(&ctx.mart_db).await,
        "CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-12')".into(),
    );
    wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE run_id = 1 AND status = 'running')",
        10,
    )
    .await;
    let b = std::sync::Arc::new(Session::connect(&ctx.mart_db).await);
    b.exec("SET pg_datamart.lock_wait = '30s'").await;
    let b_pid = b.i64("SELECT pg_backend_pid()::bigint").await;
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move {
            b.client
                .batch_execute("CALL dm_sync('slow', '1003,1001', '2026-01-10', '2026-01-12')")
                .await
                .map_err(|e| e.as_db_error().map(|d| d.code().clone()))
        })
    };
    // b holds some of its locks and waits (pg_datamart's wait between attempts) for 1001's.
    wait_until(
        m,
        &format!(
            "SELECT (SELECT count(*) >= 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = {b_pid})
                AND (SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = {b_pid})
                AND EXISTS (SELECT 1 FROM dm.run WHERE pid = {b_pid} AND status = 'running')"
        ),
        10,
    )
    .await;
    m.exec(&format!("SELECT pg_cancel_backend({b_pid})")).await;
    let r = waiting.await.unwrap();
    assert_eq!(r, Err(Some(SqlState::QUERY_CANCELED)));
    assert_eq!(
        b.i64(&format!(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = {b_pid}"
        ))
        .await,
        0,
        "the cancelled sync's session still holds advisory locks"
    );
    // Its run says it was cancelled while waiting (not left running, nor "failed" later).
    let r = m
        .client
        .query_one(
            &format!(
                "SELECT status, error FROM dm.run WHERE pid = {b_pid} ORDER BY run_id DESC LIMIT 1"
            ),
            &[],
        )
        .await
        .unwrap();
    let (status, error): (String, String) = (r.get(0), r.get(1));
    assert_eq!(status, "cancelled", "{status}: {error}");
    assert!(
        error.contains("was cancelled before its first table (nothing was loaded)")
            && error.contains("while waiting for the run's advisory locks"),
        "{error}"
    );
    a.await.unwrap().0.unwrap();
    // Another session syncs 1003 without finding it busy.
    m.exec("SET pg_datamart.lock_wait = 0").await;
    m.exec("CALL dm_sync('slow', '1003', '2026-01-10', '2026-01-12')")
        .await;
    assert_eq!(
        m.text("SELECT status FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .as_deref(),
        Some("succeeded")
    );
}

/// A mart table locked by another session before the sync starts does not hang it unseen: the
/// run is recorded before anything waits, its step says it waits and for whom while it does,
/// and after pg_datamart.lock_timeout the sync fails with 55P03 naming the table and the
/// holder, recorded as the run's failure (nothing loaded).
#[tokio::test]
async fn a_table_locked_before_the_run_ends_the_wait_naming_the_holder() {
    let ctx = setup("it_locked_before").await;
    let m = &ctx.mart;
    let holder = Session::connect(&ctx.mart_db).await;
    let holder_pid = holder.i64("SELECT pg_backend_pid()::bigint").await;
    holder
        .exec("BEGIN; LOCK TABLE fb_campaign_dm_p202601 IN ACCESS EXCLUSIVE MODE")
        .await;
    let syncing = Session::connect(&ctx.mart_db).await;
    syncing.exec("SET pg_datamart.lock_timeout = 4000").await;
    let call = spawn_call(
        syncing,
        "CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12')".into(),
    );
    // While it waits: a running run, its step saying for whom.
    wait_until(
        m,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM dm.run r JOIN dm.run_step s USING (run_id)
                             WHERE r.status = 'running' AND s.note LIKE '%waiting for pid {holder_pid}, which holds a lock on mart table public.fb_campaign_dm%')"
        ),
        10,
    )
    .await;
    assert_eq!(
        m.text("SELECT status FROM dm_status WHERE section = 'fb' AND status = 'running'")
            .await
            .as_deref(),
        Some("running"),
        "dm_status shows the waiting run"
    );
    let (r, waited) = call.await.unwrap();
    let e = r.unwrap_err();
    for part in [
        "55P03",
        "mart table public.fb_campaign_dm is locked by another session",
        "pg_datamart.lock_timeout = 4000 ms",
        &format!("pid {holder_pid} (AccessExclusiveLock on public.fb_campaign_dm_p202601"),
    ] {
        assert!(e.contains(part), "{part:?} not in {e}");
    }
    assert!(waited < 12.0, "gave up after {waited} s");
    let (status, error) = {
        let r = m
            .client
            .query_one(
                "SELECT status, error FROM dm.run ORDER BY run_id DESC LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        (r.get::<_, String>(0), r.get::<_, String>(1))
    };
    assert_eq!(status, "failed");
    assert!(
        error.contains("nothing was loaded")
            && error.contains(&format!("pid {holder_pid}"))
            && error.contains("public.fb_campaign_dm"),
        "{error}"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run_step WHERE run_id = (SELECT max(run_id) FROM dm.run) AND status <> 'pending'")
            .await,
        0,
        "no table was started"
    );
    holder.exec("ROLLBACK").await;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12')")
        .await;
}

/// Creating a month's partition never waits for, nor queues, the table's readers: it is
/// attached (SHARE UPDATE EXCLUSIVE), not created as PARTITION OF (ACCESS EXCLUSIVE), so a sync
/// that needs a new month runs while a long read of the table is open, and a read started
/// meanwhile is not held up. A window reaching this month also gets next month's partition
/// ahead of time.
#[tokio::test]
async fn partition_creation_waits_for_no_reader_and_next_month_comes_ahead() {
    let ctx = setup("it_attach").await;
    let m = &ctx.mart;
    // No DEFAULT partition (attaching next to one scans it under ACCESS EXCLUSIVE).
    m.exec(
        "CREATE TABLE fb_att_dm (LIKE fb_campaign_dm INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY,
                                 PRIMARY KEY (account_id, campaign_id, collected_at)) PARTITION BY RANGE (collected_at);
         CREATE TABLE fb_att_dm_p202601 PARTITION OF fb_att_dm FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
         SELECT dm_add_section('att', 'account_id', 'fb_account_dm', 7);
         SELECT dm_add_table('att', 'fb_att_dm', 'fb_campaign');",
    )
    .await;
    m.exec("CALL dm_sync('att', '1001', '2026-01-10', '2026-01-12')")
        .await;
    let reader = Session::connect(&ctx.mart_db).await;
    reader.exec("BEGIN; SELECT count(*) FROM fb_att_dm").await;
    let syncing = Session::connect(&ctx.mart_db).await;
    syncing.exec("SET pg_datamart.lock_timeout = 3000").await;
    let t = Instant::now();
    syncing
        .exec("CALL dm_sync('att', '1001', '2025-11-20', '2026-01-12')")
        .await;
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "the sync waited for the reader"
    );
    assert_eq!(
        m.i64(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'fb_att_dm'::regclass
                 AND inhrelid IN ('fb_att_dm_p202511'::regclass, 'fb_att_dm_p202512'::regclass)"
        )
        .await,
        2
    );
    // A new reader is not queued behind anything either.
    m.exec("SET lock_timeout = 1000; SELECT count(*) FROM fb_att_dm; RESET lock_timeout")
        .await;
    reader.exec("COMMIT").await;
    assert_eq!(
        m.text("SELECT status FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .as_deref(),
        Some("succeeded")
    );
    // The attached partitions carry the section's storage parameters and the parent's indexes.
    assert_eq!(
        m.text("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'fb_att_dm_p202511'::regclass")
            .await
            .as_deref(),
        Some("autovacuum_vacuum_scale_factor=0,autovacuum_vacuum_threshold=200000,autovacuum_analyze_scale_factor=0")
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM pg_index WHERE indrelid = 'fb_att_dm_p202511'::regclass")
            .await,
        m.i64("SELECT count(*) FROM pg_index WHERE indrelid = 'fb_att_dm_p202601'::regclass")
            .await,
    );
    // A window reaching today's month: next month's partition is there before it is needed.
    m.exec("CALL dm_sync('att', '1001')").await;
    let next_month = m
        .text("SELECT to_char(date_trunc('month', now() AT TIME ZONE COALESCE(NULLIF(current_setting('pg_datamart.timezone'), ''), current_setting('TimeZone'))) + interval '1 month', 'YYYYMM')")
        .await
        .unwrap();
    assert_eq!(
        m.i64(&format!(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'fb_att_dm'::regclass AND inhrelid = 'fb_att_dm_p{next_month}'::regclass"
        ))
        .await,
        1,
        "next month's partition was not created ahead"
    );
}

/// The automatic warehouse statement_timeout comes from the table's own history (scaled by the
/// request's accounts x days), and when it fires the error names the table and the setting,
/// and the step records that cause, not "user request".
#[tokio::test]
async fn the_automatic_warehouse_timeout_comes_from_the_tables_history_and_says_so() {
    let ctx = setup("it_remote_timeout").await;
    slow_section(&ctx, 0.0).await;
    let m = &ctx.mart;
    m.exec(
        "SET pg_datamart.remote_statement_timeout = 0; SET pg_datamart.watchdog_kill_factor = 1;
         SET pg_datamart.watchdog_min_duration = 1",
    )
    .await;
    // No history yet: no timeout; then a one-account day sets a history ...
    m.exec("CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-10')")
        .await;
    // ... which does not cap a larger request (scaled by accounts x days).
    m.exec("CALL dm_sync('slow', '0', '2026-01-08', '2026-01-12')")
        .await;
    ctx.wh.exec("UPDATE sleep_conf SET secs = 4").await;
    let e = m
        .fails("CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::QUERY_CANCELED,
        &[
            "the warehouse cancelled the query of table public.fb_ad_dm",
            "pg_datamart.remote_statement_timeout",
            "SET statement_timeout = 1000",
            "pg_datamart.watchdog_min_duration = 1 s",
        ],
    );
    let r = m
        .client
        .query_one(
            "SELECT r.status, s.status, s.error, s.sqlstate FROM dm.run r JOIN dm.run_step s USING (run_id)
              WHERE s.position = 2 ORDER BY r.run_id DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (run, step, error, state): (String, String, String, String) =
        (r.get(0), r.get(1), r.get(2), r.get(3));
    assert_eq!(
        (run.as_str(), step.as_str(), state.as_str()),
        ("cancelled", "cancelled", "57014")
    );
    assert!(
        error.contains("the warehouse cancelled the query of table public.fb_ad_dm")
            && error.contains("statement timeout")
            && !error.contains("user request"),
        "{error}"
    );
}

/// Two syncs of disjoint accounts that need the same new month do not both create it: the
/// second waits (its step saying for whom) until the first's table commits, then finds the
/// partition attached and loads into it.
#[tokio::test]
async fn concurrent_syncs_needing_the_same_new_month_create_it_once() {
    let ctx = setup("it_attach_race").await;
    ctx.wh
        .exec(
            "CREATE VIEW fb_campaign_slow AS WITH s AS MATERIALIZED (SELECT pg_sleep(2))
             SELECT f.* FROM fb_campaign f, s",
        )
        .await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE fb_race_dm (LIKE fb_campaign_dm INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY,
                                  PRIMARY KEY (account_id, campaign_id, collected_at)) PARTITION BY RANGE (collected_at);
         CREATE TABLE fb_race_dm_p202601 PARTITION OF fb_race_dm FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')
             WITH (autovacuum_vacuum_scale_factor=0, autovacuum_vacuum_threshold=200000, autovacuum_analyze_scale_factor=0);
         SELECT dm_add_section('race', 'account_id', 'fb_account_dm', 7);
         SELECT dm_add_table('race', 'fb_race_dm', 'fb_campaign_slow');",
    )
    .await;
    let call = |acct: &str| format!("CALL dm_sync('race', '{acct}', '2025-12-20', '2026-01-12')");
    let a = spawn_call(Session::connect(&ctx.mart_db).await, call("1001"));
    wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE status = 'running')",
        10,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = spawn_call(Session::connect(&ctx.mart_db).await, call("1002"));
    let (ra, _) = a.await.unwrap();
    let (rb, _) = b.await.unwrap();
    ra.unwrap();
    rb.unwrap();
    assert_eq!(
        m.i64("SELECT count(*) FROM pg_inherits WHERE inhparent = 'fb_race_dm'::regclass")
            .await,
        2
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE section = 'race' AND status = 'succeeded'")
            .await,
        2
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run_step WHERE note LIKE '%which is creating partition \"public\".\"fb_race_dm_p202512\"%'")
            .await,
        1,
        "the second sync says for whom it waited"
    );
    let wh = ctx
        .wh
        .checksum(
            "SELECT account_id, campaign_id, collected_at FROM fb_campaign
              WHERE account_id IN ('1001', '1002') AND collected_at BETWEEN '2025-12-20' AND '2026-01-12'",
        )
        .await;
    assert!(wh.0 > 0);
    assert_eq!(
        m.checksum("SELECT account_id, campaign_id, collected_at FROM fb_race_dm")
            .await,
        wh
    );
}
