//! The start of a run: [`begin`] (a new sync) and [`resume`] (a failed or cancelled run continued
//! from its first unfinished table) validate the request, record the run with one pending step
//! per table, take its locks and plan every table before any data moves; [`preview`] is the
//! same request planned, without a run.

use crate::catalog;
use crate::control::guard;
use crate::error::{DmError, DmResult, SpiContext};
use crate::run::step::note_on;
use crate::run::table::{drop_hand_over, plan_one, plan_section};
use crate::status::{self, Run};
use pg_datamart_plan::domain::{Mode, RunStatus, StepStatus};
use pg_datamart_plan::snapshot::Section;
use pg_datamart_plan::status::{NewRun, PlannedStep};
use pg_datamart_plan::table::TablePlan;
use pg_datamart_plan::window::{
    known_accounts_sql, parse_account_ids, select_accounts, Accounts, Window,
};
use pg_datamart_plan::Closed;
use pgrx::datum::Date;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// Validates the request and records the run with one pending step per table; then, with the
/// run visible, resolves the accounts and plans every table (a broken definition fails before
/// any data moves; a lock held by another session is waited for at most
/// `pg_datamart.lock_timeout`, the step saying for whom).
pub fn begin(
    section: &str,
    account_ids: Option<&str>,
    start_date: Option<Date>,
    end_date: Option<Date>,
    mode: Option<&str>,
) -> DmResult<Option<i64>> {
    refuse_transaction_block("dm_sync")?;
    guard::bound_lock_waits()?;
    drop_hand_over();
    let s = catalog::section(section)?;
    let mode = effective_mode(&s, mode)?;
    crate::control::privileges::check_sync(&s, mode)?;
    let window = resolve_window(&s, start_date, end_date)?;
    // Bad ids are bad input: refused before anything is recorded (no run, nothing toward
    // a ban). Reading the account table waits at most pg_datamart.lock_timeout (55P03
    // naming the holder); everything that may wait on the mart tables comes after the run
    // is recorded.
    guard::lock_for_reading(
        s.account_table,
        &format!("account table {}", s.account_table_name),
        &mut |_| Ok(()),
    )?;
    let accounts = resolve_accounts(&s, account_ids)?;
    crate::exec::warehouse::check_source(&s.server)?;
    if s.tables.is_empty() {
        return Err(DmError::invalid_definition(
            format!("section {section} has no tables"),
            "",
            format!("Add its mart tables with dm_add_table('{section}', 'schema.table_dm')."),
        ));
    }
    let record = RunRecordParts {
        section,
        account_ids,
        window,
        mode,
        steps: s
            .tables
            .iter()
            .map(|t| PlannedStep {
                position: t.position,
                mart_oid: t.mart_table,
                mart_table: t.mart_table_name.clone(),
            })
            .collect(),
        resumed_from: None,
    };
    let Some(run_id) = open_run(record.new_run(&accounts))? else {
        return Ok(None);
    };
    start_run(&s, run_id, &record, |run| {
        let schemas = catalog::schemas()?;
        for t in &s.tables {
            guard::lock_for_reading(
                t.mart_table,
                &format!("mart table {}", t.mart_table_name),
                &mut note_on(run, t.position),
            )?;
        }
        let plans = plan_section(&schemas, &s, &accounts.ids, &window, mode)?;
        for p in &plans {
            crate::exec::partition::check_default(&p.partitions)?;
        }
        Ok(accounts)
    })
}

