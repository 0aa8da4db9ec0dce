//! The only place SQL text meets names and values. Everything the planner builds goes through
//! these helpers; nothing else concatenates input into a statement.
//!
//! Identifiers are always double-quoted, on both sides of the dblink: Redshift and PostgreSQL
//! read `"end"`, `"user"` and `"campaign.id"` alike, and a name is never re-cased.
//! The remote query cannot take bind parameters, so its literals go through
//! [`remote_literal`], which accepts only values validated beforehand.

use crate::error::{PlanError, PlanResult};

/// `name` as a double-quoted identifier, embedded double quotes doubled.
pub fn ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for ch in name.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// `OPERATOR(pg_catalog.<op>)`.
pub fn op(op: &str) -> String {
    format!("OPERATOR(pg_catalog.{op})")
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// `schema.name` as people read it (each part quoted only where needed), for messages.
pub fn display(schema: &str, name: &str) -> String {
    format!("{}.{}", display_ident(schema), display_ident(name))
}

/// A name as people read it: bare when it is a plain lowercase identifier, else quoted.
pub fn display_ident(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        ident(s)
    }
}

/// A string literal for the local server, with PostgreSQL's own `quote_literal` rules: quotes
/// doubled, and an `E''` string with doubled backslashes when the value holds a backslash (so
/// it reads back the same whatever `standard_conforming_strings` says).
pub fn local_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    if value.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for ch in value.chars() {
        if ch == '\'' || ch == '\\' {
            out.push(ch);
        }
        out.push(ch);
    }
    out.push('\'');
    out
}

/// A local literal, or `NULL`.
pub fn local_literal_opt(value: Option<&str>) -> String {
    value.map(local_literal).unwrap_or_else(|| "NULL".into())
}

/// `ARRAY['a', 'b']::pg_catalog.text[]` (or an empty text array).
pub fn local_text_array(values: &[String]) -> String {
    if values.is_empty() {
        "'{}'::pg_catalog.text[]".to_string()
    } else {
        let items: Vec<String> = values.iter().map(|v| local_literal(v)).collect();
        format!("ARRAY[{}]::pg_catalog.text[]", items.join(", "))
    }
}

/// A string literal for the warehouse (Redshift dialect): single quotes doubled. Backslashes
/// and control characters are refused, because Redshift may read a backslash as an escape;
/// callers validate values first, so this is the last fence, not the validator.
pub fn remote_literal(value: &str) -> PlanResult<String> {
    if let Some(bad) = value.chars().find(|c| *c == '\\' || c.is_control()) {
        return Err(PlanError::invalid_argument(
            "value",
            format!("{value:?} holds the character {bad:?}, which cannot be sent to the warehouse as a literal"),
            "Use only printable characters without backslashes in values sent to the warehouse.",
        ));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

/// `(a, b, c)` of remote literals, for `IN` lists.
pub fn remote_literal_list(values: &[String]) -> PlanResult<String> {
    let items: PlanResult<Vec<String>> = values.iter().map(|v| remote_literal(v)).collect();
    Ok(format!("({})", items?.join(", ")))
}

/// A libpq conninfo value: single-quoted, with `\` and `'` backslash-escaped.
pub fn conninfo_value(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}
