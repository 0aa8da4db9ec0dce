//! Soak test (`make soak`; not part of `make test`): many syncs from concurrent sessions with
//! random overlapping account lists, random windows and modes, and random faults, then the
//! promises that must hold whatever happened:
//!
//! - no session error other than the faults' own SQLSTATEs (57014 cancel, 57P01 / a closed
//!   connection for a terminated backend, 55P03 lock timeout, 08xxx for a terminated warehouse
//!   backend), each seen only while its fault was in flight; a busy skip is no error;
//! - every run row tells the truth about its call (succeeded / skipped for a CALL that
//!   returned, cancelled for a cancel, failed for the others);
//! - before the final sync: no (account, date) slice of a mart table is partly loaded, no row
//!   is there twice, no mart key is unknown to the warehouse;
//! - after a final clean `CALL dm_sync(section, '0', window)` of every section, every mart table
//!   equals the warehouse (count and md5 of the ordered rows);
//! - no deadlock (`pg_stat_database.deadlocks` unchanged, no 40P01), no run left `running` after
//!   a read of `dm_status`, no advisory lock left in `pg_locks`.
//!
//! `SOAK_SYNCS` (default 200) syncs from `SOAK_SESSIONS` (default 4) sessions; `SOAK_SEED`
//! replays a seed (the seed is printed).

use pg_datamart_it::{describe, setup, Session};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// xorshift64*: a seeded PRNG, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.range(1, 100) <= percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }
}

struct Section {
    name: &'static str,
    accounts: &'static [&'static str],
    upsert: bool,
    /// (mart table, warehouse table, fetched columns in the mart, the same in the warehouse,
    /// key columns in the mart, the same in the warehouse, account column, warehouse account column)
    tables: &'static [Table],
}

struct Table {
    mart: &'static str,
    wh: &'static str,
    mart_cols: &'static str,
    wh_cols: &'static str,
    mart_key: &'static str,
    wh_key: &'static str,
    mart_account: &'static str,
    wh_account: &'static str,
}

const SECTIONS: &[Section] = &[
    Section {
        name: "fb",
        accounts: &["1001", "1002", "1003", "1004", "1007"],
        upsert: true,
        tables: &[
            Table {
                mart: "fb_campaign_dm",
                wh: "fb_campaign",
                mart_cols: "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at",
                wh_cols: "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at",
                mart_key: "account_id, campaign_id, collected_at",
                wh_key: "account_id, campaign_id, collected_at",
                mart_account: "account_id",
                wh_account: "account_id",
            },
            Table {
                mart: "fb_ad_dm",
                wh: "fb_ad",
                mart_cols: "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at",
                wh_cols: "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at",
                mart_key: "account_id, ad_id, collected_at",
                wh_key: "account_id, ad_id, collected_at",
                mart_account: "account_id",
                wh_account: "account_id",
            },
        ],
    },
    Section {
        name: "google",
        accounts: &["1001", "1002", "1003", "1004"],
        upsert: false,
        tables: &[Table {
            mart: "google_campaign_report_dm",
            wh: "google_campaign_report",
            mart_cols: "customer_id, campaign_id, campaign_name, campaign_advertising_channel_type, segments_date, metrics_clicks, metrics_cost_micros, metrics_all_conversions_value, collected_at",
            wh_cols: "\"customer.id\", \"campaign.id\", \"campaign.name\", \"campaign.advertising_channel_type\", \"segments.date\", \"metrics.clicks\", \"metrics.cost_micros\", \"metrics.all_conversions_value\", collected_at",
            mart_key: "customer_id, campaign_id, collected_at",
            wh_key: "\"customer.id\", \"campaign.id\", collected_at",
            mart_account: "customer_id::text",
            wh_account: "\"customer.id\"::text",
        }],
    },
    Section {
        name: "naver",
        accounts: &["1001", "1002"],
        upsert: false,
        tables: &[Table {
            mart: "naver_keyword_master_report_dm",
            wh: "naver_keyword_master_report",
            mart_cols: "customerid, ncc_keyword_id, keyword, bid_amt, collected_at",
            wh_cols: "customerid, \"nccKeywordId\", keyword, bid_amt, collected_at",
            mart_key: "customerid, ncc_keyword_id, collected_at",
            wh_key: "customerid, \"nccKeywordId\", collected_at",
            mart_account: "customerid",
            wh_account: "customerid",
        }],
    },
];

