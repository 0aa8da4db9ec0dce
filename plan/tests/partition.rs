//! Monthly partitions: names within PostgreSQL's limit, and plans that create exactly the
//! window's missing months, never overlapping what exists, with a DEFAULT check per month.

mod common;

use chrono::{Datelike, Months, NaiveDate};
use common::*;
use pg_datamart_plan::partition::{self, partition_name, DEFAULT_STORAGE};
use pg_datamart_plan::quote;
use pg_datamart_plan::snapshot::{Column, MartTable, Partition};
use pg_datamart_plan::window::Window;
use std::collections::{BTreeMap, HashSet};

/// `partition_name` is at most 63 bytes, deterministic, ends with `_pYYYYMM`, is the plain
/// `<table>_pYYYYMM` when that fits, and differs for different long names.
#[test]
fn partition_names_fit_and_stay_distinct() {
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    cases("partition_name", 600, |rng| {
        let table = name(rng);
        let month = month_start(date(rng));
        let p = partition_name(&table, month);
        let suffix = format!("_p{:04}{:02}", month.year(), month.month());
        assert!(p.len() <= 63, "{p} is {} bytes", p.len());
        assert!(p.ends_with(&suffix), "{p}");
        assert_eq!(p, partition_name(&table, month));
        if table.len() + suffix.len() <= 63 {
            assert_eq!(p, format!("{table}{suffix}"));
        } else {
            // a prefix of the table name, a hash, the month
            let head = p.strip_suffix(&suffix).unwrap();
            let (prefix, hash) = head.rsplit_once('_').unwrap();
            assert!(table.starts_with(prefix), "{p} from {table}");
            assert_eq!(hash.len(), 8);
            assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
        }
        let key = partition_name(&table, ymd(2024, 1, 1));
        if let Some(other) = seen.insert(key.clone(), table.clone()) {
            assert_eq!(other, table, "{key} names two tables");
        }
    });
    // many long names sharing their first 46 bytes still get distinct partitions
    let stem = "facebook_ad_action_values_seg_daily_report_dm_";
    let names: HashSet<String> = (0..500)
        .map(|i| partition_name(&format!("{stem}{i:020}"), ymd(2024, 2, 1)))
        .collect();
    assert_eq!(names.len(), 500);
    assert_eq!(
        partition_name("facebook_ad_creative_dm", ymd(2025, 1, 1)),
        "facebook_ad_creative_dm_p202501"
    );
}

fn col(name: &str, type_sql: &str) -> Column {
    Column {
        name: name.into(),
        type_sql: type_sql.into(),
        generated: false,
        identity: false,
        not_null: true,
        output: None,
    }
}

fn bound(lo: Option<NaiveDate>, hi: Option<NaiveDate>) -> String {
    let b =
        |d: Option<NaiveDate>, inf: &str| d.map(|d| format!("'{d}'")).unwrap_or_else(|| inf.into());
    format!(
        "FOR VALUES FROM ({}) TO ({})",
        b(lo, "MINVALUE"),
        b(hi, "MAXVALUE")
    )
}

fn partitioned(schema: &str, table: &str, date_col: &str, partitions: Vec<Partition>) -> MartTable {
    MartTable {
        oid: 1,
        schema: schema.into(),
        name: table.into(),
        relkind: "p".into(),
        columns: vec![col("account_id", "text"), col(date_col, "date")],
        mappings: BTreeMap::new(),
        keys: vec![],
        partition_strategy: Some("r".into()),
        partition_key: Some(vec![date_col.into()]),
        partitions,
        tablespace: None,
    }
}

type Range = (Option<NaiveDate>, Option<NaiveDate>);

fn covers(r: &Range, m: NaiveDate) -> bool {
    let next = m + Months::new(1);
    r.0.is_none_or(|lo| lo <= m) && r.1.is_none_or(|hi| hi >= next)
}

fn overlaps(a: &Range, b: &Range) -> bool {
    a.0.is_none_or(|lo| b.1.is_none_or(|hi| lo < hi))
        && b.0.is_none_or(|lo| a.1.is_none_or(|hi| lo < hi))
}

