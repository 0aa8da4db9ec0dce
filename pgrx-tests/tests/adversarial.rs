//! Hostile non-superusers sharing the mart (issue 11, adversarial review): what they tried that
//! used to work, and must not.
//!
//! - An admin holds INSERT/UPDATE on the configuration tables; writing them directly (not
//!   through `dm_add_section` / `dm_add_table` / `dm_map_column`) must pass the same privilege
//!   checks, or the admin points a superuser's sync at a table it cannot read or write (the
//!   confused deputy of the issue), and a section's recorded owner must stay the role that
//!   inserted it.
//! - A loader driving the `dm._*` steps by hand must not get a load rolled back (ROLLBACK TO
//!   SAVEPOINT around `dm._sync_step`, or `dm._step_done` before the COMMIT) recorded as done.
//!
//! Roles are cluster-wide: every test uses role names of its own (`it_adv_<test>_<role>`). The
//! server must require scram passwords for members of `dm_scram` (Makefile: IT_HBA).

use pg_datamart_it::{assert_error, configuration, login, mart_role, scram_role, setup, Session};
use tokio_postgres::error::SqlState;

const PW: &str = "Adv-S3cret-9";

/// An admin writing dm.section, dm.section_table or dm.column_map directly is checked like the
/// registration functions: it cannot make the account table, or a mart table, one it cannot
/// read or write (42501 naming it, nothing stored), and the superuser's next sync reads and
/// writes only what it did before. A section it inserts records it as the owner, whatever the
/// row said; an owner cannot be rewritten. Renumbering and allowed changes still work.
#[tokio::test]
async fn an_admin_writing_the_configuration_directly_is_checked_like_registration() {
    let ctx = setup("it_adv_config").await;
    let m = &ctx.mart;
    let a = "it_adv_config_admin";
    mart_role(&ctx, a, PW).await;
    m.exec(&format!(
        "CREATE SCHEMA hr;
         CREATE TABLE hr.people (account_id varchar(32), ssn text);
         INSERT INTO hr.people VALUES ('1001', 'SSN-SECRET-1');
         CREATE TABLE hr.salary (LIKE fb_ad_dm INCLUDING ALL);
         SELECT dm_grant('{a}', 'admin');
         GRANT SELECT ON fb_account_dm TO {a};
         GRANT SELECT, INSERT, DELETE ON fb_campaign_dm, fb_ad_dm TO {a};
         GRANT USAGE ON FOREIGN SERVER redshift_prd TO {a};
         CREATE USER MAPPING FOR {a} SERVER redshift_prd OPTIONS (user '{a}', password '{PW}');"
    ))
    .await;
    // Registering a table reads it through the admin's own user mapping (issue 18).
    ctx.wh
        .exec(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {a}"
        ))
        .await;
    let people = m.i64("SELECT 'hr.people'::regclass::oid::int8").await;
    let salary = m.i64("SELECT 'hr.salary'::regclass::oid::int8").await;
    let s = login(&ctx, a, PW).await;
    let before = configuration(m).await;

    for (sql, parts) in [
        (
            format!("UPDATE dm.section SET account_table = {people}, account_column = 'ssn' WHERE section = 'fb'"),
            vec!["lacks SELECT on account table hr.people"],
        ),
        (
            format!("INSERT INTO dm.section_table (section, position, mart_table, remote_schema, remote_table)
                     VALUES ('fb', 3, {salary}, 'public', 'fb_ad')"),
            vec!["lacks SELECT, INSERT, DELETE on mart table hr.salary"],
        ),
        (
            format!("UPDATE dm.section_table SET mart_table = {salary} WHERE section = 'fb' AND position = 2"),
            vec!["mart table hr.salary"],
        ),
        (
            format!("INSERT INTO dm.column_map (mart_table, mart_column, remote_column) VALUES ({salary}, 'tag', 'name')"),
            vec!["mart table hr.salary"],
        ),
        (
            // Upsert needs UPDATE on every table of the section, which the admin lacks.
            "UPDATE dm.section SET mode = 'upsert' WHERE section = 'fb'".to_string(),
            vec!["lacks UPDATE on mart table public.fb_campaign_dm"],
        ),
    ] {
        let e = s.fails(&sql).await;
        assert_error(&e, SqlState::INSUFFICIENT_PRIVILEGE, &parts);
    }
    assert_eq!(configuration(m).await, before, "nothing was stored");

    // The superuser's sync still reads the registered account table and loads the registered
    // tables only.
    m.exec("CALL dm_sync('fb', NULL, '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.text(
            "SELECT status || ' ' || (accounts = (SELECT array_agg(account_id::text ORDER BY account_id) FROM fb_account_dm))
               FROM dm.run ORDER BY run_id DESC LIMIT 1"
        )
        .await
        .as_deref(),
        Some("succeeded true"),
        "the accounts are fb_account_dm's"
    );
    assert_eq!(m.i64("SELECT count(*) FROM hr.salary").await, 0);

    // What the admin may do directly still works: a section it could register, recorded as
    // its own whatever the row says; renumbering; the owner cannot be rewritten.
    s.exec(
        "INSERT INTO dm.section (section, account_column, account_table, server, owner)
         VALUES ('adv', 'account_id', 'fb_account_dm', 'redshift_prd', 'postgres');
         INSERT INTO dm.section_table (section, position, mart_table, remote_schema, remote_table)
         VALUES ('adv', 2, 'fb_ad_dm', 'public', 'fb_ad');
         UPDATE dm.section_table SET position = 1 WHERE section = 'adv';
         UPDATE dm.section SET days = 3, owner = 'postgres' WHERE section = 'adv';",
    )
    .await;
    assert_eq!(
        m.text("SELECT owner::text || ' ' || days FROM dm.section WHERE section = 'adv'")
            .await
            .as_deref(),
        Some("it_adv_config_admin 3")
    );
    s.exec("UPDATE dm.section SET owner = 'it_adv_config_admin' WHERE section = 'fb'")
        .await;
    assert_eq!(
        m.text("SELECT owner::text FROM dm.section WHERE section = 'fb'")
            .await
            .as_deref(),
        Some("postgres")
    );
}

