//! The request: account id lists and windows are validated before any SQL is built.

mod common;

use chrono::Days;
use common::*;
use pg_datamart_plan::window::{parse_account_ids, select_accounts, Window};

/// Joins ids with commas and random blanks around them.
fn spaced(rng: &mut Rng, ids: &[String]) -> String {
    const BLANKS: &[&str] = &["", "", " ", "  ", "\t", " \u{3000}"];
    let blank = |rng: &mut Rng| -> &'static str { BLANKS[rng.below(BLANKS.len())] };
    let mut s = String::new();
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(blank(rng));
        s.push_str(id);
        s.push_str(blank(rng));
    }
    s
}

/// Valid lists (blanks around ids, duplicates) parse to the distinct ids in first-seen order;
/// '0', '' and NULL mean every account.
#[test]
fn parse_account_ids_accepts_valid_lists() {
    cases("parse_account_ids ok", 500, |rng| {
        let digits = rng.chance(1, 2);
        let distinct = account_ids(rng, 12, digits);
        if distinct.is_empty() {
            return;
        }
        // repeat some ids, keeping the first occurrences in order
        let mut with_dups = distinct.clone();
        for _ in 0..rng.below(5) {
            let at = rng.range(1, with_dups.len() as i64) as usize;
            let id = rng.pick(&with_dups[..at]).clone();
            with_dups.insert(at, id);
        }
        let input = spaced(rng, &with_dups);
        let got =
            parse_account_ids(Some(&input), 10_000).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        if distinct == ["0"] {
            assert_eq!(got, None, "{input:?}");
        } else {
            assert_eq!(got, Some(distinct), "{input:?}");
        }
    });
    for all in [None, Some(""), Some("0"), Some(" 0 "), Some("   ")] {
        assert_eq!(parse_account_ids(all, 10_000).unwrap(), None, "{all:?}");
    }
    assert_eq!(
        parse_account_ids(Some("0,0"), 10_000).unwrap(),
        Some(vec!["0".to_string()])
    );
    let max = "9".repeat(64);
    assert_eq!(
        parse_account_ids(Some(&max), 10_000).unwrap(),
        Some(vec![max.clone()])
    );
}

/// Lists with an empty element, a character outside [A-Za-z0-9_-] or an id over 64
/// characters are refused, naming the argument account_ids and the element.
#[test]
fn parse_account_ids_refuses_invalid_lists() {
    const BAD: &[&str] = &[
        "1'2", "1 2", "a;b", "a\"b", "x\\y", "１２", "광고", "📈", "1.5", "+1", "a/b", "a*", "$1",
        "(1)", "1\n2",
    ];
    cases("parse_account_ids bad", 500, |rng| {
        let mut ids = account_ids(rng, 6, false);
        let bad = match rng.below(3) {
            0 => String::new(),
            1 => rng.pick(BAD).to_string(),
            _ => "a".repeat(65 + rng.below(10)),
        };
        let at = rng.below(ids.len() + 1);
        ids.insert(at, bad.clone());
        let mut input = spaced(rng, &ids);
        if input.trim().is_empty() {
            input = ",".into(); // one empty element
        }
        let e = parse_account_ids(Some(&input), 10_000).expect_err(&input);
        assert_eq!(e.code.sqlstate(), "22023");
        assert!(e.message.starts_with("account_ids: "), "{}", e.message);
        assert!(e.message.contains("element "), "{}", e.message);
        assert!(e.hint.contains("comma-separated"), "{}", e.hint);
    });
    for bad in [",", "1,", ",1", "1,,2", "1, ,2"] {
        let e = parse_account_ids(Some(bad), 10_000).unwrap_err();
        assert!(e.message.contains("is empty"), "{bad:?}: {}", e.message);
    }
}

/// Explicit windows are kept as given when start <= end and refused (argument start_date)
/// otherwise; defaults are end = today, start = end - days.
#[test]
fn window_resolve_checks_the_order_of_bounds() {
    cases("window resolve", 500, |rng| {
        let (a, b) = (date(rng), date(rng));
        let today = date(rng);
        let days = rng.range(0, 400) as i32;
        match Window::resolve(days, today, Some(a), Some(b)) {
            Ok(w) => {
                assert!(a <= b);
                assert_eq!((w.start, w.end), (a, b));
                assert_eq!(w.end_exclusive(), b + Days::new(1));
            }
            Err(e) => {
                assert!(a > b);
                assert!(e.message.starts_with("start_date: "), "{}", e.message);
                assert!(e.message.contains(&a.to_string()) && e.message.contains(&b.to_string()));
            }
        }
        let w = Window::resolve(days, today, None, None).unwrap();
        assert_eq!(w.end, today);
        assert_eq!(w.start, today - Days::new(days as u64));
        let w = Window::resolve(days, today, None, Some(b)).unwrap();
        assert_eq!((w.start, w.end), (b - Days::new(days as u64), b));
        // only a start: it must not pass today
        assert_eq!(
            Window::resolve(days, today, Some(a), None).is_ok(),
            a <= today
        );
    });
    // leap day and year boundaries
    let w = Window::resolve(1, ymd(2024, 3, 1), None, None).unwrap();
    assert_eq!(w.start, ymd(2024, 2, 29));
    let w = Window::resolve(0, ymd(2025, 1, 1), None, None).unwrap();
    assert_eq!(
        (w.start, w.end_exclusive()),
        (ymd(2025, 1, 1), ymd(2025, 1, 2))
    );
    assert_eq!(
        Window {
            start: ymd(2024, 12, 31),
            end: ymd(2024, 12, 31)
        }
        .end_exclusive(),
        ymd(2025, 1, 1)
    );
    assert_eq!(
        Window::resolve(-5, ymd(2024, 1, 1), None, None)
            .unwrap()
            .start,
        ymd(2024, 1, 1)
    );
}

