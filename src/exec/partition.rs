//! The partitions of a load, around the rows it writes: before, the DEFAULT-partition check
//! ([`check_default`]: a month the window needs whose rows sit in the DEFAULT partition refuses
//! the load, with the statements that move them) and the partition DDL ([`prepare_partitions`]);
//! after, ANALYZE of the partitions written ([`analyze`]). The planner decides what
//! (`pg_datamart_plan::partition`); this runs it.
//!
//! A loader needs SELECT, INSERT and DELETE (UPDATE in upsert) on a mart table, and nothing
//! more (`crate::control::privileges`). Three statements of a load need more than that:
//! `CREATE TABLE ... PARTITION OF` (owning the parent, CREATE on its schema), `ALTER TABLE ...
//! SET (storage parameters)` and `ANALYZE` (owning the partition). They run as the owner
//! (`crate::control::as_owner`, as PostgreSQL's own maintenance does), and only so:
//!
//! - only the planner's fixed statements (`pg_datamart_plan::partition`, names quoted by
//!   `plan/src/quote.rs`, storage parameters re-validated by the planner), for a table
//!   registered as a mart table, after the caller's own privileges on it were checked again;
//! - as the owner of the relation the statement is about (the parent for `CREATE`, so the new
//!   partition belongs to the parent's owner; the partition for `ALTER` and `ANALYZE`, as
//!   PostgreSQL's own ANALYZE does for each relation), never as a superuser on behalf of a
//!   role that is not one.

use crate::control::as_owner::as_role;
use crate::control::privileges::check_mart_table;
use crate::error::{DmError, DmResult, SpiContext};
use pg_datamart_plan::control::{grant_schema_statement, owner_statement};
use pg_datamart_plan::partition::PartitionPlan;
use pg_datamart_plan::table::TablePlan;
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::{CStr, CString};

/// Refuses the load when a month the window needs has rows in the DEFAULT partition.
pub fn check_default(plan: &PartitionPlan) -> DmResult<()> {
    for check in &plan.default_checks {
        let rows = Spi::get_one::<i64>(&check.count_sql)
            .doing("counting rows in the DEFAULT partition")?
            .unwrap_or(0);
        if rows > 0 {
            return Err(check.refusal(rows).into());
        }
    }
    Ok(())
}

/// A relation's owner and schema, from the syscache.
#[derive(Clone, Copy)]
struct Rel {
    owner: pg_sys::Oid,
    namespace: pg_sys::Oid,
}

fn rel(oid: pg_sys::Oid, display: &str) -> DmResult<Rel> {
    // SAFETY: a syscache lookup on the backend's thread in a transaction; the tuple is checked for
    // null, its pg_class fields are copied, and it is released once.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::RELOID as i32,
            pg_sys::Datum::from(oid),
        );
        if tuple.is_null() {
            return Err(DmError::undefined(
                PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
                format!("{display} (oid {oid:?}) no longer exists"),
                "It was dropped while the sync ran; sync again.",
            ));
        }
        let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_class>(tuple);
        let found = Rel {
            owner: (*form).relowner,
            namespace: (*form).relnamespace,
        };
        pg_sys::ReleaseSysCache(tuple);
        Ok(found)
    }
}

/// The oid of `sql_name`, a quoted qualified name from the planner (`regclass` input, looked
/// up as the caller).
pub fn relation_oid(sql_name: &str) -> DmResult<pg_sys::Oid> {
    let name = CString::new(sql_name).map_err(|_| {
        DmError::invalid_definition(
            format!("relation name {sql_name:?} holds a NUL byte"),
            "",
            "This is a bug in pg_datamart; please report it.",
        )
    })?;
    // SAFETY: regclassin is an ordinary SQL-callable function given a cstring datum that outlives
    // the call, on the backend's thread in a transaction; an ERROR it raises (bad or missing name)
    // becomes a Rust panic through pgrx.
    let oid = unsafe {
        pgrx::direct_function_call::<pg_sys::Oid>(
            pg_sys::regclassin,
            &[name.as_c_str().into_datum()],
        )
    };
    Ok(oid.unwrap_or(pg_sys::InvalidOid))
}

