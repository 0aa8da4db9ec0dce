//! Column mapping discovery: reads each warehouse table's columns (its
//! `information_schema.columns`, which Redshift also has), matches them to the mart columns
//! with `pg_datamart_plan::discover`, stores the matches that need a mapping and reports per
//! table.

use crate::catalog::{self, read_json};
use crate::error::{required, SpiContext, SECTION_HINT};
use pg_datamart_plan::discover::match_columns;
use pg_datamart_plan::quote;
use pg_datamart_plan::MappingSource;
use pgrx::prelude::*;
use std::collections::BTreeMap;

/// Discovers the mappings of every table of a section, stores those that are needed (keeping
/// declared ones), and reports per table.
#[allow(clippy::type_complexity)]
#[pg_extern(schema = "dm", name = "_discover_columns")]
#[search_path(pg_catalog, pg_temp)]
fn discover_columns(
    section: Option<&str>,
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
        let section = required(section, "section", SECTION_HINT)?;
        let s = catalog::section(section)?;
        // It stores mappings of the section's tables: asks what registering them asks.
        crate::control::privileges::check_sync(&s, s.mode)?;
        crate::exec::warehouse::check_source(&s.server)?;
        let mut rows = Vec::new();
        for t in &s.tables {
            let mart =
                catalog::mart_table(t.mart_table, &format!("mart table {}", t.mart_table_name))?;
            let declared: BTreeMap<String, String> = read_json(
                pg_datamart_plan::discover::DECLARED_SQL,
                &[pgrx::pg_sys::Oid::from(t.mart_table).into()],
                "declared mappings",
            )?
            .unwrap_or_default();
            let remote = crate::exec::warehouse::remote_columns(&s.server, t)?;
            let report = match_columns(&mart, &declared, &remote)?;
            Spi::run_with_args(
                pg_datamart_plan::discover::FORGET_DISCOVERED_SQL,
                &[pgrx::pg_sys::Oid::from(t.mart_table).into()],
            )
            .doing("replacing discovered mappings")?;
            for (m, r, how) in &report.mapped {
                if how.source() == MappingSource::Discovered {
                    Spi::run_with_args(
                        pg_datamart_plan::discover::RECORD_DISCOVERED_SQL,
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
                report
                    .declared_missing
                    .iter()
                    .map(|(m, r)| {
                        format!("{m} (declared as \"{r}\", which the warehouse table lacks)")
                    })
                    .chain(show(&report.unmatched_mart, " candidates: "))
                    .collect(),
                report.unmatched_remote.clone(),
                show(&report.ambiguous, ": "),
            ));
        }
        Ok(TableIterator::new(rows))
    })
}
