//! Job control entry points: the pause switch and the watchdog (`crate::control`).

use crate::control::{guard, watchdog};
use crate::error::report;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

#[pg_extern(schema = "dm", name = "_pause")]
#[search_path(pg_catalog, pg_temp)]
fn pause(section: Option<&str>) -> Result<String, ErrorReport> {
    report(|| guard::set_pause(section, true))
}

#[pg_extern(schema = "dm", name = "_unpause")]
#[search_path(pg_catalog, pg_temp)]
fn unpause(section: Option<&str>) -> Result<String, ErrorReport> {
    report(|| guard::set_pause(section, false))
}

#[allow(clippy::type_complexity)]
#[pg_extern(schema = "dm", name = "_watchdog")]
#[search_path(pg_catalog, pg_temp)]
fn run_watchdog() -> Result<
    TableIterator<
        'static,
        (
            name!(run_id, Option<i64>),
            name!(section, String),
            name!(action, String),
            name!(detail, String),
        ),
    >,
    ErrorReport,
> {
    report(|| watchdog::run().map(TableIterator::new))
}