fn owned_string(p: *mut std::ffi::c_char) -> String {
    if p.is_null() {
        return "?".into();
    }
    // SAFETY: p is non-null (checked above) and the palloc'd string role_name or schema_name just
    // got from PostgreSQL; copied at once.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn role_name(role: pg_sys::Oid) -> String {
    // SAFETY: a syscache lookup on the backend's thread in a transaction; with noerr = true a
    // missing role gives null, which owned_string handles.
    owned_string(unsafe { pg_sys::GetUserNameFromId(role, true) })
}

fn schema_name(namespace: pg_sys::Oid) -> String {
    // SAFETY: a syscache lookup on the backend's thread in a transaction; a missing schema gives
    // null, which owned_string handles.
    owned_string(unsafe { pg_sys::get_namespace_name(namespace) })
}

/// The role a statement about relation `sql_name` (`what`: "partition", "mart table"; owned
/// by `owner`) runs as: its owner, unless that is a superuser and the caller is not one.
/// pg_datamart never acts as a superuser for a role that is not one, even for fixed
/// statements.
fn acting_owner(
    owner: pg_sys::Oid,
    what: &str,
    sql_name: &str,
    doing: &str,
) -> DmResult<pg_sys::Oid> {
    // SAFETY: superuser(), superuser_arg() and GetUserId() read the backend's current user and the
    // pg_authid syscache, on the backend's thread in a transaction.
    let caller_is_superuser = unsafe { pg_sys::superuser() };
    if unsafe { pg_sys::superuser_arg(owner) } && !caller_is_superuser {
        let caller = role_name(unsafe { pg_sys::GetUserId() });
        return Err(DmError::Privilege {
            message: format!(
                "{what} {sql_name} is owned by superuser {}: pg_datamart {doing} as the owner, and does not act as a superuser for role {caller}",
                role_name(owner)
            ),
            hint: format!(
                "Give the mart table and its partitions an owner that is not a superuser and has CREATE on their schema, e.g. {}; or sync as a superuser.",
                owner_statement(sql_name, "mart_owner")
            ),
        });
    }
    Ok(owner)
}

