//! pg_datamart: keeps a PostgreSQL data mart in sync with an Amazon Redshift warehouse.
//!
//! The modules follow the data's journey:
//! `api` (every SQL entry point, thin) -> `run` (a sync's lifecycle: begin, one step per
//! table, end; each table planned once per step from the `catalog` snapshot by the pure
//! planner crate `pg_datamart_plan`) -> `exec` (warehouse connection, reader, COPY, load,
//! partitions) -> `control` (locks, pause, bans, VACUUM policy, privileges, watchdog) ->
//! `status` (run history and progress, written by the sync's status writer, a background
//! worker) -> `catalog` (the snapshot: section, mart tables' catalog, schemas).
//! SQL objects: `sql/schema.sql` (tables), `sql/api.sql` (the public API and the driver).
//! Every entry point runs with `search_path = pg_catalog, pg_temp`; private helpers live in
//! schema `dm`, not executable by PUBLIC.

// Returning pgrx's ErrorReport by value is how a #[pg_extern] raises a typed SQLSTATE; its size
// does not matter on this path (one per failed call).
#![allow(clippy::result_large_err)]

use pgrx::prelude::*;

pub mod api;
pub mod catalog;
pub mod control;
pub mod error;
pub mod exec;
pub mod gucs;
pub mod run;
pub mod status;

::pgrx::pg_module_magic!(name, version);

/// Schema `dm` (created by `sql/schema.sql`): pg_datamart's tables and private helpers. Declared
/// here so that `#[pg_extern(schema = "dm")]` entry points can be placed in it.
#[pg_schema]
pub mod dm {}

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!("../sql/api.sql", name = "api", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // A Rust backtrace never belongs in an error, a notice or a status row, whatever the
    // server's environment says (RUST_BACKTRACE=1 would make pgrx append one to every error):
    // RUST_LIB_BACKTRACE overrides it for the backtraces errors capture. Set before any thread
    // of this backend exists, and before any backtrace is captured.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
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
