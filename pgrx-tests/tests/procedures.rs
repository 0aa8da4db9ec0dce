//! dm_generate_procedures and pg_cron scheduling, against a real pg_cron.

use pg_datamart_it::{assert_error, connect_as, scram_role, setup, wait_until, Ctx, Session};
use tokio_postgres::error::SqlState;

const PW: &str = "Least-Pr1v-S3cret";

async fn actions(m: &pg_datamart_it::Session) -> Vec<(String, String)> {
    m.client
        .query(
            "SELECT section, action FROM dm_generate_procedures() ORDER BY section, action",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn generated_procedures_mirror_dm_sync_and_never_run_stale() {
    let ctx = setup("it_generate").await;
    let m = &ctx.mart;
    let all = |a: &str| {
        vec![
            ("fb".to_string(), a.to_string()),
            ("google".into(), a.into()),
            ("naver".into(), a.into()),
        ]
    };
    assert_eq!(actions(m).await, all("created"));
    assert_eq!(
        actions(m).await,
        all("unchanged"),
        "generation is idempotent"
    );

    // The body shows the catalog-derived statements, for a reviewer.
    let def = m
        .text("SELECT pg_get_functiondef('dm_sync_google(text, date, date)'::regprocedure)")
        .await
        .unwrap();
    for part in [
        "PROCEDURE public.dm_sync_google(",
        "account_ids text DEFAULT '0'::text",
        "SELECT \"customer.id\", \"campaign.id\"",
        "\"customer.id\" IN (<account_ids>)",
        "\"collected_at\" >= <start_date> AND \"collected_at\" < <end_date + 1>",
        "\"customer_id\" bigint, \"campaign_id\" bigint",
        "DELETE FROM \"public\".\"google_campaign_report_dm\"",
        "CALL \"public\".dm_sync('google'::pg_catalog.text, account_ids, start_date, end_date)",
    ] {
        assert!(def.contains(part), "{part}\n--- not in ---\n{def}");
    }

    // A generated procedure loads what dm_sync loads, with the same status rows.
    m.exec("CALL dm_sync_fb('1001,1002', '2026-01-10', '2026-01-12')")
        .await;
    let generated = m
        .checksum("SELECT account_id, campaign_id, name, collected_at FROM fb_campaign_dm")
        .await;
    let generated_ads = m.checksum("SELECT * FROM fb_ad_dm").await;
    m.exec("TRUNCATE fb_campaign_dm, fb_ad_dm").await;
    m.exec("CALL dm_sync('fb', '1001,1002', '2026-01-10', '2026-01-12')")
        .await;
    assert_eq!(
        m.checksum("SELECT account_id, campaign_id, name, collected_at FROM fb_campaign_dm")
            .await,
        generated
    );
    assert_eq!(m.checksum("SELECT * FROM fb_ad_dm").await, generated_ads);
    assert_eq!(generated.0, 12);
    let runs = m.text("SELECT string_agg(section || ':' || status || ':' || mode, ',' ORDER BY run_id) FROM dm.run").await;
    assert_eq!(
        runs.as_deref(),
        Some("fb:succeeded:delete_insert,fb:succeeded:delete_insert")
    );

    // After the mart table changes, the stale procedure refuses until regenerated.
    m.exec("ALTER TABLE fb_ad_dm ADD COLUMN extra text").await;
    let e = m
        .fails("CALL dm_sync_fb('1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
        &["dm_sync_fb is out of date"],
    );
    assert!(e.hint().unwrap().contains("dm_generate_procedures()"));
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 2, "nothing ran");
    m.exec("ALTER TABLE fb_ad_dm DROP COLUMN extra").await; // the extra column has no warehouse column
    assert_eq!(
        actions(m).await,
        all("unchanged"),
        "back to the generated definition"
    );
    m.exec("SELECT dm_map_column('fb_ad_dm', 'tag', 'user')")
        .await; // a changed mapping
    assert_eq!(
        actions(m).await,
        vec![
            ("fb".to_string(), "replaced".to_string()),
            ("google".into(), "unchanged".into()),
            ("naver".into(), "unchanged".into())
        ]
    );
    m.exec("CALL dm_sync_fb('1001', '2026-01-10', '2026-01-10')")
        .await;

    // Dropping a section drops its procedure; generation drops leftovers of removed sections.
    m.exec("SELECT dm_drop_section('naver')").await;
    assert_eq!(
        m.i64("SELECT count(*) FROM pg_proc WHERE proname = 'dm_sync_naver'")
            .await,
        0
    );
    m.exec("DELETE FROM dm.section WHERE section = 'google'")
        .await; // removed behind our back
    let rows = m
        .client
        .query(
            "SELECT procedure, section, action FROM dm_generate_procedures() ORDER BY section",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "\"public\".\"dm_sync_fb\"(text, date, date)".to_string(),
                "fb".into(),
                "unchanged".into()
            ),
            (
                "\"public\".\"dm_sync_google\"(text, date, date)".to_string(),
                "google".into(),
                "dropped".into()
            ),
        ]
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM pg_proc WHERE proname LIKE 'dm_sync_%'")
            .await,
        1
    );
    // A user's own procedure of the same name is never replaced.
    m.exec(
        "SELECT dm_add_section('mine', 'account_id', 'fb_account_dm');
         CREATE PROCEDURE dm_sync_mine(a text, b date, c date) LANGUAGE sql AS 'SELECT 1';",
    )
    .await;
    let e = m.fails("SELECT * FROM dm_generate_procedures()").await;
    assert_error(
        &e,
        SqlState::DUPLICATE_OBJECT,
        &["dm_sync_mine", "did not generate"],
    );
}

