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
use crate::snapshot::{MartTable, Schemas, Section, SectionTable};
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
    /// Upsert by fingerprint, in groups of accounts whose window rows fit in
    /// [`FINGERPRINT_GROUP_ROWS`]: for each group, read the mart's key -> row fingerprints of
    /// its window (`fingerprints`, with each row's tableoid and ctid), then compare each row of
    /// the group's remote queries as it streams past. Unchanged rows are dropped; a changed row's
    /// old version is deleted by its ctid and the new one goes into `copy` with the old row's
    /// `carried` values (so it keeps its `id`, `created_at` and every column not fetched) and a
    /// new `updated_at`; a new row goes into `copy` with the carried columns' defaults (and the
    /// load's timestamp for `created_at`). Once a group's rows are compared, `delete` removes
    /// its window rows no fetched row matched (by tableoid and ctid: `$1` oid, `$2` a `tid[]`).
    /// Keys sent twice refuse the load.
    Upsert {
        key: Vec<String>,
        /// Positions in [`StreamPlan::columns`] of the key, in key order.
        key_positions: Vec<usize>,
        /// Positions in [`StreamPlan::columns`] of the compared (non-key) columns, in order.
        compared_positions: Vec<usize>,
        /// The account groups, in the order of [`TablePlan::remote_sqls`].
        groups: Vec<UpsertGroup>,
        /// Columns not fetched that a changed row keeps, in `copy`'s order after the fetched ones.
        carried: Vec<Carried>,
        copy: String,
        delete: String,
    },
}

/// The mart rows of the window one upsert group compares with at most (about 32 bytes each
/// in memory) by default, when the rows per account are known ([`PlanOptions::account_rows`]).
pub const FINGERPRINT_GROUP_ROWS: i64 = 1_000_000;

/// The mart's rows of a window per account, and the most one upsert group may hold
/// (`pg_datamart.upsert_group_rows`, default [`FINGERPRINT_GROUP_ROWS`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRows {
    pub per_account: std::collections::BTreeMap<String, i64>,
    pub group_rows: i64,
}

/// One group of accounts of an upsert.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertGroup {
    /// Returns `tableoid, ctid, key hash 0, key hash 1, row hash` of the group's window rows in
    /// the mart: each hash XORs the `hashtextextended` of each column's text
    /// ([`fingerprint_seed`], [`null_hash`]).
    pub fingerprints: String,
    /// How many of [`TablePlan::remote_sqls`] (the next ones) fetch this group.
    pub queries: usize,
}