/// A loader that drives the steps by hand cannot have a load that was rolled back recorded as
/// done: not with ROLLBACK TO SAVEPOINT around `dm._sync_step`, not with `dm._step_done`
/// before the COMMIT (55000, the step not succeeded, the run not finished as succeeded). The
/// same steps committed are recorded, as `dm_sync` records them.
#[tokio::test]
async fn a_rolled_back_load_is_not_recorded_as_done() {
    let ctx = setup("it_adv_forge").await;
    let m = &ctx.mart;
    let loader = "it_adv_forge_loader";
    let reader = "it_adv_forge_wh_reader";
    mart_role(&ctx, loader, PW).await;
    scram_role(&Session::connect("postgres").await, reader, PW).await;
    ctx.wh
        .exec(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}"
        ))
        .await;
    m.exec(&format!(
        "SELECT dm_grant('{loader}', 'loader');
         GRANT SELECT, INSERT, DELETE ON fb_campaign_dm, fb_ad_dm TO {loader};
         GRANT SELECT ON fb_account_dm TO {loader};
         GRANT USAGE ON FOREIGN SERVER redshift_prd TO {loader};
         CREATE USER MAPPING FOR {loader} SERVER redshift_prd OPTIONS (user '{reader}', password '{PW}');
         DELETE FROM fb_campaign_dm WHERE account_id = '1003' AND collected_at = '2026-01-10';"
    ))
    .await;
    let s = login(&ctx, loader, PW).await;
    let run = s
        .i64("SELECT dm._run_begin('fb', '1003', '2026-01-10', '2026-01-10', NULL)")
        .await;

    // A run begun by hand is over when its statement is: its steps are refused afterwards.
    let e = s
        .fails(&format!(
            "BEGIN; SAVEPOINT s; SELECT dm._sync_step({run}, 1); ROLLBACK TO s; COMMIT;"
        ))
        .await;
    assert_error(
        &e,
        SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
        &["is not the run this session is syncing"],
    );
    s.exec("ROLLBACK").await;
    // Within one statement, a load is recorded only once it committed.
    let e = s
        .fails(
            "SELECT dm._sync_step(x.r, 1), dm._step_done(x.r, 1, '{}')
               FROM (SELECT dm._run_begin('fb', '1003', '2026-01-10', '2026-01-10', NULL) AS r OFFSET 0) x",
        )
        .await;
    assert_error(
        &e,
        SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
        &["not just loaded and committed"],
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm WHERE account_id = '1003' AND collected_at = '2026-01-10'")
            .await,
        0
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run_step WHERE status = 'succeeded'")
            .await,
        0
    );
    let e = s.fails(&format!("SELECT dm._run_finish({run})")).await;
    assert_eq!(e.code(), &SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE, "{e}");

    // The real thing, committed, is recorded.
    s.exec("CALL dm_sync('fb', '1003', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.text("SELECT status FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .as_deref(),
        Some("succeeded")
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm WHERE account_id = '1003' AND collected_at = '2026-01-10'")
            .await,
        2
    );
}
