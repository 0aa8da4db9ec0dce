//! Roles and privileges as a production DBA sets them up (issue 11): roles that are not
//! superusers, log in with scram passwords over TCP and over the Unix socket, get their access
//! from `dm_grant` plus the usual table grants, server USAGE and a user mapping. What each
//! level can do, what it cannot, and that every member object of the extension is classified.
//!
//! Roles are cluster-wide: every test uses role names of its own (`it_roles_<test>_<role>`).
//! The server must require scram passwords for members of `dm_scram` (Makefile: IT_HBA) and, for
//! the pg_cron test, run pg_cron jobs in background workers.

use pg_datamart_it::{
    assert_error, connect_as, describe, scram_role, setup, wait_until, Ctx, Session,
};
use pg_datamart_plan::access::{self, Kind, Target, CALLER_CHECKED, OWNER_ONLY};
use pg_datamart_plan::snapshot::Schemas;
use pg_datamart_plan::{Access, Closed};
use tokio_postgres::error::SqlState;

const PW: &str = "Roles-S3cret-7";
const FB_CAMPAIGN: &str =
    "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at";
const FB_AD: &str =
    "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at";

fn schemas() -> Schemas {
    Schemas {
        ours: "public".into(),
        dblink: "public".into(),
    }
}

/// Creates (or resets) scram login role `name` with no privilege in the mart (what an earlier
/// run of the test left there is dropped).
async fn role(ctx: &Ctx, name: &str) {
    let admin = Session::connect("postgres").await;
    scram_role(&admin, name, PW).await;
    ctx.mart.exec(&format!("DROP OWNED BY {name}")).await;
}

/// Logs `name` in to the mart with its scram password, over TCP or the Unix socket.
async fn login(ctx: &Ctx, name: &str, socket: bool) -> Session {
    let how = if socket { "the socket" } else { "TCP" };
    let s = connect_as(&ctx.mart_db, name, PW, socket)
        .await
        .unwrap_or_else(|e| panic!("{name} logs in over {how}: {e}"));
    assert_eq!(
        s.text("SELECT current_setting('is_superuser')")
            .await
            .as_deref(),
        Some("off")
    );
    s
}

/// The rows (one text column) of `sql`.
async fn lines(s: &Session, sql: &str) -> Vec<String> {
    s.client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}\n failed: {}", describe(&e)))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn generated(s: &Session) -> Vec<String> {
    lines(
        s,
        "SELECT procedure FROM dm.generated_procedure ORDER BY section",
    )
    .await
}

/// `sql` fails with 42501 and a message naming every one of `parts`.
async fn refused(s: &Session, sql: &str, parts: &[&str]) {
    let e = s.fails(sql).await;
    assert_error(&e, SqlState::INSUFFICIENT_PRIVILEGE, parts);
}

/// has_*_privilege(role, target, privilege) for every privilege of `targets`: the ones whose
/// answer is not `expected`.
async fn privileges_not(
    s: &Session,
    role: &str,
    targets: &[Target],
    expected: bool,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for t in targets {
        for p in &t.privileges {
            let sql = match t.kind.catalog() {
                "schema" => "SELECT has_schema_privilege($1::text, to_regnamespace($2::text)::oid, $3::text)",
                "routine" => "SELECT has_function_privilege($1::text, to_regprocedure($2::text)::oid, $3::text)",
                _ => "SELECT has_table_privilege($1::text, to_regclass($2::text)::oid, $3::text)",
            };
            let has: Option<bool> = s
                .client
                .query_one(sql, &[&role, &t.name, &p.to_string()])
                .await
                .unwrap_or_else(|e| panic!("{sql} {} {p}: {}", t.name, describe(&e)))
                .get(0);
            if has != Some(expected) {
                wrong.push(format!("{p} on {} ({has:?})", t.name));
            }
        }
    }
    wrong
}

/// The level dm.access records for `role`.
async fn recorded(m: &Session, role: &str) -> Option<String> {
    m.text(&format!(
        "SELECT (SELECT access FROM dm.access WHERE role = '{role}'::regrole)"
    ))
    .await
}

/// The member objects of the extension that the lists of plan/src/access.rs do not name, and
/// the names of those lists that are not members.
const UNCLASSIFIED: &str = "
WITH listed AS (
    SELECT o.name,
           CASE o.kind WHEN 'schema' THEN 'pg_namespace'::regclass WHEN 'routine' THEN 'pg_proc'::regclass ELSE 'pg_class'::regclass END AS classid,
           CASE o.kind WHEN 'schema' THEN to_regnamespace(o.name)::oid WHEN 'routine' THEN to_regprocedure(o.name)::oid ELSE to_regclass(o.name)::oid END AS objid
      FROM ROWS FROM (unnest($1::text[]), unnest($2::text[])) AS o(kind, name)
), members AS (
    SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_datamart'
     WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass
)
SELECT COALESCE((SELECT string_agg(pg_describe_object(m.classid, m.objid, 0), ', ' ORDER BY 1) FROM members m
                  WHERE NOT EXISTS (SELECT 1 FROM listed l WHERE l.classid = m.classid AND l.objid = m.objid)), ''),
       COALESCE((SELECT string_agg(l.name, ', ' ORDER BY 1) FROM listed l
                  WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.classid = l.classid AND m.objid = l.objid)), ''),
       (SELECT count(*) FROM members)";

/// Member objects PUBLIC may use: a routine whose ACL is NULL (PUBLIC executes it) or names
/// PUBLIC; a relation or schema whose ACL names PUBLIC.
const PUBLIC_MAY: &str = "
SELECT COALESCE(string_agg(pg_describe_object(d.classid, d.objid, 0), ', ' ORDER BY 1), '')
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_datamart'
 WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass
   AND CASE d.classid
         WHEN 'pg_proc'::regclass THEN (SELECT p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0)
                                          FROM pg_proc p WHERE p.oid = d.objid)
         WHEN 'pg_class'::regclass THEN (SELECT EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0) FROM pg_class c WHERE c.oid = d.objid)
         WHEN 'pg_namespace'::regclass THEN (SELECT EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee = 0) FROM pg_namespace n WHERE n.oid = d.objid)
         ELSE true END";

