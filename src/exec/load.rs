//! Load: how fetched rows land in the mart. One interface, [`load_table`], takes a table's plan
//! and returns its counts; the plan's mode decides the statements. Set-based only, never row by
//! row. Runs in the caller's transaction (one per table; the caller commits). Every statement
//! it runs comes from the planner.

use crate::error::{DmError, DmResult, SpiContext};
use crate::exec::copy::{column_types, copy_into, CopySpec};
use crate::exec::upsert::Matcher;
use crate::exec::warehouse::{open_warehouse, prefetch_next};
use pg_datamart_plan::status::LoadCounts;
use pg_datamart_plan::table::{LoadSql, TablePlan};
use pg_datamart_plan::table::{STAGE_TID, STAGE_TOID};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::PgSqlErrorCode;

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
    let stamp = Spi::get_one::<String>(pg_datamart_plan::table::NOW_SQL)
        .doing("reading the load's timestamp")?
        .unwrap_or_default();
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

/// Rows per DELETE of the rows gone upstream.
const DELETE_BATCH: usize = 50_000;

/// upsert: read the window's fingerprints, stream the fetched rows comparing each one and
/// staging only the new and the changed, refuse duplicate keys, then delete the unmatched
/// rows, update the changed ones and insert the new ones.
fn stream_upsert(
    plan: &TablePlan,
    step: Option<(i64, i32)>,
    next: Option<(i64, i32, &TablePlan)>,
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
) -> DmResult<LoadCounts> {
    let LoadSql::Upsert {
        key,
        key_positions,
        compared_positions,
        fingerprints,
        create_stage,
        duplicates,
        delete,
        update,
        insert,
        ..
    } = &plan.load
    else {
        unreachable!("upsert plans")
    };
    let wh = open_warehouse(plan, step, on_remote_pid)?;
    prefetch_next(next);
    let types = column_types(plan.mart_oid, &plan.stream.columns)?;
    let matcher = Matcher::read(
        fingerprints,
        key_positions,
        compared_positions,
        types,
        plan.stream.columns.clone(),
    )?;
    Spi::run(create_stage).doing("creating the stage table")?;
    let stage = Spi::get_one::<pg_sys::Oid>(pg_datamart_plan::table::STAGE_OID_SQL)
        .doing("finding the stage table")?
        .unwrap_or(pg_sys::InvalidOid);
    let extra = [STAGE_TOID.to_string(), STAGE_TID.to_string()];
    let streamed = copy_into(
        wh,
        &CopySpec {
            target_oid: u32::from(stage),
            mart_oid: plan.mart_oid,
            mart_name: &plan.mart_name,
            columns: &plan.stream.columns,
            extra: &extra,
            stamp: "",
            queries: &plan.remote_sqls,
            row_key: &plan.stream.row_key,
        },
        Some(matcher),
    )?;
    let fetched = streamed.fetched;
    let staged = streamed.inserted;
    let matcher = streamed.matcher.expect("upsert streams with a matcher");
    Spi::connect_mut(|client| {
        let (mut total, mut examples) = matcher.duplicate_report();
        if staged > 0 {
            let dups = client
                .select(duplicates.as_str(), None, &[])
                .doing("checking fetched keys")?;
            let mut groups = 0;
            for row in dups {
                groups = row
                    .get::<i64>(1)
                    .doing("reading duplicate keys")?
                    .unwrap_or(0);
                if examples.len() < 5 {
                    examples.push(
                        row.get::<String>(2)
                            .doing("reading duplicate keys")?
                            .unwrap_or_default(),
                    );
                }
            }
            total += groups;
        }
        if total > 0 {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_UNIQUE_VIOLATION,
                message: format!(
                    "the warehouse returned {total} duplicated key(s) for {} on ({}), e.g. {}",
                    plan.mart_name,
                    key.join(", "),
                    examples.join(", ")
                ),
                detail: format!("{fetched} rows were fetched; the warehouse does not enforce keys. Nothing was changed."),
                hint: "Remove the duplicates at the source, or give the mart table a key that matches the warehouse's grain."
                    .into(),
            });
        }
        let (mut deleted, mut expected) = (0, 0);
        for (toid, tids, n) in matcher.unmatched(DELETE_BATCH) {
            expected += n as i64;
            let args = [
                DatumWithOid::from(pg_sys::Oid::from(toid)),
                DatumWithOid::from(tids.as_str()),
            ];
            deleted += client
                .update(delete.as_str(), None, &args)
                .doing("deleting rows gone upstream")?
                .len() as i64;
        }
        if deleted != expected {
            return Err(changed_meanwhile(
                &plan.mart_name,
                "deleted",
                expected,
                deleted,
            ));
        }
        let (mut updated, mut inserted) = (0, 0);
        if staged > 0 {
            if let Some(sql) = update {
                updated = run(client, sql, "updating changed rows")?;
            }
            inserted = run(client, insert, "inserting new rows")?;
        }
        let changed = staged - inserted;
        if updated != changed && update.is_some() {
            return Err(changed_meanwhile(
                &plan.mart_name,
                "updated",
                changed,
                updated,
            ));
        }
        Ok::<_, DmError>(LoadCounts {
            fetched,
            deleted,
            inserted,
            updated,
        })
    })
}

/// The window changed between the comparison and the writes (another session wrote to it).
fn changed_meanwhile(table: &str, what: &str, expected: i64, found: i64) -> DmError {
    DmError::Conflict {
        code: PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
        message: format!(
            "{table} changed while it was loaded: {expected} rows were to be {what}, {found} were found"
        ),
        detail: "Another session wrote to the window between the comparison and the writes. Nothing was changed.".into(),
        hint: "Sync again; keep other writers off the mart table's window during loads.".into(),
    }
}
