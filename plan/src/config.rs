//! Registration input: section names, storage parameters, VACUUM policies, window days and
//! remote table names, checked before anything is stored.

use crate::domain::{Closed, VacuumPolicy};
use crate::error::{PlanError, PlanResult};

/// The longest name pg_datamart accepts for a column, server or warehouse table part: the
/// warehouse's identifier limit (Redshift: 127 bytes; PostgreSQL's own are 63).
pub const MAX_NAME_BYTES: usize = 127;

/// A name argument that may be omitted (NULL) but not given as '' nor longer than
/// [`MAX_NAME_BYTES`].
pub fn not_empty(argument: &str, value: Option<&str>, hint: &str) -> PlanResult<()> {
    if value == Some("") {
        return Err(PlanError::invalid_argument(
            argument,
            "must not be empty",
            hint,
        ));
    }
    if let Some(v) = value.filter(|v| v.len() > MAX_NAME_BYTES) {
        return Err(PlanError::invalid_argument(
            argument,
            format!(
                "is {} bytes long, more than any name can be ({MAX_NAME_BYTES} bytes)",
                v.len()
            ),
            hint,
        ));
    }
    Ok(())
}

pub const DATE_COLUMN_HINT: &str = "Name the mart tables' date column, e.g. collected_at.";

pub fn check_section_name(section: &str) -> PlanResult<()> {
    let ok = !section.is_empty()
        && section.len() <= 48
        && section.starts_with(|c: char| c.is_ascii_lowercase())
        && section
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(PlanError::invalid_argument(
            "section",
            format!("\"{section}\" is not a valid section name"),
            "Use 1-48 characters: a lowercase letter, then lowercase letters, digits or underscores (e.g. facebook_resource).",
        ))
    }
}

/// `name=value` storage parameters for new partitions; PostgreSQL checks the names and values
/// themselves when a partition is created.
pub fn check_storage(params: &[String]) -> PlanResult<()> {
    for p in params {
        let ok = p.split_once('=').is_some_and(|(n, v)| {
            n.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                && !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c))
        });
        let name = p.split_once('=').map(|(n, _)| n).unwrap_or(p);
        if ok
            && params
                .iter()
                .filter(|q| q.split_once('=').map(|(n, _)| n) == Some(name))
                .count()
                > 1
        {
            return Err(PlanError::invalid_argument(
                "storage_parameters",
                format!("{name} is given more than once"),
                "Give each storage parameter once.",
            ));
        }
        if !ok {
            return Err(PlanError::invalid_argument(
                "storage_parameters",
                format!("{p:?} is not a name=value storage parameter"),
                "Pass e.g. ARRAY['autovacuum_vacuum_scale_factor=0', 'autovacuum_vacuum_threshold=200000'], or '{}' for none.",
            ));
        }
    }
    Ok(())
}

pub fn check_vacuum(policy: Option<&str>, wait: Option<i32>) -> PlanResult<()> {
    if let Some(p) = policy {
        VacuumPolicy::parse("vacuum_policy", p)?;
    }
    if let Some(w) = wait {
        if !(0..=86_400).contains(&w) {
            return Err(PlanError::invalid_argument(
                "vacuum_wait",
                format!("{w} is out of range"),
                "Give 0 to 86400 seconds.",
            ));
        }
    }
    Ok(())
}

pub fn check_days(days: i32) -> PlanResult<()> {
    if (0..=3660).contains(&days) {
        Ok(())
    } else {
        Err(PlanError::invalid_argument(
            "days",
            format!("{days} is out of range"),
            "The default window is today minus days .. today; use 0 to 3660 days.",
        ))
    }
}

/// Splits `schema.table` into its parts. A part may be double-quoted (keeps dots, capitals and
/// doubled quotes); an unquoted part is folded to lower case, as PostgreSQL and Redshift read it.
pub fn parse_remote_table(remote: &str) -> PlanResult<(String, String)> {
    if remote.len() > 2 * MAX_NAME_BYTES + 5 {
        return Err(PlanError::invalid_argument(
            "remote_table",
            format!(
                "is {} bytes long, more than a schema.table name can be",
                remote.len()
            ),
            "Give table or schema.table, each part at most 127 bytes.",
        ));
    }
    let bad = |why: &str| {
        PlanError::invalid_argument(
            "remote_table",
            format!("\"{remote}\" is not a table name: {why}"),
            "Give table or schema.table; double-quote a part that holds dots or capitals, e.g. 'ads.\"Campaign.Report\"'.",
        )
    };
    let mut parts: Vec<String> = Vec::new();
    let mut chars = remote.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(bad("unterminated double quote")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' || c.is_whitespace() || c.is_control() {
                    return Err(bad(
                        "unexpected character; double-quote names with special characters",
                    ));
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(bad("empty name part"));
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some('.') => continue,
            Some(_) => return Err(bad("text after a closing double quote")),
        }
    }
    match parts.as_slice() {
        [table] => Ok(("public".to_string(), table.clone())),
        [schema, table] => Ok((schema.clone(), table.clone())),
        _ => Err(bad("more than two parts")),
    }
}

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// Whether foreign server `$1` exists.
pub const SERVER_EXISTS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname OPERATOR(pg_catalog.=) $1::pg_catalog.name)";

