//! Properties of table plans over random catalogs: random schema, table and column names
//! (quotes, backslashes, dots, reserved words, Korean, emoji, 63+ bytes), mappings, account
//! ids, windows, modes and chunk sizes. Remote statements stay in the Redshift dialect and
//! read back to exactly the names and values used; local statements are qualified and embed
//! exactly the remote statements; nothing escapes its quotes.

mod common;

use common::*;
use pg_datamart_plan::procedures;
use pg_datamart_plan::quote;
use pg_datamart_plan::snapshot::{
    Column, Key, MartTable, Partition, Schemas, Section, SectionTable,
};
use pg_datamart_plan::table::{
    chunk_accounts, plan_table, probe_sql, LoadSql, PlanOptions, TablePlan, MAX_ID_BYTES_PER_QUERY,
};
use pg_datamart_plan::window::Window;
use pg_datamart_plan::{Mode, VacuumPolicy};
use std::collections::BTreeMap;

const TYPES: &[&str] = &[
    "text",
    "bigint",
    "integer",
    "character varying(64)",
    "numeric(18,2)",
    "double precision",
    "boolean",
    "date",
    "timestamp without time zone",
    "timestamp with time zone",
    "jsonb",
    "json",
];

struct Scenario {
    schemas: Schemas,
    section: Section,
    table: SectionTable,
    mart: MartTable,
    accounts: Vec<String>,
    window: Window,
    opts: PlanOptions,
}

fn column(name: &str, type_sql: &str, not_null: bool) -> Column {
    Column {
        name: name.into(),
        type_sql: type_sql.into(),
        generated: false,
        identity: false,
        not_null,
        output: None,
    }
}

fn scenario(rng: &mut Rng) -> Scenario {
    let n_data = rng.range(1, 6) as usize;
    let names = distinct_names(rng, n_data + 3, &["id", "created_at", "updated_at"]);
    let (acct, date_col, extra) = (&names[0], &names[1], &names[2]);
    let account_type = *rng.pick(&["bigint", "character varying(32)", "text"]);
    let digits = account_type == "bigint";
    let mut columns = Vec::new();
    if rng.chance(2, 3) {
        columns.push(Column {
            identity: true,
            ..column("id", "bigint", true)
        });
    }
    columns.push(column(acct, account_type, true));
    for n in &names[3..] {
        let ty = *rng.pick(TYPES);
        columns.push(column(n, ty, rng.chance(1, 3)));
    }
    let date_type = *rng.pick(&["date", "timestamp without time zone"]);
    columns.insert(
        rng.range(1, columns.len() as i64) as usize,
        column(date_col, date_type, true),
    );
    if rng.chance(1, 3) {
        // a generated column: never fetched, never written
        columns.push(Column {
            generated: true,
            ..column(extra, "integer", false)
        });
    }
    for stamp in ["created_at", "updated_at"] {
        if rng.chance(2, 3) {
            columns.push(column(stamp, "timestamp with time zone", true));
        }
    }
    let mut mappings = BTreeMap::new();
    for c in &columns {
        if !c.generated && !c.identity && rng.chance(1, 3) {
            mappings.insert(c.name.clone(), name(rng));
        }
    }
    let key_cols = vec![acct.clone(), names[3].clone(), date_col.clone()];
    for c in columns.iter_mut().filter(|c| key_cols.contains(&c.name)) {
        c.not_null = true;
    }
    let keys = vec![Key {
        name: "k".into(),
        primary: true,
        columns: key_cols,
    }];
    let window = window(rng);
    let schema = name(rng);
    let table_name = name(rng);
    let partitioned = rng.chance(1, 2);
    let mut partitions = Vec::new();
    if partitioned {
        for m in months_of(&window) {
            if rng.chance(1, 2) {
                let next = m + chrono::Months::new(1);
                partitions.push(Partition {
                    schema: schema.clone(),
                    name: name(rng),
                    bound: format!("FOR VALUES FROM ('{m}') TO ('{next}')"),
                    reloptions: vec![],
                    partitioned: false,
                });
            }
        }
    }
    let mart = MartTable {
        oid: rng.range(16384, 4_000_000_000) as u32,
        schema: schema.clone(),
        name: table_name.clone(),
        relkind: if partitioned { "p" } else { "r" }.into(),
        columns,
        mappings,
        keys,
        partition_strategy: partitioned.then(|| "r".into()),
        partition_key: partitioned.then(|| vec![date_col.clone()]),
        partitions,
        tablespace: None,
    };
    let table = SectionTable {
        position: 1,
        mart_table: mart.oid,
        mart_table_name: mart.display_name(),
        remote_schema: name(rng),
        remote_table: name(rng),
        account_column: None,
    };
    let section = Section {
        name: "random_section".into(),
        account_column: acct.clone(),
        account_table: 1,
        account_table_name: "accounts".into(),
        days: 7,
        mode: Mode::DeleteInsert,
        server: name(rng),
        date_column: date_col.clone(),
        storage_parameters: if rng.chance(1, 2) {
            vec!["fillfactor=90".into()]
        } else {
            vec![]
        },
        vacuum_policy: VacuumPolicy::Wait,
        vacuum_wait: 60,
        tables: vec![table.clone()],
    };
    let opts = PlanOptions {
        per_query: if rng.chance(1, 4) {
            usize::MAX
        } else {
            rng.below(6)
        },
        mode: *rng.pick(&[Mode::DeleteInsert, Mode::Upsert]),
        remote_timeout_ms: rng.chance(1, 2).then(|| rng.range(1, 10_000_000)),
        today: None,
        account_rows: None,
    };
    Scenario {
        schemas: Schemas {
            ours: name(rng),
            dblink: name(rng),
        },
        section,
        table,
        mart,
        accounts: account_ids(rng, 12, digits),
        window,
        opts,
    }
}

