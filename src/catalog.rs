//! The catalog model: a mart table as pg_datamart sees it, read at call time with one query
//! (`sql/queries/mart_table.sql`) into typed structs. Which columns are fetched, and from which
//! warehouse column, is decided here and nowhere else.

use crate::error::{DmError, DmResult, SpiContext};
use pgrx::prelude::*;
use pgrx::{pg_sys, PgSqlErrorCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;

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

/// Whether `SELECT EXISTS (<query>)` is true; `what` names the look-up for errors.
pub fn exists(query: &str, args: &[pgrx::datum::DatumWithOid], what: &str) -> DmResult<bool> {
    Ok(
        Spi::get_one_with_args::<bool>(&format!("SELECT EXISTS ({query})"), args)
            .doing(format!("looking up {what}"))?
            .unwrap_or(false),
    )
}

/// The quoted schema an extension is installed in (dblink's functions, our own helpers), so
/// generated statements call them by qualified name whatever the search_path.
pub fn extension_schema(extension: &str) -> DmResult<String> {
    let schema = Spi::get_one_with_args::<String>(
        "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
        &[extension.into()],
    )
    .doing(format!("looking up extension {extension}"));
    match schema {
        Ok(Some(s)) => Ok(crate::quote::ident(&s)),
        Ok(None) | Err(DmError::Spi { .. }) => Err(DmError::undefined(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("extension {extension} is not installed in this database"),
            format!("CREATE EXTENSION {extension};"),
        )),
        Err(e) => Err(e),
    }
}

/// Columns a mart table may carry for its own bookkeeping; never fetched.
pub const BOOKKEEPING: &[&str] = &["id", "created_at", "updated_at"];

#[derive(Debug, Clone, Deserialize)]
pub struct Column {
    pub name: String,
    /// `format_type()` of the column: what the column-definition list declares.
    pub type_sql: String,
    pub generated: bool,
    pub identity: bool,
    pub not_null: bool,
    /// Has default btree equality: compared as is; otherwise compared as text.
    pub comparable: bool,
}

/// A unique index (or the primary key) without expressions or predicate.
#[derive(Debug, Clone, Deserialize)]
pub struct Key {
    pub name: String,
    pub primary: bool,
    pub columns: Vec<String>,
}

/// A partition of a partitioned mart table.
#[derive(Debug, Clone, Deserialize)]
pub struct Partition {
    pub schema: String,
    pub name: String,
    /// `pg_get_expr(relpartbound)`: `FOR VALUES FROM (...) TO (...)`, `DEFAULT`, ...
    pub bound: String,
    pub reloptions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
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
}

/// One fetched column: its mart name, its warehouse name, its declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedColumn {
    pub mart: String,
    pub remote: String,
    pub type_sql: String,
}

impl MartTable {
    /// Reads the table's catalog now. `what` names its role for the error ("mart table ...").
    pub fn load(oid: u32, what: &str) -> DmResult<MartTable> {
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

    /// `"schema"."table"`, for SQL.
    pub fn sql_name(&self) -> String {
        crate::quote::qualified(&self.schema, &self.name)
    }

    /// `schema.table` as people read it (quoted only where needed), for messages and status rows.
    pub fn display_name(&self) -> String {
        let part = |s: &str| {
            let plain = s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if plain {
                s.to_string()
            } else {
                crate::quote::ident(s)
            }
        };
        format!("{}.{}", part(&self.schema), part(&self.name))
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

    /// `column` must exist; the error names the table, the column and the argument it came from.
    pub fn require_column(&self, column: &str, role: &str) -> DmResult<&Column> {
        self.column(column).ok_or_else(|| {
            DmError::undefined(
                PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                format!("mart table {} has no {role} column \"{column}\"", self.display_name()),
                "Add the column to the mart table, or change the section (dm_alter_section) or the table's account_column (dm_remove_table + dm_add_table).",
            )
        })
    }

    /// A bookkeeping column the load sets itself (`created_at`, `updated_at`), when present and writable.
    pub fn has_settable(&self, name: &str) -> bool {
        self.column(name)
            .is_some_and(|c| !c.generated && !c.identity)
    }

    /// The key upsert merges on: the primary key, else the narrowest unique index, whose columns
    /// are all fetched and NOT NULL (a NULL key would never match and would duplicate rows).
    pub fn upsert_key(&self) -> DmResult<&Key> {
        let fetched = self.fetched_columns()?;
        let usable = |k: &&Key| {
            k.columns.iter().all(|c| {
                fetched.iter().any(|f| &f.mart == c)
                    && self.column(c).is_some_and(|col| col.not_null)
            })
        };
        self.keys.iter().find(usable).ok_or_else(|| {
            let have = if self.keys.is_empty() {
                "it has no primary key or unique index".to_string()
            } else {
                format!(
                    "its unique keys ({}) include a column that is not fetched or may be NULL",
                    self.keys.iter().map(|k| format!("{} ({})", k.name, k.columns.join(", "))).collect::<Vec<_>>().join("; ")
                )
            };
            DmError::NoUpsertKey {
                message: format!("mart table {} cannot be loaded in upsert mode: {have}", self.display_name()),
                hint: "Add a primary key or a unique index on fetched NOT NULL columns (for a partitioned table it must include the date column), or use mode delete_insert.".into(),
            }
        })
    }

    /// The columns fetched from the warehouse, in table order: every live column except the
    /// bookkeeping ones, generated columns and identity columns (local surrogate keys).
    pub fn fetched_columns(&self) -> DmResult<Vec<FetchedColumn>> {
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
            return Err(DmError::invalid_definition(
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