#[tokio::test]
async fn scheduling_without_pg_cron_says_how_to_install_it() {
    let ctx = setup("it_nocron").await;
    let e = ctx
        .mart
        .fails("SELECT dm_schedule('fb', '5 * * * *')")
        .await;
    assert_error(
        &e,
        SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
        &["pg_cron keeps its jobs in database it_cron_mart"],
    );
    assert!(
        e.hint().unwrap().contains("cron.schedule_in_database"),
        "{:?}",
        e.hint()
    );
    let e = ctx
        .mart
        .fails("SELECT dm_schedule('nope', '5 * * * *')")
        .await;
    assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, &["unknown section"]);
    // Everything else works without pg_cron.
    ctx.mart
        .exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
}

/// The test server runs pg_cron for database it_cron_mart (Makefile: cron.database_name).
#[tokio::test]
async fn a_scheduled_sync_really_runs_from_pg_cron() {
    let ctx = setup("it_cron").await;
    let m = &ctx.mart;
    m.exec("CREATE EXTENSION pg_cron").await;
    let job: i64 = m
        .client
        .query_one("SELECT dm_schedule('fb', '* * * * *', '1001,1002')", &[])
        .await
        .unwrap()
        .get(0);
    let again: i64 = m
        .client
        .query_one("SELECT dm_schedule('fb', '* * * * *', '1001')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(again, job, "rescheduling updates the same job");
    assert_eq!(
        m.i64("SELECT count(*) FROM cron.job WHERE jobname = 'pg_datamart:fb'")
            .await,
        1
    );
    assert_eq!(
        m.text("SELECT command FROM cron.job WHERE jobname = 'pg_datamart:fb'")
            .await
            .unwrap(),
        "CALL \"public\".dm_sync('fb'::pg_catalog.text, '1001'::pg_catalog.text)"
    );
    let e = m
        .fails("SELECT dm_schedule('fb', '* * * * *', '1001; DROP TABLE x')")
        .await;
    assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, &["account_ids"]);

    // pg_cron starts it at the next minute boundary.
    wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM dm.run WHERE section = 'fb' AND status = 'succeeded')",
        90,
    )
    .await;
    assert_eq!(
        m.text("SELECT account_ids FROM dm.run LIMIT 1")
            .await
            .as_deref(),
        Some("1001")
    );
    wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                         WHERE j.jobname = 'pg_datamart:fb' AND d.status = 'succeeded')",
        30,
    )
    .await;
    assert!(m
        .client
        .query_one("SELECT dm_unschedule('fb')", &[])
        .await
        .unwrap()
        .get::<_, bool>(0));
    assert!(!m
        .client
        .query_one("SELECT dm_unschedule('fb')", &[])
        .await
        .unwrap()
        .get::<_, bool>(0));
    assert_eq!(m.i64("SELECT count(*) FROM cron.job").await, 0);
    a_non_superuser_admin_schedules_and_unschedules_with_pg_cron(&ctx).await;
}

