//! Faults between and around syncs that the other suites do not inject, each checked against
//! the per-table-commit promise: the tables before the failing one are committed and equal the
//! warehouse, the failing table and those after it are exactly as they were (checksums), the
//! run and step rows say what happened, the error has a SQLSTATE to branch on and names the
//! table, and a `dm_resume` (or rerun) after the cause is fixed restores the warehouse's content.
//!
//! - the warehouse's schema drifts between two syncs: a column dropped, renamed, retyped to
//!   text holding a value the mart column cannot take, widened past the mart column's range;
//! - the warehouse server is down before the sync starts (connection refused);
//! - the mart server itself crashes (`pg_ctl stop -m immediate`) while a table is loading.
//!
//! The last two start clusters of their own with `.ci/pg.sh` (the binaries of `PG_BIN`, ports
//! `DM_IT_WH2_PORT` and `DM_IT_MART2_PORT`, by default the test server's port + 50 and + 52).

use pg_datamart_it::{assert_error, port, setup, wait_until, Session};
use tokio_postgres::error::SqlState;

const FB_CAMPAIGN: &str =
    "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at";
const FB_AD: &str =
    "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at";

const ACCOUNTS: &str = "1001,1002";
const WINDOW: &str =
    "collected_at BETWEEN '2026-01-10' AND '2026-01-14' AND account_id IN ('1001', '1002')";

fn sync_call(section: &str, mode: &str) -> String {
    format!("CALL dm_sync('{section}', '{ACCOUNTS}', '2026-01-10', '2026-01-14', '{mode}')")
}

/// The warehouse's rows of the window for `table` (columns `cols`).
async fn wh_rows(wh: &Session, table: &str, cols: &str) -> (i64, String) {
    wh.checksum(&format!("SELECT {cols} FROM {table} WHERE {WINDOW}"))
        .await
}

/// Every row of mart table `table` (columns `cols`): the tests load only the window.
async fn mart_rows(mart: &Session, table: &str, cols: &str) -> (i64, String) {
    mart.checksum(&format!("SELECT {cols} FROM {table}")).await
}

/// Asserts that mart tables fb_campaign_dm and fb_ad_dm (those named in `tables`) hold exactly
/// the warehouse's rows of the window.
async fn assert_equal_to_warehouse(wh: &Session, mart: &Session, tables: &[&str], when: &str) {
    for t in tables {
        let (remote, cols) = match *t {
            "fb_campaign_dm" => ("fb_campaign", FB_CAMPAIGN),
            "fb_ad_dm" => ("fb_ad", FB_AD),
            "fb_ad_copy_dm" => ("fb_ad", FB_AD),
            other => panic!("no warehouse table for {other}"),
        };
        let w = wh_rows(wh, remote, cols).await;
        assert!(w.0 > 0, "{when}: the warehouse has rows for {t}");
        assert_eq!(
            mart_rows(mart, t, cols).await,
            w,
            "{when}: mart table {t} equals the warehouse"
        );
    }
}

