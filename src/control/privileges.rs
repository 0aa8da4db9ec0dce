//! The privileges a sync needs, checked before any data moves: SELECT on the account table;
//! SELECT, INSERT and DELETE on each mart table, and UPDATE too in upsert. A refusal names the
//! table, the missing privileges and the GRANT that gives them. Table names come from the
//! section snapshot already quoted (`format('%I.%I')`).

use crate::error::{DmError, DmResult};
use pg_datamart_plan::control::grant_statement;
use pg_datamart_plan::domain::Mode;
use pg_datamart_plan::snapshot::Section;
use pgrx::pg_sys;

/// Which of `privileges` the current user lacks on relation `oid`.
fn missing(oid: u32, privileges: &[(&'static str, u64)]) -> Vec<&'static str> {
    let user = unsafe { pg_sys::GetUserId() };
    privileges
        .iter()
        .filter(|(_, mode)| unsafe {
            pg_sys::pg_class_aclcheck(pg_sys::Oid::from(oid), user, *mode as pg_sys::AclMode)
                != pg_sys::AclResult::ACLCHECK_OK
        })
        .map(|(name, _)| *name)
        .collect()
}

fn current_user() -> String {
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

fn mart_privileges(mode: Mode) -> Vec<(&'static str, u64)> {
    let mut needed = vec![
        ("SELECT", pg_sys::ACL_SELECT as u64),
        ("INSERT", pg_sys::ACL_INSERT as u64),
        ("DELETE", pg_sys::ACL_DELETE as u64),
    ];
    if mode == Mode::Upsert {
        needed.insert(2, ("UPDATE", pg_sys::ACL_UPDATE as u64));
    }
    needed
}

/// SELECT on an account table (`display`: its quoted qualified name).
pub fn check_account_table(oid: u32, display: &str) -> DmResult<()> {
    let lacking = missing(oid, &[("SELECT", pg_sys::ACL_SELECT as u64)]);
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(refuse("account table", display, &lacking))
    }
}

/// What loading a mart table in `mode` needs: SELECT, INSERT, DELETE, and UPDATE in upsert.
pub fn check_mart_table(oid: u32, display: &str, mode: Mode) -> DmResult<()> {
    let lacking = missing(oid, &mart_privileges(mode));
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(refuse("mart table", display, &lacking))
    }
}

/// Checks the privileges a sync of `section` in `mode` needs. Registration checks the same of
/// the caller for what it registers, so no role can make another role's sync write a table
/// it could not write itself.
pub fn check_sync(section: &Section, mode: Mode) -> DmResult<()> {
    check_account_table(section.account_table, &section.account_table_name)?;
    for t in &section.tables {
        check_mart_table(t.mart_table, &t.mart_table_name, mode)?;
    }
    Ok(())
}
