//! Status: run and step rows (`dm.run`, `dm.run_step`), `pg_notify('dm_status', json)` events
//! and progress notices.
//!
//! Every status write goes through a loopback connection: a second session on this server,
//! opened with dblink at the start of a run (a foreign server named by
//! `pg_datamart.status_server`, or this server's Unix socket as the current user). Its writes
//! commit at once and independently of the loading transaction, so other sessions see progress
//! live, notifications are delivered immediately, and the rows survive errors, rollbacks,
//! cancellation and termination of the syncing session. The sync itself never writes these
//! tables. Every error text stored or shown passes through [`scrub_secrets`].

use crate::catalog::{extension_schema, read_json};
use crate::error::{DmError, DmResult, SpiContext};
use crate::load::LoadCounts;
use crate::quote::local_literal as lit;
use crate::window::{Accounts, Window};
use chrono::NaiveDate;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde::Deserialize;
use serde_json::json;

/// dblink name of the loopback status connection.
const LINK: &str = "pg_datamart_status";

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
    pub mode: String,
    pub status: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    pub position: i32,
    pub mart_oid: u32,
    pub mart_table: String,
    pub status: String,
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
            "SELECT json_build_object(
                 'run_id', r.run_id, 'section', r.section, 'account_ids', r.account_ids,
                 'accounts', r.accounts, 'missing_accounts', r.missing_accounts,
                 'start_date', r.start_date, 'end_date', r.end_date, 'mode', r.mode, 'status', r.status,
                 'steps', COALESCE((SELECT json_agg(json_build_object(
                              'position', s.position, 'mart_oid', s.mart_oid::bigint, 'mart_table', s.mart_table,
                              'status', s.status) ORDER BY s.position)
                          FROM dm.run_step s WHERE s.run_id = r.run_id), '[]'::json))
               FROM dm.run r WHERE r.run_id = $1",
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
// The loopback connection

