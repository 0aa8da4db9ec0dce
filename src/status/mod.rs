//! Status: run and step rows (`dm.run`, `dm.run_step`), `pg_notify('dm_status', json)` events
//! and progress notices.
//!
//! Every status write is an event sent to the sync's status writer ([`writer`]), a background
//! worker that records it in its own transaction as the extension's owner: other sessions see
//! progress live, notifications are delivered at once, and the rows survive errors, rollbacks,
//! cancellation and termination of the syncing session. The sync itself never writes these
//! tables, and no other role may. Every error text stored or shown passes through
//! [`scrub_secrets`].

pub mod writer;

use crate::catalog::read_json;
use crate::error::{DmError, DmResult, SpiContext};
use chrono::NaiveDate;
use pg_datamart_plan::domain::{Failure, Mode, RunStatus, StepStatus};
use pg_datamart_plan::status::{self as sql, Event, LoadCounts, NewRun, RunRecord};
use pg_datamart_plan::window::Window;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde::Deserialize;

/// A run as recorded: what it was asked to do.
#[derive(Debug, Clone, Deserialize)]
pub struct Run {
    pub run_id: i64,
    pub section: String,
    pub account_ids: Option<String>,
    pub accounts: Vec<String>,
    pub missing_accounts: Vec<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub mode: Mode,
    pub status: RunStatus,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    pub position: i32,
    pub mart_oid: u32,
    pub mart_table: String,
    pub status: StepStatus,
}

impl Run {
    pub fn window(&self) -> Window {
        Window {
            start: self.start_date,
            end: self.end_date,
        }
    }

    /// Tables of the section when the run started (a resumed run holds only the later ones).
    pub fn total_tables(&self) -> i32 {
        self.steps.iter().map(|s| s.position).max().unwrap_or(0)
    }

    pub fn step(&self, position: i32) -> DmResult<&Step> {
        self.steps
            .iter()
            .find(|s| s.position == position)
            .ok_or_else(|| {
                DmError::undefined(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                    format!("run {} has no step {position}", self.run_id),
                    "See dm.run_step for the run's steps.",
                )
            })
    }

