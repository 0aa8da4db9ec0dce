//! Fault cases of the streaming fetch (issue 10): a network path that stalls mid-stream, a
//! warehouse server that goes away mid-stream, a warehouse backend terminated mid-stream,
//! dblink's password rule for non-superusers, row-level security on the mart table. Every
//! failure ends within a bound, with a real SQLSTATE and a message naming the table (and the
//! foreign server), leaves the mart table as it was, records the run, and never shows the user
//! mapping's password.
//!
//! Real processes only: a TCP proxy (tokio, in the test) between the mart and the warehouse for
//! the stalls, a second PostgreSQL server (`.ci/pg.sh`, `PG_BIN`) for the server that stops.

use pg_datamart_it::{assert_error, dsn, port, setup, wait_until, Ctx, Session};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tokio_postgres::error::{DbError, SqlState};

const FB_AD: &str =
    "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at";

/// The non-superuser loader role of these tests (cluster-wide; created once, never dropped).
const LOADER: &str = "dm_faults_loader";

/// The warehouse role that needs a scram password on the test server (Makefile: IT_HBA), and its
/// password (the same definition as in status.rs).
const PW_ROLE: &str = "dm_pw";
const PW: &str = "Pw-S3cret-9";

// ---------------------------------------------------------------------------------------------
// Helpers

/// A view of `rows` fb_ad rows for account 1001 in 2026-01-10 .. 12, each padded to about
/// 200 bytes; when `sleep_at` is set, the view sends the rows before it at once and then
/// sleeps 60 s before that row (the stream stops mid-way; only the connection's end or a cancel
/// on the warehouse ends the query early).
fn flood_view(name: &str, rows: i64, sleep_at: Option<i64>) -> String {
    let sleep = match sleep_at {
        Some(n) => format!(
            ", LATERAL (SELECT pg_sleep(CASE WHEN g = {n} THEN 60 ELSE 0 END) AS z OFFSET 0) s"
        ),
        None => String::new(),
    };
    format!(
        "CREATE VIEW {name} AS
         SELECT '1001'::varchar(32) AS account_id, g::text AS ad_id, repeat('u', 150) AS \"user\", g AS \"order\",
                true AS \"open\", NULL::text AS tag, NULL::timestamptz AS shown_at,
                g / 3.0::float8 AS ratio, date '2026-01-10' + (g % 3) AS collected_at
           FROM generate_series(1, {rows}) g{sleep}"
    )
}

/// Section `name` loading fb_ad_dm from warehouse view `view` through foreign server `server`;
/// fb_ad_dm gets two old rows of the window (which must survive a failed load) and one outside
/// it. Returns the table's checksum.
async fn section_on(ctx: &Ctx, name: &str, view: &str, server: &str) -> (i64, String) {
    ctx.mart
        .exec(&format!(
            "SELECT dm_add_section('{name}', 'account_id', 'fb_account_dm', server => '{server}');
             SELECT dm_add_table('{name}', 'fb_ad_dm', '{view}');
             INSERT INTO fb_ad_dm (account_id, ad_id, collected_at)
             VALUES ('1001', 'old-1', '2026-01-11'), ('1001', 'old-2', '2026-01-12'), ('1002', 'other', '2026-01-11');"
        ))
        .await;
    ctx.mart.checksum("SELECT * FROM fb_ad_dm").await
}

/// A foreign server `name` at 127.0.0.1:`port`, database `db`, with a user mapping for the
/// current user holding `password` (never needed by the trust-authenticated warehouse).
async fn server_at(s: &Session, name: &str, port: u16, db: &str, password: &str) {
    s.exec(&format!(
        "CREATE SERVER {name} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '{port}', dbname '{db}');
         CREATE USER MAPPING FOR CURRENT_USER SERVER {name} OPTIONS (user 'postgres', password '{password}');"
    ))
    .await;
}

/// How a CALL ended: its result, when, and the notices its session received.
type Ended = (Result<(), tokio_postgres::Error>, Instant, Vec<String>);

