//! The plan of one table: from the snapshot (section, mart table, schemas), the accounts, the
//! window and the options it builds every statement a sync of the table runs, in order:
//! - the remote query, in a dialect Redshift accepts (every identifier double-quoted, plain
//!   literals, no `::`, `ANY`, `E''` or other PostgreSQL-only syntax), one per account chunk;
//! - how its rows stream into `COPY FROM` (server, column list, stamps);
//! - the partition DDL, the load statements and ANALYZE.
//!
//! Local statements call built-ins as `pg_catalog.f(...)`, write their operators as
//! `OPERATOR(pg_catalog.op)` and name every object by its schema, so they mean the same under
//! any search_path (row comparisons, `IS DISTINCT FROM`, run under the executor's pinned path).
//! `dm_preview` shows exactly these strings and `dm_sync` executes exactly these strings.

use crate::domain::Mode;
use crate::error::PlanResult;
use crate::partition::PartitionPlan;
use crate::quote::{self, op};
use crate::snapshot::{FetchedColumn, MartTable, Schemas, Section, SectionTable};
use crate::window::Window;
use chrono::NaiveDate;

/// Ids are split so that no remote statement carries more than this many bytes of them
/// (Redshift's statement limit is 16 MB; this stays far below it).
pub const MAX_ID_BYTES_PER_QUERY: usize = 1 << 20;

/// The local statements that write one table, by mode. The rows themselves travel from the
/// warehouse into `COPY FROM` (see [`StreamPlan`]); `copy` is that statement as it would be
/// written by hand.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadSql {
    /// Delete the window's rows for the accounts, then stream every fetched row into the table.
    DeleteInsert { delete: String, copy: String },
    /// Read the window's key -> row fingerprint from the mart (`fingerprints`), stream the
    /// fetched rows comparing each as it arrives, and stage only the new and the changed ones
    /// (`copy` into `create_stage`, with the target row's tableoid and ctid, NULL for new
    /// rows). Duplicate keys are refused (in the stream for keys the mart holds, by
    /// `duplicates` for new ones); then `delete` removes the window's rows no fetched row
    /// matched (by tableoid and ctid, `$1` oid and `$2` a `tid[]` literal), `update` rewrites
    /// the changed rows and `insert` adds the new ones.
    Upsert {
        key: Vec<String>,
        /// Positions in [`StreamPlan::columns`] of the key, in key order.
        key_positions: Vec<usize>,
        /// Positions in [`StreamPlan::columns`] of the compared (non-key) columns, in order.
        compared_positions: Vec<usize>,
        /// Returns `tableoid, ctid, key hash 0, key hash 1, row hash`: each hash XORs the
        /// `hashtextextended` of each column's text ([`fingerprint_seed`], [`null_hash`]).
        fingerprints: String,
        create_stage: String,
        copy: String,
        duplicates: String,
        delete: String,
        update: Option<String>,
        insert: String,
    },
}

/// The hashes of a row's fingerprint: the key (two, 128 bits) and the compared columns.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    Key0,
    Key1,
    Row,
}

/// The `hashtextextended` seed of the `j`-th column of a fingerprint part.
pub fn fingerprint_seed(part: Part, j: usize) -> u64 {
    let base: u64 = match part {
        Part::Key0 => 0x100_0000,
        Part::Key1 => 0x200_0000,
        Part::Row => 0x300_0000,
    };
    base + j as u64
}