/// A random partition layout around a window: month-aligned ranges that never overlap
/// (monthly, multi-month blocks, MINVALUE and MAXVALUE ends), gaps, perhaps a DEFAULT.
fn random_layout(
    rng: &mut Rng,
    schema: &str,
    w: &Window,
    storage: &[String],
) -> (Vec<Partition>, Vec<Range>, bool) {
    let first = month_start(w.start) - Months::new(3);
    let last = month_start(w.end) + Months::new(3);
    let names = distinct_names(rng, 64, &[]);
    let mut parts = Vec::new();
    let mut ranges = Vec::new();
    let reloptions = |rng: &mut Rng| -> Vec<String> {
        match rng.below(3) {
            0 => storage.to_vec(),
            1 => storage.iter().take(1).cloned().collect(),
            _ => vec![],
        }
    };
    let mut m = first;
    if rng.chance(1, 6) {
        let hi = m + Months::new(rng.range(0, 6) as u32);
        ranges.push((None, Some(hi)));
        m = hi;
    }
    while m <= last {
        let k = rng.range(1, 4) as u32;
        let next = m + Months::new(k);
        if rng.chance(1, 2) {
            let r = if k == 1 || rng.chance(1, 2) {
                (Some(m), Some(m + Months::new(1)))
            } else {
                (Some(m), Some(next))
            };
            ranges.push(r);
            m = r.1.unwrap();
        } else {
            m = next;
        }
    }
    if rng.chance(1, 6) {
        ranges.push((Some(m), None));
    }
    for (i, r) in ranges.iter().enumerate() {
        parts.push(Partition {
            schema: if rng.chance(1, 4) {
                names[63].clone()
            } else {
                schema.into()
            },
            name: names[i].clone(),
            bound: bound(r.0, r.1),
            reloptions: reloptions(rng),
            partitioned: false,
        });
    }
    let default = rng.chance(1, 2);
    if default {
        parts.push(Partition {
            schema: schema.into(),
            name: names[62].clone(),
            bound: "DEFAULT".into(),
            reloptions: vec![],
            partitioned: false,
        });
    }
    // catalog order is by name, not by range
    parts.sort_by(|a, b| a.name.cmp(&b.name));
    (parts, ranges, default)
}

/// For random windows and layouts: the plan creates a partition for exactly the window's
/// months no existing range covers, named `partition_name`, with the month's bounds, never
/// overlapping an existing range; checks the DEFAULT partition once per created month when
/// there is one; gives the storage parameters to every existing partition of the window
/// lacking them; and lists every partition written, once.
#[test]
fn plans_create_exactly_the_missing_months() {
    cases("partition plan", 400, |rng| {
        let w = window(rng);
        let schema = name(rng);
        let table = name(rng);
        let date_col = name(rng);
        let storage: Vec<String> = match rng.below(3) {
            0 => DEFAULT_STORAGE.iter().map(|s| s.to_string()).collect(),
            1 => vec!["fillfactor=90".into()],
            _ => vec![],
        };
        let (parts, ranges, has_default) = random_layout(rng, &schema, &w, &storage);
        let mart = partitioned(&schema, &table, &date_col, parts.clone());
        let plan = partition::plan(&mart, &date_col, &storage, &w, None).unwrap();

        let missing: Vec<NaiveDate> = months_of(&w)
            .into_iter()
            .filter(|m| !ranges.iter().any(|r| covers(r, *m)))
            .collect();
        assert_eq!(plan.creates.len(), missing.len(), "{:?}", plan.creates);
        let mut created: Vec<Range> = Vec::new();
        for (c, m) in plan.creates.iter().zip(&missing) {
            let next = *m + Months::new(1);
            let pname = partition_name(&table, *m);
            assert_eq!(c.month, *m);
            assert!(c.in_window);
            assert_eq!(c.name, pg_datamart_plan::quote::qualified(&schema, &pname));
            // A plain table shaped like the parent ...
            let sql = &c.create;
            let toks = check_local(sql, LOCAL_WORDS).unwrap();
            assert_eq!(
                idents(&toks),
                [schema.clone(), pname.clone(), schema.clone(), table.clone()],
                "{sql}"
            );
            assert!(literals(&toks).is_empty(), "{sql}");
            assert!(!sql.contains("PARTITION OF"), "{sql}");
            assert_eq!(sql.contains(" WITH ("), !storage.is_empty(), "{sql}");
            // ... attached with the month's bounds.
            let sql = &c.attach;
            let toks = check_local(sql, LOCAL_WORDS).unwrap();
            assert_eq!(
                idents(&toks),
                [schema.clone(), table.clone(), schema.clone(), pname],
                "{sql}"
            );
            assert_eq!(literals(&toks), [m.to_string(), next.to_string()], "{sql}");
            assert!(sql.starts_with("ALTER TABLE ") && sql.contains(" ATTACH PARTITION "));
            let r = (Some(*m), Some(next));
            assert!(!ranges.iter().any(|e| overlaps(e, &r)), "{sql} overlaps");
            assert!(!created.iter().any(|e| overlaps(e, &r)));
            created.push(r);
        }

        let checks = &plan.default_checks;
        assert_eq!(checks.len(), if has_default { missing.len() } else { 0 });
        let default = parts.iter().find(|p| p.bound == "DEFAULT");
        for (c, m) in checks.iter().zip(&missing) {
            let toks = tokenize(&c.count_sql).unwrap();
            let d = default.unwrap();
            assert_eq!(
                idents(&toks),
                [
                    schema.clone(),
                    table.clone(),
                    date_col.clone(),
                    date_col.clone()
                ]
            );
            assert_eq!(
                literals(&toks),
                [
                    m.to_string(),
                    (*m + Months::new(1)).to_string(),
                    pg_datamart_plan::quote::qualified(&d.schema, &d.name)
                ]
            );
            let refusal = c.refusal(3);
            assert_eq!(refusal.code.sqlstate(), "23514");
            assert!(refusal.message.contains(&m.format("%Y-%m").to_string()));
        }

        // existing partitions of the window
        let in_window: Vec<&Partition> = parts
            .iter()
            .filter(|p| p.bound != "DEFAULT")
            .filter(|p| {
                let pr = range_of_bound(&p.bound);
                months_of(&w).iter().any(|m| covers(&pr, *m))
            })
            .collect();
        let lacking: HashSet<String> = in_window
            .iter()
            .filter(|p| !storage.is_empty() && !storage.iter().all(|o| p.reloptions.contains(o)))
            .map(|p| quote::qualified(&p.schema, &p.name))
            .collect();
        let altered: HashSet<String> = plan.alters.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(altered, lacking);
        for (p, sql) in &plan.alters {
            assert_eq!(
                sql,
                &format!("ALTER TABLE {p} SET ({})", storage.join(", "))
            );
            check_local(sql, LOCAL_WORDS).unwrap();
        }

        let mut expect_touched: HashSet<String> = in_window
            .iter()
            .map(|p| quote::qualified(&p.schema, &p.name))
            .collect();
        expect_touched.extend(
            missing
                .iter()
                .map(|m| quote::qualified(&schema, &partition_name(&table, *m))),
        );
        let touched: HashSet<String> = plan.touched.iter().cloned().collect();
        assert_eq!(
            touched.len(),
            plan.touched.len(),
            "touched twice: {:?}",
            plan.touched
        );
        assert_eq!(touched, expect_touched);
        // alters first, then each create and its attach
        assert_eq!(
            plan.statements().len(),
            plan.alters.len() + 2 * plan.creates.len()
        );
    });
}

