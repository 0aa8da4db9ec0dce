//! Planner errors: what is wrong, with the SQLSTATE an operator (or pg_cron's log) sees. The
//! extension turns them into PostgreSQL errors unchanged; the planner never needs a server to
//! say what is wrong.

use thiserror::Error;

pub type PlanResult<T> = Result<T, PlanError>;

/// The SQLSTATEs the planner raises (a closed set: each maps to one code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 22023
    InvalidParameterValue,
    /// 42703
    UndefinedColumn,
    /// 42P17
    InvalidObjectDefinition,
    /// 42P10
    InvalidColumnReference,
    /// 23514
    CheckViolation,
}

impl Code {
    pub fn sqlstate(self) -> &'static str {
        match self {
            Code::InvalidParameterValue => "22023",
            Code::UndefinedColumn => "42703",
            Code::InvalidObjectDefinition => "42P17",
            Code::InvalidColumnReference => "42P10",
            Code::CheckViolation => "23514",
        }
    }
}

#[derive(Debug, Clone, Error, PartialEq)]
#[error("{message}")]
pub struct PlanError {
    pub code: Code,
    pub message: String,
    pub detail: String,
    pub hint: String,
}

impl PlanError {
    pub fn new(
        code: Code,
        message: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        PlanError {
            code,
            message: message.into(),
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    /// A bad argument value: `argument: message`, and what to pass instead.
    pub fn invalid_argument(
        argument: &str,
        message: impl AsRef<str>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(
            Code::InvalidParameterValue,
            format!("{argument}: {}", message.as_ref()),
            "",
            hint,
        )
    }

    /// The object exists but its definition cannot be used as asked.
    pub fn invalid_definition(
        message: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(Code::InvalidObjectDefinition, message, detail, hint)
    }
}