/// (run_id, status, error, resumed_from) of the latest run of `section`.
async fn latest_run(s: &Session, section: &str) -> (i64, String, String, Option<i64>) {
    let r = s
        .client
        .query_one(
            "SELECT run_id, status, COALESCE(error, ''), resumed_from FROM dm.run WHERE section = $1 ORDER BY run_id DESC LIMIT 1",
            &[&section],
        )
        .await
        .expect("the run is recorded");
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// (position, status, sqlstate, error) of each step of run `run_id`.
async fn steps(s: &Session, run_id: i64) -> Vec<(i32, String, String, String)> {
    s.client
        .query(
            "SELECT position::int4, status, COALESCE(sqlstate, ''), COALESCE(error, '') FROM dm.run_step WHERE run_id = $1 ORDER BY position",
            &[&run_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

/// The statuses of the steps of run `run_id`, in order.
async fn step_statuses(s: &Session, run_id: i64) -> Vec<(i32, String)> {
    steps(s, run_id)
        .await
        .into_iter()
        .map(|(p, st, ..)| (p, st))
        .collect()
}

async fn advisory_locks(s: &Session) -> i64 {
    s.i64("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        .await
}

// ---------------------------------------------------------------------------------------------
// a. Schema drift on the warehouse between syncs

/// One kind of drift of warehouse table fb_ad (table 2 of section fb).
struct Drift {
    name: &'static str,
    /// Run on the warehouse after a clean sync (with a change of table 1's rows).
    break_sql: &'static str,
    code: SqlState,
    /// What the error of the CALL names, besides the mart table.
    parts: &'static [&'static str],
    /// Run on the warehouse before `dm_resume`.
    fix_sql: &'static str,
}

/// Section fb (fb_campaign_dm, then fb_ad_dm) in `mode`: a clean sync; then the warehouse
/// changes rows of both tables and drifts table 2. The sync fails on table 2 with the drift's
/// SQLSTATE; table 1 is committed and equals the warehouse, table 2 is unchanged, the run and
/// the steps say so. After the fix, `dm_resume` loads table 2 only and both equal the warehouse.
async fn drift_case(d: &Drift, mode: &str) {
    let short = if mode == "upsert" { "up" } else { "di" };
    let ctx = setup(&format!("drift_{}_{short}", d.name)).await;
    let (wh, m) = (&ctx.wh, &ctx.mart);
    // upsert needs a key on fb_ad_dm (the fixture has none).
    m.exec("ALTER TABLE fb_ad_dm ADD PRIMARY KEY (account_id, ad_id, collected_at)")
        .await;
    m.exec(&sync_call("fb", mode)).await;
    assert_equal_to_warehouse(
        wh,
        m,
        &["fb_campaign_dm", "fb_ad_dm"],
        "after the clean sync",
    )
    .await;
    let (clean_run, ..) = latest_run(m, "fb").await;

    // New warehouse content for both tables, then the drift of table 2.
    wh.exec(
        "UPDATE fb_campaign SET name = name || ' v2', daily_budget = daily_budget + 1 WHERE collected_at = '2026-01-11';
         UPDATE fb_ad SET ratio = ratio + 1, \"user\" = \"user\" || ' v2' WHERE collected_at = '2026-01-12';",
    )
    .await;
    wh.exec(d.break_sql).await;
    let table1_before = mart_rows(m, "fb_campaign_dm", FB_CAMPAIGN).await;
    let table2_before = m.checksum("SELECT * FROM fb_ad_dm").await;

    let e = m.fails(&sync_call("fb", mode)).await;
    let mut parts = vec!["public.fb_ad_dm", "(2 of 2)"];
    parts.extend_from_slice(d.parts);
    assert_error(&e, d.code.clone(), &parts);
    let (run_id, status, run_error, _) = latest_run(m, "fb").await;
    assert!(run_id > clean_run, "{}/{mode}: a new run", d.name);
    assert_eq!(status, "failed", "{}/{mode}: the run", d.name);
    assert!(
        run_error.contains("public.fb_ad_dm (2 of 2)"),
        "{}/{mode}: the run's error names the table: {run_error}",
        d.name
    );
    let st = steps(m, run_id).await;
    assert_eq!(st.len(), 2, "{st:?}");
    assert_eq!(
        (st[0].0, st[0].1.as_str()),
        (1, "succeeded"),
        "{}/{mode}: {st:?}",
        d.name
    );
    assert_eq!(
        (st[1].0, st[1].1.as_str(), st[1].2.as_str()),
        (2, "failed", d.code.code()),
        "{}/{mode}: {st:?}",
        d.name
    );
    for p in std::iter::once(&"public.fb_ad_dm").chain(d.parts) {
        assert!(
            st[1].3.contains(p),
            "{}/{mode}: step 2's error {:?} names {p:?}",
            d.name,
            st[1].3
        );
        assert!(
            run_error.contains(p),
            "{}/{mode}: the run's error {run_error:?} names {p:?}",
            d.name
        );
    }
    // Table 1 committed the warehouse's new content; table 2 is exactly as it was.
    assert_ne!(
        mart_rows(m, "fb_campaign_dm", FB_CAMPAIGN).await,
        table1_before,
        "table 1 took the warehouse's change"
    );
    assert_equal_to_warehouse(wh, m, &["fb_campaign_dm"], "after the failed sync").await;
    assert_eq!(
        m.checksum("SELECT * FROM fb_ad_dm").await,
        table2_before,
        "{}/{mode}: table 2 is unchanged by the failed sync",
        d.name
    );
    assert_eq!(advisory_locks(m).await, 0, "no lock is left behind");

    // The warehouse is fixed: the resumed run loads table 2 only, and both equal the warehouse.
    wh.exec(d.fix_sql).await;
    let loaded_at = m
        .text("SELECT max(created_at)::text FROM fb_campaign_dm")
        .await;
    m.exec(&format!("CALL dm_resume({run_id})")).await;
    let (resumed, status, _, from) = latest_run(m, "fb").await;
    assert_eq!(
        (status.as_str(), from),
        ("succeeded", Some(run_id)),
        "{}/{mode}: the resumed run",
        d.name
    );
    assert_eq!(
        step_statuses(m, resumed).await,
        vec![(2, "succeeded".to_string())],
        "{}/{mode}: only table 2 is reloaded",
        d.name
    );
    assert_eq!(
        m.text("SELECT max(created_at)::text FROM fb_campaign_dm")
            .await,
        loaded_at,
        "table 1 is not reloaded"
    );
    assert_ne!(
        m.checksum("SELECT * FROM fb_ad_dm").await,
        table2_before,
        "table 2 took the warehouse's change"
    );
    assert_equal_to_warehouse(wh, m, &["fb_campaign_dm", "fb_ad_dm"], "after dm_resume").await;
}

const DROPPED: Drift = Drift {
    name: "dropped",
    break_sql: "ALTER TABLE fb_ad DROP COLUMN tag",
    code: SqlState::UNDEFINED_COLUMN,
    parts: &["tag"],
    fix_sql: "ALTER TABLE fb_ad ADD COLUMN tag text; UPDATE fb_ad SET tag = 'restored ' || ad_id",
};

const RENAMED: Drift = Drift {
    name: "renamed",
    break_sql: "ALTER TABLE fb_ad RENAME COLUMN \"user\" TO user_name",
    code: SqlState::UNDEFINED_COLUMN,
    parts: &["user"],
    fix_sql: "ALTER TABLE fb_ad RENAME COLUMN user_name TO \"user\"",
};

/// The mart's "order" is integer; the warehouse's becomes text, one row of the window "n/a".
const RETYPED: Drift = Drift {
    name: "retyped",
    break_sql: "ALTER TABLE fb_ad ALTER COLUMN \"order\" TYPE text;
                UPDATE fb_ad SET \"order\" = 'n/a' WHERE account_id = '1002' AND ad_id = '100202' AND collected_at = '2026-01-13'",
    code: SqlState::INVALID_TEXT_REPRESENTATION,
    parts: &["order", "n/a"],
    // The value is fixed; the column stays text, which the integer column reads.
    fix_sql: "UPDATE fb_ad SET \"order\" = '2' WHERE \"order\" = 'n/a'",
};

/// The warehouse's "order" becomes bigint, one row of the window past integer's range.
const WIDENED: Drift = Drift {
    name: "widened",
    break_sql: "ALTER TABLE fb_ad ALTER COLUMN \"order\" TYPE bigint;
                UPDATE fb_ad SET \"order\" = 9876543210 WHERE account_id = '1001' AND ad_id = '100101' AND collected_at = '2026-01-14'",
    code: SqlState::NUMERIC_VALUE_OUT_OF_RANGE,
    parts: &["order", "9876543210"],
    fix_sql: "UPDATE fb_ad SET \"order\" = 1 WHERE \"order\" = 9876543210",
};

#[tokio::test]
async fn a_dropped_warehouse_column_fails_table_2_only_and_resume_restores_it() {
    drift_case(&DROPPED, "delete_insert").await;
    drift_case(&DROPPED, "upsert").await;
}

#[tokio::test]
async fn a_renamed_warehouse_column_fails_table_2_only_and_resume_restores_it() {
    drift_case(&RENAMED, "delete_insert").await;
    drift_case(&RENAMED, "upsert").await;
}

#[tokio::test]
async fn a_retyped_warehouse_column_with_a_bad_value_fails_table_2_only_and_resume_restores_it() {
    drift_case(&RETYPED, "delete_insert").await;
    drift_case(&RETYPED, "upsert").await;
}

#[tokio::test]
async fn a_widened_warehouse_column_out_of_range_fails_table_2_only_and_resume_restores_it() {
    drift_case(&WIDENED, "delete_insert").await;
    drift_case(&WIDENED, "upsert").await;
}

/// A column added on the warehouse is not fetched (the mart's catalog decides), so it is no
/// drift at all: the next sync succeeds and the mart still equals the warehouse.
#[tokio::test]
async fn an_added_warehouse_column_is_ignored() {
    let ctx = setup("drift_added").await;
    let (wh, m) = (&ctx.wh, &ctx.mart);
    m.exec(&sync_call("fb", "delete_insert")).await;
    wh.exec(
        "ALTER TABLE fb_ad ADD COLUMN extra text DEFAULT 'x';
         ALTER TABLE fb_campaign ADD COLUMN \"weird.name\" int DEFAULT 1;
         UPDATE fb_ad SET tag = 'changed' WHERE collected_at = '2026-01-13';",
    )
    .await;
    m.exec(&sync_call("fb", "delete_insert")).await;
    let (_, status, ..) = latest_run(m, "fb").await;
    assert_eq!(status, "succeeded");
    assert_equal_to_warehouse(wh, m, &["fb_campaign_dm", "fb_ad_dm"], "after the sync").await;
}

// ---------------------------------------------------------------------------------------------
// Clusters of our own

/// A PostgreSQL cluster of this test file (`.ci/pg.sh`, the binaries of `PG_BIN`), stopped
/// (immediately) when dropped.
struct Cluster {
    name: String,
    port: u16,
}

fn pg_sh(args: &[&str], fresh: bool) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/pg.sh"))
        .args(args)
        .env("PG_FRESH", if fresh { "1" } else { "0" })
        .env_remove("PG_HBA_PREPEND")
        .output()
        .expect("run .ci/pg.sh")
}

impl Cluster {
    /// A fresh cluster `<prefix>-<port>` on port `$env_var`, else the test server's port +
    /// `offset`.
    fn start(prefix: &str, env_var: &str, offset: u16) -> Cluster {
        let port = std::env::var(env_var)
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| port().parse::<u16>().unwrap() + offset);
        let c = Cluster {
            name: format!("{prefix}-{port}"),
            port,
        };
        c.run(&["start", &c.name, &port.to_string()], true);
        c
    }

    fn run(&self, args: &[&str], fresh: bool) {
        let out = pg_sh(args, fresh);
        assert!(
            out.status.success(),
            "pg.sh {args:?} (cluster {} on port {}): {}",
            self.name,
            self.port,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self, mode: &str) {
        self.run(&["stop", &self.name, mode], false);
    }

    /// Starts the stopped cluster again, keeping its data (crash recovery after `immediate`).
    fn restart(&self) {
        self.run(&["start", &self.name, &self.port.to_string()], false);
    }

    fn dsn(&self, db: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={db}",
            self.port
        )
    }

    async fn connect(&self, db: &str) -> Session {
        Session::connect_dsn(&self.dsn(db))
            .await
            .unwrap_or_else(|e| panic!("connect to {db} on cluster {}: {e}", self.name))
    }

    /// Creates database `db` from `sql`.
    async fn database(&self, db: &str, sql: &str) -> Session {
        self.connect("postgres")
            .await
            .exec(&format!("CREATE DATABASE {db}"))
            .await;
        let s = self.connect(db).await;
        s.exec(sql).await;
        s
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg_sh(&["stop", &self.name, "immediate"], false);
    }
}

// ---------------------------------------------------------------------------------------------
// b. The warehouse server is down before the sync starts

#[tokio::test]
async fn a_warehouse_server_down_before_the_sync_fails_at_once_and_changes_nothing() {
    let wh2 = Cluster::start("drift-wh", "DM_IT_WH2_PORT", 50);
    let wh = wh2
        .database("drift_down_wh2", include_str!("../fixtures/warehouse.sql"))
        .await;
    let ctx = setup("drift_down").await;
    let m = &ctx.mart;
    m.exec(&format!(
        "CREATE SERVER wh2 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '{}', dbname 'drift_down_wh2');
         CREATE USER MAPPING FOR CURRENT_USER SERVER wh2 OPTIONS (user 'postgres');
         SELECT dm_add_section('fb2', 'account_id', 'fb_account_dm', server => 'wh2');
         SELECT dm_add_table('fb2', 'fb_campaign_dm', 'fb_campaign');
         SELECT dm_add_table('fb2', 'fb_ad_dm', 'fb_ad');",
        wh2.port
    ))
    .await;
    m.exec(&sync_call("fb2", "delete_insert")).await;
    assert_equal_to_warehouse(
        &wh,
        m,
        &["fb_campaign_dm", "fb_ad_dm"],
        "after the clean sync",
    )
    .await;
    wh.exec(
        "UPDATE fb_campaign SET name = 'moved on' WHERE collected_at = '2026-01-11';
         UPDATE fb_ad SET tag = 'moved on' WHERE collected_at = '2026-01-12';",
    )
    .await;
    drop(wh);
    wh2.stop("fast");
    let before = (
        m.checksum("SELECT * FROM fb_campaign_dm").await,
        m.checksum("SELECT * FROM fb_ad_dm").await,
    );

    let e = m.fails(&sync_call("fb2", "delete_insert")).await;
    assert_error(
        &e,
        SqlState::SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
        &["public.fb_campaign_dm", "(1 of 2)", "\"wh2\""],
    );
    assert!(
        e.message().contains("Connection refused") || e.message().contains("connection refused"),
        "the error says why: {}",
        e.message()
    );
    assert_eq!(
        (
            m.checksum("SELECT * FROM fb_campaign_dm").await,
            m.checksum("SELECT * FROM fb_ad_dm").await,
        ),
        before,
        "no table changed"
    );
    let (run_id, status, run_error, _) = latest_run(m, "fb2").await;
    assert_eq!(status, "failed");
    assert!(
        run_error.contains("public.fb_campaign_dm (1 of 2)") && run_error.contains("\"wh2\""),
        "{run_error}"
    );
    let st = steps(m, run_id).await;
    assert_eq!(
        st.iter()
            .map(|(p, s, c, _)| (*p, s.as_str(), c.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "failed", "08001"), (2, "pending", "")],
        "{st:?}"
    );
    assert!(st[0].3.contains("\"wh2\""), "{st:?}");
    let shown = m
        .text("SELECT status || ': ' || last_error FROM dm_status WHERE section = 'fb2'")
        .await
        .unwrap_or_default();
    assert!(
        shown.starts_with("failed: ") && shown.contains("public.fb_campaign_dm"),
        "dm_status: {shown}"
    );
    assert_eq!(advisory_locks(m).await, 0);

    // The warehouse is back: the resumed run loads both tables.
    wh2.restart();
    let wh = wh2.connect("drift_down_wh2").await;
    m.exec(&format!("CALL dm_resume({run_id})")).await;
    let (resumed, status, _, from) = latest_run(m, "fb2").await;
    assert_eq!((status.as_str(), from), ("succeeded", Some(run_id)));
    assert_eq!(
        step_statuses(m, resumed).await,
        vec![(1, "succeeded".into()), (2, "succeeded".into())]
    );
    assert_equal_to_warehouse(&wh, m, &["fb_campaign_dm", "fb_ad_dm"], "after dm_resume").await;
}

// ---------------------------------------------------------------------------------------------
// c. The mart server crashes mid-table

#[tokio::test]
async fn a_mart_crash_mid_table_leaves_a_failed_run_and_committed_tables_and_resume_converges() {
    // The warehouse on the test server; the mart on a cluster of its own, which crashes.
    let ctx = setup("drift_crash").await;
    let wh = &ctx.wh;
    wh.exec(
        "CREATE TABLE sleep_conf (secs float8); INSERT INTO sleep_conf VALUES (0);
         CREATE VIEW fb_ad_slow AS WITH s AS MATERIALIZED (SELECT pg_sleep((SELECT secs FROM sleep_conf)))
         SELECT f.* FROM fb_ad f, s;",
    )
    .await;
    let mart2 = Cluster::start("drift-mart", "DM_IT_MART2_PORT", 52);
    let fixture = include_str!("../fixtures/mart.sql")
        .replace("{{WH_PORT}}", &port())
        .replace("{{WH_DB}}", "drift_crash_wh");
    let m = mart2
        .database(
            "mart",
            &format!("CREATE EXTENSION pg_datamart CASCADE; {fixture}"),
        )
        .await;
    m.exec(
        "CREATE TABLE fb_ad_copy_dm (LIKE fb_ad_dm);
         SELECT dm_add_section('crash', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('crash', 'fb_campaign_dm', 'fb_campaign');
         SELECT dm_add_table('crash', 'fb_ad_dm', 'fb_ad_slow');
         SELECT dm_add_table('crash', 'fb_ad_copy_dm', 'fb_ad');",
    )
    .await;
    let all = ["fb_campaign_dm", "fb_ad_dm", "fb_ad_copy_dm"];
    m.exec(&sync_call("crash", "delete_insert")).await;
    assert_equal_to_warehouse(wh, &m, &all, "after the clean sync").await;

    wh.exec(
        "UPDATE fb_campaign SET name = 'after crash' WHERE collected_at = '2026-01-11';
         UPDATE fb_ad SET tag = 'after crash' WHERE collected_at = '2026-01-12';
         UPDATE sleep_conf SET secs = 20;",
    )
    .await;
    let before2 = m.checksum("SELECT * FROM fb_ad_dm").await;
    let before3 = m.checksum("SELECT * FROM fb_ad_copy_dm").await;
    let syncer = mart2.connect("mart").await;
    let call = sync_call("crash", "delete_insert");
    let sync = tokio::spawn(async move { syncer.client.batch_execute(&call).await });
    wait_until(
        &m,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step s JOIN dm.run r USING (run_id)
                         WHERE r.status = 'running' AND s.position = 2 AND s.status = 'running')",
        20,
    )
    .await;
    let (run_id, ..) = latest_run(&m, "crash").await;
    drop(m);
    let crashed = tokio::task::spawn_blocking(move || {
        mart2.stop("immediate");
        mart2
    })
    .await
    .unwrap();
    let r = sync.await.unwrap();
    assert!(r.is_err(), "the CALL's session died with the server");
    crashed.restart();
    let m = crashed.connect("mart").await;

    // The status rows survived the crash; the first read of dm_status reconciles the run.
    let row = m
        .client
        .query_one(
            "SELECT run_id, status, COALESCE(last_error, '') FROM dm_status WHERE section = 'crash'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), run_id);
    assert_eq!(
        row.get::<_, String>(1),
        "failed",
        "dm_status after the crash"
    );
    assert!(
        row.get::<_, String>(2)
            .contains("is no longer running this sync"),
        "{}",
        row.get::<_, String>(2)
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE status = 'running'")
            .await,
        0
    );
    let (_, status, ..) = latest_run(&m, "crash").await;
    assert_eq!(status, "failed");
    let st = steps(&m, run_id).await;
    assert_eq!(
        st.iter()
            .map(|(p, s, ..)| (*p, s.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "succeeded"), (2, "failed"), (3, "pending")],
        "{st:?}"
    );
    assert!(st[1].3.contains("rolled back"), "{st:?}");
    assert_equal_to_warehouse(wh, &m, &["fb_campaign_dm"], "table 1 after the crash").await;
    assert_eq!(
        m.checksum("SELECT * FROM fb_ad_dm").await,
        before2,
        "the interrupted table is unchanged"
    );
    assert_eq!(
        m.checksum("SELECT * FROM fb_ad_copy_dm").await,
        before3,
        "the table after it is unchanged"
    );
    assert_eq!(advisory_locks(&m).await, 0);

    // The warehouse's orphaned query sleeps on; end it, make the view quick, resume.
    wh.exec(
        "UPDATE sleep_conf SET secs = 0;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'pg_datamart fetch';",
    )
    .await;
    m.exec(&format!("CALL dm_resume({run_id})")).await;
    let (resumed, status, _, from) = latest_run(&m, "crash").await;
    assert_eq!((status.as_str(), from), ("succeeded", Some(run_id)));
    assert_eq!(
        step_statuses(&m, resumed).await,
        vec![(2, "succeeded".into()), (3, "succeeded".into())]
    );
    assert_equal_to_warehouse(wh, &m, &all, "after dm_resume").await;
}