fn range_of_bound(b: &str) -> Range {
    let toks = tokenize(b).unwrap();
    let mut vals = Vec::new();
    for t in &toks {
        match t {
            Tok::Word(w) if w == "MINVALUE" || w == "MAXVALUE" => vals.push(None),
            Tok::Str { value, .. } => vals.push(Some(value.parse::<NaiveDate>().unwrap())),
            _ => {}
        }
    }
    (vals[0], vals[1])
}

/// A month only partly covered by an existing partition is refused, naming the month and the
/// bound; so are bounds not at midnight. Timestamp bounds at midnight are fine.
#[test]
fn partial_months_and_odd_bounds_are_refused() {
    let w = Window {
        start: ymd(2024, 1, 10),
        end: ymd(2024, 1, 20),
    };
    let p = |bound: &str| Partition {
        schema: "public".into(),
        name: "t_odd".into(),
        bound: bound.into(),
        reloptions: vec![],
        partitioned: false,
    };
    let partial = partitioned(
        "public",
        "t",
        "collected_at",
        vec![p("FOR VALUES FROM ('2024-01-15') TO ('2024-02-15')")],
    );
    let e = partition::plan(&partial, "collected_at", &[], &w, None).unwrap_err();
    assert_eq!(e.code.sqlstate(), "42P17");
    assert!(
        e.message.contains("2024-01") && e.message.contains("partly covered"),
        "{}",
        e.message
    );
    let noon = partitioned(
        "public",
        "t",
        "collected_at",
        vec![p(
            "FOR VALUES FROM ('2024-01-01 12:00:00') TO ('2024-02-01 00:00:00')",
        )],
    );
    let e = partition::plan(&noon, "collected_at", &[], &w, None).unwrap_err();
    assert!(e.message.contains("not at midnight"), "{}", e.message);
    let midnight = partitioned(
        "public",
        "t",
        "collected_at",
        vec![p(
            "FOR VALUES FROM ('2024-01-01 00:00:00') TO ('2024-02-01 00:00:00')",
        )],
    );
    let plan = partition::plan(&midnight, "collected_at", &[], &w, None).unwrap();
    assert!(plan.creates.is_empty());
    assert_eq!(plan.touched, ["\"public\".\"t_odd\""]);
    assert_eq!(partition::parse_bound("MINVALUE"), Ok(None));
    assert_eq!(
        partition::parse_bound("'2024-02-29'"),
        Ok(Some(ymd(2024, 2, 29)))
    );
    assert!(partition::parse_bound("'2023-02-29'").is_err());
}

