//! The Rust half of `dm_sync` and `dm_resume`. A Rust function cannot COMMIT, so
//! `sql/api.sql` holds thin PL/pgSQL procedures: `dm_sync` / `dm_resume` call [`run_begin`] /
//! [`resume_begin`], then `dm._run_steps` calls [`sync_step`] once per table, COMMITs, and
//! records the table with [`step_done`] (or [`step_failed`] / [`step_cancelled`]), and ends
//! with [`run_finish`]. The driver hands a table's [`StepResult`] back as typed JSON. Status
//! goes through the sync's status writer, a background worker (`crate::status`).

use crate::catalog;
use crate::control::guard;
use crate::error::{report, required, DmError, DmResult, SpiContext, SECTION_HINT};
use crate::exec::load::load_table;
use crate::status::{self, Run};
use pg_datamart_plan::domain::{Failure, Mode, RunStatus, StepStatus};
use pg_datamart_plan::snapshot::{Schemas, Section};
use pg_datamart_plan::status::{NewRun, PlannedStep, StepResult};
use pg_datamart_plan::table::{plan_table, PlanOptions, TablePlan};
use pg_datamart_plan::window::{
    known_accounts_sql, parse_account_ids, select_accounts, Accounts, Window,
};
use pgrx::datum::Date;
use pgrx::pg_sys::panic::{CaughtError, ErrorReport};
use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use std::time::Instant;

/// The plan of one registered table for the given request (nothing is executed).
fn plan_one(
    schemas: &Schemas,
    section: &Section,
    mart_oid: u32,
    name: &str,
    accounts: &[String],
    window: &Window,
    mode: Mode,
) -> DmResult<TablePlan> {
    let table = section.table(mart_oid).ok_or_else(|| {
        DmError::invalid_definition(
            format!("{name} is no longer a table of section {}", section.name),
            "It was removed from the section after the run started.",
            "Start a new sync with dm_sync.",
        )
    })?;
    let mart = catalog::mart_table(mart_oid, &format!("mart table {name}"))?;
    Ok(plan_table(
        schemas,
        section,
        table,
        &mart,
        accounts,
        window,
        &PlanOptions {
            per_query: crate::gucs::accounts_per_query(),
            mode,
            remote_timeout_ms: remote_timeout(mart_oid, accounts.len(), window)?.ms,
            today: Some(catalog::today()?),
        },
    )?)
}

/// The warehouse-side statement_timeout of a table's pulls, and what it is based on.
struct RemoteTimeout {
    ms: Option<i64>,
    basis: String,
}

impl RemoteTimeout {
    const HINT: &'static str = "Raise pg_datamart.remote_statement_timeout (milliseconds; 0 = automatic from the table's history, -1 = none) or pg_datamart.watchdog_kill_factor.";

    /// `message` (the warehouse's error) explained, when it is this timeout firing: which
    /// table, which timeout, from which setting and history.
    fn explain(&self, table: &str, message: &str) -> Option<String> {
        let ms = self.ms?;
        (message.contains("the warehouse query") && message.contains("statement timeout")).then(|| {
            format!(
                "the warehouse cancelled the query of table {table} at the statement_timeout pg_datamart.remote_statement_timeout set there (SET statement_timeout = {ms}; {}): {message}",
                self.basis
            )
        })
    }
}

