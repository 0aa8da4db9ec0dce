//! Executors: they run the planner's statements and nothing else.
//!
//! - `fetch`: checks the warehouse path (the foreign server and a user mapping) before a run;
//! - `stream`: the warehouse connection (libpq, dblink's password rule, masking) and the feed of
//!   its rows into PostgreSQL's `COPY FROM` machinery;
//! - `reader`: the reader thread that pulls the rows and turns them into COPY text;
//! - `load`: runs a table's plan in its mode (delete_insert or upsert) and the prefetch of the
//!   next table's query;
//! - `upsert`: the fingerprint comparison that decides which rows an upsert writes;
//! - `partition`: the DEFAULT-partition checks;
//! - `as_owner`: partition DDL and ANALYZE, as the table's owner.

pub mod as_owner;
pub mod fetch;
pub mod load;
pub mod partition;
pub mod reader;
pub mod stream;
pub mod upsert;
