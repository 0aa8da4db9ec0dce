//! The plan of one table: from the snapshot (section, mart table, schemas), the accounts, the
//! window and the options it builds every statement a sync of the table runs, in order:
//! - the remote query, in a dialect Redshift accepts (every identifier double-quoted, plain
//!   literals, no `::`, `ANY`, `E''` or other PostgreSQL-only syntax), one per account chunk;
//! - the column-definition list dblink needs;
//! - the partition DDL, the fetch connection, the load statements and ANALYZE.
//!
//! Local statements call built-ins as `pg_catalog.f(...)`, write their operators as
//! `OPERATOR(pg_catalog.op)` and name every object by its schema, so they mean the same under
//! any search_path (row comparisons, `IS DISTINCT FROM`, run under the executor's pinned path).
//! `dm_preview` shows exactly these strings and `dm_sync` executes exactly these strings.

use crate::domain::Mode;
use crate::error::PlanResult;
use crate::partition::PartitionPlan;
use crate::quote;
use crate::snapshot::{FetchedColumn, MartTable, Schemas, Section, SectionTable};
use crate::window::Window;

/// Ids are split so that no remote statement carries more than this many bytes of them
/// (Redshift's statement limit is 16 MB; this stays far below it).
pub const MAX_ID_BYTES_PER_QUERY: usize = 1 << 20;

/// dblink name of the connection a table's rows are pulled through (one table at a time).
pub const FETCH_LINK: &str = "pg_datamart_fetch";

/// `OPERATOR(pg_catalog.<op>)`.
pub fn op(op: &str) -> String {
    format!("OPERATOR(pg_catalog.{op})")
}

/// The local statements that write one table, by mode.
#[derive(Debug, Clone, PartialEq)]
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
                key: _,
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

/// The fetch connection of a table: closing one left by an interrupted load, opening it (and
/// setting its statement_timeout), asking for the warehouse backend's pid, closing it.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchLink {
    pub reset: String,
    pub connect: Vec<String>,
    pub remote_pid: String,
    pub disconnect: String,
}

/// How the executor streams a table's rows from the warehouse into `COPY FROM` (delete_insert):
/// the warehouse connection's server and setup statements, and COPY's column list (the mart
/// columns in the order of the remote select list, then the bookkeeping columns that get the
/// load's timestamp). The remote queries are [`TablePlan::remote_sqls`], the DELETE is the
/// load's.
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
}

/// How to plan: account ids per remote statement, the load mode, and the warehouse-side
/// statement_timeout of each pull (None: none).
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub per_query: usize,
    pub mode: Mode,
    pub remote_timeout_ms: Option<i64>,
}

/// Everything a sync of one table runs, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub mart_oid: u32,
    pub mart_name: String,
    pub mode: Mode,
    /// One remote query per account chunk.
    pub remote_sqls: Vec<String>,
    /// `"col" type, ...` for `AS r(...)`.
    pub column_definitions: String,
    pub fetch: FetchLink,
    /// The streaming path of delete_insert.
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
        parts.push(self.fetch.reset.clone());
        parts.extend(self.fetch.connect.iter().cloned());
        parts.extend(self.load.statements());
        parts.push(self.fetch.disconnect.clone());
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

/// The fetch connection statements for a section's server.
pub fn fetch_link(schemas: &Schemas, server: &str, remote_timeout_ms: Option<i64>) -> FetchLink {
    let link = quote::local_literal(FETCH_LINK);
    let mut connect = vec![format!(
        "SELECT {}({link}, {})",
        schemas.dblink_fn("dblink_connect"),
        quote::local_literal(server)
    )];
    if let Some(ms) = remote_timeout_ms {
        connect.push(format!(
            "SELECT {}({link}, {})",
            schemas.dblink_fn("dblink_exec"),
            quote::local_literal(&format!("SET statement_timeout = {ms}"))
        ));
    }
    FetchLink {
        reset: format!(
            "SELECT {}(c) FROM pg_catalog.unnest({}()) c WHERE c {} {link}",
            schemas.dblink_fn("dblink_disconnect"),
            schemas.dblink_fn("dblink_get_connections"),
            op("=")
        ),
        connect,
        remote_pid: format!(
            "SELECT pid FROM {}({link}, 'SELECT pg_backend_pid()') AS t(pid pg_catalog.int4)",
            schemas.dblink_fn("dblink")
        ),
        disconnect: format!("SELECT {}({link})", schemas.dblink_fn("dblink_disconnect")),
    }
}

