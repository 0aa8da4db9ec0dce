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

/// `WITH RECURSIVE t(r)`: table `$1` and its partitions, sub-partitions included (read from
/// pg_inherits, which takes no lock).
macro_rules! partitions_cte {
    () => {
        "WITH RECURSIVE t(r) AS (SELECT $1::pg_catalog.oid UNION ALL SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN t ON i.inhparent OPERATOR(pg_catalog.=) t.r)"
    };
}

/// A `pg_locks l` row granted in this database to another backend.
macro_rules! held_here_by_others {
    () => {
        "l.granted AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
   AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
    };
}

/// The quoted application name of `pg_stat_activity a`, or `none`.
macro_rules! application_shown {
    () => {
        "COALESCE(pg_catalog.quote_literal(CASE WHEN a.application_name OPERATOR(pg_catalog.<>) '' THEN a.application_name END), 'none')"
    };
}

/// Who holds a lock on table `$1` or one of its partitions in one of the modes `$2`, as a JSON
/// object: `first`, the lowest pid, and `holders`, "pid N (mode on relation; role r, application
/// a, state s)" `; `-separated; both null when nobody does. Never the holder's query text.
pub const RELATION_HOLDERS_SQL: &str = concat!(
    partitions_cte!(),
    "
SELECT pg_catalog.json_build_object(
         'first', pg_catalog.min(l.pid),
         'holders', pg_catalog.string_agg(DISTINCT pg_catalog.format('pid %s (%s on %s; role %s, application %s, state %s)',
                        l.pid, l.mode, l.relation::pg_catalog.regclass, COALESCE(a.usename::pg_catalog.text, '?'), ",
    application_shown!(),
    ",
                        COALESCE(a.state, 'not visible to this role')), '; '))
  FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
 WHERE l.locktype OPERATOR(pg_catalog.=) 'relation'::pg_catalog.text
   AND ",
    held_here_by_others!(),
    "
   AND l.relation OPERATOR(pg_catalog.=) ANY (SELECT r FROM t)
   AND l.mode OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[])"
);

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// Whether pg_cron is created in this database, and whether this role may use schema cron.
pub const CRON_INSTALLED_SQL: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron'::pg_catalog.name),
                COALESCE((SELECT pg_catalog.has_schema_privilege(n.oid, 'USAGE') FROM pg_catalog.pg_namespace n
                           WHERE n.nspname OPERATOR(pg_catalog.=) 'cron'::pg_catalog.name), false)";

/// The current user and database.
pub const WHO_WHERE_SQL: &str =
    "SELECT CURRENT_USER::pg_catalog.text, pg_catalog.current_database()::pg_catalog.text";

/// Whether this role may read every setting (pg_read_all_settings).
pub const READS_SETTINGS_SQL: &str =
    "SELECT pg_catalog.pg_has_role('pg_read_all_settings'::pg_catalog.name, 'USAGE')";

/// Whether pg_cron is in shared_preload_libraries, and cron.database_name.
pub const CRON_PRELOADED_SQL: &str = "SELECT 'pg_cron'::pg_catalog.text OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array(pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ',')),
                    pg_catalog.current_setting('cron.database_name', true)";

/// Schedules job `$1` at `$2` running `$3`; returns its id.
pub const CRON_SCHEDULE_SQL: &str =
    "SELECT cron.schedule($1::pg_catalog.text, $2::pg_catalog.text, $3::pg_catalog.text)";

/// Whether this role has a pg_cron job named `$1`.
pub const CRON_JOB_EXISTS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname OPERATOR(pg_catalog.=) $1::pg_catalog.text AND username OPERATOR(pg_catalog.=) CURRENT_USER::pg_catalog.text)";

/// Removes pg_cron job `$1`.
pub const CRON_UNSCHEDULE_SQL: &str = "SELECT cron.unschedule($1::pg_catalog.text)";

/// Whether this role may use foreign server `$1`.
pub const SERVER_USAGE_SQL: &str =
    "SELECT pg_catalog.has_server_privilege($1::pg_catalog.text, 'USAGE')";

/// Whether table `$1` is loaded in upsert mode by some section.
pub const UPSERT_TARGET_SQL: &str = "SELECT EXISTS (SELECT 1 FROM dm.section_table t JOIN dm.section s ON s.section OPERATOR(pg_catalog.=) t.section
                         WHERE t.mart_table::pg_catalog.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid
                           AND s.mode OPERATOR(pg_catalog.=) 'upsert'::pg_catalog.text)";

