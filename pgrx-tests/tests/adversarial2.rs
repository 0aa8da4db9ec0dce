//! Security, round two (issue 18): what an adversarial review with hostile roles did to 0.4.0,
//! and must not do any more.
//!
//! - No table of pg_datamart, of another extension or of the system can be a mart table or an
//!   account table, and nothing a sync loads can write pg_datamart's configuration.
//! - A lock holder is named by pid, role, application and state, never by its query text.
//! - Only failures of the sync's own work count towards a ban: not lock waits on locks others
//!   hold, not squatted partition names, not failures recorded by hand, not invalid values of
//!   the account table (skipped with a note).
//! - Account id lists are bounded (and parsed in linear time), windows lie near today, and a
//!   role runs a bounded number of syncs at once.
//! - A superuser syncing tables of a role that is not one is warned that their code runs as it.
//!
//! Roles are cluster-wide: every test uses role names of its own (`it_adv2_<test>_<role>`).

use pg_datamart_it::{assert_error, login, mart_role, setup, wait_until, Session};
use tokio_postgres::error::SqlState;

const PW: &str = "Adv2-S3cret-7";

/// The latest run of section `section`: (status, sqlstate, error, note).
async fn last_run(m: &Session, section: &str) -> (String, String, String, String) {
    let row = m
        .client
        .query_one(
            "SELECT status, COALESCE(sqlstate, ''), COALESCE(error, ''), COALESCE(note, '')
               FROM dm.run WHERE section = $1 ORDER BY run_id DESC LIMIT 1",
            &[&section],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

/// pg_datamart's own tables, other extensions' tables and system catalogs are refused as mart
/// and account tables, to a superuser too, through the API and through direct writes; a row
/// that gets in anyway (the guard trigger disabled by a superuser) is refused by the sync; and
/// a mart table's trigger cannot make a superuser's sync write the configuration.
#[tokio::test]
async fn no_table_of_pg_datamart_or_the_system_can_be_registered_or_synced() {
    let ctx = setup("it_adv2_tables").await;
    let m = &ctx.mart;
    m.exec("CREATE TABLE section_feed (section text PRIMARY KEY); INSERT INTO section_feed VALUES ('x1');")
        .await;
    m.exec("SELECT dm_add_section('cfg', 'section', 'section_feed')")
        .await;
    let before = m
        .checksum("SELECT * FROM dm.section s LEFT JOIN dm.section_table t USING (section)")
        .await;
    for (sql, parts) in [
        (
            "SELECT dm_add_table('cfg', 'dm.section', 'section')",
            vec!["mart table dm.section is in schema dm, which belongs to pg_datamart"],
        ),
        (
            "SELECT dm_add_table('cfg', 'dm.pause', 'pause')",
            vec!["mart table dm.pause"],
        ),
        (
            "SELECT dm_add_section('cat', 'rolname', 'pg_catalog.pg_authid')",
            vec!["account table pg_authid is a system catalog"],
        ),
        (
            "SELECT dm_add_section('cat2', 'section', 'dm.section')",
            vec!["account table dm.section is in schema dm"],
        ),
        (
            "INSERT INTO dm.section_table (section, position, mart_table, remote_schema, remote_table)
             VALUES ('cfg', 1, 'dm.section', 'public', 'section')",
            vec!["mart table dm.section"],
        ),
        (
            "UPDATE dm.section SET account_table = 'dm.access' WHERE section = 'cfg'",
            vec!["account table dm.access"],
        ),
    ] {
        let e = m.fails(sql).await;
        assert_error(&e, SqlState::INSUFFICIENT_PRIVILEGE, &parts);
        assert!(
            e.message().contains("pg_datamart syncs only plain user tables"),
            "{}",
            e.message()
        );
    }
    assert_eq!(
        m.checksum("SELECT * FROM dm.section s LEFT JOIN dm.section_table t USING (section)")
            .await,
        before,
        "nothing was stored"
    );

    // Nothing that is not a plain table either: a view as the account table (it would run its
    // owner's functions as whoever syncs), an account column of a type of a role's own (its
    // cast to text would), a mart table with a foreign child (the sync's DELETE and INSERT
    // would reach another database with the syncing role's user mapping).
    m.exec(
        "CREATE VIEW account_view WITH (security_invoker) AS SELECT account_id FROM fb_account_dm;
         CREATE TYPE acct AS (id text);
         CREATE TABLE odd_accounts (account_id acct);
         INSERT INTO odd_accounts VALUES (ROW('1001'));",
    )
    .await;
    let e = m
        .fails("SELECT dm_add_section('viewed', 'account_id', 'account_view')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["account table public.account_view is a view, not a table"],
    );
    m.exec("SELECT dm_add_section('odd', 'account_id', 'odd_accounts'); SELECT dm_add_table('odd', 'fb_ad_dm');")
        .await;
    let e = m.fails("SELECT * FROM dm_preview('odd')").await;
    assert_error(
        &e,
        SqlState::INVALID_OBJECT_DEFINITION,
        &["the account column account_id of public.odd_accounts has type public.acct"],
    );
    m.exec(
        "CREATE FOREIGN TABLE fb_ad_remote_child () INHERITS (fb_ad_dm)
             SERVER redshift_prd OPTIONS (table_name 'fb_ad')",
    )
    .await;
    let e = m
        .fails("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["mart table public.fb_ad_dm has a partition or child, public.fb_ad_remote_child, which is a foreign table, not a table"],
    );
    m.exec("DROP FOREIGN TABLE fb_ad_remote_child").await;

    // A row that bypasses the guard (a superuser disabled it): the sync refuses the table,
    // before anything is written.
    m.exec(
        "ALTER TABLE dm.section_table DISABLE TRIGGER dm_config_guard;
         INSERT INTO dm.section_table (section, position, mart_table, remote_schema, remote_table)
         VALUES ('cfg', 1, 'dm.section', 'public', 'section');
         ALTER TABLE dm.section_table ENABLE TRIGGER dm_config_guard;",
    )
    .await;
    let sections = m.i64("SELECT count(*) FROM dm.section").await;
    let e = m
        .fails("CALL dm_sync('cfg', NULL, '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["mart table dm.section"],
    );
    assert_eq!(m.i64("SELECT count(*) FROM dm.section").await, sections);
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE section = 'cfg'")
            .await,
        0,
        "refused before anything was recorded"
    );

    // A trigger of a mart table writing the configuration during a (superuser's) sync is
    // refused: the table is rolled back, no section appears.
    m.exec(
        "CREATE FUNCTION public.plant_section() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO dm.section (section, account_column, account_table)
             VALUES ('planted', 'account_id', 'public.fb_account_dm');
             RETURN NULL;
         END $$;
         CREATE TRIGGER plant AFTER INSERT ON fb_ad_dm FOR EACH STATEMENT EXECUTE FUNCTION public.plant_section();",
    )
    .await;
    let e = m
        .fails("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &["cannot be written while a sync loads a table"],
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.section WHERE section = 'planted'")
            .await,
        0
    );
}

/// A session holding a lock a sync needs is named by pid, role, application and state, never
/// by its query (which may hold a password): in the step's note, the run, the client's error.
/// Its lock waits running out are failures others caused: three of them ban nothing.
#[tokio::test]
async fn lock_holders_are_named_without_their_query_and_their_locks_ban_nothing() {
    let ctx = setup("it_adv2_locks").await;
    let m = &ctx.mart;
    let a = "it_adv2_locks_svc";
    mart_role(&ctx, a, PW).await;
    let holder = Session::connect(&ctx.mart_db).await;
    holder
        .exec(&format!(
            "SET application_name = 'holder-app';
             BEGIN;
             LOCK TABLE fb_ad_dm IN ACCESS EXCLUSIVE MODE;
             ALTER ROLE {a} PASSWORD 'hunter2-secret';"
        ))
        .await;
    m.exec("SET pg_datamart.lock_timeout = '300ms'").await;
    for _ in 0..3 {
        let e = m
            .fails("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
            .await;
        assert_error(
            &e,
            SqlState::LOCK_NOT_AVAILABLE,
            &[
                "mart table public.fb_ad_dm is locked by another session",
                "role postgres, application 'holder-app', state idle in transaction",
                "AccessExclusiveLock on public.fb_ad_dm",
            ],
        );
        assert!(!e.message().contains("hunter2"), "{}", e.message());
        let (status, sqlstate, error, _) = last_run(m, "fb").await;
        assert_eq!((status.as_str(), sqlstate.as_str()), ("failed", "55P03"));
        assert!(!error.contains("hunter2"), "{error}");
    }
    let notes = m
        .text("SELECT COALESCE(string_agg(concat_ws(' ', note, error), ' '), '') FROM dm.run_step")
        .await
        .unwrap_or_default();
    assert!(notes.contains("holder-app"), "{notes}");
    assert!(!notes.contains("hunter2"), "{notes}");
    holder.exec("ROLLBACK").await;
    m.exec("RESET pg_datamart.lock_timeout").await;

    // Three lock timeouts caused by another session ban nothing: the next sync runs.
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(last_run(m, "fb").await.0, "succeeded");
}

/// Steps called by hand cannot record a failure that did not happen, nor choose its text;
/// runs begun by hand and abandoned ban nothing.
#[tokio::test]
async fn hand_called_steps_cannot_forge_failures_or_ban_a_section() {
    let ctx = setup("it_adv2_forge").await;
    let m = &ctx.mart;
    for _ in 0..3 {
        let run = m
            .i64("SELECT dm._run_begin('fb', '1001', '2026-01-10', '2026-01-10', NULL)")
            .await;
        let e = m
            .fails(&format!(
                "SELECT dm._step_failed({run}, 1, 'XX000', 'cancelled by dm_watchdog at 12:00 by admin1')"
            ))
            .await;
        assert_error(
            &e,
            SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
            &[&format!(
                "step 1 of run {run} did not just fail in this session"
            )],
        );
        let forged = m
            .i64(&format!(
                "SELECT count(*) FROM dm.run_step WHERE run_id = {run} AND error LIKE '%dm_watchdog%'"
            ))
            .await;
        assert_eq!(forged, 0);
    }
    // The abandoned runs end failed without a SQLSTATE (found by reconciliation): no ban.
    m.exec("SELECT count(*) FROM dm_status").await;
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE section = 'fb' AND error LIKE '%dm_watchdog%'")
            .await,
        0
    );
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(last_run(m, "fb").await.0, "succeeded");
}

/// A value of the account table that is no account id (a backslash, a quote) is skipped with a
/// note and a notice; the other accounts load; no sync fails because of it.
#[tokio::test]
async fn invalid_account_table_values_are_skipped_with_a_note() {
    let ctx = setup("it_adv2_accounts").await;
    let m = &ctx.mart;
    m.exec(r"INSERT INTO fb_account_dm VALUES (E'10\\01', 'x'), ('x'' OR ''1', 'y')")
        .await;
    m.take_notices();
    m.exec("CALL dm_sync('fb', NULL, '2026-01-10', '2026-01-10')")
        .await;
    let (status, _, _, note) = last_run(m, "fb").await;
    assert_eq!(status, "succeeded");
    assert!(
        note.contains("skipped 2 value(s) of the account table that are not account ids"),
        "{note}"
    );
    assert!(note.contains(r#""10\\01""#), "{note}");
    let accounts = m
        .text("SELECT array_to_string(accounts, ',') FROM dm.run ORDER BY run_id DESC LIMIT 1")
        .await
        .unwrap_or_default();
    assert_eq!(accounts, "1001,1002,1003,1004,1007");
    assert!(
        m.take_notices()
            .iter()
            .any(|n| n.contains("skipped 2 value(s)")),
        "a notice says so"
    );
}

/// A list of 80,000 ids is refused at once with 54000 naming the setting (it took 20 s, and
/// could not be cancelled, in 0.4.0); under a raised limit it is parsed (and its unknown ids
/// reported) without delay. Windows far from today are refused before anything is recorded.
#[tokio::test]
async fn account_lists_and_windows_are_bounded() {
    let ctx = setup("it_adv2_bounds").await;
    let m = &ctx.mart;
    let ids: Vec<String> = (0..80_000).map(|i| (2_000_000 + i).to_string()).collect();
    let list = ids.join(",");
    let e = m
        .fails(&format!("SELECT * FROM dm_preview('fb', '{list}')"))
        .await;
    assert_error(
        &e,
        SqlState::PROGRAM_LIMIT_EXCEEDED,
        &["account_ids lists more than 10000 ids (pg_datamart.max_account_ids)"],
    );
    m.exec("SET pg_datamart.max_account_ids = 100000").await;
    let e = m
        .fails(&format!("SELECT * FROM dm_preview('fb', '{list}')"))
        .await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &["none of the 80000 requested account(s)"],
    );
    for (sql, parts) in [
        (
            "CALL dm_sync('fb', '1001', '0001-01-01', '0001-12-31')",
            vec![
                "start_date: 0001-01-01 is more than 10 years from today",
                "pg_datamart.max_years_from_today",
            ],
        ),
        (
            "CALL dm_sync('fb', '1001', '9999-12-01', '9999-12-31')",
            vec!["end_date: 9999-12-31"],
        ),
        (
            "SELECT * FROM dm_preview('fb', '1001', '0001-01-01', '0001-12-31')",
            vec!["start_date: 0001-01-01"],
        ),
    ] {
        let e = m.fails(sql).await;
        assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, &parts);
    }
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 0);
    assert_eq!(
        m.i64("SELECT count(*) FROM pg_inherits WHERE inhparent = 'fb_campaign_dm'::regclass")
            .await,
        4,
        "no partition was created"
    );
}

