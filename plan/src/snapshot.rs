//! The snapshot the planner plans from: a section, its mart tables' catalog, the schemas of
//! dblink and of pg_datamart, and the settings that shape statements. The extension reads it
//! with one query per object kind (`sql/queries/`) into these structs; tests build them by hand.
//! Which columns are fetched, and from which warehouse column, is decided here and nowhere else.

use crate::domain::{Mode, VacuumPolicy};
use crate::error::{Code, PlanError, PlanResult};
use crate::quote;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Columns a mart table may carry for its own bookkeeping; never fetched.
pub const BOOKKEEPING: &[&str] = &["id", "created_at", "updated_at"];

/// A section as registered (`sql/queries/section.sql`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Section {
    pub name: String,
    pub account_column: String,
    pub account_table: u32,
    pub account_table_name: String,
    pub days: i32,
    pub mode: Mode,
    pub server: String,
    pub date_column: String,
    pub storage_parameters: Vec<String>,
    pub vacuum_policy: VacuumPolicy,
    pub vacuum_wait: i32,
    pub tables: Vec<SectionTable>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SectionTable {
    pub position: i32,
    pub mart_table: u32,
    pub mart_table_name: String,
    pub remote_schema: String,
    pub remote_table: String,
    /// Overrides the section's account column for this table (a mart column name).
    pub account_column: Option<String>,
}

impl Section {
    /// The mart column that holds the account id in `table`.
    pub fn account_column_of<'a>(&'a self, table: &'a SectionTable) -> &'a str {
        table
            .account_column
            .as_deref()
            .unwrap_or(&self.account_column)
    }

    pub fn table(&self, mart_oid: u32) -> Option<&SectionTable> {
        self.tables.iter().find(|t| t.mart_table == mart_oid)
    }
}

/// Where the extension's own objects and dblink's functions live (unquoted schema names), so
/// every generated call is schema-qualified whatever the search_path.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Schemas {
    pub ours: String,
    pub dblink: String,
}

impl Schemas {
    /// `"schema".name` of one of dblink's functions.
    pub fn dblink_fn(&self, name: &str) -> String {
        format!("{}.{name}", quote::ident(&self.dblink))
    }

    /// `"schema".name` of one of pg_datamart's public functions or procedures.
    pub fn ours_fn(&self, name: &str) -> String {
        format!("{}.{name}", quote::ident(&self.ours))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Column {
    pub name: String,
    /// `format_type()` of the column: what the column-definition list declares.
    pub type_sql: String,
    pub generated: bool,
    pub identity: bool,
    pub not_null: bool,
    /// The type's output function (schema, name): upsert fingerprints the column's text as
    /// that function prints it. None (older snapshots, tests): the `text` cast.
    #[serde(default)]
    pub output: Option<(String, String)>,
}

/// A unique index (or the primary key) without expressions or predicate.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Key {
    pub name: String,
    pub primary: bool,
    pub columns: Vec<String>,
}

/// A partition of a partitioned mart table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Partition {
    pub schema: String,
    pub name: String,
    /// `pg_get_expr(relpartbound)`: `FOR VALUES FROM (...) TO (...)`, `DEFAULT`, ...
    pub bound: String,
    pub reloptions: Vec<String>,
    /// Itself partitioned (sub-partitions): takes no table storage parameters.
    #[serde(default)]
    pub partitioned: bool,
}

/// A mart table as pg_datamart sees it (`sql/queries/mart_table.sql`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MartTable {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub relkind: String,
    pub columns: Vec<Column>,
    /// mart column -> warehouse column, from dm.column_map.
    pub mappings: BTreeMap<String, String>,
    pub keys: Vec<Key>,
    /// `r`ange, `l`ist or `h`ash for a partitioned table.
    pub partition_strategy: Option<String>,
    pub partition_key: Option<Vec<String>>,
    pub partitions: Vec<Partition>,
    /// The table's own tablespace, when not the database's default: new partitions go there,
    /// as `CREATE TABLE ... PARTITION OF` would put them.
    #[serde(default)]
    pub tablespace: Option<String>,
}

/// One fetched column: its mart name, its warehouse name, its declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedColumn {
    pub mart: String,
    pub remote: String,
    pub type_sql: String,
}

impl MartTable {
    /// `"schema"."table"`, for SQL.
    pub fn sql_name(&self) -> String {
        quote::qualified(&self.schema, &self.name)
    }

