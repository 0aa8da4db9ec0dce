//! Fetch: how rows leave the warehouse. Today every remote query runs through `dblink()` on
//! the section's foreign server (host/port/dbname on the server, credentials in the user
//! mapping), in single-row mode into a tuplestore that spills to disk, so memory stays bounded.
//! The SQL text is built in `sqlgen`; this module checks that the path exists before any data
//! is touched, and says how to fix it when it does not.

use crate::error::{DmError, DmResult};
use pgrx::PgSqlErrorCode;

/// The server must exist and the current user must have a user mapping for it.
pub fn check_source(server: &str) -> DmResult<()> {
    crate::section::check_server(server)?;
    let mapped = crate::catalog::exists(
        "SELECT 1 FROM pg_user_mappings WHERE srvname = $1 AND (usename = current_user OR usename = 'public')",
        &[server.into()],
        "the user mapping",
    )?;
    if !mapped {
        return Err(DmError::undefined(
            PgSqlErrorCode::ERRCODE_FDW_OPTION_NAME_NOT_FOUND,
            format!("no user mapping for the current user on foreign server \"{server}\""),
            format!("Create one with CREATE USER MAPPING FOR CURRENT_USER SERVER {server} OPTIONS (user '...', password '...')."),
        ));
    }
    Ok(())
}
