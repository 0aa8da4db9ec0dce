//! A step: one table of a run loaded in the driver's transaction ([`step`]), and what this
//! session remembers of how it ended (loaded, failed, cancelled) for [`crate::run::end`] to
//! record once the driver has committed or rolled back.

use crate::catalog;
use crate::control::guard;
use crate::error::{report, DmError, DmResult};
use crate::exec::load::load_table;
use crate::run::table::{remote_timeout, RemoteTimeout, TableState};
use crate::status::{self, Run};
use pg_datamart_plan::snapshot::Section;
use pg_datamart_plan::status::StepResult;
use pgrx::pg_sys::panic::{CaughtError, ErrorReport};
use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use std::time::Instant;

/// A step `dm._sync_step` loaded: run, position, result, and the id of the (sub)transaction
/// that wrote its rows.
pub(super) type Loaded = (i64, i32, StepResult, pgrx::pg_sys::TransactionId);

/// Whether the load written by transaction `xid` committed: false while it is still in
/// progress (`dm._step_done` before the COMMIT) and when it was rolled back (a ROLLBACK, or a
/// ROLLBACK TO SAVEPOINT around `dm._sync_step`), so no rolled-back load is recorded as done.
pub(super) fn load_committed(xid: pgrx::pg_sys::TransactionId) -> bool {
    // SAFETY: reads the commit log for an xid this backend assigned; no side effects.
    unsafe { pgrx::pg_sys::TransactionIdDidCommit(xid) }
}

/// Why the last step of this backend was cancelled, for [`crate::run::end::step_cancelled`]: (run, position,
/// PostgreSQL's message, e.g. "canceling statement due to statement timeout").
pub(super) struct CancelReason(pub i64, pub i32, pub String);

/// How the last `dm._sync_step` of this backend failed, for [`crate::run::end::step_failed`]: (run,
/// position,
/// SQLSTATE, message with its detail) as raised, so that the failure recorded is the one that
/// happened, never one a caller of the step makes up.
pub(super) struct StepFailure(pub i64, pub i32, pub String, pub String);

impl StepFailure {
    fn remember(
        run_id: i64,
        position: i32,
        code: PgSqlErrorCode,
        message: &str,
        detail: Option<&str>,
    ) {
        let text = match detail.filter(|d| !d.is_empty()) {
            Some(d) => format!("{message}\n{d}"),
            None => message.to_string(),
        };
        FAILED.with(|f| {
            *f.borrow_mut() = Some(StepFailure(
                run_id,
                position,
                crate::error::sqlstate_text(code),
                text,
            ))
        });
    }
}

thread_local! {
    static FAILED: std::cell::RefCell<Option<StepFailure>> = const { std::cell::RefCell::new(None) };
    static CANCELLED: std::cell::RefCell<Option<CancelReason>> = const { std::cell::RefCell::new(None) };
    /// What the last `dm._sync_step` of this session loaded (run, position, result, and the
    /// (sub)transaction that wrote it), for `dm._step_done` to record after the driver's
    /// COMMIT: only a real load whose changes committed is recorded.
    static LOADED: std::cell::RefCell<Option<Loaded>> = const { std::cell::RefCell::new(None) };
}

/// How the last step of this session failed, taken (for `dm._step_failed`).
pub(super) fn take_failure() -> Option<StepFailure> {
    FAILED.with(|f| f.borrow_mut().take())
}

/// Why the last step of this session was cancelled, taken (for `dm._step_cancelled`).
pub(super) fn take_cancel_reason() -> Option<CancelReason> {
    CANCELLED.with(|c| c.borrow_mut().take())
}

/// What the last step of this session loaded, taken (for `dm._step_done`).
pub(super) fn take_loaded() -> Option<Loaded> {
    LOADED.with(|l| l.borrow_mut().take())
}

/// Loads one table of a run in the caller's transaction; returns its counts and seconds for
/// [`crate::run::end::step_done`], which records them after the caller has committed. On error nothing of the
/// table is kept (the caller's subtransaction rolls back). A cancel (pg_cancel_backend,
/// statement_timeout, the watchdog) in the middle of the load is raised again with the same
/// SQLSTATE and a message naming the table and the foreign server, and its reason is kept
/// for [`crate::run::end::step_cancelled`].
pub fn step(run_id: i64, position: i32) -> Result<JsonB, ErrorReport> {
    FAILED.with(|f| *f.borrow_mut() = None);
    // Whatever ends the step with an error (its own, or one PostgreSQL raised below it) is
    // remembered as raised, for dm._step_failed to record, then raised on.
    Ok(PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
        match load_one_step(run_id, position) {
            Ok(result) => result,
            Err(report) => {
                report.report(pgrx::PgLogLevel::ERROR);
                unreachable!("an ERROR does not return")
            }
        }
    }))
    .catch_others(|e| {
        let r = match &e {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
            CaughtError::RustPanic { ereport, .. } => ereport,
        };
        StepFailure::remember(
            run_id,
            position,
            r.sql_error_code(),
            r.message(),
            r.detail(),
        );
        e.rethrow()
    })
    .execute())
}