/// A new run that continues a failed or cancelled one from its first unfinished table, with the
/// same accounts, window and mode.
pub fn resume(run_id: i64) -> DmResult<Option<i64>> {
    refuse_transaction_block("dm_resume")?;
    guard::bound_lock_waits()?;
    drop_hand_over();
    guard::end_runs_with_their_statement();
    status::open_link()?;
    status::housekeeping()?; // a run whose backend died becomes 'failed' first
    let old = Run::load(run_id)?;
    if !old.status.resumable() {
        return Err(DmError::invalid_argument(
            "run_id",
            format!(
                "run {run_id} is {}; only a failed or cancelled run can be resumed",
                old.status
            ),
            match old.status {
                RunStatus::Running => {
                    "Wait for it to finish, or cancel it (pg_cancel_backend on its pid in dm.run)."
                }
                RunStatus::Succeeded
                | RunStatus::Skipped
                | RunStatus::Failed
                | RunStatus::Cancelled => "Start a new sync with dm_sync.",
            },
        ));
    }
    let Some(first) = old
        .steps
        .iter()
        .position(|s| s.status != StepStatus::Succeeded)
    else {
        return Err(DmError::invalid_argument(
            "run_id",
            format!("run {run_id} has no unfinished table"),
            "Start a new sync with dm_sync.",
        ));
    };
    let s = catalog::section(&old.section)?;
    crate::control::privileges::check_sync(&s, old.mode)?;
    crate::exec::warehouse::check_source(&s.server)?;
    let window = old.window();
    let record = RunRecordParts {
        section: &old.section,
        account_ids: old.account_ids.as_deref(),
        window,
        mode: old.mode,
        steps: old.steps[first..]
            .iter()
            .map(|st| PlannedStep {
                position: st.position,
                mart_oid: st.mart_oid,
                mart_table: s
                    .table(st.mart_oid)
                    .map(|t| t.mart_table_name.clone())
                    .unwrap_or_else(|| st.mart_table.clone()),
            })
            .collect(),
        resumed_from: Some(run_id),
    };
    let accounts = Accounts {
        ids: old.accounts.clone(),
        missing: old.missing_accounts.clone(),
        invalid: vec![],
    };
    let Some(new_id) = open_run(record.new_run(&accounts))? else {
        return Ok(None);
    };
    start_run(&s, new_id, &record, |run| {
        let schemas = catalog::schemas()?;
        for st in &record.steps {
            guard::lock_for_reading(
                st.mart_oid,
                &format!("mart table {}", st.mart_table),
                &mut note_on(run, st.position),
            )?;
            let plan = plan_one(
                &schemas,
                &s,
                st.mart_oid,
                &st.mart_table,
                &accounts.ids,
                &window,
                old.mode,
            )?;
            crate::exec::partition::check_default(&plan.partitions)?;
        }
        Ok(accounts.clone())
    })
}

/// What `dm_sync` would run for each table: the plans, without a run.
pub fn preview(
    section: &str,
    account_ids: Option<&str>,
    start_date: Option<Date>,
    end_date: Option<Date>,
    mode: Option<&str>,
) -> DmResult<Vec<TablePlan>> {
    let s = catalog::section(section)?;
    let schemas = catalog::schemas()?;
    let mode = effective_mode(&s, mode)?;
    crate::control::privileges::check_sync(&s, mode)?;
    let window = resolve_window(&s, start_date, end_date)?;
    let accounts = resolve_accounts(&s, account_ids)?;
    plan_section(&schemas, &s, &accounts.ids, &window, mode)
}

/// The mode of one call: the argument, else the section's.
fn effective_mode(section: &Section, mode: Option<&str>) -> DmResult<Mode> {
    match mode {
        Some(m) => Ok(Mode::parse("mode", m)?),
        None => Ok(section.mode),
    }
}

fn to_naive(d: Date, argument: &'static str) -> DmResult<chrono::NaiveDate> {
    if !d.is_finite() {
        return Err(DmError::invalid_argument(
            argument,
            "infinity is not a usable date",
            "Pass a calendar date such as '2026-11-01', or NULL for the default.",
        ));
    }
    chrono::NaiveDate::from_ymd_opt(d.year(), d.month().into(), d.day().into())
        .filter(|n| chrono::Datelike::year(n) >= 1)
        .ok_or_else(|| {
            DmError::invalid_argument(
                argument,
                format!("{d} is out of range (a window's dates are AD)"),
                "Pass a calendar date such as '2026-11-01'.",
            )
        })
}

/// The window: explicit bounds, or end = today and start = end - section days.
fn resolve_window(section: &Section, start: Option<Date>, end: Option<Date>) -> DmResult<Window> {
    let start = start.map(|d| to_naive(d, "start_date")).transpose()?;
    let end = end.map(|d| to_naive(d, "end_date")).transpose()?;
    let today = catalog::today()?;
    let window = Window::resolve(section.days, today, start, end)?;
    window.check_span(crate::gucs::max_window_days())?;
    window.check_position(today, crate::gucs::max_years_from_today())?;
    Ok(window)
}

/// The request's accounts, resolved against the section's account table.
fn resolve_accounts(section: &Section, account_ids: Option<&str>) -> DmResult<Accounts> {
    let requested = parse_account_ids(account_ids, crate::gucs::max_account_ids())?;
    let table = catalog::mart_table(section.account_table, "account table")?;
    let (known, all_digits) =
        Spi::get_two::<Vec<String>, bool>(&known_accounts_sql(section, &table)?)
            .doing("reading the account table")?;
    Ok(select_accounts(
        section,
        &table,
        requested,
        known.unwrap_or_default(),
        all_digits.unwrap_or(true),
    )?)
}

fn backend_pid() -> i32 {
    // SAFETY: reads this backend's process id, set once at backend start.
    unsafe { pgrx::pg_sys::MyProcPid }
}

fn refuse_transaction_block(procedure: &str) -> DmResult<()> {
    // SAFETY: reads the backend's transaction state; no side effects.
    if unsafe { pgrx::pg_sys::IsTransactionBlock() } {
        return Err(DmError::InTransactionBlock {
            message: format!(
                "{procedure} cannot run inside a transaction block: it commits after each table"
            ),
            hint: pg_datamart_plan::procedures::call_alone_hint(procedure),
        });
    }
    Ok(())
}

