//! Generated procedures: `dm_generate_procedures()` (re)creates one plain procedure per section,
//! `dm_sync_<section>(account_ids, start_date, end_date)`, whose body shows the section's
//! catalog-derived statements as they are now and then calls `dm_sync` for the section (so it
//! behaves exactly like `dm_sync`: status rows, notices, modes). The text comes from
//! `pg_datamart_plan::procedures`. Each body carries a fingerprint of what it shows; a
//! procedure whose section has changed since (columns added, dropped or retyped, mappings,
//! tables, mode) refuses to run and says to regenerate, so it never loads with a stale column
//! list behind a stale description. The procedures are created and dropped as the extension's
//! owner (the two entry points that do it are SECURITY DEFINER) and are executable by the roles
//! with loader access only.

use crate::catalog::{self, read_json};
use crate::error::{report, DmError, DmResult, SpiContext};
use pg_datamart_plan::access::{self, Kind};
use pg_datamart_plan::procedures::{create_sql, drop_sql, procedure_name, signature};
use pg_datamart_plan::snapshot::{Schemas, Section};
use pg_datamart_plan::Access;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde::Deserialize;

/// The description of what a section's sync runs now, and its fingerprint.
fn describe(schemas: &Schemas, section: &Section) -> DmResult<(String, String)> {
    Ok(pg_datamart_plan::procedures::describe(
        schemas,
        section,
        &catalog::mart_tables(section)?,
    )?)
}

#[derive(Deserialize)]
struct Generated {
    section: String,
    procedure: String,
    fingerprint: String,
    exists: bool,
}

fn generated() -> DmResult<Vec<Generated>> {
    Ok(read_json(
        pg_datamart_plan::procedures::GENERATED_SQL,
        &[],
        "the generated procedures",
    )?
    .unwrap_or_default())
}

fn section_names() -> DmResult<Vec<String>> {
    Ok(read_json(pg_datamart_plan::config::SECTIONS_SQL, &[], "the sections")?.unwrap_or_default())
}

/// Drops a generated procedure and forgets it.
fn drop_generated(section: &str) -> DmResult<Option<String>> {
    let Some(g) = generated()?.into_iter().find(|g| g.section == section) else {
        return Ok(None);
    };
    if g.exists {
        Spi::run(&drop_sql(&catalog::schemas()?, section))
            .doing("dropping a generated procedure")?;
    }
    Spi::run_with_args(
        pg_datamart_plan::procedures::FORGET_GENERATED_SQL,
        &[section.into()],
    )
    .doing("forgetting a generated procedure")?;
    Ok(Some(g.procedure))
}

/// Makes a generated procedure depend on the extension (a normal dependency, not membership:
/// pg_dump still dumps it), so that `DROP EXTENSION pg_datamart` refuses while it exists and
/// `DROP EXTENSION pg_datamart CASCADE` drops it too, instead of leaving a procedure that
/// calls what is gone. CREATE OR REPLACE forgets the dependency, so it is recorded each time.
fn depend_on_extension(signature: &str) -> DmResult<()> {
    let (procedure, extension, recorded) =
        Spi::get_three_with_args::<pgrx::pg_sys::Oid, pgrx::pg_sys::Oid, bool>(
            pg_datamart_plan::procedures::MEMBERSHIP_SQL,
            &[signature.into()],
        )
        .doing("reading the generated procedure's dependencies")?;
    if let (Some(procedure), Some(extension), Some(false)) = (procedure, extension, recorded) {
        let depender = pgrx::pg_sys::ObjectAddress {
            classId: pgrx::pg_sys::ProcedureRelationId,
            objectId: procedure,
            objectSubId: 0,
        };
        let referenced = pgrx::pg_sys::ObjectAddress {
            classId: pgrx::pg_sys::ExtensionRelationId,
            objectId: extension,
            objectSubId: 0,
        };
        // SAFETY: both objects exist (just read); records one pg_depend row.
        unsafe {
            pgrx::pg_sys::recordDependencyOn(
                &depender,
                &referenced,
                pgrx::pg_sys::DependencyType::DEPENDENCY_NORMAL,
            )
        };
    }
    Ok(())
}

/// Creates (or replaces) a section's procedure: executable by the roles with loader access
/// (`dm.access`) and nobody else, like `dm_sync` itself.
fn create(schemas: &Schemas, section: &Section, text: &str, fingerprint: &str) -> DmResult<String> {
    let (create, comment) = create_sql(schemas, &section.name, text, fingerprint);
    Spi::run(&create).doing("creating a generated procedure")?;
    Spi::run(&comment).doing("commenting a generated procedure")?;
    let signature = signature(schemas, &section.name);
    depend_on_extension(&signature)?;
    Spi::run(&access::revoke_public_sql(Kind::Procedure, &signature))
        .doing("revoking a generated procedure from PUBLIC")?;
    for role in crate::api::access::roles_with(Access::Loader)? {
        Spi::run(&access::grant_sql(
            Kind::Procedure,
            &signature,
            &["EXECUTE"],
            &role,
        ))
        .doing("granting a generated procedure to a loader")?;
    }
    Spi::run_with_args(
        pg_datamart_plan::procedures::RECORD_GENERATED_SQL,
        &[
            section.name.as_str().into(),
            signature.as_str().into(),
            fingerprint.into(),
        ],
    )
    .doing("recording a generated procedure")?;
    Ok(signature)
}

