//! Load: how fetched rows land in the mart. One interface, [`load_table`], takes a table's plan
//! and returns its counts; the plan's mode decides the statements. Set-based only, never row by
//! row. Runs in the caller's transaction (one per table; the caller commits). Every statement
//! it runs comes from the planner.

use crate::error::{DmError, DmResult, SpiContext};
use pg_datamart_plan::status::LoadCounts;
use pg_datamart_plan::table::{LoadSql, TablePlan};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::PgSqlErrorCode;

fn run(client: &mut SpiClient, sql: &str, doing: &str) -> DmResult<i64> {
    Ok(client.update(sql, None, &[]).doing(doing)?.len() as i64)
}

/// Prepares the partitions, opens the fetch connection (its warehouse backend pid goes to
/// `on_remote_pid`, for the watchdog), runs the plan's statements, closes the connection, and
/// analyzes what it wrote to when that is at least `pg_datamart.analyze_threshold` rows.
/// Partitions in `busy` (being vacuumed) keep their storage parameters and are not analyzed:
/// both would wait for the VACUUM.
pub fn load_table(
    plan: &TablePlan,
    busy: &[String],
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
) -> DmResult<LoadCounts> {
    Spi::connect_mut(|client| {
        for (target, sql) in &plan.partitions.alters {
            if !busy.contains(target) {
                run(client, sql, "setting partition storage parameters")?;
            }
        }
        for sql in &plan.partitions.creates {
            run(client, sql, "creating a partition")?;
        }
        Ok::<_, DmError>(())
    })?;
    let counts = match &plan.load {
        LoadSql::DeleteInsert { delete, .. } => stream_delete_insert(plan, delete, on_remote_pid)?,
        LoadSql::Upsert { .. } => upsert_via_stage(plan, on_remote_pid)?,
    };
    let threshold = crate::gucs::analyze_threshold();
    if threshold >= 0 && counts.written() >= threshold as i64 && counts.written() > 0 {
        for (_, sql) in plan.analyze.iter().filter(|(t, _)| !busy.contains(t)) {
            Spi::run(sql).doing("analyzing the loaded partitions")?;
        }
    }
    Ok(counts)
}

/// delete_insert: connect to the warehouse (libpq, single-row mode), delete the window, and
/// stream the remote queries' rows into the mart table through COPY FROM.
fn stream_delete_insert(
    plan: &TablePlan,
    delete: &str,
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
) -> DmResult<LoadCounts> {
    let mut wh = crate::exec::stream::Warehouse::connect(&plan.stream)?;
    on_remote_pid(wh.backend_pid())?;
    if let Some(first) = plan.remote_sqls.first() {
        wh.start(first)?;
    }
    let stamp = Spi::get_one::<String>("SELECT pg_catalog.now()::pg_catalog.text")
        .doing("reading the load's timestamp")?
        .unwrap_or_default();
    let deleted = Spi::connect_mut(|client| run(client, delete, "deleting the window"))?;
    let streamed = crate::exec::stream::copy_into(
        wh,
        &plan.stream.columns,
        &plan.stream.stamps,
        plan.mart_oid,
        &plan.remote_sqls,
        &stamp,
    )?;
    Ok(LoadCounts {
        fetched: streamed.fetched,
        deleted,
        inserted: streamed.inserted,
        updated: 0,
    })
}

/// upsert: the fetched rows are streamed (libpq into COPY FROM) into a temporary stage table,
/// then merged by the planner's statements.
fn upsert_via_stage(
    plan: &TablePlan,
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
) -> DmResult<LoadCounts> {
    let LoadSql::Upsert { create_stage, .. } = &plan.load else {
        unreachable!("upsert plans stage")
    };
    let mut wh = crate::exec::stream::Warehouse::connect(&plan.stream)?;
    on_remote_pid(wh.backend_pid())?;
    if let Some(first) = plan.remote_sqls.first() {
        wh.start(first)?;
    }
    Spi::run(create_stage).doing("creating the stage table")?;
    let stage = Spi::get_one::<pg_sys::Oid>(
        "SELECT 'pg_temp.dm_stage'::pg_catalog.regclass::pg_catalog.oid",
    )
    .doing("finding the stage table")?
    .unwrap_or(pg_sys::InvalidOid);
    let streamed = crate::exec::stream::copy_into(
        wh,
        &plan.stream.columns,
        &[],
        u32::from(stage),
        &plan.remote_sqls,
        "",
    )?;
    let counts = Spi::connect_mut(|client| {
        let counts = match &plan.load {
            LoadSql::DeleteInsert { .. } => unreachable!("delete_insert streams"),
            LoadSql::Upsert {
                key,
                analyze_stage,
                duplicates,
                delete,
                update,
                insert,
                ..
            } => {
                let fetched = streamed.fetched;
                run(client, analyze_stage, "analyzing the stage table")?;
                let dups = client
                    .select(duplicates.as_str(), None, &[])
                    .doing("checking fetched keys")?;
                if !dups.is_empty() {
                    let mut total = 0i64;
                    let mut examples = Vec::new();
                    for row in dups {
                        total = row
                            .get::<i64>(1)
                            .doing("reading duplicate keys")?
                            .unwrap_or(0);
                        examples.push(
                            row.get::<String>(2)
                                .doing("reading duplicate keys")?
                                .unwrap_or_default(),
                        );
                    }
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
                let deleted = run(client, delete, "deleting rows gone upstream")?;
                let updated = match update {
                    Some(sql) => run(client, sql, "updating changed rows")?,
                    None => 0,
                };
                let inserted = run(client, insert, "inserting new rows")?;
                LoadCounts {
                    fetched,
                    deleted,
                    inserted,
                    updated,
                }
            }
        };
        Ok::<_, DmError>(counts)
    })?;
    Ok(counts)
}