fn plan(s: &Scenario) -> TablePlan {
    plan_table(
        &s.schemas,
        &s.section,
        &s.table,
        &s.mart,
        &s.accounts,
        &s.window,
        &s.opts,
    )
    .unwrap_or_else(|e| panic!("{}", e.message))
}

/// Every local statement of a plan, in execution order (the DEFAULT partition's count queries
/// excepted: see partition.rs's ignored test).
fn local_statements(p: &TablePlan) -> Vec<String> {
    let mut v = p.partitions.statements();
    v.extend(p.load.statements());
    v.extend(p.analyze.iter().map(|(_, s)| s.clone()));
    v
}

/// Remote statements: the Redshift dialect (no `::`, `E''`, `ANY`, `FORMAT`,
/// `IS DISTINCT FROM`, `$$`, `;` or comments outside identifiers and literals), every
/// identifier quoted and reading back as the random remote names, the window's bounds and the
/// chunk's ids as plain literals, and all the accounts, in order, across the chunks.
#[test]
fn remote_statements_are_redshift_and_round_trip() {
    cases("remote statements", 400, |rng| {
        let s = scenario(rng);
        let p = plan(&s);
        let fetched = s.mart.fetched_columns().unwrap();
        let remote_cols: Vec<String> = fetched.iter().map(|c| c.remote.clone()).collect();
        let mut all_ids = Vec::new();
        for sql in &p.remote_sqls {
            let sel = check_remote(sql).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(sel.columns, remote_cols);
            assert_eq!(sel.schema, s.table.remote_schema);
            assert_eq!(sel.table, s.table.remote_table);
            assert_eq!(sel.date_column, s.mart.remote_name(&s.section.date_column));
            assert_eq!(
                sel.account_column,
                s.mart.remote_name(&s.section.account_column)
            );
            assert_eq!(sel.start, s.window.start.format("%Y-%m-%d").to_string());
            assert_eq!(sel.end_exclusive, s.window.end_exclusive().to_string());
            assert!(sel.ids.len() <= s.opts.per_query.max(1));
            all_ids.extend(sel.ids);
        }
        assert_eq!(all_ids, s.accounts);
        assert_eq!(p.remote_script(), p.remote_sqls.join(";\n"));
    });
}

/// Local statements: every built-in called as `pg_catalog.f(` or `"schema".f(`, every
/// operator `OPERATOR(pg_catalog.op)` (assignments excepted), only the planner's words
/// outside quotes, no `;`, `--` or foreign comment, and every identifier one of the random
/// names of the snapshot.
#[test]
fn local_statements_are_qualified_and_closed() {
    cases("local statements", 400, |rng| {
        let s = scenario(rng);
        let p = plan(&s);
        let mut known: Vec<String> = s.mart.columns.iter().map(|c| c.name.clone()).collect();
        known.extend([
            s.schemas.dblink.clone(),
            s.mart.schema.clone(),
            s.mart.name.clone(),
            "C".into(),
        ]);
        known.extend(
            s.mart
                .partitions
                .iter()
                .flat_map(|q| [q.schema.clone(), q.name.clone()]),
        );
        known.extend(
            months_of(&s.window)
                .iter()
                .map(|m| pg_datamart_plan::partition::partition_name(&s.mart.name, *m)),
        );
        for sql in local_statements(&p) {
            let toks = check_local(&sql, LOCAL_WORDS).unwrap_or_else(|e| panic!("{e}"));
            for id in idents(&toks) {
                assert!(known.contains(&id), "unknown identifier {id:?} in {sql}");
            }
        }
        let script = p.local_script();
        assert!(script.ends_with(';'));
        for t in tokenize(&script).unwrap() {
            if let Tok::Comment(c) = t {
                assert!(COMMENT_MARKERS.contains(&c.as_str()), "{c}");
            }
        }
    });
}