/// Whether foreign server `$1` has a user mapping for the current user or PUBLIC.
pub const USER_MAPPING_EXISTS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mappings WHERE srvname OPERATOR(pg_catalog.=) $1::pg_catalog.name
            AND (usename OPERATOR(pg_catalog.=) CURRENT_USER OR usename OPERATOR(pg_catalog.=) 'public'::pg_catalog.name))";

/// The configured sections' names, as a JSON array.
pub const SECTIONS_SQL: &str = "SELECT COALESCE(pg_catalog.json_agg(section ORDER BY section), '[]'::pg_catalog.json) FROM dm.section";

/// Whether section `$1` is configured.
pub const SECTION_EXISTS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM dm.section WHERE section OPERATOR(pg_catalog.=) $1::pg_catalog.text)";

/// Whether table `$1` has a (live, user) column `$2`.
pub const COLUMN_EXISTS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid
            AND attname OPERATOR(pg_catalog.=) $2::pg_catalog.name AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped)";

/// Table `$1`'s columns, quoted and comma-separated.
pub const COLUMN_NAMES_SQL: &str = "SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname), ', ' ORDER BY attnum) FROM pg_catalog.pg_attribute
          WHERE attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped";

/// Relation `$1`'s name as regclass prints it.
pub const REGCLASS_NAME_SQL: &str = "SELECT $1::pg_catalog.regclass::pg_catalog.text";

/// Relation `$1`'s relkind and relpersistence, as two letters.
pub const RELKIND_SQL: &str = "SELECT (SELECT relkind::pg_catalog.text OPERATOR(pg_catalog.||) relpersistence::pg_catalog.text FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid)";

/// Adds a section (`$1` name .. `$10` vacuum wait).
pub const INSERT_SECTION_SQL: &str = "INSERT INTO dm.section (section, account_column, account_table, days, mode, server, date_column, storage_parameters,
                                    vacuum_policy, vacuum_wait)
             VALUES ($1, $2, $3::pg_catalog.oid::pg_catalog.regclass, $4, $5, $6, $7, $8, COALESCE($9, 'wait'), COALESCE($10, 60))";

/// Changes section `$1`: each argument `$2`..`$10` that is not NULL.
pub const UPDATE_SECTION_SQL: &str = "UPDATE dm.section SET
                account_column = COALESCE($2, account_column),
                account_table  = COALESCE($3::pg_catalog.oid::pg_catalog.regclass, account_table),
                days           = COALESCE($4, days),
                mode           = COALESCE($5, mode),
                server         = COALESCE($6, server),
                date_column    = COALESCE($7, date_column),
                storage_parameters = COALESCE($8, storage_parameters),
                vacuum_policy  = COALESCE($9, vacuum_policy),
                vacuum_wait    = COALESCE($10, vacuum_wait),
                updated_at     = pg_catalog.now()
              WHERE section OPERATOR(pg_catalog.=) $1";

/// Removes section `$1`.
pub const DELETE_SECTION_SQL: &str =
    "DELETE FROM dm.section WHERE section OPERATOR(pg_catalog.=) $1";

/// Drops section `$1`'s generated procedure, as the extension's owner.
pub const DROP_GENERATED_SQL: &str = "SELECT dm._drop_generated($1::pg_catalog.text)";

/// Relation `$1`'s unqualified name.
pub const RELNAME_SQL: &str = "SELECT relname::pg_catalog.text FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid";

/// Adds mart table `$3` at position `$2` of section `$1`, read from `$4`.`$5`.
pub const INSERT_SECTION_TABLE_SQL: &str = "INSERT INTO dm.section_table (section, position, mart_table, remote_schema, remote_table, account_column)
             VALUES ($1, $2, $3::pg_catalog.oid::pg_catalog.regclass, $4, $5, $6)";

/// Removes mart table `$2` from section `$1`.
pub const DELETE_SECTION_TABLE_SQL: &str = "DELETE FROM dm.section_table WHERE section OPERATOR(pg_catalog.=) $1 AND mart_table OPERATOR(pg_catalog.=) $2::pg_catalog.oid::pg_catalog.regclass";

/// Moves section `$1`'s tables after position `$2` one place up.
pub const CLOSE_GAP_SQL: &str = "UPDATE dm.section_table SET position = (position OPERATOR(pg_catalog.-) 1) WHERE section OPERATOR(pg_catalog.=) $1 AND position OPERATOR(pg_catalog.>) $2";

/// Whether mart table `$1` is in a section.
pub const TABLE_CONFIGURED_SQL: &str = "SELECT EXISTS (SELECT 1 FROM dm.section_table t WHERE t.mart_table OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass)";

/// Declares that mart column `$2` of table `$1` reads remote column `$3`.
pub const DECLARE_COLUMN_SQL: &str = "INSERT INTO dm.column_map (mart_table, mart_column, remote_column) VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3)
             ON CONFLICT (mart_table, mart_column) DO UPDATE SET remote_column = EXCLUDED.remote_column, source = 'declared'";

/// Forgets the mapping of mart column `$2` of table `$1`; returns how many rows went.
pub const FORGET_COLUMN_SQL: &str = "WITH d AS (DELETE FROM dm.column_map WHERE mart_table OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass AND mart_column OPERATOR(pg_catalog.=) $2::pg_catalog.text RETURNING 1)
             SELECT pg_catalog.count(*) FROM d";

/// The sections mart table `$1` is in.
pub const SECTIONS_OF_TABLE_SQL: &str = "SELECT pg_catalog.array_agg(DISTINCT t.section) FROM dm.section_table t
                  WHERE t.mart_table OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass";
