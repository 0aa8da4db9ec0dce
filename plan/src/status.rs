//! Status: the typed events a sync sends its status writer ([`Event`], answered by a
//! [`Reply`]), and the statements the writer runs for them: run and step rows (`dm.run`,
//! `dm.run_step`), `pg_notify('dm_status', json)` events and housekeeping. The writer runs under
//! `search_path = pg_catalog, pg_temp`. Also the typed result a table's load hands to the
//! PL/pgSQL driver and back.

use crate::domain::{Closed, Failure, Mode, RunStatus, StepStatus};
use crate::quote::{local_literal as lit, local_literal_opt, local_text_array};
use crate::window::{Accounts, Window};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Rows a table's load fetched and wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadCounts {
    pub fetched: i64,
    pub deleted: i64,
    pub inserted: i64,
    pub updated: i64,
}

impl LoadCounts {
    pub fn written(&self) -> i64 {
        self.deleted + self.inserted + self.updated
    }
}

/// What loading one table came to, handed from `dm._sync_step` through the PL/pgSQL driver
/// (which commits in between) to `dm._step_done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    Loaded {
        counts: LoadCounts,
        seconds: f64,
        note: Option<String>,
    },
    Skipped {
        why: String,
    },
}

/// The run a statement is about.
#[derive(Debug, Clone, Copy)]
pub struct RunRef<'a> {
    pub run_id: i64,
    pub section: &'a str,
    /// Tables of the section when the run started.
    pub tables: i32,
}

/// The step (table) of a run a statement is about.
#[derive(Debug, Clone, Copy)]
pub struct StepRef<'a> {
    pub position: i32,
    pub mart_table: &'a str,
}

/// `SELECT pg_notify('dm_status', ...)` for an event, stamped with the time it is sent.
pub fn notify(event: serde_json::Value) -> String {
    format!(
        "SELECT pg_catalog.pg_notify('dm_status', ({}::pg_catalog.jsonb OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('at'::pg_catalog.text, pg_catalog.clock_timestamp()))::pg_catalog.text)::pg_catalog.text",
        lit(&event.to_string())
    )
}

/// Notification text must stay under PostgreSQL's 8000-byte payload limit.
pub fn short(text: &str) -> String {
    if text.len() <= 1000 {
        return text.to_string();
    }
    let mut end = 1000;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Runs whose backend is gone are marked failed, and finished runs older than `history_days`
/// (0: keep all) are deleted.
pub fn housekeeping(history_days: i32) -> String {
    let prune = if history_days > 0 {
        format!(
            "WITH pruned AS (DELETE FROM dm.run WHERE status <> 'running' AND started_at < pg_catalog.now() - pg_catalog.make_interval(days => {history_days}) RETURNING run_id) \
             UPDATE dm.run SET resumed_from = NULL WHERE resumed_from IN (SELECT run_id FROM pruned); "
        )
    } else {
        String::new()
    };
    format!("{prune}SELECT dm._reconcile()::pg_catalog.text")
}

/// A table a run will load: its position, oid and display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub position: i32,
    pub mart_oid: u32,
    pub mart_table: String,
}

/// What a new run records.
pub struct NewRun<'a> {
    pub section: &'a str,
    pub account_ids: Option<&'a str>,
    pub accounts: &'a Accounts,
    pub window: &'a Window,
    pub mode: Mode,
    pub steps: &'a [PlannedStep],
    pub resumed_from: Option<i64>,
    /// The backend that runs it, its role, and the role it logged in as (recorded by the
    /// status writer, which knows them).
    pub pid: i32,
    pub run_by: &'a str,
    pub login_role: &'a str,
}

