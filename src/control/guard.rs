//! Before a run or a table may go: the pause switch, bans after repeated failures,
//! (table, account) locks that skip instead of queueing, and the VACUUM policy.
//!
//! Locks are session-level advisory locks, held from the start of a run to its end across the
//! per-table commits: per table a shared lock on the table plus an exclusive lock per account,
//! or, above `pg_datamart.lock_accounts_max` accounts, an exclusive lock on the whole table.
//! Every sync takes them in the same order (table oid, then the table lock, then accounts),
//! trying each without blocking until `pg_datamart.lock_wait` runs out: two syncs can neither
//! deadlock nor queue; the later one is recorded as skipped, naming who holds what. When the
//! statement that drives a run is over, its status writer stops and its locks are released
//! ([`end_runs_with_their_statement`]).

use crate::catalog::read_json;
use crate::error::{DmResult, SpiContext};
use pg_datamart_plan::control::LockKey;
use pg_datamart_plan::snapshot::Section;
use pg_datamart_plan::VacuumPolicy;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde::Deserialize;
use std::cell::RefCell;
use std::time::{Duration, Instant};

thread_local! {
    /// The locks this session holds for its current run.
    static HELD: RefCell<Vec<LockKey>> = const { RefCell::new(Vec::new()) };
    /// Whether this backend is loading a table of a run now.
    static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks this backend as loading a table while it lives (dropped on every path, an unwinding
/// error included): the configuration guard refuses any write of pg_datamart's configuration
/// meanwhile, so no table's triggers, defaults or rules can have a sync write it with the
/// privileges of whoever runs the sync.
pub struct Loading(bool);

impl Loading {
    pub fn begin() -> Loading {
        Loading(LOADING.with(|l| l.replace(true)))
    }
}

impl Drop for Loading {
    fn drop(&mut self) {
        LOADING.with(|l| l.set(self.0));
    }
}

/// Refuses a configuration write made while this backend loads a table (see [`Loading`]).
pub fn refuse_config_write_while_loading() -> DmResult<()> {
    if LOADING.with(|l| l.get()) {
        return Err(crate::error::DmError::Privilege {
            message: "pg_datamart's configuration cannot be written while a sync loads a table (by a trigger, a rule or a default of a mart table)".into(),
            hint: "Remove what writes dm.* from the mart table; configure sections with the dm_* functions, as yourself.".into(),
        });
    }
    Ok(())
}

/// The locks a run of `section` for `accounts` needs, in the order they are taken.
pub fn lock_keys(section: &Section, accounts: &[String]) -> DmResult<Vec<LockKey>> {
    let whole = accounts.len() > crate::gucs::lock_accounts_max();
    let hashes: Vec<i32> = if whole {
        vec![]
    } else {
        read_json::<Vec<i32>>(
            pg_datamart_plan::control::ACCOUNT_HASHES_SQL,
            &[accounts.to_vec().into()],
            "account lock keys",
        )?
        .unwrap_or_default()
    };
    Ok(pg_datamart_plan::control::lock_keys(
        section, &hashes, whole,
    ))
}

fn try_lock(k: LockKey) -> DmResult<bool> {
    Ok(
        Spi::get_one_with_args::<bool>(k.try_sql(), &[k.table.into(), k.item.into()])
            .doing("taking a sync lock")?
            .unwrap_or(false),
    )
}

fn unlock(k: LockKey) -> DmResult<()> {
    Spi::run_with_args(k.unlock_sql(), &[k.table.into(), k.item.into()])
        .doing("releasing a sync lock")
}

/// Releases every lock this session holds for a run (also leftovers of an interrupted run).
pub fn release_all() -> DmResult<()> {
    let held: Vec<LockKey> = HELD.with(|h| std::mem::take(&mut *h.borrow_mut()));
    for k in held.into_iter().rev() {
        unlock(k)?;
    }
    Ok(())
}

/// A sync's transactions end with COMMIT while it runs; when one aborts instead, the CALL is
/// over (an error outside a table's own block), so the status writer is stopped then and the
/// run's advisory locks released; likewise when a top-level statement that is no CALL commits
/// (a step called by hand): an idle session never keeps a background worker slot or a lock.
/// Called when a run opens its status path; registers the callback once per backend.
pub fn end_runs_with_their_statement() {
    thread_local! {
        static REGISTERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !REGISTERED.with(|r| r.replace(true)) {
        // SAFETY: registers a callback for the life of the backend.
        unsafe { pg_sys::RegisterXactCallback(Some(on_xact), std::ptr::null_mut()) };
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn on_xact(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    // A commit with no portal running is the end of a top-level statement, not a COMMIT
    // inside the CALL that drives a sync (which runs inside the CALL's portal): whatever run a
    // hand-called step began is over when its statement is, so the session goes idle with no
    // writer and no lock.
    // SAFETY: ActivePortal is a backend global, read on the backend's thread in its transaction
    // callback.
    let statement_over =
        event == pg_sys::XactEvent::XACT_EVENT_COMMIT && unsafe { pg_sys::ActivePortal.is_null() };
    if event == pg_sys::XactEvent::XACT_EVENT_ABORT || statement_over {
        crate::status::writer::close();
        release_all_at_end();
    }
}

/// Releases the run's locks when the statement that drives it is over: its transaction
/// aborted (a cancel while it waits for them, an error outside a table's own block), or a
/// step called by hand committed outside a CALL. A lock left behind would make later syncs of
/// those accounts skip until the session ends. Runs in a transaction callback, so through the
/// lock manager directly (no SQL).
pub fn release_all_at_end() {
    let held: Vec<LockKey> = HELD.with(|h| std::mem::take(&mut *h.borrow_mut()));
    for k in held.into_iter().rev() {
        // SET_LOCKTAG_INT32: the tag pg_advisory_lock(int4, int4) takes.
        let tag = pgrx::pg_sys::LOCKTAG {
            // SAFETY: reads this backend's database id.
            locktag_field1: u32::from(unsafe { pgrx::pg_sys::MyDatabaseId }),
            locktag_field2: k.table as u32,
            locktag_field3: k.item as u32,
            locktag_field4: 2,
            locktag_type: pgrx::pg_sys::LockTagType::LOCKTAG_ADVISORY as u8,
            locktag_lockmethodid: pgrx::pg_sys::USER_LOCKMETHOD as u8,
        };
        let mode = if k.shared {
            pgrx::pg_sys::ShareLock
        } else {
            pgrx::pg_sys::ExclusiveLock
        };
        // SAFETY: releases a session lock this backend took (false when it is not held).
        unsafe { pgrx::pg_sys::LockRelease(&tag, mode as i32, true) };
    }
}

/// Bounds every lock wait of the current transaction by `pg_datamart.lock_timeout` (a setting
/// local to the transaction: each of a sync's transactions sets it).
pub fn bound_lock_waits() -> DmResult<()> {
    Spi::run_with_args(
        pg_datamart_plan::control::SET_LOCK_TIMEOUT_SQL,
        &[format!("{}ms", crate::gucs::lock_timeout_ms()).into()],
    )
    .doing("setting the sync's lock_timeout")
}

/// Who holds a lock on the mart table `oid` or one of its partitions that blocks reading it.
pub fn lock_holders(oid: u32) -> String {
    holders_of(oid, pgrx::pg_sys::AccessShareLock as i32)
}

/// The lock modes that conflict with `mode` (PostgreSQL's conflict table), as pg_locks names
/// them.
fn conflicting(mode: i32) -> &'static [&'static str] {
    const ALL: [&str; 8] = [
        "AccessExclusiveLock",
        "ExclusiveLock",
        "ShareRowExclusiveLock",
        "ShareLock",
        "ShareUpdateExclusiveLock",
        "RowExclusiveLock",
        "RowShareLock",
        "AccessShareLock",
    ];
    match mode as u32 {
        pgrx::pg_sys::AccessShareLock => &ALL[..1],
        pgrx::pg_sys::RowExclusiveLock => &ALL[..4],
        pgrx::pg_sys::ShareUpdateExclusiveLock => &ALL[..5],
        _ => &ALL,
    }
}

/// Who holds a lock on the mart table `oid` or one of its partitions that conflicts with
/// `mode`: "pid N (mode on relation; role r, application a, state s)", or "none any more".
/// Never the holder's query text: it may hold a secret (an `ALTER ROLE ... PASSWORD`), and it
/// would reach the step's note, the client and the server log.
fn holders_of(oid: u32, mode: i32) -> String {
    relation_holders(oid, mode)
        .and_then(|h| h.holders)
        .unwrap_or_else(|| "none any more".to_string())
}

/// The first pid holding a lock on `oid` (or a partition) that conflicts with `mode`.
fn first_holder(oid: u32, mode: i32) -> Option<i32> {
    relation_holders(oid, mode).and_then(|h| h.first)
}

/// Who holds a lock on `oid` (or a partition) that conflicts with `mode`: the lowest pid and
/// the description of every holder (None when the catalogs could not be read).
#[derive(serde::Deserialize)]
struct RelationHolders {
    first: Option<i32>,
    holders: Option<String>,
}

fn relation_holders(oid: u32, mode: i32) -> Option<RelationHolders> {
    read_json::<RelationHolders>(
        pg_datamart_plan::control::RELATION_HOLDERS_SQL,
        &[
            pgrx::pg_sys::Oid::from(oid).into(),
            conflicting(mode).to_vec().into(),
        ],
        "lock holders",
    )
    .ok()
    .flatten()
}

/// The relations that make up mart table `oid`: itself and its partitions, sub-partitions
/// included (read from pg_inherits, which takes no lock).
fn with_partitions(oid: u32) -> DmResult<Vec<u32>> {
    Ok(read_json::<Vec<u32>>(
        pg_datamart_plan::control::PARTITIONS_SQL,
        &[pgrx::pg_sys::Oid::from(oid).into()],
        "the table's partitions",
    )?
    .unwrap_or_default())
}

/// Someone to tell that a sync waits for a lock (the run's step, as a note), given who holds
/// it: called once per wait, after the first refused attempt.
pub type Waiting<'a> = &'a mut dyn FnMut(&str) -> DmResult<()>;

/// Takes the ACCESS SHARE lock that reading a mart table's definition needs, on the table and
/// every partition, waiting at most `pg_datamart.lock_timeout`: a table locked by another
/// session (LOCK TABLE, a long DDL) refuses the sync with 55P03 naming the table and the
/// holders, before anything is planned, instead of a sync that hangs unseen. The locks are the
/// ones the planning takes anyway (held to the end of the transaction).
pub fn lock_for_reading(oid: u32, display: &str, waiting: Waiting) -> DmResult<()> {
    let rels: Vec<(u32, i32)> = with_partitions(oid)?
        .into_iter()
        .map(|r| (r, pgrx::pg_sys::AccessShareLock as i32))
        .collect();
    lock_within_timeout(oid, display, &rels, "", waiting)
}

/// Takes each (relation, mode) of table `table` (`display`: "mart table public.x") with conditional requests,
/// retried every 50 ms until `pg_datamart.lock_timeout` (0: no limit): never queued, so a sync
/// waiting for a lock holds up no other session behind it. While it waits, `waiting` is told
/// once who holds the lock; on timeout the error (55P03) names the table, the setting, what
/// the lock was for (`purpose`, e.g. " to attach a partition") and the holders.
pub fn lock_within_timeout(
    table: u32,
    display: &str,
    rels: &[(u32, i32)],
    purpose: &str,
    waiting: Waiting,
) -> DmResult<()> {
    let limit = crate::gucs::lock_timeout_ms();
    let deadline = Instant::now() + Duration::from_millis(limit.max(0) as u64);
    let mut told = false;
    for &(rel, mode) in rels {
        loop {
            // SAFETY: a conditional lock request; no wait, no error.
            let got = unsafe {
                pgrx::pg_sys::ConditionalLockRelationOid(pgrx::pg_sys::Oid::from(rel), mode)
            };
            if got {
                break;
            }
            if limit > 0 && Instant::now() >= deadline {
                return Err(crate::error::DmError::Conflict {
                    code: PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
                    message: format!(
                        "{display} is locked by another session: waited pg_datamart.lock_timeout = {limit} ms{purpose}; held by {}",
                        holders_of(table, mode)
                    ),
                    detail: "Nothing was loaded.".into(),
                    hint: "End the blocking transaction (or pg_cancel_backend its pid), then sync again; SET pg_datamart.lock_timeout changes how long a sync waits.".into(),
                });
            }
            if !told {
                told = true;
                let who = first_holder(table, mode)
                    .map(|pid| format!("pid {pid}"))
                    .unwrap_or_else(|| "another session".into());
                waiting(&format!(
                    "waiting for {who}, which holds a lock on {display}{purpose} (at most pg_datamart.lock_timeout = {limit} ms): {}",
                    holders_of(table, mode)
                ))?;
            }
            pause(&format!("a lock on {display}{purpose}"))?;
        }
    }
    Ok(())
}

/// Serializes the creation of one monthly partition of mart table `table` among syncs (a
/// transaction-level advisory lock on the table and the month, held until the creating
/// sync's table commits), so that two syncs of disjoint accounts needing the same new month
/// do not both create it. `wait`: retry (noting for whom the sync waits) until
/// `pg_datamart.lock_timeout`; else try once. False: another sync is creating it now.
pub fn partition_creation(
    table: u32,
    display: &str,
    partition: &str,
    month: chrono::NaiveDate,
    wait: bool,
    waiting: Waiting,
) -> DmResult<bool> {
    use chrono::Datelike;
    let key: i64 = ((table as i64) << 24) | i64::from(month.year() * 12 + month.month0() as i32);
    let limit = crate::gucs::lock_timeout_ms();
    let deadline = Instant::now() + Duration::from_millis(limit.max(0) as u64);
    let mut told = false;
    loop {
        let got = Spi::get_one_with_args::<bool>(
            pg_datamart_plan::control::TRY_XACT_LOCK_SQL,
            &[key.into()],
        )
        .doing("taking the partition creation lock")?
        .unwrap_or(false);
        if got || !wait {
            return Ok(got);
        }
        let who = || {
            read_json::<i32>(
                pg_datamart_plan::control::XACT_LOCK_HOLDER_SQL,
                &[key.into()],
                "partition creation lock holders",
            )
            .ok()
            .flatten()
            .map(|pid| format!("pid {pid}"))
            .unwrap_or_else(|| "another session".into())
        };
        if limit > 0 && Instant::now() >= deadline {
            return Err(crate::error::DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
                message: format!(
                    "{display}: partition {partition} is being created by another sync ({}): waited pg_datamart.lock_timeout = {limit} ms",
                    who()
                ),
                detail: "Nothing was loaded.".into(),
                hint: "Sync again once that sync's table has committed.".into(),
            });
        }
        if !told {
            told = true;
            waiting(&format!(
                "waiting for {}, which is creating partition {partition} of {display} (at most pg_datamart.lock_timeout = {limit} ms)",
                who()
            ))?;
        }
        pause(&format!("partition {partition} of {display}"))?;
    }
}

/// Waits 50 ms between two lock attempts, or less when the backend's latch is set. A cancel
/// (pg_cancel_backend, statement_timeout, the watchdog) that arrives meanwhile is taken over
/// here, not raised by PostgreSQL mid-wait: it comes back as an error (57014) saying what the
/// sync was waiting for, so that the caller records the run or the step as cancelled before
/// the error ends the statement. A termination is left to PostgreSQL.
fn pause(waiting_for: &str) -> DmResult<()> {
    // SAFETY: the backend's own latch and interrupt flags, on the backend's thread.
    unsafe {
        pgrx::pg_sys::WaitLatch(
            pgrx::pg_sys::MyLatch,
            (pgrx::pg_sys::WL_LATCH_SET
                | pgrx::pg_sys::WL_TIMEOUT
                | pgrx::pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            50,
            pgrx::pg_sys::PG_WAIT_EXTENSION,
        );
        pgrx::pg_sys::ResetLatch(pgrx::pg_sys::MyLatch);
    }
    // A termination is served at once, even while a run's start holds off interrupts.
    // SAFETY: the backend's own flags; the process exits in the check below.
    unsafe {
        if pgrx::pg_sys::ProcDiePending != 0 {
            pgrx::pg_sys::InterruptHoldoffCount = 0;
        }
    }
    cancel_pending(&format!("waiting for {waiting_for}"))?;
    // PostgreSQL's own interrupt check (a termination ends the backend here).
    pgrx::pg_sys::check_for_interrupts!();
    Ok(())
}

/// A cancel request that arrived while interrupts were held off (or since the last check),
/// taken over as an error (57014) saying what the sync was doing; a termination is left to
/// PostgreSQL.
pub fn cancel_pending(doing: &str) -> DmResult<()> {
    // SAFETY: the backend's own interrupt flags, on the backend's thread.
    unsafe {
        if pgrx::pg_sys::ProcDiePending == 0 && pgrx::pg_sys::QueryCancelPending != 0 {
            pgrx::pg_sys::QueryCancelPending = 0;
            return Err(crate::error::DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                message: format!(
                    "canceling statement (pg_cancel_backend, statement_timeout or the watchdog) while {doing}"
                ),
                detail: "Nothing was loaded.".into(),
                hint: "Sync again; CALL dm_resume(run_id) continues a cancelled run.".into(),
            });
        }
    }
    Ok(())
}

/// Who holds a lock that conflicts with `k`, in words.
fn holder(k: LockKey, mart_name: &str) -> DmResult<String> {
    let who: Option<String> = read_json(
        pg_datamart_plan::control::ADVISORY_HOLDERS_SQL,
        &[(k.table as i64).into(), (k.item as i64).into()],
        "lock holders",
    )?;
    let what = if k.item == 0 {
        format!("table {mart_name}")
    } else {
        format!("an account of {mart_name}")
    };
    Ok(format!(
        "{what} is being loaded by {}",
        who.unwrap_or_else(|| "another session".into())
    ))
}

/// Takes the run's locks, retrying each for up to `pg_datamart.lock_wait`; on timeout releases
/// what it took and says who holds the lock it could not get.
pub fn acquire(section: &Section, keys: &[LockKey]) -> DmResult<Result<(), String>> {
    release_all()?;
    let deadline =
        Instant::now() + Duration::from_millis(crate::gucs::lock_wait_ms().max(0) as u64);
    for &k in keys {
        loop {
            if try_lock(k)? {
                HELD.with(|h| h.borrow_mut().push(k));
                break;
            }
            if Instant::now() >= deadline {
                let name = section
                    .tables
                    .iter()
                    .find(|t| t.mart_table as i32 == k.table)
                    .map(|t| t.mart_table_name.clone())
                    .unwrap_or_default();
                let who = holder(k, &name)?;
                release_all()?;
                return Ok(Err(format!(
                    "busy: {who}; gave up after {} ms (pg_datamart.lock_wait)",
                    crate::gucs::lock_wait_ms()
                )));
            }
            if let Err(e) = pause("the run's advisory locks") {
                release_all()?;
                return Err(e);
            }
        }
    }
    Ok(Ok(()))
}

/// Refuses a sync of a role that is not a superuser when it already runs
/// `pg_datamart.max_syncs_per_role` syncs (each holds a background worker slot for its status
/// writer, waiting or loading): no role can take every slot and so make other roles' syncs
/// fail. 53400, before anything is recorded (it counts towards no ban).
pub fn check_syncs_per_role() -> DmResult<()> {
    // SAFETY: reads the current user's superuser flag from the catalog cache.
    if unsafe { pgrx::pg_sys::superuser() } {
        return Ok(());
    }
    let limit = crate::gucs::max_syncs_per_role();
    let running = Spi::get_one::<i64>(pg_datamart_plan::control::OWN_RUNNING_SQL)
        .doing("counting the role's running syncs")?
        .unwrap_or(0);
    if running >= limit {
        return Err(crate::error::DmError::Conflict {
            code: PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
            message: format!(
                "role {} already runs {running} syncs (pg_datamart.max_syncs_per_role = {limit})",
                crate::control::privileges::current_user()
            ),
            detail: "Nothing was recorded or loaded.".into(),
            hint: "Wait for one of them to end (see dm_status), or have a superuser raise pg_datamart.max_syncs_per_role.".into(),
        });
    }
    Ok(())
}

/// Why new syncs of `section` must not start now: paused, or banned.
pub fn refusal(section: &str) -> DmResult<Option<String>> {
    let paused: Option<String> = read_json(
        pg_datamart_plan::control::PAUSED_SQL,
        &[section.into()],
        "the pause switch",
    )?;
    if paused.is_some() {
        return Ok(paused);
    }
    ban(section, &crate::control::privileges::current_user())
}

/// Why `section` is banned for `role` now (pg_datamart.max_failures consecutive failures of
/// its own work in the syncs `role` ran, less than pg_datamart.ban_duration ago, none of them
/// before the section's last `dm_unban`), if it is.
pub fn ban(section: &str, role: &str) -> DmResult<Option<String>> {
    let max = crate::gucs::max_failures();
    if max <= 0 {
        return Ok(None);
    }
    read_json(
        pg_datamart_plan::control::BAN_SQL,
        &[
            section.into(),
            (max as i64).into(),
            crate::gucs::ban_minutes().into(),
            pg_datamart_plan::control::BAN_EXEMPT_CLASSES
                .map(String::from)
                .to_vec()
                .into(),
            pg_datamart_plan::control::BAN_EXEMPT_CODES
                .map(String::from)
                .to_vec()
                .into(),
            role.into(),
        ],
        "recent failures",
    )
}

/// A VACUUM (or autovacuum) running on a table about to be loaded.
#[derive(Debug, Clone, Deserialize)]
pub struct Vacuum {
    pub target: String,
    pub pid: i32,
}

/// The VACUUMs running now on any of `targets` (SQL names; partitions not created yet are ignored).
pub fn running_vacuums(targets: &[String]) -> DmResult<Vec<Vacuum>> {
    Ok(read_json(
        pg_datamart_plan::control::VACUUMS_SQL,
        &[targets.to_vec().into()],
        "running vacuums",
    )?
    .unwrap_or_default())
}

/// What the section's VACUUM policy decided for a table.
pub enum VacuumOutcome {
    /// Load; the note says what was seen or waited for, and which partitions are being vacuumed
    /// still (their storage parameters and ANALYZE are left for a later sync).
    Load {
        note: Option<String>,
        busy: Vec<String>,
    },
    Skip(String),
}

pub fn vacuum_policy(section: &Section, targets: &[String]) -> DmResult<VacuumOutcome> {
    let describe = |v: &[Vacuum]| {
        v.iter()
            .map(|v| format!("{} (pid {})", v.target, v.pid))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut running = running_vacuums(targets)?;
    if running.is_empty() {
        return Ok(VacuumOutcome::Load {
            note: None,
            busy: vec![],
        });
    }
    match section.vacuum_policy {
        VacuumPolicy::Skip => Ok(VacuumOutcome::Skip(format!(
            "skipped: VACUUM running on {}",
            describe(&running)
        ))),
        VacuumPolicy::Proceed => Ok(VacuumOutcome::Load {
            note: Some(format!("loaded while VACUUM ran on {}", describe(&running))),
            busy: running.iter().map(|v| v.target.clone()).collect(),
        }),
        VacuumPolicy::Wait => {
            let started = Instant::now();
            let first = describe(&running);
            while !running.is_empty()
                && started.elapsed().as_secs_f64() < section.vacuum_wait as f64
            {
                Spi::run(pg_datamart_plan::control::SLEEP_SQL).doing("waiting for VACUUM")?;
                running = running_vacuums(targets)?;
            }
            let waited = started.elapsed().as_secs_f64();
            let note = if running.is_empty() {
                format!("waited {waited:.1} s for VACUUM on {first} to finish")
            } else {
                format!(
                    "VACUUM on {} still running after {waited:.1} s (vacuum_wait); loaded anyway",
                    describe(&running)
                )
            };
            Ok(VacuumOutcome::Load {
                note: Some(note),
                busy: running.iter().map(|v| v.target.clone()).collect(),
            })
        }
    }
}

pub fn set_pause(section: Option<&str>, on: bool) -> DmResult<String> {
    let key = section.unwrap_or("*");
    if let Some(s) = section {
        crate::catalog::section(s)?;
    }
    if on {
        Spi::run_with_args(pg_datamart_plan::control::PAUSE_SQL, &[key.into()]).doing("pausing")?;
    } else if section.is_none() {
        Spi::run(pg_datamart_plan::control::UNPAUSE_ALL_SQL).doing("unpausing")?;
    } else {
        Spi::run_with_args(pg_datamart_plan::control::UNPAUSE_SQL, &[key.into()])
            .doing("unpausing")?;
    }
    let what = section
        .map(|s| format!("section {s}"))
        .unwrap_or_else(|| "all sections".into());
    Ok(if on {
        format!("{what} paused: new syncs are skipped, running ones finish")
    } else {
        format!("{what} unpaused")
    })
}
