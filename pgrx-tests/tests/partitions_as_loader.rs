//! A loader that is not a superuser, does not own the mart table and has no CREATE on any
//! schema syncs a partitioned table end to end: the monthly partitions the window needs are
//! created owned by the table's owner, with the section's storage parameters (also set on the
//! existing partitions), and what was written is analyzed. The partition DDL and ANALYZE run
//! as the table's owner, for those statements only: afterwards, and after a failing one, the
//! session is the loader again. Real roles, logged in with scram passwords over TCP and over
//! the Unix socket.

use pg_datamart_it::{assert_error, connect_as, scram_role, setup, wait_until, Ctx, Session};
use tokio_postgres::error::SqlState;

const COLS: &str =
    "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at";

/// The roles of one test: roles are cluster-wide, so each test has its own.
struct Roles {
    loader: &'static str,
    password: &'static str,
    owner: &'static str,
}

/// Schema `it_part` (owned by postgres): the table owner may USE and CREATE in it, the loader
/// may only USE it. `it_part.campaign_dm`, owned by `owner`, range-partitioned by month with
/// January 2026 already there (no storage parameters yet), registered as section `part`
/// (delete_insert, default storage parameters). The loader gets the usual table grants, the
/// account table, the foreign server and a user mapping for the warehouse holding its own
/// password, and SELECT on the warehouse table.
async fn prepare(ctx: &Ctx, r: &Roles) {
    let admin = Session::connect("postgres").await;
    scram_role(&admin, r.loader, r.password).await;
    admin
        .exec(&format!(
            "DO $$ BEGIN CREATE ROLE {owner} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
            owner = r.owner
        ))
        .await;
    let (loader, owner, pw) = (r.loader, r.owner, r.password);
    let wh_db = ctx.mart_db.replace("_mart", "_wh");
    let wh = Session::connect(&wh_db).await;
    wh.exec(&format!(
        "DROP OWNED BY {loader}; GRANT SELECT ON fb_campaign TO {loader};"
    ))
    .await;
    ctx.mart
        .exec(&format!(
            "DROP OWNED BY {loader}, {owner};
             CREATE SCHEMA it_part;
             GRANT USAGE, CREATE ON SCHEMA it_part TO {owner};
             GRANT USAGE ON SCHEMA it_part TO {loader};
             SET ROLE {owner};
             CREATE TABLE it_part.campaign_dm (
                 id           bigint GENERATED ALWAYS AS IDENTITY,
                 account_id   varchar(32) NOT NULL,
                 campaign_id  varchar(32) NOT NULL,
                 name         text,
                 status       varchar(16),
                 \"end\"        timestamp,
                 daily_budget numeric(14,2),
                 spec         text,
                 collected_at date NOT NULL,
                 created_at   timestamptz,
                 updated_at   timestamptz,
                 PRIMARY KEY (account_id, campaign_id, collected_at)
             ) PARTITION BY RANGE (collected_at);
             CREATE TABLE it_part.campaign_dm_p202601 PARTITION OF it_part.campaign_dm
                 FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
             GRANT SELECT, INSERT, UPDATE, DELETE ON it_part.campaign_dm TO {loader};
             RESET ROLE;
             GRANT SELECT ON fb_account_dm TO {loader};
             GRANT USAGE ON FOREIGN SERVER redshift_prd TO {loader};
             CREATE USER MAPPING FOR {loader} SERVER redshift_prd OPTIONS (user '{loader}', password '{pw}');
             SELECT dm_add_section('part', 'account_id', 'fb_account_dm', mode => 'delete_insert');
             SELECT dm_add_table('part', 'it_part.campaign_dm', 'fb_campaign');"
        ))
        .await;

    // The loader's access to pg_datamart itself: no write on the run history, no password
    // anywhere (the status writer records the runs).
    ctx.mart
        .exec(&format!("SELECT dm_grant('{loader}', 'loader')"))
        .await;

    // What the loader is not: a superuser, the table's owner, a role with CREATE anywhere.
    let not = ctx
        .mart
        .i64(&format!(
            "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = '{loader}' AND (rolsuper OR rolcreaterole OR rolcreatedb))
                  + (SELECT count(*) FROM pg_namespace WHERE has_schema_privilege('{loader}', oid, 'CREATE'))
                  + (SELECT count(*) FROM pg_class WHERE relowner = '{loader}'::regrole)
                  + (SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                      WHERE m.member = '{loader}'::regrole AND g.rolname <> 'dm_scram')"
        ))
        .await;
    assert_eq!(not, 0, "the loader has no privilege beyond its grants");
}