/// Every member object of the extension (pg_depend deptype 'e') is granted to a level, owner-only
/// or caller-checked (plan/src/access.rs), and every object those lists name exists: a new
/// function cannot be forgotten. PUBLIC may use nothing but dm_grant / dm_revoke, and each
/// level holds exactly its privileges after dm_grant.
#[tokio::test]
async fn every_member_object_is_classified() {
    let ctx = setup("it_roles_members").await;
    let m = &ctx.mart;
    let s = schemas();
    let mut objects: Vec<(String, String)> = Vec::new();
    for level in Access::ALL {
        for e in access::own_entries(*level) {
            objects.push((e.object.kind.catalog().into(), e.object.sql_name(&s)));
        }
    }
    for (o, _) in OWNER_ONLY {
        objects.push((o.kind.catalog().into(), o.sql_name(&s)));
    }
    for o in CALLER_CHECKED {
        objects.push((o.kind.catalog().into(), o.sql_name(&s)));
    }
    let (kinds, names): (Vec<String>, Vec<String>) = objects.into_iter().unzip();
    let row = m
        .client
        .query_one(UNCLASSIFIED, &[&kinds, &names])
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let (unlisted, stale, members): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
    assert!(members > 50, "{members} members");
    assert_eq!(
        unlisted, "",
        "member objects not classified in plan/src/access.rs (a level, OWNER_ONLY or CALLER_CHECKED)"
    );
    assert_eq!(
        stale, "",
        "plan/src/access.rs names objects that are not members"
    );
    assert_eq!(
        m.text(PUBLIC_MAY).await.unwrap(),
        "function dm_grant(regrole,text), function dm_revoke(regrole,text)",
        "what PUBLIC may use"
    );

    // Each level holds exactly its privileges (generated procedures included), nothing above.
    m.exec("SELECT * FROM dm_generate_procedures()").await;
    let g = generated(m).await;
    assert_eq!(g.len(), 3);
    for level in Access::ALL {
        let r = format!("it_roles_members_{level}");
        role(&ctx, &r).await;
        m.exec(&format!("SELECT dm_grant('{r}', '{level}')")).await;
        let has = access::granted(&s, *level, &g);
        assert_eq!(
            privileges_not(m, &r, &has, true).await,
            Vec::<String>::new(),
            "{level} lacks"
        );
        let above: Vec<Target> = Access::ALL
            .iter()
            .filter(|l| l.rank() > level.rank())
            .flat_map(|l| access::level_targets(&s, *l, &g))
            .collect();
        assert_eq!(
            privileges_not(m, &r, &above, false).await,
            Vec::<String>::new(),
            "{level} holds"
        );
        for (o, why) in OWNER_ONLY {
            let name = o.sql_name(&s).replace('\'', "''");
            let sql = match o.kind {
                Kind::Sequence => format!(
                    "SELECT has_sequence_privilege('{r}', '{name}', 'USAGE') OR has_sequence_privilege('{r}', '{name}', 'UPDATE')"
                ),
                _ => format!("SELECT has_function_privilege('{r}', '{name}', 'EXECUTE')"),
            };
            let holds: bool = m.client.query_one(&sql, &[]).await.unwrap().get(0);
            assert!(!holds, "{level} holds owner-only {name} ({why})");
        }
    }
    // No role but the owner writes the run history, the access list or the procedure list.
    let writers = m
        .text(
            "SELECT string_agg(DISTINCT c.relname || ': ' || a.privilege_type, ', ') FROM pg_class c, aclexplode(c.relacl) a
              WHERE c.relnamespace = 'dm'::regnamespace AND c.relname IN ('run', 'run_step', 'access', 'generated_procedure', 'run_run_id_seq')
                AND a.grantee <> c.relowner AND a.privilege_type <> 'SELECT'",
        )
        .await;
    assert_eq!(writers, None);
}