/// Requested ids not in the account table are reported as missing, the others kept in the
/// account table's order; all-unknown requests and letters for numeric ids are refused.
#[test]
fn select_accounts_reports_missing_ids() {
    let fx = fixture("google_metric");
    let mut account_table = fx.mart_tables[0].clone();
    account_table.name = "google_customer_dm".into();
    let known: Vec<String> = ["5100000001", "5100000002", "5100000003"]
        .map(String::from)
        .to_vec();
    let req = |ids: &[&str]| Some(ids.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let a = select_accounts(
        &fx.section,
        &account_table,
        req(&["5100000003", "77", "5100000001"]),
        known.clone(),
        true,
    )
    .unwrap();
    assert_eq!(a.ids, ["5100000001", "5100000003"]);
    assert_eq!(a.missing, ["77"]);
    let all = select_accounts(&fx.section, &account_table, None, known.clone(), true).unwrap();
    assert_eq!(all.ids, known);
    assert!(all.missing.is_empty());
    let e = select_accounts(
        &fx.section,
        &account_table,
        req(&["77"]),
        known.clone(),
        true,
    )
    .unwrap_err();
    assert!(
        e.message.starts_with("account_ids: none of"),
        "{}",
        e.message
    );
    let e = select_accounts(
        &fx.section,
        &account_table,
        req(&["abc"]),
        known.clone(),
        true,
    )
    .unwrap_err();
    assert!(e.message.contains("numeric ids"), "{}", e.message);
    let e = select_accounts(&fx.section, &account_table, None, vec![], true).unwrap_err();
    assert!(e.message.contains("is empty"), "{}", e.message);
}

/// The account table query is a qualified local statement over the section's account column.
#[test]
fn known_accounts_query_is_qualified() {
    let mut words = LOCAL_WORDS.to_vec();
    words.extend(["COALESCE", "array_agg", "bool_and", "NULL", "true", "a"]);
    cases("known_accounts_sql", 100, |rng| {
        let fx = fixture("facebook_resource");
        let mut section = fx.section.clone();
        let mut table = fx.mart_tables[0].clone();
        section.account_column = name(rng);
        table.schema = name(rng);
        table.name = name(rng);
        table.columns[1].name = section.account_column.clone();
        let sql = pg_datamart_plan::window::known_accounts_sql(&section, &table).unwrap();
        let toks = check_local(&sql, &words).unwrap_or_else(|e| panic!("{e}"));
        let ids = idents(&toks);
        assert_eq!(
            ids,
            [
                section.account_column.clone(),
                table.schema.clone(),
                table.name.clone(),
                section.account_column.clone()
            ]
        );
        assert_eq!(literals(&toks), ["{}", "^[0-9]+$"]);
    });
    let fx = fixture("facebook_resource");
    let mut section = fx.section.clone();
    section.account_column = "nope".into();
    let e = pg_datamart_plan::window::known_accounts_sql(&section, &fx.mart_tables[0]).unwrap_err();
    assert_eq!(e.code.sqlstate(), "42703");
}

/// A numeric account column stores 1001 for '01001': the request means that account; many
/// unknown ids are listed up to 20, with a count.
#[test]
fn numeric_account_ids_ignore_leading_zeros_and_long_refusals_are_short() {
    let fx = fixture("google_metric");
    let mut account_table = fx.mart_tables[0].clone();
    account_table.name = "google_customer_dm".into();
    let column = account_table
        .columns
        .iter_mut()
        .find(|c| c.name == fx.section.account_column)
        .unwrap();
    column.type_sql = "bigint".into();
    let known: Vec<String> = ["1001", "1002"].map(String::from).to_vec();
    let a = select_accounts(
        &fx.section,
        &account_table,
        Some(vec!["01001".into(), "1001".into(), "0002".into()]),
        known.clone(),
        true,
    )
    .unwrap();
    assert_eq!(a.ids, ["1001"]);
    assert_eq!(a.missing, ["2"]);
    let unknown: Vec<String> = (0..10_000).map(|i| format!("9{i:05}")).collect();
    let e = select_accounts(&fx.section, &account_table, Some(unknown), known, true).unwrap_err();
    assert!(
        e.message
            .contains("none of the 10000 requested account(s) (900000, 900001,")
            && e.message.contains("900019 and 9980 more)"),
        "{}",
        e.message
    );
    assert!(e.message.len() < 500, "{}", e.message.len());
}

/// A window longer than pg_datamart.max_window_days is refused, naming the setting.
#[test]
fn windows_longer_than_the_maximum_are_refused() {
    let w = Window {
        start: ymd(2026, 1, 1),
        end: ymd(2026, 12, 31),
    };
    assert_eq!(w.days(), 365);
    assert!(w.check_span(365).is_ok());
    let e = w.check_span(364).unwrap_err();
    assert!(
        e.message.starts_with("start_date: the window 2026-01-01 .. 2026-12-31 spans 365 days, more than pg_datamart.max_window_days (364)"),
        "{}",
        e.message
    );
    let one = Window {
        start: ymd(2026, 1, 1),
        end: ymd(2026, 1, 1),
    };
    assert_eq!(one.days(), 1);
    assert!(one.check_span(1).is_ok());
}

/// Values of the account table that are not account ids (a backslash, a quote, a blank) are
/// skipped and noted, never sent to the warehouse nor a reason for the sync to fail.
#[test]
fn select_accounts_skips_invalid_account_table_values() {
    let fx = fixture("google_metric");
    let mut account_table = fx.mart_tables[0].clone();
    account_table.name = "google_customer_dm".into();
    let known: Vec<String> = ["5100000001", "51\\00", "5100000002", "x' OR '1", ""]
        .map(String::from)
        .to_vec();
    let all = select_accounts(&fx.section, &account_table, None, known.clone(), false).unwrap();
    assert_eq!(all.ids, ["5100000001", "5100000002"]);
    assert_eq!(all.invalid, ["51\\00", "x' OR '1", ""]);
    let note = pg_datamart_plan::window::invalid_accounts_note(&all.invalid).unwrap();
    assert!(note.starts_with("skipped 3 value(s)"), "{note}");
    assert!(note.contains("\"51\\\\00\""), "{note}");
    let some = select_accounts(
        &fx.section,
        &account_table,
        Some(vec!["5100000002".into()]),
        known,
        false,
    )
    .unwrap();
    assert_eq!(some.ids, ["5100000002"]);
    let e = select_accounts(
        &fx.section,
        &account_table,
        None,
        vec!["a\\b".into()],
        false,
    )
    .unwrap_err();
    assert!(e.message.contains("is empty"), "{}", e.message);
    assert!(e.detail.contains("skipped 1 value"), "{}", e.detail);
}

/// Parsing is linear and bounded: 80,000 ids parse in well under a second (it took 20 s when
/// each id was compared with every earlier one), and a list longer than the maximum is refused
/// with 54000 naming the setting.
#[test]
fn parse_account_ids_is_linear_and_bounded() {
    let ids: Vec<String> = (0..80_000).map(|i| (1_000_000 + i).to_string()).collect();
    let input = ids.join(",");
    let started = std::time::Instant::now();
    let got = parse_account_ids(Some(&input), 100_000).unwrap().unwrap();
    assert_eq!(got.len(), 80_000);
    assert!(
        started.elapsed().as_secs_f64() < 2.0,
        "{:?}",
        started.elapsed()
    );
    let e = parse_account_ids(Some(&input), 10_000).unwrap_err();
    assert_eq!(e.code.sqlstate(), "54000");
    assert!(
        e.message.contains("pg_datamart.max_account_ids"),
        "{}",
        e.message
    );
    assert!(e.message.contains("80000 elements"), "{}", e.message);
}

/// A window must lie within pg_datamart.max_years_from_today of today, either way.
#[test]
fn window_position_is_bounded() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let ok = Window::resolve(7, today, Some(d("2016-12-07")), Some(d("2036-12-07"))).unwrap();
    ok.check_position(today, 10).unwrap();
    let early = Window::resolve(7, today, Some(d("0001-01-01")), Some(d("0001-12-31"))).unwrap();
    let e = early.check_position(today, 10).unwrap_err();
    assert!(
        e.message
            .starts_with("start_date: 0001-01-01 is more than 10 years"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("pg_datamart.max_years_from_today"),
        "{}",
        e.message
    );
    let late = Window::resolve(7, today, Some(d("2026-12-01")), Some(d("9999-12-31"))).unwrap();
    let e = late.check_position(today, 10).unwrap_err();
    assert!(
        e.message.starts_with("end_date: 9999-12-31"),
        "{}",
        e.message
    );
}
