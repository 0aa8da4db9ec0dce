//! The sync request: which accounts and which dates. Input is validated here, before any SQL
//! is built from it: account ids become a checked list, dates a checked inclusive window.

use crate::catalog::MartTable;
use crate::error::{DmError, DmResult, SpiContext};
use crate::quote;
use crate::section::Section;
use chrono::{Days, NaiveDate};
use pgrx::prelude::*;

/// The inclusive `date_column` range to (re)load.
#[derive(Debug, Clone, Copy, PartialEq)]
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
}

fn to_naive(d: pgrx::datum::Date, argument: &'static str) -> DmResult<NaiveDate> {
    if !d.is_finite() {
        return Err(DmError::invalid_argument(
            argument,
            "infinity is not a usable date",
            "Pass a calendar date such as '2026-11-01', or NULL for the default.",
        ));
    }
    NaiveDate::from_ymd_opt(d.year(), d.month().into(), d.day().into()).ok_or_else(|| {
        DmError::invalid_argument(
            argument,
            format!("{d} is out of range"),
            "Pass a calendar date such as '2026-11-01'.",
        )
    })
}

/// Today's date in `pg_datamart.timezone` (or the session's time zone).
pub fn today() -> DmResult<NaiveDate> {
    let text = match crate::gucs::timezone() {
        Some(tz) => Spi::get_one_with_args::<String>(
            "SELECT (now() AT TIME ZONE $1)::date::text",
            &[tz.as_str().into()],
        ),
        None => Spi::get_one::<String>("SELECT current_date::text"),
    }
    .doing("reading today's date")?
    .unwrap_or_default();
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| {
        DmError::invalid_definition(
            format!("today's date \"{text}\" could not be read"),
            e.to_string(),
            "Set DateStyle to ISO.",
        )
    })
}

/// The window: explicit bounds, or end = today and start = end - section days.
pub fn resolve_window(
    section: &Section,
    start_date: Option<pgrx::datum::Date>,
    end_date: Option<pgrx::datum::Date>,
) -> DmResult<Window> {
    let end = match end_date {
        Some(d) => to_naive(d, "end_date")?,
        None => today()?,
    };
    let start = match start_date {
        Some(d) => to_naive(d, "start_date")?,
        None => end
            .checked_sub_days(Days::new(section.days as u64))
            .unwrap_or(end),
    };
    if start > end {
        return Err(DmError::invalid_argument(
            "start_date",
            format!("start_date {start} is after end_date {end}"),
            "The window is inclusive: pass start_date <= end_date (or NULL for the section's default of today minus its days).",
        ));
    }
    Ok(Window { start, end })
}

/// The accounts of one sync: the requested ids present in the account table, and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Accounts {
    pub ids: Vec<String>,
    pub missing: Vec<String>,
}

const ACCOUNT_IDS_HINT: &str =
    "Pass a comma-separated list of account ids such as '123,456' (spaces are fine), or '0', '' or NULL for every account of the section.";

/// Parses `account_ids`: None means every account ('0', '' or NULL); otherwise the distinct
/// ids in the order given. Ids are letters, digits, '_' and '-' only, at most 64 characters.
pub fn parse_account_ids(input: Option<&str>) -> DmResult<Option<Vec<String>>> {
    let text = input.unwrap_or("").trim();
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    let mut ids: Vec<String> = Vec::new();
    for (i, raw) in text.split(',').enumerate() {
        let id = raw.trim();
        if id.is_empty() {
            return Err(DmError::invalid_argument(
                "account_ids",
                format!("element {} of the list is empty", i + 1),
                ACCOUNT_IDS_HINT,
            ));
        }
        let ok = id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            let shown: String = id.chars().take(40).collect();
            return Err(DmError::invalid_argument(
                "account_ids",
                format!("element {} ({shown:?}) is not an account id", i + 1),
                ACCOUNT_IDS_HINT,
            ));
        }
        if !ids.iter().any(|x| x == id) {
            ids.push(id.to_string());
        }
    }
    Ok(Some(ids))
}