/// Runs `CALL dm_sync(section, '1001', window)` in a new session of the mart after `setup_sql`;
/// returns the session's backend pid and a handle on how the CALL ended.
async fn start_sync(
    ctx: &Ctx,
    setup_sql: &str,
    section: &str,
) -> (i32, tokio::task::JoinHandle<Ended>) {
    let syncer = Session::connect(&ctx.mart_db).await;
    syncer.exec(setup_sql).await;
    let pid: i32 = syncer
        .client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let call = format!("CALL dm_sync('{section}', '1001', '2026-01-10', '2026-01-12')");
    let handle = tokio::spawn(async move {
        let r = syncer.client.batch_execute(&call).await;
        let ended = Instant::now();
        (r, ended, syncer.take_notices())
    });
    (pid, handle)
}

/// Waits until COPY of backend `pid` has inserted at least `rows` rows (the stream is flowing).
async fn wait_copying(s: &Session, pid: i32, rows: i64) {
    wait_until(
        s,
        &format!("SELECT EXISTS (SELECT 1 FROM pg_stat_progress_copy WHERE pid = {pid} AND tuples_processed >= {rows})"),
        20,
    )
    .await;
}

fn db_error(r: Result<(), tokio_postgres::Error>, what: &str) -> DbError {
    let e = r.expect_err(what);
    e.as_db_error()
        .unwrap_or_else(|| panic!("{what}: not a server error: {e}"))
        .clone()
}

/// Everything the failure showed: the error's message, detail, hint and context, the notices,
/// every run and step row and dm_status.
async fn everything_shown(ctx: &Ctx, e: &DbError, notices: &[String]) -> String {
    let rows = ctx
        .mart
        .text(
            "SELECT concat_ws(E'\\n', (SELECT string_agg(r::text, E'\\n') FROM dm.run r),
                                     (SELECT string_agg(s::text, E'\\n') FROM dm.run_step s),
                                     (SELECT string_agg(d::text, E'\\n') FROM dm_status d))",
        )
        .await
        .unwrap_or_default();
    format!(
        "{}\n{:?}\n{:?}\n{:?}\n{}\n{rows}",
        e.message(),
        e.detail(),
        e.hint(),
        e.where_(),
        notices.join("\n")
    )
}

fn assert_no_secret(shown: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!shown.contains(s), "password {s:?} leaked in:\n{shown}");
    }
}

/// (status, error) of the latest run of `section`, and (status, sqlstate, error) of its step.
async fn run_and_step(s: &Session, section: &str) -> (String, String, String, String, String) {
    let row = s
        .client
        .query_one(
            "SELECT r.status, COALESCE(r.error, ''), st.status, COALESCE(st.sqlstate, ''), COALESCE(st.error, '')
               FROM dm.run r JOIN dm.run_step st USING (run_id)
              WHERE r.section = $1 ORDER BY r.run_id DESC LIMIT 1",
            &[&section],
        )
        .await
        .expect("the run is recorded");
    (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4))
}

/// Waits (at most 2 s) for `flag`, set by the proxy.
async fn wait_flag(flag: &AtomicBool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !flag.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy that stalls

/// Between the mart and the warehouse: forwards both ways until a connection has sent
/// `stall_after` bytes towards the mart; from then on that connection is stalled: the proxy
/// stops reading from the warehouse and stops writing to the mart, but keeps both sockets open
/// (it still reads, and drops, what the mart sends, to see when the mart closes). With
/// `blackhole`, every connection opened after the stall (a cancel request included) is accepted
/// and then never answered. It records the cancel requests it forwards. Dropping it closes
/// every socket.
struct Proxy {
    port: u16,
    state: Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    stall_after: usize,
    blackhole: bool,
    stalled: AtomicBool,
    /// The mart closed its end of the stalled connection.
    mart_closed: AtomicBool,
    /// Backend pids named by the CancelRequest packets seen.
    cancel_pids: Mutex<Vec<i32>>,
    /// Connections held unanswered (blackhole).
    held: AtomicUsize,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Proxy {
    async fn start(upstream: u16, stall_after: usize, blackhole: bool) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ProxyState {
            stall_after,
            blackhole,
            ..Default::default()
        });
        let st = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let st2 = st.clone();
                let h = tokio::spawn(serve(client, upstream, st2));
                st.tasks.lock().unwrap().push(h.abort_handle());
            }
        });
        state.tasks.lock().unwrap().push(accept.abort_handle());
        Proxy { port, state }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for t in self.state.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