/// A column a changed row keeps from its old version (not fetched, not `updated_at`).
#[derive(Debug, Clone, PartialEq)]
pub struct Carried {
    pub name: String,
    /// A new row gets the load's timestamp (`created_at`), else the column's default.
    pub stamp_when_new: bool,
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

impl LoadSql {
    /// The statements in execution order (the checks marked), for previews and the
    /// descriptions of generated procedures.
    pub fn statements(&self) -> Vec<String> {
        match self {
            LoadSql::DeleteInsert { delete, copy } => vec![delete.clone(), copy.clone()],
            LoadSql::Upsert {
                groups,
                copy,
                delete,
                ..
            } => {
                // per group: its fingerprints, then its remote queries' rows through `copy`
                let mut v: Vec<String> = groups
                    .iter()
                    .map(|g| {
                        format!(
                            "{} /* the rows the warehouse rows are compared with */",
                            g.fingerprints
                        )
                    })
                    .collect();
                v.push(format!("{copy} /* only the new and the changed rows */"));
                v.push(format!("{delete} /* the rows no fetched row matched */"));
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
    /// Upsert: the mart's rows of the window per account (see [`account_rows_sql`]), to
    /// group the accounts. None: one group.
    pub account_rows: Option<AccountRows>,
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
    let (account_col, account_type) = account_and_date(section, table, mart)?;
    let columns = mart.fetched_columns()?;

    // Remote: plain Redshift SQL, one query per chunk of accounts (per group in upsert).
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
    let remote_queries = |ids: &[String]| -> PlanResult<Vec<String>> {
        chunk_accounts(ids, opts.per_query)
            .into_iter()
            .map(|chunk| {
                Ok(format!(
                    "SELECT {select_list} FROM {remote_from} WHERE {remote_date} >= {} AND {remote_date} < {} AND {remote_acct} IN {}",
                    quote::remote_literal(&start)?,
                    quote::remote_literal(&end)?,
                    quote::remote_literal_list(chunk)?,
                ))
            })
            .collect()
    };

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
    let copy =
        |table: &str, list: &[String]| format!("COPY {table} ({}) FROM STDIN", list.join(", "));
    let window_of = |ids: &[String], alias: &str| {
        local_window(section, account_col, &account_type, ids, window, alias)
    };

    let (remote_sqls, load) = match (opts.mode, upsert_key) {
        (Mode::Upsert, Some(key)) => {
            let key_positions: Vec<usize> = key.iter().filter_map(|k| position(k)).collect();
            let compared_positions: Vec<usize> = (0..columns.len())
                .filter(|i| !key_positions.contains(i))
                .collect();
            // Each column's text as its type's output function prints it (what the warehouse
            // sends when the types agree), hashed with a seed per position; the hashes are
            // XORed (a NULL counts as null_hash(seed)). See [`fingerprint_seed`].
            // (`COLLATE "C"`: hashed as bytes, whatever the column's collation; text and
            // varchar print as they are stored, so they need no output function.)
            let text_of =
                |i: usize| match mart.column(&columns[i].mart).and_then(|c| c.output.clone()) {
                    Some((schema, name))
                        if !(schema == "pg_catalog"
                            && (name == "textout" || name == "varcharout")) =>
                    {
                        format!(
                            "pg_catalog.textin({}(m.{})) COLLATE pg_catalog.\"C\"",
                            quote::qualified(&schema, &name),
                            cols[i]
                        )
                    }
                    _ => format!("m.{}::pg_catalog.text COLLATE pg_catalog.\"C\"", cols[i]),
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
            let mut remote_sqls = Vec::new();
            let mut groups = Vec::new();
            for ids in group_accounts(accounts, opts.account_rows.as_ref()) {
                let queries = remote_queries(ids)?;
                groups.push(UpsertGroup {
                    fingerprints: format!(
                        "SELECT m.tableoid, m.ctid, {key_hash0}, {key_hash1}, {row_hash} FROM {target} AS m WHERE {}",
                        window_of(ids, "m")
                    ),
                    queries: queries.len(),
                });
                remote_sqls.extend(queries);
            }
            // A changed row keeps every settable column that is not fetched (its id,
            // created_at, ...) and gets a new updated_at.
            let carried: Vec<Carried> = mart
                .columns
                .iter()
                .filter(|c| {
                    !c.generated
                        && c.name != "updated_at"
                        && !columns.iter().any(|f| f.mart == c.name)
                })
                .map(|c| Carried {
                    name: c.name.clone(),
                    stamp_when_new: c.name == "created_at" && stamps.contains(&"created_at"),
                })
                .collect();
            let mut copy_cols = cols.clone();
            copy_cols.extend(carried.iter().map(|c| quote::ident(&c.name)));
            if stamps.contains(&"updated_at") {
                copy_cols.push(quote::ident("updated_at"));
            }
            let load = LoadSql::Upsert {
                copy: copy(&target, &copy_cols),
                delete: format!(
                    "DELETE FROM {target} AS m WHERE {} AND m.tableoid {} $1 AND m.ctid {} ANY ($2::pg_catalog.tid[])",
                    window_of(accounts, "m"),
                    op("="),
                    op("=")
                ),
                key,
                key_positions,
                compared_positions,
                groups,
                carried,
            };
            (remote_sqls, load)
        }
        _ => {
            let mut target_cols = cols.clone();
            target_cols.extend(stamps.iter().map(|s| quote::ident(s)));
            let load = LoadSql::DeleteInsert {
                delete: format!("DELETE FROM {target} WHERE {}", window_of(accounts, "")),
                copy: copy(&target, &target_cols),
            };
            (remote_queries(accounts)?, load)
        }
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

/// The table's account column and its type, once the account and date columns are known to
/// exist in the mart table.
fn account_and_date<'a>(
    section: &'a Section,
    table: &'a SectionTable,
    mart: &MartTable,
) -> PlanResult<(&'a str, String)> {
    let account_col = section.account_column_of(table);
    let account_type = mart
        .require_column(account_col, "account")?
        .type_sql
        .clone();
    mart.require_column(&section.date_column, "date")?;
    Ok((account_col, account_type))
}

/// The local filter of a window: `date >= start AND date < end AND account = ANY (ids)`,
/// columns prefixed with `alias.` when given.
fn local_window(
    section: &Section,
    account_col: &str,
    account_type: &str,
    ids: &[String],
    window: &Window,
    alias: &str,
) -> String {
    let q = |c: &str| {
        if alias.is_empty() {
            quote::ident(c)
        } else {
            format!("{alias}.{}", quote::ident(c))
        }
    };
    let date = q(&section.date_column);
    let ids_array = format!(
        "ARRAY[{}]::{account_type}[]",
        ids.iter()
            .map(|a| quote::local_literal(a))
            .collect::<Vec<_>>()
            .join(", ")
    );
    format!(
        "{date} {} {} AND {date} {} {} AND {} {} ANY ({ids_array})",
        op(">="),
        quote::local_literal(&window.start.format("%Y-%m-%d").to_string()),
        op("<"),
        quote::local_literal(&window.end_exclusive().format("%Y-%m-%d").to_string()),
        q(account_col),
        op("="),
    )
}

/// Consecutive runs of `accounts` whose window rows (per account; missing: 0) add up to at
/// most `group_rows`, each at least one account; one group without `rows`.
pub fn group_accounts<'a>(accounts: &'a [String], rows: Option<&AccountRows>) -> Vec<&'a [String]> {
    let Some(AccountRows {
        per_account: rows,
        group_rows,
    }) = rows
    else {
        return vec![accounts];
    };
    let mut groups = Vec::new();
    let (mut start, mut sum) = (0, 0i64);
    for (i, a) in accounts.iter().enumerate() {
        let n = rows.get(a).copied().unwrap_or(0).max(0);
        if i > start && sum + n > *group_rows {
            groups.push(&accounts[start..i]);
            (start, sum) = (i, 0);
        }
        sum += n;
    }
    groups.push(&accounts[start..]);
    groups
}

/// The mart's rows of a table's window per account (`account::text, count`), which size an
/// upsert's fingerprint groups; run only when [`TABLE_ROWS_SQL`] says the table may hold more
/// than one group.
pub fn account_rows_sql(
    section: &Section,
    table: &SectionTable,
    mart: &MartTable,
    accounts: &[String],
    window: &Window,
) -> PlanResult<String> {
    let (account_col, account_type) = account_and_date(section, table, mart)?;
    Ok(format!(
        "SELECT m.{}::pg_catalog.text, pg_catalog.count(*) FROM {} AS m WHERE {} GROUP BY 1",
        quote::ident(account_col),
        mart.sql_name(),
        local_window(section, account_col, &account_type, accounts, window, "m")
    ))
}

/// The rows the statistics say table `$1` (oid), or its leaf partitions, hold (an upper
/// bound of a window's rows, without reading the table; a partitioned table's own reltuples
/// would count them twice).
pub const TABLE_ROWS_SQL: &str = "SELECT COALESCE(pg_catalog.sum(c.reltuples) FILTER (WHERE c.reltuples OPERATOR(pg_catalog.>) 0), 0)::pg_catalog.int8 FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass) AS t JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) t.relid WHERE t.isleaf";

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// The transaction's timestamp, as text.
pub const NOW_SQL: &str = "SELECT pg_catalog.now()::pg_catalog.text";