/// dm_grant and dm_revoke are idempotent, return exactly the statements they ran (nothing when
/// nothing changes), nest the levels, repair a privilege revoked by hand, and refuse bad
/// arguments and callers that are neither superuser nor the extension's owner.
#[tokio::test]
async fn dm_grant_and_dm_revoke_are_idempotent_and_return_what_they_changed() {
    let ctx = setup("it_roles_grant").await;
    let m = &ctx.mart;
    let s = schemas();
    m.exec("SELECT * FROM dm_generate_procedures()").await;
    let g = generated(m).await;
    let r = "it_roles_grant_r";
    role(&ctx, r).await;
    let expect = |level: Access| -> Vec<String> {
        let t = access::level_targets(&s, level, &g);
        let none = vec![Some(vec![]); t.len()];
        access::grant_statements(&t, &none, r).unwrap()
    };
    let expect_revoke = |levels: &[Access]| -> Vec<String> {
        let t: Vec<Target> = levels
            .iter()
            .flat_map(|l| access::level_targets(&s, *l, &g))
            .collect();
        let all: Vec<Option<Vec<String>>> = t
            .iter()
            .map(|t| Some(t.privileges.iter().map(|p| p.to_string()).collect()))
            .collect();
        access::revoke_statements(&t, &all, r).unwrap()
    };
    let grant = |access: &str| format!("SELECT * FROM dm_grant('{r}', '{access}')");
    let revoke = |access: &str| format!("SELECT * FROM dm_revoke('{r}', {access})");

    let monitor = lines(m, &grant("monitor")).await;
    assert_eq!(monitor, expect(Access::Monitor));
    assert_eq!(
        monitor[0],
        format!("GRANT USAGE ON SCHEMA \"dm\" TO \"{r}\"")
    );
    assert!(lines(m, &grant("monitor")).await.is_empty(), "idempotent");
    assert_eq!(recorded(m, r).await.as_deref(), Some("monitor"));

    let loader = lines(m, &grant("loader")).await;
    assert_eq!(loader, expect(Access::Loader));
    assert!(loader.contains(&format!(
        "GRANT EXECUTE ON PROCEDURE \"public\".\"dm_sync\"(text, text, date, date, text) TO \"{r}\""
    )));
    assert!(loader.contains(&format!(
        "GRANT EXECUTE ON PROCEDURE \"public\".\"dm_sync_fb\"(text, date, date) TO \"{r}\""
    )));
    assert!(lines(m, &grant("loader")).await.is_empty());
    assert!(
        lines(m, &grant("monitor")).await.is_empty(),
        "a lower level changes nothing"
    );
    assert_eq!(recorded(m, r).await.as_deref(), Some("loader"));

    assert_eq!(lines(m, &grant("admin")).await, expect(Access::Admin));
    assert_eq!(recorded(m, r).await.as_deref(), Some("admin"));

    // Revoking loader from an admin takes admin and loader, keeps monitor.
    assert_eq!(
        lines(m, &revoke("'loader'")).await,
        expect_revoke(&[Access::Loader, Access::Admin])
    );
    assert!(lines(m, &revoke("'loader'")).await.is_empty());
    assert_eq!(recorded(m, r).await.as_deref(), Some("monitor"));
    assert_eq!(
        m.text(&format!(
            "SELECT has_table_privilege('{r}', 'dm.run', 'SELECT')::text"
        ))
        .await
        .as_deref(),
        Some("true")
    );
    // Revoking admin leaves a loader.
    lines(m, &grant("admin")).await;
    assert_eq!(
        lines(m, &revoke("'admin'")).await,
        expect_revoke(&[Access::Admin])
    );
    assert_eq!(recorded(m, r).await.as_deref(), Some("loader"));
    // NULL: every level.
    assert_eq!(
        lines(m, &revoke("NULL")).await,
        expect_revoke(&[Access::Monitor, Access::Loader])
    );
    assert!(lines(m, &format!("SELECT * FROM dm_revoke('{r}')"))
        .await
        .is_empty());
    assert_eq!(recorded(m, r).await, None);

    // A privilege revoked by hand is granted again, and only it.
    lines(m, &grant("monitor")).await;
    m.exec(&format!("REVOKE SELECT ON dm.run FROM {r}")).await;
    assert_eq!(
        lines(m, &grant("monitor")).await,
        [format!("GRANT SELECT ON TABLE \"dm\".\"run\" TO \"{r}\"")]
    );

    // A procedure generated later goes to the loaders (and admins) of the moment, nobody else.
    let (loader_role, monitor_role, nobody) = (
        "it_roles_grant_loader",
        "it_roles_grant_monitor",
        "it_roles_grant_nobody",
    );
    for x in [loader_role, monitor_role, nobody] {
        role(&ctx, x).await;
    }
    m.exec(&format!(
        "SELECT dm_grant('{loader_role}', 'loader'); SELECT dm_grant('{monitor_role}', 'monitor');
         SELECT dm_add_section('later', 'account_id', 'fb_account_dm');
         SELECT * FROM dm_generate_procedures();"
    ))
    .await;
    for (x, expected) in [
        (loader_role, "true"),
        (monitor_role, "false"),
        (nobody, "false"),
    ] {
        assert_eq!(
            m.text(&format!(
                "SELECT has_function_privilege('{x}', 'dm_sync_later(text, date, date)', 'EXECUTE')::text"
            ))
            .await
            .as_deref(),
            Some(expected),
            "{x}"
        );
    }
    assert_eq!(
        m.text("SELECT proowner::regrole::text FROM pg_proc WHERE proname = 'dm_sync_later'")
            .await
            .as_deref(),
        Some("postgres"),
        "generated procedures belong to the extension's owner"
    );

    // A role name that needs quoting stays one name.
    let odd = "\"it_roles_grant Odd \"\"q\"\"\"";
    m.exec(&format!("DROP ROLE IF EXISTS {odd}; CREATE ROLE {odd}"))
        .await;
    let got = lines(m, &format!("SELECT * FROM dm_grant('{odd}', 'monitor')")).await;
    assert_eq!(got[0], format!("GRANT USAGE ON SCHEMA \"dm\" TO {odd}"));
    assert_eq!(
        m.text(
            "SELECT has_table_privilege('it_roles_grant Odd \"q\"', 'dm_status', 'SELECT')::text"
        )
        .await
        .as_deref(),
        Some("true")
    );
    m.exec(&format!("SELECT dm_revoke('{odd}'); DROP ROLE {odd}"))
        .await;

    // Bad arguments.
    let e = m.fails("SELECT dm_grant(NULL, 'loader')").await;
    assert_error(
        &e,
        SqlState::NULL_VALUE_NOT_ALLOWED,
        &["role: must not be NULL"],
    );
    let e = m.fails(&format!("SELECT dm_grant('{r}', NULL)")).await;
    assert_error(
        &e,
        SqlState::NULL_VALUE_NOT_ALLOWED,
        &["access: must not be NULL"],
    );
    for bad in ["reader", "Loader", "superuser", ""] {
        let e = m.fails(&format!("SELECT dm_grant('{r}', '{bad}')")).await;
        assert_error(
            &e,
            SqlState::INVALID_PARAMETER_VALUE,
            &["access: unknown access", "(valid: monitor, loader, admin)"],
        );
        let e = m.fails(&format!("SELECT dm_revoke('{r}', '{bad}')")).await;
        assert_error(
            &e,
            SqlState::INVALID_PARAMETER_VALUE,
            &["access: unknown access"],
        );
    }
    let e = m.fails("SELECT dm_revoke(NULL)").await;
    assert_error(&e, SqlState::NULL_VALUE_NOT_ALLOWED, &["role"]);
    let e = m.fails("SELECT dm_grant('postgres', 'loader')").await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &["role postgres owns extension pg_datamart"],
    );
    let e = m
        .fails("SELECT dm_grant('it_roles_no_such_role', 'loader')")
        .await;
    assert_eq!(e.code(), &SqlState::UNDEFINED_OBJECT, "{}", e.message());

    // Only a superuser or the extension's owner: not even an admin, over TCP or the socket.
    let who = "it_roles_grant_who";
    role(&ctx, who).await;
    m.exec(&format!("SELECT dm_grant('{who}', 'admin')")).await;
    for socket in [false, true] {
        let s = login(&ctx, who, socket).await;
        for call in [
            format!("SELECT dm_grant('{who}', 'loader')"),
            format!("SELECT dm_revoke('{r}')"),
        ] {
            let e = s.fails(&call).await;
            assert_error(
                &e,
                SqlState::INSUFFICIENT_PRIVILEGE,
                &[
                    who,
                    "only a superuser or the owner of extension pg_datamart (postgres)",
                ],
            );
            assert!(
                e.hint().is_some_and(|h| h.starts_with("Ask postgres or a superuser to run SELECT dm_")),
                "{:?}",
                e.hint()
            );
        }
        refused(
            &s,
            &format!("SELECT * FROM dm._grant('{who}'::regrole::oid, 'admin')"),
            &["_grant"],
        )
        .await;
    }
    assert_eq!(recorded(m, r).await.as_deref(), Some("monitor"));
}

