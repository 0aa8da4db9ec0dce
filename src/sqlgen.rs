//! SQL generation: the one module that writes SQL text for a sync. From a section, a mart
//! table's catalog model, the accounts and the window it builds
//! - the remote query, in a dialect Redshift accepts (every identifier double-quoted, plain
//!   literals, no `::`, `ANY`, `E''` or other PostgreSQL-only syntax), one per account chunk;
//! - the column-definition list dblink needs;
//! - the local statements that run it.
//!
//! `dm_preview` shows exactly these strings and `dm_sync` executes exactly these strings.

use crate::catalog::{FetchedColumn, MartTable};
use crate::error::DmResult;
use crate::partition::PartitionPlan;
use crate::quote;
use crate::section::{Section, SectionTable};
use crate::window::Window;

/// Ids are split so that no remote statement carries more than this many bytes of them
/// (Redshift's statement limit is 16 MB; this stays far below it).
const MAX_ID_BYTES_PER_QUERY: usize = 1 << 20;

/// The local statements that write one table, by mode.
#[derive(Debug, Clone)]
pub enum LoadSql {
    /// Delete the window's rows for the accounts, then insert every fetched row.
    DeleteInsert {
        delete: String,
        inserts: Vec<String>,
    },
    /// Fetch into a temporary stage, refuse duplicate keys, then delete the window's rows that
    /// are gone upstream, update the rows whose values changed and insert the new ones.
    Upsert {
        key: Vec<String>,
        create_stage: String,
        stage_inserts: Vec<String>,
        analyze_stage: String,
        duplicates: String,
        delete: String,
        update: Option<String>,
        insert: String,
    },
}

/// dblink name of the connection a table's rows are pulled through (one table at a time).
pub const FETCH_LINK: &str = "pg_datamart_fetch";

/// How to plan: account ids per remote statement, the load mode, and the warehouse-side
/// statement_timeout of each pull (None: none).
#[derive(Debug, Clone)]
pub struct PlanOptions<'a> {
    pub per_query: usize,
    pub mode: &'a str,
    pub remote_timeout_ms: Option<i64>,
}

impl LoadSql {
    /// The statements in execution order (the duplicate check marked), for previews and the
    /// descriptions of generated procedures.
    pub fn statements(&self) -> Vec<String> {
        match self {
            LoadSql::DeleteInsert { delete, inserts } => {
                std::iter::once(delete).chain(inserts).cloned().collect()
            }
            LoadSql::Upsert {
                create_stage,
                stage_inserts,
                analyze_stage,
                duplicates,
                delete,
                update,
                insert,
                ..
            } => {
                let mut v = vec![create_stage.clone()];
                v.extend(stage_inserts.iter().cloned());
                v.push(analyze_stage.clone());
                v.push(format!("{duplicates} /* any row refuses the load */"));
                v.push(delete.clone());
                v.extend(update.iter().cloned());
                v.push(insert.clone());
                v
            }
        }
    }
}

/// Everything a sync of one table runs, as text.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub mart_oid: u32,
    pub mart_name: String,
    pub mode: String,
    /// One remote query per account chunk.
    pub remote_sqls: Vec<String>,
    /// `"col" type, ...` for `AS r(...)`.
    pub column_definitions: String,
    /// Opens the fetch connection (and sets its statement_timeout), then closes it.
    pub connect: Vec<String>,
    pub disconnect: String,
    /// Partitions to create or to give the section's storage parameters, and those written to.
    pub partitions: PartitionPlan,
    pub load: LoadSql,
}

