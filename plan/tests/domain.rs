//! The closed sets of `domain`: names parse back, unknown names are refused with the valid
//! ones listed, and the SQL CHECK constraints and the docs (README.md, docs/*.md) agree with
//! `Closed::ALL`.

mod common;

use pg_datamart_plan::domain::Failure;
use pg_datamart_plan::{Access, Closed, MappingSource, Mode, RunStatus, StepStatus, VacuumPolicy};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Display;

/// Every member parses back from its name, displays and serializes as that name, and an
/// unknown name is refused with the argument and every valid name in the message.
fn closed_set_round_trips<T>(expected: &[&str])
where
    T: Closed + PartialEq + std::fmt::Debug + Display + Serialize + DeserializeOwned,
{
    assert_eq!(T::names(), expected, "{}", T::WHAT);
    for m in T::ALL {
        let name = m.as_str();
        assert_eq!(T::parse("arg", name).unwrap(), *m);
        assert_eq!(m.to_string(), name);
        assert_eq!(serde_json::to_string(m).unwrap(), format!("\"{name}\""));
        assert_eq!(
            serde_json::from_str::<T>(&format!("\"{name}\"")).unwrap(),
            *m
        );
    }
    let mut unknown: Vec<String> = vec!["".into(), "nope".into(), " x".into(), "'; --".into()];
    unknown.extend(
        expected
            .iter()
            .flat_map(|n| [n.to_uppercase(), format!(" {n}"), format!("{n} ")]),
    );
    for bad in unknown {
        let e = T::parse("the_argument", &bad).unwrap_err();
        assert_eq!(e.code.sqlstate(), "22023");
        assert!(e.message.starts_with("the_argument: "), "{}", e.message);
        assert!(
            e.message
                .contains(&format!("(valid: {})", expected.join(", "))),
            "{}",
            e.message
        );
        assert!(e.hint.contains(&expected.join(", ")), "{}", e.hint);
        assert!(serde_json::from_str::<T>(&format!("{bad:?}")).is_err());
    }
}

#[test]
fn mode_round_trips() {
    closed_set_round_trips::<Mode>(&["delete_insert", "upsert"]);
}

#[test]
fn vacuum_policy_round_trips() {
    closed_set_round_trips::<VacuumPolicy>(&["wait", "skip", "proceed"]);
}

#[test]
fn run_status_round_trips() {
    closed_set_round_trips::<RunStatus>(&[
        "running",
        "succeeded",
        "failed",
        "skipped",
        "cancelled",
    ]);
}

#[test]
fn step_status_round_trips() {
    closed_set_round_trips::<StepStatus>(&[
        "pending",
        "running",
        "succeeded",
        "failed",
        "skipped",
        "cancelled",
    ]);
}

#[test]
fn mapping_source_round_trips() {
    closed_set_round_trips::<MappingSource>(&["declared", "discovered"]);
}

#[test]
fn access_round_trips() {
    closed_set_round_trips::<Access>(&["monitor", "loader", "admin"]);
}

/// A failed or cancelled run may be resumed, nothing else; a failure's step and run statuses
/// agree.
#[test]
fn failures_and_resumable_runs() {
    let resumable: Vec<&str> = RunStatus::ALL
        .iter()
        .filter(|s| s.resumable())
        .map(|s| s.as_str())
        .collect();
    assert_eq!(resumable, ["failed", "cancelled"]);
    for f in [Failure::Failed, Failure::Cancelled] {
        assert_eq!(f.step().as_str(), f.run().as_str());
        assert!(f.run().resumable());
    }
}

fn schema_sql() -> String {
    let path = common::manifest_dir().join("../sql/schema.sql");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text from `open` (an opening parenthesis) to its matching `)`, exclusive, skipping
/// string literals.
fn balanced(s: &str, open: usize) -> &str {
    let b = s.as_bytes();
    assert_eq!(b[open], b'(');
    let (mut depth, mut i, mut in_str) = (0, open, false);
    while i < b.len() {
        match b[i] {
            b'\'' => in_str = !in_str,
            b'(' if !in_str => depth += 1,
            b')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced parenthesis at {open}");
}

/// Splits at commas outside parentheses and literals.
fn top_level_items(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start, mut in_str) = (Vec::new(), 0, 0, false);
    for (i, ch) in s.char_indices() {
        match ch {
            '\'' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The body of the CHECK constraint of `table.column` in sql/schema.sql, whitespace
/// normalized.
fn column_check(schema: &str, table: &str, column: &str) -> String {
    let head = format!("CREATE TABLE {table} (");
    let at = schema
        .find(&head)
        .unwrap_or_else(|| panic!("schema.sql has no {head}"));
    let body = balanced(schema, at + head.len() - 1);
    let def = top_level_items(body)
        .into_iter()
        .find(|d| d.split_whitespace().next() == Some(column))
        .unwrap_or_else(|| panic!("{table} has no column {column}"));
    let check = def
        .find("CHECK")
        .unwrap_or_else(|| panic!("{table}.{column} has no CHECK"));
    let open = check + def[check..].find('(').unwrap();
    normalize(balanced(def, open))
}

/// The CHECK constraints of sql/schema.sql on the columns holding closed sets are exactly
/// `Closed::check_sql(column)` (after normalizing whitespace).
#[test]
fn schema_checks_match_the_closed_sets() {
    let schema = schema_sql();
    let expect = [
        ("dm.section", "mode", Mode::check_sql("mode")),
        (
            "dm.section",
            "vacuum_policy",
            VacuumPolicy::check_sql("vacuum_policy"),
        ),
        ("dm.run", "status", RunStatus::check_sql("status")),
        ("dm.run_step", "status", StepStatus::check_sql("status")),
        (
            "dm.column_map",
            "source",
            MappingSource::check_sql("source"),
        ),
        ("dm.access", "access", Access::check_sql("access")),
    ];
    for (table, column, check_sql) in expect {
        assert_eq!(
            column_check(&schema, table, column),
            normalize(&check_sql),
            "CHECK of {table}.{column} in sql/schema.sql"
        );
    }
}

/// `check_sql` is a plain `column IN ('a', 'b')` over every member, in order.
#[test]
fn check_sql_lists_every_member() {
    assert_eq!(
        Mode::check_sql("mode"),
        "mode IN ('delete_insert', 'upsert')"
    );
    let toks = common::tokenize(&RunStatus::check_sql("status")).unwrap();
    assert_eq!(common::literals(&toks), RunStatus::names());
}

/// The docs (README.md and docs/*.md) name every mode, VACUUM policy and run status (as a
/// whole word).
#[test]
fn docs_mention_every_mode_policy_and_run_status() {
    let docs: String = common::docs().into_iter().map(|(_, text)| text).collect();
    let words: std::collections::HashSet<&str> = docs
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let names = Mode::names()
        .into_iter()
        .chain(VacuumPolicy::names())
        .chain(RunStatus::names());
    for n in names {
        assert!(
            words.contains(n),
            "neither README.md nor docs/*.md mentions {n}"
        );
    }
}