/// [`step`]'s work.
fn load_one_step(run_id: i64, position: i32) -> Result<JsonB, ErrorReport> {
    // The plan the step before made of this table, if it made one (see TableState::for_step).
    let mut handed = TableState::take_handed(run_id, position);
    let (run, section, loading, timeout) = report(|| {
        guard::bound_lock_waits()?;
        let run = Run::load(run_id)?;
        let section = catalog::section(&run.section)?;
        let step = run.step(position)?;
        let loading = format!(
            "table {} ({position} of {}) from foreign server \"{}\"",
            step.mart_table,
            run.total_tables(),
            section.server
        );
        // Read before the load, once: the timeout the table is planned with, and what a
        // warehouse-side timeout would be explained with. The step before read it when it
        // planned this table.
        let timeout = match &handed {
            Some(h) => h.timeout.clone(),
            None => remote_timeout(step.mart_oid, run.accounts.len(), &run.window())?,
        };
        Ok((run, section, loading, timeout))
    })?;
    let table = run
        .step(position)
        .map(|s| s.mart_table.clone())
        .unwrap_or_default();
    LOADED.with(|l| *l.borrow_mut() = None);
    PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
        report(|| {
            load_step(&run, position, &section, timeout.clone(), handed.take())
                .map_err(|e| match e {
                    DmError::Remote {
                        code: PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                        message,
                        detail,
                        hint,
                    } => match timeout.explain(&table, &message) {
                        Some(explained) => DmError::Remote {
                            code: PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                            message: explained,
                            detail,
                            hint: format!("{} {hint}", RemoteTimeout::HINT),
                        },
                        None => DmError::Remote {
                            code: PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                            message,
                            detail,
                            hint,
                        },
                    },
                    e => e,
                })
                .inspect_err(|e| {
                    // A cancel the load reported itself: its message is the reason recorded.
                    if e.sqlstate() == PgSqlErrorCode::ERRCODE_QUERY_CANCELED {
                        CANCELLED.with(|c| {
                            *c.borrow_mut() = Some(CancelReason(run_id, position, e.to_string()))
                        });
                    }
                })
        })
    }))
    .catch_when(PgSqlErrorCode::ERRCODE_QUERY_CANCELED, |e| {
        let why = match &e {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r.message().to_string(),
            CaughtError::RustPanic { ereport, .. } => ereport.message().to_string(),
        };
        let (why, hint) = match timeout.explain(&table, &why) {
            Some(explained) => (explained, format!("{} Then ", RemoteTimeout::HINT)),
            None => (why, String::new()),
        };
        CANCELLED.with(|c| *c.borrow_mut() = Some(CancelReason(run_id, position, why.clone())));
        Err(ErrorReport::new(
            PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            format!("{why} while loading {loading}"),
            "pg_datamart",
        )
        .set_detail(format!(
            "The table was rolled back; tables before it are loaded and committed. See dm.run_step for run {run_id}."
        ))
        .set_hint(format!("{hint}CALL dm_resume({run_id}) to continue from this table.")))
    })
    .execute()
}

fn load_step(
    run: &Run,
    position: i32,
    section: &Section,
    timeout: RemoteTimeout,
    handed: Option<TableState>,
) -> DmResult<JsonB> {
    let _loading = guard::Loading::begin();
    let step = run.step(position)?;
    let schemas = catalog::schemas()?;
    let started = Instant::now();
    status::step_started(run, step)?;
    guard::lock_for_reading(
        step.mart_oid,
        &format!("mart table {}", step.mart_table),
        &mut note_on(run, position),
    )?;
    let table = TableState::for_step(run, position, section, &schemas, timeout, handed)?;
    let plan = &table.plan;
    crate::exec::partition::check_default(&plan.partitions)?;
    let result = match guard::vacuum_policy(section, &plan.partitions.touched)? {
        guard::VacuumOutcome::Skip(why) => StepResult::Skipped { why },
        guard::VacuumOutcome::Load { note, busy } => {
            if let Some(n) = &note {
                status::step_note(run, step, n)?;
            }
            let next = TableState::next(run, position, section, &schemas);
            let counts = load_table(
                plan,
                &busy,
                Some((run.run_id, position)),
                next.as_ref().map(|n| (run.run_id, n.position, &n.plan)),
                |pid| status::step_remote_pid(run, step, pid, &plan.stream.server),
                &mut note_on(run, position),
            )?;
            // The next step plans its table once: with this plan, when nothing it was made
            // from changed by then.
            if let Some(next) = next {
                next.hand_forward();
            }
            StepResult::Loaded {
                counts,
                seconds: started.elapsed().as_secs_f64(),
                note,
            }
        }
    };
    // SAFETY: assigns (if needed) and returns the id of the (sub)transaction running the load.
    let xid = unsafe { pgrx::pg_sys::GetCurrentTransactionId() };
    LOADED.with(|l| *l.borrow_mut() = Some((run.run_id, position, result.clone(), xid)));
    Ok(JsonB(serde_json::to_value(result).map_err(|e| {
        DmError::invalid_definition(
            "a step's result could not be written",
            e.to_string(),
            "This is a bug in pg_datamart; please report it.",
        )
    })?))
}

/// The note a step gets while its table's lock is awaited.
pub(super) fn note_on(run: &Run, position: i32) -> impl FnMut(&str) -> DmResult<()> + '_ {
    move |note: &str| match run.step(position) {
        Ok(step) => status::step_note(run, step, note),
        Err(_) => Ok(()),
    }
}