/// A role without pg_datamart access sees nothing and runs nothing (the API is not PUBLIC's).
#[tokio::test]
async fn a_role_without_access_sees_and_runs_nothing() {
    let ctx = setup("it_roles_none").await;
    let m = &ctx.mart;
    m.exec("SELECT * FROM dm_generate_procedures()").await;
    let r = "it_roles_none_r";
    role(&ctx, r).await;
    for socket in [false, true] {
        let s = login(&ctx, r, socket).await;
        for (sql, named) in [
            ("SELECT * FROM dm_status", "dm_status"),
            ("SELECT * FROM dm.run", "schema dm"),
            ("SELECT * FROM dm.section", "schema dm"),
            (
                "CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')",
                "dm_sync",
            ),
            ("CALL dm_resume(1)", "dm_resume"),
            ("SELECT * FROM dm_preview('fb')", "dm_preview"),
            (
                "CALL dm_sync_fb('1001', '2026-01-10', '2026-01-10')",
                "dm_sync_fb",
            ),
            (
                "SELECT dm_add_section('x', 'account_id', 'fb_account_dm')",
                "dm_add_section",
            ),
            (
                "SELECT dm_map_column('fb_ad_dm', 'tag', 'x')",
                "dm_map_column",
            ),
            ("SELECT dm_pause()", "dm_pause"),
            ("SELECT * FROM dm_watchdog()", "dm_watchdog"),
            (
                "SELECT * FROM dm_generate_procedures()",
                "dm_generate_procedures",
            ),
            ("SELECT dm_schedule('fb', '5 * * * *')", "dm_schedule"),
            (
                "SELECT dm_grant('it_roles_none_r', 'monitor')",
                "may not grant",
            ),
        ] {
            refused(&s, sql, &[named]).await;
        }
    }
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 0);
    assert_eq!(m.i64("SELECT count(*) FROM dm.pause").await, 0);
    assert_eq!(m.i64("SELECT count(*) FROM dm.section").await, 3);
}

/// A superuser's sync of `fb` for a window, so that the history has rows.
async fn history(ctx: &Ctx) {
    ctx.mart
        .exec("CALL dm_sync('fb', '1001,1002', '2026-01-10', '2026-01-12')")
        .await;
    assert_eq!(
        ctx.mart
            .i64("SELECT count(*) FROM dm.run WHERE status = 'succeeded'")
            .await,
        1
    );
}

/// A monitor reads the run history and the configuration, over the socket and TCP, and runs
/// nothing: no sync, no configuration, no write.
#[tokio::test]
async fn a_monitor_reads_history_and_configuration_and_runs_nothing() {
    let ctx = setup("it_roles_monitor").await;
    let m = &ctx.mart;
    history(&ctx).await;
    m.exec("SELECT dm_pause('naver'); SELECT * FROM dm_generate_procedures();")
        .await;
    let r = "it_roles_monitor_grafana";
    role(&ctx, r).await;
    m.exec(&format!("SELECT dm_grant('{r}', 'monitor')")).await;
    for socket in [true, false] {
        let s = login(&ctx, r, socket).await;
        for table in [
            "dm.run",
            "dm.run_step",
            "dm.section",
            "dm.section_table",
            "dm.column_map",
            "dm.pause",
            "dm.generated_procedure",
            "dm.access",
        ] {
            let sql = format!("SELECT count(*) FROM {table}");
            assert_eq!(s.i64(&sql).await, m.i64(&sql).await, "{table}");
        }
        assert_eq!(
            s.text("SELECT status FROM dm.run").await.as_deref(),
            Some("succeeded")
        );
        for (sql, named) in [
            ("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')", "procedure dm_sync"),
            ("CALL dm_resume(1)", "procedure dm_resume"),
            ("CALL dm_sync_fb('1001', '2026-01-10', '2026-01-10')", "procedure dm_sync_fb"),
            ("SELECT * FROM dm_preview('fb')", "function dm_preview"),
            ("SELECT dm_add_section('x', 'account_id', 'fb_account_dm')", "function dm_add_section"),
            ("SELECT dm_alter_section('fb', days => 1)", "function dm_alter_section"),
            ("SELECT dm_unpause('naver')", "function dm_unpause"),
            ("SELECT * FROM dm_generate_procedures()", "function dm_generate_procedures"),
            ("SELECT dm._run_begin('fb', '1001', NULL, NULL, NULL)", "function _run_begin"),
            ("INSERT INTO dm.run (section, accounts, start_date, end_date, mode, pid) VALUES ('fb', '{}', '2026-01-01', '2026-01-01', 'upsert', 1)", "table run"),
            ("UPDATE dm.section SET days = 1", "table section"),
            ("DELETE FROM dm.pause", "table pause"),
            ("INSERT INTO dm.access VALUES ('it_roles_monitor_grafana', 'admin')", "table access"),
        ] {
            refused(&s, sql, &[named]).await;
        }
    }
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 1);
    assert_eq!(m.i64("SELECT count(*) FROM dm.pause").await, 1);
    assert_eq!(
        m.i64("SELECT days::bigint FROM dm.section WHERE section = 'fb'")
            .await,
        7
    );
}

/// A monitor reads dm_status with SELECT rights only; reading it still marks failed a run whose
/// backend is gone (the reconcile must not need the reader's write rights).
#[tokio::test]
async fn a_monitor_reads_dm_status() {
    let ctx = setup("it_roles_status").await;
    let m = &ctx.mart;
    history(&ctx).await;
    // A run recorded as running whose backend is long gone (pid 1 is no backend).
    m.exec(
        "INSERT INTO dm.run (section, account_ids, accounts, start_date, end_date, mode, status, pid)
         VALUES ('google', '1001', '{1001}', '2026-01-10', '2026-01-10', 'delete_insert', 'running', 1)",
    )
    .await;
    let r = "it_roles_status_grafana";
    role(&ctx, r).await;
    m.exec(&format!("SELECT dm_grant('{r}', 'monitor')")).await;
    for socket in [false, true] {
        let s = login(&ctx, r, socket).await;
        let rows = s
            .client
            .query(
                "SELECT section, status, tables_done FROM dm_status ORDER BY section",
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("the monitor reads dm_status: {}", describe(&e)));
        let got: Vec<(String, Option<String>, Option<i32>)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(
            got,
            [
                ("fb".to_string(), Some("succeeded".to_string()), Some(2)),
                ("google".to_string(), Some("failed".to_string()), Some(0)),
                ("naver".to_string(), None, Some(0)),
            ]
        );
    }
    assert!(m
        .text("SELECT error FROM dm.run WHERE section = 'google'")
        .await
        .unwrap()
        .contains("no longer running this sync"));
}