/// The literals of local statements read back as exactly the values planned: dblink's
/// query literal is the remote statement, the window's bounds and the ids are those asked,
/// the connection and server names are those of the snapshot.
#[test]
fn local_literals_round_trip() {
    cases("local literals", 400, |rng| {
        let s = scenario(rng);
        let p = plan(&s);
        let start = s.window.start.to_string();
        let end = s.window.end_exclusive().to_string();
        let mut window_lits = vec![start.clone(), end.clone()];
        window_lits.extend(s.accounts.iter().cloned());
        let lits = |sql: &str| literals(&tokenize(sql).unwrap());
        match &p.load {
            LoadSql::DeleteInsert { delete, copy } => {
                assert_eq!(lits(delete), window_lits);
                assert!(lits(copy).is_empty(), "{copy}");
            }
            LoadSql::Upsert {
                groups,
                delete,
                copy,
                ..
            } => {
                // each group's fingerprints: the window's literals for the group's accounts,
                // and the NULL hashes (integers); the groups cover the accounts in order
                use pg_datamart_plan::table::{fingerprint_seed, null_hash, Part};
                let null_hashes: Vec<String> = [Part::Key0, Part::Key1, Part::Row]
                    .into_iter()
                    .flat_map(|p| {
                        (0..64).map(move |j| (null_hash(fingerprint_seed(p, j)) as i64).to_string())
                    })
                    .collect();
                let mut ids = Vec::new();
                for g in groups {
                    let window_only: Vec<String> = lits(&g.fingerprints)
                        .into_iter()
                        .filter(|l| !null_hashes.contains(l))
                        .collect();
                    assert_eq!(window_only[..2], [start.clone(), end.clone()]);
                    ids.extend(window_only[2..].iter().cloned());
                }
                assert_eq!(ids, s.accounts);
                assert_eq!(
                    groups.iter().map(|g| g.queries).sum::<usize>(),
                    p.remote_sqls.len()
                );
                assert_eq!(lits(delete), window_lits);
                assert!(lits(copy).is_empty(), "{copy}");
            }
        }
        let mut remote_setup = Vec::new();
        if let Some(ms) = s.opts.remote_timeout_ms {
            remote_setup.push(format!("SET statement_timeout = {ms}"));
        }
        assert_eq!(p.stream.remote_setup, remote_setup);
        assert_eq!(p.stream.server, s.section.server);
    });
}

/// The column lists agree: the definition list declares the fetched mart columns with their
/// types, the INSERT writes them plus the settable stamps, and the upsert's UPDATE sets every
/// fetched non-key column.
#[test]
fn column_lists_agree() {
    cases("column lists", 300, |rng| {
        let s = scenario(rng);
        let p = plan(&s);
        let fetched = s.mart.fetched_columns().unwrap();
        let expect_defs: Vec<String> = fetched
            .iter()
            .map(|c| format!("{} {}", quote::ident(&c.mart), c.type_sql))
            .collect();
        assert_eq!(p.column_definitions, expect_defs.join(", "));
        let defs = idents(&tokenize(&p.column_definitions).unwrap());
        let marts: Vec<String> = fetched.iter().map(|c| c.mart.clone()).collect();
        assert_eq!(defs, marts);
        let mut target = marts.clone();
        target.extend(
            ["created_at", "updated_at"]
                .into_iter()
                .filter(|c| s.mart.column(c).is_some())
                .map(String::from),
        );
        assert_eq!(p.stream.columns, marts);
        let mut stamps = target[marts.len()..].to_vec();
        assert_eq!(p.stream.stamps, stamps);
        let copy = match &p.load {
            LoadSql::DeleteInsert { copy, .. } | LoadSql::Upsert { copy, .. } => copy.clone(),
        };
        let copy_list = {
            let toks = tokenize(&copy).unwrap();
            let open = toks.iter().position(|t| t.is_punct("(")).unwrap();
            let close = open + toks[open..].iter().position(|t| t.is_punct(")")).unwrap();
            idents(&toks[open..close])
        };
        if let LoadSql::Upsert { key, carried, .. } = &p.load {
            // the fetched columns, then every other settable column but updated_at (kept from
            // the old row), then updated_at (the load's timestamp)
            assert_eq!(key, &s.mart.keys[0].columns);
            let kept: Vec<String> = s
                .mart
                .columns
                .iter()
                .filter(|c| !c.generated && c.name != "updated_at" && !marts.contains(&c.name))
                .map(|c| c.name.clone())
                .collect();
            assert_eq!(
                carried.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                kept
            );
            let mut list = marts.clone();
            list.extend(kept);
            if stamps.contains(&"updated_at".to_string()) {
                list.push("updated_at".into());
            }
            assert_eq!(copy_list, list, "{copy}");
            stamps.clear();
        } else {
            assert_eq!(copy_list, target, "{copy}");
        }
        assert!(stamps.len() <= 2);
    });
}

