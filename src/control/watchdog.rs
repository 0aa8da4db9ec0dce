//! The watchdog, meant for pg_cron every minute: flags a run that takes longer than
//! `watchdog_warn_factor` times the previous successful run of its section, cancels one past
//! `watchdog_kill_factor` (its query on the warehouse first, then the local backend when it is
//! not waiting on the warehouse), and reports sections banned after repeated failures. Runs
//! shorter than `watchdog_min_duration` are left alone. Returns what it did.

use crate::catalog::read_json;
use crate::error::{DmResult, SpiContext};
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Running {
    run_id: i64,
    section: String,
    pid: i32,
    elapsed: f64,
    previous: Option<f64>,
    warned: bool,
    server: Option<String>,
    remote_pid: Option<i32>,
    table: Option<String>,
}

/// What the watchdog did: run, section, action, detail.
pub type Action = (Option<i64>, String, String, String);

/// Cancels the run's query on the warehouse; true when a query was cancelled there. Tried only
/// when this role may use the server through a user mapping of its own (or PUBLIC's); a
/// warehouse that refuses (another warehouse role's query) answers false, and the local
/// backend is cancelled instead (which cancels its warehouse query itself).
fn cancel_remote(r: &Running) -> DmResult<bool> {
    let (Some(server), Some(pid)) = (&r.server, r.remote_pid) else {
        return Ok(false);
    };
    let usable = crate::catalog::exists(
        pg_datamart_plan::control::REMOTE_CANCEL_USABLE_SQL,
        &[server.as_str().into()],
        "the warehouse's user mapping",
    )?;
    if !usable {
        return Ok(false);
    }
    let schemas = crate::catalog::schemas()?;
    Ok(
        Spi::get_one::<bool>(&pg_datamart_plan::control::cancel_remote(
            &schemas, server, pid,
        ))
        .doing("cancelling the query on the warehouse")?
        .unwrap_or(false),
    )
}

/// What PostgreSQL's backend status array holds for one backend.
struct Backend {
    database: pg_sys::Oid,
    started: pg_sys::TimestampTz,
    /// The role it logged in as (`st_userid`; pg_stat_activity's `usename`).
    login: pg_sys::Oid,
}

/// Backend `pid` as PostgreSQL's backend status array shows it, read directly: the
/// `pg_stat_activity` view hides other roles' backends (database, start, role) from a role
/// without `pg_read_all_stats`, which the watchdog must not need.
fn backend(pid: i32) -> Option<Backend> {
    // SAFETY: pgstat_fetch_stat_numbackends and pgstat_fetch_stat_beentry read this backend's
    // snapshot of the shared backend status array (taken on first use in the transaction, as
    // for pg_stat_activity, and kept until it ends); entries 1..=n are null or point into it.
    // Only plain fields are copied out, within this call.
    unsafe {
        let n = pg_sys::pgstat_fetch_stat_numbackends();
        for i in 1..=n {
            let e = pg_sys::pgstat_fetch_stat_beentry(i);
            if !e.is_null() && (*e).st_procpid == pid {
                return Some(Backend {
                    database: (*e).st_databaseid,
                    started: (*e).st_proc_start_timestamp,
                    login: (*e).st_userid,
                });
            }
        }
    }
    None
}

/// Whether backend `r.pid` really runs run `r.run_id`: it is in this database, it started
/// before the run did, it logged in as the role the run's status writer recorded
/// (`login_role`, which `SET ROLE` does not change; `run_by` for runs recorded before 0.5.0),
/// and it holds pg_datamart's session advisory lock on a table of the run's section (taken at
/// the start of every run and held to its end). A run row naming any other backend (a stale
/// row, a reused pid) is never acted on. The backend is read from PostgreSQL's backend status
/// array and the locks from `pg_locks` (public), so this needs no `pg_read_all_stats`.
fn runs_it(r: &Running) -> DmResult<bool> {
    let Some(b) = backend(r.pid) else {
        return Ok(false);
    };
    // SAFETY: a plain read of this backend's database oid.
    if b.database != unsafe { pg_sys::MyDatabaseId } {
        return Ok(false);
    }
    // SAFETY: GetUserNameFromId with noerr = true returns null for a role that does not
    // exist (an auxiliary process has none), else a palloc'd C string, copied at once.
    let login = unsafe {
        let name = pg_sys::GetUserNameFromId(b.login, true);
        if name.is_null() {
            return Ok(false);
        }
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    };
    let Ok(started) = pgrx::datum::TimestampWithTimeZone::try_from(b.started) else {
        return Ok(false);
    };
    crate::catalog::exists(
        pg_datamart_plan::control::RUNS_IT_SQL,
        &[
            r.pid.into(),
            r.run_id.into(),
            started.into(),
            login.as_str().into(),
        ],
        "the run's backend",
    )
}