/// Which of the relations `$1` (oids) a non-superuser owns, as "name (owner role)", comma-separated (JSON).
pub const NON_SUPERUSER_OWNED_SQL: &str = "SELECT pg_catalog.to_json(pg_catalog.string_agg(pg_catalog.format('%s (owner %s)', c.oid::pg_catalog.regclass, r.rolname), ', ' ORDER BY c.oid))
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
          WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[]) AND NOT r.rolsuper";

/// Whether this role may use foreign server `$1` through a user mapping of its own or PUBLIC's.
pub const REMOTE_CANCEL_USABLE_SQL: &str = "SELECT pg_catalog.has_server_privilege(s.oid, 'USAGE')
            AND EXISTS (SELECT 1 FROM pg_catalog.pg_user_mappings m
                         WHERE m.srvid OPERATOR(pg_catalog.=) s.oid
                           AND (m.umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid
                                OR m.usename OPERATOR(pg_catalog.=) CURRENT_USER))
           FROM pg_catalog.pg_foreign_server s
          WHERE s.srvname OPERATOR(pg_catalog.=) $1::pg_catalog.text";

/// Whether backend `$1` is running run `$2` (started at or after `$3`, logged in as `$4`, holding one of the run's locks).
pub const RUNS_IT_SQL: &str = "SELECT EXISTS (
             SELECT 1 FROM dm.run r
               JOIN pg_catalog.pg_locks l ON l.pid OPERATOR(pg_catalog.=) r.pid
              WHERE r.run_id OPERATOR(pg_catalog.=) $2::pg_catalog.int8
                AND r.pid OPERATOR(pg_catalog.=) $1::pg_catalog.int4
                AND $3::pg_catalog.timestamptz OPERATOR(pg_catalog.<=) r.started_at
                AND COALESCE(r.login_role, r.run_by) OPERATOR(pg_catalog.=) $4::pg_catalog.name
                AND l.locktype OPERATOR(pg_catalog.=) 'advisory'::pg_catalog.text AND l.granted
                AND l.objsubid OPERATOR(pg_catalog.=) 2
                AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                                        WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
                AND l.classid OPERATOR(pg_catalog.=) ANY (
                      SELECT t.mart_table::pg_catalog.oid FROM dm.section_table t
                       WHERE t.section OPERATOR(pg_catalog.=) r.section))";

/// The time, to the second, for the watchdog's notes.
pub const WATCHDOG_CLOCK_SQL: &str =
    "SELECT pg_catalog.to_char(pg_catalog.clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS')";

/// Cancels backend `$1`'s query.
pub const CANCEL_BACKEND_SQL: &str = "SELECT pg_catalog.pg_cancel_backend($1::pg_catalog.int4)";

/// The distinct hashes of the account ids `$1`, as a JSON array.
pub const ACCOUNT_HASHES_SQL: &str =
    "SELECT COALESCE(pg_catalog.json_agg(DISTINCT pg_catalog.hashtext(a)), '[]'::pg_catalog.json)
               FROM pg_catalog.unnest($1::pg_catalog.text[]) a";

/// Sets lock_timeout to `$1` for the transaction.
pub const SET_LOCK_TIMEOUT_SQL: &str =
    "SELECT pg_catalog.set_config('lock_timeout', $1::pg_catalog.text, true)";

/// The relations that make up table `$1` (itself and its partitions, sub-partitions included, read from pg_inherits), as a JSON array of oids.
pub const PARTITIONS_SQL: &str = concat!(
    partitions_cte!(),
    "
SELECT COALESCE(pg_catalog.json_agg(DISTINCT r::pg_catalog.int8), '[]'::pg_catalog.json) FROM t"
);

/// Tries the transaction-level advisory lock `$1` without waiting.
pub const TRY_XACT_LOCK_SQL: &str =
    "SELECT pg_catalog.pg_try_advisory_xact_lock($1::pg_catalog.int8)";

/// The first other backend holding advisory lock `$1` (a transaction-level lock on an int8 key), as JSON.
pub const XACT_LOCK_HOLDER_SQL: &str = concat!(
    "SELECT pg_catalog.to_json(pg_catalog.min(l.pid)) FROM pg_catalog.pg_locks l
 WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'::pg_catalog.text AND l.objsubid OPERATOR(pg_catalog.=) 1
   AND ",
    held_here_by_others!(),
    "
   AND l.classid::pg_catalog.int8 OPERATOR(pg_catalog.=) ($1::pg_catalog.int8 OPERATOR(pg_catalog.>>) 32)
   AND l.objid::pg_catalog.int8 OPERATOR(pg_catalog.=) ($1::pg_catalog.int8 OPERATOR(pg_catalog.&) 4294967295)"
);