/// Chunks keep every id once, in order; none is empty or over per_query ids; none passes
/// MAX_ID_BYTES_PER_QUERY (counting 4 bytes of quoting per id) unless it holds one id.
#[test]
fn chunks_keep_every_id_within_the_limits() {
    cases("chunk_accounts", 300, |rng| {
        let big = rng.chance(1, 5);
        let n = rng.below(if big { 40 } else { 300 });
        let ids: Vec<String> = (0..n)
            .map(|i| {
                if big {
                    // ids far longer than real ones, so that the byte limit bites
                    format!(
                        "{i}:{}",
                        "x".repeat(rng.range(1, MAX_ID_BYTES_PER_QUERY as i64 / 3) as usize)
                    )
                } else {
                    account_id(rng, false)
                }
            })
            .collect();
        let per_query = if rng.chance(1, 5) {
            usize::MAX
        } else {
            rng.below(40)
        };
        let chunks = chunk_accounts(&ids, per_query);
        let flat: Vec<String> = chunks.iter().flat_map(|c| c.iter().cloned()).collect();
        assert_eq!(flat, ids);
        for c in &chunks {
            assert!(!c.is_empty());
            assert!(c.len() <= per_query.max(1));
            let bytes: usize = c.iter().map(|id| id.len() + 4).sum();
            assert!(bytes <= MAX_ID_BYTES_PER_QUERY || c.len() == 1, "{bytes}");
        }
        // greedy: a chunk ends only where the next id would break a limit
        for w in chunks.windows(2) {
            let bytes: usize = w[0].iter().chain(&w[1][..1]).map(|id| id.len() + 4).sum();
            assert!(w[0].len() == per_query.max(1) || bytes > MAX_ID_BYTES_PER_QUERY);
        }
    });
    let many: Vec<String> = (0..20_000).map(|i| format!("{i:064}")).collect();
    let chunks = chunk_accounts(&many, usize::MAX);
    assert!(
        chunks.len() >= 2,
        "{} ids of 64 bytes fit one MiB?",
        many.len()
    );
}

/// Upsert needs a primary key or unique index on fetched NOT NULL columns; without one the
/// plan is refused (42P10) naming the table, whatever delete_insert would do.
#[test]
fn upsert_without_a_usable_key_is_refused() {
    cases("upsert key", 100, |rng| {
        let mut s = scenario(rng);
        s.opts.mode = Mode::Upsert;
        let unusable = &s.mart.keys[0].columns[1].clone();
        if rng.chance(1, 2) {
            s.mart.keys.clear();
        } else {
            s.mart
                .columns
                .iter_mut()
                .filter(|c| &c.name == unusable)
                .for_each(|c| c.generated = true);
        }
        let e = plan_table(
            &s.schemas,
            &s.section,
            &s.table,
            &s.mart,
            &s.accounts,
            &s.window,
            &s.opts,
        )
        .unwrap_err();
        assert_eq!(e.code.sqlstate(), "42P10");
        assert!(e.message.contains(&s.mart.display_name()), "{}", e.message);
        s.opts.mode = Mode::DeleteInsert;
        assert!(plan_table(
            &s.schemas,
            &s.section,
            &s.table,
            &s.mart,
            &s.accounts,
            &s.window,
            &s.opts
        )
        .is_ok());
    });
}