/// Records a new run and its pending steps in one statement; returns the run id.
pub fn create_run(r: &NewRun) -> String {
    let steps = r
        .steps
        .iter()
        .map(|s| {
            format!(
                "({}, {}::pg_catalog.oid, {})",
                s.position,
                s.mart_oid,
                lit(&s.mart_table)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH run AS (
            INSERT INTO dm.run (section, account_ids, accounts, missing_accounts, start_date, end_date, mode, status, pid, resumed_from, run_by, login_role)
            VALUES ({}, {}, {}, {}, {}::pg_catalog.date, {}::pg_catalog.date, {}, 'running', {}, {}, {}::pg_catalog.name, {}::pg_catalog.name)
            RETURNING run_id),
         steps AS (
            INSERT INTO dm.run_step (run_id, position, mart_oid, mart_table)
            SELECT run.run_id, s.position, s.mart_oid, s.mart_table
              FROM run, (VALUES {steps}) AS s(position, mart_oid, mart_table))
         SELECT run_id FROM run",
        lit(r.section),
        local_literal_opt(r.account_ids),
        local_text_array(&r.accounts.ids),
        local_text_array(&r.accounts.missing),
        lit(&r.window.start.to_string()),
        lit(&r.window.end.to_string()),
        lit(r.mode.as_str()),
        r.pid,
        r.resumed_from
            .map(|id| id.to_string())
            .unwrap_or_else(|| "NULL".into()),
        lit(r.run_by),
        lit(r.login_role),
    )
}

/// Records the accounts of run `run_id` (`r`'s) and notifies its start.
/// Values of the account table that are not account ids are noted on the run.
pub fn run_resolved(run_id: i64, r: &NewRun) -> String {
    let note = crate::window::invalid_accounts_note(&r.accounts.invalid)
        .map(|n| {
            format!(
                ", note = pg_catalog.concat_ws('; '::pg_catalog.text, note, {})",
                lit(&n)
            )
        })
        .unwrap_or_default();
    format!(
        "UPDATE dm.run SET accounts = {}, missing_accounts = {}{note} WHERE run_id OPERATOR(pg_catalog.=) {run_id}; {}",
        local_text_array(&r.accounts.ids),
        local_text_array(&r.accounts.missing),
        run_started(run_id, r)
    )
}

/// Missing accounts a notification lists (the run row keeps them all): payloads stay far
/// below pg_notify's 8000 bytes.
pub const MISSING_SHOWN: usize = 20;

/// The notification of a new run.
pub fn run_started(run_id: i64, r: &NewRun) -> String {
    notify(json!({
        "event": "run_start", "run_id": run_id, "section": r.section, "status": RunStatus::Running,
        "tables": r.steps.len(), "accounts": r.accounts.ids.len(),
        "missing_accounts": r.accounts.missing.iter().take(MISSING_SHOWN).collect::<Vec<_>>(),
        "missing_count": r.accounts.missing.len(), "start_date": r.window.start.to_string(),
        "end_date": r.window.end.to_string(), "mode": r.mode, "resumed_from": r.resumed_from,
    }))
}

fn step_event(run: RunRef, step: StepRef, event: &str, status: StepStatus) -> serde_json::Value {
    json!({
        "event": event, "run_id": run.run_id, "section": run.section, "position": step.position,
        "tables": run.tables, "mart_table": step.mart_table, "status": status,
    })
}

fn step_where(run: RunRef, step: StepRef) -> String {
    format!(
        "WHERE run_id = {} AND position = {}",
        run.run_id, step.position
    )
}

pub fn step_started(run: RunRef, step: StepRef) -> String {
    format!(
        "UPDATE dm.run_step SET status = 'running', started_at = pg_catalog.clock_timestamp(), finished_at = NULL, error = NULL {}; {}",
        step_where(run, step),
        notify(step_event(run, step, "step_start", StepStatus::Running))
    )
}

/// Records a loaded (and committed) table.
pub fn step_succeeded(run: RunRef, step: StepRef, c: &LoadCounts, seconds: f64) -> String {
    let mut event = step_event(run, step, "step_finish", StepStatus::Succeeded);
    event["rows_fetched"] = c.fetched.into();
    event["rows_deleted"] = c.deleted.into();
    event["rows_inserted"] = c.inserted.into();
    event["rows_updated"] = c.updated.into();
    event["seconds"] = json!((seconds * 1000.0).round() / 1000.0);
    format!(
        "UPDATE dm.run_step SET status = 'succeeded', finished_at = pg_catalog.clock_timestamp(),
                rows_fetched = {}, rows_deleted = {}, rows_inserted = {}, rows_updated = {}
          {}; {}",
        c.fetched,
        c.deleted,
        c.inserted,
        c.updated,
        step_where(run, step),
        notify(event)
    )
}

/// Records a step that ended without loading (its changes were rolled back).
pub fn step_ended_badly(
    run: RunRef,
    step: StepRef,
    how: Failure,
    sqlstate: &str,
    error: &str,
) -> String {
    let mut event = step_event(run, step, "step_finish", how.step());
    event["error"] = short(error).into();
    event["sqlstate"] = sqlstate.into();
    format!(
        "UPDATE dm.run_step SET status = {st}, finished_at = pg_catalog.clock_timestamp(), error = {err}, sqlstate = {code},
                started_at = COALESCE(started_at, pg_catalog.clock_timestamp()),
                rows_fetched = NULL, rows_deleted = NULL, rows_inserted = NULL, rows_updated = NULL
          {w}; {notify}",
        st = lit(how.step().as_str()),
        err = lit(error),
        code = lit(sqlstate),
        w = step_where(run, step),
        notify = notify(event)
    )
}

/// Ends a run; `sqlstate`: the error's, when it failed or was cancelled (what decides whether
/// the failure counts towards a ban: [`crate::control::counts_toward_ban`]).
pub fn run_finished(
    run: RunRef,
    status: RunStatus,
    error: Option<&str>,
    sqlstate: Option<&str>,
) -> String {
    format!(
        "UPDATE dm.run SET status = {}, finished_at = pg_catalog.clock_timestamp(), error = {}, sqlstate = {} WHERE run_id = {}; {}",
        lit(status.as_str()),
        local_literal_opt(error),
        local_literal_opt(sqlstate),
        run.run_id,
        notify(json!({
            "event": "run_finish", "run_id": run.run_id, "section": run.section, "status": status,
            "error": error.map(short),
        }))
    )
}

/// Records a run that did not start (paused, banned, busy) and why.
pub fn run_skipped(run_id: i64, section: &str, note: &str) -> String {
    format!(
        "UPDATE dm.run SET status = 'skipped', finished_at = pg_catalog.clock_timestamp(), note = {} WHERE run_id = {run_id}; \
         UPDATE dm.run_step SET status = 'skipped' WHERE run_id = {run_id}; {}",
        lit(note),
        notify(json!({
            "event": "run_finish", "run_id": run_id, "section": section, "status": RunStatus::Skipped,
            "note": short(note),
        }))
    )
}

/// Records a table skipped by the VACUUM policy.
pub fn step_skipped(run: RunRef, step: StepRef, note: &str) -> String {
    let mut event = step_event(run, step, "step_finish", StepStatus::Skipped);
    event["note"] = short(note).into();
    format!(
        "UPDATE dm.run_step SET status = 'skipped', finished_at = pg_catalog.clock_timestamp(), note = {} {}; {}",
        lit(note),
        step_where(run, step),
        notify(event)
    )
}

/// Records the warehouse backend a table is being pulled by (for the watchdog to cancel).
pub fn step_remote_pid(run: RunRef, step: StepRef, pid: i32, server: &str) -> String {
    format!(
        "UPDATE dm.run_step SET remote_pid = {pid}, remote_server = {} {}; SELECT ''",
        lit(server),
        step_where(run, step)
    )
}

/// Adds a note to a step (what the VACUUM policy did, a lock it waits for).
pub fn step_note(run: RunRef, step: StepRef, note: &str) -> String {
    format!(
        "UPDATE dm.run_step SET note = pg_catalog.concat_ws('; '::pg_catalog.text, note, {}) {}; SELECT ''",
        lit(note),
        step_where(run, step)
    )
}

/// The watchdog's note on run `run_id`: every name and operator qualified, since it runs as
/// the extension's owner in the session that called `dm_watchdog`, under that session's
/// search_path.
pub fn watchdog_note(run_id: i64, note: &str, warned: bool) -> String {
    format!(
        "UPDATE dm.run SET note = pg_catalog.concat_ws('; '::pg_catalog.text, note, {}::pg_catalog.text){} WHERE run_id OPERATOR(pg_catalog.=) {run_id}::pg_catalog.int8",
        lit(note),
        if warned {
            ", warned_at = pg_catalog.clock_timestamp()"
        } else {
            ""
        }
    )
}

/// A watchdog event, sent from the watchdog's own session.
pub fn watchdog_event(run_id: i64, section: &str, action: &str, detail: &str) -> String {
    notify(json!({
        "event": "watchdog", "run_id": run_id, "section": section, "status": action, "note": short(detail),
    }))
}

// ---------------------------------------------------------------------------------------------
// Events: what a sync asks its status writer to record

/// A new run as the sync describes it; the writer adds the sync's pid and role itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub section: String,
    pub account_ids: Option<String>,
    pub accounts: Accounts,
    pub window: Window,
    pub mode: Mode,
    pub steps: Vec<PlannedStep>,
    pub resumed_from: Option<i64>,
}

impl RunRecord {
    pub fn of(r: &NewRun) -> RunRecord {
        RunRecord {
            section: r.section.to_string(),
            account_ids: r.account_ids.map(str::to_string),
            accounts: r.accounts.clone(),
            window: *r.window,
            mode: r.mode,
            steps: r.steps.to_vec(),
            resumed_from: r.resumed_from,
        }
    }

    /// The run as recorded for the backend `pid`, running as `run_by` and logged in as
    /// `login_role`, that asked for it.
    pub fn as_new<'a>(&'a self, pid: i32, run_by: &'a str, login_role: &'a str) -> NewRun<'a> {
        NewRun {
            section: &self.section,
            account_ids: self.account_ids.as_deref(),
            accounts: &self.accounts,
            window: &self.window,
            mode: self.mode,
            steps: &self.steps,
            resumed_from: self.resumed_from,
            pid,
            run_by,
            login_role,
        }
    }
}