/// Neither a loader nor an admin can write the run history or the access list, or draw a run
/// id, although their syncs write status: only pg_datamart does, as the extension's owner.
/// Nor can they change the settings that protect other people's work.
#[tokio::test]
async fn loaders_and_admins_cannot_write_run_history() {
    let ctx = setup("it_roles_forge").await;
    let m = &ctx.mart;
    history(&ctx).await;
    let before = m.checksum("SELECT * FROM dm.run").await;
    let steps = m.checksum("SELECT * FROM dm.run_step").await;
    for level in ["loader", "admin"] {
        let r = format!("it_roles_forge_{level}");
        role(&ctx, &r).await;
        m.exec(&format!("SELECT dm_grant('{r}', '{level}')")).await;
        let s = login(&ctx, &r, false).await;
        // Load the library (a call that fails on its argument), so that its settings are no
        // longer placeholders.
        let e = s.fails("SELECT * FROM dm_preview('nope')").await;
        assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, &["unknown section"]);
        for (sql, named) in [
            ("INSERT INTO dm.run (section, accounts, start_date, end_date, mode, status, pid, finished_at)
              VALUES ('fb', '{1001}', '2026-01-01', '2026-01-01', 'delete_insert', 'succeeded', pg_backend_pid(), now())", "table run"),
            ("INSERT INTO dm.run (section, accounts, start_date, end_date, mode, status, pid)
              VALUES ('fb', '{1001}', '2026-01-01', '2026-01-01', 'delete_insert', 'running', 1)", "table run"),
            ("UPDATE dm.run SET status = 'failed', error = 'forged'", "table run"),
            ("DELETE FROM dm.run", "table run"),
            ("TRUNCATE dm.run CASCADE", "table run"),
            ("INSERT INTO dm.run_step (run_id, position, mart_oid, mart_table) SELECT run_id, 9, 0, 'x' FROM dm.run", "table run_step"),
            ("UPDATE dm.run_step SET rows_fetched = 0", "table run_step"),
            ("DELETE FROM dm.run_step", "table run_step"),
            ("SELECT nextval('dm.run_run_id_seq')", "sequence run_run_id_seq"),
            ("INSERT INTO dm.access VALUES ('it_roles_forge_loader', 'admin')", "table access"),
            ("UPDATE dm.access SET access = 'admin'", "table access"),
            ("DELETE FROM dm.generated_procedure", "table generated_procedure"),
            ("SELECT * FROM dm._grant('it_roles_forge_loader'::regrole::oid, 'admin')", "function _grant"),
            ("SET pg_datamart.max_failures = 0", "pg_datamart.max_failures"),
            ("SET pg_datamart.ban_duration = '1s'", "pg_datamart.ban_duration"),
        ] {
            refused(&s, sql, &[named]).await;
        }
        if level == "loader" {
            for (sql, named) in [
                (
                    "SELECT dm_add_section('x', 'account_id', 'fb_account_dm')",
                    "dm_add_section",
                ),
                ("SELECT dm_pause('fb')", "dm_pause"),
                (
                    "INSERT INTO dm.pause (section) VALUES ('fb')",
                    "table pause",
                ),
                ("UPDATE dm.section SET mode = 'upsert'", "table section"),
            ] {
                refused(&s, sql, &[named]).await;
            }
        }
    }
    assert_eq!(m.checksum("SELECT * FROM dm.run").await, before);
    assert_eq!(m.checksum("SELECT * FROM dm.run_step").await, steps);
}

/// An admin cannot register (dm_add_section, dm_add_table, dm_map_column, dm_alter_section)
/// tables it cannot read and write: 42501 naming the table, the privilege and the GRANT to
/// run, nothing stored. With the privileges it registers; the section records it as owner; it
/// may alter any section whose tables it could register; its generated procedures belong to
/// the extension's owner.
#[tokio::test]
async fn an_admin_cannot_register_tables_it_cannot_read_or_write() {
    let ctx = setup("it_roles_admin").await;
    let m = &ctx.mart;
    let a = "it_roles_admin_dba";
    let loader = "it_roles_admin_loader";
    role(&ctx, a).await;
    role(&ctx, loader).await;
    m.exec(&format!(
        "CREATE TABLE hr_accounts (account_id varchar(32) PRIMARY KEY);
         CREATE TABLE hr_salary (LIKE fb_ad_dm INCLUDING ALL);
         ALTER TABLE fb_ad_dm ADD PRIMARY KEY (account_id, ad_id, collected_at);
         SELECT dm_grant('{a}', 'admin');
         SELECT dm_grant('{loader}', 'loader');
         GRANT SELECT ON fb_account_dm TO {a};
         GRANT SELECT, INSERT, DELETE ON fb_ad_dm TO {a};
         CREATE USER MAPPING FOR {a} SERVER redshift_prd OPTIONS (user '{a}', password '{PW}');"
    ))
    .await;
    // Registering a table reads it through the admin's own user mapping (issue 18).
    ctx.wh
        .exec(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {a}"
        ))
        .await;
    let s = login(&ctx, a, false).await;
    let stored = "SELECT (SELECT count(*) FROM dm.section) * 1000 + (SELECT count(*) FROM dm.section_table) * 100 + (SELECT count(*) FROM dm.column_map)";
    let nothing = m.i64(stored).await;

    // The section's foreign server.
    let e = s
        .fails("SELECT dm_add_section('adm', 'account_id', 'fb_account_dm')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &[a, "lacks USAGE on foreign server redshift_prd"],
    );
    assert!(
        e.hint().is_some_and(|h| h.contains(&format!(
            "GRANT USAGE ON FOREIGN SERVER \"redshift_prd\" TO \"{a}\""
        ))),
        "{:?}",
        e.hint()
    );
    m.exec(&format!(
        "GRANT USAGE ON FOREIGN SERVER redshift_prd TO {a}"
    ))
    .await;

    // The account table.
    let e = s
        .fails("SELECT dm_add_section('adm', 'account_id', 'hr_accounts')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["lacks SELECT on account table public.hr_accounts"],
    );
    assert!(
        e.hint()
            .is_some_and(|h| h.contains(&format!("GRANT SELECT ON public.hr_accounts TO \"{a}\""))),
        "{:?}",
        e.hint()
    );
    assert_eq!(m.i64(stored).await, nothing);
    let registered = s
        .text("SELECT dm_add_section('adm', 'account_id', 'fb_account_dm')")
        .await
        .unwrap();
    assert_eq!(registered, format!("section adm registered (owner {a})"));
    assert_eq!(
        m.text("SELECT owner::text FROM dm.section WHERE section = 'adm'")
            .await
            .as_deref(),
        Some(a)
    );
    assert_eq!(
        m.text("SELECT owner::text FROM dm.section WHERE section = 'fb'")
            .await
            .as_deref(),
        Some("postgres")
    );

    // A mart table it cannot write, over TCP and the socket.
    for socket in [false, true] {
        let s = login(&ctx, a, socket).await;
        let e = s
            .fails("SELECT dm_add_table('adm', 'hr_salary', 'fb_ad')")
            .await;
        assert_error(
            &e,
            SqlState::INSUFFICIENT_PRIVILEGE,
            &[
                a,
                "lacks SELECT, INSERT, DELETE on mart table public.hr_salary",
            ],
        );
        assert!(
            e.hint().is_some_and(|h| h.contains(&format!(
                "GRANT SELECT, INSERT, DELETE ON public.hr_salary TO \"{a}\""
            ))),
            "{:?}",
            e.hint()
        );
        let e = s
            .fails("SELECT dm_map_column('hr_salary', 'tag', 'secret')")
            .await;
        assert_error(
            &e,
            SqlState::INSUFFICIENT_PRIVILEGE,
            &["lacks SELECT, INSERT, DELETE on mart table public.hr_salary"],
        );
        let e = s.fails("SELECT dm_unmap_column('hr_salary', 'tag')").await;
        assert_error(
            &e,
            SqlState::INSUFFICIENT_PRIVILEGE,
            &["on mart table public.hr_salary"],
        );
    }
    s.exec("SELECT dm_add_table('adm', 'fb_ad_dm', 'fb_ad'); SELECT dm_map_column('fb_ad_dm', 'tag', 'tag')")
        .await;
    let nothing = m.i64(stored).await;

    // Altering registers the section anew: its account table, its tables in the new mode.
    let e = s
        .fails("SELECT dm_alter_section('adm', account_table => 'hr_accounts')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["lacks SELECT on account table public.hr_accounts"],
    );
    let e = s
        .fails("SELECT dm_alter_section('adm', mode => 'upsert')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["lacks UPDATE on mart table public.fb_ad_dm"],
    );
    assert!(
        e.hint()
            .is_some_and(|h| h.contains(&format!("GRANT UPDATE ON public.fb_ad_dm TO \"{a}\""))),
        "{:?}",
        e.hint()
    );
    // Another owner's section whose tables it cannot write.
    let e = s.fails("SELECT dm_alter_section('fb', days => 3)").await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["on mart table public.fb_campaign_dm"],
    );
    assert_eq!(m.i64(stored).await, nothing);
    assert_eq!(
        m.text("SELECT mode || ' ' || account_table::text FROM dm.section WHERE section = 'adm'")
            .await
            .as_deref(),
        Some("delete_insert fb_account_dm")
    );
    // With the privileges, an admin may alter any section (another owner's included).
    m.exec(&format!(
        "GRANT SELECT, INSERT, DELETE ON fb_campaign_dm TO {a}; GRANT UPDATE ON fb_ad_dm TO {a}"
    ))
    .await;
    s.exec("SELECT dm_alter_section('fb', days => 3); SELECT dm_alter_section('adm', mode => 'upsert')")
        .await;
    assert_eq!(
        m.text("SELECT string_agg(section || ' ' || days || ' ' || mode || ' ' || owner::text, ', ' ORDER BY section) FROM dm.section WHERE section IN ('adm', 'fb')")
            .await
            .as_deref(),
        Some(format!("adm 7 upsert {a}, fb 3 delete_insert postgres").as_str())
    );

    // Generated procedures: made by the extension's owner for the admin, given to loaders.
    let made = lines(
        &s,
        "SELECT action FROM dm_generate_procedures() ORDER BY section",
    )
    .await;
    assert_eq!(made, ["created"; 4]);
    assert_eq!(
        m.text("SELECT string_agg(DISTINCT proowner::regrole::text, ',') FROM pg_proc WHERE proname LIKE 'dm\\_sync\\_%'")
            .await
            .as_deref(),
        Some("postgres")
    );
    for (who, expected) in [(loader, "true"), (a, "true")] {
        assert_eq!(
            m.text(&format!(
                "SELECT has_function_privilege('{who}', 'dm_sync_adm(text, date, date)', 'EXECUTE')::text"
            ))
            .await
            .as_deref(),
            Some(expected),
            "{who}"
        );
    }
    assert_eq!(
        s.text("SELECT dm_drop_section('adm')").await.as_deref(),
        Some("section adm removed (1 tables unregistered, procedure \"public\".\"dm_sync_adm\"(text, date, date) dropped; mart tables and run history kept)")
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM pg_proc WHERE proname = 'dm_sync_adm'")
            .await,
        0
    );
    // The owner-side helper drops only procedures of removed sections.
    let e = s.fails("SELECT dm._drop_generated('fb')").await;
    assert_error(
        &e,
        SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
        &["section fb still exists"],
    );
}

