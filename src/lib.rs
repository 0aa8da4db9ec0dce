//! pg_datamart: keeps a PostgreSQL data mart in sync with an Amazon Redshift warehouse.
//!
//! The modules follow the data's journey:
//! `section` (what to sync) -> `window` (which accounts and dates) -> `catalog` (the mart
//! table's columns, read at call time) -> `sqlgen` (remote query, column definitions, local
//! statements) -> `fetch` (the dblink source) -> `load` (set-based writes) -> `status` (run
//! history and progress) -> `sync` (the per-table driver behind `CALL dm_sync`).
//! SQL objects: `sql/schema.sql` (tables), `sql/api.sql` (the public API), `sql/sync.sql`.

// Returning pgrx's ErrorReport by value is how a #[pg_extern] raises a typed SQLSTATE; its size
// does not matter on this path (one per failed call).
#![allow(clippy::result_large_err)]

use pgrx::prelude::*;

pub mod catalog;
pub mod discover;
pub mod error;
pub mod fetch;
pub mod guard;
pub mod gucs;
pub mod load;
pub mod partition;
pub mod procedures;
pub mod quote;
pub mod schedule;
pub mod section;
pub mod sqlgen;
pub mod status;
pub mod sync;
pub mod watchdog;
pub mod window;

::pgrx::pg_module_magic!(name, version);

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!("../sql/api.sql", name = "api", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