/// What a NULL contributes to a fingerprint hash for `seed` (no text hashes to it in practice).
pub fn null_hash(seed: u64) -> u64 {
    (seed ^ 0x2545_f491_4f6c_dd1d).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Name of the stage's column holding the target row's tableoid (NULL: a new row).
pub const STAGE_TOID: &str = "dm_target_tableoid";
/// Name of the stage's column holding the target row's ctid (NULL: a new row).
pub const STAGE_TID: &str = "dm_target_ctid";

impl LoadSql {
    /// The statements in execution order (the checks marked), for previews and the
    /// descriptions of generated procedures.
    pub fn statements(&self) -> Vec<String> {
        match self {
            LoadSql::DeleteInsert { delete, copy } => vec![delete.clone(), copy.clone()],
            LoadSql::Upsert {
                fingerprints,
                create_stage,
                copy,
                duplicates,
                delete,
                update,
                insert,
                ..
            } => {
                let mut v = vec![
                    format!("{fingerprints} /* the rows the warehouse rows are compared with */"),
                    create_stage.clone(),
                    format!("{copy} /* only the new and the changed rows */"),
                    format!("{duplicates} /* any row refuses the load */"),
                    format!("{delete} /* the rows no fetched row matched */"),
                ];
                v.extend(update.iter().cloned());
                v.push(insert.clone());
                v
            }
        }
    }
}

/// How the executor streams a table's rows from the warehouse into `COPY FROM`: the warehouse
/// connection's server and setup statements, and COPY's column list (the mart columns in the
/// order of the remote select list, then the bookkeeping columns that get the load's
/// timestamp). The remote queries are [`TablePlan::remote_sqls`].
#[derive(Debug, Clone, PartialEq)]
pub struct StreamPlan {
    pub server: String,
    pub application_name: String,
    /// Run on the warehouse connection before the queries (the statement_timeout backstop).
    pub remote_setup: Vec<String>,
    /// Mart column names (unquoted), one per remote select-list entry, in that order.
    pub columns: Vec<String>,
    /// Bookkeeping columns (unquoted) set to the load's timestamp, after `columns`.
    pub stamps: Vec<String>,
    /// Positions in `columns` that identify a row in messages (the upsert key, else the
    /// account and date columns).
    pub row_key: Vec<usize>,
}

/// How to plan: account ids per remote statement, the load mode, and the warehouse-side
/// statement_timeout of each pull (None: none).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    pub per_query: usize,
    pub mode: Mode,
    pub remote_timeout_ms: Option<i64>,
    /// Today (in `pg_datamart.timezone`): when the window reaches this month, next month's
    /// partition is created ahead of time. None: never.
    pub today: Option<NaiveDate>,
}

/// Everything a sync of one table runs, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub mart_oid: u32,
    pub mart_name: String,
    pub mode: Mode,
    /// One remote query per account chunk.
    pub remote_sqls: Vec<String>,
    /// `"col" type, ...`: the mart column (and type) each remote select-list entry is read into.
    pub column_definitions: String,
    pub stream: StreamPlan,
    /// Partitions to create or to give the section's storage parameters, and those written to.
    pub partitions: PartitionPlan,
    pub load: LoadSql,
    /// `ANALYZE` of each touched partition, run after writing at least analyze_threshold rows.
    pub analyze: Vec<(String, String)>,
}