fn check(r: &Running) -> DmResult<Option<Action>> {
    let Some(previous) = r.previous.filter(|p| *p > 0.0) else {
        return Ok(None);
    };
    if r.elapsed < crate::gucs::watchdog_min_seconds() {
        return Ok(None);
    }
    let factor = r.elapsed / previous;
    let how = format!(
        "running {:.1} s, {factor:.1}x the previous successful run ({previous:.1} s){}",
        r.elapsed,
        r.table
            .as_ref()
            .map(|t| format!(", loading {t}"))
            .unwrap_or_default()
    );
    let at = Spi::get_one::<String>(pg_datamart_plan::control::WATCHDOG_CLOCK_SQL)
        .doing("reading the time")?
        .unwrap_or_default();
    if factor > crate::gucs::kill_factor() {
        if !runs_it(r)? {
            return Ok(Some((
                Some(r.run_id),
                r.section.clone(),
                "unverified".into(),
                format!(
                    "not cancelled: backend {} is not running run {} (it is gone, is in another database, started after the run, logged in as another role than the run's, or holds none of the run's locks)",
                    r.pid, r.run_id
                ),
            )));
        }
        let remote = cancel_remote(r)?;
        if !remote {
            Spi::run_with_args(
                pg_datamart_plan::control::CANCEL_BACKEND_SQL,
                &[r.pid.into()],
            )
            .doing("cancelling the sync")?;
        }
        let detail = format!(
            "cancelled by dm_watchdog at {at}: {how}; {}",
            if remote {
                "its query on the warehouse was cancelled"
            } else {
                "its backend was cancelled"
            }
        );
        crate::status::watchdog_note(r.run_id, &detail, false)?;
        crate::status::watchdog_notify(r.run_id, &r.section, "cancelled", &detail)?;
        return Ok(Some((
            Some(r.run_id),
            r.section.clone(),
            "cancelled".into(),
            detail,
        )));
    }
    if factor > crate::gucs::warn_factor() && !r.warned {
        let detail = format!("flagged by dm_watchdog at {at}: {how}");
        crate::status::watchdog_note(r.run_id, &detail, true)?;
        crate::status::watchdog_notify(r.run_id, &r.section, "warned", &detail)?;
        return Ok(Some((
            Some(r.run_id),
            r.section.clone(),
            "warned".into(),
            detail,
        )));
    }
    Ok(None)
}

/// One watchdog pass: reconcile, then flag or cancel long runs, then list banned sections.
pub fn run() -> DmResult<Vec<Action>> {
    crate::status::reconcile()?;
    let running: Vec<Running> =
        read_json(pg_datamart_plan::status::RUNNING_SQL, &[], "running runs")?.unwrap_or_default();
    let mut actions = Vec::new();
    for r in &running {
        if let Some(a) = check(r)? {
            actions.push(a);
        }
    }
    let sections: Vec<String> =
        read_json(pg_datamart_plan::config::SECTIONS_SQL, &[], "sections")?.unwrap_or_default();
    for s in sections {
        let roles: Vec<String> = read_json(
            pg_datamart_plan::control::BAN_CANDIDATES_SQL,
            &[s.as_str().into(), crate::gucs::ban_minutes().into()],
            "roles whose syncs failed",
        )?
        .unwrap_or_default();
        for role in roles {
            if let Some(ban) = crate::control::guard::ban(&s, &role)? {
                actions.push((None, s.clone(), "banned".into(), ban));
            }
        }
    }
    Ok(actions)
}
