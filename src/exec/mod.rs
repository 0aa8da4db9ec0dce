//! Executors: they run the planner's statements and nothing else. `fetch` checks the
//! warehouse path, `partition` runs the DEFAULT-partition checks, `load` runs a table's plan,
//! `as_owner` runs its partition DDL and ANALYZE as the table's owner.

pub mod as_owner;
pub mod fetch;
pub mod load;
pub mod partition;
pub mod producer;
pub mod stream;
pub mod upsert;