/// The warehouse-side statement_timeout of each pull of mart table `mart_oid`
/// (`pg_datamart.remote_statement_timeout`): automatic (0) is watchdog_kill_factor times what
/// this table's own recent loads say this request should take: their seconds per account-day
/// (rows per second and rows per account-day) times the request's accounts x days; at least
/// watchdog_min_duration; none before the table's first successful load. So a one-account
/// run never sets the timeout of a full one, nor one table another's.
fn remote_timeout(mart_oid: u32, accounts: usize, window: &Window) -> DmResult<RemoteTimeout> {
    let setting = crate::gucs::remote_timeout_ms();
    match setting {
        -1 => {
            return Ok(RemoteTimeout {
                ms: None,
                basis: "pg_datamart.remote_statement_timeout = -1: none".into(),
            })
        }
        0 => {}
        ms => {
            return Ok(RemoteTimeout {
                ms: Some(ms as i64),
                basis: format!("pg_datamart.remote_statement_timeout = {ms} ms"),
            })
        }
    }
    // rows, seconds and account-days of the table's last 10 successful loads that fetched rows
    let (rows, secs, account_days) = Spi::get_three_with_args::<f64, f64, f64>(
        "SELECT pg_catalog.sum(h.rows_fetched)::pg_catalog.float8, pg_catalog.sum(h.secs)::pg_catalog.float8,
                pg_catalog.sum(h.account_days)::pg_catalog.float8
           FROM (SELECT s.rows_fetched,
                        pg_catalog.date_part('epoch', s.finished_at OPERATOR(pg_catalog.-) s.started_at) AS secs,
                        (pg_catalog.cardinality(r.accounts) OPERATOR(pg_catalog.*)
                         ((r.end_date OPERATOR(pg_catalog.-) r.start_date) OPERATOR(pg_catalog.+) 1))::pg_catalog.float8 AS account_days
                   FROM dm.run_step s JOIN dm.run r ON r.run_id OPERATOR(pg_catalog.=) s.run_id
                  WHERE s.mart_oid::pg_catalog.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid
                    AND s.status OPERATOR(pg_catalog.=) 'succeeded'::pg_catalog.text
                    AND s.rows_fetched OPERATOR(pg_catalog.>) 0
                    AND s.finished_at OPERATOR(pg_catalog.>) s.started_at
                    AND pg_catalog.cardinality(r.accounts) OPERATOR(pg_catalog.>) 0
                  ORDER BY s.run_id DESC LIMIT 10) h",
        &[pgrx::pg_sys::Oid::from(mart_oid).into()],
    )
    .doing("reading the table's load history")?;
    let (Some(rows), Some(secs), Some(account_days)) = (rows, secs, account_days) else {
        return Ok(RemoteTimeout {
            ms: None,
            basis: "automatic: none until the table's first successful load".into(),
        });
    };
    let this = (accounts.max(1) as f64) * (window.days() as f64);
    let expected_rows = rows / account_days * this;
    let rate = rows / secs;
    let expected_secs = expected_rows / rate;
    let kill = crate::gucs::kill_factor();
    let floor = crate::gucs::watchdog_min_seconds();
    let timeout = (kill * expected_secs).max(floor);
    Ok(RemoteTimeout {
        // statement_timeout is an int (ms): a huge request gets the longest one there is.
        ms: Some((timeout * 1000.0).ceil().min(i32::MAX as f64) as i64),
        basis: format!(
            "automatic: pg_datamart.watchdog_kill_factor {kill} x {expected_secs:.1} s, the time this table's recent loads ({rate:.0} rows/s) take for the about {expected_rows:.0} rows they had for {this} account-days, at least pg_datamart.watchdog_min_duration = {floor} s"
        ),
    })
}

/// The plans of every table of a section, in order.
fn plan_section(
    schemas: &Schemas,
    section: &Section,
    accounts: &[String],
    window: &Window,
    mode: Mode,
) -> DmResult<Vec<TablePlan>> {
    section
        .tables
        .iter()
        .map(|t| {
            plan_one(
                schemas,
                section,
                t.mart_table,
                &t.mart_table_name,
                accounts,
                window,
                mode,
            )
        })
        .collect()
}

/// The mode of one call: the argument, else the section's.
fn effective_mode(section: &Section, mode: Option<&str>) -> DmResult<Mode> {
    match mode {
        Some(m) => crate::api::config::check_mode(m),
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
            message: format!("{procedure} cannot run inside a transaction block: it commits after each table"),
            hint: format!("CALL {procedure} on its own: not after BEGIN, and not as one statement of a multi-statement query string."),
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

/// The note a step gets while its table's lock is awaited.
fn note_on(run: &Run, position: i32) -> impl FnMut(&str) -> DmResult<()> + '_ {
    move |note: &str| match run.step(position) {
        Ok(step) => status::step_note(run, step, note),
        Err(_) => Ok(()),
    }
}

/// Validates the request and records the run with one pending step per table; then, with the
/// run visible, resolves the accounts and plans every table (a broken definition fails before
/// any data moves; a lock held by another session is waited for at most
/// `pg_datamart.lock_timeout`, the step saying for whom).
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
        refuse_transaction_block("dm_sync")?;
        guard::bound_lock_waits()?;
        crate::exec::warehouse::drop_prefetched();
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
    })
}

