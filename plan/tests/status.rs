//! Status and control statements: every value reaches SQL as a literal that reads back
//! exactly, notification payloads are JSON with the event's fields, and advisory locks are
//! taken in one global order.

mod common;

use chrono::Days;
use common::*;
use pg_datamart_plan::control::{self, LockKey};
use pg_datamart_plan::snapshot::{Schemas, Section, SectionTable};
use pg_datamart_plan::status::{
    self, Envelope, Event, LoadCounts, NewRun, PlannedStep, RunRecord, RunRef, StepRef, StepResult,
};
use pg_datamart_plan::window::{Accounts, Window};
use pg_datamart_plan::{Closed, Failure, Mode, RunStatus, StepStatus, VacuumPolicy};
use serde_json::Value;

/// Tokenizes a status statement, refusing anything that is not the builder's own text:
/// comments, dollar quotes and stray characters can only come from a value that escaped.
fn toks(sql: &str) -> Vec<Tok> {
    let t = tokenize(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    for x in &t {
        assert!(
            !matches!(
                x,
                Tok::Other(_) | Tok::Comment(_) | Tok::LineComment(_) | Tok::Dollar(_)
            ),
            "{x:?} in {sql}"
        );
    }
    t
}

/// The payload of the (one) `pg_notify('dm_status', ...)` of a statement, parsed.
fn payload(sql: &str) -> Value {
    let t = toks(sql);
    let at = t
        .iter()
        .position(|x| matches!(x, Tok::Str { value, .. } if value == "dm_status"))
        .unwrap_or_else(|| panic!("no notify in {sql}"));
    let json = t[at + 1..]
        .iter()
        .find_map(|x| match x {
            Tok::Str { value, .. } => Some(value.clone()),
            _ => None,
        })
        .unwrap();
    assert!(sql.contains("pg_catalog.pg_notify('dm_status', ("), "{sql}");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn lits(sql: &str) -> Vec<String> {
    literals(&toks(sql))
}

fn run<'a>(rng: &mut Rng, section: &'a str) -> RunRef<'a> {
    RunRef {
        run_id: rng.range(1, i64::MAX / 2),
        section,
        tables: rng.range(1, 40) as i32,
    }
}

/// A failed or cancelled step records its error and SQLSTATE as literals that read back
/// exactly (quotes, backslashes, control characters, unicode), and notifies them (the error
/// shortened) as JSON.
#[test]
fn step_errors_round_trip() {
    cases("step_ended_badly", 400, |rng| {
        let section = text(rng, 30);
        let table = text(rng, 80);
        let max = if rng.chance(1, 5) { 3000 } else { 200 };
        let error = text(rng, max);
        let sqlstate = text(rng, 5);
        let how = *rng.pick(&[Failure::Failed, Failure::Cancelled]);
        let r = run(rng, &section);
        let step = StepRef {
            position: rng.range(1, 40) as i32,
            mart_table: &table,
        };
        let sql = status::step_ended_badly(r, step, how, &sqlstate, &error);
        let l = lits(&sql);
        assert_eq!(
            l[..3],
            [
                how.step().as_str().to_string(),
                error.clone(),
                sqlstate.clone()
            ]
        );
        let p = payload(&sql);
        assert_eq!(p["event"], "step_finish");
        assert_eq!(p["run_id"], r.run_id);
        assert_eq!(p["section"], section.as_str());
        assert_eq!(p["position"], step.position);
        assert_eq!(p["tables"], r.tables);
        assert_eq!(p["mart_table"], table.as_str());
        assert_eq!(p["status"], how.step().as_str());
        assert_eq!(p["error"], status::short(&error).as_str());
        assert_eq!(p["sqlstate"], sqlstate.as_str());
        assert!(sql.contains(&format!(
            "WHERE run_id = {} AND position = {}",
            r.run_id, step.position
        )));
    });
}