/// A unique key on nullable columns is usable by upsert (NULLs match as equal), but a key
/// whose columns are all NOT NULL is preferred.
#[test]
fn upsert_accepts_a_nullable_key_and_prefers_a_not_null_one() {
    cases("nullable upsert key", 100, |rng| {
        let mut s = scenario(rng);
        s.opts.mode = Mode::Upsert;
        let nullable = s.mart.keys[0].columns[1].clone();
        s.mart
            .columns
            .iter_mut()
            .filter(|c| c.name == nullable)
            .for_each(|c| c.not_null = false);
        let key = |s: &Scenario| match plan(s).load {
            LoadSql::Upsert { key, .. } => key,
            LoadSql::DeleteInsert { .. } => unreachable!(),
        };
        assert_eq!(key(&s), s.mart.keys[0].columns);
        let mut other = s.mart.keys[0].clone();
        other.name = "other".into();
        other.primary = false;
        other.columns.retain(|c| c != &nullable);
        if !other.columns.is_empty() {
            s.mart.keys.push(other.clone());
            assert_eq!(key(&s), other.columns);
        }
    });
}

/// A snapshot whose account or date column is missing from the mart table is refused (42703)
/// naming the column; values that cannot reach Redshift as literals are refused, not sent.
#[test]
fn missing_columns_and_unsendable_ids_are_refused() {
    cases("missing columns", 100, |rng| {
        let mut s = scenario(rng);
        let date = s.section.date_column.clone();
        let acct = s.section.account_column.clone();
        let gone = if rng.chance(1, 2) { date } else { acct };
        s.mart.columns.retain(|c| c.name != gone);
        let e = plan_table(
            &s.schemas,
            &s.section,
            &s.table,
            &s.mart,
            &s.accounts,
            &s.window,
            &s.opts,
        )
        .unwrap_err();
        assert_eq!(e.code.sqlstate(), "42703");
        assert!(e.message.contains(&format!("\"{gone}\"")), "{}", e.message);
    });
    let mut s = scenario(&mut Rng::new(7));
    s.accounts = vec!["1".into(), "a\\b".into()];
    let e = plan_table(
        &s.schemas,
        &s.section,
        &s.table,
        &s.mart,
        &s.accounts,
        &s.window,
        &s.opts,
    )
    .unwrap_err();
    assert!(e.message.starts_with("value: "), "{}", e.message);
}

/// Plans are deterministic: the same snapshot and request give the same statements.
#[test]
fn plans_are_deterministic() {
    cases("deterministic", 100, |rng| {
        let s = scenario(rng);
        assert_eq!(plan(&s), plan(&s));
    });
}

/// Generated procedures' descriptions: one `--` comment per line whatever the names hold,
/// stand-ins in place of the request's values, a fingerprint that follows the text.
#[test]
fn descriptions_are_comments_with_stand_ins() {
    cases("describe", 200, |rng| {
        let mut s = scenario(rng);
        s.section.mode = s.opts.mode;
        let (text, fp) = procedures::describe(&s.schemas, &s.section, &[s.mart.clone()]).unwrap();
        assert_eq!(fp.len(), 16);
        for line in text.lines() {
            assert!(line.starts_with("--"), "{line:?}");
        }
        assert!(!text.contains('\r'));
        assert!(!text.contains("__ACCOUNT_IDS__"), "{text}");
        assert!(text.contains("IN (<account_ids>)"), "{text}");
        assert!(text.contains(">= <start_date>") && text.contains("< <end_date + 1>"));
        let again = procedures::describe(&s.schemas, &s.section, &[s.mart.clone()]).unwrap();
        assert_eq!(again.1, fp);
        let mut changed = s.mart.clone();
        changed.columns.push(Column {
            name: "new_column".into(),
            type_sql: "text".into(),
            generated: false,
            identity: false,
            not_null: false,
            output: None,
        });
        let other = procedures::describe(&s.schemas, &s.section, &[changed]).unwrap();
        assert_ne!(other.1, fp, "a new column must change the fingerprint");
        let (create, comment) = procedures::create_sql(&s.schemas, &s.section.name, &text, &fp);
        assert!(create.contains(&text));
        assert!(create.contains(&quote::qualified(&s.schemas.ours, "dm_sync_random_section")));
        assert!(comment.starts_with("COMMENT ON PROCEDURE "));
    });
}