/// Gives the fixture's mart tables `fb_campaign_dm` and `fb_ad_dm` (and every partition) an
/// owner role that is not a superuser, with CREATE on their schema: production's setup, where
/// pg_datamart creates partitions as that owner for the loader.
async fn mart_owner(ctx: &Ctx, owner: &str) {
    ctx.mart
        .exec(&format!(
            "DO $$ BEGIN CREATE ROLE {owner} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             GRANT CREATE, USAGE ON SCHEMA public TO {owner};
             DO $$ DECLARE t regclass; BEGIN
                 FOR t IN SELECT c.oid FROM pg_class c WHERE c.oid IN ('fb_campaign_dm'::regclass, 'fb_ad_dm'::regclass)
                          UNION SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent IN ('fb_campaign_dm'::regclass, 'fb_ad_dm'::regclass)
                 LOOP EXECUTE format('ALTER TABLE %s OWNER TO {owner}', t); END LOOP;
             END $$;"
        ))
        .await;
}

/// A loader whose grants are set up like production's but with `extra` granted instead of the
/// full table privileges; returns the loader's name. Warehouse reads go through a scram role of
/// the warehouse (the loader's user mapping holds its password: dblink's rule for
/// non-superusers).
async fn production_loader(ctx: &Ctx, name: &str, table_grants: &str) -> String {
    let loader = format!("{name}_loader");
    let reader = format!("{name}_wh_reader");
    role(ctx, &loader).await;
    let admin = Session::connect("postgres").await;
    scram_role(&admin, &reader, PW).await;
    ctx.wh
        .exec(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}"
        ))
        .await;
    ctx.mart
        .exec(&format!(
            "SELECT dm_grant('{loader}', 'loader');
             {table_grants}
             GRANT SELECT ON fb_account_dm TO {loader};
             GRANT USAGE ON FOREIGN SERVER redshift_prd TO {loader};
             CREATE USER MAPPING FOR {loader} SERVER redshift_prd OPTIONS (user '{reader}', password '{PW}');",
            table_grants = table_grants.replace("{loader}", &loader)
        ))
        .await;
    loader
}