/// Run ends, skips, step starts, successes, notes and watchdog events carry their values as
/// literals and JSON fields that read back.
#[test]
fn run_and_step_records_round_trip() {
    cases("run records", 300, |rng| {
        let section = text(rng, 30);
        let table = text(rng, 60);
        let note = text(rng, 300);
        let r = run(rng, &section);
        let step = StepRef {
            position: rng.range(1, 40) as i32,
            mart_table: &table,
        };

        let status = *rng.pick(RunStatus::ALL);
        let error = rng.chance(1, 2).then(|| text(rng, 200));
        let sqlstate = error.as_ref().map(|_| "08001");
        let sql = status::run_finished(r, status, error.as_deref(), sqlstate);
        let l = lits(&sql);
        assert_eq!(l[0], status.as_str());
        match &error {
            Some(e) => {
                assert_eq!(&l[1], e);
                assert_eq!(l[2], "08001");
            }
            None => assert!(sql.contains("error = NULL, sqlstate = NULL"), "{sql}"),
        }
        let p = payload(&sql);
        assert_eq!(
            (p["event"].clone(), p["status"].clone()),
            ("run_finish".into(), status.as_str().into())
        );
        assert_eq!(
            p["error"],
            error
                .as_deref()
                .map(status::short)
                .map(Value::from)
                .unwrap_or(Value::Null)
        );

        let sql = status::run_skipped(r.run_id, &section, &note);
        assert!(lits(&sql).contains(&note));
        let p = payload(&sql);
        assert_eq!(p["note"], status::short(&note).as_str());
        assert_eq!(p["status"], "skipped");
        assert_eq!(p["section"], section.as_str());

        let sql = status::step_skipped(r, step, &note);
        assert!(lits(&sql).contains(&note));
        assert_eq!(payload(&sql)["note"], status::short(&note).as_str());

        // appended to the step's note, after "; "
        let sql = status::step_note(r, step, &note);
        assert_eq!(lits(&sql), ["; ".to_string(), note.clone(), String::new()]);

        let sql = status::step_started(r, step);
        let p = payload(&sql);
        assert_eq!(
            (p["event"].clone(), p["status"].clone()),
            ("step_start".into(), "running".into())
        );
        assert_eq!(p["mart_table"], table.as_str());

        let c = LoadCounts {
            fetched: rng.range(0, 1 << 40),
            deleted: rng.range(0, 1 << 40),
            inserted: rng.range(0, 1 << 40),
            updated: rng.range(0, 1 << 40),
        };
        let seconds = rng.range(0, 10_000_000) as f64 / 997.0;
        let sql = status::step_succeeded(r, step, &c, seconds);
        let p = payload(&sql);
        assert_eq!(p["status"], "succeeded");
        assert_eq!(
            [
                &p["rows_fetched"],
                &p["rows_deleted"],
                &p["rows_inserted"],
                &p["rows_updated"]
            ],
            [c.fetched, c.deleted, c.inserted, c.updated]
                .map(Value::from)
                .each_ref()
        );
        assert!((p["seconds"].as_f64().unwrap() - seconds).abs() <= 0.0005);
        assert!(sql.contains(&format!("rows_fetched = {}", c.fetched)));

        let action = text(rng, 12);
        let sql = status::watchdog_event(r.run_id, &section, &action, &note);
        let p = payload(&sql);
        assert_eq!(
            (p["event"].clone(), p["status"].clone()),
            ("watchdog".into(), Value::from(action.as_str()))
        );
        assert_eq!(p["note"], status::short(&note).as_str());
    });
}