impl TablePlan {
    /// The local statements in execution order, as one script.
    pub fn local_script(&self) -> String {
        let mut parts = self.partitions.statements();
        parts.extend(self.connect.iter().cloned());
        parts.extend(self.load.statements());
        parts.push(self.disconnect.clone());
        let mut script = parts.join(";\n") + ";";
        script.push_str(&format!(
            "\n/* after writing at least pg_datamart.analyze_threshold rows: */ ANALYZE {};",
            self.partitions.touched.join(", ")
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

/// `<date> >= 'start' AND <date> < 'end+1' AND <account> IN (...)` over already-quoted column
/// expressions, with the given literal quoting.
fn window_predicate(
    date_col: &str,
    acct_col: &str,
    window: &Window,
    ids_sql: &str,
    lit: impl Fn(&str) -> DmResult<String>,
) -> DmResult<String> {
    Ok(format!(
        "{date_col} >= {s} AND {date_col} < {e} AND {acct_col} IN {ids_sql}",
        s = lit(&window.start.format("%Y-%m-%d").to_string())?,
        e = lit(&window.end_exclusive().format("%Y-%m-%d").to_string())?,
    ))
}

/// Builds the plan for one table of a section in `mode`.
#[allow(clippy::too_many_arguments)]
pub fn plan_table(
    section: &Section,
    table: &SectionTable,
    mart: &MartTable,
    accounts: &[String],
    window: &Window,
    opts: &PlanOptions,
) -> DmResult<TablePlan> {
    let (per_query, mode) = (opts.per_query, opts.mode);
    let account_col = section.account_column_of(table);
    mart.require_column(account_col, "account")?;
    mart.require_column(&section.date_column, "date")?;
    let columns = mart.fetched_columns()?;

    let remote_from = quote::qualified(&table.remote_schema, &table.remote_table);
    let select_list = columns
        .iter()
        .map(|c| quote::ident(&c.remote))
        .collect::<Vec<_>>()
        .join(", ");
    let remote_date = quote::ident(mart.remote_name(&section.date_column));
    let remote_acct = quote::ident(mart.remote_name(account_col));
    let remote_sqls = chunk_accounts(accounts, per_query)
        .into_iter()
        .map(|chunk| {
            let ids = quote::remote_literal_list(chunk)?;
            let pred = window_predicate(
                &remote_date,
                &remote_acct,
                window,
                &ids,
                quote::remote_literal,
            )?;
            Ok(format!(
                "SELECT {select_list} FROM {remote_from} WHERE {pred}"
            ))
        })
        .collect::<DmResult<Vec<_>>>()?;

    let column_definitions = columns
        .iter()
        .map(|c| format!("{} {}", quote::ident(&c.mart), c.type_sql))
        .collect::<Vec<_>>()
        .join(", ");
    let dblink = crate::catalog::extension_schema("dblink")?;
    let link = quote::local_literal(FETCH_LINK);
    let source = |remote: &str| {
        format!(
            "{dblink}.dblink({link}, {}) AS r({column_definitions})",
            quote::local_literal(remote)
        )
    };
    let mut connect = vec![format!(
        "SELECT {dblink}.dblink_connect({link}, {})",
        quote::local_literal(&section.server)
    )];
    if let Some(ms) = opts.remote_timeout_ms {
        connect.push(format!(
            "SELECT {dblink}.dblink_exec({link}, {})",
            quote::local_literal(&format!("SET statement_timeout = {ms}"))
        ));
    }
    let disconnect = format!("SELECT {dblink}.dblink_disconnect({link})");

    let target = mart.sql_name();
    let cols: Vec<String> = columns.iter().map(|c| quote::ident(&c.mart)).collect();
    let stamps: Vec<&str> = ["created_at", "updated_at"]
        .into_iter()
        .filter(|s| mart.has_settable(s))
        .collect();
    let mut target_cols = cols.clone();
    target_cols.extend(stamps.iter().map(|s| quote::ident(s)));
    let with_stamps = |prefix: &str| {
        let mut v: Vec<String> = cols.iter().map(|c| format!("{prefix}.{c}")).collect();
        v.extend(stamps.iter().map(|_| "now()".to_string()));
        v.join(", ")
    };
    let local_ids = quote::local_literal_list(accounts);
    let local_window = |alias: &str| {
        let q = |c: &str| {
            if alias.is_empty() {
                quote::ident(c)
            } else {
                format!("{alias}.{}", quote::ident(c))
            }
        };
        window_predicate(
            &q(&section.date_column),
            &q(account_col),
            window,
            &local_ids,
            |v| Ok(quote::local_literal(v)),
        )
    };

    let load = match mode {
        "upsert" => {
            let key = mart.upsert_key()?.columns.clone();
            let stage = "pg_temp.\"dm_stage\"";
            let key_match = key
                .iter()
                .map(|k| format!("s.{q} = m.{q}", q = quote::ident(k)))
                .collect::<Vec<_>>()
                .join(" AND ");
            let key_list = key
                .iter()
                .map(|k| quote::ident(k))
                .collect::<Vec<_>>()
                .join(", ");
            let key_text = key
                .iter()
                .map(|k| format!("{}::text", quote::ident(k)))
                .collect::<Vec<_>>()
                .join(", ");
            let non_key: Vec<&FetchedColumn> =
                columns.iter().filter(|c| !key.contains(&c.mart)).collect();
            let compare = |alias: &str| {
                non_key
                    .iter()
                    .map(|c| {
                        let e = format!("{alias}.{}", quote::ident(&c.mart));
                        if mart.column(&c.mart).is_some_and(|col| col.comparable) {
                            e
                        } else {
                            format!("{e}::text")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let update = if non_key.is_empty() {
                None
            } else {
                let mut sets: Vec<String> = non_key
                    .iter()
                    .map(|c| format!("{q} = s.{q}", q = quote::ident(&c.mart)))
                    .collect();
                if stamps.contains(&"updated_at") {
                    sets.push(format!("{} = now()", quote::ident("updated_at")));
                }
                Some(format!(
                    "UPDATE {target} AS m SET {} FROM {stage} AS s WHERE {key_match} AND {} AND ({}) IS DISTINCT FROM ({})",
                    sets.join(", "),
                    local_window("m")?,
                    compare("m"),
                    compare("s"),
                ))
            };
            LoadSql::Upsert {
                create_stage: format!("CREATE TEMP TABLE \"dm_stage\" ({column_definitions}) ON COMMIT DROP"),
                stage_inserts: remote_sqls.iter().map(|r| format!("INSERT INTO {stage} SELECT * FROM {}", source(r))).collect(),
                analyze_stage: format!("ANALYZE {stage}"),
                duplicates: format!(
                    "SELECT count(*) OVER (), format('(%s) x%s', concat_ws(', ', {key_text}), count(*)) FROM {stage} \
                     GROUP BY {key_list} HAVING count(*) > 1 ORDER BY count(*) DESC, 2 LIMIT 5"
                ),
                delete: format!(
                    "DELETE FROM {target} AS m WHERE {} AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {key_match})",
                    local_window("m")?
                ),
                update,
                insert: format!(
                    "INSERT INTO {target} ({}) SELECT {} FROM {stage} AS s WHERE NOT EXISTS (SELECT 1 FROM {target} AS m WHERE {key_match} AND {})",
                    target_cols.join(", "),
                    with_stamps("s"),
                    local_window("m")?
                ),
                key,
            }
        }
        _ => LoadSql::DeleteInsert {
            delete: format!("DELETE FROM {target} WHERE {}", local_window("")?),
            inserts: remote_sqls
                .iter()
                .map(|r| {
                    format!(
                        "INSERT INTO {target} ({}) SELECT {} FROM {}",
                        target_cols.join(", "),
                        with_stamps("r"),
                        source(r)
                    )
                })
                .collect(),
        },
    };
    let partitions = crate::partition::plan(
        mart,
        &section.date_column,
        &section.storage_parameters,
        window,
    )?;

    Ok(TablePlan {
        mart_oid: mart.oid,
        mart_name: mart.display_name(),
        mode: mode.to_string(),
        remote_sqls,
        column_definitions,
        connect,
        disconnect,
        partitions,
        load,
    })
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;

    #[pgrx::pg_test]
    fn chunks_respect_count() {
        let ids: Vec<String> = (1..=7).map(|i| i.to_string()).collect();
        let chunks = chunk_accounts(&ids, 3);
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            vec![3, 3, 1]
        );
        assert_eq!(chunk_accounts(&ids, 1000).len(), 1);
        assert!(chunk_accounts(&[], 10).is_empty());
    }

    #[pgrx::pg_test]
    fn chunks_respect_bytes() {
        let ids: Vec<String> = (0..40_000).map(|i| format!("{i:0>60}")).collect();
        let chunks = chunk_accounts(&ids, 100_000);
        assert!(chunks.len() >= 2);
        assert!(chunks
            .iter()
            .all(|c| c.iter().map(|s| s.len() + 4).sum::<usize>() <= MAX_ID_BYTES_PER_QUERY));
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), ids.len());
    }
}
