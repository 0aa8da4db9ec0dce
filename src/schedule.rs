//! Scheduling with pg_cron: one job per section, named `pg_datamart:<section>`, created or
//! updated idempotently. pg_cron stays optional: without it these functions say what to install
//! and nothing else is affected.

use crate::error::{report, DmError, DmResult, SpiContext};
use crate::quote;
use crate::section::Section;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

pub fn job_name(section: &str) -> String {
    format!("pg_datamart:{section}")
}

/// pg_cron must be installed in this database (its `cron.database_name`).
fn require_pg_cron(section: &str) -> DmResult<()> {
    let (installed, preloaded, cron_db) = Spi::get_three::<bool, bool, String>(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'),
                'pg_cron' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')),
                current_setting('cron.database_name', true)",
    )
    .doing("looking for pg_cron")?;
    if installed == Some(true) {
        return Ok(());
    }
    let db = Spi::get_one::<String>("SELECT current_database()::text")
        .doing("naming the database")?
        .unwrap_or_default();
    let (message, hint) = match (preloaded, cron_db) {
        (Some(true), Some(other)) if other != db => (
            format!("pg_cron keeps its jobs in database {other} (cron.database_name), not in {db}"),
            format!(
                "Set cron.database_name = '{db}' in postgresql.conf and restart, then CREATE EXTENSION pg_cron here; or, in {other}, \
                 run SELECT cron.schedule_in_database('{}', '<schedule>', 'CALL dm_sync(''{section}'')', '{db}');",
                job_name(section)
            ),
        ),
        (Some(true), _) => (
            "pg_cron is loaded but not created in this database".to_string(),
            "CREATE EXTENSION pg_cron;".to_string(),
        ),
        _ => (
            "pg_cron is not installed: scheduling needs it".to_string(),
            format!(
                "Install it (Debian: apt-get install postgresql-15-cron), add shared_preload_libraries = 'pg_cron' and \
                 cron.database_name = '{db}' to postgresql.conf, restart PostgreSQL, then CREATE EXTENSION pg_cron;"
            ),
        ),
    };
    Err(DmError::Conflict {
        code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        message,
        detail: String::new(),
        hint,
    })
}

/// Creates or updates the section's pg_cron job; returns its job id.
#[pg_extern(name = "_dm_schedule")]
fn schedule(section: &str, schedule: &str, account_ids: Option<&str>) -> Result<i64, ErrorReport> {
    report(|| {
        Section::load(section)?;
        crate::window::parse_account_ids(account_ids)?;
        if schedule.trim().is_empty() {
            return Err(DmError::invalid_argument(
                "schedule",
                "must not be empty",
                "Give a cron schedule such as '5 * * * *' (minute 5 of every hour).",
            ));
        }
        require_pg_cron(section)?;
        let ours = crate::catalog::extension_schema("pg_datamart")?;
        let command = format!(
            "CALL {ours}.dm_sync({}, {})",
            quote::local_literal(section),
            quote::local_literal(account_ids.unwrap_or("0"))
        );
        Ok(Spi::get_one_with_args::<i64>(
            "SELECT cron.schedule($1, $2, $3)",
            &[
                job_name(section).as_str().into(),
                schedule.into(),
                command.as_str().into(),
            ],
        )
        .doing("scheduling the pg_cron job")?
        .unwrap_or_default())
    })
}

/// Removes the section's pg_cron job; false when it had none.
#[pg_extern(name = "_dm_unschedule")]
fn unschedule(section: &str) -> Result<bool, ErrorReport> {
    report(|| {
        require_pg_cron(section)?;
        let name = job_name(section);
        let exists = crate::catalog::exists(
            "SELECT 1 FROM cron.job WHERE jobname = $1 AND username = current_user",
            &[name.as_str().into()],
            "the pg_cron job",
        )?;
        if exists {
            Spi::run_with_args("SELECT cron.unschedule($1)", &[name.as_str().into()])
                .doing("unscheduling")?;
        }
        Ok(exists)
    })
}
