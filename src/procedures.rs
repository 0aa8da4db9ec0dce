//! Generated procedures: `dm_generate_procedures()` (re)creates one plain procedure per section,
//! `dm_sync_<section>(account_ids, start_date, end_date)`, whose body shows the section's
//! catalog-derived statements as they are now and then calls `dm_sync` for the section (so it
//! behaves exactly like `dm_sync`: status rows, notices, modes). Each body carries a fingerprint
//! of what it shows; a procedure whose section has changed since (columns added, dropped or
//! retyped, mappings, tables, mode) refuses to run and says to regenerate, so it never loads
//! with a stale column list behind a stale description.

use crate::catalog::{extension_schema, read_json, MartTable};
use crate::error::{report, DmError, DmResult, SpiContext};
use crate::quote;
use crate::section::Section;
use crate::sqlgen::{plan_table, PlanOptions};
use crate::window::Window;
use chrono::NaiveDate;
use heck::ToSnakeCase;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde::Deserialize;

/// Stand-ins rendered in the description, replaced by the call's values at run time.
const ACCOUNTS: &str = "__ACCOUNT_IDS__";
const START: &str = "1900-01-01";
const END_EXCLUSIVE: &str = "1900-01-02";

/// The procedure name of a section: `dm_sync_<section in snake_case>`, at most 63 bytes.
pub fn procedure_name(section: &str) -> String {
    let mut name = format!("dm_sync_{}", section.to_snake_case());
    name.truncate(63);
    name
}

fn fnv1a64(s: &str) -> String {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// One line of description, safe inside a `--` comment: no line break can end it.
fn comment(text: &str) -> String {
    let flat = text.replace('\r', "\\r").replace('\n', "\\n");
    format!("-- {flat}\n")
}

fn stand_ins(sql: &str) -> String {
    sql.replace(&format!("''{ACCOUNTS}''"), "''<account_ids>''")
        .replace(&format!("'{ACCOUNTS}'"), "<account_ids>")
        .replace(&format!("''{START}''"), "''<start_date>''")
        .replace(&format!("'{START}'"), "<start_date>")
        .replace(&format!("''{END_EXCLUSIVE}''"), "''<end_date + 1>''")
        .replace(&format!("'{END_EXCLUSIVE}'"), "<end_date + 1>")
}

/// The description of what a section's sync runs now, and its fingerprint.
pub fn describe(section: &Section) -> DmResult<(String, String)> {
    let mut text = String::new();
    text += &comment(&format!(
        "Section {}: {} table(s), mode {}, server {}, date column {}, account column {} listed in {}, default window today - {} days .. today.",
        section.name,
        section.tables.len(),
        section.mode,
        section.server,
        section.date_column,
        section.account_column,
        section.account_table_name,
        section.days
    ));
    text += &comment("<account_ids>: the requested accounts present in the account table; the window is <start_date> .. <end_date>.");
    text += &comment("Before each table, the window's monthly partitions are created as needed (see dm_preview).");
    let window = Window {
        start: NaiveDate::parse_from_str(START, "%Y-%m-%d").expect("constant date"),
        end: NaiveDate::parse_from_str(START, "%Y-%m-%d").expect("constant date"),
    };
    for t in &section.tables {
        let mart = MartTable::load(t.mart_table, &format!("mart table {}", t.mart_table_name))?;
        let plan = plan_table(
            section,
            t,
            &mart,
            &[ACCOUNTS.to_string()],
            &window,
            &PlanOptions {
                per_query: usize::MAX,
                mode: &section.mode,
                remote_timeout_ms: None,
            },
        )?;
        text += "--\n";
        text += &comment(&format!(
            "[{}] {} <- {}",
            t.position,
            plan.mart_name,
            quote::qualified(&t.remote_schema, &t.remote_table)
        ));
        text += &comment("remote SQL:");
        for r in &plan.remote_sqls {
            text += &comment(&format!("  {}", stand_ins(r)));
        }
        text += &comment("column definitions:");
        text += &comment(&format!("  {}", plan.column_definitions));
        text += &comment("local statements:");
        let statements = plan.load.statements();
        for s in statements {
            text += &comment(&format!("  {};", stand_ins(&s)));
        }
    }
    let fingerprint = fnv1a64(&text);
    Ok((text, fingerprint))
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
        "SELECT COALESCE(json_agg(json_build_object(
                    'section', g.section, 'procedure', g.procedure, 'fingerprint', g.fingerprint,
                    'exists', to_regprocedure(g.procedure) IS NOT NULL) ORDER BY g.section), '[]'::json)
           FROM dm.generated_procedure g",
        &[],
        "the generated procedures",
    )?
    .unwrap_or_default())
}

fn section_names() -> DmResult<Vec<String>> {
    Ok(read_json(
        "SELECT COALESCE(json_agg(section ORDER BY section), '[]'::json) FROM dm.section",
        &[],
        "the sections",
    )?
    .unwrap_or_default())
}

