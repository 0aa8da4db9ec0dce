//! The privileges a sync needs, checked before any data moves: SELECT on the account table;
//! SELECT, INSERT and DELETE on each mart table, and UPDATE too in upsert; and that every one
//! of them is a user table (no catalog, nothing of pg_datamart's or another extension's). A refusal names the
//! table, the missing privileges and the GRANT that gives them. Table names come from the
//! section snapshot already quoted (`format('%I.%I')`).

use crate::error::{DmError, DmResult};
use pg_datamart_plan::control::grant_statement;
use pg_datamart_plan::domain::Mode;
use pg_datamart_plan::snapshot::Section;
use pgrx::pg_sys;

/// Which of `privileges` the current user lacks on relation `oid`. A relation dropped since it
/// was registered lacks nothing here: reading its catalog reports it (42P01, with its oid and
/// what to do).
fn missing(oid: u32, privileges: &[(&'static str, u64)]) -> Vec<&'static str> {
    // SAFETY: reads the current user id, on the backend's thread.
    let user = unsafe { pg_sys::GetUserId() };
    // SAFETY: on the backend's thread in a transaction, pg_class_aclcheck_ext only reads the
    // catalog and reports a missing relation through `is_missing` instead of raising.
    privileges
        .iter()
        .filter(|(_, mode)| unsafe {
            let mut is_missing = false;
            let result = pg_sys::pg_class_aclcheck_ext(
                pg_sys::Oid::from(oid),
                user,
                *mode as pg_sys::AclMode,
                &mut is_missing,
            );
            !is_missing && result != pg_sys::AclResult::ACLCHECK_OK
        })
        .map(|(name, _)| *name)
        .collect()
}

/// The current user's name (for messages and the GRANTs hints suggest).
pub fn current_user() -> String {
    // SAFETY: on the backend's thread in a transaction: GetUserNameFromId with noerr = false raises
    // an ERROR (a Rust panic through pgrx) for a missing role, never returns null; the palloc'd
    // name is copied at once.
    unsafe {
        let name = pg_sys::GetUserNameFromId(pg_sys::GetUserId(), false);
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    }
}

fn refuse(what: &str, display: &str, lacking: &[&str]) -> DmError {
    let role = current_user();
    DmError::Privilege {
        message: format!(
            "role {role} lacks {} on {what} {display}",
            lacking.join(", ")
        ),
        hint: format!(
            "A table's owner or a superuser can run: {};",
            grant_statement(lacking, display, &role)
        ),
    }
}

use pg_datamart_plan::control::privilege;

fn mart_privileges(mode: Mode) -> Vec<(&'static str, u64)> {
    let mut needed = vec![
        (privilege::SELECT, pg_sys::ACL_SELECT as u64),
        (privilege::INSERT, pg_sys::ACL_INSERT as u64),
        (privilege::DELETE, pg_sys::ACL_DELETE as u64),
    ];
    if mode == Mode::Upsert {
        needed.insert(2, (privilege::UPDATE, pg_sys::ACL_UPDATE as u64));
    }
    needed
}

/// Refuses a relation pg_datamart must never load or read for anyone: a system catalog, a
/// table of pg_catalog, information_schema or pg_datamart's schema `dm`, a member of any
/// extension (pg_datamart's configuration, pg_cron's jobs). Checked at registration (API and
/// direct writes) and again by every sync, whoever runs it, so no role can have a superuser's
/// routine sync write pg_datamart's configuration or read a catalog for it.
pub fn check_user_table(oid: u32, what: &str) -> DmResult<()> {
    let why: Option<String> = crate::catalog::read_json(
        include_str!("../../sql/queries/protected_relation.sql"),
        &[pg_sys::Oid::from(oid).into()],
        "what kind of table it is",
    )?;
    match why {
        None => Ok(()),
        Some(why) => Err(DmError::Privilege {
            message: format!("{what} {why}: pg_datamart syncs only plain user tables"),
            hint: format!("Register a table of your own as the {what}."),
        }),
    }
}

/// SELECT on an account table (`display`: its quoted qualified name), which must be a user table.
pub fn check_account_table(oid: u32, display: &str) -> DmResult<()> {
    check_user_table(oid, "account table")?;
    let lacking = missing(oid, &[(privilege::SELECT, pg_sys::ACL_SELECT as u64)]);
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(refuse("account table", display, &lacking))
    }
}

/// What loading a mart table in `mode` needs: SELECT, INSERT, DELETE, and UPDATE in upsert.
pub fn check_mart_table(oid: u32, display: &str, mode: Mode) -> DmResult<()> {
    check_user_table(oid, "mart table")?;
    let lacking = missing(oid, &mart_privileges(mode));
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(refuse("mart table", display, &lacking))
    }
}

/// USAGE on the foreign server the warehouse is reached through (what dblink requires of the
/// syncing role; registration asks it of the caller). The server must exist.
pub fn check_server_usage(server: &str) -> DmResult<()> {
    let usable = crate::catalog::exists(
        pg_datamart_plan::control::SERVER_USAGE_SQL,
        &[server.into()],
        "the foreign server's privileges",
    )?;
    if usable {
        return Ok(());
    }
    let role = current_user();
    Err(DmError::Privilege {
        message: format!("role {role} lacks USAGE on foreign server {server}"),
        hint: format!(
            "The server's owner or a superuser can run: {};",
            grant_statement(
                &["USAGE"],
                &format!("FOREIGN SERVER {}", pg_datamart_plan::quote::ident(server)),
                &role
            )
        ),
    })
}

/// The mode a mart table is loaded in by the sections it belongs to: upsert if any of them
/// loads it by upsert (it then needs UPDATE too), else delete_insert.
pub fn mode_of_table(oid: u32) -> DmResult<Mode> {
    let upsert = crate::catalog::exists(
        pg_datamart_plan::control::UPSERT_TARGET_SQL,
        &[pg_sys::Oid::from(oid).into()],
        "the sections of a mart table",
    )?;
    Ok(if upsert {
        Mode::Upsert
    } else {
        Mode::DeleteInsert
    })
}

/// Checks the privileges a sync of `section` in `mode` needs. Registration checks the same of
/// the caller for what it registers, so no role can make another role's sync write a table
/// it could not write itself.
pub fn check_sync(section: &Section, mode: Mode) -> DmResult<()> {
    check_account_table(section.account_table, &section.account_table_name)?;
    for t in &section.tables {
        check_mart_table(t.mart_table, &t.mart_table_name, mode)?;
    }
    warn_superuser_writes_for(section)
}

/// A superuser's sync writes each mart table as the superuser, so the table's triggers, column
/// defaults, rules and index expressions run with superuser rights: when the table belongs to
/// a role that is not a superuser, that role's code would. Said as a WARNING naming the tables
/// and their owners (docs/roles-and-security.md, "Security", says to sync as a non-superuser
/// loader).
fn warn_superuser_writes_for(section: &Section) -> DmResult<()> {
    // SAFETY: reads the current user's superuser flag from the catalog cache.
    if !unsafe { pg_sys::superuser() } {
        return Ok(());
    }
    let oids: Vec<pg_sys::Oid> = section
        .tables
        .iter()
        .map(|t| pg_sys::Oid::from(t.mart_table))
        .collect();
    let foreign: Option<String> = crate::catalog::read_json(
        pg_datamart_plan::control::NON_SUPERUSER_OWNED_SQL,
        &[oids.into()],
        "the mart tables' owners",
    )?;
    if let Some(tables) = foreign {
        pgrx::warning!(
            "pg_datamart: superuser {} syncs mart tables owned by roles that are not superusers: {tables}; their triggers, column defaults, rules and index expressions run as {} during the load. Sync as a loader role that is not a superuser (see \"Roles and privileges\")",
            current_user(),
            current_user()
        );
    }
    Ok(())
}