/// A new run that continues a failed or cancelled one from its first unfinished table, with the
/// same accounts, window and mode.
#[pg_extern(schema = "dm", name = "_resume_begin")]
#[search_path(pg_catalog, pg_temp)]
fn resume_begin(run_id: Option<i64>) -> Result<Option<i64>, ErrorReport> {
    report(|| {
        let run_id = required(
            run_id,
            "run_id",
            "Pass the run_id of a failed or cancelled run, e.g. CALL dm_resume(42); see dm_status.",
        )?;
        refuse_transaction_block("dm_resume")?;
        guard::bound_lock_waits()?;
        crate::exec::warehouse::drop_prefetched();
        guard::end_runs_with_their_statement();
        status::open_link()?;
        status::housekeeping()?; // a run whose backend died becomes 'failed' first
        let old = Run::load(run_id)?;
        if !old.status.resumable() {
            return Err(DmError::invalid_argument(
                "run_id",
                format!("run {run_id} is {}; only a failed or cancelled run can be resumed", old.status),
                match old.status {
                    RunStatus::Running => "Wait for it to finish, or cancel it (pg_cancel_backend on its pid in dm.run).",
                    RunStatus::Succeeded | RunStatus::Skipped | RunStatus::Failed | RunStatus::Cancelled => "Start a new sync with dm_sync.",
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
    })
}

/// A step `dm._sync_step` loaded: run, position, result, and the id of the (sub)transaction
/// that wrote its rows.
type Loaded = (i64, i32, StepResult, pgrx::pg_sys::TransactionId);

/// Whether the load written by transaction `xid` committed: false while it is still in
/// progress (`dm._step_done` before the COMMIT) and when it was rolled back (a ROLLBACK, or a
/// ROLLBACK TO SAVEPOINT around `dm._sync_step`), so no rolled-back load is recorded as done.
fn load_committed(xid: pgrx::pg_sys::TransactionId) -> bool {
    // SAFETY: reads the commit log for an xid this backend assigned; no side effects.
    unsafe { pgrx::pg_sys::TransactionIdDidCommit(xid) }
}

/// Why the last step of this backend was cancelled, for [`step_cancelled`]: (run, position,
/// PostgreSQL's message, e.g. "canceling statement due to statement timeout").
struct CancelReason(i64, i32, String);

/// How the last `dm._sync_step` of this backend failed, for [`step_failed`]: (run, position,
/// SQLSTATE, message with its detail) as raised, so that the failure recorded is the one that
/// happened, never one a caller of the step makes up.
struct StepFailure(i64, i32, String, String);

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

/// Loads one table of a run in the caller's transaction; returns its counts and seconds for
/// [`step_done`], which records them after the caller has committed. On error nothing of the
/// table is kept (the caller's subtransaction rolls back). A cancel (pg_cancel_backend,
/// statement_timeout, the watchdog) in the middle of the load is raised again with the same
/// SQLSTATE and a message naming the table and the foreign server, and its reason is kept
/// for [`step_cancelled`].
#[pg_extern(schema = "dm", name = "_sync_step")]
#[search_path(pg_catalog, pg_temp)]
fn sync_step(run_id: i64, position: i32) -> Result<JsonB, ErrorReport> {
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

/// [`sync_step`]'s work.
fn load_one_step(run_id: i64, position: i32) -> Result<JsonB, ErrorReport> {
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
        // Read before the load: what a warehouse-side timeout would be explained with.
        let timeout = remote_timeout(step.mart_oid, run.accounts.len(), &run.window())?;
        Ok((run, section, loading, timeout))
    })?;
    let table = run
        .step(position)
        .map(|s| s.mart_table.clone())
        .unwrap_or_default();
    LOADED.with(|l| *l.borrow_mut() = None);
    PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
        report(|| {
            load_step(&run, position, &section)
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

/// The next table to load after `position` and its plan, when its warehouse query may be sent
/// early (`pg_datamart.max_warehouse_queries` 2). A table that cannot be planned now is
/// left to its own step, which reports why.
fn next_plan(
    run: &Run,
    position: i32,
    section: &Section,
    schemas: &Schemas,
) -> Option<(i32, TablePlan)> {
    if !crate::gucs::prefetch() {
        return None;
    }
    let next = run.step(position + 1).ok()?;
    if matches!(next.status, StepStatus::Succeeded | StepStatus::Skipped) {
        return None;
    }
    let plan = plan_one(
        schemas,
        section,
        next.mart_oid,
        &next.mart_table,
        &run.accounts,
        &run.window(),
        run.mode,
    )
    .ok()?;
    Some((position + 1, plan))
}

fn load_step(run: &Run, position: i32, section: &Section) -> DmResult<JsonB> {
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
    let plan = plan_one(
        &schemas,
        section,
        step.mart_oid,
        &step.mart_table,
        &run.accounts,
        &run.window(),
        run.mode,
    )?;
    crate::exec::partition::check_default(&plan.partitions)?;
    let result = match guard::vacuum_policy(section, &plan.partitions.touched)? {
        guard::VacuumOutcome::Skip(why) => StepResult::Skipped { why },
        guard::VacuumOutcome::Load { note, busy } => {
            if let Some(n) = &note {
                status::step_note(run, step, n)?;
            }
            let next = next_plan(run, position, section, &schemas);
            let counts = load_table(
                &plan,
                &busy,
                Some((run.run_id, position)),
                next.as_ref().map(|(p, plan)| (run.run_id, *p, plan)),
                |pid| status::step_remote_pid(run, step, pid, &plan.stream.server),
                &mut note_on(run, position),
            )?;
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

/// Records a committed table and reports it. `result` is what `dm._sync_step` returned (kept
/// for the driver's signature); the result recorded is the one this session's `dm._sync_step`
/// kept, so a hand-made one is never recorded, and only once the transaction that loaded it has
/// committed.
#[pg_extern(schema = "dm", name = "_step_done")]
#[search_path(pg_catalog, pg_temp)]
fn step_done(run_id: i64, position: i32, result: JsonB) -> Result<(), ErrorReport> {
    drop(result);
    report(|| {
        let run = Run::load(run_id)?;
        let step = run.step(position)?;
        let result = match LOADED.with(|l| l.borrow_mut().take()) {
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
    })
}

/// Records the failure of a step (already rolled back) and of its run; returns the message the
/// driver raises: which table, which position, what went wrong, secrets masked.
/// The SQLSTATE and text arguments are the driver's (kept for its signature): what is recorded
/// is the error this session's `dm._sync_step` raised for that step, so a step called by hand
/// can neither record a failure that did not happen nor choose its text (55000 otherwise).
#[pg_extern(schema = "dm", name = "_step_failed")]
#[search_path(pg_catalog, pg_temp)]
fn step_failed(
    run_id: i64,
    position: i32,
    sqlstate: &str,
    message: &str,
) -> Result<String, ErrorReport> {
    let _ = (sqlstate, message);
    // The tables after it are not loaded: a prefetched query is cancelled.
    crate::exec::warehouse::drop_prefetched();
    let _held = status::Uninterrupted::hold();
    report(|| {
        let failure = FAILED.with(|f| f.borrow_mut().take());
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
                crate::api::discover::explain_missing(&section, table)
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
    })
}

/// Records a step and its run as cancelled (the table was rolled back).
#[pg_extern(schema = "dm", name = "_step_cancelled")]
#[search_path(pg_catalog, pg_temp)]
fn step_cancelled(run_id: i64, position: i32) -> Result<(), ErrorReport> {
    crate::exec::warehouse::drop_prefetched();
    let _held = status::Uninterrupted::hold();
    report(|| {
        let run = Run::load(run_id)?;
        let step = run.step(position)?;
        let reason = CANCELLED.with(|c| c.borrow_mut().take());
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
    })
}

/// Marks a run succeeded and reports its totals.
#[pg_extern(schema = "dm", name = "_run_finish")]
#[search_path(pg_catalog, pg_temp)]
fn run_finish(run_id: i64) -> Result<(), ErrorReport> {
    crate::exec::warehouse::drop_prefetched();
    report(|| {
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
                hint: "Use CALL dm_sync(...) or CALL dm_resume(...); the dm._* functions are its steps.".into(),
            });
        }
        status::run_finished(&run, RunStatus::Succeeded, None, None)?;
        status::close_link()?;
        guard::release_all()?;
        let (rows, secs) = Spi::get_two_with_args::<i64, f64>(
            "SELECT COALESCE(pg_catalog.sum(s.rows_fetched), 0)::pg_catalog.int8,
                    pg_catalog.date_part('epoch', pg_catalog.max(r.finished_at) OPERATOR(pg_catalog.-) pg_catalog.min(r.started_at))::pg_catalog.float8
               FROM dm.run r LEFT JOIN dm.run_step s USING (run_id)
              WHERE r.run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8",
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
    })
}

/// What `dm_sync` would run for each table, without running it.
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
        let s = catalog::section(section)?;
        let schemas = catalog::schemas()?;
        let mode = effective_mode(&s, mode)?;
        crate::control::privileges::check_sync(&s, mode)?;
        let window = resolve_window(&s, start_date, end_date)?;
        let accounts = resolve_accounts(&s, account_ids)?;
        let rows: Vec<_> = plan_section(&schemas, &s, &accounts.ids, &window, mode)?
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
