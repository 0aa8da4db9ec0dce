//! Column mapping discovery: matches a mart table's columns to its warehouse table's columns
//! by normalising names (exact, case, dots, camelCase, run-together, 63-byte truncation), and
//! says, after a failed load, which mart column has no warehouse column.

use crate::error::PlanResult;
use crate::quote;
use crate::snapshot::{MartTable, SectionTable};
use heck::ToSnakeCase;
use std::collections::BTreeMap;

/// How a warehouse name relates to a mart name, best first.
const LEVELS: &[&str] = &[
    "exact",
    "case",
    "dots",
    "camelCase",
    "run-together",
    "truncated",
];

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// PostgreSQL keeps the first 63 bytes of an identifier.
pub fn truncate63(s: &str) -> &str {
    let mut cut = s.len().min(63);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// Does warehouse column `remote` match mart column `mart` at `level`?
pub fn matches(level: usize, mart: &str, remote: &str) -> bool {
    let dotted = remote.to_lowercase().replace('.', "_");
    let snake = remote.replace('.', "_").to_snake_case();
    match level {
        0 => mart == remote,
        1 => mart.to_lowercase() == remote.to_lowercase(),
        2 => mart.to_lowercase() == dotted,
        3 => mart == snake,
        4 => !squash(mart).is_empty() && squash(mart) == squash(remote),
        _ => mart.len() == 63 && (truncate63(&dotted) == mart || truncate63(&snake) == mart),
    }
}

/// How a mapped column was found: declared (dm_map_column), or discovered at a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Declared,
    Discovered(&'static str),
}

impl Matched {
    pub fn source(self) -> crate::domain::MappingSource {
        match self {
            Matched::Declared => crate::domain::MappingSource::Declared,
            Matched::Discovered(_) => crate::domain::MappingSource::Discovered,
        }
    }
}

impl std::fmt::Display for Matched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matched::Declared => f.write_str("declared"),
            Matched::Discovered(level) => f.write_str(level),
        }
    }
}

/// The result for one table.
#[derive(Debug, Default)]
pub struct Report {
    pub matched: Vec<String>,
    /// (mart column, warehouse column, how it matched).
    pub mapped: Vec<(String, String, Matched)>,
    /// Mart columns without a warehouse column, with candidates.
    pub unmatched_mart: Vec<(String, Vec<String>)>,
    /// Mart columns declared (dm_map_column) as a warehouse column the table lacks.
    pub declared_missing: Vec<(String, String)>,
    pub unmatched_remote: Vec<String>,
    pub ambiguous: Vec<(String, Vec<String>)>,
}

/// Candidates for an unmatched mart column: unclaimed warehouse columns whose squashed names
/// contain one another.
fn near(mart: &str, remotes: &[&String]) -> Vec<String> {
    let m = squash(mart);
    remotes
        .iter()
        .filter(|r| {
            let s = squash(r);
            !s.is_empty() && !m.is_empty() && (s.contains(&m) || m.contains(&s))
        })
        .map(|r| r.to_string())
        .collect()
}