/// Records a run that may not start, says why, and ends it.
fn skip(run_id: i64, section: &str, why: &str) -> DmResult<Option<i64>> {
    status::run_skipped(run_id, why)?;
    status::close_link()?;
    status::notice(&format!("{section} run {run_id} skipped: {why}"));
    Ok(None)
}

/// Opens the status path, tidies the history and records the run (before anything can wait
/// for a lock another session holds, so a waiting sync is seen); then the pause switch or a
/// ban may skip it (recorded, no error). Returns the run id, or None when skipped.
fn open_run(run: NewRun) -> DmResult<Option<i64>> {
    guard::check_syncs_per_role()?;
    guard::end_runs_with_their_statement();
    status::open_link()?;
    status::housekeeping()?;
    guard::release_all()?;
    let refusal = guard::refusal(run.section)?;
    let run_id = status::create_run(&run)?;
    if let Some(why) = refusal {
        return skip(run_id, run.section, &why);
    }
    Ok(Some(run_id))
}

/// What a run does once recorded, before its first table: `prepare` (resolving the accounts,
/// the locks its tables' definitions need, the plans) returns the run's accounts; then the
/// run's advisory locks (a busy one skips the run, recorded, no error). An error on the way
/// is recorded as the run's failure (nothing was loaded) before it is raised.
fn start_run(
    section: &Section,
    run_id: i64,
    record: &RunRecordParts,
    prepare: impl FnOnce(&Run) -> DmResult<Accounts>,
) -> DmResult<Option<i64>> {
    // Cancels are held off until the run's start is over: one that arrives meanwhile is taken
    // over by the lock waits (which look for it) or at the end, and recorded as the run's.
    let held = status::Uninterrupted::hold();
    let started = (|| {
        let run = Run::load(run_id)?;
        let accounts = prepare(&run)?;
        status::run_resolved(run_id, &record.new_run(&accounts))?;
        let keys = guard::lock_keys(section, &accounts.ids)?;
        if let Err(why) = guard::acquire(section, &keys)? {
            return skip(run_id, &section.name, &why).map(|_| None);
        }
        guard::cancel_pending("the start of the run")?;
        Ok(Some(accounts))
    })();
    drop(held);
    let accounts = match started {
        Ok(Some(a)) => a,
        Ok(None) => return Ok(None),
        Err(e) => {
            let _held = status::Uninterrupted::hold();
            let message = e.to_string();
            let (how, what) = if e.sqlstate() == PgSqlErrorCode::ERRCODE_QUERY_CANCELED {
                (RunStatus::Cancelled, "was cancelled")
            } else {
                (RunStatus::Failed, "failed")
            };
            if let Ok(run) = Run::load(run_id) {
                let _ = status::run_finished(
                    &run,
                    how,
                    Some(&format!(
                        "the run {what} before its first table (nothing was loaded): {}",
                        status::scrub_secrets(&message)
                    )),
                    Some(&crate::error::sqlstate_text(e.sqlstate())),
                );
            }
            let _ = status::close_link();
            let _ = guard::release_all();
            return Err(e);
        }
    };
    if let Some(note) = pg_datamart_plan::window::invalid_accounts_note(&accounts.invalid) {
        status::notice(&format!("{} run {run_id}: {note}", section.name));
    }
    if !accounts.missing.is_empty() {
        status::notice(&format!(
            "{} run {run_id}: {} requested account(s) are not in the section's account table and are not loaded: {}",
            section.name,
            accounts.missing.len(),
            pg_datamart_plan::window::listed(&accounts.missing)
        ));
    }
    status::notice(&format!(
        "{} run {run_id} started: {} table(s), {} account(s), {} .. {}, mode {}{}",
        section.name,
        record.steps.len(),
        accounts.ids.len(),
        record.window.start,
        record.window.end,
        record.mode,
        record
            .resumed_from
            .map(|r| format!(", resuming run {r}"))
            .unwrap_or_default()
    ));
    Ok(Some(run_id))
}

/// A new run's request, for [`NewRun`] once its accounts are known.
struct RunRecordParts<'a> {
    section: &'a str,
    account_ids: Option<&'a str>,
    window: Window,
    mode: Mode,
    steps: Vec<PlannedStep>,
    resumed_from: Option<i64>,
}

impl RunRecordParts<'_> {
    fn new_run<'b>(&'b self, accounts: &'b Accounts) -> NewRun<'b> {
        NewRun {
            section: self.section,
            account_ids: self.account_ids,
            accounts,
            window: &self.window,
            mode: self.mode,
            steps: &self.steps,
            resumed_from: self.resumed_from,
            pid: backend_pid(),
            run_by: "",
            login_role: "",
        }
    }
}
