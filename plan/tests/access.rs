//! The access levels of dm_grant / dm_revoke: what each level holds, that levels nest, that no
//! level writes the run history, that statements are built only for what changes, and that the
//! lists name every entry point the sources define.

mod common;

use common::{cases, idents, name, tokenize, Tok};
use pg_datamart_plan::access::{
    after_grant, after_revoke, grant_statements, granted, lookup, own_entries, revoke_public_sql,
    revoke_statements, revoked, Home, Kind, Object, Target, CALLER_CHECKED, OWNER_ONLY,
};
use pg_datamart_plan::snapshot::Schemas;
use pg_datamart_plan::{Access, Closed};
use std::collections::BTreeSet;

fn schemas() -> Schemas {
    Schemas {
        ours: "public".into(),
        dblink: "public".into(),
    }
}

/// Every (object, privilege) pair a level gives.
fn pairs(targets: &[Target]) -> BTreeSet<(String, &'static str)> {
    targets
        .iter()
        .flat_map(|t| t.privileges.iter().map(|p| (t.name.clone(), *p)))
        .collect()
}

fn level_objects() -> Vec<(Access, Object)> {
    Access::ALL
        .iter()
        .flat_map(|l| own_entries(*l).iter().map(|e| (*l, e.object)))
        .collect()
}

/// No privilege is given by two levels, and no object is both granted and owner-only or
/// caller-checked: each object has one place.
#[test]
fn every_privilege_has_one_level() {
    let mut seen = BTreeSet::new();
    for level in Access::ALL {
        for e in own_entries(*level) {
            assert!(!e.privileges.is_empty(), "{e:?}");
            for p in e.privileges {
                assert!(
                    seen.insert((e.object.sql_name(&schemas()), *p)),
                    "{p} on {} is given by two levels",
                    e.object.name
                );
            }
        }
    }
    let granted_names: BTreeSet<&str> = level_objects().iter().map(|(_, o)| o.name).collect();
    for (o, why) in OWNER_ONLY {
        assert!(!why.is_empty());
        assert!(
            !granted_names.contains(o.name),
            "{} is owner-only and granted",
            o.name
        );
    }
    for o in CALLER_CHECKED {
        assert!(
            !granted_names.contains(o.name),
            "{} is caller-checked and granted",
            o.name
        );
    }
}

/// loader holds everything monitor holds, admin everything loader holds; each adds something.
#[test]
fn levels_nest() {
    let g = ["\"public\".\"dm_sync_fb\"(text, date, date)".to_string()];
    let m = pairs(&granted(&schemas(), Access::Monitor, &g));
    let l = pairs(&granted(&schemas(), Access::Loader, &g));
    let a = pairs(&granted(&schemas(), Access::Admin, &g));
    assert!(m.is_subset(&l) && m.len() < l.len());
    assert!(l.is_subset(&a) && l.len() < a.len());
    assert!(!m.contains(&(g[0].clone(), "EXECUTE")));
    assert!(l.contains(&(g[0].clone(), "EXECUTE")));
    for level in Access::ALL {
        assert!(level.includes(*level));
        let expected = (level.rank() > 0).then_some(level.rank());
        assert_eq!(level.below().map(|b| b.rank() + 1), expected);
    }
}

