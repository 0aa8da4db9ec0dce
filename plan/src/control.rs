//! Job-control statements: the (table, account) advisory locks a run takes, and the watchdog's
//! cancel of a run's warehouse query. Which locks, in which order, is decided here.

use crate::quote;
use crate::snapshot::{Schemas, Section};

/// One advisory lock: (table oid, account hash or 0 for the table), shared or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LockKey {
    pub table: i32,
    pub item: i32,
    pub shared: bool,
}

impl LockKey {
    /// Tries the lock without waiting (`$1` table, `$2` item); returns a boolean.
    pub fn try_sql(&self) -> &'static str {
        if self.shared {
            "SELECT pg_catalog.pg_try_advisory_lock_shared($1::pg_catalog.int4, $2::pg_catalog.int4)"
        } else {
            "SELECT pg_catalog.pg_try_advisory_lock($1::pg_catalog.int4, $2::pg_catalog.int4)"
        }
    }

    /// Releases the lock (`$1` table, `$2` item).
    pub fn unlock_sql(&self) -> &'static str {
        if self.shared {
            "SELECT pg_catalog.pg_advisory_unlock_shared($1::pg_catalog.int4, $2::pg_catalog.int4)"
        } else {
            "SELECT pg_catalog.pg_advisory_unlock($1::pg_catalog.int4, $2::pg_catalog.int4)"
        }
    }
}

/// The locks a run of `section` needs, in the one global order every sync takes them (table
/// oid, then the table lock, then accounts): per table a shared table lock plus an exclusive
/// lock per account hash, or one exclusive table lock when `whole` (too many accounts).
pub fn lock_keys(section: &Section, account_hashes: &[i32], whole: bool) -> Vec<LockKey> {
    let mut tables: Vec<i32> = section.tables.iter().map(|t| t.mart_table as i32).collect();
    tables.sort();
    tables.dedup();
    let mut hashes: Vec<i32> = account_hashes
        .iter()
        .map(|h| if *h == 0 { 1 } else { *h })
        .collect();
    hashes.sort();
    hashes.dedup();
    let mut keys = Vec::new();
    for t in tables {
        keys.push(LockKey {
            table: t,
            item: 0,
            shared: !whole,
        });
        if !whole {
            keys.extend(hashes.iter().map(|h| LockKey {
                table: t,
                item: *h,
                shared: false,
            }));
        }
    }
    keys
}

/// Cancels warehouse backend `pid` through the section's server (with the caller's user
/// mapping); returns a boolean, false also when the warehouse refused (`fail_on_error` false:
/// dblink reports the warehouse's error as a NOTICE and returns no row).
pub fn cancel_remote(schemas: &Schemas, server: &str, pid: i32) -> String {
    format!(
        "SELECT COALESCE((SELECT t.ok FROM {}({}, {}, false) AS t(ok pg_catalog.bool)), false)",
        schemas.dblink_fn("dblink"),
        quote::local_literal(server),
        quote::local_literal(&format!("SELECT pg_cancel_backend({pid})"))
    )
}

/// The query for a section's warehouse columns of one table, in order (Redshift has
/// `information_schema.columns` too), and the local statement that runs it through the server.
pub fn remote_columns_sql(
    schemas: &Schemas,
    server: &str,
    remote_schema: &str,
    remote_table: &str,
) -> crate::error::PlanResult<String> {
    let remote_sql = format!(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = {} AND table_name = {} ORDER BY ordinal_position",
        quote::remote_literal(remote_schema)?,
        quote::remote_literal(remote_table)?
    );
    Ok(format!(
        "SELECT COALESCE(pg_catalog.json_agg(t.column_name), '[]'::pg_catalog.json) FROM {}({}, {}) AS t(column_name pg_catalog.text)",
        schemas.dblink_fn("dblink"),
        quote::local_literal(server),
        quote::local_literal(&remote_sql)
    ))
}

/// The pg_cron command of a section's job.
pub fn cron_command(schemas: &Schemas, section: &str, account_ids: &str) -> String {
    format!(
        "CALL {}({}::pg_catalog.text, {}::pg_catalog.text)",
        schemas.ours_fn("dm_sync"),
        quote::local_literal(section),
        quote::local_literal(account_ids)
    )
}

/// The statement a DBA runs to give `role` the table privileges a sync lacks: `GRANT SELECT,
/// INSERT ON "schema"."table" TO "role"` (`table` is already a quoted qualified name).
pub fn grant_statement(privileges: &[&str], table_sql: &str, role: &str) -> String {
    format!(
        "GRANT {} ON {table_sql} TO {}",
        privileges.join(", "),
        crate::quote::ident(role)
    )
}

/// The statement a DBA runs to give `role` privileges on a schema: `GRANT USAGE, CREATE ON
/// SCHEMA "schema" TO "role"` (`schema` and `role` are plain names, quoted here).
pub fn grant_schema_statement(privileges: &[&str], schema: &str, role: &str) -> String {
    format!(
        "GRANT {} ON SCHEMA {} TO {}",
        privileges.join(", "),
        crate::quote::ident(schema),
        crate::quote::ident(role)
    )
}

/// `ALTER TABLE <table> OWNER TO "role"` (`table_sql` is already a quoted qualified name).
pub fn owner_statement(table_sql: &str, role: &str) -> String {
    format!(
        "ALTER TABLE {table_sql} OWNER TO {}",
        crate::quote::ident(role)
    )
}