async fn serve(mut client: TcpStream, upstream: u16, st: Arc<ProxyState>) {
    if st.blackhole && st.stalled.load(Ordering::SeqCst) {
        st.held.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    let mut head = [0u8; 8];
    if client.read_exact(&mut head).await.is_err() {
        return;
    }
    let mut first = head.to_vec();
    let len = u32::from_be_bytes(head[0..4].try_into().unwrap());
    let code = u32::from_be_bytes(head[4..8].try_into().unwrap());
    if len == 16 && code == 80877102 {
        let mut rest = [0u8; 8];
        if client.read_exact(&mut rest).await.is_err() {
            return;
        }
        let pid = i32::from_be_bytes(rest[0..4].try_into().unwrap());
        st.cancel_pids.lock().unwrap().push(pid);
        first.extend_from_slice(&rest);
    }
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    if server.write_all(&first).await.is_err() {
        return;
    }
    let stalled_here = Arc::new(AtomicBool::new(false));
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up_stalled = stalled_here.clone();
    let st_up = st.clone();
    // A direction that ends (EOF, error) closes its write side, as a link would; a stalled
    // connection holds both sockets open and moves nothing.
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match cr.read(&mut buf).await {
                Ok(0) | Err(_) if up_stalled.load(Ordering::SeqCst) => {
                    st_up.mart_closed.store(true, Ordering::SeqCst);
                    let _hold = sw;
                    return std::future::pending::<()>().await;
                }
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if !up_stalled.load(Ordering::SeqCst) && sw.write_all(&buf[..n]).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0usize;
        while sent < st.stall_after {
            let room = (st.stall_after - sent).min(buf.len());
            let n = match sr.read(&mut buf[..room]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
            sent += n;
        }
        stalled_here.store(true, Ordering::SeqCst);
        st.stalled.store(true, Ordering::SeqCst);
        let _hold = (sr, cw);
        std::future::pending::<()>().await
    };
    tokio::join!(up, down);
}

// ---------------------------------------------------------------------------------------------
// 1. A stalled network path

/// The path to the warehouse stops carrying bytes mid-stream (sockets open, nothing moves). The
/// mart's statement_timeout (3 s) ends the CALL within 5 s with 57014, naming the table and the
/// server; the table is unchanged; the run is recorded as cancelled with the reason; the
/// warehouse got a cancel request for its backend and the mart closed the connection.
#[tokio::test]
async fn stalled_connection_ends_at_statement_timeout_naming_the_table() {
    let ctx = setup("faults_stall").await;
    let secret = "Stall-Pw-4471";
    ctx.wh.exec(&flood_view("fb_ad_flood", 200_000, None)).await;
    let proxy = Proxy::start(port().parse().unwrap(), 256 * 1024, false).await;
    let wh_db = ctx.mart_db.replace("_mart", "_wh");
    server_at(&ctx.mart, "wh_proxy", proxy.port, &wh_db, secret).await;
    let before = section_on(&ctx, "stall", "fb_ad_flood", "wh_proxy").await;

    let t = Instant::now();
    let (_, sync) = start_sync(&ctx, "SET statement_timeout = '3s'", "stall").await;
    let (r, ended, notices) = sync.await.unwrap();
    let secs = ended.duration_since(t).as_secs_f64();
    let e = db_error(r, "the stalled CALL times out");
    assert!(
        proxy.state.stalled.load(Ordering::SeqCst),
        "the proxy stalled the stream before the CALL ended"
    );
    assert_error(
        &e,
        SqlState::QUERY_CANCELED,
        &[
            "canceling statement due to statement timeout",
            "public.fb_ad_dm",
            "\"wh_proxy\"",
        ],
    );
    assert!(
        secs < 5.0,
        "the CALL ended {secs:.2} s after it started, for a 3 s statement_timeout"
    );
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    let (run, run_error, step, sqlstate, step_error) = run_and_step(&ctx.mart, "stall").await;
    assert_eq!(
        (run.as_str(), step.as_str(), sqlstate.as_str()),
        ("cancelled", "cancelled", "57014")
    );
    assert!(run_error.contains("public.fb_ad_dm"), "{run_error}");
    assert!(
        step_error.contains("statement timeout"),
        "the step says why it was cancelled: {step_error}"
    );
    let last_error = ctx
        .mart
        .text("SELECT last_error FROM dm_status WHERE section = 'stall'")
        .await
        .unwrap_or_default();
    assert!(
        last_error.contains("public.fb_ad_dm"),
        "dm_status: {last_error}"
    );

    // The warehouse side: a cancel request for its backend went out, and the mart closed its
    // end. The warehouse backend is still blocked sending to the stalled link (PostgreSQL does
    // not act on a cancel while it waits to write) until the link goes away.
    let remote_pid = ctx
        .mart
        .i64("SELECT remote_pid::int8 FROM dm.run_step WHERE remote_pid IS NOT NULL")
        .await as i32;
    assert!(
        proxy
            .state
            .cancel_pids
            .lock()
            .unwrap()
            .contains(&remote_pid),
        "a cancel request for warehouse backend {remote_pid}: {:?}",
        proxy.state.cancel_pids.lock().unwrap()
    );
    wait_flag(
        &proxy.state.mart_closed,
        "the mart closed the stalled connection",
    )
    .await;
    let fetching = format!(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid = {remote_pid})"
    );
    assert!(
        ctx.wh
            .client
            .query_one(&fetching, &[])
            .await
            .unwrap()
            .get::<_, bool>(0),
        "the warehouse backend waits on the stalled link"
    );
    drop(proxy);
    wait_until(&ctx.wh, &format!("SELECT NOT ({fetching})"), 5).await;

    let shown = everything_shown(&ctx, &e, &notices).await;
    assert_no_secret(&shown, &[secret]);
}

/// The whole path goes dark, new connections included: the cancel request cannot get through
/// either. The cancel is abandoned after a second, so the CALL still ends within 5 s of its
/// start (2 s statement_timeout), with the same error, and the table is unchanged.
#[tokio::test]
async fn blackholed_path_ends_even_when_the_cancel_request_hangs() {
    let ctx = setup("faults_blackhole").await;
    let secret = "Hole-Pw-8813";
    ctx.wh.exec(&flood_view("fb_ad_flood", 200_000, None)).await;
    let proxy = Proxy::start(port().parse().unwrap(), 256 * 1024, true).await;
    let wh_db = ctx.mart_db.replace("_mart", "_wh");
    server_at(&ctx.mart, "wh_dark", proxy.port, &wh_db, secret).await;
    let before = section_on(&ctx, "dark", "fb_ad_flood", "wh_dark").await;

    let t = Instant::now();
    let (_, sync) = start_sync(&ctx, "SET statement_timeout = '2s'", "dark").await;
    let (r, ended, notices) = sync.await.unwrap();
    let secs = ended.duration_since(t).as_secs_f64();
    let e = db_error(r, "the CALL times out");
    assert_error(
        &e,
        SqlState::QUERY_CANCELED,
        &["statement timeout", "public.fb_ad_dm", "\"wh_dark\""],
    );
    assert!(
        secs < 5.0,
        "the CALL ended {secs:.2} s after it started, for a 2 s statement_timeout"
    );
    assert!(
        proxy.state.held.load(Ordering::SeqCst) >= 1,
        "the cancel request's connection was held unanswered"
    );
    assert!(proxy.state.cancel_pids.lock().unwrap().is_empty());
    wait_flag(
        &proxy.state.mart_closed,
        "the mart closed the stalled connection although the cancel hung",
    )
    .await;
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    let (run, _, step, sqlstate, _) = run_and_step(&ctx.mart, "dark").await;
    assert_eq!(
        (run.as_str(), step.as_str(), sqlstate.as_str()),
        ("cancelled", "cancelled", "57014")
    );
    let shown = everything_shown(&ctx, &e, &notices).await;
    assert_no_secret(&shown, &[secret]);
}

// ---------------------------------------------------------------------------------------------
// 2. The warehouse server stops mid-stream

/// A second PostgreSQL server (`.ci/pg.sh`, the binaries of `PG_BIN`), stopped when dropped.
struct SecondServer {
    name: String,
    port: u16,
}

fn pg_sh(args: &[&str]) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/pg.sh"))
        .args(args)
        .env("PG_FRESH", "1")
        .env_remove("PG_HBA_PREPEND")
        .output()
        .expect("run .ci/pg.sh")
}

