//! Column mapping discovery: matches a mart table's columns to its warehouse table's columns
//! (read from the warehouse's `information_schema.columns`, which Redshift also has) by
//! normalising names, stores the matches that need a mapping, and reports what matched, what
//! was mapped, what is missing on either side and what is ambiguous. Also explains, after a
//! failed load, which mart column has no warehouse column.

use crate::catalog::{read_json, MartTable};
use crate::error::{DmResult, SpiContext};
use crate::quote;
use crate::section::{Section, SectionTable};
use heck::ToSnakeCase;
use pgrx::prelude::*;
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
fn truncate63(s: &str) -> &str {
    let mut cut = s.len().min(63);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// Does warehouse column `remote` match mart column `mart` at `level`?
fn matches(level: usize, mart: &str, remote: &str) -> bool {
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

/// The result for one table.
#[derive(Debug, Default)]
pub struct Report {
    pub matched: Vec<String>,
    pub mapped: Vec<(String, String, &'static str)>,
    pub unmatched_mart: Vec<(String, Vec<String>)>,
    pub unmatched_remote: Vec<String>,
    pub ambiguous: Vec<(String, Vec<String>)>,
}

/// The warehouse's columns of a table, in order.
pub fn remote_columns(server: &str, table: &SectionTable) -> DmResult<Vec<String>> {
    let dblink = crate::catalog::extension_schema("dblink")?;
    let remote_sql = format!(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = {} AND table_name = {} ORDER BY ordinal_position",
        quote::remote_literal(&table.remote_schema)?,
        quote::remote_literal(&table.remote_table)?
    );
    let cols: Option<Vec<String>> = read_json(
        &format!(
            "SELECT COALESCE(json_agg(t.column_name), '[]'::json) FROM {dblink}.dblink({}, {}) AS t(column_name text)",
            quote::local_literal(server),
            quote::local_literal(&remote_sql)
        ),
        &[],
        "the warehouse's columns",
    )?;
    Ok(cols.unwrap_or_default())
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
) -> DmResult<Report> {
    let mut report = Report::default();
    let mut claims: Vec<(String, String, usize)> = Vec::new(); // (mart, remote, level)
    for col in mart.fetched_columns()? {
        let m = col.mart.as_str();
        if let Some(r) = declared.get(m) {
            if remote.contains(r) {
                claims.push((m.to_string(), r.clone(), usize::MAX));
            } else {
                report.unmatched_mart.push((
                    format!("{m} (declared as \"{r}\", which the warehouse table lacks)"),
                    vec![],
                ));
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
            report.mapped.push((m, r, "declared"));
        } else if m == r {
            report.matched.push(m);
        } else {
            report.mapped.push((m, r, LEVELS[level]));
        }
    }
    let unclaimed: Vec<&String> = remote.iter().filter(|r| !taken.contains(r)).collect();
    for (m, cands) in report.unmatched_mart.iter_mut() {
        let name = m.split(' ').next().unwrap_or(m).to_string();
        *cands = near(&name, &unclaimed);
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
pub fn explain_missing(section: &Section, table: &SectionTable) -> Option<String> {
    let mart = MartTable::load(table.mart_table, &table.mart_table_name).ok()?;
    let remote = remote_columns(&section.server, table).ok()?;
    let report = match_columns(&mart, &BTreeMap::new(), &remote).ok()?;
    let lacks = |name: &str| !remote.iter().any(|r| r == mart.remote_name(name));
    let missing: Vec<String> = report
        .unmatched_mart
        .iter()
        .chain(report.ambiguous.iter())
        .filter(|(m, _)| lacks(m.split(' ').next().unwrap_or(m)))
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

/// Discovers the mappings of every table of a section, stores those that are needed (keeping
/// declared ones), and reports per table.
#[allow(clippy::type_complexity)]
#[pg_extern(name = "_dm_discover_columns")]
fn discover_columns(
    section: &str,
) -> Result<
    TableIterator<
        'static,
        (
            name!(mart_table, pgrx::pg_sys::Oid),
            name!(matched, Vec<String>),
            name!(mapped, Vec<String>),
            name!(unmatched_mart, Vec<String>),
            name!(unmatched_remote, Vec<String>),
            name!(ambiguous, Vec<String>),
        ),
    >,
    pgrx::pg_sys::panic::ErrorReport,
> {
    crate::error::report(|| {
        let s = Section::load(section)?;
        crate::fetch::check_source(&s.server)?;
        let mut rows = Vec::new();
        for t in &s.tables {
            let mart = MartTable::load(t.mart_table, &format!("mart table {}", t.mart_table_name))?;
            let declared: BTreeMap<String, String> = read_json(
                "SELECT COALESCE(json_object_agg(mart_column, remote_column), '{}'::json)
                   FROM dm.column_map WHERE mart_table = $1::oid::regclass AND source = 'declared'",
                &[pgrx::pg_sys::Oid::from(t.mart_table).into()],
                "declared mappings",
            )?
            .unwrap_or_default();
            let remote = remote_columns(&s.server, t)?;
            let report = match_columns(&mart, &declared, &remote)?;
            Spi::run_with_args(
                "DELETE FROM dm.column_map WHERE mart_table = $1::oid::regclass AND source = 'discovered'",
                &[pgrx::pg_sys::Oid::from(t.mart_table).into()],
            )
            .doing("replacing discovered mappings")?;
            for (m, r, how) in &report.mapped {
                if *how != "declared" {
                    Spi::run_with_args(
                        "INSERT INTO dm.column_map (mart_table, mart_column, remote_column, source)
                         VALUES ($1::oid::regclass, $2, $3, 'discovered')",
                        &[
                            pgrx::pg_sys::Oid::from(t.mart_table).into(),
                            m.as_str().into(),
                            r.as_str().into(),
                        ],
                    )
                    .doing("storing a discovered mapping")?;
                }
            }
            let show = |v: &[(String, Vec<String>)], sep: &str| -> Vec<String> {
                v.iter()
                    .map(|(m, c)| {
                        if c.is_empty() {
                            m.clone()
                        } else {
                            format!("{m}{sep}{}", c.join(" | "))
                        }
                    })
                    .collect()
            };
            rows.push((
                pgrx::pg_sys::Oid::from(t.mart_table),
                report.matched.clone(),
                report
                    .mapped
                    .iter()
                    .map(|(m, r, how)| format!("{m} <- {} ({how})", quote::ident(r)))
                    .collect(),
                show(&report.unmatched_mart, " candidates: "),
                report.unmatched_remote.clone(),
                show(&report.ambiguous, ": "),
            ));
        }
        Ok(TableIterator::new(rows))
    })
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;

    #[pgrx::pg_test]
    fn names_normalise() {
        assert!(matches(2, "campaign_id", "campaign.id"));
        assert!(matches(2, "metrics_clicks", "Metrics.Clicks"));
        assert!(matches(3, "ncc_keyword_id", "nccKeywordId"));
        assert!(matches(4, "customer_id", "customerid"));
        let long = "a".repeat(70);
        assert!(matches(5, truncate63(&long), &long));
        assert!(!matches(0, "a", "A"));
    }
}