/// A role that may create in the mart table's schema takes a partition's name: next month's,
/// created ahead of time, is skipped with a WARNING; a month the window needs is a clear
/// 42P07 naming the squatter, which bans nothing.
#[tokio::test]
async fn a_squatted_partition_name_is_a_warning_ahead_and_a_clear_error_that_bans_nothing() {
    let ctx = setup("it_adv2_squat").await;
    let m = &ctx.mart;
    let squatter = "it_adv2_squat_role";
    mart_role(&ctx, squatter, PW).await;
    m.exec(&format!(
        "DROP TABLE fb_campaign_dm_rest;
         GRANT CREATE, USAGE ON SCHEMA public TO {squatter};"
    ))
    .await;
    let next = m
        .text("SELECT to_char(date_trunc('month', current_date) + interval '1 month', 'YYYYMM')")
        .await
        .unwrap();
    let s = login(&ctx, squatter, PW).await;
    s.exec(&format!(
        "CREATE TABLE public.fb_campaign_dm_p{next} (x int);
         CREATE TABLE public.fb_campaign_dm_p202511 (x int);"
    ))
    .await;
    m.take_notices();
    m.exec("CALL dm_sync('fb', '1001', current_date, current_date)")
        .await;
    assert_eq!(last_run(m, "fb").await.0, "succeeded");
    assert!(
        m.take_notices().iter().any(|n| n.contains(&format!(
            "next month's partition was not created ahead of time: the name of partition public.fb_campaign_dm_p{next}"
        ))),
        "a warning says the partition ahead was not created"
    );
    for _ in 0..3 {
        let e = m
            .fails("CALL dm_sync('fb', '1001', '2025-11-10', '2025-11-10')")
            .await;
        assert_error(
            &e,
            SqlState::DUPLICATE_TABLE,
            &[&format!(
                "is taken by table public.fb_campaign_dm_p202511 (owner {squatter}), which is not its partition"
            )],
        );
        assert_eq!(
            last_run(m, "fb").await.1,
            "42P07",
            "the run records the SQLSTATE"
        );
    }
    // Not banned: a sync of another month runs.
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(last_run(m, "fb").await.0, "succeeded");
}