/// What docs/roles-and-security.md ("Roles and privileges") promises of each level.
#[test]
fn what_each_level_may_do() {
    let s = schemas();
    let has = |level: Access, name: &str, p: &str| {
        pairs(&granted(&s, level, &[])).contains(&(name.to_string(), p))
    };
    // monitor: reads status, history and configuration; no write, no EXECUTE but status's.
    for t in [
        "run",
        "run_step",
        "section",
        "section_table",
        "column_map",
        "pause",
        "generated_procedure",
        "access",
    ] {
        assert!(
            has(Access::Monitor, &format!("\"dm\".\"{t}\""), "SELECT"),
            "{t}"
        );
    }
    assert!(has(Access::Monitor, "\"public\".\"dm_status\"", "SELECT"));
    assert!(has(Access::Monitor, "\"dm\"", "USAGE"));
    let monitor_exec: Vec<String> = granted(&s, Access::Monitor, &[])
        .into_iter()
        .filter(|t| t.privileges.contains(&"EXECUTE"))
        .map(|t| t.name)
        .collect();
    assert_eq!(
        monitor_exec,
        ["\"dm\".\"_status_rows\"()", "\"dm\".\"_reconcile\"()"]
    );
    // loader: syncs, resumes, previews; configures nothing.
    assert!(has(
        Access::Loader,
        "\"public\".\"dm_sync\"(text, text, date, date, text)",
        "EXECUTE"
    ));
    assert!(has(
        Access::Loader,
        "\"public\".\"dm_resume\"(bigint)",
        "EXECUTE"
    ));
    assert!(has(
        Access::Loader,
        "\"public\".\"dm_preview\"(text, text, date, date, text)",
        "EXECUTE"
    ));
    assert!(!has(Access::Loader, "\"public\".\"dm_add_section\"(text, text, regclass, integer, text, text, text, text[], text, integer)", "EXECUTE"));
    assert!(!has(
        Access::Monitor,
        "\"public\".\"dm_sync\"(text, text, date, date, text)",
        "EXECUTE"
    ));
    // admin: configuration functions and writes to the configuration tables.
    for t in ["section", "section_table", "column_map", "pause"] {
        for p in ["INSERT", "UPDATE", "DELETE"] {
            assert!(
                has(Access::Admin, &format!("\"dm\".\"{t}\""), p),
                "{p} on {t}"
            );
            assert!(
                !has(Access::Loader, &format!("\"dm\".\"{t}\""), p),
                "{p} on {t}"
            );
        }
    }
    assert!(has(
        Access::Admin,
        "\"public\".\"dm_generate_procedures\"()",
        "EXECUTE"
    ));
    assert!(has(
        Access::Admin,
        "\"public\".\"dm_watchdog\"()",
        "EXECUTE"
    ));
}

/// Nobody but the owner writes the run history, the access list or the generated procedures'
/// list, or draws run ids; no level may create in schema dm.
#[test]
fn no_level_writes_history_or_access() {
    let all = pairs(&granted(&schemas(), Access::Admin, &[]));
    for t in ["run", "run_step", "access", "generated_procedure"] {
        for p in ["INSERT", "UPDATE", "DELETE", "TRUNCATE"] {
            assert!(
                !all.contains(&(format!("\"dm\".\"{t}\""), p)),
                "{p} on dm.{t}"
            );
        }
    }
    assert!(!all
        .iter()
        .any(|(_, p)| *p == "CREATE" || *p == "TRUNCATE" || *p == "REFERENCES" || *p == "TRIGGER"));
    assert!(!all.iter().any(|(n, _)| n.contains("run_run_id_seq")));
    assert!(OWNER_ONLY
        .iter()
        .any(|(o, _)| o.kind == Kind::Sequence && o.name == "run_run_id_seq"));
}

/// Names are quoted; a schema of the extension with odd characters stays one identifier.
#[test]
fn sql_names_are_quoted() {
    let s = Schemas {
        ours: "my \"mart\" api".into(),
        dblink: "public".into(),
    };
    let o = Object {
        kind: Kind::Procedure,
        home: Home::Ours,
        name: "dm_sync",
        args: "text, text, date, date, text",
    };
    assert_eq!(
        o.sql_name(&s),
        "\"my \"\"mart\"\" api\".\"dm_sync\"(text, text, date, date, text)"
    );
    let v = Object {
        kind: Kind::View,
        home: Home::Ours,
        name: "dm_status",
        args: "",
    };
    assert_eq!(v.sql_name(&s), "\"my \"\"mart\"\" api\".\"dm_status\"");
    assert_eq!(Kind::View.keyword(), "TABLE");
    let (kinds, names) = lookup(&granted(&s, Access::Monitor, &[]));
    assert_eq!(kinds[0], "schema");
    assert_eq!(names[0], "\"dm\"");
    assert!(kinds
        .iter()
        .all(|k| ["schema", "relation", "routine"].contains(&k.as_str())));
}

