//! Scheduling with pg_cron: one job per section, named `pg_datamart:<section>`, created or
//! updated idempotently. pg_cron stays optional: without it these functions say what to install
//! and nothing else is affected.

use crate::error::{report, required, DmError, DmResult, SpiContext, SECTION_HINT};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

pub fn job_name(section: &str) -> String {
    format!("pg_datamart:{section}")
}

/// pg_cron must be created in this database (its `cron.database_name`), and the caller must
/// be able to use its schema `cron` (pg_cron creates it, whatever schema the extension is in). Decided from catalogs every role reads (`pg_extension`,
/// `has_schema_privilege`): pg_cron's settings (`shared_preload_libraries`,
/// `cron.database_name`) are superuser-only, so they are read, to say what to do, only by a
/// role that may read them (`pg_read_all_settings`, superusers) and only when pg_cron is
/// missing.
fn require_pg_cron(section: &str) -> DmResult<()> {
    let (installed, usable) =
        Spi::get_two::<bool, bool>(pg_datamart_plan::control::CRON_INSTALLED_SQL)
            .doing("looking for pg_cron")?;
    let (role, db) = Spi::get_two::<String, String>(pg_datamart_plan::control::WHO_WHERE_SQL)
        .doing("naming the role and the database")?;
    let (role, db) = (role.unwrap_or_default(), db.unwrap_or_default());
    if installed == Some(true) {
        if usable == Some(true) {
            return Ok(());
        }
        return Err(DmError::Privilege {
            message: format!("role {role} may not use pg_cron: it has no USAGE on schema cron"),
            hint: format!(
                "A superuser runs GRANT USAGE ON SCHEMA cron TO {};",
                pg_datamart_plan::quote::ident(&role)
            ),
        });
    }
    let may_read_settings = crate::catalog::exists(
        pg_datamart_plan::control::READS_SETTINGS_SQL,
        &[],
        "whether this role may read pg_cron's settings",
    )?;
    let (preloaded, cron_db) = if may_read_settings {
        Spi::get_two::<bool, String>(pg_datamart_plan::control::CRON_PRELOADED_SQL)
            .doing("reading pg_cron's settings")?
    } else {
        (None, None)
    };
    let elsewhere = |other: &str| {
        format!(
            "in {other}, run SELECT cron.schedule_in_database('{}', '<schedule>', 'CALL dm_sync(''{section}'')', '{db}');",
            job_name(section)
        )
    };
    let (message, hint) = match (may_read_settings, preloaded, cron_db) {
        (true, Some(true), Some(other)) if other != db => (
            format!("pg_cron keeps its jobs in database {other} (cron.database_name), not in {db}"),
            format!(
                "Set cron.database_name = '{db}' in postgresql.conf and restart, then CREATE EXTENSION pg_cron here; or, {}",
                elsewhere(&other)
            ),
        ),
        (true, Some(true), _) => (
            "pg_cron is loaded but not created in this database".to_string(),
            pg_datamart_plan::control::CREATE_PG_CRON.to_string(),
        ),
        (true, _, _) => (
            "pg_cron is not installed: scheduling needs it".to_string(),
            format!(
                "Install it (Debian: apt-get install postgresql-15-cron), add shared_preload_libraries = 'pg_cron' and \
                 cron.database_name = '{db}' to postgresql.conf, restart PostgreSQL, then CREATE EXTENSION pg_cron;"
            ),
        ),
        (false, _, _) => (
            format!("pg_cron is not created in database {db}: scheduling needs it"),
            format!(
                "Ask a superuser: with pg_cron in shared_preload_libraries and cron.database_name = '{db}', CREATE EXTENSION pg_cron here; \
                 if pg_cron keeps its jobs in another database (cron.database_name), {}",
                elsewhere("that database")
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
#[pg_extern(schema = "dm", name = "_schedule")]
#[search_path(pg_catalog, pg_temp)]
fn schedule(
    section: Option<&str>,
    schedule: Option<&str>,
    account_ids: Option<&str>,
) -> Result<i64, ErrorReport> {
    report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        let schedule = required(
            schedule,
            "schedule",
            "Give a cron schedule such as '5 * * * *' (minute 5 of every hour).",
        )?;
        crate::catalog::section(section)?;
        pg_datamart_plan::window::parse_account_ids(account_ids, crate::gucs::max_account_ids())?;
        if schedule.trim().is_empty() {
            return Err(DmError::invalid_argument(
                "schedule",
                "must not be empty",
                "Give a cron schedule such as '5 * * * *' (minute 5 of every hour).",
            ));
        }
        require_pg_cron(section)?;
        let schemas = crate::catalog::schemas()?;
        let command =
            pg_datamart_plan::control::cron_command(&schemas, section, account_ids.unwrap_or("0"));
        Ok(Spi::get_one_with_args::<i64>(
            pg_datamart_plan::control::CRON_SCHEDULE_SQL,
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
#[pg_extern(schema = "dm", name = "_unschedule")]
#[search_path(pg_catalog, pg_temp)]
fn unschedule(section: Option<&str>) -> Result<bool, ErrorReport> {
    report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        require_pg_cron(section)?;
        let name = job_name(section);
        let exists = crate::catalog::exists(
            pg_datamart_plan::control::CRON_JOB_EXISTS_SQL,
            &[name.as_str().into()],
            "the pg_cron job",
        )?;
        if exists {
            Spi::run_with_args(
                pg_datamart_plan::control::CRON_UNSCHEDULE_SQL,
                &[name.as_str().into()],
            )
            .doing("unscheduling")?;
        }
        Ok(exists)
    })
}