/// Partitions that pg_datamart itself created on a `timestamp with time zone` key come back
/// from pg_get_expr as `'2024-01-01 00:00:00+09'` and must still be recognised as monthly.
#[test]
fn timestamptz_bounds_are_recognised() {
    let w = Window {
        start: ymd(2024, 1, 10),
        end: ymd(2024, 1, 20),
    };
    let mut mart = partitioned(
        "public",
        "t",
        "collected_at",
        vec![Partition {
            schema: "public".into(),
            name: "t_p202401".into(),
            bound: "FOR VALUES FROM ('2024-01-01 00:00:00+09') TO ('2024-02-01 00:00:00+09')"
                .into(),
            reloptions: vec![],
            partitioned: false,
        }],
    );
    mart.columns[1].type_sql = "timestamp with time zone".into();
    let plan = partition::plan(&mart, "collected_at", &[], &w, None).unwrap();
    assert!(plan.creates.is_empty());
}

/// A partition spanning several months of the window gets its ALTER once, not once per month.
#[test]
fn multi_month_partitions_are_altered_once() {
    let w = Window {
        start: ymd(2024, 1, 1),
        end: ymd(2024, 3, 31),
    };
    let mart = partitioned(
        "public",
        "t",
        "collected_at",
        vec![Partition {
            schema: "public".into(),
            name: "t_2024q1".into(),
            bound: "FOR VALUES FROM ('2024-01-01') TO ('2024-04-01')".into(),
            reloptions: vec![],
            partitioned: false,
        }],
    );
    let storage: Vec<String> = DEFAULT_STORAGE.iter().map(|s| s.to_string()).collect();
    let plan = partition::plan(&mart, "collected_at", &storage, &w, None).unwrap();
    assert_eq!(plan.alters.len(), 1, "{:#?}", plan.alters);
}

/// The DEFAULT partition's count query is a local statement like the others: operators
/// written `OPERATOR(pg_catalog.op)`.
#[test]
fn default_checks_qualify_their_operators() {
    let fx = fixture("facebook_resource");
    let mart = &fx.mart_tables[2];
    let w = Window {
        start: fx.request.start_date,
        end: fx.request.end_date,
    };
    let plan = partition::plan(
        mart,
        "collected_at",
        &fx.section.storage_parameters,
        &w,
        None,
    )
    .unwrap();
    assert!(!plan.default_checks.is_empty());
    for c in &plan.default_checks {
        check_local(&c.count_sql, LOCAL_WORDS).unwrap();
    }
}

/// Tables not range-partitioned on the date column are loaded as they are: no DDL, and the
/// table itself is what is written and analyzed.
#[test]
fn other_tables_get_no_partition_ddl() {
    let w = Window {
        start: ymd(2024, 1, 1),
        end: ymd(2024, 6, 1),
    };
    let mut list = partitioned("s", "t", "collected_at", vec![]);
    list.partition_strategy = Some("l".into());
    let mut other_key = partitioned("s", "t", "collected_at", vec![]);
    other_key.partition_key = Some(vec!["account_id".into()]);
    let mut two_keys = partitioned("s", "t", "collected_at", vec![]);
    two_keys.partition_key = Some(vec!["collected_at".into(), "account_id".into()]);
    let mut plain = partitioned("s", "t", "collected_at", vec![]);
    plain.relkind = "r".into();
    plain.partition_strategy = None;
    plain.partition_key = None;
    for mart in [list, other_key, two_keys, plain] {
        let plan =
            partition::plan(&mart, "collected_at", &["fillfactor=90".into()], &w, None).unwrap();
        assert!(
            plan.creates.is_empty() && plan.alters.is_empty() && plan.default_checks.is_empty()
        );
        assert_eq!(plan.touched, ["\"s\".\"t\""]);
    }
}