/// A new run records what was asked and resolved as literals that read back, and its start
/// notification says the same.
#[test]
fn new_runs_round_trip() {
    cases("create_run", 300, |rng| {
        let section = text(rng, 30);
        let account_ids = rng.chance(2, 3).then(|| text(rng, 60));
        let accounts = Accounts {
            ids: account_ids_vec(rng),
            missing: account_ids_vec(rng),
            invalid: vec![],
        };
        let w = window(rng);
        let mode = *rng.pick(Mode::ALL);
        let steps: Vec<PlannedStep> = (0..rng.range(1, 5))
            .map(|i| PlannedStep {
                position: i as i32 + 1,
                mart_oid: rng.range(0, u32::MAX as i64) as u32,
                mart_table: text(rng, 40),
            })
            .collect();
        let resumed_from = rng.chance(1, 3).then(|| rng.range(1, 1 << 50));
        let r = NewRun {
            section: &section,
            account_ids: account_ids.as_deref(),
            accounts: &accounts,
            window: &w,
            mode,
            steps: &steps,
            resumed_from,
            pid: rng.range(1, 1 << 30) as i32,
            run_by: "loader",
            login_role: "cron_login",
        };
        let sql = status::create_run(&r);
        let mut expect = vec![section.clone()];
        expect.extend(account_ids.clone());
        for list in [&accounts.ids, &accounts.missing] {
            if list.is_empty() {
                expect.push("{}".into());
            } else {
                expect.extend(list.iter().cloned());
            }
        }
        expect.extend([
            w.start.to_string(),
            w.end.to_string(),
            mode.as_str().into(),
            "running".into(),
            "loader".into(),
            "cron_login".into(),
        ]);
        expect.extend(steps.iter().map(|s| s.mart_table.clone()));
        assert_eq!(lits(&sql), expect, "{sql}");
        if account_ids.is_none() {
            // the section's literal, then account_ids as NULL
            let t = toks(&sql);
            let at = t.iter().position(|x| matches!(x, Tok::Str { .. })).unwrap();
            assert!(
                t[at + 1].is_punct(",") && t[at + 2].is_word("NULL"),
                "{sql}"
            );
        }
        for s in &steps {
            assert!(sql.contains(&format!("{}::pg_catalog.oid", s.mart_oid)));
        }
        let p = payload(&status::run_started(42, &r));
        assert_eq!(p["event"], "run_start");
        assert_eq!(p["section"], section.as_str());
        assert_eq!(p["accounts"], accounts.ids.len());
        assert_eq!(p["missing_accounts"], Value::from(accounts.missing.clone()));
        assert_eq!(p["start_date"], w.start.to_string());
        assert_eq!(p["end_date"], w.end.to_string());
        assert_eq!(p["mode"], mode.as_str());
        assert_eq!(p["tables"], steps.len());
        assert_eq!(
            p["resumed_from"],
            resumed_from.map(Value::from).unwrap_or(Value::Null)
        );
    });
}

fn account_ids_vec(rng: &mut Rng) -> Vec<String> {
    account_ids(rng, 5, false)
}

/// Notification payloads stay under PostgreSQL's 8000-byte limit for the longest values a
/// step can carry (the error is shortened, JSON escapes included).
#[test]
fn step_payloads_fit_the_notify_limit() {
    let table = format!("\"{}\".\"{}\"", "스".repeat(21), "\"".repeat(63));
    let section = "s".repeat(48);
    let r = RunRef {
        run_id: i64::MAX,
        section: &section,
        tables: i32::MAX,
    };
    let step = StepRef {
        position: i32::MAX,
        mart_table: &table,
    };
    for worst in ["\u{1}", "\"", "\\", "📈"] {
        let error = worst.repeat(5000);
        let sql = status::step_ended_badly(r, step, Failure::Failed, "XX000", &error);
        let json = payload(&sql).to_string();
        // + `"at": "<timestamp>"` added by the server
        assert!(json.len() + 48 < 8000, "{} bytes for {worst:?}", json.len());
    }
}

/// The start notification lists the missing accounts; a request of many unknown ids must
/// still fit pg_notify's 8000-byte payload, or the status statement fails.
#[test]
fn run_start_payload_fits_with_many_missing_ids() {
    let missing: Vec<String> = (0..200).map(|i| format!("{i:064}")).collect();
    let accounts = Accounts {
        ids: vec!["1".into()],
        missing,
        invalid: vec![],
    };
    let w = Window {
        start: ymd(2024, 1, 1),
        end: ymd(2024, 1, 1),
    };
    let r = NewRun {
        section: "facebook_resource",
        account_ids: None,
        accounts: &accounts,
        window: &w,
        mode: Mode::Upsert,
        steps: &[],
        resumed_from: None,
        pid: 1,
        run_by: "postgres",
        login_role: "postgres",
    };
    let json = payload(&status::run_started(1, &r)).to_string();
    assert!(json.len() + 48 < 8000, "{} bytes", json.len());
}

/// `short` keeps text of up to 1000 bytes and cuts longer text at a character boundary with
/// an ellipsis.
#[test]
fn short_cuts_at_character_boundaries() {
    cases("short", 300, |rng| {
        let t: String = (0..rng.below(800))
            .map(|_| *rng.pick(&['a', '광', '📈', '\'']))
            .collect();
        let s = status::short(&t);
        if t.len() <= 1000 {
            assert_eq!(s, t);
        } else {
            let head = s.strip_suffix("...").unwrap();
            assert!(t.starts_with(head) && head.len() <= 1000 && head.len() > 996);
        }
    });
}

