//! Errors an operator can act on: every failure carries a real SQLSTATE, a message naming the
//! argument or object at fault, and where useful a detail and a hint saying what to do.
//!
//! Code below the SQL boundary returns `Result<T, DmError>`; the `#[pg_extern]` functions turn
//! it into an [`ErrorReport`] so PostgreSQL (and pg_cron's run log) sees the SQLSTATE, never the
//! generic 22000 of a plain Rust error or the XX000 of a panic. [`sqlstate_code`] and
//! [`sqlstate_text`] convert between an error code and its five characters.

use pg_datamart_plan::{Code, PlanError};
use pgrx::pg_sys;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::PgSqlErrorCode;
use std::ffi::{c_int, CStr};
use thiserror::Error;

pub type DmResult<T> = Result<T, DmError>;

#[derive(Debug, Error)]
pub enum DmError {
    /// A bad argument value: which argument, what is wrong, what to do.
    #[error("{argument}: {message}")]
    InvalidArgument {
        argument: &'static str,
        message: String,
        hint: String,
    },

    /// A required argument is NULL (22004): which argument, what to pass.
    #[error("{argument}: must not be NULL")]
    NullArgument {
        argument: &'static str,
        hint: String,
    },

    /// A named object (section, table, column, server) does not exist.
    #[error("{message}")]
    UndefinedObject {
        code: PgSqlErrorCode,
        message: String,
        hint: String,
    },

    /// The object exists but its definition cannot be used as asked.
    #[error("{message}")]
    InvalidDefinition {
        message: String,
        detail: String,
        hint: String,
    },

    /// Called where it cannot work (dm_sync inside a transaction block).
    #[error("{message}")]
    InTransactionBlock { message: String, hint: String },

    /// The fetched rows or the mart's partitions contradict the load (duplicate keys, rows
    /// in a DEFAULT partition): the load is refused before it writes.
    #[error("{message}")]
    Conflict {
        code: PgSqlErrorCode,
        message: String,
        detail: String,
        hint: String,
    },

    /// The calling role lacks a privilege the request needs (checked before any data moves).
    #[error("{message}")]
    Privilege { message: String, hint: String },

    /// Registering something that is already registered.
    #[error("{message}")]
    Duplicate { message: String, hint: String },

    /// What the planner refused (bad input, unusable definitions), with its own SQLSTATE.
    #[error("{0}")]
    Plan(PlanError),

    /// The warehouse refused the connection or failed the query (its SQLSTATE, or 08xxx for
    /// connection trouble). Passwords are masked before they get here.
    #[error("{message}")]
    Remote {
        code: PgSqlErrorCode,
        message: String,
        detail: String,
        hint: String,
    },

    /// The sync's status writer failed to record an event, or could not be started or reached.
    #[error("{message}")]
    Status {
        code: PgSqlErrorCode,
        message: String,
        detail: String,
        hint: String,
    },

    /// An SPI call failed in a way PostgreSQL did not already report (a bug in pg_datamart).
    #[error("internal error in pg_datamart while {doing}: {source}")]
    Spi {
        doing: String,
        #[source]
        source: pgrx::spi::SpiError,
    },
}

