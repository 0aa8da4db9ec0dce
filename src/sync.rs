//! Job control: the Rust half of `dm_sync`. PL/pgSQL cannot be avoided for the driver (a Rust
//! function cannot COMMIT), so `sql/sync.sql` holds a thin procedure that calls
//! [`run_begin`], then [`sync_step`] once per table with a COMMIT after each, and
//! [`step_failed`] / [`run_finish`] at the end. Everything else happens here.

use crate::catalog::MartTable;
use crate::error::{report, DmResult};
use crate::load::{load_table, LoadCounts};
use crate::section::Section;
use crate::sqlgen::{plan_table, TablePlan};
use crate::status::{self, PlannedStep, Run};
use crate::window::{resolve_accounts, resolve_window, Window};
use pgrx::datum::Date;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use std::time::Instant;

/// The plans of every table of a section, for the given request (nothing is executed).
fn plan_section(
    section: &Section,
    accounts: &[String],
    window: &Window,
) -> DmResult<Vec<TablePlan>> {
    let per_query = crate::gucs::accounts_per_query();
    section
        .tables
        .iter()
        .map(|t| {
            let mart = MartTable::load(t.mart_table, &format!("mart table {}", t.mart_table_name))?;
            plan_table(section, t, &mart, accounts, window, per_query)
        })
        .collect()
}

/// Validates the request, records the run with one pending step per table, reports ids that
/// are not served, and returns the run id. Touches no mart data.
#[pg_extern(name = "_dm_run_begin")]
fn run_begin(
    section: &str,
    account_ids: Option<&str>,
    start_date: Option<Date>,
    end_date: Option<Date>,
) -> Result<i64, ErrorReport> {
    report(|| {
        // SAFETY: reads the backend's transaction state; no side effects.
        if unsafe { pgrx::pg_sys::IsTransactionBlock() } {
            return Err(crate::error::DmError::InTransactionBlock {
                message: "dm_sync cannot run inside a transaction block: it commits after each table".into(),
                hint: "CALL dm_sync on its own: not after BEGIN, and not as one statement of a multi-statement query string.".into(),
            });
        }
        let s = Section::load(section)?;
        let window = resolve_window(&s, start_date, end_date)?;
        let accounts = resolve_accounts(&s, account_ids)?;
        crate::fetch::check_source(&s.server)?;
        if s.tables.is_empty() {
            return Err(crate::error::DmError::invalid_definition(
                format!("section {section} has no tables"),
                "",
                format!("Add its mart tables with dm_add_table('{section}', 'schema.table_dm')."),
            ));
        }
        // Plan every table now: a broken table definition fails the call before any data moves.
        let plans = plan_section(&s, &accounts.ids, &window)?;
        let steps: Vec<PlannedStep> = s
            .tables
            .iter()
            .zip(&plans)
            .map(|(t, p)| PlannedStep {
                position: t.position,
                mart_oid: t.mart_table,
                mart_table: p.mart_name.clone(),
            })
            .collect();
        let run_id = status::create_run(section, account_ids, &accounts, &window, &s.mode, &steps)?;
        if !accounts.missing.is_empty() {
            status::notice(&format!(
                "{section} run {run_id}: {} requested account(s) are not in the account table {} and are not loaded: {}",
                accounts.missing.len(),
                s.account_table_name,
                accounts.missing.join(", ")
            ));
        }
        status::notice(&format!(
            "{section} run {run_id} started: {} table(s), {} account(s), {} .. {}, mode {}",
            steps.len(),
            accounts.ids.len(),
            window.start,
            window.end,
            s.mode
        ));
        Ok(run_id)
    })
}

/// Loads one table of a run, in the caller's transaction. On error nothing of it is kept
/// (the caller's subtransaction rolls back) and the caller records the failure.
#[pg_extern(name = "_dm_sync_step")]
fn sync_step(run_id: i64, position: i32) -> Result<i64, ErrorReport> {
    report(|| {
        let run = Run::load(run_id)?;
        let step = run.step(position)?;
        let section = Section::load(&run.section)?;
        let table = section
            .tables
            .iter()
            .find(|t| t.mart_table == step.mart_oid)
            .ok_or_else(|| {
                crate::error::DmError::invalid_definition(
                    format!(
                        "{} is no longer a table of section {}",
                        step.mart_table, run.section
                    ),
                    "It was removed from the section after the run started.",
                    "Start a new sync.",
                )
            })?;
        let started = Instant::now();
        status::step_started(run_id, position)?;
        let mart = MartTable::load(table.mart_table, &format!("mart table {}", step.mart_table))?;
        let plan = plan_table(
            &section,
            table,
            &mart,
            &run.accounts,
            &run.window(),
            crate::gucs::accounts_per_query(),
        )?;
        let counts: LoadCounts = load_table(&plan)?;
        status::step_succeeded(run_id, position, &counts)?;
        status::notice(&format!(
            "{} run {run_id} [{position}/{}] {}: fetched {}, deleted {}, inserted {}, updated {} in {:.2} s",
            run.section,
            run.steps.len(),
            plan.mart_name,
            counts.fetched,
            counts.deleted,
            counts.inserted,
            counts.updated,
            started.elapsed().as_secs_f64()
        ));
        Ok(counts.fetched)
    })
}

/// Records the failure of a step (already rolled back) and of its run; returns the message the
/// driver raises: which table, which position, what went wrong, secrets masked.
#[pg_extern(name = "_dm_step_failed")]
fn step_failed(
    run_id: i64,
    position: i32,
    sqlstate: &str,
    message: &str,
) -> Result<String, ErrorReport> {
    report(|| {
        let run = Run::load(run_id)?;
        let step = run.step(position)?;
        let error = status::scrub_secrets(message);
        let run_error = format!(
            "table {} ({position} of {}) failed: {error}",
            step.mart_table,
            run.steps.len()
        );
        status::step_failed(run_id, position, sqlstate, &error, &run_error)?;
        Ok(format!("dm_sync {} run {run_id}: {run_error}", run.section))
    })
}

/// Marks a run succeeded and reports its totals.
#[pg_extern(name = "_dm_run_finish")]
fn run_finish(run_id: i64) -> Result<(), ErrorReport> {
    report(|| {
        status::run_finished(run_id, "succeeded", None)?;
        let (rows, secs) = Spi::get_two_with_args::<i64, f64>(
            "SELECT COALESCE(sum(s.rows_fetched), 0)::bigint,
                    extract(epoch FROM r.finished_at - r.started_at)::float8
               FROM dm.run r LEFT JOIN dm.run_step s USING (run_id)
              WHERE r.run_id = $1 GROUP BY r.run_id",
            &[run_id.into()],
        )
        .map_err(|e| crate::error::DmError::Spi {
            doing: "summing the run".into(),
            source: e,
        })?;
        status::notice(&format!(
            "run {run_id} succeeded: {} rows in {:.2} s",
            rows.unwrap_or(0),
            secs.unwrap_or(0.0)
        ));
        Ok(())
    })
}

/// What `dm_sync` would run for each table, without running it.
#[pg_extern(name = "_dm_preview")]
fn preview(
    section: &str,
    account_ids: Option<&str>,
    start_date: Option<Date>,
    end_date: Option<Date>,
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
        let s = Section::load(section)?;
        let window = resolve_window(&s, start_date, end_date)?;
        let accounts = resolve_accounts(&s, account_ids)?;
        let rows: Vec<_> = plan_section(&s, &accounts.ids, &window)?
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