/// The loader logged in with its scram password, over TCP or the socket; a wrong password is
/// refused, so the session really authenticated.
async fn login(ctx: &Ctx, r: &Roles, socket: bool) -> Session {
    assert!(
        connect_as(&ctx.mart_db, r.loader, "wrong-password", socket)
            .await
            .is_err(),
        "the test server must require the loader's password (start it with the Makefile's IT_HBA)"
    );
    let s = connect_as(&ctx.mart_db, r.loader, r.password, socket)
        .await
        .unwrap_or_else(|e| panic!("{} logs in (socket {socket}): {e}", r.loader));
    assert_identity(&s, r).await;
    s.exec("SET pg_datamart.analyze_threshold = 1").await;
    s
}

/// The session is the loader, with no other identity left over.
async fn assert_identity(s: &Session, r: &Roles) {
    assert_eq!(
        s.text("SELECT current_user::text || '/' || session_user::text || '/' || current_setting('is_superuser')")
            .await
            .unwrap(),
        format!("{0}/{0}/off", r.loader)
    );
}

/// The mart's rows of `accounts` in [`from`, `to`] equal the warehouse's.
async fn same_rows(ctx: &Ctx, accounts: &str, from: &str, to: &str) -> i64 {
    let w = format!("account_id IN ({accounts}) AND collected_at BETWEEN '{from}' AND '{to}'");
    let wh = ctx
        .wh
        .checksum(&format!("SELECT {COLS} FROM fb_campaign WHERE {w}"))
        .await;
    let mart = ctx
        .mart
        .checksum(&format!("SELECT {COLS} FROM it_part.campaign_dm WHERE {w}"))
        .await;
    assert!(wh.0 > 0, "the window has warehouse rows");
    assert_eq!(mart, wh, "the mart has the warehouse's rows of the window");
    mart.0
}

/// (owner, reloptions) of partition `name` of it_part.campaign_dm; None if it does not exist.
async fn partition(ctx: &Ctx, name: &str) -> Option<(String, Vec<String>)> {
    let rows = ctx
        .mart
        .client
        .query(
            "SELECT pg_get_userbyid(c.relowner)::text, COALESCE(c.reloptions, '{}')
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'it_part.campaign_dm'::regclass AND c.relname = $1",
            &[&name],
        )
        .await
        .unwrap();
    rows.first().map(|r| (r.get(0), r.get(1)))
}

async fn section_storage(ctx: &Ctx) -> Vec<String> {
    ctx.mart
        .client
        .query_one(
            "SELECT storage_parameters FROM dm.section WHERE section = 'part'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// The partition was analyzed: ANALYZE counted in its statistics, and column statistics
/// written when it has rows.
async fn analyzed(ctx: &Ctx, name: &str) {
    wait_until(
        &ctx.mart,
        &format!(
            "SELECT COALESCE((SELECT analyze_count > 0 AND last_analyze IS NOT NULL
                                FROM pg_stat_user_tables WHERE relid = 'it_part.{name}'::regclass), false)"
        ),
        10,
    )
    .await;
    let rows = ctx
        .mart
        .i64(&format!("SELECT count(*) FROM it_part.{name}"))
        .await;
    let stats = ctx
        .mart
        .i64(&format!(
            "SELECT count(*) FROM pg_statistic WHERE starelid = 'it_part.{name}'::regclass"
        ))
        .await;
    assert_eq!(
        stats > 0,
        rows > 0,
        "{name} ({rows} rows) has column statistics"
    );
}