/// One status event. Events other than [`Event::Housekeeping`] and [`Event::CreateRun`] name a
/// run, which the writer first checks belongs to the session it serves ([`OWNED_RUN`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Runs whose backend is gone become failed; old history is deleted.
    Housekeeping {
        history_days: i32,
    },
    /// A new run and its pending steps; answered with the run id.
    CreateRun {
        run: RunRecord,
    },
    /// The accounts a new run loads, once read from the section's account table (the run is
    /// recorded before, so that a lock it waits for is seen), and the run's start notification.
    RunResolved {
        run_id: i64,
        run: RunRecord,
    },
    StepStarted {
        run_id: i64,
        position: i32,
    },
    /// A loaded (and committed) table.
    StepSucceeded {
        run_id: i64,
        position: i32,
        counts: LoadCounts,
        seconds: f64,
    },
    /// A step that ended without loading (rolled back), and its run ending the same way.
    StepEnded {
        run_id: i64,
        position: i32,
        how: Failure,
        sqlstate: String,
        error: String,
        run_error: String,
    },
    RunFinished {
        run_id: i64,
        status: RunStatus,
        error: Option<String>,
        #[serde(default)]
        sqlstate: Option<String>,
    },
    /// A run that did not start (paused, banned, busy).
    RunSkipped {
        run_id: i64,
        note: String,
    },
    /// A table skipped by the VACUUM policy.
    StepSkipped {
        run_id: i64,
        position: i32,
        note: String,
    },
    /// The warehouse backend a table is being pulled by, and the foreign server it is on (for
    /// the watchdog, which cancels it there even if the section's server changed since).
    StepRemotePid {
        run_id: i64,
        position: i32,
        pid: i32,
        server: String,
    },
    /// What the VACUUM policy did.
    StepNote {
        run_id: i64,
        position: i32,
        note: String,
    },
    /// The watchdog's note on a run (and, when `warned`, the time it warned). The watchdog
    /// records it from its own session, as the extension's owner (the run is another
    /// session's, so no status writer takes it: a writer records only its own session's runs).
    WatchdogNote {
        run_id: i64,
        note: String,
        warned: bool,
    },
}