impl TablePlan {
    /// The local statements in execution order, as one script.
    pub fn local_script(&self) -> String {
        let mut parts: Vec<String> = self
            .partitions
            .default_checks
            .iter()
            .map(|c| format!("{} /* any row refuses the load */", c.count_sql))
            .collect();
        parts.extend(self.partitions.statements());
        parts.extend(self.load.statements());
        let mut script = parts.join(";\n") + ";";
        script.push_str(&format!(
            "\n/* after writing at least pg_datamart.analyze_threshold rows: */ {};",
            self.analyze
                .iter()
                .map(|(_, s)| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
        script
    }

    pub fn remote_script(&self) -> String {
        self.remote_sqls.join(";\n")
    }
}

/// Splits the account list into chunks of at most `per_query` ids and `MAX_ID_BYTES_PER_QUERY` bytes.
pub fn chunk_accounts(ids: &[String], per_query: usize) -> Vec<&[String]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < ids.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < ids.len() && end - start < per_query.max(1) {
            bytes += ids[end].len() + 4;
            if bytes > MAX_ID_BYTES_PER_QUERY && end > start {
                break;
            }
            end += 1;
        }
        chunks.push(&ids[start..end]);
        start = end;
    }
    chunks
}

/// The statement that checks, without reading a row, that the connected warehouse user may
/// read everything a sync of `table` reads: the remote table, every fetched column and the
/// columns the window filters on, each once, in select-list order
/// (`SELECT "c1", "c2" FROM "schema"."table" WHERE 1 = 0`, plain Redshift SQL). Configuration
/// writes run it through the writing role's own user mapping.
pub fn probe_sql(section: &Section, table: &SectionTable, mart: &MartTable) -> PlanResult<String> {
    let account_col = section.account_column_of(table);
    mart.require_column(account_col, "account")?;
    mart.require_column(&section.date_column, "date")?;
    let mut remote: Vec<String> = mart
        .fetched_columns()?
        .into_iter()
        .map(|c| c.remote)
        .collect();
    for filter in [
        mart.remote_name(&section.date_column),
        mart.remote_name(account_col),
    ] {
        if !remote.iter().any(|r| r == filter) {
            remote.push(filter.to_string());
        }
    }
    Ok(format!(
        "SELECT {} FROM {} WHERE 1 = 0",
        remote
            .iter()
            .map(|c| quote::ident(c))
            .collect::<Vec<_>>()
            .join(", "),
        quote::qualified(&table.remote_schema, &table.remote_table)
    ))
}

/// Builds the plan for one table of a section.
pub fn plan_table(
    _schemas: &Schemas,
    section: &Section,
    table: &SectionTable,
    mart: &MartTable,
    accounts: &[String],
    window: &Window,
    opts: &PlanOptions,
) -> PlanResult<TablePlan> {
    let account_col = section.account_column_of(table);
    let account_type = mart
        .require_column(account_col, "account")?
        .type_sql
        .clone();
    mart.require_column(&section.date_column, "date")?;
    let columns = mart.fetched_columns()?;

    // Remote: plain Redshift SQL.
    let remote_from = quote::qualified(&table.remote_schema, &table.remote_table);
    let select_list = columns
        .iter()
        .map(|c| quote::ident(&c.remote))
        .collect::<Vec<_>>()
        .join(", ");
    let remote_date = quote::ident(mart.remote_name(&section.date_column));
    let remote_acct = quote::ident(mart.remote_name(account_col));
    let start = window.start.format("%Y-%m-%d").to_string();
    let end = window.end_exclusive().format("%Y-%m-%d").to_string();
    let remote_sqls = chunk_accounts(accounts, opts.per_query)
        .into_iter()
        .map(|chunk| {
            Ok(format!(
                "SELECT {select_list} FROM {remote_from} WHERE {remote_date} >= {} AND {remote_date} < {} AND {remote_acct} IN {}",
                quote::remote_literal(&start)?,
                quote::remote_literal(&end)?,
                quote::remote_literal_list(chunk)?,
            ))
        })
        .collect::<PlanResult<Vec<_>>>()?;

    let column_definitions = columns
        .iter()
        .map(|c| format!("{} {}", quote::ident(&c.mart), c.type_sql))
        .collect::<Vec<_>>()
        .join(", ");
    let stamps: Vec<&str> = ["created_at", "updated_at"]
        .into_iter()
        .filter(|s| mart.has_settable(s))
        .collect();
    let position = |name: &str| columns.iter().position(|c| c.mart == name);
    let upsert_key = match opts.mode {
        Mode::Upsert => Some(mart.upsert_key()?.columns.clone()),
        Mode::DeleteInsert => mart.upsert_key().ok().map(|k| k.columns.clone()),
    };
    let row_key: Vec<usize> = match &upsert_key {
        Some(key) => key.iter().filter_map(|k| position(k)).collect(),
        None => [account_col, section.date_column.as_str()]
            .into_iter()
            .filter_map(position)
            .collect(),
    };
    let stream = StreamPlan {
        server: section.server.clone(),
        application_name: "pg_datamart fetch".into(),
        remote_setup: opts
            .remote_timeout_ms
            .map(|ms| format!("SET statement_timeout = {ms}"))
            .into_iter()
            .collect(),
        columns: columns.iter().map(|c| c.mart.clone()).collect(),
        stamps: stamps.iter().map(|s| s.to_string()).collect(),
        row_key,
    };

    // Local: every operator and built-in qualified.
    let target = mart.sql_name();
    let cols: Vec<String> = columns.iter().map(|c| quote::ident(&c.mart)).collect();
    let mut target_cols = cols.clone();
    target_cols.extend(stamps.iter().map(|s| quote::ident(s)));
    let copy =
        |table: &str, list: &[String]| format!("COPY {table} ({}) FROM STDIN", list.join(", "));
    let ids_array = format!(
        "ARRAY[{}]::{account_type}[]",
        accounts
            .iter()
            .map(|a| quote::local_literal(a))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let local_window = |alias: &str| {
        let q = |c: &str| {
            if alias.is_empty() {
                quote::ident(c)
            } else {
                format!("{alias}.{}", quote::ident(c))
            }
        };
        let date = q(&section.date_column);
        format!(
            "{date} {} {} AND {date} {} {} AND {} {} ANY ({ids_array})",
            op(">="),
            quote::local_literal(&start),
            op("<"),
            quote::local_literal(&end),
            q(account_col),
            op("="),
        )
    };

    let load = match (opts.mode, upsert_key) {
        (Mode::Upsert, Some(key)) => {
            let stage = "pg_temp.\"dm_stage\"";
            let toid = quote::ident(STAGE_TOID);
            let tid = quote::ident(STAGE_TID);
            let key_positions: Vec<usize> = key.iter().filter_map(|k| position(k)).collect();
            let compared_positions: Vec<usize> = (0..columns.len())
                .filter(|i| !key_positions.contains(i))
                .collect();
            // Each column's text as its type's output function prints it (what the warehouse
            // sends when the types agree), hashed with a seed per position; the hashes are
            // XORed (a NULL counts as null_hash(seed)). See [`fingerprint_seed`].
            let text_of =
                |i: usize| match mart.column(&columns[i].mart).and_then(|c| c.output.clone()) {
                    Some((schema, name)) => format!(
                        "pg_catalog.textin({}(m.{}))",
                        quote::qualified(&schema, &name),
                        cols[i]
                    ),
                    None => format!("m.{}::pg_catalog.text", cols[i]),
                };
            let combined = |positions: &[usize], seed_of: &dyn Fn(usize) -> u64| {
                if positions.is_empty() {
                    return "0::pg_catalog.int8".to_string();
                }
                positions
                    .iter()
                    .enumerate()
                    .map(|(j, &i)| {
                        let seed = seed_of(j);
                        format!(
                            "COALESCE(pg_catalog.hashtextextended({}, {}), {}::pg_catalog.int8)",
                            text_of(i),
                            seed as i64,
                            quote::local_literal(&(null_hash(seed) as i64).to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(&format!(" {} ", op("#")))
            };
            let key_hash0 = combined(&key_positions, &|j| fingerprint_seed(Part::Key0, j));
            let key_hash1 = combined(&key_positions, &|j| fingerprint_seed(Part::Key1, j));
            let row_hash = combined(&compared_positions, &|j| fingerprint_seed(Part::Row, j));
            let key_list = key
                .iter()
                .map(|k| quote::ident(k))
                .collect::<Vec<_>>()
                .join(", ");
            let key_text = key
                .iter()
                .map(|k| format!("COALESCE({}::pg_catalog.text, 'NULL')", quote::ident(k)))
                .collect::<Vec<_>>()
                .join(", ");
            let non_key: Vec<&FetchedColumn> =
                columns.iter().filter(|c| !key.contains(&c.mart)).collect();
            let target_row = format!(
                "m.tableoid {} s.{toid} AND m.ctid {} s.{tid}",
                op("="),
                op("=")
            );
            let update = if non_key.is_empty() {
                None
            } else {
                let mut sets: Vec<String> = non_key
                    .iter()
                    .map(|c| format!("{q} = s.{q}", q = quote::ident(&c.mart)))
                    .collect();
                if stamps.contains(&"updated_at") {
                    sets.push(format!("{} = pg_catalog.now()", quote::ident("updated_at")));
                }
                Some(format!(
                    "UPDATE {target} AS m SET {} FROM {stage} AS s WHERE {} AND {target_row}",
                    sets.join(", "),
                    local_window("m"),
                ))
            };
            let mut stage_cols = cols.clone();
            stage_cols.extend([toid.clone(), tid.clone()]);
            let with_stamps = {
                let mut v: Vec<String> = cols.iter().map(|c| format!("s.{c}")).collect();
                v.extend(stamps.iter().map(|_| "pg_catalog.now()".to_string()));
                v.join(", ")
            };
            LoadSql::Upsert {
                fingerprints: format!(
                    "SELECT m.tableoid, m.ctid, {key_hash0}, {key_hash1}, {row_hash} FROM {target} AS m WHERE {}",
                    local_window("m")
                ),
                create_stage: format!(
                    "CREATE TEMP TABLE \"dm_stage\" ({column_definitions}, {toid} pg_catalog.oid, {tid} pg_catalog.tid) ON COMMIT DROP"
                ),
                copy: copy(stage, &stage_cols),
                duplicates: format!(
                    "SELECT pg_catalog.count(*) OVER (), pg_catalog.format('(%s) x%s', pg_catalog.concat_ws(', ', {key_text}), pg_catalog.count(*)) \
                     FROM {stage} WHERE {tid} IS NULL GROUP BY {key_list} HAVING pg_catalog.count(*) {} 1 ORDER BY pg_catalog.count(*) DESC, 2 LIMIT 5",
                    op(">")
                ),
                delete: format!(
                    "DELETE FROM {target} AS m WHERE {} AND m.tableoid {} $1 AND m.ctid {} ANY ($2::pg_catalog.tid[])",
                    local_window("m"),
                    op("="),
                    op("=")
                ),
                update,
                insert: format!(
                    "INSERT INTO {target} ({}) SELECT {with_stamps} FROM {stage} AS s WHERE s.{tid} IS NULL",
                    target_cols.join(", "),
                ),
                key,
                key_positions,
                compared_positions,
            }
        }
        _ => LoadSql::DeleteInsert {
            delete: format!("DELETE FROM {target} WHERE {}", local_window("")),
            copy: copy(&target, &target_cols),
        },
    };
    let partitions = crate::partition::plan(
        mart,
        &section.date_column,
        &section.storage_parameters,
        window,
        opts.today
            .and_then(|t| crate::partition::ahead_month(window, t)),
    )?;
    let analyze = partitions
        .touched
        .iter()
        .map(|t| (t.clone(), format!("ANALYZE {t}")))
        .collect();

    Ok(TablePlan {
        mart_oid: mart.oid,
        mart_name: mart.display_name(),
        mode: opts.mode,
        remote_sqls,
        column_definitions,
        stream,
        partitions,
        load,
        analyze,
    })
}

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// The transaction's timestamp, as text.
pub const NOW_SQL: &str = "SELECT pg_catalog.now()::pg_catalog.text";

/// The oid of the temporary stage table `pg_temp.dm_stage`.
pub const STAGE_OID_SQL: &str = "SELECT 'pg_temp.dm_stage'::pg_catalog.regclass::pg_catalog.oid";