/// Who holds the (table `$1`, item `$2`) advisory lock of a run: the run or, for a backend that runs no sync, its pid, role and application; `; `-separated (JSON text).
pub const ADVISORY_HOLDERS_SQL: &str = concat!(
    "SELECT pg_catalog.to_json(pg_catalog.string_agg(DISTINCT CASE WHEN r.run_id IS NULL
        THEN pg_catalog.format('pid %s (role %s, application %s), which runs no sync', l.pid,
                    COALESCE(a.usename::pg_catalog.text, '?'), ",
    application_shown!(),
    ")
        ELSE pg_catalog.format('run %s of section %s (pid %s, started %s)', r.run_id, r.section, l.pid,
                    pg_catalog.to_char(r.started_at, 'HH24:MI:SS')) END, '; '))
  FROM pg_catalog.pg_locks l
  LEFT JOIN dm.run r ON r.pid OPERATOR(pg_catalog.=) l.pid AND r.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
 WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'::pg_catalog.text AND l.objsubid OPERATOR(pg_catalog.=) 2
   AND ",
    held_here_by_others!(),
    "
   AND l.classid::pg_catalog.int8 OPERATOR(pg_catalog.=) ($1::pg_catalog.int8 OPERATOR(pg_catalog.&) 4294967295)
   AND l.objid::pg_catalog.int8 OPERATOR(pg_catalog.=) ($2::pg_catalog.int8 OPERATOR(pg_catalog.&) 4294967295)"
);

/// How many other live sessions run a sync as this role.
pub const OWN_RUNNING_SQL: &str = "SELECT pg_catalog.count(*) FROM dm.run r
          WHERE r.status OPERATOR(pg_catalog.=) 'running'::pg_catalog.text
            AND r.run_by OPERATOR(pg_catalog.=) CURRENT_USER
            AND r.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
            AND EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) r.pid)";

/// Why section `$1` is paused (its own switch or the global one), as JSON text, or nothing.
pub const PAUSED_SQL: &str = "SELECT pg_catalog.to_json(pg_catalog.format('paused (by %s at %s; dm_unpause(%s) resumes)', paused_by,
                              pg_catalog.to_char(paused_at, 'YYYY-MM-DD HH24:MI:SS'),
                              CASE WHEN section OPERATOR(pg_catalog.=) '*'::pg_catalog.text THEN '' ELSE pg_catalog.quote_literal(section) END))
           FROM dm.pause WHERE section OPERATOR(pg_catalog.=) ANY (ARRAY[$1, '*'::pg_catalog.text])
          ORDER BY section OPERATOR(pg_catalog.=) '*'::pg_catalog.text LIMIT 1";

/// The vacuums running on the relations `$1` (names), as a JSON array of {target, pid}.
pub const VACUUMS_SQL: &str = "SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('target', t.name, 'pid', v.pid) ORDER BY t.name), '[]'::pg_catalog.json)
           FROM pg_catalog.unnest($1::pg_catalog.text[]) t(name)
           JOIN pg_catalog.pg_stat_progress_vacuum v ON v.relid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(t.name)";

/// Waits 0.2 s.
pub const SLEEP_SQL: &str = "SELECT pg_catalog.pg_sleep(0.2)";

/// Pauses section `$1` (`*`: all).
pub const PAUSE_SQL: &str =
    "INSERT INTO dm.pause (section) VALUES ($1) ON CONFLICT (section) DO NOTHING";

/// Lifts every pause.
pub const UNPAUSE_ALL_SQL: &str = "DELETE FROM dm.pause";

/// Lifts section `$1`'s pause.
pub const UNPAUSE_SQL: &str = "DELETE FROM dm.pause WHERE section OPERATOR(pg_catalog.=) $1";

/// The privilege keywords the extension checks and names in its hints.
pub mod privilege {
    pub const SELECT: &str = "SELECT";
    pub const INSERT: &str = "INSERT";
    pub const UPDATE: &str = "UPDATE";
    pub const DELETE: &str = "DELETE";
    pub const USAGE: &str = "USAGE";
    pub const CREATE: &str = "CREATE";
}

/// The hint when pg_cron is loaded but not created in this database.
pub const CREATE_PG_CRON: &str = "CREATE EXTENSION pg_cron;";

/// The hint when the syncing role may not use foreign server `server`.
pub fn grant_server_hint(server: &str) -> String {
    format!("GRANT USAGE ON FOREIGN SERVER {server} to the role that runs the sync.")
}

/// The statement (its password elided) that gives `role`'s user mapping for `server` a password.
pub fn add_password_statement(role: &str, server: &str) -> String {
    format!(
        "ALTER USER MAPPING FOR {} SERVER {} OPTIONS (ADD password '...')",
        quote::ident(role),
        quote::ident(server)
    )
}
