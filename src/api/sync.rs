//! The SQL entry points of a sync (`dm._run_begin`, `dm._resume_begin`, `dm._sync_step`,
//! `dm._step_done`, `dm._step_failed`, `dm._step_cancelled`, `dm._run_finish`, `dm._preview`):
//! thin wrappers that check their arguments and call the run's stages in [`crate::run`]. The
//! PL/pgSQL driver of `sql/api.sql` (`dm_sync`, `dm_resume`, `dm._run_steps`) calls them and
//! COMMITs after each table.

use crate::error::{report, required, SECTION_HINT};
use crate::run;
use pgrx::datum::Date;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::JsonB;

/// `dm_sync`'s start: [`run::begin::begin`].
#[pg_extern(schema = "dm", name = "_run_begin")]
#[search_path(pg_catalog, pg_temp)]
fn run_begin(
    section: Option<&str>,
    account_ids: Option<&str>,
    start_date: Option<Date>,
    end_date: Option<Date>,
    mode: Option<&str>,
) -> Result<Option<i64>, ErrorReport> {
    report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        run::begin::begin(section, account_ids, start_date, end_date, mode)
    })
}

/// `dm_resume`'s start: [`run::begin::resume`].
#[pg_extern(schema = "dm", name = "_resume_begin")]
#[search_path(pg_catalog, pg_temp)]
fn resume_begin(run_id: Option<i64>) -> Result<Option<i64>, ErrorReport> {
    report(|| {
        let run_id = required(
            run_id,
            "run_id",
            "Pass the run_id of a failed or cancelled run, e.g. CALL dm_resume(42); see dm_status.",
        )?;
        run::begin::resume(run_id)
    })
}

/// Loads one table of a run in the driver's transaction: [`run::step::step`].
#[pg_extern(schema = "dm", name = "_sync_step")]
#[search_path(pg_catalog, pg_temp)]
fn sync_step(run_id: i64, position: i32) -> Result<JsonB, ErrorReport> {
    run::step::step(run_id, position)
}

/// Records a committed table: [`run::end::step_done`]. `result` is what `dm._sync_step`
/// returned, kept for the driver's signature; what is recorded is what the step remembered.
#[pg_extern(schema = "dm", name = "_step_done")]
#[search_path(pg_catalog, pg_temp)]
fn step_done(run_id: i64, position: i32, result: JsonB) -> Result<(), ErrorReport> {
    drop(result);
    report(|| run::end::step_done(run_id, position))
}

/// Records a failed step and its run, returns the message the driver raises:
/// [`run::end::step_failed`]. The SQLSTATE and text arguments are the driver's, kept for its
/// signature; what is recorded is the error the step raised.
#[pg_extern(schema = "dm", name = "_step_failed")]
#[search_path(pg_catalog, pg_temp)]
fn step_failed(
    run_id: i64,
    position: i32,
    sqlstate: &str,
    message: &str,
) -> Result<String, ErrorReport> {
    let _ = (sqlstate, message);
    report(|| run::end::step_failed(run_id, position))
}

/// Records a step and its run as cancelled: [`run::end::step_cancelled`].
#[pg_extern(schema = "dm", name = "_step_cancelled")]
#[search_path(pg_catalog, pg_temp)]
fn step_cancelled(run_id: i64, position: i32) -> Result<(), ErrorReport> {
    report(|| run::end::step_cancelled(run_id, position))
}

/// Marks a run succeeded and reports its totals: [`run::end::run_finish`].
#[pg_extern(schema = "dm", name = "_run_finish")]
#[search_path(pg_catalog, pg_temp)]
fn run_finish(run_id: i64) -> Result<(), ErrorReport> {
    report(|| run::end::run_finish(run_id))
}

/// What `dm_sync` would run for each table, without running it: [`run::begin::preview`].
#[pg_extern(schema = "dm", name = "_preview")]
#[search_path(pg_catalog, pg_temp)]
fn preview(
    section: Option<&str>,
    account_ids: Option<&str>,
    start_date: Option<Date>,
    end_date: Option<Date>,
    mode: Option<&str>,
) -> Result<
    TableIterator<
        'static,
        (
            name!(mart_table, pgrx::pg_sys::Oid),
            name!(remote_sql, String),
            name!(column_definitions, String),
            name!(local_sql, String),
        ),
    >,
    ErrorReport,
> {
    report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        let rows: Vec<_> = run::begin::preview(section, account_ids, start_date, end_date, mode)?
            .into_iter()
            .map(|p| {
                (
                    pgrx::pg_sys::Oid::from(p.mart_oid),
                    p.remote_script(),
                    p.column_definitions.clone(),
                    p.local_script(),
                )
            })
            .collect();
        Ok(TableIterator::new(rows))
    })
}