impl SecondServer {
    /// Port: `DM_IT_WH2_PORT`, else the test server's port + 50 (+1 is the benchmark's).
    fn start() -> SecondServer {
        let port = std::env::var("DM_IT_WH2_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| port().parse::<u16>().unwrap() + 50);
        let name = format!("faults-wh-{port}");
        let out = pg_sh(&["start", &name, &port.to_string()]);
        assert!(
            out.status.success(),
            "start the second server on port {port}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SecondServer { name, port }
    }

    fn stop(&self, mode: &str) {
        let out = pg_sh(&["stop", &self.name, mode]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for SecondServer {
    fn drop(&mut self) {
        let _ = pg_sh(&["stop", &self.name, "immediate"]);
    }
}

#[tokio::test]
async fn warehouse_server_stopped_mid_stream_fails_fast_with_a_connection_error() {
    let wh2 = SecondServer::start();
    let ctx = setup("faults_stop").await;
    let secret = "Stop-Pw-2290";
    let admin2 = Session::connect_dsn(&format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        wh2.port
    ))
    .await
    .expect("the second server is up");
    admin2.exec("CREATE DATABASE faults_stop_wh2").await;
    let wh2_db = Session::connect_dsn(&format!(
        "host=127.0.0.1 port={} user=postgres dbname=faults_stop_wh2",
        wh2.port
    ))
    .await
    .unwrap();
    wh2_db
        .exec(&flood_view("fb_ad_trickle", 100_000, Some(3000)))
        .await;
    server_at(&ctx.mart, "wh2", wh2.port, "faults_stop_wh2", secret).await;
    let before = section_on(&ctx, "stopped", "fb_ad_trickle", "wh2").await;

    let (pid, sync) = start_sync(&ctx, "SELECT 1", "stopped").await;
    wait_copying(&ctx.mart, pid, 2500).await;
    let t = Instant::now();
    let stopper = tokio::task::spawn_blocking(move || {
        wh2.stop("immediate");
        wh2
    });
    let (r, ended, notices) = sync.await.unwrap();
    let secs = ended.duration_since(t).as_secs_f64();
    let _wh2 = stopper.await.unwrap();
    let e = db_error(r, "the CALL fails");
    assert_error(
        &e,
        SqlState::CONNECTION_FAILURE,
        &[
            "public.fb_ad_dm",
            "lost the warehouse connection of foreign server \"wh2\"",
        ],
    );
    assert!(secs < 5.0, "the CALL failed {secs:.2} s after the stop");
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    let (run, run_error, step, sqlstate, step_error) = run_and_step(&ctx.mart, "stopped").await;
    assert_eq!((run.as_str(), step.as_str()), ("failed", "failed"));
    assert_eq!(sqlstate, "08006");
    // The status rows hold the message the CALL raised.
    assert!(
        e.message().ends_with(&run_error) && run_error.contains("public.fb_ad_dm"),
        "run error {run_error:?} vs {:?}",
        e.message()
    );
    assert!(
        step_error.contains("lost the warehouse connection of foreign server \"wh2\"")
            && run_error.ends_with(&step_error),
        "step error {step_error:?} vs run error {run_error:?}"
    );
    let shown = everything_shown(&ctx, &e, &notices).await;
    assert_no_secret(&shown, &[secret]);
}

// ---------------------------------------------------------------------------------------------
// 3. The warehouse backend is terminated mid-stream

#[tokio::test]
async fn warehouse_backend_terminated_mid_stream_fails_with_a_connection_error() {
    let ctx = setup("faults_wh_term").await;
    ctx.wh
        .exec(&flood_view("fb_ad_trickle", 100_000, Some(3000)))
        .await;
    let secret = "Term-Pw-3307";
    ctx.mart
        .exec(&format!("ALTER USER MAPPING FOR CURRENT_USER SERVER redshift_prd OPTIONS (ADD password '{secret}')"))
        .await;
    let before = section_on(&ctx, "wterm", "fb_ad_trickle", "redshift_prd").await;
    let (pid, sync) = start_sync(&ctx, "SELECT 1", "wterm").await;
    wait_copying(&ctx.mart, pid, 2500).await;
    let t = Instant::now();
    let killed = ctx
        .wh
        .i64("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg_datamart fetch'")
        .await;
    assert_eq!(killed, 1, "one warehouse backend was fetching");
    let (r, ended, notices) = sync.await.unwrap();
    let secs = ended.duration_since(t).as_secs_f64();
    let e = db_error(r, "the CALL fails");
    // Not the warehouse's 57P01, which would say that this session is being terminated.
    assert_error(
        &e,
        SqlState::CONNECTION_FAILURE,
        &[
            "public.fb_ad_dm",
            "lost the warehouse connection of foreign server \"redshift_prd\"",
            "terminating connection due to administrator command",
        ],
    );
    assert!(
        secs < 5.0,
        "the CALL failed {secs:.2} s after the terminate"
    );
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    let (run, _, step, sqlstate, step_error) = run_and_step(&ctx.mart, "wterm").await;
    assert_eq!(
        (run.as_str(), step.as_str(), sqlstate.as_str()),
        ("failed", "failed", "08006")
    );
    assert!(
        step_error.contains("terminating connection due to administrator command"),
        "{step_error}"
    );
    let shown = everything_shown(&ctx, &e, &notices).await;
    assert_no_secret(&shown, &[secret]);
}

// ---------------------------------------------------------------------------------------------
// 4. dblink's password rule for non-superusers, and 5. row-level security

/// A non-superuser loader in the mart: the login role (trust on the test server), admin access
/// (it also registers a table below) plus the usual table grants, a status path through a loopback
/// server with a password (a non-superuser's dblink needs one), and section `nosu` loading
/// fb_ad_dm from fb_ad through foreign server `wh_nosu` (no user mapping yet).
async fn loader(ctx: &Ctx) -> Session {
    let admin = Session::connect("postgres").await;
    admin
        .exec(&format!(
            "DO $$ BEGIN CREATE ROLE {LOADER} LOGIN NOSUPERUSER; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
             DO $$ BEGIN CREATE ROLE {PW_ROLE} SUPERUSER LOGIN PASSWORD '{PW}'; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"
        ))
        .await;
    let pw_needed = Session::connect_dsn(&format!(
        "host=127.0.0.1 port={} user={PW_ROLE} dbname=postgres",
        port()
    ))
    .await;
    assert!(
        pw_needed.is_err(),
        "the test server must require a password for {PW_ROLE} (start it as `make it` does, with PG_HBA_PREPEND)"
    );
    let wh_db = ctx.mart_db.replace("_mart", "_wh");
    ctx.mart
        .exec(&format!(
            "SELECT dm_grant('{LOADER}', 'admin');
             GRANT SELECT ON fb_account_dm TO {LOADER};
             GRANT SELECT, INSERT, DELETE ON fb_ad_dm TO {LOADER};
             CREATE SERVER dm_loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '{port}', dbname '{mart}');
             CREATE USER MAPPING FOR {LOADER} SERVER dm_loopback OPTIONS (user '{PW_ROLE}', password '{PW}');
             GRANT USAGE ON FOREIGN SERVER dm_loopback TO {LOADER};
             CREATE SERVER wh_nosu FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '{port}', dbname '{wh_db}');
             GRANT USAGE ON FOREIGN SERVER wh_nosu TO {LOADER};
             -- protective settings are superuser-only; the DBA lifts the ban for this role
             ALTER ROLE {LOADER} IN DATABASE {mart} SET pg_datamart.max_failures = 0;
             SELECT dm_add_section('nosu', 'account_id', 'fb_account_dm', server => 'wh_nosu');
             SELECT dm_add_table('nosu', 'fb_ad_dm', 'fb_ad');
             INSERT INTO fb_ad_dm (account_id, ad_id, collected_at) VALUES ('1001', 'old-1', '2026-01-11'), ('1002', 'other', '2026-01-11');",
            port = port(),
            mart = ctx.mart_db,
        ))
        .await;
    let s = Session::connect_dsn(
        &dsn(&ctx.mart_db).replace("user=postgres", &format!("user={LOADER}")),
    )
    .await
    .expect("the loader logs in");
    // Several failures in a row are the point here: no ban.
    s.exec("SET pg_datamart.status_server = 'dm_loopback'")
        .await;
    assert_eq!(
        s.text("SELECT current_setting('is_superuser')")
            .await
            .unwrap(),
        "off"
    );
    s
}

const NOSU_SYNC: &str = "CALL dm_sync('nosu', '1001', '2026-01-10', '2026-01-12')";

/// The rows the warehouse has for the loader's window, and the mart's.
async fn nosu_window(ctx: &Ctx) -> ((i64, String), (i64, String)) {
    let w = "collected_at BETWEEN '2026-01-10' AND '2026-01-12' AND account_id = '1001'";
    (
        ctx.wh
            .checksum(&format!("SELECT {FB_AD} FROM fb_ad WHERE {w}"))
            .await,
        ctx.mart
            .checksum(&format!("SELECT {FB_AD} FROM fb_ad_dm WHERE {w}"))
            .await,
    )
}

#[tokio::test]
async fn non_superuser_needs_a_password_the_warehouse_uses() {
    let ctx = setup("faults_nosu").await;
    let s = loader(&ctx).await;
    let before = ctx.mart.checksum("SELECT * FROM fb_ad_dm").await;

    // (a) A user mapping without a password: refused before connecting, as dblink does.
    ctx.mart
        .exec(&format!(
            "CREATE USER MAPPING FOR {LOADER} SERVER wh_nosu OPTIONS (user 'postgres')"
        ))
        .await;
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
        &[
            "public.fb_ad_dm",
            "password is required",
            "gives no password",
            "foreign server \"wh_nosu\"",
            LOADER,
        ],
    );
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    let (run, _, step, sqlstate, step_error) = run_and_step(&ctx.mart, "nosu").await;
    assert_eq!(
        (run.as_str(), step.as_str(), sqlstate.as_str()),
        ("failed", "failed", "2F003")
    );
    assert!(step_error.contains("password is required"), "{step_error}");
    let shown = everything_shown(&ctx, &e, &s.take_notices()).await;
    assert_no_secret(&shown, &[PW]);

    // (b) A password in the mapping, but the warehouse trusts the user and never asks for it:
    // a non-superuser would be using the server's own trust, so it is refused too.
    let trust_pw = "Trust-Pw-5531";
    ctx.mart
        .exec(&format!(
            "ALTER USER MAPPING FOR {LOADER} SERVER wh_nosu OPTIONS (ADD password '{trust_pw}')"
        ))
        .await;
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
        &[
            "public.fb_ad_dm",
            "password is required",
            "without asking for the password of its user mapping",
            "foreign server \"wh_nosu\"",
        ],
    );
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    let shown = everything_shown(&ctx, &e, &s.take_notices()).await;
    assert_no_secret(&shown, &[trust_pw, PW]);