impl Event {
    /// The event's name (shown in the writer's pg_stat_activity row).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Housekeeping { .. } => "housekeeping",
            Event::CreateRun { .. } => "create_run",
            Event::RunResolved { .. } => "run_resolved",
            Event::StepStarted { .. } => "step_started",
            Event::StepSucceeded { .. } => "step_succeeded",
            Event::StepEnded { .. } => "step_ended",
            Event::RunFinished { .. } => "run_finished",
            Event::RunSkipped { .. } => "run_skipped",
            Event::StepSkipped { .. } => "step_skipped",
            Event::StepRemotePid { .. } => "step_remote_pid",
            Event::StepNote { .. } => "step_note",
            Event::WatchdogNote { .. } => "watchdog_note",
        }
    }

    /// The run (and step position) an event is about; None for housekeeping and a new run.
    pub fn run_and_position(&self) -> Option<(i64, Option<i32>)> {
        match self {
            Event::Housekeeping { .. } | Event::CreateRun { .. } => None,
            Event::RunFinished { run_id, .. }
            | Event::RunSkipped { run_id, .. }
            | Event::RunResolved { run_id, .. }
            | Event::WatchdogNote { run_id, .. } => Some((*run_id, None)),
            Event::StepStarted { run_id, position }
            | Event::StepSucceeded {
                run_id, position, ..
            }
            | Event::StepEnded {
                run_id, position, ..
            }
            | Event::StepSkipped {
                run_id, position, ..
            }
            | Event::StepRemotePid {
                run_id, position, ..
            }
            | Event::StepNote {
                run_id, position, ..
            } => Some((*run_id, Some(*position))),
        }
    }

    /// The statements recording an event about an existing run (`run`, `step`: as recorded).
    /// None for housekeeping and a new run, which the writer handles itself.
    pub fn statements(&self, run: RunRef, step: StepRef) -> Option<String> {
        Some(match self {
            Event::Housekeeping { .. } | Event::CreateRun { .. } => return None,
            Event::StepStarted { .. } => step_started(run, step),
            Event::StepSucceeded {
                counts, seconds, ..
            } => step_succeeded(run, step, counts, *seconds),
            Event::StepEnded {
                how,
                sqlstate,
                error,
                run_error,
                ..
            } => format!(
                "{}; {}",
                step_ended_badly(run, step, *how, sqlstate, error),
                run_finished(run, how.run(), Some(run_error), Some(sqlstate))
            ),
            Event::RunFinished {
                status,
                error,
                sqlstate,
                ..
            } => run_finished(run, *status, error.as_deref(), sqlstate.as_deref()),
            Event::RunSkipped { note, .. } => run_skipped(run.run_id, run.section, note),
            Event::RunResolved { run: r, .. } => run_resolved(run.run_id, &r.as_new(0, "", "")),
            Event::StepSkipped { note, .. } => step_skipped(run, step, note),
            Event::StepRemotePid { pid, server, .. } => step_remote_pid(run, step, *pid, server),
            Event::StepNote { note, .. } => step_note(run, step, note),
            Event::WatchdogNote { note, warned, .. } => watchdog_note(run.run_id, note, *warned),
        })
    }
}