    pub fn load(run_id: i64) -> DmResult<Run> {
        read_json(
            include_str!("../../sql/queries/run.sql"),
            &[run_id.into()],
            &format!("run {run_id}"),
        )?
        .ok_or_else(|| {
            DmError::undefined(
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("run {run_id} does not exist"),
                "See dm.run (or the dm_status view) for the recorded runs.",
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Events of a run

/// Starts the sync's status writer (before any data is touched).
pub fn open_link() -> DmResult<()> {
    writer::open()
}

/// Stops the status writer (end of a run).
pub fn close_link() -> DmResult<()> {
    writer::close();
    Ok(())
}

fn record(event: Event) -> DmResult<()> {
    writer::request(event).map(|_| ())
}

/// Housekeeping before a run: runs whose backend is gone are marked failed (`dm._reconcile`),
/// and finished runs older than `pg_datamart.history_days` are deleted.
pub fn housekeeping() -> DmResult<()> {
    record(Event::Housekeeping {
        history_days: crate::gucs::history_days(),
    })
}

/// Records a new run and its pending steps (one transaction of the writer); returns the run id.
pub fn create_run(r: &NewRun) -> DmResult<i64> {
    writer::request(Event::CreateRun {
        run: RunRecord::of(r),
    })?
    .ok_or_else(|| {
        DmError::invalid_definition(
            "the status writer recorded the run but returned no run id",
            "",
            "This is a bug in pg_datamart; please report it.",
        )
    })
}

/// Holds off cancel and termination requests while it lives (PostgreSQL's HOLD_INTERRUPTS),
/// so that recording how a run or a step ended is not itself interrupted by a second cancel
/// (a run left `running` until reconciled); a request that arrives meanwhile is served at the
/// next interrupt check after it is dropped.
pub struct Uninterrupted(());

impl Uninterrupted {
    pub fn hold() -> Uninterrupted {
        // SAFETY: the backend's own holdoff counter, on the backend's thread.
        unsafe { pgrx::pg_sys::InterruptHoldoffCount += 1 };
        Uninterrupted(())
    }
}

impl Drop for Uninterrupted {
    fn drop(&mut self) {
        // SAFETY: undoes `hold`; never below zero (PostgreSQL's error recovery resets it).
        unsafe {
            pgrx::pg_sys::InterruptHoldoffCount =
                pgrx::pg_sys::InterruptHoldoffCount.saturating_sub(1);
        }
    }
}

/// Records the accounts of a new run, and notifies its start.
pub fn run_resolved(run_id: i64, r: &NewRun) -> DmResult<()> {
    record(Event::RunResolved {
        run_id,
        run: RunRecord::of(r),
    })
}

pub fn step_started(run: &Run, step: &Step) -> DmResult<()> {
    record(Event::StepStarted {
        run_id: run.run_id,
        position: step.position,
    })
}

/// Records a loaded (and committed) table.
pub fn step_succeeded(run: &Run, step: &Step, c: &LoadCounts, seconds: f64) -> DmResult<()> {
    record(Event::StepSucceeded {
        run_id: run.run_id,
        position: step.position,
        counts: *c,
        seconds,
    })
}

/// Records a step that ended without loading (its changes were rolled back) and ends the run
/// the same way: failed or cancelled.
pub fn step_ended_badly(
    run: &Run,
    step: &Step,
    how: Failure,
    sqlstate: &str,
    error: &str,
    run_error: &str,
) -> DmResult<()> {
    record(Event::StepEnded {
        run_id: run.run_id,
        position: step.position,
        how,
        sqlstate: sqlstate.to_string(),
        error: error.to_string(),
        run_error: run_error.to_string(),
    })
}

/// Ends a run; `sqlstate`: its error's, when it failed or was cancelled.
pub fn run_finished(
    run: &Run,
    status: RunStatus,
    error: Option<&str>,
    sqlstate: Option<&str>,
) -> DmResult<()> {
    record(Event::RunFinished {
        run_id: run.run_id,
        status,
        error: error.map(str::to_string),
        sqlstate: sqlstate.map(str::to_string),
    })
}

/// Records a run that did not start (paused, banned, busy) and why.
pub fn run_skipped(run_id: i64, note: &str) -> DmResult<()> {
    record(Event::RunSkipped {
        run_id,
        note: note.to_string(),
    })
}

/// Records a table skipped by the VACUUM policy.
pub fn step_skipped(run: &Run, step: &Step, note: &str) -> DmResult<()> {
    record(Event::StepSkipped {
        run_id: run.run_id,
        position: step.position,
        note: note.to_string(),
    })
}

/// Records the warehouse backend a table is being pulled by (for the watchdog to cancel).
pub fn step_remote_pid(run: &Run, step: &Step, pid: i32, server: &str) -> DmResult<()> {
    record(Event::StepRemotePid {
        run_id: run.run_id,
        position: step.position,
        pid,
        server: server.to_string(),
    })
}

/// Adds a note to a step (what the VACUUM policy did).
pub fn step_note(run: &Run, step: &Step, note: &str) -> DmResult<()> {
    record(Event::StepNote {
        run_id: run.run_id,
        position: step.position,
        note: note.to_string(),
    })
}

/// Records the watchdog's note on run `run_id` (and the time it warned): the planner's
/// statement for [`Event::WatchdogNote`], run as the extension's owner (the run history is
/// the owner's; `crate::control::as_owner` makes it a security-restricted operation), with
/// the run id and the text the watchdog itself made.
pub fn watchdog_note(run_id: i64, text: &str, warned: bool) -> DmResult<()> {
    let event = Event::WatchdogNote {
        run_id,
        note: text.to_string(),
        warned,
    };
    let run = sql::RunRef {
        run_id,
        section: "",
        tables: 0,
    };
    let step = sql::StepRef {
        position: 0,
        mart_table: "",
    };
    let statement = event.statements(run, step).unwrap_or_default();
    let owner = writer::extension_owner()?;
    crate::control::as_owner::as_role(owner, || Spi::run(&statement))
        .doing("noting a watchdog action")
}

/// Marks failed the runs still recorded as running whose backend is gone or no longer active:
/// `dm._reconcile()` (SECURITY DEFINER, the extension owner's), which writes `dm.run` itself.
pub fn reconcile() -> DmResult<()> {
    Spi::run(sql::RECONCILE_SQL).doing("reconciling runs")
}

/// A watchdog event, sent from the watchdog's own session (it commits when the call ends;
/// notifications are delivered then).
pub fn watchdog_notify(run_id: i64, section: &str, action: &str, detail: &str) -> DmResult<()> {
    Spi::run(&sql::watchdog_event(run_id, section, action, detail))
        .doing("notifying a watchdog action")
}

/// A progress line, sent as a NOTICE: `pg_datamart <time>: <line>`.
pub fn notice(line: &str) {
    let at = Spi::get_one::<String>(pg_datamart_plan::status::NOTICE_CLOCK_SQL)
        .ok()
        .flatten()
        .unwrap_or_default();
    pgrx::notice!("pg_datamart {}: {}", at, line);
}

#[pg_extern(schema = "dm", name = "_scrub")]
#[search_path(pg_catalog, pg_temp)]
fn scrub(text: Option<&str>) -> Option<String> {
    text.map(scrub_secrets)
}

/// Masks the value of every `password=...`, `password: ...` or `password '...'` in a text, so no
/// connection string or option list that a library echoed reaches a status row, a notice or an
/// error. Prose such as "password authentication failed" is left as it is.
pub fn scrub_secrets(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("password") {
        let key_end = i + found + "password".len();
        out.push_str(&text[i..key_end]);
        let rest = &text[key_end..];
        let after_spaces = rest.trim_start_matches(' ');
        let (sep_len, value) = if let Some(v) = after_spaces.strip_prefix(['=', ':']) {
            let v2 = v.trim_start_matches(' ');
            (rest.len() - v2.len(), v2)
        } else if after_spaces.starts_with('\'') && after_spaces.len() < rest.len() {
            (rest.len() - after_spaces.len(), after_spaces)
        } else {
            (0, "")
        };
        let value_len = quoted_or_bare_len(value);
        out.push_str(&rest[..sep_len]);
        if value_len > 0 {
            out.push_str("********");
        }
        i = key_end + sep_len + value_len;
    }
    out.push_str(&text[i..]);
    out
}

/// Length of a leading `'quoted'` value (doubled or backslashed quotes stay inside) or of a
/// bare value up to white space, a double quote, a comma or a closing parenthesis.
fn quoted_or_bare_len(value: &str) -> usize {
    if !value.starts_with('\'') {
        return value
            .find(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == ')')
            .unwrap_or(value.len());
    }
    let bytes = value.as_bytes();
    let mut j = 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\'' if bytes.get(j + 1) == Some(&b'\'') => j += 2,
            b'\'' => return j + 1,
            _ => j += 1,
        }
    }
    value.len()
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::scrub_secrets;

    #[pgrx::pg_test]
    fn secrets_are_masked() {
        assert_eq!(
            scrub_secrets("host=h password=s3cret user=u"),
            "host=h password=******** user=u"
        );
        assert_eq!(
            scrub_secrets("PASSWORD = 'a b''c' x"),
            "PASSWORD = ******** x"
        );
        assert_eq!(scrub_secrets("password:abc"), "password:********");
        assert_eq!(
            scrub_secrets("password authentication failed for user \"u\""),
            "password authentication failed for user \"u\""
        );
        assert_eq!(scrub_secrets("no secrets here"), "no secrets here");
        assert!(!scrub_secrets("options (password 'hunter2')").contains("hunter2"));
    }
}