/// A role that is not a superuser runs at most pg_datamart.max_syncs_per_role syncs at once
/// (each holds a background worker slot); the next one is refused with 53400 naming the
/// setting, before anything is recorded.
#[tokio::test]
async fn a_role_runs_a_bounded_number_of_syncs() {
    let ctx = setup("it_adv2_slots").await;
    let m = &ctx.mart;
    let l = "it_adv2_slots_loader";
    mart_role(&ctx, l, PW).await;
    m.exec(&format!(
        "SELECT dm_grant('{l}', 'loader');
         GRANT SELECT ON fb_account_dm TO {l};
         GRANT SELECT, INSERT, DELETE ON fb_campaign_dm, fb_ad_dm TO {l};
         GRANT USAGE ON FOREIGN SERVER redshift_prd TO {l};
         CREATE USER MAPPING FOR {l} SERVER redshift_prd OPTIONS (user 'postgres', password 'unused');
         ALTER ROLE {l} IN DATABASE {db} SET pg_datamart.max_syncs_per_role = 1;",
        db = ctx.mart_db
    ))
    .await;
    let holder = Session::connect(&ctx.mart_db).await;
    holder
        .exec("BEGIN; LOCK TABLE fb_ad_dm IN ACCESS EXCLUSIVE MODE;")
        .await;
    let first = login(&ctx, l, PW).await;
    let waiting = tokio::spawn(async move {
        let r = first
            .client
            .batch_execute("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
            .await;
        drop(first);
        r
    });
    wait_until(
        m,
        &format!(
            "SELECT EXISTS (SELECT 1 FROM dm.run WHERE run_by = '{l}' AND status = 'running')"
        ),
        20,
    )
    .await;
    let second = login(&ctx, l, PW).await;
    let e = second
        .fails("CALL dm_sync('fb', '1002', '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::CONFIGURATION_LIMIT_EXCEEDED,
        &[&format!(
            "role {l} already runs 1 syncs (pg_datamart.max_syncs_per_role = 1)"
        )],
    );
    assert_eq!(
        m.i64(&format!("SELECT count(*) FROM dm.run WHERE run_by = '{l}'"))
            .await,
        1,
        "the refused sync recorded nothing"
    );
    holder.exec("ROLLBACK").await;
    // The first sync goes on (and fails at the warehouse: its mapping has no usable password).
    let _ = waiting.await.unwrap();
}

/// A superuser syncing a mart table owned by a role that is not a superuser is warned that the
/// table's triggers, defaults and index expressions run as the superuser.
#[tokio::test]
async fn a_superuser_syncing_another_roles_table_is_warned() {
    let ctx = setup("it_adv2_owner").await;
    let m = &ctx.mart;
    let owner = "it_adv2_owner_role";
    mart_role(&ctx, owner, PW).await;
    m.exec(&format!("ALTER TABLE fb_ad_dm OWNER TO {owner}"))
        .await;
    m.take_notices();
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    let notices = m.take_notices();
    assert!(
        notices.iter().any(|n| n.contains(&format!(
            "superuser postgres syncs mart tables owned by roles that are not superusers: public.fb_ad_dm (owner {owner})"
        ))),
        "{notices:?}"
    );
}
