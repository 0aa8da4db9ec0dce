//! How a step and a run end: a step's outcome recorded after the driver's COMMIT or ROLLBACK
//! ([`step_done`], [`step_failed`], [`step_cancelled`]), each only as this session's step
//! ([`crate::run::step`]) remembered it; and the run's success ([`run_finish`]).

use crate::catalog;
use crate::control::guard;
use crate::error::{DmError, DmResult};
use crate::run::step::{
    load_committed, take_cancel_reason, take_failure, take_loaded, CancelReason, StepFailure,
};
use crate::run::table::drop_hand_over;
use crate::status::{self, Run};
use pg_datamart_plan::domain::{Failure, RunStatus, StepStatus};
use pg_datamart_plan::snapshot::{Section, SectionTable};
use pg_datamart_plan::status::StepResult;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// Records a committed table and reports it. The result recorded is the one this session's
/// `dm._sync_step` kept, so a hand-made one is never recorded, and only once the transaction
/// that loaded it has committed.
pub fn step_done(run_id: i64, position: i32) -> DmResult<()> {
    let run = Run::load(run_id)?;
    let step = run.step(position)?;
    let result = match take_loaded() {
        Some((r, p, loaded, xid)) if r == run_id && p == position && load_committed(xid) => {
            loaded
        }
        _ => {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: format!("step {position} of run {run_id} was not just loaded and committed by this session"),
                detail: "dm._step_done records what dm._sync_step loaded, after the driver's COMMIT; a load rolled back (or not yet committed) is not recorded.".into(),
                hint: "Use CALL dm_sync(...) or CALL dm_resume(...); the dm._* functions are its steps.".into(),
            })
        }
    };
    match result {
        StepResult::Skipped { why } => {
            status::step_skipped(&run, step, &why)?;
            status::notice(&format!(
                "{} run {run_id} [{position}/{}] {}: {why}",
                run.section,
                run.total_tables(),
                step.mart_table
            ));
        }
        StepResult::Loaded {
            counts: c,
            seconds,
            note,
        } => {
            let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
            status::step_succeeded(&run, step, &c, seconds)?;
            status::notice(&format!(
                "{} run {run_id} [{position}/{}] {}: fetched {}, deleted {}, inserted {}, updated {} in {:.2} s{note}",
                run.section,
                run.total_tables(),
                step.mart_table,
                c.fetched,
                c.deleted,
                c.inserted,
                c.updated,
                seconds
            ));
        }
    }
    Ok(())
}

/// Records the failure of a step (already rolled back) and of its run; returns the message the
/// driver raises: which table, which position, what went wrong, secrets masked.
/// What is recorded is the error this session's `dm._sync_step` raised for that step, so a
/// step called by hand can neither record a failure that did not happen nor choose its text
/// (55000 otherwise).
pub fn step_failed(run_id: i64, position: i32) -> DmResult<String> {
    // The tables after it are not loaded: a prefetched query is cancelled.
    drop_hand_over();
    let _held = status::Uninterrupted::hold();
    let failure = take_failure();
    let (sqlstate, message) = match failure {
        Some(StepFailure(r, p, state, text)) if r == run_id && p == position => (state, text),
        _ => {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: format!("step {position} of run {run_id} did not just fail in this session"),
                detail: "dm._step_failed records the error this session's dm._sync_step raised for that step; nothing else.".into(),
                hint: "Use CALL dm_sync(...) or CALL dm_resume(...); the dm._* functions are its steps.".into(),
            })
        }
    };
    let (sqlstate, message) = (sqlstate.as_str(), message.as_str());
    let run = Run::load(run_id)?;
    let step = run.step(position)?;
    // A warehouse "column does not exist": say which mart column and what could match.
    // A lock wait that ran out: say on what, who holds it, and the setting.
    let message = if sqlstate == "55P03" && !message.contains("pg_datamart.lock_timeout") {
        format!(
            "{message} (waited pg_datamart.lock_timeout = {} ms for a lock on {}; held by {})",
            crate::gucs::lock_timeout_ms(),
            step.mart_table,
            guard::lock_holders(step.mart_oid)
        )
    } else {
        message.to_string()
    };
    let message = message.as_str();
    let explained = (sqlstate == "42703")
        .then(|| {
            let section = catalog::section(&run.section).ok()?;
            let table = section.table(step.mart_oid)?;
            explain_missing(&section, table)
        })
        .flatten();
    let error = status::scrub_secrets(&match explained {
        Some(why) => format!(
            "{why}. Declare the right column with dm_map_column, or run dm_discover_columns('{}'). ({message})",
            run.section
        ),
        None => message.to_string(),
    });
    let run_error = format!(
        "table {} ({position} of {}) failed: {error}",
        step.mart_table,
        run.total_tables()
    );
    status::step_ended_badly(&run, step, Failure::Failed, sqlstate, &error, &run_error)?;
    status::close_link()?;
    guard::release_all()?;
    status::notice(&format!("{} run {run_id} failed: {run_error}", run.section));
    Ok(format!("dm_sync {} run {run_id}: {run_error}", run.section))
}

