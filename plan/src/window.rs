//! The sync request: which accounts and which dates. Input is validated here, before any SQL
//! is built from it: account ids become a checked list, dates a checked inclusive window.

use crate::error::{PlanError, PlanResult};
use crate::quote;
use crate::snapshot::{MartTable, Section};
use chrono::{Days, NaiveDate};
use std::collections::{HashMap, HashSet};

/// The inclusive `date_column` range to (re)load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    /// The first day after the window: predicates are `>= start AND < end + 1`, which is the
    /// inclusive range for `date` columns and also catches every time of the last day when the
    /// column is a timestamp.
    pub fn end_exclusive(&self) -> NaiveDate {
        self.end.checked_add_days(Days::new(1)).unwrap_or(self.end)
    }

    /// Explicit bounds, or end = today and start = end - `days`; refuses start > end.
    pub fn resolve(
        days: i32,
        today: NaiveDate,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> PlanResult<Window> {
        let end = end.unwrap_or(today);
        let start = start.unwrap_or_else(|| {
            end.checked_sub_days(Days::new(days.max(0) as u64))
                .unwrap_or(end)
        });
        if start > end {
            return Err(PlanError::invalid_argument(
                "start_date",
                format!("start_date {start} is after end_date {end}"),
                "The window is inclusive: pass start_date <= end_date (or NULL for the section's default of today minus its days).",
            ));
        }
        Ok(Window { start, end })
    }
}

impl Window {
    /// Days the window covers (both ends included).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Refuses a window longer than `max_days` (`pg_datamart.max_window_days`): one sync locks
    /// and may create a partition per month of it, so a typo such as 1926 for 2026 would lock
    /// or create hundreds of partitions.
    pub fn check_span(&self, max_days: i32) -> PlanResult<()> {
        if self.days() <= i64::from(max_days) {
            return Ok(());
        }
        Err(PlanError::invalid_argument(
            "start_date",
            format!(
                "the window {} .. {} spans {} days, more than pg_datamart.max_window_days ({max_days})",
                self.start,
                self.end,
                self.days()
            ),
            "Sync a shorter window (a long backfill as several calls, e.g. a month each), or have a superuser raise pg_datamart.max_window_days.",
        ))
    }
}

impl Window {
    /// Refuses a window that starts or ends more than `years` years before or after `today`
    /// (`pg_datamart.max_years_from_today`): each month of a window may get a partition, so
    /// '0001-01-01' or '9999-12-31' is a typo, not a backfill.
    pub fn check_position(&self, today: NaiveDate, years: i32) -> PlanResult<()> {
        let months = chrono::Months::new(12 * years.max(0) as u32);
        let earliest = today.checked_sub_months(months).unwrap_or(NaiveDate::MIN);
        let latest = today.checked_add_months(months).unwrap_or(NaiveDate::MAX);
        let (argument, bad) = if self.start < earliest {
            ("start_date", self.start)
        } else if self.end > latest {
            ("end_date", self.end)
        } else {
            return Ok(());
        };
        Err(PlanError::invalid_argument(
            argument,
            format!(
                "{bad} is more than {years} years from today ({today}): a window must lie within {earliest} .. {latest} (pg_datamart.max_years_from_today)"
            ),
            "Check the date (a typo such as 0026 for 2026?); a superuser can raise pg_datamart.max_years_from_today.",
        ))
    }
}

/// How many ids a message lists before it says how many more there are.
pub const IDS_LISTED: usize = 20;

/// `ids` for a message: the first [`IDS_LISTED`], then "and N more".
pub fn listed(ids: &[String]) -> String {
    let shown = ids
        .iter()
        .take(IDS_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > IDS_LISTED {
        format!("{shown} and {} more", ids.len() - IDS_LISTED)
    } else {
        shown
    }
}

/// The accounts of one sync: the requested ids present in the account table, and the rest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Accounts {
    pub ids: Vec<String>,
    pub missing: Vec<String>,
    /// Values of the account table that are not account ids (a backslash, a quote, a space):
    /// never sent to the warehouse, skipped with a note, so that a row anyone who may write the
    /// account table inserts cannot make every sync of the section fail.
    #[serde(default)]
    pub invalid: Vec<String>,
}

