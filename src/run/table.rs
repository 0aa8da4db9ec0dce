//! One table of a run: its plan, what the plan was made from, the warehouse-side timeout of
//! its pulls, and the hand-over of the next table's plan from one step to the next.
//!
//! A step plans its table once. With `pg_datamart.max_warehouse_queries` 2 the step before it
//! has already planned it (to send its warehouse query early, see
//! [`crate::exec::warehouse::prefetch`]) and hands that [`TableState`] forward; the step uses
//! it when what it was planned from is unchanged, and plans anew otherwise.

use crate::catalog;
use crate::error::{DmError, DmResult, SpiContext};
use crate::status::Run;
use pg_datamart_plan::domain::{Mode, StepStatus};
use pg_datamart_plan::snapshot::{MartTable, Schemas, Section};
use pg_datamart_plan::table::{account_rows_sql, plan_table, AccountRows, PlanOptions, TablePlan};
use pg_datamart_plan::window::Window;
use pgrx::prelude::*;
use std::collections::BTreeMap;

/// What [`plan_table`] plans one table from: the planner is a pure function of these, so two
/// equal `Inputs` give the same plan.
#[derive(PartialEq)]
struct Inputs {
    schemas: Schemas,
    section: Section,
    mart_oid: u32,
    mart: MartTable,
    accounts: Vec<String>,
    window: Window,
    options: PlanOptions,
}

impl Inputs {
    /// The catalog of table `mart_oid` now, with the options of this request; `timeout` (the
    /// warehouse-side statement_timeout) is asked for after the catalog is read. `sized`: an
    /// upsert also reads the mart's rows per account when the table may hold more than one
    /// fingerprint group (see [`account_rows`]); otherwise it plans one group.
    #[allow(clippy::too_many_arguments)]
    fn read(
        schemas: &Schemas,
        section: &Section,
        mart_oid: u32,
        name: &str,
        accounts: &[String],
        window: &Window,
        mode: Mode,
        sized: bool,
        timeout: impl FnOnce() -> DmResult<Option<i64>>,
    ) -> DmResult<Inputs> {
        if section.table(mart_oid).is_none() {
            return Err(DmError::invalid_definition(
                format!("{name} is no longer a table of section {}", section.name),
                "It was removed from the section after the run started.",
                "Start a new sync with dm_sync.",
            ));
        }
        let mart = catalog::mart_table(mart_oid, &format!("mart table {name}"))?;
        let account_rows = match mode {
            Mode::Upsert if sized => account_rows(section, mart_oid, &mart, accounts, window)?,
            _ => None,
        };
        let options = PlanOptions {
            per_query: crate::gucs::accounts_per_query(),
            mode,
            remote_timeout_ms: timeout()?,
            today: Some(catalog::today()?),
            account_rows,
        };
        Ok(Inputs {
            schemas: schemas.clone(),
            section: section.clone(),
            mart_oid,
            mart,
            accounts: accounts.to_vec(),
            window: *window,
            options,
        })
    }

    fn plan(&self) -> DmResult<TablePlan> {
        let table = self
            .section
            .table(self.mart_oid)
            .expect("checked by Inputs::read");
        Ok(plan_table(
            &self.schemas,
            &self.section,
            table,
            &self.mart,
            &self.accounts,
            &self.window,
            &self.options,
        )?)
    }
}

/// The mart's rows of the window per account, when the statistics say the table (with its
/// partitions) may hold more than one upsert group (`pg_datamart.upsert_group_rows`); None
/// otherwise (one group).
fn account_rows(
    section: &Section,
    mart_oid: u32,
    mart: &MartTable,
    accounts: &[String],
    window: &Window,
) -> DmResult<Option<AccountRows>> {
    let rows = Spi::get_one_with_args::<i64>(
        pg_datamart_plan::table::TABLE_ROWS_SQL,
        &[pgrx::pg_sys::Oid::from(mart_oid).into()],
    )
    .doing("reading the mart table's size")?
    .unwrap_or(0);
    let group_rows = crate::gucs::upsert_group_rows();
    if rows <= group_rows {
        return Ok(None);
    }
    let table = section.table(mart_oid).expect("checked by Inputs::read");
    let sql = account_rows_sql(section, table, mart, accounts, window)?;
    Spi::connect(|client| {
        let mut out = BTreeMap::new();
        for row in client
            .select(&sql, None, &[])
            .doing("counting the window's rows per account")?
        {
            let account = row
                .get::<String>(1)
                .doing("counting the window's rows per account")?;
            let n = row
                .get::<i64>(2)
                .doing("counting the window's rows per account")?;
            if let (Some(a), Some(n)) = (account, n) {
                out.insert(a, n);
            }
        }
        Ok(Some(AccountRows {
            per_account: out,
            group_rows,
        }))
    })
}

/// The plan of one registered table for the given request (nothing is executed).
pub fn plan_one(
    schemas: &Schemas,
    section: &Section,
    mart_oid: u32,
    name: &str,
    accounts: &[String],
    window: &Window,
    mode: Mode,
) -> DmResult<TablePlan> {
    Inputs::read(
        schemas,
        section,
        mart_oid,
        name,
        accounts,
        window,
        mode,
        false,
        || Ok(remote_timeout(mart_oid, accounts.len(), window)?.ms),
    )?
    .plan()
}