/// Housekeeping only prunes when asked to.
#[test]
fn housekeeping_statements() {
    assert_eq!(
        status::housekeeping(0),
        "SELECT dm._reconcile()::pg_catalog.text"
    );
    let h = status::housekeeping(30);
    assert!(
        h.starts_with("WITH pruned AS (DELETE FROM dm.run WHERE status <> 'running'")
            && h.contains("days => 30")
            && h.contains("SET resumed_from = NULL"),
        "{h}"
    );
}

/// Events survive the JSON trip to the status writer, the writer records a new run with the
/// pid it serves (not one an event could carry), and an event about a run turns into the
/// same statements the run's own builders give.
#[test]
fn events_round_trip_and_build_the_run_statements() {
    cases("events", 100, |rng| {
        let section = name(rng);
        let r = run(rng, &section);
        let step = StepRef {
            position: r.tables,
            mart_table: "public.t",
        };
        let record = RunRecord {
            section: section.clone(),
            account_ids: Some(text(rng, 10)),
            accounts: Accounts {
                ids: account_ids_vec(rng),
                missing: account_ids_vec(rng),
                invalid: vec![],
            },
            window: Window {
                start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                end: chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            },
            mode: Mode::Upsert,
            steps: vec![PlannedStep {
                position: 1,
                mart_oid: 16384,
                mart_table: text(rng, 12),
            }],
            resumed_from: Some(7),
        };
        let error = text(rng, 40);
        let events = [
            Event::Housekeeping { history_days: 3 },
            Event::CreateRun {
                run: record.clone(),
            },
            Event::StepStarted {
                run_id: r.run_id,
                position: step.position,
            },
            Event::StepEnded {
                run_id: r.run_id,
                position: step.position,
                how: Failure::Cancelled,
                sqlstate: "57014".into(),
                error: error.clone(),
                run_error: error.clone(),
            },
            Event::RunSkipped {
                run_id: r.run_id,
                note: error.clone(),
            },
        ];
        for e in &events {
            let json = serde_json::to_string(&Envelope {
                seq: 9,
                event: e.clone(),
            })
            .unwrap();
            let back: Envelope = serde_json::from_str(&json).unwrap();
            assert_eq!((back.seq, &back.event), (9, e));
        }
        let new = record.as_new(4242, "it's a role", "its \"login\"");
        assert_eq!(
            (new.pid, new.run_by, new.login_role),
            (4242, "it's a role", "its \"login\"")
        );
        assert_eq!(
            status::create_run(&new),
            status::create_run(&NewRun {
                pid: 4242,
                run_by: "it's a role",
                login_role: "its \"login\"",
                ..record.as_new(1, "x", "y")
            })
        );
        assert!(lits(&status::create_run(&new)).contains(&"it's a role".to_string()));
        assert!(lits(&status::create_run(&new)).contains(&"its \"login\"".to_string()));
        assert_eq!(events[1].statements(r, step), None);
        assert_eq!(
            events[2].statements(r, step).as_deref(),
            Some(status::step_started(r, step).as_str())
        );
        assert_eq!(
            events[3].statements(r, step).unwrap(),
            format!(
                "{}; {}",
                status::step_ended_badly(r, step, Failure::Cancelled, "57014", &error),
                status::run_finished(r, RunStatus::Cancelled, Some(&error), Some("57014"))
            )
        );
        assert_eq!(events[4].run_and_position(), Some((r.run_id, None)));
        assert_eq!(
            events[2].run_and_position(),
            Some((r.run_id, Some(step.position)))
        );
    });
}

/// Only the writer's own session's runs: the query filters on run id, pid and backend start.
#[test]
fn owned_run_filters_on_pid_and_backend_start() {
    for part in [
        "r.run_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8",
        "r.pid OPERATOR(pg_catalog.=) $2::pg_catalog.int4",
        "r.started_at OPERATOR(pg_catalog.>=) $3::pg_catalog.timestamptz",
    ] {
        assert!(status::OWNED_RUN.contains(part), "{part}");
    }
}