/// Runs as the extension's owner (SECURITY DEFINER, pinned search_path), so that an admin
/// needs no CREATE on the extension's schema and the procedures belong to the owner, like the
/// rest of the API. Its narrow work: procedure text from the planner, from the registered
/// sections as they are now; it replaces only procedures it recorded in
/// `dm.generated_procedure`, which no other role may write.
#[pg_extern(schema = "dm", name = "_generate_procedures", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn generate_procedures() -> Result<
    TableIterator<
        'static,
        (
            name!(procedure, String),
            name!(section, String),
            name!(action, String),
        ),
    >,
    ErrorReport,
> {
    report(|| {
        let schemas = catalog::schemas()?;
        let sections = section_names()?;
        let before = generated()?;
        let mut rows = Vec::new();
        for g in &before {
            if !sections.contains(&g.section) {
                drop_generated(&g.section)?;
                rows.push((
                    g.procedure.clone(),
                    g.section.clone(),
                    "dropped".to_string(),
                ));
            }
        }
        for name in &sections {
            let section = catalog::section(name)?;
            let (text, fingerprint) = describe(&schemas, &section)?;
            let mine = before.iter().find(|g| &g.section == name);
            if let Some(g) = mine.filter(|g| g.exists && g.fingerprint == fingerprint) {
                rows.push((g.procedure.clone(), name.clone(), "unchanged".to_string()));
                continue;
            }
            // Never replace a procedure of the same name that pg_datamart did not create.
            let taken = Spi::get_one_with_args::<bool>(
                pg_datamart_plan::procedures::PROCEDURE_EXISTS_SQL,
                &[signature(&schemas, name).as_str().into()],
            )
            .doing("checking the procedure name")?
            .unwrap_or(false);
            if taken && mine.is_none_or(|g| !g.exists) {
                return Err(DmError::Duplicate {
                    message: format!(
                        "a procedure {} exists that pg_datamart did not generate",
                        signature(&schemas, name)
                    ),
                    hint: "Rename or drop it, then run dm_generate_procedures() again.".into(),
                });
            }
            let action = if mine.is_some_and(|g| g.exists) {
                "replaced"
            } else {
                "created"
            };
            let signature = create(&schemas, &section, &text, &fingerprint)?;
            rows.push((signature, name.clone(), action.to_string()));
        }
        Ok(TableIterator::new(rows))
    })
}

/// Drops the generated procedure of a section that no longer exists (`dm_drop_section` calls
/// it after removing the section); returns the procedure dropped, if any. Runs as the
/// extension's owner, who owns the generated procedures; refuses a section that still exists.
#[pg_extern(schema = "dm", name = "_drop_generated", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn drop_generated_of_removed(section: &str) -> Result<Option<String>, ErrorReport> {
    report(|| {
        let exists = catalog::exists(
            pg_datamart_plan::config::SECTION_EXISTS_SQL,
            &[section.into()],
            "the section",
        )?;
        if exists {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: format!("section {section} still exists; only the procedure of a removed section is dropped"),
                detail: String::new(),
                hint: format!("Remove the section with SELECT dm_drop_section('{section}'); it drops its procedure too."),
            });
        }
        drop_generated(section)
    })
}

/// Called first by every generated procedure: refuses when the section has changed since.
#[pg_extern(schema = "dm", name = "_check_generated")]
#[search_path(pg_catalog, pg_temp)]
fn check_generated(section: &str, fingerprint: &str) -> Result<(), ErrorReport> {
    report(|| {
        let s = catalog::section(section).map_err(|_| {
            DmError::invalid_definition(
                format!("{} belongs to section {section}, which no longer exists", procedure_name(section)),
                "",
                "Run SELECT * FROM dm_generate_procedures(); it drops procedures of removed sections.",
            )
        })?;
        let (_, now) = describe(&catalog::schemas()?, &s)?;
        if now != fingerprint {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: format!(
                    "{} is out of date: section {section}'s tables, columns, mappings or settings changed after it was generated",
                    procedure_name(section)
                ),
                detail: "It would describe statements other than those dm_sync runs now; nothing was loaded.".into(),
                hint: format!(
                    "Run SELECT * FROM dm_generate_procedures(); to regenerate it (or CALL dm_sync('{section}', ...) directly)."
                ),
            });
        }
        Ok(())
    })
}