/// libpq conninfo value: single-quoted, with `\` and `'` backslash-escaped.
fn conninfo_value(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Opens the loopback status connection for a run (replacing one left over in this session).
/// Fails before any data is touched, saying how to fix it.
pub fn open_link() -> DmResult<()> {
    let dblink = extension_schema("dblink")?;
    let ours = extension_schema("pg_datamart")?;
    let (connstr, how) = match crate::gucs::status_server() {
        Some(server) => {
            crate::fetch::check_source(&server).map_err(|e| match e {
                DmError::UndefinedObject {
                    code,
                    message,
                    hint,
                } => DmError::UndefinedObject {
                    code,
                    message: format!("pg_datamart.status_server: {message}"),
                    hint,
                },
                other => other,
            })?;
            (
                server.clone(),
                format!("through foreign server {server} (pg_datamart.status_server)"),
            )
        }
        None => {
            let row = Spi::get_three::<String, String, String>(
                "SELECT COALESCE(NULLIF(trim(split_part(current_setting('unix_socket_directories'), ',', 1)), ''), 'localhost'),
                        current_setting('port'), current_database()::text",
            )
            .doing("reading the server's socket and port")?;
            let (host, port, db) = (
                row.0.unwrap_or_default(),
                row.1.unwrap_or_default(),
                row.2.unwrap_or_default(),
            );
            let user = Spi::get_one::<String>("SELECT current_user::text")
                .doing("reading the current user")?
                .unwrap_or_default();
            (
                format!(
                    "host={} port={} dbname={} user={} application_name={}",
                    conninfo_value(&host),
                    conninfo_value(&port),
                    conninfo_value(&db),
                    conninfo_value(&user),
                    conninfo_value("pg_datamart status")
                ),
                format!("as {user} over the Unix socket {host}, port {port}, without a password"),
            )
        }
    };
    let open = Spi::get_one_with_args::<bool>(
        &format!("SELECT $1 = ANY (COALESCE({dblink}.dblink_get_connections(), '{{}}'))"),
        &[LINK.into()],
    )
    .doing("listing dblink connections")?
    .unwrap_or(false);
    if open {
        Spi::run_with_args(
            &format!("SELECT {dblink}.dblink_disconnect($1)"),
            &[LINK.into()],
        )
        .doing("closing the old status connection")?;
    }
    Spi::run_with_args(
        &format!("SELECT {ours}._dm_status_connect($1, $2, $3)"),
        &[LINK.into(), connstr.as_str().into(), how.as_str().into()],
    )
    .doing("opening the status connection")
}

/// Closes the status connection (end of a run).
pub fn close_link() -> DmResult<()> {
    let dblink = extension_schema("dblink")?;
    Spi::run_with_args(
        &format!(
            "SELECT {dblink}.dblink_disconnect($1) WHERE $1 = ANY (COALESCE({dblink}.dblink_get_connections(), '{{}}'))"
        ),
        &[LINK.into()],
    )
    .doing("closing the status connection")
}

/// Runs `sql` in the status session, where it commits at once. `sql` may hold several
/// statements; the last one must be a one-column SELECT (a notification, a reconcile), since
/// dblink returns the last result.
fn remote_exec(sql: &str) -> DmResult<()> {
    let dblink = extension_schema("dblink")?;
    Spi::run_with_args(
        &format!("SELECT count(*) FROM {dblink}.dblink($1, $2) AS t(result text)"),
        &[LINK.into(), sql.into()],
    )
    .doing("writing status through the loopback connection")
}

/// `SELECT pg_notify('dm_status', ...)` for an event, stamped with the time it is sent.
fn notify_sql(event: serde_json::Value) -> String {
    format!(
        "SELECT pg_notify('dm_status', ({}::jsonb || jsonb_build_object('at', clock_timestamp()))::text)::text",
        lit(&event.to_string())
    )
}

fn text_array(values: &[String]) -> String {
    if values.is_empty() {
        "'{}'::text[]".to_string()
    } else {
        format!(
            "ARRAY[{}]::text[]",
            values.iter().map(|v| lit(v)).collect::<Vec<_>>().join(", ")
        )
    }
}

fn opt_lit(v: Option<&str>) -> String {
    v.map(lit).unwrap_or_else(|| "NULL".to_string())
}

/// Notification text must stay under PostgreSQL's 8000-byte payload limit.
fn short(text: &str) -> String {
    if text.len() <= 1000 {
        return text.to_string();
    }
    let mut end = 1000;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

// ---------------------------------------------------------------------------------------------
// Events of a run

/// A table a run will load: its position, oid and display name.
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
    pub mode: &'a str,
    pub steps: &'a [PlannedStep],
    pub resumed_from: Option<i64>,
}

/// Housekeeping before a run: runs whose backend is gone are marked failed (`_dm_reconcile`),
/// and finished runs older than `pg_datamart.history_days` are deleted.
pub fn housekeeping() -> DmResult<()> {
    let ours = extension_schema("pg_datamart")?;
    let days = crate::gucs::history_days();
    let prune = if days > 0 {
        format!("DELETE FROM dm.run WHERE status <> 'running' AND started_at < now() - make_interval(days => {days}); ")
    } else {
        String::new()
    };
    remote_exec(&format!("{prune}SELECT {ours}._dm_reconcile()::text"))
}

/// Records a new run and its pending steps (one remote transaction); returns the run id.
pub fn create_run(r: &NewRun) -> DmResult<i64> {
    let dblink = extension_schema("dblink")?;
    let pid = Spi::get_one::<i32>("SELECT pg_backend_pid()")
        .doing("reading the backend pid")?
        .unwrap_or_default();
    let steps = r
        .steps
        .iter()
        .map(|s| {
            format!(
                "({}, {}::oid, {})",
                s.position,
                s.mart_oid,
                lit(&s.mart_table)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!(
        "WITH run AS (
            INSERT INTO dm.run (section, account_ids, accounts, missing_accounts, start_date, end_date, mode, status, pid, resumed_from)
            VALUES ({}, {}, {}, {}, {}::date, {}::date, {}, 'running', {pid}, {})
            RETURNING run_id),
         steps AS (
            INSERT INTO dm.run_step (run_id, position, mart_oid, mart_table)
            SELECT run.run_id, s.position, s.mart_oid, s.mart_table
              FROM run, (VALUES {steps}) AS s(position, mart_oid, mart_table))
         SELECT run_id FROM run",
        lit(r.section),
        opt_lit(r.account_ids),
        text_array(&r.accounts.ids),
        text_array(&r.accounts.missing),
        lit(&r.window.start.to_string()),
        lit(&r.window.end.to_string()),
        lit(r.mode),
        r.resumed_from.map(|id| id.to_string()).unwrap_or_else(|| "NULL".into()),
    );
    let run_id = Spi::get_one_with_args::<i64>(
        &format!("SELECT run_id FROM {dblink}.dblink($1, $2) AS t(run_id bigint)"),
        &[LINK.into(), insert.as_str().into()],
    )
    .doing("recording the run")?
    .unwrap_or_default();
    remote_exec(&notify_sql(json!({
        "event": "run_start", "run_id": run_id, "section": r.section, "status": "running",
        "tables": r.steps.len(), "accounts": r.accounts.ids.len(),
        "missing_accounts": r.accounts.missing, "start_date": r.window.start.to_string(),
        "end_date": r.window.end.to_string(), "mode": r.mode, "resumed_from": r.resumed_from,
    })))?;
    Ok(run_id)
}

fn step_event(run: &Run, step: &Step, event: &str, status: &str) -> serde_json::Value {
    json!({
        "event": event, "run_id": run.run_id, "section": run.section, "position": step.position,
        "tables": run.total_tables(), "mart_table": step.mart_table, "status": status,
    })
}

pub fn step_started(run: &Run, step: &Step) -> DmResult<()> {
    remote_exec(&format!(
        "UPDATE dm.run_step SET status = 'running', started_at = clock_timestamp(), finished_at = NULL, error = NULL
          WHERE run_id = {} AND position = {}; {}",
        run.run_id,
        step.position,
        notify_sql(step_event(run, step, "step_start", "running"))
    ))
}

/// Records a loaded (and committed) table.
pub fn step_succeeded(run: &Run, step: &Step, c: &LoadCounts, seconds: f64) -> DmResult<()> {
    let mut event = step_event(run, step, "step_finish", "succeeded");
    event["rows_fetched"] = c.fetched.into();
    event["rows_deleted"] = c.deleted.into();
    event["rows_inserted"] = c.inserted.into();
    event["rows_updated"] = c.updated.into();
    event["seconds"] = json!((seconds * 1000.0).round() / 1000.0);
    remote_exec(&format!(
        "UPDATE dm.run_step SET status = 'succeeded', finished_at = clock_timestamp(),
                rows_fetched = {}, rows_deleted = {}, rows_inserted = {}, rows_updated = {}
          WHERE run_id = {} AND position = {}; {}",
        c.fetched,
        c.deleted,
        c.inserted,
        c.updated,
        run.run_id,
        step.position,
        notify_sql(event)
    ))
}

/// Records a step that ended without loading (its changes were rolled back) and ends the run
/// with the same status: `failed` or `cancelled`.
pub fn step_ended_badly(
    run: &Run,
    step: &Step,
    status: &str,
    sqlstate: &str,
    error: &str,
    run_error: &str,
) -> DmResult<()> {
    let mut event = step_event(run, step, "step_finish", status);
    event["error"] = short(error).into();
    event["sqlstate"] = sqlstate.into();
    remote_exec(&format!(
        "UPDATE dm.run_step SET status = {st}, finished_at = clock_timestamp(), error = {err}, sqlstate = {code},
                started_at = COALESCE(started_at, clock_timestamp()),
                rows_fetched = NULL, rows_deleted = NULL, rows_inserted = NULL, rows_updated = NULL
          WHERE run_id = {run} AND position = {pos}; {notify}",
        st = lit(status),
        err = lit(error),
        code = lit(sqlstate),
        run = run.run_id,
        pos = step.position,
        notify = notify_sql(event)
    ))?;
    run_finished(run, status, Some(run_error))
}

pub fn run_finished(run: &Run, status: &str, error: Option<&str>) -> DmResult<()> {
    remote_exec(&format!(
        "UPDATE dm.run SET status = {}, finished_at = clock_timestamp(), error = {} WHERE run_id = {}; {}",
        lit(status),
        opt_lit(error),
        run.run_id,
        notify_sql(json!({
            "event": "run_finish", "run_id": run.run_id, "section": run.section, "status": status,
            "error": error.map(short),
        }))
    ))
}

/// Records a run that did not start (paused, banned, busy) and why.
pub fn run_skipped(run_id: i64, section: &str, note: &str) -> DmResult<()> {
    remote_exec(&format!(
        "UPDATE dm.run SET status = 'skipped', finished_at = clock_timestamp(), note = {} WHERE run_id = {run_id}; \
         UPDATE dm.run_step SET status = 'skipped' WHERE run_id = {run_id}; {}",
        lit(note),
        notify_sql(json!({
            "event": "run_finish", "run_id": run_id, "section": section, "status": "skipped", "note": short(note),
        }))
    ))
}

/// Records a table skipped by the VACUUM policy.
pub fn step_skipped(run: &Run, step: &Step, note: &str) -> DmResult<()> {
    let mut event = step_event(run, step, "step_finish", "skipped");
    event["note"] = short(note).into();
    remote_exec(&format!(
        "UPDATE dm.run_step SET status = 'skipped', finished_at = clock_timestamp(), note = {}
          WHERE run_id = {} AND position = {}; {}",
        lit(note),
        run.run_id,
        step.position,
        notify_sql(event)
    ))
}

/// Records the warehouse backend a table is being pulled by (for the watchdog to cancel).
pub fn step_remote_pid(run: &Run, step: &Step, pid: i32) -> DmResult<()> {
    remote_exec(&format!(
        "UPDATE dm.run_step SET remote_pid = {pid} WHERE run_id = {} AND position = {}; SELECT ''",
        run.run_id, step.position
    ))
}

/// Adds a note to a step (what the VACUUM policy did).
pub fn step_note(run: &Run, step: &Step, note: &str) -> DmResult<()> {
    remote_exec(&format!(
        "UPDATE dm.run_step SET note = {} WHERE run_id = {} AND position = {}; SELECT ''",
        lit(note),
        run.run_id,
        step.position
    ))
}

/// A watchdog event, sent from the watchdog's own session (it commits when the call ends;
/// notifications are delivered then).
pub fn watchdog_notify(run_id: i64, section: &str, action: &str, detail: &str) -> DmResult<()> {
    Spi::run(&notify_sql(json!({
        "event": "watchdog", "run_id": run_id, "section": section, "status": action, "note": short(detail),
    })))
    .doing("notifying a watchdog action")
}

/// A progress line, sent as a NOTICE: `pg_datamart <time>: <line>`.
pub fn notice(line: &str) {
    let at =
        Spi::get_one::<String>("SELECT to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.MS TZ')")
            .ok()
            .flatten()
            .unwrap_or_default();
    pgrx::notice!("pg_datamart {}: {}", at, line);
}

#[pg_extern(name = "_dm_scrub")]
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