/// An event with its sequence number (answers carry it back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub event: Event,
}

/// An error the writer met, as PostgreSQL reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriterError {
    pub sqlstate: String,
    pub message: String,
    pub detail: String,
    pub hint: String,
}

/// The writer's messages to its sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// First message: the database the writer is connected to, and the sync's token.
    Ready {
        token: u64,
        database: u32,
    },
    /// Event `seq` is recorded (and committed); a new run's id.
    Done {
        seq: u64,
        run_id: Option<i64>,
    },
    Failed {
        seq: u64,
        error: WriterError,
    },
}

impl Reply {
    pub fn seq(&self) -> u64 {
        match self {
            Reply::Ready { .. } => 0,
            Reply::Done { seq, .. } | Reply::Failed { seq, .. } => *seq,
        }
    }
}

/// A run of the session the writer serves: its section, its number of tables and the name of
/// the table at position `$4`, when run `$1` was started by backend `$2` after that backend
/// started (`$3`, its backend start). No row for anyone else's run.
pub const OWNED_RUN: &str = "SELECT r.section,
        (SELECT pg_catalog.max(s.position) FROM dm.run_step s WHERE s.run_id OPERATOR(pg_catalog.=) r.run_id),
        (SELECT s.mart_table FROM dm.run_step s WHERE s.run_id OPERATOR(pg_catalog.=) r.run_id AND s.position OPERATOR(pg_catalog.=) $4::pg_catalog.int4)
   FROM dm.run r
  WHERE r.run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8
    AND r.pid OPERATOR(pg_catalog.=) $2::pg_catalog.int4
    AND r.started_at OPERATOR(pg_catalog.>=) $3::pg_catalog.timestamptz";

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// Marks runs whose backend is gone as failed (`dm._reconcile`, as the extension's owner).
pub const RECONCILE_SQL: &str = "SELECT dm._reconcile()";