/// Refuses unless `owner` has `privileges` on schema `namespace` (USAGE to name the table,
/// CREATE to create a partition in it).
fn check_schema(
    owner: pg_sys::Oid,
    namespace: pg_sys::Oid,
    privileges: &[(&'static str, u64)],
    table: &str,
    why: &str,
) -> DmResult<()> {
    // SAFETY: pg_namespace_aclcheck reads the catalog on the backend's thread in a transaction; a
    // schema that no longer exists raises an ERROR (a Rust panic through pgrx).
    let lacking: Vec<&str> = privileges
        .iter()
        .filter(|(_, mode)| unsafe {
            pg_sys::pg_namespace_aclcheck(namespace, owner, *mode as pg_sys::AclMode)
                != pg_sys::AclResult::ACLCHECK_OK
        })
        .map(|(name, _)| *name)
        .collect();
    if lacking.is_empty() {
        return Ok(());
    }
    let (owner, schema) = (role_name(owner), schema_name(namespace));
    Err(DmError::Privilege {
        message: format!(
            "role {owner}, the owner of {table}, lacks {} on schema {schema}: {why}",
            lacking.join(", ")
        ),
        hint: format!(
            "The schema's owner or a superuser can run: {};",
            grant_schema_statement(&lacking, &schema, &owner)
        ),
    })
}

const USAGE: (&str, u64) = (privilege::USAGE, pg_sys::ACL_USAGE as u64);
const CREATE: (&str, u64) = (privilege::CREATE, pg_sys::ACL_CREATE as u64);
use pg_datamart_plan::control::privilege;

/// Gives the window's existing partitions the section's storage parameters and creates its
/// missing monthly partitions, each statement as the owner of what it changes (see the
/// module's doc). Partitions in `busy` (being vacuumed) are left alone: the ALTER would wait
/// for the VACUUM. Everything is checked before the first statement runs.
pub fn prepare_partitions(
    plan: &TablePlan,
    busy: &[String],
    waiting: crate::control::guard::Waiting,
) -> DmResult<()> {
    let parts = &plan.partitions;
    let alters: Vec<&(String, String)> = parts
        .alters
        .iter()
        .filter(|(target, _)| !busy.contains(target))
        .collect();
    if alters.is_empty() && parts.creates.is_empty() {
        return Ok(());
    }
    // The caller's rights were checked when the run began; check them again right before
    // acting as the owner, whoever calls this and whatever changed since.
    check_mart_table(plan.mart_oid, &plan.mart_name, plan.mode)?;
    let table = format!("mart table {}", plan.mart_name);
    let mut owned = Vec::with_capacity(alters.len());
    for (target, sql) in alters {
        let part = rel(relation_oid(target)?, target)?;
        // Storage parameters tune autovacuum; a partition only a superuser could change for
        // this caller keeps its own, with a WARNING saying why, and the load goes on.
        let owner = match acting_owner(part.owner, "partition", target, "sets storage parameters") {
            Ok(owner) => owner,
            Err(refused) => {
                pgrx::pg_sys::panic::ErrorReport::from(refused).report(PgLogLevel::WARNING);
                continue;
            }
        };
        check_schema(
            owner,
            part.namespace,
            &[USAGE],
            target,
            "storage parameters are set as the partition's owner",
        )?;
        owned.push((owner, sql, relation_oid(target)?));
    }
    let parent = rel(pg_sys::Oid::from(plan.mart_oid), &table)?;
    if !parts.creates.is_empty() {
        acting_owner(
            parent.owner,
            "mart table",
            &plan.mart_name,
            "creates monthly partitions",
        )?;
        check_schema(
            parent.owner,
            parent.namespace,
            &[USAGE, CREATE],
            &table,
            &format!(
                "the window needs {} new monthly partition(s), which are created as the table's owner and in its schema",
                parts.creates.len()
            ),
        )?;
    }
    for (owner, sql, oid) in owned {
        // SET (...) takes SHARE UPDATE EXCLUSIVE on the partition (another sync setting them,
        // a VACUUM or an ANALYZE holds it): taken first without queueing, noted and bounded.
        crate::control::guard::lock_within_timeout(
            plan.mart_oid,
            &table,
            &[(oid.to_u32(), pg_sys::ShareUpdateExclusiveLock as i32)],
            " to set the storage parameters of a partition",
            &mut *waiting,
        )?;
        as_role(owner, || Spi::run(sql)).doing("setting partition storage parameters")?;
    }
    for new in &parts.creates {
        // One sync at a time creates a given month; the others wait for it (next month's,
        // created ahead, is left to whoever creates it) and find it attached.
        if !crate::control::guard::partition_creation(
            plan.mart_oid,
            &table,
            &new.name,
            new.month,
            new.in_window,
            &mut *waiting,
        )? {
            continue;
        }
        if attached(plan.mart_oid, new)? {
            continue;
        }
        // The name may be taken by another relation (a role with CREATE on the schema can
        // squat next month's name): next month's, created ahead, is best effort (a WARNING);
        // a month the window needs is a clear 42P07, which does not count towards a ban.
        if let Some(taken) = name_taken_by(new)? {
            let message = format!(
                "the name of partition {} of mart table {} is taken by {taken}, which is not its partition",
                pg_datamart_plan::quote::display(&new.schema, &new.relname),
                plan.mart_name
            );
            let hint =
                "Drop or rename that relation (its owner or a superuser can), then sync again.";
            if !new.in_window {
                pgrx::pg_sys::panic::ErrorReport::new(
                    pgrx::PgSqlErrorCode::ERRCODE_DUPLICATE_TABLE,
                    format!("pg_datamart: next month's partition was not created ahead of time: {message}"),
                    "pg_datamart",
                )
                .set_hint(hint)
                .report(PgLogLevel::WARNING);
                continue;
            }
            return Err(DmError::Conflict {
                code: pgrx::PgSqlErrorCode::ERRCODE_DUPLICATE_TABLE,
                message,
                detail: "Nothing was loaded.".into(),
                hint: hint.into(),
            });
        }
        // A partition created as the parent's owner belongs to it; attaching it takes SHARE
        // UPDATE EXCLUSIVE on the parent (and ACCESS EXCLUSIVE on a DEFAULT partition, which
        // it scans), taken first without queueing.
        as_role(parent.owner, || Spi::run(&new.create)).doing("creating a partition")?;
        let mut rels = vec![(plan.mart_oid, pg_sys::ShareUpdateExclusiveLock as i32)];
        if let Some(d) = &parts.default {
            rels.push((
                u32::from(relation_oid(d)?),
                pg_sys::AccessExclusiveLock as i32,
            ));
        }
        crate::control::guard::lock_within_timeout(
            plan.mart_oid,
            &table,
            &rels,
            &format!(" to attach its new partition {}", new.name),
            waiting,
        )?;
        as_role(parent.owner, || Spi::run(&new.attach)).doing("attaching a partition")?;
    }
    Ok(())
}

/// Whether `new` is (now) a partition of `parent`: created meanwhile by another sync (read
/// from the catalog tables with this statement's snapshot, which sees that sync's commit).
fn attached(parent: u32, new: &pg_datamart_plan::partition::NewPartition) -> DmResult<bool> {
    Ok(Spi::get_one_with_args::<bool>(
        pg_datamart_plan::partition::PARTITION_EXISTS_SQL,
        &[
            pg_sys::Oid::from(parent).into(),
            new.relname.as_str().into(),
            new.schema.as_str().into(),
        ],
    )
    .doing("looking for a partition another sync created")?
    .unwrap_or(false))
}

/// The relation or type (kind and owner, in words) that holds the name of partition `new`
/// although it is not a partition of its mart table, if any: a table's name is also its row
/// type's, so a type of that name (an enum, a domain) takes it as well.
fn name_taken_by(new: &pg_datamart_plan::partition::NewPartition) -> DmResult<Option<String>> {
    Spi::get_one_with_args::<String>(
        pg_datamart_plan::partition::NAME_TAKEN_BY_SQL,
        &[new.relname.as_str().into(), new.schema.as_str().into()],
    )
    .doing("looking for a relation holding a partition's name")
}

/// ANALYZE of the partitions the load wrote to (not those in `busy`), each as its owner, as
/// PostgreSQL's own ANALYZE switches to each relation's owner. One that only a superuser
/// could analyze for this caller is skipped with a WARNING saying why, as ANALYZE itself
/// skips a table its caller may not analyze: the rows are loaded, statistics can follow.
pub fn analyze(plan: &TablePlan, busy: &[String]) -> DmResult<()> {
    for (target, sql) in plan.analyze.iter().filter(|(t, _)| !busy.contains(t)) {
        let oid = relation_oid(target)?;
        // Statistics can wait for a later sync: a partition another session is analyzing,
        // vacuuming or altering right now (SHARE UPDATE EXCLUSIVE) is not waited for.
        // SAFETY: a conditional lock request; no wait, no error.
        if !unsafe {
            pg_sys::ConditionalLockRelationOid(oid, pg_sys::ShareUpdateExclusiveLock as i32)
        } {
            continue;
        }
        let part = rel(oid, target)?;
        match acting_owner(part.owner, "table", target, "analyzes what it loaded") {
            Ok(owner) => {
                as_role(owner, || Spi::run(sql)).doing("analyzing the loaded partitions")?
            }
            Err(refused) => {
                pgrx::pg_sys::panic::ErrorReport::from(refused).report(PgLogLevel::WARNING)
            }
        }
    }
    Ok(())
}
