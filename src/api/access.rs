//! `dm_grant` / `dm_revoke`: pg_datamart's own privileges by access level. The levels are data
//! (`pg_datamart_plan::access`); this module reads what the role holds now, runs the statements
//! the planner builds for what changes, records the role's level in `dm.access` and returns
//! every statement it ran. The SQL wrappers (`sql/api.sql`) refuse any caller but a superuser
//! or the extension's owner before they get here; no other role may execute these.

use crate::catalog::{read_json, schemas};
use crate::error::{report, DmError, DmResult, SpiContext};
use pg_datamart_plan::access::{self, Target};
use pg_datamart_plan::{Access, Closed};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{pg_sys, PgSqlErrorCode};
use serde::Deserialize;

/// The role being granted to or revoked from.
struct Role {
    oid: pg_sys::Oid,
    name: String,
}

#[derive(Deserialize)]
struct RoleRow {
    name: String,
    owns_extension: bool,
}

/// The role of a `dm_grant` / `dm_revoke` call. The extension's owner holds every privilege by
/// ownership; granting it (or revoking from it) would only make its ACLs misleading.
fn target_role(oid: Option<pg_sys::Oid>, call: &str) -> DmResult<Role> {
    let oid = oid.ok_or_else(|| DmError::NullArgument {
        argument: "role",
        hint: format!("Pass a role name, e.g. SELECT {call}('loader', 'loader');"),
    })?;
    let row: RoleRow = read_json(
        pg_datamart_plan::access::ROLE_SQL,
        &[oid.into()],
        "the role",
    )?
    .ok_or_else(|| {
        DmError::undefined(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("role: no role with oid {}", oid.to_u32()),
            "Pass the name of an existing role.",
        )
    })?;
    if row.owns_extension {
        return Err(DmError::invalid_argument(
            "role",
            format!(
                "role {} owns extension pg_datamart: it holds every privilege already",
                row.name
            ),
            "Give access to the roles that load, monitor or administer the mart.",
        ));
    }
    Ok(Role {
        oid,
        name: row.name,
    })
}

/// An access argument: one of monitor, loader, admin.
fn level(access: Option<&str>, call: &str) -> DmResult<Access> {
    let text = access.ok_or_else(|| DmError::NullArgument {
        argument: "access",
        hint: format!(
            "Pass one of: {}, e.g. SELECT {call}('loader', 'loader');",
            Access::names().join(", ")
        ),
    })?;
    Ok(Access::parse("access", text)?)
}

/// The procedures `dm_generate_procedures` made that exist now (their recorded signatures).
fn generated_procedures() -> DmResult<Vec<String>> {
    Ok(read_json(
        pg_datamart_plan::access::GENERATED_PROCEDURES_SQL,
        &[],
        "the generated procedures",
    )?
    .unwrap_or_default())
}

/// What `role` holds of each target (None: the object does not exist).
fn held(targets: &[Target], role: pg_sys::Oid) -> DmResult<Vec<Option<Vec<String>>>> {
    let (kinds, names) = access::lookup(targets);
    Ok(read_json(
        include_str!("../../sql/queries/held_privileges.sql"),
        &[kinds.into(), names.into(), role.into()],
        "the role's privileges",
    )?
    .unwrap_or_default())
}

fn run_all(statements: Vec<String>) -> DmResult<Vec<String>> {
    for sql in &statements {
        Spi::run(sql).doing("changing privileges")?;
    }
    Ok(statements)
}

/// The level `dm.access` records for the role.
fn recorded(role: pg_sys::Oid) -> DmResult<Option<Access>> {
    read_json(
        pg_datamart_plan::access::ACCESS_OF_SQL,
        &[role.into()],
        "the role's access",
    )
}

/// Records the role's level (None: no access); rows of roles dropped since are forgotten.
fn record(role: pg_sys::Oid, level: Option<Access>) -> DmResult<()> {
    Spi::run(pg_datamart_plan::access::FORGET_DROPPED_SQL).doing("forgetting dropped roles")?;
    match level {
        None => Spi::run_with_args(pg_datamart_plan::access::FORGET_ACCESS_SQL, &[role.into()]),
        Some(l) => Spi::run_with_args(
            pg_datamart_plan::access::RECORD_ACCESS_SQL,
            &[role.into(), l.as_str().into()],
        ),
    }
    .doing("recording the role's access")
}

/// The roles that hold at least `level` (by `dm.access`), by name.
pub fn roles_with(level: Access) -> DmResult<Vec<String>> {
    let rows: Vec<(String, Access)> = read_json(
        pg_datamart_plan::access::ACCESS_LIST_SQL,
        &[],
        "the roles with access",
    )?
    .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|(_, a)| a.includes(level))
        .map(|(name, _)| name)
        .collect())
}

/// Grants `level` (and the levels below it) to a role; returns the GRANTs it ran.
fn grant_level(role: Option<pg_sys::Oid>, access: Option<&str>) -> DmResult<Vec<String>> {
    let role = target_role(role, "dm_grant")?;
    let level = level(access, "dm_grant")?;
    let targets = access::granted(&schemas()?, level, &generated_procedures()?);
    let statements = access::grant_statements(&targets, &held(&targets, role.oid)?, &role.name)?;
    let ran = run_all(statements)?;
    record(
        role.oid,
        Some(access::after_grant(recorded(role.oid)?, level)),
    )?;
    Ok(ran)
}

/// Revokes `access` and the levels that include it (None: every level); returns the REVOKEs
/// it ran.
fn revoke_level(role: Option<pg_sys::Oid>, access: Option<&str>) -> DmResult<Vec<String>> {
    let role = target_role(role, "dm_revoke")?;
    let from = access.map(|a| level(Some(a), "dm_revoke")).transpose()?;
    let targets = access::revoked(
        &schemas()?,
        from.unwrap_or(Access::Monitor),
        &generated_procedures()?,
    );
    let statements = access::revoke_statements(&targets, &held(&targets, role.oid)?, &role.name)?;
    let ran = run_all(statements)?;
    record(role.oid, access::after_revoke(recorded(role.oid)?, from))?;
    Ok(ran)
}

#[pg_extern(schema = "dm", name = "_grant")]
#[search_path(pg_catalog, pg_temp)]
fn access_grant(
    role: Option<pg_sys::Oid>,
    access: Option<&str>,
) -> Result<SetOfIterator<'static, String>, ErrorReport> {
    report(|| grant_level(role, access).map(SetOfIterator::new))
}

#[pg_extern(schema = "dm", name = "_revoke")]
#[search_path(pg_catalog, pg_temp)]
fn access_revoke(
    role: Option<pg_sys::Oid>,
    access: Option<&str>,
) -> Result<SetOfIterator<'static, String>, ErrorReport> {
    report(|| revoke_level(role, access).map(SetOfIterator::new))
}
