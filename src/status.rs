//! Status: the run and step rows in `dm.run` / `dm.run_step`, and the progress notices.
//! Every value is bound; every error text stored or shown passes through [`scrub_secrets`].

use crate::error::{DmError, DmResult, SpiContext};
use crate::load::LoadCounts;
use crate::window::{Accounts, Window};
use chrono::NaiveDate;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde::Deserialize;

/// A run as recorded: what it was asked to do.
#[derive(Debug, Clone, Deserialize)]
pub struct Run {
    pub run_id: i64,
    pub section: String,
    pub accounts: Vec<String>,
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
        crate::catalog::read_json(
            "SELECT json_build_object(
                 'run_id', r.run_id, 'section', r.section, 'accounts', r.accounts,
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
                "See dm.run for the recorded runs.",
            )
        })
    }
}

/// A table a run will load: its position, oid and display name.
pub struct PlannedStep {
    pub position: i32,
    pub mart_oid: u32,
    pub mart_table: String,
}

/// Records a new run and its pending steps; returns the run id.
pub fn create_run(
    section: &str,
    account_ids: Option<&str>,
    accounts: &Accounts,
    window: &Window,
    mode: &str,
    steps: &[PlannedStep],
) -> DmResult<i64> {
    let run_id = Spi::get_one_with_args::<i64>(
        "INSERT INTO dm.run (section, account_ids, accounts, missing_accounts, start_date, end_date, mode, status)
         VALUES ($1, $2, $3, $4, $5::text::date, $6::text::date, $7, 'running') RETURNING run_id",
        &[
            section.into(),
            account_ids.into(),
            accounts.ids.clone().into(),
            accounts.missing.clone().into(),
            window.start.to_string().into(),
            window.end.to_string().into(),
            mode.into(),
        ],
    )
    .doing("recording the run")?
    .unwrap_or_default();
    for s in steps {
        Spi::run_with_args(
            "INSERT INTO dm.run_step (run_id, position, mart_oid, mart_table) VALUES ($1, $2, $3, $4)",
            &[run_id.into(), s.position.into(), pgrx::pg_sys::Oid::from(s.mart_oid).into(), s.mart_table.as_str().into()],
        )
        .doing("recording the run's steps")?;
    }
    Ok(run_id)
}

pub fn step_started(run_id: i64, position: i32) -> DmResult<()> {
    Spi::run_with_args(
        "UPDATE dm.run_step SET status = 'running', started_at = clock_timestamp(), finished_at = NULL, error = NULL
          WHERE run_id = $1 AND position = $2",
        &[run_id.into(), position.into()],
    )
    .doing("recording the step's start")
}

pub fn step_succeeded(run_id: i64, position: i32, c: &LoadCounts) -> DmResult<()> {
    Spi::run_with_args(
        "UPDATE dm.run_step SET status = 'succeeded', finished_at = clock_timestamp(),
                rows_fetched = $3, rows_deleted = $4, rows_inserted = $5, rows_updated = $6
          WHERE run_id = $1 AND position = $2",
        &[
            run_id.into(),
            position.into(),
            c.fetched.into(),
            c.deleted.into(),
            c.inserted.into(),
            c.updated.into(),
        ],
    )
    .doing("recording the step's success")
}

/// Records a failed step (its changes were rolled back) and the run's failure.
pub fn step_failed(
    run_id: i64,
    position: i32,
    sqlstate: &str,
    error: &str,
    run_error: &str,
) -> DmResult<()> {
    Spi::run_with_args(
        "UPDATE dm.run_step SET status = 'failed', finished_at = clock_timestamp(), error = $3, sqlstate = $4,
                started_at = COALESCE(started_at, clock_timestamp()),
                rows_fetched = NULL, rows_deleted = NULL, rows_inserted = NULL, rows_updated = NULL
          WHERE run_id = $1 AND position = $2",
        &[run_id.into(), position.into(), error.into(), sqlstate.into()],
    )
    .doing("recording the step's failure")?;
    run_finished(run_id, "failed", Some(run_error))
}

pub fn run_finished(run_id: i64, status: &str, error: Option<&str>) -> DmResult<()> {
    Spi::run_with_args(
        "UPDATE dm.run SET status = $2, finished_at = clock_timestamp(), error = $3 WHERE run_id = $1",
        &[run_id.into(), status.into(), error.into()],
    )
    .doing("recording the run's end")
}

/// A progress line, sent as a NOTICE (`pg_datamart: ...`).
pub fn notice(line: &str) {
    pgrx::notice!("pg_datamart: {}", line);
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