/// Step results survive the JSON trip through the PL/pgSQL driver.
#[test]
fn step_results_round_trip_as_json() {
    for r in [
        StepResult::Loaded {
            counts: LoadCounts {
                fetched: 5,
                deleted: 1,
                inserted: 2,
                updated: 3,
            },
            seconds: 1.25,
            note: Some("vacuum: waited 3 s".into()),
        },
        StepResult::Skipped {
            why: "it's \"busy\" \\ 광고".into(),
        },
    ] {
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<StepResult>(&j).unwrap(), r);
    }
    assert_eq!(
        LoadCounts {
            fetched: 9,
            deleted: 1,
            inserted: 2,
            updated: 3
        }
        .written(),
        6
    );
}

fn section_with_tables(oids: &[u32]) -> Section {
    Section {
        name: "s".into(),
        account_column: "account_id".into(),
        account_table: 1,
        account_table_name: "a".into(),
        days: 7,
        mode: Mode::DeleteInsert,
        server: "redshift_prd".into(),
        date_column: "collected_at".into(),
        storage_parameters: vec![],
        vacuum_policy: VacuumPolicy::Wait,
        vacuum_wait: 60,
        tables: oids
            .iter()
            .enumerate()
            .map(|(i, o)| SectionTable {
                position: i as i32 + 1,
                mart_table: *o,
                mart_table_name: format!("t{o}"),
                remote_schema: "public".into(),
                remote_table: format!("t{o}"),
                account_column: None,
            })
            .collect(),
    }
}

/// Locks come in one global order: tables ascending (as int4), per table its table lock
/// (item 0, shared unless the whole table is locked) first, then the account locks,
/// exclusive, ascending and distinct, never item 0.
#[test]
fn lock_keys_are_ordered_and_never_use_item_zero_for_accounts() {
    cases("lock_keys", 400, |rng| {
        let oids: Vec<u32> = (0..rng.range(0, 6))
            .map(|_| {
                if rng.chance(1, 4) {
                    16384
                } else {
                    rng.next_u64() as u32
                }
            })
            .collect();
        let hashes: Vec<i32> = (0..rng.range(0, 20))
            .map(|_| match rng.below(4) {
                0 => 0,
                1 => *rng.pick(&[1, -1, i32::MIN, i32::MAX]),
                _ => rng.next_u64() as i32,
            })
            .collect();
        let whole = rng.chance(1, 3);
        let section = section_with_tables(&oids);
        let keys = control::lock_keys(&section, &hashes, whole);

        let mut tables: Vec<i32> = oids.iter().map(|o| *o as i32).collect();
        tables.sort();
        tables.dedup();
        let mut accounts: Vec<i32> = hashes
            .iter()
            .map(|h| if *h == 0 { 1 } else { *h })
            .collect();
        accounts.sort();
        accounts.dedup();
        let mut expect = Vec::new();
        for t in &tables {
            expect.push(LockKey {
                table: *t,
                item: 0,
                shared: !whole,
            });
            if !whole {
                expect.extend(accounts.iter().map(|a| LockKey {
                    table: *t,
                    item: *a,
                    shared: false,
                }));
            }
        }
        assert_eq!(keys, expect);
        let order: Vec<(i32, bool, i32)> = keys
            .iter()
            .map(|k| (k.table, k.item != 0, k.item))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        for k in &keys {
            if k.item != 0 {
                assert!(!k.shared);
            }
            assert!(k
                .try_sql()
                .starts_with("SELECT pg_catalog.pg_try_advisory_lock"));
            assert!(k
                .unlock_sql()
                .starts_with("SELECT pg_catalog.pg_advisory_unlock"));
            assert_eq!(k.try_sql().contains("_shared"), k.shared);
            assert_eq!(k.unlock_sql().contains("_shared"), k.shared);
        }
    });
}