/// Resolves the request against the section's account table: every account it lists, or the
/// requested ids it lists (the others are returned as missing, to be reported). Refuses ids
/// that cannot be account ids of this table (letters where its ids are numbers), and a request
/// none of whose ids is served.
pub fn resolve_accounts(section: &Section, account_ids: Option<&str>) -> DmResult<Accounts> {
    let requested = parse_account_ids(account_ids)?;
    let table = MartTable::load(section.account_table, "account table")?;
    let column = table.require_column(&section.account_column, "account")?;
    let numeric_type = ["bigint", "integer", "smallint"].contains(&column.type_sql.as_str())
        || column.type_sql.starts_with("numeric");
    let col = quote::ident(&section.account_column);
    let sql = format!(
        "SELECT COALESCE(array_agg(a::text ORDER BY a), '{{}}'), COALESCE(bool_and(a::text ~ '^[0-9]+$'), true)
           FROM (SELECT DISTINCT {col} AS a FROM {} WHERE {col} IS NOT NULL) s",
        table.sql_name()
    );
    let (known, all_digits) =
        Spi::get_two::<Vec<String>, bool>(&sql).doing("reading the account table")?;
    let known = known.unwrap_or_default();
    let digits_only = numeric_type || all_digits.unwrap_or(true);

    let Some(requested) = requested else {
        if known.is_empty() {
            return Err(DmError::invalid_definition(
                format!("the account table {} of section {} is empty", table.display_name(), section.name),
                "",
                "Insert the accounts this mart serves into it, or pass account_ids explicitly after adding them.",
            ));
        }
        return Ok(Accounts {
            ids: known,
            missing: vec![],
        });
    };
    if digits_only {
        if let Some(bad) = requested
            .iter()
            .find(|id| !id.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(DmError::invalid_argument(
                "account_ids",
                format!("\"{bad}\" is not an account id of section {}: its account table {} holds numeric ids", section.name, table.display_name()),
                ACCOUNT_IDS_HINT,
            ));
        }
    }
    let known_set: std::collections::HashSet<&str> = known.iter().map(String::as_str).collect();
    let (mut ids, missing): (Vec<String>, Vec<String>) = requested
        .into_iter()
        .partition(|id| known_set.contains(id.as_str()));
    if ids.is_empty() {
        return Err(DmError::invalid_argument(
            "account_ids",
            format!(
                "none of the requested accounts ({}) is in the account table {} of section {}",
                missing.join(", "),
                table.display_name(),
                section.name
            ),
            "Check the ids, or add the accounts to the account table first.",
        ));
    }
    // Keep the account table's order, so the same request always yields the same statements.
    let order: std::collections::HashMap<&str, usize> = known
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    ids.sort_by_key(|id| order[id.as_str()]);
    Ok(Accounts { ids, missing })
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;

    #[pgrx::pg_test]
    fn account_ids_parse() {
        assert_eq!(parse_account_ids(None).unwrap(), None);
        assert_eq!(parse_account_ids(Some("")).unwrap(), None);
        assert_eq!(parse_account_ids(Some(" 0 ")).unwrap(), None);
        assert_eq!(
            parse_account_ids(Some(" 123, 456 ,123")).unwrap(),
            Some(vec!["123".to_string(), "456".to_string()])
        );
        assert!(parse_account_ids(Some("1,,2")).is_err());
        assert!(parse_account_ids(Some("1'); DROP TABLE x; --")).is_err());
        assert!(parse_account_ids(Some("1 2")).is_err());
        assert!(parse_account_ids(Some(&"9".repeat(65))).is_err());
    }

    #[pgrx::pg_test]
    fn window_end_is_exclusive_next_day() {
        let w = Window {
            start: NaiveDate::from_ymd_opt(2026, 1, 25).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        };
        assert_eq!(
            w.end_exclusive(),
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
        );
    }
}