/// The running runs, as a JSON array: elapsed seconds, the previous successful run's, whether warned, the running step's server, warehouse pid and table.
pub const RUNNING_SQL: &str = "SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                    'run_id', r.run_id, 'section', r.section, 'pid', r.pid,
                    'elapsed', extract(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) r.started_at),
                    'previous', (SELECT extract(epoch FROM p.finished_at OPERATOR(pg_catalog.-) p.started_at) FROM dm.run p
                                  WHERE p.section OPERATOR(pg_catalog.=) r.section
                                    AND p.status OPERATOR(pg_catalog.=) 'succeeded'::pg_catalog.text
                                    AND p.run_id OPERATOR(pg_catalog.<) r.run_id
                                  ORDER BY p.run_id DESC LIMIT 1),
                    'warned', r.warned_at IS NOT NULL,
                    'server', COALESCE(st.remote_server, s.server),
                    'remote_pid', st.remote_pid,
                    'table', st.mart_table) ORDER BY r.run_id), '[]'::pg_catalog.json)
           FROM dm.run r
           LEFT JOIN dm.section s ON s.section OPERATOR(pg_catalog.=) r.section
           LEFT JOIN LATERAL (SELECT x.remote_pid, x.remote_server, x.mart_table FROM dm.run_step x
                               WHERE x.run_id OPERATOR(pg_catalog.=) r.run_id
                                 AND x.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text LIMIT 1) st ON true
          WHERE r.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text";

/// The time, to the millisecond with its zone, for progress notices.
pub const NOTICE_CLOCK_SQL: &str =
    "SELECT pg_catalog.to_char(pg_catalog.clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.MS TZ')";

/// The extension's owner.
pub const EXTENSION_OWNER_SQL: &str = "SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_datamart'::pg_catalog.name";

/// The status writer's search_path.
pub const WRITER_SEARCH_PATH_SQL: &str = "SET search_path = pg_catalog, pg_temp";

/// Run `$1`'s rows fetched and its seconds (first start to last finish).
pub const RUN_TOTALS_SQL: &str = "SELECT COALESCE(pg_catalog.sum(s.rows_fetched), 0)::pg_catalog.int8,
                pg_catalog.date_part('epoch', pg_catalog.max(r.finished_at) OPERATOR(pg_catalog.-) pg_catalog.min(r.started_at))::pg_catalog.float8
           FROM dm.run r LEFT JOIN dm.run_step s USING (run_id)
          WHERE r.run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8";

/// Table `$1`'s last 10 successful steps that fetched rows: rows, seconds and account-days.
pub const TABLE_HISTORY_SQL: &str = "SELECT pg_catalog.sum(h.rows_fetched)::pg_catalog.float8, pg_catalog.sum(h.secs)::pg_catalog.float8,
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
                  ORDER BY s.run_id DESC LIMIT 10) h";

/// The hint when pg_datamart is not installed in this database.
pub const CREATE_EXTENSION: &str = "CREATE EXTENSION pg_datamart CASCADE;";
