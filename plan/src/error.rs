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
    /// 54000
    ProgramLimitExceeded,
}

impl Code {
    pub fn sqlstate(self) -> &'static str {
        match self {
            Code::InvalidParameterValue => "22023",
            Code::UndefinedColumn => "42703",
            Code::InvalidObjectDefinition => "42P17",
            Code::InvalidColumnReference => "42P10",
            Code::CheckViolation => "23514",
            Code::ProgramLimitExceeded => "54000",
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

/// `text` with every occurrence of each secret (a password) replaced by `********`, compared
/// without regard to ASCII case: a server that echoes a value upper-cased (or an error that
/// changes its case) does not reveal it. What masking cannot catch is a secret transformed
/// otherwise (encoded, cut, spread over lines); docs/roles-and-security.md says so.
pub fn mask_secrets(secrets: &[String], text: &str) -> String {
    let mut t = text.trim_end().to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let needle = secret.to_ascii_lowercase();
        let mut out = String::with_capacity(t.len());
        let lower = t.to_ascii_lowercase();
        let mut i = 0;
        while let Some(found) = lower[i..].find(&needle) {
            out.push_str(&t[i..i + found]);
            out.push_str("********");
            i += found + needle.len();
        }
        out.push_str(&t[i..]);
        t = out;
    }
    t
}