/// Mart tables (and a partition) the lock fault takes.
const LOCKABLE: &[&str] = &[
    "fb_campaign_dm",
    "fb_campaign_dm_p202601",
    "fb_ad_dm",
    "google_campaign_report_dm",
    "naver_keyword_master_report_dm",
];

/// The whole data range of the warehouse fixture.
const FIRST_DAY: &str = "2026-01-01";
const LAST_DAY: &str = "2026-02-28";
const DAYS: u64 = 59;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    None,
    Cancel,
    Terminate,
    WarehouseChange,
    Lock,
    WarehouseKill,
}

/// Counts how many faults of a kind started and ended, so that an error can be checked to have
/// happened while one was in flight: a fault overlapped a call iff more of them had started by
/// the call's end than had ended by its start.
#[derive(Default)]
struct InFlight {
    started: AtomicUsize,
    ended: AtomicUsize,
}

#[derive(Default)]
struct Shared {
    next: AtomicUsize,
    locks: InFlight,
    wh_kills: InFlight,
    report: Mutex<Report>,
}

#[derive(Default)]
struct Report {
    faults: BTreeMap<String, usize>,
    outcomes: BTreeMap<String, usize>,
    /// What broke a promise.
    problems: Vec<String>,
    /// (pid, run id floor) of syncs whose backend was terminated: checked after dm_status.
    terminated: Vec<(i32, i64, String)>,
}

