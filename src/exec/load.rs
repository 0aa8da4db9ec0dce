//! Load: how fetched rows land in the mart. One interface, [`load_table`], takes a table's plan
//! and returns its counts; the plan's mode decides the statements. Set-based only, never row by
//! row. Runs in the caller's transaction (one per table; the caller commits). Every statement
//! it runs comes from the planner.

use crate::error::{DmResult, SpiContext};
use crate::exec::copy::{column_types, copy_into, CopySpec};
use crate::exec::upsert::Upsert;
use crate::exec::warehouse::{open_warehouse, prefetch_next};
use pg_datamart_plan::status::LoadCounts;
use pg_datamart_plan::table::{LoadSql, TablePlan};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;

fn run(client: &mut SpiClient, sql: &str, doing: &str) -> DmResult<i64> {
    Ok(client.update(sql, None, &[]).doing(doing)?.len() as i64)
}

/// Prepares the partitions (as the table's owner, see `partition`), opens the fetch connection
/// (its warehouse backend pid goes to `on_remote_pid`, for the watchdog), runs the plan's
/// statements, closes the connection, and analyzes what it wrote to (as its owner) when that
/// is at least `pg_datamart.analyze_threshold` rows.
/// Partitions in `busy` (being vacuumed) keep their storage parameters and are not analyzed:
/// both would wait for the VACUUM.
/// `step` is (run id, position) of the table being loaded; `next`, the next table's (run id,
/// position, plan) when its warehouse query should be sent once this table's is running;
/// `waiting` is told when attaching a partition waits for a lock.
pub fn load_table(
    plan: &TablePlan,
    busy: &[String],
    step: Option<(i64, i32)>,
    next: Option<(i64, i32, &TablePlan)>,
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
    waiting: crate::control::guard::Waiting,
) -> DmResult<LoadCounts> {
    crate::exec::partition::prepare_partitions(plan, busy, &mut *waiting)?;
    // The writes' own lock (ROW EXCLUSIVE on the table and the partitions written), taken
    // first without queueing, so that a wait for it is noted and bounded like the others.
    let mut rels = vec![(plan.mart_oid, pgrx::pg_sys::RowExclusiveLock as i32)];
    for t in &plan.partitions.touched {
        rels.push((
            crate::exec::partition::relation_oid(t)?.to_u32(),
            pgrx::pg_sys::RowExclusiveLock as i32,
        ));
    }
    crate::control::guard::lock_within_timeout(
        plan.mart_oid,
        &format!("mart table {}", plan.mart_name),
        &rels,
        " to write the window's rows",
        waiting,
    )?;
    let counts = match &plan.load {
        LoadSql::DeleteInsert { delete, .. } => {
            stream_delete_insert(plan, delete, step, next, on_remote_pid)?
        }
        LoadSql::Upsert { .. } => stream_upsert(plan, step, next, on_remote_pid)?,
    };
    let threshold = crate::gucs::analyze_threshold();
    if threshold >= 0 && counts.written() >= threshold as i64 && counts.written() > 0 {
        crate::exec::partition::analyze(plan, busy)?;
    }
    Ok(counts)
}

/// The load's timestamp (the transaction's), as text.
fn load_stamp() -> DmResult<String> {
    Ok(Spi::get_one::<String>(pg_datamart_plan::table::NOW_SQL)
        .doing("reading the load's timestamp")?
        .unwrap_or_default())
}

/// delete_insert: delete the window, then stream the remote queries' rows into the mart table
/// through COPY FROM.
fn stream_delete_insert(
    plan: &TablePlan,
    delete: &str,
    step: Option<(i64, i32)>,
    next: Option<(i64, i32, &TablePlan)>,
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
) -> DmResult<LoadCounts> {
    let wh = open_warehouse(plan, step, on_remote_pid)?;
    prefetch_next(next);
    let stamp = load_stamp()?;
    let deleted = Spi::connect_mut(|client| run(client, delete, "deleting the window"))?;
    let streamed = copy_into(
        wh,
        &CopySpec {
            target_oid: plan.mart_oid,
            mart_oid: plan.mart_oid,
            mart_name: &plan.mart_name,
            columns: &plan.stream.columns,
            extra: &plan.stream.stamps,
            stamp: &stamp,
            queries: &plan.remote_sqls,
            row_key: &plan.stream.row_key,
        },
        None,
    )?;
    Ok(LoadCounts {
        fetched: streamed.fetched,
        deleted,
        inserted: streamed.inserted,
        updated: 0,
    })
}

/// upsert: stream the fetched rows through COPY into the mart table, comparing each one with
/// its group's fingerprints on the way: only the new and the changed rows are written (see
/// [`Upsert`]); then refuse keys the warehouse sent twice.
fn stream_upsert(
    plan: &TablePlan,
    step: Option<(i64, i32)>,
    next: Option<(i64, i32, &TablePlan)>,
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
) -> DmResult<LoadCounts> {
    let LoadSql::Upsert { key, .. } = &plan.load else {
        unreachable!("upsert plans")
    };
    let wh = open_warehouse(plan, step, on_remote_pid)?;
    prefetch_next(next);
    let stamp = load_stamp()?;
    let types = column_types(plan.mart_oid, &plan.stream.columns)?;
    let upsert = Upsert::new(plan, &stamp, types)?;
    let extra = upsert.extra_columns();
    let streamed = copy_into(
        wh,
        &CopySpec {
            target_oid: plan.mart_oid,
            mart_oid: plan.mart_oid,
            mart_name: &plan.mart_name,
            columns: &plan.stream.columns,
            extra: &extra,
            stamp: "",
            queries: &plan.remote_sqls,
            row_key: &plan.stream.row_key,
        },
        Some(upsert),
    )?;
    let upsert = streamed.upsert.expect("upsert streams with an Upsert");
    let written = upsert.close(key, streamed.fetched)?;
    Ok(LoadCounts {
        fetched: streamed.fetched,
        deleted: written.deleted,
        inserted: written.inserted,
        updated: written.updated,
    })
}
