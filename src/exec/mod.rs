//! Executors: they run the planner's statements and nothing else. Each module uses only
//! those listed after it:
//!
//! - `load`: runs a table's plan in its mode (delete_insert or upsert): partitions, the
//!   warehouse connection, the COPY, ANALYZE;
//! - `partition`: the DEFAULT-partition check, the partition DDL and ANALYZE (as the owner);
//! - `copy`: the COPY feed: `BeginCopyFrom` / `CopyFrom` / `EndCopyFrom` fed by the reader's
//!   rows, and value errors naming the row and the column;
//! - `warehouse`: the warehouse connection (server and user mapping checks, libpq with
//!   dblink's password rule, masking, the prefetch hand-over, the hand-over to the reader);
//! - `reader`: the thread that reads the warehouse's rows and turns them into COPY text;
//! - `upsert`: the fingerprint comparison that decides which rows an upsert writes.

pub mod copy;
pub mod load;
pub mod partition;
pub mod reader;
pub mod upsert;
pub mod warehouse;
