//! The only place SQL text meets values. Everything that builds SQL calls these helpers;
//! nothing else concatenates user input into a statement.
//!
//! Identifiers are always double-quoted, on both sides of the dblink: Redshift and PostgreSQL
//! read `"end"`, `"user"` and `"campaign.id"` alike, and a name is never re-cased.
//! The remote query cannot take bind parameters, so its literals go through
//! [`remote_literal`], which accepts only values validated beforehand.

use crate::error::{DmError, DmResult};

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

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A string literal for the local server, with PostgreSQL's own `quote_literal` rules
/// (an `E''` string when the value holds a backslash).
pub fn local_literal(value: &str) -> String {
    pgrx::spi::quote_literal(value)
}

/// A string literal for the warehouse (Redshift dialect): single quotes doubled. Backslashes
/// and control characters are refused, because Redshift may read a backslash as an escape;
/// callers validate values first, so this is the last fence, not the validator.
pub fn remote_literal(value: &str) -> DmResult<String> {
    if let Some(bad) = value.chars().find(|c| *c == '\\' || c.is_control()) {
        return Err(DmError::invalid_argument(
            "value",
            format!("{value:?} holds the character {bad:?}, which cannot be sent to the warehouse as a literal"),
            "Use only printable characters without backslashes in values sent to the warehouse.",
        ));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

/// `(a, b, c)` of remote literals, for `IN` lists.
pub fn remote_literal_list(values: &[String]) -> DmResult<String> {
    let items: DmResult<Vec<String>> = values.iter().map(|v| remote_literal(v)).collect();
    Ok(format!("({})", items?.join(", ")))
}

/// `(a, b, c)` of local literals, for `IN` lists.
pub fn local_literal_list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| local_literal(v)).collect();
    format!("({})", items.join(", "))
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    #[pg_test]
    fn identifiers_are_always_quoted() {
        assert_eq!(ident("end"), "\"end\"");
        assert_eq!(ident("campaign.id"), "\"campaign.id\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(ident("CamelCase"), "\"CamelCase\"");
        assert_eq!(qualified("public", "user"), "\"public\".\"user\"");
    }

    #[pg_test]
    fn remote_literals_double_quotes_and_refuse_escapes() {
        assert_eq!(remote_literal("123").unwrap(), "'123'");
        assert_eq!(remote_literal("o'neil").unwrap(), "'o''neil'");
        assert!(remote_literal("a\\b").is_err());
        assert!(remote_literal("a\nb").is_err());
        assert_eq!(
            remote_literal_list(&["1".into(), "2".into()]).unwrap(),
            "('1', '2')"
        );
    }

    #[pg_test]
    fn local_literals_follow_postgres() {
        assert_eq!(local_literal("it's"), "'it''s'");
        assert_eq!(local_literal("a\\b"), "E'a\\\\b'");
        // the quoted form reads back as the same value
        let sql = format!("SELECT {}::text", local_literal("x'; DROP TABLE t; --\\"));
        assert_eq!(
            Spi::get_one::<String>(&sql).unwrap().unwrap(),
            "x'; DROP TABLE t; --\\"
        );
    }
}
