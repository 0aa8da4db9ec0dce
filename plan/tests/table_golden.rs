//! Golden statements: every table of every fixture section, planned in both modes for the
//! fixture's request, rendered (remote script, column definitions, local script) together
//! with the section's generated-procedure description, and compared with
//! `tests/golden/<fixture>_<mode>.sql`. `BLESS=1` rewrites the files.

mod common;

use common::*;
use pg_datamart_plan::procedures;
use pg_datamart_plan::table::{plan_table, PlanOptions};
use pg_datamart_plan::window::{parse_account_ids, Window};
use pg_datamart_plan::{Closed, Mode, PlanError, VacuumPolicy};

fn error_text(e: &PlanError) -> String {
    let mut s = format!("-- ERROR {}: {}\n", e.code.sqlstate(), e.message);
    if !e.detail.is_empty() {
        s += &format!("-- DETAIL: {}\n", e.detail);
    }
    s += &format!("-- HINT: {}\n", e.hint);
    s
}

/// Renders what the planner makes of a fixture in `mode`.
fn render(name: &str, mode: Mode) -> String {
    let fx = fixture(name);
    let req = &fx.request;
    let accounts = parse_account_ids(Some(&req.account_ids), 10_000)
        .expect("fixture account ids parse")
        .expect("fixture names accounts");
    let window = Window::resolve(
        fx.section.days,
        req.end_date,
        Some(req.start_date),
        Some(req.end_date),
    )
    .unwrap();
    let opts = PlanOptions {
        per_query: req.per_query,
        mode,
        remote_timeout_ms: req.remote_timeout_ms,
        today: None,
        account_rows: None,
    };
    let mut out = format!(
        "-- golden: fixture {name}, mode {mode}, window {} .. {}, accounts {}, per_query {}, remote_timeout_ms {:?}\n",
        window.start,
        window.end,
        accounts.join(", "),
        req.per_query,
        req.remote_timeout_ms
    );
    let marts = fx.marts();
    for (t, mart) in fx.section.tables.iter().zip(&marts) {
        out += &format!(
            "\n-- ===== [{}] {} <- {}.{}\n",
            t.position, t.mart_table_name, t.remote_schema, t.remote_table
        );
        match plan_table(&fx.schemas, &fx.section, t, mart, &accounts, &window, &opts) {
            Ok(plan) => {
                out += "-- remote_script:\n";
                out += &plan.remote_script();
                out += ";\n-- column_definitions:\n";
                out += &plan.column_definitions;
                out += "\n-- local_script:\n";
                out += &plan.local_script();
                out += "\n";
            }
            Err(e) => out += &error_text(&e),
        }
    }
    let mut section = fx.section.clone();
    section.mode = mode;
    out += "\n-- ===== procedures::describe\n";
    match procedures::describe(&fx.schemas, &section, &marts) {
        Ok((text, fingerprint)) => {
            out += &format!("-- fingerprint: {fingerprint}\n");
            out += &text;
        }
        Err(e) => out += &error_text(&e),
    }
    out
}

fn check_golden(name: &str) {
    for mode in Mode::ALL {
        golden(&format!("{name}_{mode}"), &render(name, *mode));
    }
}

#[test]
fn golden_facebook_resource() {
    check_golden("facebook_resource");
}

#[test]
fn golden_google_metric() {
    check_golden("google_metric");
}

#[test]
fn golden_naver_metric() {
    check_golden("naver_metric");
}

#[test]
fn golden_kakao_resource() {
    check_golden("kakao_resource");
}

#[test]
fn golden_odd_names() {
    check_golden("odd_names");
}

/// Every fixture deserializes as the catalog queries shape it: modes and policies by their
/// SQL names, nullable fields, mappings, partitions.
#[test]
fn fixtures_deserialize_like_catalog_rows() {
    for name in FIXTURES {
        let fx = fixture(name);
        assert_eq!(fx.section.name, *name);
        assert_eq!(fx.section.tables.len(), fx.mart_tables.len(), "{name}");
        assert_eq!(fx.marts().len(), fx.section.tables.len());
    }
    assert_eq!(fixture("facebook_resource").section.mode, Mode::Upsert);
    assert_eq!(fixture("google_metric").section.mode, Mode::DeleteInsert);
    assert_eq!(
        fixture("kakao_resource").section.vacuum_policy,
        VacuumPolicy::Skip
    );
    let naver = fixture("naver_metric");
    assert_eq!(
        naver.section.tables[1].account_column.as_deref(),
        Some("customerid")
    );
    assert_eq!(naver.section.tables[0].account_column, None);
    let google = fixture("google_metric");
    assert_eq!(google.mart_tables[0].mappings["customer_id"], "customer.id");
    assert_eq!(
        google.mart_tables[0].remote_name("collected_at"),
        "collected_at"
    );
    let fb = fixture("facebook_resource");
    let creative = &fb.mart_tables[2];
    assert!(creative.column("title_length").unwrap().generated);
    assert!(creative.partitions.iter().any(|p| p.bound == "DEFAULT"));
    assert_eq!(
        creative.partition_key.as_deref(),
        Some(&["collected_at".to_string()][..])
    );
}

/// A snapshot with a mode or policy outside the closed sets is refused at deserialization,
/// not planned with a default.
#[test]
fn fixtures_with_unknown_modes_are_refused() {
    for (from, to) in [
        ("\"mode\": \"upsert\"", "\"mode\": \"merge\""),
        ("\"mode\": \"upsert\"", "\"mode\": \"Upsert\""),
        (
            "\"vacuum_policy\": \"wait\"",
            "\"vacuum_policy\": \"later\"",
        ),
    ] {
        let text = fixture_text("facebook_resource");
        assert!(text.contains(from));
        let bad = text.replacen(from, to, 1);
        let err = serde_json::from_str::<Fixture>(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant"), "{err}");
    }
}

/// The fixtures' plans obey the same statement checks as random plans: remote statements
/// in the Redshift dialect, local statements qualified, dblink queries embedding exactly the
/// remote statements.
#[test]
fn fixture_plans_pass_the_statement_checks() {
    for name in FIXTURES {
        let fx = fixture(name);
        let accounts = parse_account_ids(Some(&fx.request.account_ids), 10_000)
            .unwrap()
            .unwrap();
        let window = Window {
            start: fx.request.start_date,
            end: fx.request.end_date,
        };
        for mode in Mode::ALL {
            for (t, mart) in fx.section.tables.iter().zip(fx.marts()) {
                let opts = PlanOptions {
                    per_query: fx.request.per_query,
                    mode: *mode,
                    remote_timeout_ms: fx.request.remote_timeout_ms,
                    today: None,
                    account_rows: None,
                };
                let Ok(plan) = plan_table(
                    &fx.schemas,
                    &fx.section,
                    t,
                    &mart,
                    &accounts,
                    &window,
                    &opts,
                ) else {
                    continue; // the upsert refusal is part of the golden file
                };
                for r in &plan.remote_sqls {
                    let sel = check_remote(r).unwrap();
                    assert_eq!(sel.schema, t.remote_schema);
                    assert_eq!(sel.table, t.remote_table);
                }
                let mut local = plan.partitions.statements();
                local.extend(plan.load.statements());
                local.extend(plan.analyze.iter().map(|(_, s)| s.clone()));
                for s in &local {
                    check_local(s, LOCAL_WORDS).unwrap_or_else(|e| panic!("{name}: {e}"));
                }
            }
        }
    }
}
