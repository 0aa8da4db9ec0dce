//! Executors: they run the planner's statements and nothing else. `fetch` checks the
//! warehouse path, `partition` runs the DEFAULT-partition checks, `load` runs a table's plan.

pub mod fetch;
pub mod load;
pub mod partition;
pub mod producer;
pub mod stream;
pub mod upsert;
