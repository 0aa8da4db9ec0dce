//! The catalog stage: reads the snapshot the planner plans from, with one well-named query per
//! object kind (`sql/queries/`), into the planner's typed structs: a section, a mart table, the
//! schemas of dblink and of pg_datamart. Every function here runs inside an entry point whose
//! search_path is pinned to `pg_catalog, pg_temp`.

use crate::error::{DmError, DmResult, SpiContext};
use pg_datamart_plan::snapshot::{MartTable, Schemas, Section};
use pgrx::prelude::*;
use pgrx::{pg_sys, PgSqlErrorCode};
use serde::de::DeserializeOwned;

/// Runs a query that returns at most one `json` value and reads it into `T`: the one way
/// pg_datamart reads its configuration, run history and the catalog into typed structs.
/// No row (or a NULL) is `None`; `what` names the thing read, for errors.
pub fn read_json<T: DeserializeOwned>(
    sql: &str,
    args: &[pgrx::datum::DatumWithOid],
    what: &str,
) -> DmResult<Option<T>> {
    let value = Spi::connect(|client| {
        let table = client.select(sql, Some(1), args)?;
        if table.is_empty() {
            Ok(None)
        } else {
            table.first().get_one::<pgrx::Json>()
        }
    })
    .doing(format!("reading {what}"))?;
    match value {
        None => Ok(None),
        Some(pgrx::Json(v)) => serde_json::from_value(v).map(Some).map_err(|e| {
            DmError::invalid_definition(
                format!("{what} could not be read"),
                e.to_string(),
                "This is a bug in pg_datamart, or its tables were edited by hand; please report it.",
            )
        }),
    }
}

/// Whether the boolean `query` (a `SELECT EXISTS (...)`) is true; `what` names the look-up.
pub fn exists(query: &str, args: &[pgrx::datum::DatumWithOid], what: &str) -> DmResult<bool> {
    Ok(Spi::get_one_with_args::<bool>(query, args)
        .doing(format!("looking up {what}"))?
        .unwrap_or(false))
}

/// The schemas of pg_datamart and of dblink.
pub fn schemas() -> DmResult<Schemas> {
    let found: Option<Schemas> = read_json(
        pg_datamart_plan::snapshot::SCHEMAS_SQL,
        &[],
        "the extensions' schemas",
    )
    // A NULL dblink schema does not deserialize: dblink is missing.
    .ok()
    .flatten();
    found.ok_or_else(|| {
        DmError::undefined(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            "extension dblink is not installed in this database",
            pg_datamart_plan::snapshot::CREATE_DBLINK,
        )
    })
}

/// The section as registered, or an error listing the sections that exist.
pub fn section(name: &str) -> DmResult<Section> {
    read_json(
        include_str!("../sql/queries/section.sql"),
        &[name.into()],
        &format!("section \"{name}\""),
    )?
    .ok_or_else(|| unknown_section(name))
}

fn unknown_section(name: &str) -> DmError {
    let known = Spi::get_one::<String>(pg_datamart_plan::snapshot::SECTION_NAMES_SQL)
        .ok()
        .flatten();
    match known {
        Some(list) => DmError::invalid_argument(
            "section",
            format!("unknown section \"{name}\" (registered sections: {list})"),
            "Use one of the registered sections, or register a new one with dm_add_section().",
        ),
        None => DmError::invalid_argument(
            "section",
            format!("unknown section \"{name}\" (no section is registered yet)"),
            "Register one with dm_add_section().",
        ),
    }
}

/// A table's catalog now. `what` names its role for the error ("mart table ...").
pub fn mart_table(oid: u32, what: &str) -> DmResult<MartTable> {
    read_json(
        include_str!("../sql/queries/mart_table.sql"),
        &[pg_sys::Oid::from(oid).into()],
        &format!("the catalog of {what}"),
    )?
    .ok_or_else(|| {
        DmError::undefined(
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
            format!("{what} (oid {oid}) no longer exists"),
            "It was dropped after it was registered: register its replacement (dm_remove_table, dm_add_table) or alter the section.",
        )
    })
}

/// The catalog of every table of a section, in order.
pub fn mart_tables(section: &Section) -> DmResult<Vec<MartTable>> {
    section
        .tables
        .iter()
        .map(|t| mart_table(t.mart_table, &format!("mart table {}", t.mart_table_name)))
        .collect()
}

/// Today's date in `pg_datamart.timezone` (or the session's time zone).
pub fn today() -> DmResult<chrono::NaiveDate> {
    let text = match crate::gucs::timezone() {
        Some(tz) => Spi::get_one_with_args::<String>(
            pg_datamart_plan::snapshot::TODAY_IN_ZONE_SQL,
            &[tz.as_str().into()],
        ),
        None => Spi::get_one::<String>(pg_datamart_plan::snapshot::TODAY_SQL),
    }
    .doing("reading today's date")?
    .unwrap_or_default();
    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| {
        DmError::invalid_definition(
            format!("today's date \"{text}\" could not be read"),
            e.to_string(),
            "Set DateStyle to ISO.",
        )
    })
}
