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