    /// `schema.table` as people read it, for messages and status rows.
    pub fn display_name(&self) -> String {
        quote::display(&self.schema, &self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The warehouse name of a mart column: its mapping, or the same name.
    pub fn remote_name<'a>(&'a self, mart_column: &'a str) -> &'a str {
        self.mappings
            .get(mart_column)
            .map(String::as_str)
            .unwrap_or(mart_column)
    }

    /// `column` must exist; the error names the table, the column and its role.
    pub fn require_column(&self, column: &str, role: &str) -> PlanResult<&Column> {
        self.column(column).ok_or_else(|| {
            PlanError::new(
                Code::UndefinedColumn,
                format!("mart table {} has no {role} column \"{column}\"", self.display_name()),
                "",
                "Add the column to the mart table, or change the section (dm_alter_section) or the table's account_column (dm_remove_table + dm_add_table).",
            )
        })
    }

    /// A bookkeeping column the load sets itself (`created_at`, `updated_at`), when present and writable.
    pub fn has_settable(&self, name: &str) -> bool {
        self.column(name)
            .is_some_and(|c| !c.generated && !c.identity)
    }

    /// The key upsert merges on: the primary key, else the narrowest unique index whose
    /// columns are all fetched, preferring one whose columns are all NOT NULL. A key on
    /// nullable columns is matched with NULLs equal (as `UNIQUE NULLS NOT DISTINCT`).
    pub fn upsert_key(&self) -> PlanResult<&Key> {
        let fetched = self.fetched_columns()?;
        let usable = |k: &&Key| {
            k.columns
                .iter()
                .all(|c| fetched.iter().any(|f| &f.mart == c))
        };
        let not_null = |k: &&Key| {
            k.columns
                .iter()
                .all(|c| self.column(c).is_some_and(|col| col.not_null))
        };
        let preferred = self.keys.iter().find(|k| usable(k) && not_null(k));
        preferred.or_else(|| self.keys.iter().find(usable)).ok_or_else(|| {
            let have = if self.keys.is_empty() {
                "it has no primary key or unique index".to_string()
            } else {
                format!(
                    "each of its unique keys ({}) includes a column that is not fetched",
                    self.keys
                        .iter()
                        .map(|k| format!("{} ({})", k.name, k.columns.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            PlanError::new(
                Code::InvalidColumnReference,
                format!("mart table {} cannot be loaded in upsert mode: {have}", self.display_name()),
                "",
                "Add a primary key or a unique index on fetched columns (for a partitioned table it must include the date column), or use mode delete_insert.",
            )
        })
    }

    /// The columns fetched from the warehouse, in table order: every live column except the
    /// bookkeeping ones, generated columns and identity columns (local surrogate keys).
    pub fn fetched_columns(&self) -> PlanResult<Vec<FetchedColumn>> {
        let cols: Vec<FetchedColumn> = self
            .columns
            .iter()
            .filter(|c| !c.generated && !c.identity && !BOOKKEEPING.contains(&c.name.as_str()))
            .map(|c| FetchedColumn {
                mart: c.name.clone(),
                remote: self.remote_name(&c.name).to_string(),
                type_sql: c.type_sql.clone(),
            })
            .collect();
        if cols.is_empty() {
            return Err(PlanError::invalid_definition(
                format!("mart table {} has no column to fetch", self.display_name()),
                format!(
                    "Not fetched: {}, generated and identity columns.",
                    BOOKKEEPING.join(", ")
                ),
                "Add the warehouse table's columns to the mart table.",
            ));
        }
        Ok(cols)
    }
}

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// The schemas of pg_datamart and of dblink, as a JSON object (`ours`, `dblink`).
pub const SCHEMAS_SQL: &str = "SELECT pg_catalog.json_build_object(
                    'ours',   (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                                WHERE e.extname OPERATOR(pg_catalog.=) 'pg_datamart'::pg_catalog.name),
                    'dblink', (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                                WHERE e.extname OPERATOR(pg_catalog.=) 'dblink'::pg_catalog.name))";

/// The configured sections' names, comma-separated (for an unknown section's hint).
pub const SECTION_NAMES_SQL: &str =
    "SELECT pg_catalog.string_agg(section, ', ' ORDER BY section) FROM dm.section";

/// Today's date in the time zone `$1`, as text.
pub const TODAY_IN_ZONE_SQL: &str =
    "SELECT (pg_catalog.now() AT TIME ZONE $1::pg_catalog.text)::pg_catalog.date::pg_catalog.text";

/// Today's date in the session's time zone, as text.
pub const TODAY_SQL: &str = "SELECT CURRENT_DATE::pg_catalog.text";

/// The hint when dblink is not installed in this database.
pub const CREATE_DBLINK: &str = "CREATE EXTENSION dblink;";
