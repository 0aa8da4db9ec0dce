//! A run's lifecycle, as the PL/pgSQL driver of `sql/api.sql` calls it (a Rust function
//! cannot COMMIT, so the driver holds the transactions):
//!
//! 1. `begin` — `dm_sync` / `dm_resume`: validate the request, record the run with one pending
//!    step per table, lock, and plan every table (a broken definition fails before any data
//!    moves); a paused section, a ban or a busy lock skips the run, recorded.
//! 2. `step` — `dm._run_steps`, once per table: lock the table, plan it (once; see `table`),
//!    load it in the driver's transaction, and remember how it ended.
//! 3. `end` — after the driver's COMMIT or ROLLBACK: record the step as done, failed or
//!    cancelled (a failure or a cancel ends the run), and finally the run's success.
//!
//! `table` is the per-table state: a table's plan, what it was planned from, the warehouse
//! timeout of its pulls, and the hand-over of the next table's plan (its query prefetched)
//! from one step to the next. Below this stage: `exec` runs a plan, `control` holds the locks
//! and policies, `status` records the run.

pub mod begin;
pub mod end;
pub mod step;
pub mod table;