async fn last_run_status(ctx: &Ctx) -> String {
    ctx.mart
        .text(
            "SELECT status || coalesce(': ' || error, '') FROM dm.run ORDER BY run_id DESC LIMIT 1",
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_loader_creates_partitions_as_the_table_owner() {
    let ctx = setup("it_pal").await;
    let r = Roles {
        loader: "it_part_loader",
        password: "Part-L0ader-pw",
        owner: "it_part_owner",
    };
    prepare(&ctx, &r).await;
    let storage = section_storage(&ctx).await;
    assert_eq!(
        storage.len(),
        3,
        "the field's autovacuum values: {storage:?}"
    );
    assert_eq!(
        partition(&ctx, "campaign_dm_p202601").await,
        Some((r.owner.to_string(), vec![]))
    );

    // Reports, for every DDL command, the role it runs as and whether it is restricted (LISTEN
    // is refused in a security-restricted operation): the ALTER and CREATE pg_datamart runs
    // for the loader run as the owner, restricted.
    ctx.mart
        .exec(
            "CREATE FUNCTION report_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
             DECLARE v_listen text;
             BEGIN
                 BEGIN
                     LISTEN it_part_probe;
                     RAISE EXCEPTION 'LISTEN allowed';
                 EXCEPTION WHEN OTHERS THEN v_listen := SQLERRM;
                 END;
                 RAISE NOTICE 'ddl % as % for %: %', tg_tag, current_user, session_user, v_listen;
             END $$;
             CREATE EVENT TRIGGER report_ddl ON ddl_command_start EXECUTE FUNCTION report_ddl();",
        )
        .await;

    // Over TCP: the window spans January (exists) and February (does not).
    let tcp = login(&ctx, &r, false).await;
    tcp.exec("CALL dm_sync('part', '1001,1002', '2026-01-25', '2026-02-05')")
        .await;
    assert_identity(&tcp, &r).await;
    let ddl: Vec<String> = tcp
        .take_notices()
        .into_iter()
        .filter(|n| n.starts_with("ddl "))
        .collect();
    let restricted = format!(
        "as {} for {}: cannot execute LISTEN within security-restricted operation",
        r.owner, r.loader
    );
    assert_eq!(
        ddl,
        [
            format!("ddl ALTER TABLE {restricted}"),
            format!("ddl CREATE TABLE {restricted}"),
            format!("ddl ALTER TABLE {restricted}"),
        ],
        "the partition DDL (storage parameters, create, attach) ran as the table's owner, in a security-restricted operation"
    );
    assert_eq!(last_run_status(&ctx).await, "succeeded");
    assert_eq!(
        same_rows(&ctx, "'1001','1002'", "2026-01-25", "2026-02-05").await,
        12 * 2 * 2
    );
    assert_eq!(
        partition(&ctx, "campaign_dm_p202602").await,
        Some((r.owner.to_string(), storage.clone())),
        "the new partition belongs to the table's owner and has the section's storage parameters"
    );
    assert_eq!(
        partition(&ctx, "campaign_dm_p202601").await,
        Some((r.owner.to_string(), storage.clone())),
        "the existing partition got the storage parameters"
    );
    analyzed(&ctx, "campaign_dm_p202601").await;
    analyzed(&ctx, "campaign_dm_p202602").await;

    // Over the socket, in upsert: December 2025 has no partition yet.
    let sock = login(&ctx, &r, true).await;
    sock.exec("CALL dm_sync('part', '1003', '2025-12-28', '2026-01-03', mode => 'upsert')")
        .await;
    assert_identity(&sock, &r).await;
    assert_eq!(last_run_status(&ctx).await, "succeeded");
    assert_eq!(
        same_rows(&ctx, "'1003'", "2025-12-28", "2026-01-03").await,
        3 * 2
    );
    assert_eq!(
        partition(&ctx, "campaign_dm_p202512").await,
        Some((r.owner.to_string(), storage.clone()))
    );
    analyzed(&ctx, "campaign_dm_p202512").await;

    // A partition whose name a table of the owner's holds: the step fails with 42P07 naming
    // the relation that holds it, and the session is the loader again, able to sync the next
    // window.
    ctx.mart
        .exec(&format!(
            "SET ROLE {}; CREATE TABLE it_part.campaign_dm_p202603 (x int); RESET ROLE;",
            r.owner
        ))
        .await;
    let e = tcp
        .fails("CALL dm_sync('part', '1001', '2026-03-01', '2026-03-02')")
        .await;
    assert_error(
        &e,
        SqlState::DUPLICATE_TABLE,
        &[
            "it_part.campaign_dm",
            "campaign_dm_p202603",
            "is taken by table it_part.campaign_dm_p202603",
        ],
    );
    assert_identity(&tcp, &r).await;
    assert!(last_run_status(&ctx).await.starts_with("failed"));
    tcp.exec("CALL dm_sync('part', '1004', '2026-02-10', '2026-02-12')")
        .await;
    assert_identity(&tcp, &r).await;
    assert_eq!(last_run_status(&ctx).await, "succeeded");
    same_rows(&ctx, "'1004'", "2026-02-10", "2026-02-12").await;
    // The loader's own attempt to act as the owner is still refused: the switch ended.
    let e = tcp
        .fails("ALTER TABLE it_part.campaign_dm_p202602 SET (fillfactor = 50)")
        .await;
    assert_error(&e, SqlState::INSUFFICIENT_PRIVILEGE, &["must be owner"]);
}

#[tokio::test]
async fn an_owner_without_create_on_the_schema_is_a_clear_refusal() {
    let ctx = setup("it_pal_refused").await;
    let r = Roles {
        loader: "it_part_loader2",
        password: "Part-L0ader-pw2",
        owner: "it_part_owner2",
    };
    prepare(&ctx, &r).await;
    ctx.mart
        .exec(&format!("REVOKE CREATE ON SCHEMA it_part FROM {}", r.owner))
        .await;
    let tcp = login(&ctx, &r, false).await;
    let e = tcp
        .fails("CALL dm_sync('part', '1001', '2026-01-30', '2026-02-02')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &[
            "it_part.campaign_dm",
            &format!("role {}, the owner of mart table it_part.campaign_dm, lacks CREATE on schema it_part", r.owner),
        ],
    );
    let hint = e.hint().unwrap_or_default();
    assert!(
        hint.contains(&format!(
            "GRANT CREATE ON SCHEMA \"it_part\" TO \"{}\"",
            r.owner
        )),
        "{hint}"
    );
    assert_identity(&tcp, &r).await;
    assert_eq!(partition(&ctx, "campaign_dm_p202602").await, None);
    assert_eq!(
        ctx.mart
            .i64("SELECT count(*) FROM it_part.campaign_dm")
            .await,
        0,
        "nothing was loaded"
    );
    assert_eq!(
        partition(&ctx, "campaign_dm_p202601").await,
        Some((r.owner.to_string(), vec![])),
        "nothing was changed: the refusal came before any statement"
    );

    // The DBA runs the GRANT the hint gives; the loader resumes the run.
    ctx.mart
        .exec(&format!("GRANT CREATE ON SCHEMA it_part TO {}", r.owner))
        .await;
    let run = ctx.mart.i64("SELECT max(run_id) FROM dm.run").await;
    tcp.exec(&format!("CALL dm_resume({run})")).await;
    assert_identity(&tcp, &r).await;
    assert_eq!(last_run_status(&ctx).await, "succeeded");
    same_rows(&ctx, "'1001'", "2026-01-30", "2026-02-02").await;
    assert_eq!(
        partition(&ctx, "campaign_dm_p202602").await.map(|p| p.0),
        Some(r.owner.to_string())
    );

    // A table owned by a superuser: pg_datamart does not act as a superuser for the loader.
    ctx.mart
        .exec(&format!(
            "CREATE TABLE it_part.su_dm (LIKE it_part.campaign_dm INCLUDING IDENTITY, PRIMARY KEY (account_id, campaign_id, collected_at)) PARTITION BY RANGE (collected_at);
             CREATE TABLE it_part.su_dm_p202601 PARTITION OF it_part.su_dm FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')
                 WITH (autovacuum_vacuum_scale_factor=0, autovacuum_vacuum_threshold=200000, autovacuum_analyze_scale_factor=0);
             GRANT SELECT, INSERT, DELETE ON it_part.su_dm TO {loader};
             SELECT dm_add_section('part_su', 'account_id', 'fb_account_dm');
             SELECT dm_add_table('part_su', 'it_part.su_dm', 'fb_campaign');",
            loader = r.loader
        ))
        .await;
    let e = tcp
        .fails("CALL dm_sync('part_su', '1001', '2026-01-30', '2026-02-02')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &[
            "mart table it_part.su_dm is owned by superuser postgres",
            &format!("does not act as a superuser for role {}", r.loader),
        ],
    );
    assert!(
        e.hint()
            .unwrap_or_default()
            .contains("ALTER TABLE it_part.su_dm OWNER TO"),
        "{:?}",
        e.hint()
    );
    assert_identity(&tcp, &r).await;
    // Within existing partitions it loads; the storage parameters and ANALYZE, which only the
    // superuser could set or run, are skipped with a warning saying why.
    ctx.mart
        .exec("ALTER TABLE it_part.su_dm_p202601 SET (autovacuum_vacuum_threshold = 5)")
        .await;
    tcp.take_notices();
    tcp.exec("CALL dm_sync('part_su', '1001', '2026-01-20', '2026-01-22')")
        .await;
    let notices = tcp.take_notices().join("\n");
    assert!(
        notices.contains("table \"it_part\".\"su_dm_p202601\" is owned by superuser postgres"),
        "{notices}"
    );
    assert!(
        notices.contains("partition \"it_part\".\"su_dm_p202601\" is owned by superuser postgres: pg_datamart sets storage parameters as the owner"),
        "{notices}"
    );
    assert_eq!(
        ctx.mart
            .text("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'it_part.su_dm_p202601'::regclass")
            .await
            .unwrap(),
        "autovacuum_vacuum_scale_factor=0,autovacuum_analyze_scale_factor=0,autovacuum_vacuum_threshold=5"
    );
    assert_eq!(
        ctx.mart
            .i64("SELECT count(*) FROM it_part.su_dm WHERE account_id = '1001'")
            .await,
        3 * 2
    );
    assert_identity(&tcp, &r).await;
}