/// `dm_schedule` / `dm_unschedule` work for an admin that is not a superuser (pg_cron's
/// settings, which they used to read, are superuser-only); without USAGE on schema cron the
/// admin is told which GRANT it needs.
async fn a_non_superuser_admin_schedules_and_unschedules_with_pg_cron(ctx: &Ctx) {
    let m = &ctx.mart;
    let admin = "it_lp_cron_admin";
    let root = Session::connect("postgres").await;
    scram_role(&root, admin, PW).await;
    m.exec(&format!("DROP OWNED BY {admin}")).await;
    m.exec(&format!("SELECT dm_grant('{admin}', 'admin')"))
        .await;
    let s = connect_as(&ctx.mart_db, admin, PW, false)
        .await
        .unwrap_or_else(|e| panic!("{admin} logs in: {e}"));
    let e = s
        .fails("SELECT dm_schedule('fb', '5 * * * *', '1001')")
        .await;
    assert_error(
        &e,
        SqlState::INSUFFICIENT_PRIVILEGE,
        &[admin, "no USAGE on schema cron"],
    );
    assert!(
        e.hint()
            .unwrap_or_default()
            .contains(&format!("GRANT USAGE ON SCHEMA cron TO \"{admin}\";")),
        "{:?}",
        e.hint()
    );

    m.exec(&format!("GRANT USAGE ON SCHEMA cron TO {admin}"))
        .await;
    let job = s.i64("SELECT dm_schedule('fb', '5 * * * *', '1001')").await;
    assert_eq!(
        s.i64("SELECT dm_schedule('fb', '7 * * * *', '1001')").await,
        job,
        "rescheduling updates the same job"
    );
    assert_eq!(
        m.text(&format!(
            "SELECT jobname || ' ' || username || ' ' || schedule FROM cron.job WHERE jobid = {job}"
        ))
        .await
        .as_deref(),
        Some(format!("pg_datamart:fb {admin} 7 * * * *").as_str())
    );
    assert_eq!(
        s.text("SELECT dm_unschedule('fb')::text").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        s.text("SELECT dm_unschedule('fb')::text").await.as_deref(),
        Some("false")
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM cron.job WHERE jobname = 'pg_datamart:fb'")
            .await,
        0
    );
}

/// Generated procedures depend on the extension: a plain DROP EXTENSION refuses, naming them;
/// with CASCADE they go with it (none is left behind calling what is gone).
#[tokio::test]
async fn generated_procedures_go_with_the_extension() {
    let ctx = setup("it_generate_drop").await;
    let m = &ctx.mart;
    m.exec("SELECT * FROM dm_generate_procedures()").await;
    // Regenerating (CREATE OR REPLACE) keeps the dependency.
    m.exec("SELECT dm_alter_section('fb', days => 3); SELECT * FROM dm_generate_procedures()")
        .await;
    let e = m.fails("DROP EXTENSION pg_datamart").await;
    assert_error(
        &e,
        SqlState::DEPENDENT_OBJECTS_STILL_EXIST,
        &["cannot drop extension pg_datamart because other objects depend on it"],
    );
    assert!(
        e.detail().unwrap_or_default().contains("dm_sync_fb"),
        "{:?}",
        e.detail()
    );
    m.exec("DROP EXTENSION pg_datamart CASCADE").await;
    assert_eq!(
        m.i64("SELECT count(*) FROM pg_proc WHERE proname LIKE 'dm\\_sync\\_%'")
            .await,
        0
    );
}
