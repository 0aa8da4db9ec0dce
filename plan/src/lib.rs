//! pg_datamart's planner: every SQL statement a sync runs, built in one place from a snapshot
//! of what it needs, with no SPI and no I/O, so all of it is tested with plain `cargo test`.
//!
//! The journey: [`snapshot`] (section, mart tables' catalog, schemas) and [`window`] (accounts
//! and dates of the request) -> [`table`] (remote SQL, column list, fetch connection, load
//! statements, ANALYZE) with [`partition`] (monthly partition DDL) -> [`status`] (run and step
//! rows, notifications) and [`control`] (locks, watchdog, cron command); [`procedures`] renders
//! generated procedures from the same plans and [`discover`] matches warehouse column names.
//! [`quote`] is the only place names and values become SQL text; [`domain`] holds the closed
//! sets (modes, policies, statuses).

pub mod access;
pub mod config;
pub mod control;
pub mod discover;
pub mod domain;
pub mod error;
pub mod partition;
pub mod procedures;
pub mod quote;
pub mod snapshot;
pub mod status;
pub mod table;
pub mod window;

pub use domain::{
    Access, Closed, Failure, MappingSource, Mode, RunStatus, StepStatus, VacuumPolicy,
};
pub use error::{Code, PlanError, PlanResult};