/// Storage parameters go into DDL that runs as the table's owner: the planner refuses any
/// that registration would have refused, whoever wrote them into dm.section.
#[test]
fn storage_parameters_are_checked_again_when_planning() {
    let w = Window {
        start: ymd(2026, 1, 10),
        end: ymd(2026, 2, 3),
    };
    let mart = partitioned("s", "t_dm", "collected_at", vec![]);
    for bad in [
        "fillfactor=90) WITH (x=1",
        "fillfactor=90; DROP TABLE t_dm",
        "fillfactor='90'",
        "fillfactor",
        "FillFactor=90",
    ] {
        let e = partition::plan(&mart, "collected_at", &[bad.to_string()], &w, None).unwrap_err();
        assert_eq!(
            e.code,
            pg_datamart_plan::Code::InvalidParameterValue,
            "{bad}"
        );
        assert!(
            e.message.starts_with("storage_parameters: "),
            "{}",
            e.message
        );
    }
    let good = partition::plan(
        &mart,
        "collected_at",
        &["fillfactor=90".to_string()],
        &w,
        None,
    )
    .unwrap();
    assert_eq!(good.creates.len(), 2);
}

/// Next month's partition is created ahead of time when the window reaches the current month,
/// unless a DEFAULT partition exists or a range already touches that month; it is not written
/// to (not in `touched`, no DEFAULT check).
#[test]
fn next_months_partition_is_created_ahead_of_time() {
    let today = ymd(2024, 3, 30);
    let w = Window {
        start: ymd(2024, 3, 1),
        end: ymd(2024, 3, 30),
    };
    assert_eq!(partition::ahead_month(&w, today), Some(ymd(2024, 4, 1)));
    let old = Window {
        start: ymd(2024, 1, 1),
        end: ymd(2024, 2, 29),
    };
    assert_eq!(
        partition::ahead_month(&old, today),
        None,
        "a backfill creates nothing ahead"
    );
    let march = |bound: &str, name: &str| Partition {
        schema: "public".into(),
        name: name.into(),
        bound: bound.into(),
        reloptions: vec![],
        partitioned: false,
    };
    let mart = partitioned(
        "public",
        "t",
        "collected_at",
        vec![march(
            "FOR VALUES FROM ('2024-03-01') TO ('2024-04-01')",
            "t_p202403",
        )],
    );
    let ahead = partition::ahead_month(&w, today);
    let plan =
        partition::plan(&mart, "collected_at", &["fillfactor=90".into()], &w, ahead).unwrap();
    assert_eq!(plan.creates.len(), 1);
    let c = &plan.creates[0];
    assert_eq!((c.month, c.in_window), (ymd(2024, 4, 1), false));
    assert_eq!(c.name, "\"public\".\"t_p202404\"");
    assert!(c.create.ends_with(" WITH (fillfactor=90)"), "{}", c.create);
    assert!(
        c.attach
            .ends_with("FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')"),
        "{}",
        c.attach
    );
    assert_eq!(plan.touched, ["\"public\".\"t_p202403\""]);
    assert!(plan.default_checks.is_empty());
    // Already there, or partly covered, or a DEFAULT partition: nothing ahead.
    for extra in [
        march(
            "FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')",
            "t_p202404",
        ),
        march("FOR VALUES FROM ('2024-04-15') TO ('2024-06-01')", "t_odd"),
        march("DEFAULT", "t_default"),
    ] {
        let mut m = mart.clone();
        m.partitions.push(extra);
        let plan = partition::plan(&m, "collected_at", &[], &w, ahead).unwrap();
        assert!(plan.creates.is_empty(), "{:?}", plan.creates);
    }
}

/// New partitions go to the parent's tablespace (as PARTITION OF would put them); a
/// sub-partitioned partition gets no storage parameters (a partitioned table takes none).
#[test]
fn tablespace_and_sub_partitioned_partitions() {
    let w = Window {
        start: ymd(2024, 1, 10),
        end: ymd(2024, 2, 10),
    };
    let mut mart = partitioned(
        "public",
        "t",
        "collected_at",
        vec![Partition {
            schema: "public".into(),
            name: "t_p202401".into(),
            bound: "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')".into(),
            reloptions: vec![],
            partitioned: true,
        }],
    );
    mart.tablespace = Some("fast \"ssd\"".into());
    let plan = partition::plan(&mart, "collected_at", &["fillfactor=90".into()], &w, None).unwrap();
    assert!(plan.alters.is_empty(), "{:?}", plan.alters);
    assert_eq!(plan.touched.len(), 2);
    assert_eq!(plan.creates.len(), 1);
    assert!(
        plan.creates[0]
            .create
            .ends_with(" WITH (fillfactor=90) TABLESPACE \"fast \"\"ssd\"\"\""),
        "{}",
        plan.creates[0].create
    );
    let e =
        pg_datamart_plan::config::check_storage(&["fillfactor=50".into(), "fillfactor=60".into()])
            .unwrap_err();
    assert!(
        e.message.contains("fillfactor is given more than once"),
        "{}",
        e.message
    );
}
