//! Job-control statements: the (table, account) advisory locks a run takes, which failures ban
//! a section, and the watchdog's cancel of a run's warehouse query. Which locks, in which
//! order, is decided here.

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

/// SQLSTATE classes of failures that are not the sync's own doing, so never count towards a
/// ban: transaction rollbacks (40: deadlocks and serialization, with other sessions), resources
/// others hold (53: worker slots, memory, disk), objects in use by others (55: a lock another
/// session holds past pg_datamart.lock_timeout, a step called out of order) and operator
/// intervention (57: cancels, shutdowns).
pub const BAN_EXEMPT_CLASSES: [&str; 4] = ["40", "53", "55", "57"];

/// Single SQLSTATEs that never count towards a ban: 42P07 and 42710, a relation or a type
/// another role created under the name of a partition the sync needs.
pub const BAN_EXEMPT_CODES: [&str; 2] = ["42P07", "42710"];

/// Whether a failed run with this SQLSTATE counts towards a ban: only failures of the sync's
/// own work do (a broken definition, the warehouse down or refusing, bad data); not what
/// another session can cause by holding a lock, a slot or a name. A failure without a
/// recorded SQLSTATE (a backend that vanished, found by reconciliation) does not count either.
pub fn counts_toward_ban(sqlstate: Option<&str>) -> bool {
    match sqlstate {
        Some(code) if code.len() == 5 => {
            !BAN_EXEMPT_CLASSES.contains(&&code[..2]) && !BAN_EXEMPT_CODES.contains(&code)
        }
        _ => false,
    }
}

/// Why a section is banned for role `$6` now, as JSON text (NULL when it is not): the last
/// `$2` (`pg_datamart.max_failures`) runs of the section by that role that count (succeeded
/// ones, and failed ones whose SQLSTATE [`counts_toward_ban`]; skipped, cancelled and exempt
/// failures are passed over) since the section's last `dm_unban` all failed, the last less
/// than `$3` minutes ago. Bans are per (section, role): a role whose own syncs fail (a
/// read-only session, a setting of its own) bans only itself, never the section's other
/// loaders. `$1` section, `$4` [`BAN_EXEMPT_CLASSES`], `$5` [`BAN_EXEMPT_CODES`].
pub const BAN_SQL: &str = "WITH recent AS (
     SELECT status, finished_at, error FROM dm.run
      WHERE section OPERATOR(pg_catalog.=) $1
        AND run_by OPERATOR(pg_catalog.=) $6::pg_catalog.name
        AND (status OPERATOR(pg_catalog.=) 'succeeded'::pg_catalog.text
             OR (status OPERATOR(pg_catalog.=) 'failed'::pg_catalog.text
                 AND pg_catalog.length(sqlstate) OPERATOR(pg_catalog.=) 5
                 AND pg_catalog.left(sqlstate, 2) OPERATOR(pg_catalog.<>) ALL ($4::pg_catalog.text[])
                 AND sqlstate OPERATOR(pg_catalog.<>) ALL ($5::pg_catalog.text[])))
        AND finished_at OPERATOR(pg_catalog.>) COALESCE((SELECT s.unbanned_at FROM dm.section s WHERE s.section OPERATOR(pg_catalog.=) $1), '-infinity'::pg_catalog.timestamptz)
      ORDER BY run_id DESC LIMIT $2)
 SELECT pg_catalog.to_json(pg_catalog.format('banned until %s after %s consecutive failures (last: %s) of the syncs role %s runs; an admin lifts the ban with SELECT dm_unban(%L)',
                       pg_catalog.to_char(pg_catalog.max(finished_at) OPERATOR(pg_catalog.+) pg_catalog.make_interval(mins => $3), 'YYYY-MM-DD HH24:MI:SS'),
                       pg_catalog.count(*), pg_catalog.left((pg_catalog.array_agg(error ORDER BY finished_at DESC))[1], 300), $6::pg_catalog.name, $1::pg_catalog.text))
   FROM recent
 HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) $2 AND pg_catalog.bool_and(status OPERATOR(pg_catalog.=) 'failed'::pg_catalog.text)
    AND pg_catalog.max(finished_at) OPERATOR(pg_catalog.+) pg_catalog.make_interval(mins => $3) OPERATOR(pg_catalog.>) pg_catalog.now()";

/// The roles that ran a failed sync of section `$1` in the last `$2` minutes: the only ones
/// that can be banned from it now (the watchdog lists their bans).
pub const BAN_CANDIDATES_SQL: &str = "SELECT COALESCE(pg_catalog.json_agg(DISTINCT r.run_by), '[]'::pg_catalog.json) FROM dm.run r
  WHERE r.section OPERATOR(pg_catalog.=) $1 AND r.status OPERATOR(pg_catalog.=) 'failed'::pg_catalog.text
    AND r.run_by IS NOT NULL
    AND r.finished_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(mins => $2))";

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