/// Builds the plan for one table of a section.
pub fn plan_table(
    schemas: &Schemas,
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
    let fetch = fetch_link(schemas, &section.server, opts.remote_timeout_ms);
    let stream = StreamPlan {
        server: section.server.clone(),
        application_name: "pg_datamart fetch".into(),
        remote_setup: opts
            .remote_timeout_ms
            .map(|ms| format!("SET statement_timeout = {ms}"))
            .into_iter()
            .collect(),
        columns: columns.iter().map(|c| c.mart.clone()).collect(),
        stamps: ["created_at", "updated_at"]
            .into_iter()
            .filter(|s| mart.has_settable(s))
            .map(String::from)
            .collect(),
    };
    let source = |remote: &str| {
        format!(
            "{}({}, {}) AS r({column_definitions})",
            schemas.dblink_fn("dblink"),
            quote::local_literal(FETCH_LINK),
            quote::local_literal(remote)
        )
    };

    // Local: every operator and built-in qualified.
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
        v.extend(stamps.iter().map(|_| "pg_catalog.now()".to_string()));
        v.join(", ")
    };
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

    let load = match opts.mode {
        Mode::Upsert => {
            let key = mart.upsert_key()?.columns.clone();
            let stage = "pg_temp.\"dm_stage\"";
            let key_match = key
                .iter()
                .map(|k| format!("s.{q} {} m.{q}", op("="), q = quote::ident(k)))
                .collect::<Vec<_>>()
                .join(" AND ");
            let key_list = key
                .iter()
                .map(|k| quote::ident(k))
                .collect::<Vec<_>>()
                .join(", ");
            let key_text = key
                .iter()
                .map(|k| format!("{}::pg_catalog.text", quote::ident(k)))
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
                            format!("{e}::pg_catalog.text")
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
                    sets.push(format!("{} = pg_catalog.now()", quote::ident("updated_at")));
                }
                Some(format!(
                    "UPDATE {target} AS m SET {} FROM {stage} AS s WHERE {key_match} AND {} AND ({}) IS DISTINCT FROM ({})",
                    sets.join(", "),
                    local_window("m"),
                    compare("m"),
                    compare("s"),
                ))
            };
            LoadSql::Upsert {
                create_stage: format!("CREATE TEMP TABLE \"dm_stage\" ({column_definitions}) ON COMMIT DROP"),
                stage_inserts: remote_sqls
                    .iter()
                    .map(|r| format!("INSERT INTO {stage} SELECT * FROM {}", source(r)))
                    .collect(),
                analyze_stage: format!("ANALYZE {stage}"),
                duplicates: format!(
                    "SELECT pg_catalog.count(*) OVER (), pg_catalog.format('(%s) x%s', pg_catalog.concat_ws(', ', {key_text}), pg_catalog.count(*)) \
                     FROM {stage} GROUP BY {key_list} HAVING pg_catalog.count(*) {} 1 ORDER BY pg_catalog.count(*) DESC, 2 LIMIT 5",
                    op(">")
                ),
                delete: format!(
                    "DELETE FROM {target} AS m WHERE {} AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {key_match})",
                    local_window("m")
                ),
                update,
                insert: format!(
                    "INSERT INTO {target} ({}) SELECT {} FROM {stage} AS s WHERE NOT EXISTS (SELECT 1 FROM {target} AS m WHERE {key_match} AND {})",
                    target_cols.join(", "),
                    with_stamps("s"),
                    local_window("m")
                ),
                key,
            }
        }
        Mode::DeleteInsert => LoadSql::DeleteInsert {
            delete: format!("DELETE FROM {target} WHERE {}", local_window("")),
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
        fetch,
        stream,
        partitions,
        load,
        analyze,
    })
}