/// A loader lacking one privilege on one mart table is refused before any data moves: 42501
/// naming the table, the privilege and the GRANT; rows and history unchanged.
#[tokio::test]
async fn a_loader_lacking_a_table_privilege_is_refused_before_any_data_moves() {
    let ctx = setup("it_roles_lacking").await;
    let m = &ctx.mart;
    history(&ctx).await;
    let loader = production_loader(
        &ctx,
        "it_roles_lacking",
        "GRANT SELECT, INSERT, DELETE ON fb_campaign_dm TO {loader}; GRANT SELECT, INSERT ON fb_ad_dm TO {loader};",
    )
    .await;
    let rows = (
        m.checksum("SELECT * FROM fb_campaign_dm").await,
        m.checksum("SELECT * FROM fb_ad_dm").await,
        m.checksum("SELECT * FROM dm.run").await,
    );
    for socket in [false, true] {
        let s = login(&ctx, &loader, socket).await;
        let e = s
            .fails("CALL dm_sync('fb', '1001,1002', '2026-01-10', '2026-01-12')")
            .await;
        assert_error(
            &e,
            SqlState::INSUFFICIENT_PRIVILEGE,
            &[&loader, "lacks DELETE on mart table public.fb_ad_dm"],
        );
        assert!(
            e.hint().is_some_and(
                |h| h.contains(&format!("GRANT DELETE ON public.fb_ad_dm TO \"{loader}\""))
            ),
            "{:?}",
            e.hint()
        );
        let e = s
            .fails("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12', mode => 'upsert')")
            .await;
        assert_error(
            &e,
            SqlState::INSUFFICIENT_PRIVILEGE,
            &["lacks UPDATE on mart table public.fb_campaign_dm"],
        );
        let e = s.fails("SELECT * FROM dm_preview('fb', '1001')").await;
        assert_error(
            &e,
            SqlState::INSUFFICIENT_PRIVILEGE,
            &["lacks DELETE on mart table public.fb_ad_dm"],
        );
    }
    assert_eq!(
        (
            m.checksum("SELECT * FROM fb_campaign_dm").await,
            m.checksum("SELECT * FROM fb_ad_dm").await,
            m.checksum("SELECT * FROM dm.run").await,
        ),
        rows,
        "no data moved, no run recorded"
    );
}

fn events(s: &Session) -> Vec<serde_json::Value> {
    s.notifications()
        .into_iter()
        .filter(|(channel, _)| channel == "dm_status")
        .map(|(_, payload)| serde_json::from_str(&payload).expect("JSON payload"))
        .collect()
}

/// The mart's rows of a window equal the warehouse's.
async fn assert_window(ctx: &Ctx, accounts: &str, from: &str, to: &str) {
    let w = format!("account_id IN ({accounts}) AND collected_at BETWEEN '{from}' AND '{to}'");
    for (cols, wh, mart) in [
        (FB_CAMPAIGN, "fb_campaign", "fb_campaign_dm"),
        (FB_AD, "fb_ad", "fb_ad_dm"),
    ] {
        let expected = ctx
            .wh
            .checksum(&format!("SELECT {cols} FROM {wh} WHERE {w}"))
            .await;
        assert!(expected.0 > 0);
        assert_eq!(
            ctx.mart
                .checksum(&format!("SELECT {cols} FROM {mart} WHERE {w}"))
                .await,
            expected,
            "{mart} {w}"
        );
    }
}

/// The last run: its status and its steps' statuses.
async fn last_run(m: &Session) -> (String, Vec<String>) {
    let run = m
        .text(
            "SELECT status || COALESCE(': ' || error, '') FROM dm.run ORDER BY run_id DESC LIMIT 1",
        )
        .await
        .unwrap();
    let steps = lines(
        m,
        "SELECT status FROM dm.run_step WHERE run_id = (SELECT max(run_id) FROM dm.run) ORDER BY position",
    )
    .await;
    (run, steps)
}