/// Distinct section names (as `config::check_section_name` accepts them) get distinct
/// generated procedures.
#[test]
fn procedure_names_are_distinct_for_distinct_sections() {
    use pg_datamart_plan::config::check_section_name;
    let mut seen = std::collections::HashMap::new();
    let sections = [
        "a_b",
        "a__b",
        "x",
        "x_",
        "fb_v2",
        "fb_v_2",
        "facebook_resource",
    ];
    for s in sections {
        check_section_name(s).unwrap();
        let p = procedures::procedure_name(s);
        assert!(p.len() <= 63);
        if let Some(other) = seen.insert(p.clone(), s) {
            panic!("sections {other} and {s} both get {p}");
        }
    }
}

/// The configuration writes' read check: plain Redshift SQL (only `SELECT`, `FROM`, `WHERE`,
/// quoted identifiers and `1 = 0`), reading the remote table and exactly the columns a sync of
/// the table reads (every fetched column, then the window's date and account columns when not
/// fetched), each once.
#[test]
fn probe_reads_exactly_what_a_sync_reads() {
    cases("probe", 400, |rng| {
        let s = scenario(rng);
        let sql =
            probe_sql(&s.section, &s.table, &s.mart).unwrap_or_else(|e| panic!("{}", e.message));
        let toks = tokenize(&sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
        let mut expected: Vec<String> = s
            .mart
            .fetched_columns()
            .unwrap()
            .into_iter()
            .map(|c| c.remote)
            .collect();
        for c in [
            s.mart.remote_name(&s.section.date_column).to_string(),
            s.mart
                .remote_name(s.section.account_column_of(&s.table))
                .to_string(),
        ] {
            if !expected.contains(&c) {
                expected.push(c);
            }
        }
        assert!(toks[0].is_word("SELECT"), "{sql}");
        let mut p = 1;
        let mut columns = Vec::new();
        loop {
            match &toks[p] {
                Tok::Ident(c) => columns.push(c.clone()),
                t => panic!("expected a quoted column at {p} ({t:?}): {sql}"),
            }
            p += 1;
            if toks[p].is_punct(",") {
                p += 1;
            } else {
                break;
            }
        }
        assert_eq!(columns, expected, "{sql}");
        let rest = &toks[p..];
        assert_eq!(rest.len(), 8, "{sql}");
        assert!(rest[0].is_word("FROM"), "{sql}");
        assert!(
            matches!(&rest[1], Tok::Ident(x) if *x == s.table.remote_schema),
            "{sql}"
        );
        assert!(rest[2].is_punct("."), "{sql}");
        assert!(
            matches!(&rest[3], Tok::Ident(x) if *x == s.table.remote_table),
            "{sql}"
        );
        assert!(rest[4].is_word("WHERE"), "{sql}");
        assert!(matches!(&rest[5], Tok::Number(n) if n == "1"), "{sql}");
        assert!(matches!(&rest[6], Tok::Op(o) if o == "="), "{sql}");
        assert!(matches!(&rest[7], Tok::Number(n) if n == "0"), "{sql}");
    });
}

/// Upsert groups: consecutive accounts, every account once and in order, each group within
/// `group_rows` unless it holds one account; one group when the rows are unknown.
#[test]
fn upsert_groups_cover_the_accounts_within_the_budget() {
    use pg_datamart_plan::table::{group_accounts, AccountRows};
    cases("upsert groups", 300, |rng| {
        let n = rng.below(40) + 1;
        let ids: Vec<String> = (0..n).map(|i| format!("{i}")).collect();
        assert_eq!(group_accounts(&ids, None), vec![&ids[..]]);
        let mut per_account = std::collections::BTreeMap::new();
        for a in &ids {
            if rng.below(5) > 0 {
                per_account.insert(a.clone(), rng.below(1000) as i64);
            }
        }
        let rows = AccountRows {
            per_account,
            group_rows: rng.below(2000) as i64 + 1,
        };
        let groups = group_accounts(&ids, Some(&rows));
        let flat: Vec<String> = groups.iter().flat_map(|g| g.iter().cloned()).collect();
        assert_eq!(flat, ids);
        for g in &groups {
            assert!(!g.is_empty());
            let sum: i64 = g
                .iter()
                .map(|a| rows.per_account.get(a).copied().unwrap_or(0))
                .sum();
            assert!(
                g.len() == 1 || sum <= rows.group_rows,
                "{g:?} holds {sum} rows"
            );
        }
    });
}
