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
use crate::quote;
use crate::section::{Section, SectionTable};
use crate::window::Window;

/// Ids are split so that no remote statement carries more than this many bytes of them
/// (Redshift's statement limit is 16 MB; this stays far below it).
const MAX_ID_BYTES_PER_QUERY: usize = 1 << 20;

/// Everything a sync of one table runs, as text.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub mart_oid: u32,
    pub mart_name: String,
    pub server: String,
    pub columns: Vec<FetchedColumn>,
    /// One remote query per account chunk.
    pub remote_sqls: Vec<String>,
    /// `"col" type, ...` for `AS r(...)`.
    pub column_definitions: String,
    /// Removes the window's rows for the accounts.
    pub delete_sql: String,
    /// One `INSERT ... SELECT ... FROM dblink(...)` per remote query.
    pub insert_sqls: Vec<String>,
}

impl TablePlan {
    /// The local statements in execution order, as one script.
    pub fn local_script(&self) -> String {
        let mut parts = vec![self.delete_sql.clone()];
        parts.extend(self.insert_sqls.iter().cloned());
        parts.join(";\n") + ";"
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

/// `"date" >= 'start' AND "date" < 'end+1' AND "account" IN (...)`, with the given literal quoting.
fn window_predicate(
    date_col: &str,
    acct_col: &str,
    window: &Window,
    ids_sql: &str,
    lit: impl Fn(&str) -> DmResult<String>,
) -> DmResult<String> {
    Ok(format!(
        "{d} >= {s} AND {d} < {e} AND {a} IN {ids_sql}",
        d = quote::ident(date_col),
        a = quote::ident(acct_col),
        s = lit(&window.start.format("%Y-%m-%d").to_string())?,
        e = lit(&window.end_exclusive().format("%Y-%m-%d").to_string())?,
    ))
}

/// Builds the plan for one table of a section.
pub fn plan_table(
    section: &Section,
    table: &SectionTable,
    mart: &MartTable,
    accounts: &[String],
    window: &Window,
    per_query: usize,
) -> DmResult<TablePlan> {
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
    let remote_date = mart.remote_name(&section.date_column);
    let remote_acct = mart.remote_name(account_col);
    let remote_sqls = chunk_accounts(accounts, per_query)
        .into_iter()
        .map(|chunk| {
            let ids = quote::remote_literal_list(chunk)?;
            let pred = window_predicate(
                remote_date,
                remote_acct,
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

    let mut target_cols: Vec<String> = columns.iter().map(|c| quote::ident(&c.mart)).collect();
    let mut source_cols: Vec<String> = columns
        .iter()
        .map(|c| format!("r.{}", quote::ident(&c.mart)))
        .collect();
    for stamp in ["created_at", "updated_at"] {
        if mart.has_settable(stamp) {
            target_cols.push(quote::ident(stamp));
            source_cols.push("now()".to_string());
        }
    }
    let target = mart.sql_name();
    let dblink = crate::catalog::extension_schema("dblink")?;
    let insert_sqls = remote_sqls
        .iter()
        .map(|remote| {
            format!(
                "INSERT INTO {target} ({}) SELECT {} FROM {dblink}.dblink({}, {}) AS r({column_definitions})",
                target_cols.join(", "),
                source_cols.join(", "),
                quote::local_literal(&section.server),
                quote::local_literal(remote),
            )
        })
        .collect();

    let local_ids = quote::local_literal_list(accounts);
    let delete_pred =
        window_predicate(&section.date_column, account_col, window, &local_ids, |v| {
            Ok(quote::local_literal(v))
        })?;
    let delete_sql = format!("DELETE FROM {target} WHERE {delete_pred}");

    Ok(TablePlan {
        mart_oid: mart.oid,
        mart_name: mart.display_name(),
        server: section.server.clone(),
        columns,
        remote_sqls,
        column_definitions,
        delete_sql,
        insert_sqls,
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
