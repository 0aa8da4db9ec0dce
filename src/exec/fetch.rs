//! Fetch: how rows leave the warehouse. Every remote query runs through `dblink()` on the
//! section's foreign server (host/port/dbname on the server, credentials in the user mapping).
//! The statements come from the planner; this module checks that the path exists before any
//! data is touched, and says how to fix it when it does not.

use crate::error::{DmError, DmResult};
use pgrx::PgSqlErrorCode;

/// The server must exist and the current user must have a user mapping for it.
pub fn check_source(server: &str) -> DmResult<()> {
    crate::api::config::check_server(server)?;
    let mapped = crate::catalog::exists(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mappings WHERE srvname OPERATOR(pg_catalog.=) $1::pg_catalog.name
            AND (usename OPERATOR(pg_catalog.=) CURRENT_USER OR usename OPERATOR(pg_catalog.=) 'public'::pg_catalog.name))",
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