/// Matches a mart table's fetched columns against the warehouse's columns.
pub fn match_columns(
    mart: &MartTable,
    declared: &BTreeMap<String, String>,
    remote: &[String],
) -> PlanResult<Report> {
    let mut report = Report::default();
    let mut claims: Vec<(String, String, usize)> = Vec::new(); // (mart, remote, level)
    for col in mart.fetched_columns()? {
        let m = col.mart.as_str();
        if let Some(r) = declared.get(m) {
            if remote.contains(r) {
                claims.push((m.to_string(), r.clone(), usize::MAX));
            } else {
                report.declared_missing.push((m.to_string(), r.clone()));
            }
            continue;
        }
        let mut found = None;
        for level in 0..LEVELS.len() {
            let cands: Vec<&String> = remote.iter().filter(|r| matches(level, m, r)).collect();
            if !cands.is_empty() {
                found = Some((level, cands));
                break;
            }
        }
        match found {
            Some((level, c)) if c.len() == 1 => claims.push((m.to_string(), c[0].clone(), level)),
            Some((_, c)) => report
                .ambiguous
                .push((m.to_string(), c.into_iter().cloned().collect())),
            None => report.unmatched_mart.push((m.to_string(), vec![])),
        }
    }
    // A warehouse column claimed twice goes to its best (lowest-level) claim.
    claims.sort_by_key(|(_, _, level)| if *level == usize::MAX { 0 } else { *level + 1 });
    let mut taken: Vec<String> = Vec::new();
    for (m, r, level) in claims {
        if taken.contains(&r) {
            report.unmatched_mart.push((m, vec![]));
            continue;
        }
        taken.push(r.clone());
        if level == usize::MAX {
            report.mapped.push((m, r, Matched::Declared));
        } else if m == r {
            report.matched.push(m);
        } else {
            report
                .mapped
                .push((m, r, Matched::Discovered(LEVELS[level])));
        }
    }
    let unclaimed: Vec<&String> = remote.iter().filter(|r| !taken.contains(r)).collect();
    for (m, cands) in report.unmatched_mart.iter_mut() {
        *cands = near(m, &unclaimed);
    }
    // Warehouse columns no mart column takes (the ones that ambiguous columns could take count).
    report.unmatched_remote = unclaimed
        .into_iter()
        .filter(|r| !report.ambiguous.iter().any(|(_, c)| c.contains(r)))
        .cloned()
        .collect();
    Ok(report)
}

/// Why a table's load failed on a missing column, in words: the mart columns the warehouse
/// table lacks (with candidates), and those discovery would map. Used after a load failed
/// with undefined_column; None when the catalogs do not explain it.
pub fn explain_missing(
    mart: &MartTable,
    table: &SectionTable,
    remote: &[String],
) -> Option<String> {
    let report = match_columns(mart, &BTreeMap::new(), remote).ok()?;
    let lacks = |name: &str| !remote.iter().any(|r| r == mart.remote_name(name));
    let missing: Vec<String> = report
        .unmatched_mart
        .iter()
        .chain(report.ambiguous.iter())
        .filter(|(m, _)| lacks(m))
        .map(|(m, c)| {
            if c.is_empty() {
                format!("\"{m}\" (no candidate)")
            } else {
                format!("\"{m}\" (candidates: {})", c.join(", "))
            }
        })
        .collect();
    let mappable: Vec<String> = report
        .mapped
        .iter()
        .filter(|(m, _, _)| lacks(m))
        .map(|(m, r, _)| format!("{m} <- {}", quote::ident(r)))
        .collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "mart column(s) {} of {} have no column in the warehouse table {}",
            missing.join(", "),
            mart.display_name(),
            quote::qualified(&table.remote_schema, &table.remote_table)
        ));
    }
    if !mappable.is_empty() {
        parts.push(format!(
            "unmapped column(s) dm_discover_columns would map: {}",
            mappable.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// Mart table `$1`'s declared column mappings, as a JSON object mart column -> remote column.
pub const DECLARED_SQL: &str = "SELECT COALESCE(pg_catalog.json_object_agg(mart_column, remote_column), '{}'::pg_catalog.json)
                   FROM dm.column_map WHERE mart_table OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass AND source OPERATOR(pg_catalog.=) 'declared'::pg_catalog.text";

/// Forgets mart table `$1`'s discovered column mappings.
pub const FORGET_DISCOVERED_SQL: &str = "DELETE FROM dm.column_map WHERE mart_table OPERATOR(pg_catalog.=) $1::pg_catalog.oid::pg_catalog.regclass AND source OPERATOR(pg_catalog.=) 'discovered'::pg_catalog.text";

/// Records a discovered mapping: mart table `$1`, mart column `$2`, remote column `$3`.
pub const RECORD_DISCOVERED_SQL: &str =
    "INSERT INTO dm.column_map (mart_table, mart_column, remote_column, source)
                         VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3, 'discovered')";