/// Only what the role lacks is granted, only what it holds is revoked, one statement per
/// object; a missing object is an error, not a silent skip.
#[test]
fn statements_only_for_what_changes() {
    let t = vec![
        Target {
            kind: Kind::Table,
            name: "\"dm\".\"section\"".into(),
            privileges: vec!["INSERT", "UPDATE", "DELETE"],
        },
        Target::generated("\"public\".\"dm_sync_fb\"(text, date, date)"),
    ];
    let none = vec![Some(vec![]), Some(vec![])];
    assert_eq!(
        grant_statements(&t, &none, "loader").unwrap(),
        [
            "GRANT INSERT, UPDATE, DELETE ON TABLE \"dm\".\"section\" TO \"loader\"",
            "GRANT EXECUTE ON PROCEDURE \"public\".\"dm_sync_fb\"(text, date, date) TO \"loader\""
        ]
    );
    assert!(revoke_statements(&t, &none, "loader").unwrap().is_empty());
    let some = vec![
        Some(vec!["DELETE".to_string(), "SELECT".to_string()]),
        Some(vec!["EXECUTE".to_string()]),
    ];
    assert_eq!(
        grant_statements(&t, &some, "loader").unwrap(),
        ["GRANT INSERT, UPDATE ON TABLE \"dm\".\"section\" TO \"loader\""]
    );
    assert_eq!(
        revoke_statements(&t, &some, "loader").unwrap(),
        [
            "REVOKE DELETE ON TABLE \"dm\".\"section\" FROM \"loader\"",
            "REVOKE EXECUTE ON PROCEDURE \"public\".\"dm_sync_fb\"(text, date, date) FROM \"loader\""
        ]
    );
    let all = vec![
        Some(vec![
            "INSERT".to_string(),
            "UPDATE".to_string(),
            "DELETE".to_string(),
        ]),
        Some(vec!["EXECUTE".to_string()]),
    ];
    assert!(grant_statements(&t, &all, "loader").unwrap().is_empty());
    let gone = vec![Some(vec![]), None];
    let e = grant_statements(&t, &gone, "loader").unwrap_err();
    assert_eq!(e.code.sqlstate(), "42P17");
    assert!(e.message.contains("dm_sync_fb"), "{}", e.message);
    assert_eq!(
        revoke_public_sql(
            Kind::Procedure,
            "\"public\".\"dm_sync_fb\"(text, date, date)"
        ),
        "REVOKE ALL ON PROCEDURE \"public\".\"dm_sync_fb\"(text, date, date) FROM PUBLIC"
    );
}