/// Whether `id` is an account id: letters, digits, '_' and '-', 1 to 64 characters.
pub fn is_account_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// An account-table value for a message: quoted and escaped, at most 40 characters.
pub fn shown_value(value: &str) -> String {
    let cut: String = value.chars().take(40).collect();
    if cut.len() < value.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// The note a run gets when its account table holds values that are not account ids.
pub fn invalid_accounts_note(invalid: &[String]) -> Option<String> {
    if invalid.is_empty() {
        return None;
    }
    let shown: Vec<String> = invalid.iter().map(|v| shown_value(v)).collect();
    Some(format!(
        "skipped {} value(s) of the account table that are not account ids (letters, digits, '_' and '-' only): {}",
        invalid.len(),
        listed(&shown)
    ))
}

pub const ACCOUNT_IDS_HINT: &str =
    "Pass a comma-separated list of account ids such as '123,456' (spaces are fine), or '0', '' or NULL for every account of the section.";

/// Parses `account_ids`: None means every account ('0', '' or NULL); otherwise the distinct
/// ids in the order given. Ids are letters, digits, '_' and '-' only, at most 64 characters;
/// at most `max_ids` of them (`pg_datamart.max_account_ids`). Linear in the input's length.
pub fn parse_account_ids(input: Option<&str>, max_ids: usize) -> PlanResult<Option<Vec<String>>> {
    let text = input.unwrap_or("").trim();
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    let mut ids: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, raw) in text.split(',').enumerate() {
        if i >= max_ids {
            return Err(PlanError::new(
                crate::error::Code::ProgramLimitExceeded,
                format!(
                    "account_ids lists more than {max_ids} ids (pg_datamart.max_account_ids): {} elements",
                    text.split(',').count()
                ),
                "",
                "Sync every account with '0', or split the list into several calls; a superuser can raise pg_datamart.max_account_ids.",
            ));
        }
        let id = raw.trim();
        if id.is_empty() {
            return Err(PlanError::invalid_argument(
                "account_ids",
                format!("element {} of the list is empty", i + 1),
                ACCOUNT_IDS_HINT,
            ));
        }
        if !is_account_id(id) {
            return Err(PlanError::invalid_argument(
                "account_ids",
                format!(
                    "element {} ({}) is not an account id",
                    i + 1,
                    shown_value(id)
                ),
                ACCOUNT_IDS_HINT,
            ));
        }
        if seen.insert(id) {
            ids.push(id.to_string());
        }
    }
    Ok(Some(ids))
}

/// The built-in types an account column may have: its values are read as text
/// (`a::pg_catalog.text`), and a cast from a type of a role's own (a composite or an enum with a
/// `CREATE CAST ... AS text` of its own) would run that role's function with the privileges of
/// whoever syncs.
pub const ACCOUNT_TYPES: [&str; 9] = [
    "text",
    "character varying",
    "character",
    "bigint",
    "integer",
    "smallint",
    "numeric",
    "uuid",
    "name",
];

/// Refuses an account column whose type is not one of [`ACCOUNT_TYPES`].
pub fn check_account_type(table: &MartTable, column: &str, type_sql: &str) -> PlanResult<()> {
    let base = type_sql.split('(').next().unwrap_or("").trim();
    if ACCOUNT_TYPES.contains(&base) {
        return Ok(());
    }
    Err(PlanError::invalid_definition(
        format!(
            "the account column {} of {} has type {type_sql}, which pg_datamart does not read account ids from",
            quote::display_ident(column),
            table.display_name()
        ),
        format!("Account ids are read as text from a column of a built-in type: {}.", ACCOUNT_TYPES.join(", ")),
        "Use an account table whose account column is text, varchar or an integer type.",
    ))
}

