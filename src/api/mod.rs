//! Every SQL entry point of pg_datamart (`#[pg_extern]`): thin functions that validate their
//! arguments, read the snapshot, call the planner and the executors, and raise typed errors.
//! Each is created in schema `dm` as `dm._<name>`, runs with `search_path = pg_catalog,
//! pg_temp`, and is wrapped by the public SQL API of `sql/api.sql`.

pub mod access;
pub mod config;
pub mod discover;
pub mod jobs;
pub mod procedures;
pub mod schedule;
pub mod sync;