/// The production loader end to end, over TCP and over the socket, with only dm_grant(loader,
/// 'loader') and the usual grants (SELECT, INSERT, DELETE, UPDATE on the mart tables, SELECT on
/// the account table, USAGE on the server, a user mapping): rows equal the warehouse's, status
/// rows succeeded, a monitor is notified, the month that has no partition gets one owned by the
/// table's owner with the section's storage parameters, and the generated procedure runs too.
#[tokio::test]
async fn a_loader_syncs_end_to_end_over_tcp_and_the_socket() {
    let ctx = setup("it_roles_e2e").await;
    let m = &ctx.mart;
    m.exec("DROP TABLE fb_campaign_dm_p202602").await;
    mart_owner(&ctx, "it_roles_e2e_owner").await;
    let loader = production_loader(
        &ctx,
        "it_roles_e2e",
        "GRANT SELECT, INSERT, DELETE, UPDATE ON fb_campaign_dm, fb_ad_dm TO {loader};",
    )
    .await;
    let grafana = "it_roles_e2e_grafana";
    role(&ctx, grafana).await;
    m.exec(&format!("SELECT dm_grant('{grafana}', 'monitor')"))
        .await;
    let watcher = login(&ctx, grafana, false).await;
    watcher.exec("LISTEN dm_status").await;

    let tcp = login(&ctx, &loader, false).await;
    tcp.exec("CALL dm_sync('fb', '1003', '2026-01-10', '2026-01-12')")
        .await;
    assert_window(&ctx, "'1003'", "2026-01-10", "2026-01-12").await;
    assert_eq!(
        last_run(m).await,
        ("succeeded".to_string(), vec!["succeeded".to_string(); 2])
    );

    // February has no partition (dropped above): the loader's sync creates it.
    let socket = login(&ctx, &loader, true).await;
    socket
        .exec("CALL dm_sync('fb', '1001,1002', '2026-02-01', '2026-02-03')")
        .await;
    assert_window(&ctx, "'1001', '1002'", "2026-02-01", "2026-02-03").await;
    assert_eq!(
        last_run(m).await,
        ("succeeded".to_string(), vec!["succeeded".to_string(); 2])
    );
    assert_eq!(
        m.text(
            "SELECT c.relowner::regrole::text || ' ' || array_to_string(c.reloptions, ',') FROM pg_class c
              WHERE c.relname = 'fb_campaign_dm_p202602'"
        )
        .await
        .as_deref(),
        Some("it_roles_e2e_owner autovacuum_vacuum_scale_factor=0,autovacuum_vacuum_threshold=200000,autovacuum_analyze_scale_factor=0"),
        "the new partition belongs to the table's owner and has the section's storage parameters"
    );

    // The generated procedure, made after the grant, is the loader's to call.
    m.exec("SELECT * FROM dm_generate_procedures()").await;
    socket
        .exec("CALL dm_sync_fb('1004', '2026-01-10', '2026-01-10')")
        .await;
    assert_window(&ctx, "'1004'", "2026-01-10", "2026-01-10").await;
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE status = 'succeeded'")
            .await,
        3
    );
    // Notifications arrive on the watcher's connection as they are sent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let finished = loop {
        let finished: Vec<serde_json::Value> = events(&watcher)
            .into_iter()
            .filter(|e| e["event"] == "run_finish")
            .collect();
        if finished.len() >= 3 || std::time::Instant::now() > deadline {
            break finished;
        }
        watcher.exec("SELECT 1").await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(finished.len(), 3, "{finished:?}");
    assert!(
        finished.iter().all(|e| e["status"] == "succeeded"),
        "{finished:?}"
    );
}

/// pg_cron runs the job as the loader (cron.schedule_in_database with the loader's name, jobs
/// in background workers: no password involved), and the sync succeeds.
#[tokio::test]
async fn pg_cron_runs_the_job_as_the_loader() {
    let ctx = setup("it_roles_cron").await;
    mart_owner(&ctx, "it_roles_cron_owner").await;
    let loader = production_loader(
        &ctx,
        "it_roles_cron",
        "GRANT SELECT, INSERT, DELETE, UPDATE ON fb_campaign_dm, fb_ad_dm TO {loader};",
    )
    .await;
    // pg_cron keeps its jobs in database it_cron_mart (Makefile: cron.database_name).
    let admin = Session::connect("postgres").await;
    if admin
        .i64("SELECT count(*) FROM pg_database WHERE datname = 'it_cron_mart'")
        .await
        == 0
    {
        admin.exec("CREATE DATABASE it_cron_mart").await;
    }
    let cron = Session::connect("it_cron_mart").await;
    cron.exec(
        "CREATE EXTENSION IF NOT EXISTS pg_cron;
         SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'it_roles_cron';",
    )
    .await;
    let job = cron
        .i64(&format!(
            "SELECT cron.schedule_in_database('it_roles_cron', '* * * * *',
                 $$CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12')$$, '{}', '{loader}')",
            ctx.mart_db
        ))
        .await;
    assert_eq!(
        cron.text(&format!(
            "SELECT username FROM cron.job WHERE jobid = {job}"
        ))
        .await
        .as_deref(),
        Some(loader.as_str())
    );
    // pg_cron starts it at the next minute boundary.
    wait_until(
        &cron,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = {job} AND status IN ('succeeded', 'failed'))"
        ),
        90,
    )
    .await;
    cron.exec(&format!("SELECT cron.unschedule({job})")).await;
    let outcome = cron
        .text(&format!(
            "SELECT status || ': ' || COALESCE(return_message, '') FROM cron.job_run_details
              WHERE jobid = {job} AND status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1"
        ))
        .await
        .unwrap();
    assert!(
        outcome.starts_with("succeeded"),
        "the pg_cron job as {loader}: {outcome}"
    );
    assert_window(&ctx, "'1001'", "2026-01-10", "2026-01-12").await;
    assert_eq!(
        last_run(&ctx.mart).await,
        ("succeeded".to_string(), vec!["succeeded".to_string(); 2])
    );
}

/// A non-superuser admin runs the watchdog: stale runs are reconciled through pg_datamart's
/// narrow helper, with no write access to the run history.
#[tokio::test]
async fn an_admin_runs_the_watchdog_without_writing_the_history_itself() {
    let ctx = setup("it_roles_watchdog").await;
    let admin = "it_roles_watchdog_admin";
    role(&ctx, admin).await;
    ctx.mart
        .exec(&format!("SELECT dm_grant('{admin}', 'admin')"))
        .await;
    // A run left 'running' by a backend that is gone.
    ctx.mart
        .exec(
            "INSERT INTO dm.run (section, accounts, start_date, end_date, mode, status, pid)
             VALUES ('fb', '{1001}', '2026-01-01', '2026-01-01', 'delete_insert', 'running', 999999)",
        )
        .await;
    let s = login(&ctx, admin, false).await;
    s.exec("SELECT * FROM dm_watchdog()").await;
    assert_eq!(
        ctx.mart.text("SELECT status FROM dm.run").await.unwrap(),
        "failed"
    );
    let e = s.fails("UPDATE dm.run SET status = 'succeeded'").await;
    assert_error(&e, SqlState::INSUFFICIENT_PRIVILEGE, &["run"]);
}