impl Report {
    fn count(map: &mut BTreeMap<String, usize>, key: &str) {
        *map.entry(key.to_string()).or_default() += 1;
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn date(day: u64) -> String {
    // 2026-01-01 + day (0..59) without a date library: January has 31 days.
    if day < 31 {
        format!("2026-01-{:02}", day + 1)
    } else {
        format!("2026-02-{:02}", day - 30)
    }
}

/// Session settings of a syncing session.
async fn sync_session(db: &str, lock_wait_ms: u64) -> (Session, i32) {
    let s = Session::connect(db).await;
    s.exec(&format!(
        "SET pg_datamart.lock_timeout = 2000; SET pg_datamart.lock_wait = '{lock_wait_ms}ms';
         SET pg_datamart.max_failures = 0; SET client_min_messages = warning;"
    ))
    .await;
    let pid = s.i64("SELECT pg_backend_pid()::int8").await as i32;
    (s, pid)
}

/// One session's share of the syncs.
async fn worker(id: u64, seed: u64, total: usize, db: String, wh_db: String, sh: Arc<Shared>) {
    let mut rng = Rng::new(seed ^ (id + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let ctl = Session::connect(&db).await;
    let wh = Session::connect(&wh_db).await;
    let locker = Arc::new(Session::connect(&db).await);
    locker.exec("SET lock_timeout = '5s'").await;
    let (mut s, mut pid) = sync_session(&db, rng.range(0, 1500)).await;
    let mut last_run = 0i64;
    loop {
        let n = sh.next.fetch_add(1, Ordering::SeqCst);
        if n >= total {
            break;
        }
        // The request.
        let sec = rng.pick(SECTIONS);
        let accounts = if rng.chance(10) {
            "0".to_string()
        } else {
            let picked: Vec<&str> = sec
                .accounts
                .iter()
                .copied()
                .filter(|_| rng.chance(50))
                .collect();
            if picked.is_empty() {
                rng.pick(sec.accounts).to_string()
            } else {
                picked.join(",")
            }
        };
        let start = rng.range(0, DAYS - 1);
        let end = (start + rng.range(0, 14)).min(DAYS - 1);
        let mode = if sec.upsert && rng.chance(50) {
            "upsert"
        } else {
            "delete_insert"
        };
        let call = format!(
            "CALL dm_sync('{}', '{accounts}', '{}', '{}', '{mode}')",
            sec.name,
            date(start),
            date(end)
        );
        let fault = match rng.range(1, 100) {
            1..=40 => Fault::None,
            41..=52 => Fault::Cancel,
            53..=60 => Fault::Terminate,
            61..=72 => Fault::WarehouseChange,
            73..=86 => Fault::Lock,
            _ => Fault::WarehouseKill,
        };
        let delay = Duration::from_millis(rng.range(0, 800));
        Report::count(&mut sh.report.lock().unwrap().faults, &format!("{fault:?}"));

        if fault == Fault::WarehouseChange {
            let sec2 = rng.pick(SECTIONS);
            let t = rng.pick(sec2.tables);
            let acct = rng.pick(sec2.accounts);
            let (d0, d1) = {
                let a = rng.range(0, DAYS - 1);
                (date(a), date((a + rng.range(0, 5)).min(DAYS - 1)))
            };
            let set = match t.wh {
                "fb_campaign" => format!("name = 'soak {n}', daily_budget = daily_budget + 1"),
                "fb_ad" => format!("tag = 'soak {n}', ratio = ratio + 0.5"),
                "google_campaign_report" => {
                    format!("\"campaign.name\" = 'soak {n}', \"metrics.clicks\" = \"metrics.clicks\" + 1")
                }
                _ => format!("keyword = 'soak {n}', bid_amt = bid_amt + 10"),
            };
            wh.exec(&format!(
                "UPDATE {}_base SET {set} WHERE {} = '{acct}' AND collected_at BETWEEN '{d0}' AND '{d1}'",
                t.wh, t.wh_account
            ))
            .await;
        }

        // The fault that runs alongside the call.
        let lock_target = rng.pick(LOCKABLE).to_string();
        let lock_hold = if rng.chance(50) {
            Duration::from_millis(rng.range(300, 1500))
        } else {
            Duration::from_millis(rng.range(2500, 4000))
        };
        let side = {
            let ctl_sql = match fault {
                Fault::Cancel => Some(format!("SELECT pg_cancel_backend({pid})")),
                Fault::Terminate => Some(format!("SELECT pg_terminate_backend({pid})")),
                _ => None,
            };
            let sh = sh.clone();
            let locker = locker.clone();
            let ctl = &ctl;
            let wh = &wh;
            async move {
                tokio::time::sleep(delay).await;
                match fault {
                    Fault::Cancel | Fault::Terminate => {
                        ctl.exec(ctl_sql.as_deref().unwrap()).await;
                    }
                    Fault::Lock => {
                        sh.locks.started.fetch_add(1, Ordering::SeqCst);
                        let r = locker
                            .client
                            .batch_execute(&format!(
                                "BEGIN; LOCK TABLE {lock_target} IN ACCESS EXCLUSIVE MODE"
                            ))
                            .await;
                        if r.is_ok() {
                            tokio::time::sleep(lock_hold).await;
                        }
                        let _ = locker.client.batch_execute("ROLLBACK").await;
                        sh.locks.ended.fetch_add(1, Ordering::SeqCst);
                    }
                    Fault::WarehouseKill => {
                        sh.wh_kills.started.fetch_add(1, Ordering::SeqCst);
                        wh.exec(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                              WHERE datname = current_database() AND application_name = 'pg_datamart fetch'",
                        )
                        .await;
                        sh.wh_kills.ended.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => {}
                }
            }
        };
        let locks_ended0 = sh.locks.ended.load(Ordering::SeqCst);
        let kills_ended0 = sh.wh_kills.ended.load(Ordering::SeqCst);
        let (r, ()) = tokio::join!(s.client.batch_execute(&call), side);
        let locks_overlap = sh.locks.started.load(Ordering::SeqCst) > locks_ended0;
        let kills_overlap = sh.wh_kills.started.load(Ordering::SeqCst) > kills_ended0;
        s.take_notices();

        // What the call's outcome may be, and what its run row must say.
        let code = r
            .as_ref()
            .err()
            .map(|e| e.as_db_error().map(|d| d.code().code().to_string()));
        let (outcome, allowed_status, expected): (&str, &[&str], bool) = match &code {
            None => ("ok", &["succeeded", "skipped"], true),
            Some(Some(c)) if c == "57014" => {
                ("cancelled 57014", &["cancelled"], fault == Fault::Cancel)
            }
            Some(Some(c)) if c == "57P01" => ("terminated 57P01", &[], fault == Fault::Terminate),
            Some(None) => (
                "terminated (connection closed)",
                &[],
                fault == Fault::Terminate,
            ),
            Some(Some(c)) if c == "55P03" => ("lock timeout 55P03", &["failed"], locks_overlap),
            Some(Some(c)) if c.starts_with("08") => {
                ("warehouse lost 08xxx", &["failed"], kills_overlap)
            }
            Some(Some(c)) if c == "40P01" => ("DEADLOCK 40P01", &[], false),
            Some(Some(_)) => ("unexpected", &[], false),
        };
        let terminated = fault == Fault::Terminate;
        let mut problems = Vec::new();
        let mut no_run = false;
        if !expected {
            problems.push(format!(
                "sync {n} ({call}, fault {fault:?}): unexpected outcome {outcome}: {}",
                r.as_ref().err().map(describe).unwrap_or_default()
            ));
        }
        if terminated {
            let mut rep = sh.report.lock().unwrap();
            rep.terminated.push((pid, last_run, call.clone()));
            if code.is_none() {
                Report::count(&mut rep.outcomes, "ok (session terminated after)");
            }
        } else if !allowed_status.is_empty() {
            let row = ctl
                .client
                .query_opt(
                    "SELECT run_id, status, COALESCE(note, ''), COALESCE(error, '') FROM dm.run WHERE pid = $1 AND run_id > $2 ORDER BY run_id DESC LIMIT 1",
                    &[&pid, &last_run],
                )
                .await
                .unwrap();
            match row {
                Some(row) => {
                    let (run_id, status, note, error): (i64, String, String, String) =
                        (row.get(0), row.get(1), row.get(2), row.get(3));
                    last_run = run_id;
                    if !allowed_status.contains(&status.as_str()) {
                        // Does the status writer catch up (without a dm_status read)?
                        let mut later = Vec::new();
                        for _ in 0..10 {
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            later.push(
                                ctl.text(&format!(
                                    "SELECT status FROM dm.run WHERE run_id = {run_id}"
                                ))
                                .await
                                .unwrap_or_default(),
                            );
                        }
                        let steps = ctl
                            .text(&format!("SELECT string_agg(s::text, ' | ' ORDER BY position) FROM dm.run_step s WHERE run_id = {run_id}"))
                            .await
                            .unwrap_or_default();
                        problems.push(format!(
                            "sync {n} ({call}, fault {fault:?} after {delay:?}): outcome {outcome} ({}) but run {run_id} is {status} (note {note:?}, error {error:?}); every 0.5 s after: {later:?}; steps: {steps}",
                            r.as_ref().err().map(describe).unwrap_or_default()
                        ));
                    }
                    if status == "skipped" {
                        let key = if note.starts_with("busy") {
                            "ok skipped (busy)"
                        } else {
                            "ok skipped (other)"
                        };
                        Report::count(&mut sh.report.lock().unwrap().outcomes, key);
                    } else if code.is_none() {
                        Report::count(&mut sh.report.lock().unwrap().outcomes, "ok succeeded");
                    }
                }
                None if code.is_none() => problems.push(format!(
                    "sync {n} ({call}): the CALL returned but no run was recorded"
                )),
                // Refused before the run was recorded: a cancel that landed first, or a mart
                // table locked while the run was being planned (nothing loaded, no run row).
                None => no_run = true,
            }
        }
        {
            let mut rep = sh.report.lock().unwrap();
            if code.is_some() {
                let label = if no_run {
                    format!("{outcome}, no run recorded")
                } else {
                    outcome.to_string()
                };
                Report::count(&mut rep.outcomes, &label);
            }
            rep.problems.extend(problems);
        }
        if terminated {
            (s, pid) = sync_session(&db, rng.range(0, 1500)).await;
            last_run = 0;
        }
    }
}

/// (count, md5 of the ordered rows) of `select` on `s`.
async fn sum(s: &Session, select: &str) -> (i64, String) {
    s.checksum(select).await
}

/// Per (account, date) slice of `table`: its row count.
async fn slices(s: &Session, table: &str, account: &str) -> HashMap<(String, String), i64> {
    s.client
        .query(
            &format!(
                "SELECT {account}::text, collected_at::text, count(*) FROM {table} GROUP BY 1, 2"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect()
}

#[tokio::test]
#[ignore = "soak: run by `make soak`"]
async fn soak_many_concurrent_syncs_with_random_faults_stay_consistent() {
    let total = env_u64("SOAK_SYNCS", 200) as usize;
    let sessions = env_u64("SOAK_SESSIONS", 4);
    let seed = env_u64(
        "SOAK_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    println!("soak: seed {seed} (SOAK_SEED={seed} replays the requests), {total} syncs, {sessions} sessions");
    let ctx = setup("soak").await;
    let (wh, m) = (&ctx.wh, &ctx.mart);
    let wh_db = ctx.mart_db.replace("_mart", "_wh");
    // upsert needs a key on fb_ad_dm; google and naver load by delete_insert, without a key on
    // the fetched columns, so that a row loaded twice would show.
    m.exec("ALTER TABLE fb_ad_dm ADD PRIMARY KEY (account_id, ad_id, collected_at)")
        .await;
    // The warehouse answers after a random pause (up to half a second) per query, as Redshift
    // takes its time to the first row: so the faults land in the middle of syncs. The tables
    // move to <name>_base; the checks and the row changes use those.
    for sec in SECTIONS {
        for tb in sec.tables {
            wh.exec(&format!(
                "ALTER TABLE {t} RENAME TO {t}_base;
                 CREATE VIEW {t} AS WITH s AS MATERIALIZED (SELECT pg_sleep(random() * 0.5))
                 SELECT b.* FROM {t}_base b, s;",
                t = tb.wh
            ))
            .await;
        }
    }
    let deadlocks0 = m
        .i64("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        .await;

    let t = Instant::now();
    let sh = Arc::new(Shared::default());
    let mut tasks = Vec::new();
    for id in 0..sessions {
        tasks.push(tokio::spawn(worker(
            id,
            seed,
            total,
            ctx.mart_db.clone(),
            wh_db.clone(),
            sh.clone(),
        )));
    }
    for task in tasks {
        task.await.expect("a soak session panicked");
    }
    let soak_secs = t.elapsed().as_secs_f64();

    // Every run reconciled by a read of dm_status; none left running.
    m.exec("SELECT * FROM dm_status").await;
    let running = m
        .i64("SELECT count(*) FROM dm.run WHERE status = 'running'")
        .await;
    let mut problems = std::mem::take(&mut sh.report.lock().unwrap().problems);
    if running != 0 {
        problems.push(format!("{running} runs left running after dm_status"));
    }
    let terminated = std::mem::take(&mut sh.report.lock().unwrap().terminated);
    for (pid, floor, call) in terminated {
        let statuses = m
            .text(&format!(
                "SELECT string_agg(status, ',' ORDER BY run_id) FROM dm.run WHERE pid = {pid} AND run_id > {floor}"
            ))
            .await
            .unwrap_or_default();
        if statuses.split(',').any(|s| {
            !s.is_empty() && s != "failed" && s != "succeeded" && s != "skipped" && s != "cancelled"
        }) {
            problems.push(format!("terminated {call} (pid {pid}): runs {statuses}"));
        }
    }
    let advisory = m
        .i64("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        .await;
    if advisory != 0 {
        problems.push(format!("{advisory} advisory locks left in pg_locks"));
    }

    // Before the final sync: every slice of a mart table is whole (as many rows as the
    // warehouse's), no row twice, no key the warehouse does not have.
    for sec in SECTIONS {
        for tb in sec.tables {
            let mart_slices = slices(m, tb.mart, tb.mart_account).await;
            let wh_slices = slices(wh, &format!("{}_base", tb.wh), tb.wh_account).await;
            for (k, n) in &mart_slices {
                if wh_slices.get(k) != Some(n) {
                    problems.push(format!(
                        "{}: slice {k:?} has {n} rows, the warehouse {:?}",
                        tb.mart,
                        wh_slices.get(k)
                    ));
                }
            }
            let dups = m
                .i64(&format!(
                    "SELECT count(*) FROM (SELECT 1 FROM {} GROUP BY {} HAVING count(*) > 1) d",
                    tb.mart, tb.mart_key
                ))
                .await;
            if dups != 0 {
                problems.push(format!("{}: {dups} keys loaded more than once", tb.mart));
            }
            let keys = m
                .text(&format!(
                    "SELECT string_agg(DISTINCT ({})::text, ' ') FROM {}",
                    tb.mart_key, tb.mart
                ))
                .await
                .unwrap_or_default();
            let wh_keys: std::collections::HashSet<String> = wh
                .client
                .query(
                    &format!("SELECT ({})::text FROM {}_base", tb.wh_key, tb.wh),
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let unknown = keys
                .split(' ')
                .filter(|k| !k.is_empty() && !wh_keys.contains(*k))
                .count();
            if unknown != 0 {
                problems.push(format!(
                    "{}: {unknown} keys the warehouse does not have",
                    tb.mart
                ));
            }
        }
    }

    // The final clean sync of everything: every mart table equals the warehouse. The faults
    // may have banned a section (pg_datamart.max_failures in a row): an admin lifts it first.
    m.exec("SET pg_datamart.lock_wait = '30s'").await;
    for sec in SECTIONS {
        m.exec(&format!("SELECT dm_unban('{}')", sec.name)).await;
        m.exec(&format!(
            "CALL dm_sync('{}', '0', '{FIRST_DAY}', '{LAST_DAY}')",
            sec.name
        ))
        .await;
        let status = m
            .text(&format!(
                "SELECT status FROM dm.run WHERE section = '{}' ORDER BY run_id DESC LIMIT 1",
                sec.name
            ))
            .await
            .unwrap_or_default();
        if status != "succeeded" {
            problems.push(format!("final sync of {}: {status}", sec.name));
        }
        let served = sec
            .accounts
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(", ");
        for tb in sec.tables {
            let w = sum(
                wh,
                &format!(
                    "SELECT {} FROM {}_base WHERE {} IN ({served})",
                    tb.wh_cols, tb.wh, tb.wh_account
                ),
            )
            .await;
            let mt = sum(m, &format!("SELECT {} FROM {}", tb.mart_cols, tb.mart)).await;
            if w != mt || w.0 == 0 {
                problems.push(format!(
                    "{}: mart {mt:?} != warehouse {w:?} after the final sync",
                    tb.mart
                ));
            }
        }
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let deadlocks = m
        .i64("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        .await
        - deadlocks0;
    if deadlocks != 0 {
        problems.push(format!("{deadlocks} deadlocks in pg_stat_database"));
    }
    let runs = m
        .text("SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, count(*) n FROM dm.run GROUP BY status) s")
        .await
        .unwrap_or_default();
    let rep = sh.report.lock().unwrap();
    println!(
        "soak summary: seed {seed}; {total} syncs from {sessions} sessions in {soak_secs:.1} s (final check {:.1} s)",
        t.elapsed().as_secs_f64() - soak_secs
    );
    println!("  call outcomes: {:?}", rep.outcomes);
    println!("  faults injected: {:?}", rep.faults);
    println!("  dm.run rows by status (final syncs included): {runs}");
    println!(
        "  deadlocks: {deadlocks}; runs left running: {running}; advisory locks left: {advisory}"
    );
    println!("  problems: {}", problems.len());
    for p in &problems {
        println!("    {p}");
    }
    assert!(
        problems.is_empty(),
        "{} problems (seed {seed})",
        problems.len()
    );
}