    // No USAGE on the foreign server: refused as dblink refuses it, whatever the mapping.
    ctx.mart
        .exec(&format!(
            "REVOKE USAGE ON FOREIGN SERVER wh_nosu FROM {LOADER}"
        ))
        .await;
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &[
            "public.fb_ad_dm",
            "permission denied for foreign server wh_nosu",
        ],
    );
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    ctx.mart
        .exec(&format!(
            "GRANT USAGE ON FOREIGN SERVER wh_nosu TO {LOADER}"
        ))
        .await;

    // A wrong scram password: the warehouse refuses it; the error names the server, not the
    // password.
    let wrong = "Wrong-Pw-6120";
    ctx.mart
        .exec(&format!("ALTER USER MAPPING FOR {LOADER} SERVER wh_nosu OPTIONS (SET user '{PW_ROLE}', SET password '{wrong}')"))
        .await;
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
        &[
            "public.fb_ad_dm",
            "foreign server \"wh_nosu\"",
            "password authentication failed",
        ],
    );
    let shown = everything_shown(&ctx, &e, &s.take_notices()).await;
    assert_no_secret(&shown, &[wrong, PW, trust_pw]);
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);

    // (c) The scram password the warehouse asks for: the sync loads exactly the window.
    ctx.mart
        .exec(&format!(
            "ALTER USER MAPPING FOR {LOADER} SERVER wh_nosu OPTIONS (SET password '{PW}')"
        ))
        .await;
    // A missing table privilege is refused before any data moves, naming the table, the
    // privilege and the GRANT to run.
    let runs_before = ctx.mart.i64("SELECT count(*) FROM dm.run").await;
    ctx.mart
        .exec(&format!("REVOKE DELETE ON fb_ad_dm FROM {LOADER}"))
        .await;
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &[LOADER, "lacks DELETE on mart table public.fb_ad_dm"],
    );
    assert!(
        e.hint().is_some_and(
            |h| h.contains(&format!("GRANT DELETE ON public.fb_ad_dm TO \"{LOADER}\""))
        ),
        "{:?}",
        e.hint()
    );
    ctx.mart
        .exec(&format!(
            "GRANT DELETE ON fb_ad_dm TO {LOADER}; REVOKE SELECT ON fb_account_dm FROM {LOADER}"
        ))
        .await;
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["lacks SELECT on account table public.fb_account_dm"],
    );
    ctx.mart
        .exec(&format!("GRANT SELECT ON fb_account_dm TO {LOADER}"))
        .await;
    // Registration asks the same of the caller: no role registers a table it cannot write
    // for someone else's sync to write.
    ctx.mart
        .exec("CREATE TABLE hr_secret (LIKE fb_ad_dm INCLUDING ALL)")
        .await;
    let e = s
        .fails("SELECT dm_add_table('nosu', 'hr_secret', 'public.fb_ad')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["lacks SELECT, INSERT, DELETE on mart table public.hr_secret"],
    );
    assert_eq!(
        ctx.mart.i64("SELECT count(*) FROM dm.run").await,
        runs_before,
        "refused before a run is recorded"
    );
    s.exec(NOSU_SYNC).await;
    // Settings that protect other people's work are not the loader's to change (the library
    // is loaded now, so the setting is no longer a placeholder).
    let e = s.fails("SET pg_datamart.max_failures = 3").await;
    assert_eq!(
        e.code(),
        &tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE
    );
    assert_eq!(
        s.text("SELECT current_setting('pg_datamart.max_failures')")
            .await
            .unwrap(),
        "0",
        "the DBA's per-role setting holds"
    );
    let (wh, mart) = nosu_window(&ctx).await;
    assert!(wh.0 > 0);
    assert_eq!(mart, wh, "the mart holds exactly the warehouse's rows");
    assert_eq!(
        ctx.mart
            .i64("SELECT count(*) FROM fb_ad_dm WHERE ad_id = 'other'")
            .await,
        1,
        "rows outside the window are kept"
    );
    let (run, ..) = run_and_step(&ctx.mart, "nosu").await;
    assert_eq!(run, "succeeded");
    let all = ctx
        .mart
        .text("SELECT string_agg(r::text || s::text, ' ') FROM dm.run r JOIN dm.run_step s USING (run_id)")
        .await
        .unwrap();
    assert_no_secret(&all, &[PW, wrong, trust_pw]);
}