/// The plans of every table of a section, in order.
pub fn plan_section(
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

/// Table `position` of run `run_id` as its step loads it: the plan, what it was planned from,
/// and the warehouse-side timeout of its pulls.
pub struct TableState {
    run_id: i64,
    pub position: i32,
    pub timeout: RemoteTimeout,
    inputs: Inputs,
    pub plan: TablePlan,
}

impl TableState {
    /// What table `position` of `run` is planned from, read now, with `timeout`.
    fn inputs(
        run: &Run,
        position: i32,
        section: &Section,
        schemas: &Schemas,
        timeout: &RemoteTimeout,
    ) -> DmResult<Inputs> {
        let step = run.step(position)?;
        Inputs::read(
            schemas,
            section,
            step.mart_oid,
            &step.mart_table,
            &run.accounts,
            &run.window(),
            run.mode,
            true,
            || Ok(timeout.ms),
        )
    }

    fn planned(
        run: &Run,
        position: i32,
        timeout: RemoteTimeout,
        inputs: Inputs,
    ) -> DmResult<TableState> {
        Ok(TableState {
            run_id: run.run_id,
            position,
            plan: inputs.plan()?,
            timeout,
            inputs,
        })
    }

    /// The state of the step loading table `position` of `run`, read after the step has locked
    /// its table: `handed`, the plan the step before made of it, when what it was planned from
    /// is unchanged; otherwise planned now.
    ///
    /// Why the handed plan can stand in for a rebuild: it was made in the previous step's
    /// transaction, before this table was locked, and the catalog may have moved since (a
    /// column mapped or dropped, a partition attached by another session, the section edited,
    /// midnight passed). So the inputs are read again here, after the lock, exactly as a
    /// rebuild reads them, and compared whole with those the handed plan was made from;
    /// [`plan_table`] is pure, so equal inputs give the plan a rebuild would give, and any
    /// difference plans anew. The prefetched connection keeps its own check
    /// ([`crate::exec::warehouse::open_warehouse`] uses it only for the same remote queries
    /// and stream), which holds either way. The one input not read again is the timeout
    /// (`timeout`, carried with the handed plan): the settings it comes from cannot change
    /// within the driver's CALL, and the history it reads is this table's, which only another
    /// session's load of it could extend meanwhile.
    pub fn for_step(
        run: &Run,
        position: i32,
        section: &Section,
        schemas: &Schemas,
        timeout: RemoteTimeout,
        handed: Option<TableState>,
    ) -> DmResult<TableState> {
        let inputs = TableState::inputs(run, position, section, schemas, &timeout)?;
        match handed {
            Some(handed) if handed.inputs == inputs => Ok(handed),
            _ => TableState::planned(run, position, timeout, inputs),
        }
    }

    /// The next table to load after `position` and its plan, when its warehouse query may be
    /// sent early (`pg_datamart.max_warehouse_queries` 2). A table that cannot be planned now
    /// is left to its own step, which reports why.
    pub fn next(
        run: &Run,
        position: i32,
        section: &Section,
        schemas: &Schemas,
    ) -> Option<TableState> {
        if !crate::gucs::prefetch() {
            return None;
        }
        let next = run.step(position + 1).ok()?;
        if matches!(next.status, StepStatus::Succeeded | StepStatus::Skipped) {
            return None;
        }
        let timeout = remote_timeout(next.mart_oid, run.accounts.len(), &run.window()).ok()?;
        let inputs = TableState::inputs(run, position + 1, section, schemas, &timeout).ok()?;
        TableState::planned(run, position + 1, timeout, inputs).ok()
    }

    /// Hands this state to the step that loads its table (see [`TableState::for_step`]).
    pub fn hand_forward(self) {
        HANDED.with(|h| *h.borrow_mut() = Some(self));
    }

    /// The state the step before handed forward for table `position` of run `run_id`, if any;
    /// any other is dropped.
    pub fn take_handed(run_id: i64, position: i32) -> Option<TableState> {
        HANDED
            .with(|h| h.borrow_mut().take())
            .filter(|s| s.run_id == run_id && s.position == position)
    }
}

thread_local! {
    /// The next table's state, handed from one step to the next (see [`TableState::next`]).
    static HANDED: std::cell::RefCell<Option<TableState>> = const { std::cell::RefCell::new(None) };
}

/// Drops what a step prepared for the next one: the handed plan and the prefetched connection
/// (cancelling its query on the warehouse). At the start and the end of a run, and when a step
/// fails or is cancelled.
pub fn drop_hand_over() {
    crate::exec::warehouse::drop_prefetched();
    let _ = HANDED.try_with(|h| h.try_borrow_mut().ok().and_then(|mut h| h.take()));
}

/// The warehouse-side statement_timeout of a table's pulls, and what it is based on.
#[derive(Clone)]
pub struct RemoteTimeout {
    ms: Option<i64>,
    basis: String,
}

impl RemoteTimeout {
    pub const HINT: &'static str = "Raise pg_datamart.remote_statement_timeout (milliseconds; 0 = automatic from the table's history, -1 = none) or pg_datamart.watchdog_kill_factor.";

    /// `message` (the warehouse's error) explained, when it is this timeout firing: which
    /// table, which timeout, from which setting and history.
    pub fn explain(&self, table: &str, message: &str) -> Option<String> {
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
pub fn remote_timeout(mart_oid: u32, accounts: usize, window: &Window) -> DmResult<RemoteTimeout> {
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
        pg_datamart_plan::status::TABLE_HISTORY_SQL,
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
