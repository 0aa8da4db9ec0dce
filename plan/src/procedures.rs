//! Generated procedures: the text of `dm_sync_<section>(account_ids, start_date, end_date)`,
//! whose body describes the section's catalog-derived statements as they are now and then
//! calls `dm_sync` for the section. The description carries a fingerprint; a procedure whose
//! section has changed since refuses to run (see the extension's `dm._check_generated`).

use crate::error::PlanResult;
use crate::quote;
use crate::snapshot::{MartTable, Schemas, Section};
use crate::table::{plan_table, PlanOptions};
use crate::window::Window;
use chrono::NaiveDate;

/// Stand-ins rendered in the description, replaced by the call's values at run time.
const ACCOUNTS: &str = "__ACCOUNT_IDS__";
const START: &str = "1900-01-01";
const END_EXCLUSIVE: &str = "1900-01-02";

/// The procedure name of a section: `dm_sync_<section>` (section names are already lowercase
/// identifiers of at most 48 bytes, so distinct sections get distinct procedures).
pub fn procedure_name(section: &str) -> String {
    format!("dm_sync_{section}")
}

/// `"schema"."dm_sync_<section>"`.
pub fn qualified_name(schemas: &Schemas, section: &str) -> String {
    quote::qualified(&schemas.ours, &procedure_name(section))
}

/// `"schema"."dm_sync_<section>"(text, date, date)`, as recorded and dropped.
pub fn signature(schemas: &Schemas, section: &str) -> String {
    format!("{}(text, date, date)", qualified_name(schemas, section))
}

fn fnv1a64(s: &str) -> String {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// One line of description, safe inside a `--` comment: no line break can end it.
pub fn comment(text: &str) -> String {
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

/// The description of what a section's sync runs now (`marts`: its tables' catalog, in
/// order), and its fingerprint.
pub fn describe(
    schemas: &Schemas,
    section: &Section,
    marts: &[MartTable],
) -> PlanResult<(String, String)> {
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
    text += &comment(
        "Before each table, the window's monthly partitions are created as needed (see dm_preview).",
    );
    let day = NaiveDate::parse_from_str(START, "%Y-%m-%d").expect("constant date");
    let window = Window {
        start: day,
        end: day,
    };
    for (t, mart) in section.tables.iter().zip(marts) {
        let plan = plan_table(
            schemas,
            section,
            t,
            mart,
            &[ACCOUNTS.to_string()],
            &window,
            &PlanOptions {
                per_query: usize::MAX,
                mode: section.mode,
                remote_timeout_ms: None,
                today: None,
                account_rows: None,
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
        for s in plan.load.statements() {
            text += &comment(&format!("  {};", stand_ins(&s)));
        }
    }
    let fingerprint = fnv1a64(&text);
    Ok((text, fingerprint))
}

/// `CREATE OR REPLACE PROCEDURE` of a section's generated procedure, and its `COMMENT`. Its
/// body pins the search_path for its first transaction and calls everything by schema.
pub fn create_sql(
    schemas: &Schemas,
    section: &str,
    description: &str,
    fingerprint: &str,
) -> (String, String) {
    let mut tag = "dm_generated".to_string();
    while description.contains(&format!("${tag}$")) {
        tag.push('x');
    }
    let qualified = qualified_name(schemas, section);
    let s = format!("{}::pg_catalog.text", quote::local_literal(section));
    let create = format!(
        "CREATE OR REPLACE PROCEDURE {qualified}(account_ids pg_catalog.text DEFAULT '0', start_date pg_catalog.date DEFAULT NULL, end_date pg_catalog.date DEFAULT NULL)\n\
         LANGUAGE plpgsql\n\
         AS ${tag}$\n\
         -- Generated by pg_datamart's dm_generate_procedures(); do not edit: change the section or the\n\
         -- mart tables, then run SELECT * FROM dm_generate_procedures() again.\n\
         {description}\
         BEGIN\n    \
             PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);\n    \
             PERFORM dm._check_generated({s}, {f}::pg_catalog.text);\n    \
             CALL {dm_sync}({s}, account_ids, start_date, end_date);\n\
         END\n\
         ${tag}$",
        f = quote::local_literal(fingerprint),
        dm_sync = schemas.ours_fn("dm_sync"),
    );
    let comment = format!(
        "COMMENT ON PROCEDURE {qualified}(text, date, date) IS {}",
        quote::local_literal(&format!(
            "Generated by dm_generate_procedures() for section {section}: CALL dm_sync('{section}', account_ids, start_date, end_date)"
        ))
    );
    (create, comment)
}

/// `DROP PROCEDURE IF EXISTS` of a section's generated procedure.
pub fn drop_sql(schemas: &Schemas, section: &str) -> String {
    format!("DROP PROCEDURE IF EXISTS {}", signature(schemas, section))
}

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// The generated procedures on record, as a JSON array of {section, procedure, fingerprint, exists}.
pub const GENERATED_SQL: &str = "SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                    'section', g.section, 'procedure', g.procedure, 'fingerprint', g.fingerprint,
                    'exists', pg_catalog.to_regprocedure(g.procedure) IS NOT NULL) ORDER BY g.section), '[]'::pg_catalog.json)
           FROM dm.generated_procedure g";

/// Forgets section `$1`'s generated procedure.
pub const FORGET_GENERATED_SQL: &str =
    "DELETE FROM dm.generated_procedure WHERE section OPERATOR(pg_catalog.=) $1";

/// Procedure `$1`'s oid, the extension's oid, and whether the procedure is a member of the extension.
pub const MEMBERSHIP_SQL: &str = "SELECT p.oid::pg_catalog.oid, e.oid, EXISTS (
                SELECT 1 FROM pg_catalog.pg_depend d
                 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                   AND d.objid OPERATOR(pg_catalog.=) p.oid
                   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid OPERATOR(pg_catalog.=) e.oid)
           FROM pg_catalog.pg_extension e, pg_catalog.to_regprocedure($1::pg_catalog.text) p(oid)
          WHERE e.extname OPERATOR(pg_catalog.=) 'pg_datamart'::pg_catalog.name";

/// Records section `$1`'s generated procedure `$2` and its fingerprint `$3`.
pub const RECORD_GENERATED_SQL: &str = "INSERT INTO dm.generated_procedure (section, procedure, fingerprint, generated_at) VALUES ($1, $2, $3, pg_catalog.now())
         ON CONFLICT (section) DO UPDATE SET procedure = EXCLUDED.procedure, fingerprint = EXCLUDED.fingerprint, generated_at = pg_catalog.now()";

/// Whether procedure `$1` (a signature) exists.
pub const PROCEDURE_EXISTS_SQL: &str =
    "SELECT pg_catalog.to_regprocedure($1::pg_catalog.text) IS NOT NULL";

/// The hint when a sync procedure is called inside a transaction block.
pub fn call_alone_hint(procedure: &str) -> String {
    format!("CALL {procedure} on its own: not after BEGIN, and not as one statement of a multi-statement query string.")
}