impl DmError {
    pub fn invalid_argument(
        argument: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        DmError::InvalidArgument {
            argument,
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn undefined(
        code: PgSqlErrorCode,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        DmError::UndefinedObject {
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn invalid_definition(
        message: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        DmError::InvalidDefinition {
            message: message.into(),
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    pub fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            DmError::InvalidArgument { .. } => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            DmError::NullArgument { .. } => PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            DmError::UndefinedObject { code, .. } => *code,
            DmError::InvalidDefinition { .. } => PgSqlErrorCode::ERRCODE_INVALID_OBJECT_DEFINITION,
            DmError::Duplicate { .. } => PgSqlErrorCode::ERRCODE_DUPLICATE_OBJECT,
            DmError::Privilege { .. } => PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            DmError::Conflict { code, .. } => *code,
            DmError::InTransactionBlock { .. } => PgSqlErrorCode::ERRCODE_ACTIVE_SQL_TRANSACTION,
            DmError::Plan(p) => match p.code {
                Code::InvalidParameterValue => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                Code::UndefinedColumn => PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                Code::InvalidObjectDefinition => PgSqlErrorCode::ERRCODE_INVALID_OBJECT_DEFINITION,
                Code::InvalidColumnReference => PgSqlErrorCode::ERRCODE_INVALID_COLUMN_REFERENCE,
                Code::CheckViolation => PgSqlErrorCode::ERRCODE_CHECK_VIOLATION,
                Code::ProgramLimitExceeded => PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            },
            DmError::Remote { code, .. } | DmError::Status { code, .. } => *code,
            DmError::Spi { .. } => PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        }
    }
}

impl From<PlanError> for DmError {
    fn from(e: PlanError) -> Self {
        DmError::Plan(e)
    }
}

/// Adds "while doing X" to SPI failures, so an internal error still says where it happened.
pub trait SpiContext<T> {
    fn doing(self, what: impl Into<String>) -> DmResult<T>;
}

impl<T> SpiContext<T> for Result<T, pgrx::spi::SpiError> {
    fn doing(self, what: impl Into<String>) -> DmResult<T> {
        self.map_err(|source| DmError::Spi {
            doing: what.into(),
            source,
        })
    }
}

impl From<DmError> for ErrorReport {
    fn from(e: DmError) -> Self {
        let report = ErrorReport::new(e.sqlstate(), format!("pg_datamart: {e}"), "pg_datamart");
        match e {
            DmError::InvalidArgument { hint, .. }
            | DmError::NullArgument { hint, .. }
            | DmError::UndefinedObject { hint, .. }
            | DmError::Duplicate { hint, .. }
            | DmError::Privilege { hint, .. }
            | DmError::InTransactionBlock { hint, .. } => report.set_hint(hint),
            DmError::Remote { detail, hint, .. } | DmError::Status { detail, hint, .. } => {
                let report = if detail.is_empty() {
                    report
                } else {
                    report.set_detail(detail)
                };
                if hint.is_empty() {
                    report
                } else {
                    report.set_hint(hint)
                }
            }
            DmError::Conflict { detail, hint, .. } => {
                let report = if detail.is_empty() {
                    report
                } else {
                    report.set_detail(detail)
                };
                report.set_hint(hint)
            }
            DmError::InvalidDefinition { detail, hint, .. } => {
                let report = if detail.is_empty() {
                    report
                } else {
                    report.set_detail(detail)
                };
                report.set_hint(hint)
            }
            DmError::Plan(p) => {
                let report = if p.detail.is_empty() {
                    report
                } else {
                    report.set_detail(p.detail)
                };
                if p.hint.is_empty() {
                    report
                } else {
                    report.set_hint(p.hint)
                }
            }
            DmError::Spi { .. } => report.set_hint(
                "This is a bug in pg_datamart; please report it with the statement that failed.",
            ),
        }
    }
}

/// The error code of a five-character SQLSTATE (MAKE_SQLSTATE).
pub fn sqlstate_code(s: &str) -> Option<PgSqlErrorCode> {
    let b = s.as_bytes();
    if b.len() != 5 {
        return None;
    }
    let six = |c: u8| ((c.wrapping_sub(b'0')) & 0x3F) as i32;
    let code =
        six(b[0]) + (six(b[1]) << 6) + (six(b[2]) << 12) + (six(b[3]) << 18) + (six(b[4]) << 24);
    Some(PgSqlErrorCode::from(code))
}

/// SQLSTATE text of an error code.
pub fn sqlstate_text(code: PgSqlErrorCode) -> String {
    // SAFETY: unpack_sql_state writes the five characters and a NUL into a static buffer and
    // returns it; it is copied at once, on the backend's thread, before another call reuses the
    // buffer.
    unsafe { CStr::from_ptr(pg_sys::unpack_sql_state(code as c_int)) }
        .to_string_lossy()
        .into_owned()
}

/// The SQL boundary: run `f` and raise its error as a PostgreSQL ERROR with its SQLSTATE.
pub fn report<T>(f: impl FnOnce() -> DmResult<T>) -> Result<T, ErrorReport> {
    f().map_err(ErrorReport::from)
}

/// A required argument of the public API. The `dm._*` functions take their arguments as
/// `Option` (so they are not STRICT, which would turn a NULL into a silent no-op, nor panic on
/// it, which would be an XX000): a NULL is refused here with 22004, naming the argument and
/// saying what to pass instead.
pub fn required<T>(value: Option<T>, argument: &'static str, hint: &str) -> DmResult<T> {
    value.ok_or_else(|| DmError::NullArgument {
        argument,
        hint: hint.to_string(),
    })
}

/// What to pass for a section argument.
pub const SECTION_HINT: &str =
    "Pass a registered section's name, e.g. 'facebook_resource'; see dm.section.";

/// What to pass for a mart table argument.
pub const MART_TABLE_HINT: &str = "Pass the mart table's name, e.g. 'public.facebook_ad_dm'.";

/// An array argument whose elements must not be NULL (storage_parameters).
pub fn no_null_elements(
    values: Vec<Option<String>>,
    argument: &'static str,
    hint: &str,
) -> DmResult<Vec<String>> {
    values
        .into_iter()
        .map(|v| required(v, argument, hint))
        .collect()
}