/// Any role name stays one identifier: the statement's last token is the role, quoted.
#[test]
fn role_names_cannot_escape() {
    let t = granted(&schemas(), Access::Admin, &[]);
    let none: Vec<Option<Vec<String>>> = t.iter().map(|_| Some(vec![])).collect();
    cases("role_names_cannot_escape", 300, |rng| {
        let role = name(rng);
        for sql in grant_statements(&t, &none, &role)
            .unwrap()
            .into_iter()
            .chain(
                revoke_statements(
                    &t,
                    &vec![
                        Some(vec![
                            "EXECUTE".into(),
                            "SELECT".into(),
                            "USAGE".into(),
                            "INSERT".into()
                        ]);
                        t.len()
                    ],
                    &role,
                )
                .unwrap(),
            )
        {
            let toks = tokenize(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert!(
                toks[0].is_word("GRANT") || toks[0].is_word("REVOKE"),
                "{sql}"
            );
            assert_eq!(toks.last(), Some(&Tok::Ident(role.clone())), "{sql}");
            assert_eq!(idents(&toks).last(), Some(&role), "{sql}");
            assert!(!toks.iter().any(|t| t.is_punct(";")), "{sql}");
        }
    });
}

/// dm_grant never lowers a level; dm_revoke(r, level) leaves the level below it.
#[test]
fn levels_after_grant_and_revoke() {
    use Access::*;
    assert_eq!(after_grant(None, Loader), Loader);
    assert_eq!(after_grant(Some(Admin), Monitor), Admin);
    assert_eq!(after_grant(Some(Monitor), Admin), Admin);
    assert_eq!(after_revoke(Some(Admin), Some(Loader)), Some(Monitor));
    assert_eq!(after_revoke(Some(Admin), Some(Admin)), Some(Loader));
    assert_eq!(after_revoke(Some(Admin), Some(Monitor)), None);
    assert_eq!(after_revoke(Some(Admin), None), None);
    assert_eq!(after_revoke(Some(Monitor), Some(Loader)), Some(Monitor));
    assert_eq!(after_revoke(None, Some(Admin)), None);
    // revoking loader from an admin takes admin's and loader's additions, keeps monitor's.
    let s = schemas();
    let taken = pairs(&revoked(&s, Loader, &[]));
    let kept = pairs(&granted(&s, Monitor, &[]));
    assert!(taken.is_disjoint(&kept));
    let admin = pairs(&granted(&s, Admin, &[]));
    assert_eq!(taken.union(&kept).cloned().collect::<BTreeSet<_>>(), admin);
    assert_eq!(pairs(&revoked(&s, Monitor, &[])), admin);
}

/// The names defined in the sources: `#[pg_extern(schema = "dm", name = "_x")]` in src/ and
/// `CREATE FUNCTION|PROCEDURE|VIEW` in sql/api.sql and sql/schema.sql's tables. The integration
/// test (roles.rs) checks the installed extension itself; this one runs without a server.
#[test]
fn every_entry_point_of_the_sources_is_classified() {
    let root = common::manifest_dir().join("..");
    let mut defined = BTreeSet::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("#[pg_extern(schema = \"dm\", name = \"") {
                    let rest = &text[i + "#[pg_extern(schema = \"dm\", name = \"".len()..];
                    defined.insert(rest[..rest.find('"').unwrap()].to_string());
                }
            }
        }
    }
    let api = std::fs::read_to_string(root.join("sql/api.sql")).unwrap();
    for head in ["CREATE FUNCTION ", "CREATE PROCEDURE ", "CREATE VIEW "] {
        for (i, _) in api.match_indices(head) {
            let rest = &api[i + head.len()..];
            let name = &rest[..rest.find(['(', ' ']).unwrap()];
            let name = name
                .trim_start_matches("@extschema@.")
                .trim_start_matches("dm.");
            defined.insert(name.to_string());
        }
    }
    let schema = std::fs::read_to_string(root.join("sql/schema.sql")).unwrap();
    for (i, _) in schema.match_indices("CREATE TABLE dm.") {
        let rest = &schema[i + "CREATE TABLE dm.".len()..];
        defined.insert(rest[..rest.find(' ').unwrap()].to_string());
    }
    assert!(defined.len() > 40, "{defined:?}");
    let classified: BTreeSet<&str> = level_objects()
        .iter()
        .map(|(_, o)| o.name)
        .chain(OWNER_ONLY.iter().map(|(o, _)| o.name))
        .chain(CALLER_CHECKED.iter().map(|o| o.name))
        .collect();
    let missing: Vec<&String> = defined
        .iter()
        .filter(|d| !classified.contains(d.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "not in any access level, OWNER_ONLY or CALLER_CHECKED (plan/src/access.rs): {missing:?}"
    );
}