/// The query that lists the account table's distinct ids (as text, sorted) and whether they
/// are all digits: `(text[], boolean)`.
pub fn known_accounts_sql(section: &Section, table: &MartTable) -> PlanResult<String> {
    let column = table.require_column(&section.account_column, "account")?;
    check_account_type(table, &section.account_column, &column.type_sql)?;
    let col = quote::ident(&section.account_column);
    Ok(format!(
        "SELECT COALESCE(pg_catalog.array_agg(a::pg_catalog.text ORDER BY a), '{{}}'::pg_catalog.text[]), \
                COALESCE(pg_catalog.bool_and(a::pg_catalog.text OPERATOR(pg_catalog.~) '^[0-9]+$'::pg_catalog.text), true) \
           FROM (SELECT DISTINCT {col} AS a FROM {} WHERE {col} IS NOT NULL) s",
        table.sql_name()
    ))
}

/// Resolves the request against the account table's ids (`known`, in the table's order): every
/// account, or the requested ids it lists (the others are returned as missing, to be reported).
/// Refuses ids that cannot be account ids of this table (letters where its ids are numbers),
/// and a request none of whose ids is served.
pub fn select_accounts(
    section: &Section,
    table: &MartTable,
    requested: Option<Vec<String>>,
    known: Vec<String>,
    all_digits: bool,
) -> PlanResult<Accounts> {
    let column = table.require_column(&section.account_column, "account")?;
    let numeric_type = ["bigint", "integer", "smallint"].contains(&column.type_sql.as_str())
        || column.type_sql.starts_with("numeric");
    let digits_only = numeric_type || all_digits;
    // Values that cannot be account ids are never sent to the warehouse: skipped, noted.
    let (known, invalid): (Vec<String>, Vec<String>) =
        known.into_iter().partition(|k| is_account_id(k));
    let Some(requested) = requested else {
        if known.is_empty() {
            return Err(PlanError::invalid_definition(
                format!(
                    "the account table {} of section {} is empty",
                    table.display_name(),
                    section.name
                ),
                invalid_accounts_note(&invalid).unwrap_or_default(),
                "Insert the accounts this mart serves into it, or pass account_ids explicitly after adding them.",
            ));
        }
        return Ok(Accounts {
            ids: known,
            missing: vec![],
            invalid,
        });
    };
    if digits_only {
        if let Some(bad) = requested
            .iter()
            .find(|id| !id.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(PlanError::invalid_argument(
                "account_ids",
                format!(
                    "\"{bad}\" is not an account id of section {}: its account table {} holds numeric ids",
                    section.name,
                    table.display_name()
                ),
                ACCOUNT_IDS_HINT,
            ));
        }
    }
    // A numeric account column stores 1001 for '01001': the request means that account.
    let requested: Vec<String> = if numeric_type {
        let mut seen = HashSet::new();
        requested
            .into_iter()
            .map(|id| match id.trim_start_matches('0') {
                "" => "0".to_string(),
                rest => rest.to_string(),
            })
            .filter(|id| seen.insert(id.clone()))
            .collect()
    } else {
        requested
    };
    let known_set: HashSet<&str> = known.iter().map(String::as_str).collect();
    let (mut ids, missing): (Vec<String>, Vec<String>) = requested
        .into_iter()
        .partition(|id| known_set.contains(id.as_str()));
    if ids.is_empty() {
        return Err(PlanError::invalid_argument(
            "account_ids",
            format!(
                "none of the {} requested account(s) ({}) is in the account table {} of section {}",
                missing.len(),
                listed(&missing),
                table.display_name(),
                section.name
            ),
            "Check the ids, or add the accounts to the account table first.",
        ));
    }
    // Keep the account table's order, so the same request always yields the same statements.
    let order: HashMap<&str, usize> = known
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    ids.sort_by_key(|id| order[id.as_str()]);
    Ok(Accounts {
        ids,
        missing,
        invalid,
    })
}
