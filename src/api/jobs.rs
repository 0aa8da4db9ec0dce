//! Job control entry points: the pause switch and the watchdog (`crate::control`). The Rust
//! names of all entry points are kept from 0.1.0: they name the C symbols its SQL refers to.

use crate::control::guard;
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
fn watchdog() -> Result<
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
    report(|| crate::control::watchdog::run().map(TableIterator::new))
}