/// Records a step and its run as cancelled (the table was rolled back).
pub fn step_cancelled(run_id: i64, position: i32) -> DmResult<()> {
    drop_hand_over();
    let _held = status::Uninterrupted::hold();
    let run = Run::load(run_id)?;
    let step = run.step(position)?;
    let reason = take_cancel_reason();
    let why = match reason {
        Some(CancelReason(r, p, why)) if r == run_id && p == position => {
            format!("{why}: the table was rolled back")
        }
        _ => "canceling statement due to user request: the table was rolled back".into(),
    };
    let run_error = format!(
        "cancelled while loading table {} ({position} of {})",
        step.mart_table,
        run.total_tables()
    );
    status::step_ended_badly(&run, step, Failure::Cancelled, "57014", &why, &run_error)?;
    status::close_link()?;
    guard::release_all()?;
    status::notice(&format!("{} run {run_id} {run_error}", run.section));
    Ok(())
}

/// Marks a run succeeded and reports its totals.
pub fn run_finish(run_id: i64) -> DmResult<()> {
    drop_hand_over();
    let run = Run::load(run_id)?;
    if let Some(open) = run
        .steps
        .iter()
        .find(|s| !matches!(s.status, StepStatus::Succeeded | StepStatus::Skipped))
    {
        return Err(DmError::Conflict {
            code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            message: format!(
                "run {run_id} cannot succeed: table {} ({} of {}) is {}",
                open.mart_table,
                open.position,
                run.total_tables(),
                open.status
            ),
            detail: "A run succeeds when every one of its tables was loaded or skipped.".into(),
            hint:
                "Use CALL dm_sync(...) or CALL dm_resume(...); the dm._* functions are its steps."
                    .into(),
        });
    }
    status::run_finished(&run, RunStatus::Succeeded, None, None)?;
    status::close_link()?;
    guard::release_all()?;
    let (rows, secs) = Spi::get_two_with_args::<i64, f64>(
        pg_datamart_plan::status::RUN_TOTALS_SQL,
        &[run_id.into()],
    )
    .map_err(|e| DmError::Spi {
        doing: "summing the run".into(),
        source: e,
    })?;
    status::notice(&format!(
        "{} run {run_id} succeeded: {} rows in {:.2} s",
        run.section,
        rows.unwrap_or(0),
        secs.unwrap_or(0.0)
    ));
    Ok(())
}

/// Why a table's load failed on a missing column, in words; None when the catalogs do not
/// explain it.
fn explain_missing(section: &Section, table: &SectionTable) -> Option<String> {
    let mart = catalog::mart_table(table.mart_table, &table.mart_table_name).ok()?;
    let remote = crate::exec::warehouse::remote_columns(&section.server, table).ok()?;
    pg_datamart_plan::discover::explain_missing(&mart, table, &remote)
}