/// The cron command, the remote cancel and the warehouse column query take their values as
/// literals that read back; the warehouse query is plain SQL and refuses names it cannot
/// quote for Redshift.
#[test]
fn control_statements_round_trip() {
    cases("control", 300, |rng| {
        let schemas = Schemas {
            ours: name(rng),
            dblink: name(rng),
        };
        let section = text(rng, 30);
        let account_ids = text(rng, 40);
        let cron = control::cron_command(&schemas, &section, &account_ids);
        let t = toks(&cron);
        assert_eq!(literals(&t), [section.clone(), account_ids.clone()]);
        assert_eq!(idents(&t), std::slice::from_ref(&schemas.ours));
        assert!(cron.starts_with(&format!(
            "CALL {}.dm_sync(",
            pg_datamart_plan::quote::ident(&schemas.ours)
        )));

        let server = text(rng, 20);
        let pid = rng.range(i32::MIN as i64, i32::MAX as i64) as i32;
        let cancel = control::cancel_remote(&schemas, &server, pid);
        assert_eq!(
            lits(&cancel),
            [server.clone(), format!("SELECT pg_cancel_backend({pid})")]
        );

        // The statements hints tell a DBA to run: every name comes back as it was given.
        let (schema, table, role) = (name(rng), name(rng), name(rng));
        let grant = control::grant_schema_statement(&["USAGE", "CREATE"], &schema, &role);
        assert_eq!(idents(&toks(&grant)), [schema.clone(), role.clone()]);
        assert!(
            grant.starts_with("GRANT USAGE, CREATE ON SCHEMA \""),
            "{grant}"
        );
        let table_sql = pg_datamart_plan::quote::qualified(&schema, &table);
        let owner = control::owner_statement(&table_sql, &role);
        assert_eq!(idents(&toks(&owner)), [schema.clone(), table, role]);
        assert!(owner.starts_with("ALTER TABLE \""), "{owner}");

        let (rs, rt) = (name(rng), name(rng));
        let sendable = |s: &str| !s.chars().any(|c| c == '\\' || c.is_control());
        match control::remote_columns_sql(&schemas, &server, &rs, &rt) {
            Ok(sql) => {
                assert!(sendable(&rs) && sendable(&rt));
                let l = lits(&sql);
                assert_eq!(l[0], "[]");
                assert_eq!(l[1], server);
                let remote = &l[2];
                let rt_toks = tokenize(remote).unwrap();
                assert_eq!(literals(&rt_toks), [rs.clone(), rt.clone()]);
                assert!(
                    !rt_toks.iter().any(|x| x.is_punct("::")
                        || x.is_punct(";")
                        || matches!(x, Tok::Str { escaped: true, .. })),
                    "{remote}"
                );
            }
            Err(e) => {
                assert!(!(sendable(&rs) && sendable(&rt)));
                assert!(e.message.starts_with("value: "));
            }
        }
    });
}

/// Windows in status rows are the inclusive dates, as the user gave them.
#[test]
fn status_rows_use_inclusive_dates() {
    let w = Window {
        start: ymd(2024, 2, 28),
        end: ymd(2024, 2, 28) + Days::new(1),
    };
    let accounts = Accounts {
        ids: vec!["1".into()],
        missing: vec![],
        invalid: vec![],
    };
    let r = NewRun {
        section: "s",
        account_ids: Some("1"),
        accounts: &accounts,
        window: &w,
        mode: Mode::DeleteInsert,
        steps: &[PlannedStep {
            position: 1,
            mart_oid: 5,
            mart_table: "public.t".into(),
        }],
        resumed_from: None,
        pid: 7,
        run_by: "loader",
        login_role: "loader",
    };
    let sql = status::create_run(&r);
    assert!(
        sql.contains("'2024-02-28'::pg_catalog.date, '2024-02-29'::pg_catalog.date"),
        "{sql}"
    );
    assert_eq!(StepStatus::Pending.as_str(), "pending");
}

/// Only failures of the sync's own work count towards a ban: not lock waits, busy slots,
/// cancels, deadlocks, squatted partition names, nor failures without a recorded SQLSTATE.
#[test]
fn ban_counts_only_the_syncs_own_failures() {
    use pg_datamart_plan::control::counts_toward_ban;
    for own in [
        "08001", "42501", "42703", "22P02", "XX000", "42P17", "23505",
    ] {
        assert!(counts_toward_ban(Some(own)), "{own}");
    }
    for other in [
        "55P03", "55000", "53400", "57014", "57P01", "40P01", "40001", "42P07",
    ] {
        assert!(!counts_toward_ban(Some(other)), "{other}");
    }
    assert!(!counts_toward_ban(None));
    assert!(!counts_toward_ban(Some("")));
}