/// Drops a generated procedure and forgets it.
pub fn drop_generated(section: &str) -> DmResult<Option<String>> {
    let Some(g) = generated()?.into_iter().find(|g| g.section == section) else {
        return Ok(None);
    };
    if g.exists {
        // The recorded signature was built with quote::ident when the procedure was created.
        Spi::run(&format!("DROP PROCEDURE IF EXISTS {}", g.procedure))
            .doing("dropping a generated procedure")?;
    }
    Spi::run_with_args(
        "DELETE FROM dm.generated_procedure WHERE section = $1",
        &[section.into()],
    )
    .doing("forgetting a generated procedure")?;
    Ok(Some(g.procedure))
}

fn create(
    section: &Section,
    ours: &str,
    name: &str,
    text: &str,
    fingerprint: &str,
) -> DmResult<String> {
    let mut tag = "dm_generated".to_string();
    while text.contains(&format!("${tag}$")) {
        tag.push('x');
    }
    let qualified = format!("{ours}.{}", quote::ident(name));
    let sql = format!(
        "CREATE OR REPLACE PROCEDURE {qualified}(account_ids text DEFAULT '0', start_date date DEFAULT NULL, end_date date DEFAULT NULL)\n\
         LANGUAGE plpgsql\n\
         AS ${tag}$\n\
         -- Generated by pg_datamart's dm_generate_procedures(); do not edit: change the section or the\n\
         -- mart tables, then run SELECT * FROM dm_generate_procedures() again.\n\
         {text}\
         BEGIN\n    \
             PERFORM {ours}._dm_check_generated({s}, {f});\n    \
             CALL {ours}.dm_sync({s}, account_ids, start_date, end_date);\n\
         END\n\
         ${tag}$",
        s = quote::local_literal(&section.name),
        f = quote::local_literal(fingerprint),
    );
    Spi::run(&sql).doing("creating a generated procedure")?;
    Spi::run(&format!(
        "COMMENT ON PROCEDURE {qualified}(text, date, date) IS {}",
        quote::local_literal(&format!(
            "Generated by dm_generate_procedures() for section {}: CALL dm_sync('{}', account_ids, start_date, end_date)",
            section.name, section.name
        ))
    ))
    .doing("commenting a generated procedure")?;
    let signature = format!("{qualified}(text, date, date)");
    Spi::run_with_args(
        "INSERT INTO dm.generated_procedure (section, procedure, fingerprint, generated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (section) DO UPDATE SET procedure = EXCLUDED.procedure, fingerprint = EXCLUDED.fingerprint, generated_at = now()",
        &[section.name.as_str().into(), signature.as_str().into(), fingerprint.into()],
    )
    .doing("recording a generated procedure")?;
    Ok(signature)
}

#[pg_extern(name = "_dm_generate_procedures")]
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
        let ours = extension_schema("pg_datamart")?;
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
            let section = Section::load(name)?;
            let (text, fingerprint) = describe(&section)?;
            let proc_name = procedure_name(name);
            let mine = before.iter().find(|g| &g.section == name);
            if let Some(g) = mine.filter(|g| g.exists && g.fingerprint == fingerprint) {
                rows.push((g.procedure.clone(), name.clone(), "unchanged".to_string()));
                continue;
            }
            // Never replace a procedure of the same name that pg_datamart did not create.
            let taken = Spi::get_one_with_args::<bool>(
                "SELECT to_regprocedure($1) IS NOT NULL",
                &[
                    format!("{ours}.{}(text, date, date)", quote::ident(&proc_name))
                        .as_str()
                        .into(),
                ],
            )
            .doing("checking the procedure name")?
            .unwrap_or(false);
            if taken && mine.is_none_or(|g| !g.exists) {
                return Err(DmError::Duplicate {
                    message: format!("a procedure {ours}.{proc_name}(text, date, date) exists that pg_datamart did not generate"),
                    hint: "Rename or drop it, then run dm_generate_procedures() again.".into(),
                });
            }
            let action = if mine.is_some_and(|g| g.exists) {
                "replaced"
            } else {
                "created"
            };
            let signature = create(&section, &ours, &proc_name, &text, &fingerprint)?;
            rows.push((signature, name.clone(), action.to_string()));
        }
        Ok(TableIterator::new(rows))
    })
}

/// Called first by every generated procedure: refuses when the section has changed since.
#[pg_extern(name = "_dm_check_generated")]
fn check_generated(section: &str, fingerprint: &str) -> Result<(), ErrorReport> {
    report(|| {
        let s = Section::load(section).map_err(|_| {
            DmError::invalid_definition(
                format!("{} belongs to section {section}, which no longer exists", procedure_name(section)),
                "",
                "Run SELECT * FROM dm_generate_procedures(); it drops procedures of removed sections.",
            )
        })?;
        let (_, now) = describe(&s)?;
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