/// COPY FROM does not apply row-level security, so a load that RLS would filter is refused:
/// for a non-owner of a table with RLS enabled, and for the owner when RLS is forced. The owner
/// without FORCE bypasses RLS and loads (the control).
#[tokio::test]
async fn row_level_security_on_the_mart_table_is_refused() {
    let ctx = setup("faults_rls").await;
    let s = loader(&ctx).await;
    ctx.mart
        .exec(&format!(
            "CREATE USER MAPPING FOR {LOADER} SERVER wh_nosu OPTIONS (user '{PW_ROLE}', password '{PW}');
             ALTER TABLE fb_ad_dm ENABLE ROW LEVEL SECURITY;
             CREATE POLICY only_1001 ON fb_ad_dm USING (account_id = '1001');"
        ))
        .await;
    let before = ctx.mart.checksum("SELECT * FROM fb_ad_dm").await;

    // Not the owner: RLS applies to the loader.
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::FEATURE_NOT_SUPPORTED,
        &[
            "public.fb_ad_dm",
            "row-level security is enabled on the mart table",
        ],
    );
    assert!(
        e.hint().unwrap_or_default().contains("row-level security"),
        "{:?}",
        e.hint()
    );
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);
    let (run, _, step, sqlstate, _) = run_and_step(&ctx.mart, "nosu").await;
    assert_eq!(
        (run.as_str(), step.as_str(), sqlstate.as_str()),
        ("failed", "failed", "0A000")
    );
    assert_no_secret(&everything_shown(&ctx, &e, &s.take_notices()).await, &[PW]);

    // The owner, with FORCE ROW LEVEL SECURITY: refused too.
    ctx.mart
        .exec(&format!("ALTER TABLE fb_ad_dm OWNER TO {LOADER}; ALTER TABLE fb_ad_dm FORCE ROW LEVEL SECURITY;"))
        .await;
    let e = s.fails(NOSU_SYNC).await;
    assert_error(
        &e,
        SqlState::FEATURE_NOT_SUPPORTED,
        &[
            "public.fb_ad_dm",
            "row-level security is enabled on the mart table",
        ],
    );
    assert_eq!(ctx.mart.checksum("SELECT * FROM fb_ad_dm").await, before);

    // The owner without FORCE bypasses RLS: the same sync loads the window.
    ctx.mart
        .exec("ALTER TABLE fb_ad_dm NO FORCE ROW LEVEL SECURITY")
        .await;
    s.exec(NOSU_SYNC).await;
    let (wh, mart) = nosu_window(&ctx).await;
    assert!(wh.0 > 0);
    assert_eq!(mart, wh);
}
