//! Issue 18 (security, round two), item 7 and three low items, with roles that are not
//! superusers and log in with scram passwords, holding only what the docs tell a DBA to
//! grant:
//! - the watchdog of an admin with `pg_signal_backend` (and no `pg_read_all_stats`) verifies
//!   and cancels a run whose backend logged in as one role and `SET ROLE` to the loader;
//! - an admin writing `dm.section` / `dm.pause` directly cannot disable bans or forge who
//!   paused (forced columns), nor write the watchdog's notes;
//!
//! `dm_schedule` / `dm_unschedule` by a non-superuser admin are tested in procedures.rs, with
//! the other scheduling test: both need the database pg_cron runs for (`it_cron_mart`), and
//! recreating it from another test binary would stop pg_cron's launcher for the later ones.

use pg_datamart_it::{assert_error, describe, mart_role, scram_role, setup, Ctx, Session};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

const PW: &str = "Least-Pr1v-S3cret";

/// Logs `name` in to the mart with its scram password, over TCP.
async fn login(ctx: &Ctx, name: &str) -> Session {
    let s = pg_datamart_it::login(ctx, name, PW).await;
    assert_eq!(
        s.text("SELECT current_setting('is_superuser')")
            .await
            .as_deref(),
        Some("off")
    );
    s
}

/// A warehouse role with a scram password that may read every warehouse table (and view).
async fn warehouse_reader(ctx: &Ctx, name: &str) {
    let admin = Session::connect("postgres").await;
    scram_role(&admin, name, PW).await;
    ctx.wh
        .exec(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}"
        ))
        .await;
}

/// The mart tables of section fb (and their partitions) belong to `owner`, a role that is not
/// a superuser, as in the production setup of docs/roles-and-security.md.
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

/// Section `slow` (fb_campaign_dm quick, fb_ad_dm from a warehouse view that sleeps as long
/// as `sleep_conf.secs` says, once per pull).
async fn slow_section(ctx: &Ctx, secs: f64) {
    ctx.wh
        .exec(&format!(
            "CREATE TABLE sleep_conf (secs float8); INSERT INTO sleep_conf VALUES ({secs});
             CREATE VIEW fb_ad_slow AS WITH s AS MATERIALIZED (SELECT pg_sleep((SELECT secs FROM sleep_conf)))
             SELECT f.* FROM fb_ad f, s;"
        ))
        .await;
    ctx.mart
        .exec(
            "SELECT dm_add_section('slow', 'account_id', 'fb_account_dm');
             SELECT dm_add_table('slow', 'fb_campaign_dm');
             SELECT dm_add_table('slow', 'fb_ad_dm', 'fb_ad_slow');",
        )
        .await;
}

/// `(action, detail)` of what `dm_watchdog()` did about run `run_id`.
async fn watchdog_on(s: &Session, run_id: i64) -> Vec<(String, String)> {
    s.client
        .query(
            "SELECT action, detail FROM dm_watchdog() WHERE run_id = $1",
            &[&run_id],
        )
        .await
        .unwrap_or_else(|e| panic!("dm_watchdog(): {}", describe(&e)))
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// A sync whose backend logged in as one role and `SET ROLE` to the loader is still the run's
/// backend for the watchdog (the run records the login role besides `run_by`); and an admin
/// with only what the docs tell a DBA to grant (`dm_grant(..., 'admin')`,
/// `pg_signal_backend`; no `pg_read_all_stats`, so pg_stat_activity hides the sync's backend
/// from it) verifies the run and cancels it.
#[tokio::test]
async fn an_admin_without_pg_read_all_stats_cancels_a_sync_run_after_set_role() {
    let ctx = setup("it_lp_watch").await;
    let m = &ctx.mart;
    slow_section(&ctx, 1.0).await;
    mart_owner(&ctx, "it_lp_watch_owner").await;
    let (loader, login_role, admin, reader) = (
        "it_lp_watch_loader",
        "it_lp_watch_login",
        "it_lp_watch_admin",
        "it_lp_watch_wh_reader",
    );
    for r in [loader, login_role, admin] {
        mart_role(&ctx, r, PW).await;
    }
    warehouse_reader(&ctx, reader).await;
    m.exec(&format!(
        "SELECT dm_grant('{loader}', 'loader');
         GRANT SELECT, INSERT, DELETE, UPDATE ON fb_campaign_dm, fb_ad_dm TO {loader};
         GRANT SELECT ON fb_account_dm TO {loader};
         GRANT USAGE ON FOREIGN SERVER redshift_prd TO {loader};
         CREATE USER MAPPING FOR {loader} SERVER redshift_prd OPTIONS (user '{reader}', password '{PW}');
         GRANT {loader} TO {login_role};
         SELECT dm_grant('{admin}', 'admin');
         GRANT pg_signal_backend TO {admin};
         ALTER ROLE {admin} INHERIT;
         -- the watchdog's settings are superuser-only: the DBA sets them for the admin
         ALTER ROLE {admin} IN DATABASE {db} SET pg_datamart.watchdog_min_duration = 0;",
        db = ctx.mart_db
    ))
    .await;
    assert_eq!(
        m.text(&format!(
            "SELECT pg_has_role('{admin}', 'pg_read_all_stats', 'USAGE')::text"
        ))
        .await
        .as_deref(),
        Some("false")
    );

    // A quick run first (the watchdog compares with the previous successful run), then a long
    // one, both by a session that logged in as one role and SET ROLE to the loader.
    let quick = login(&ctx, login_role).await;
    quick.exec(&format!("SET ROLE {loader}")).await;
    quick
        .exec("CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.text("SELECT status || ' by ' || run_by || ', logged in as ' || login_role FROM dm.run WHERE run_id = 1")
            .await
            .as_deref(),
        Some(format!("succeeded by {loader}, logged in as {login_role}").as_str())
    );
    ctx.wh.exec("UPDATE sleep_conf SET secs = 60").await;
    let long = login(&ctx, login_role).await;
    long.exec(&format!("SET ROLE {loader}")).await;
    let sync_pid: i32 = long
        .client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let sync = tokio::spawn(async move {
        let started = Instant::now();
        let r = long
            .client
            .batch_execute("CALL dm_sync('slow', '1001', '2026-01-10', '2026-01-10')")
            .await
            .map_err(|e| describe(&e));
        (r, started.elapsed().as_secs_f64())
    });
    pg_datamart_it::wait_until(
        m,
        "SELECT EXISTS (SELECT 1 FROM dm.run_step WHERE run_id = 2 AND position = 2 AND remote_pid IS NOT NULL)",
        20,
    )
    .await;
    assert_eq!(
        m.text("SELECT run_by || '/' || login_role || '/' || pid FROM dm.run WHERE run_id = 2")
            .await
            .as_deref(),
        Some(format!("{loader}/{login_role}/{sync_pid}").as_str())
    );

    let a = login(&ctx, admin).await;
    // What made the old watchdog fail: pg_stat_activity hides the sync's backend from the admin.
    assert_eq!(
        a.text(&format!(
            "SELECT (backend_start IS NULL)::text FROM pg_stat_activity WHERE pid = {sync_pid}"
        ))
        .await
        .as_deref(),
        Some("true"),
        "the admin must not see other roles' backends in pg_stat_activity"
    );
    // Watch until the run is past 5x the previous one (warned on the way, if a pass falls
    // between 3x and 5x), then cancelled.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let cancelled = loop {
        let w = watchdog_on(&a, 2).await;
        assert!(
            w.iter().all(|(action, _)| action != "unverified"),
            "the admin's watchdog did not recognise the sync's backend: {w:?}"
        );
        if let Some((_, detail)) = w.iter().find(|(action, _)| action == "cancelled") {
            break detail.clone();
        }
        seen.extend(w);
        assert!(
            Instant::now() < deadline && !sync.is_finished(),
            "never cancelled (actions: {seen:?})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        cancelled.contains("cancelled by dm_watchdog"),
        "{cancelled}"
    );
    let (r, secs) = sync.await.unwrap();
    let err = r.expect_err("the CALL ends cancelled");
    assert!(err.starts_with("57014"), "{err}");
    assert!(secs < 40.0, "cancelled, not ended by the warehouse's 60 s");
    let run = m
        .client
        .query_one("SELECT status, note FROM dm.run WHERE run_id = 2", &[])
        .await
        .unwrap();
    assert_eq!(run.get::<_, String>(0), "cancelled");
    let note: String = run.get(1);
    assert!(
        note.contains("cancelled by dm_watchdog"),
        "the watchdog's note is on the run: {note}"
    );
}

/// Columns that only their API writes get the API's value whoever writes the row: an admin's
/// `unbanned_at = 'infinity'` lifts the ban now (as dm_unban does) and later failures ban
/// again; a pause an admin inserts names the admin, whatever `paused_by` says; and the
/// watchdog's notes are not the admin's to write.
#[tokio::test]
async fn an_admin_cannot_disable_bans_forge_who_paused_or_write_watchdog_notes() {
    let ctx = setup("it_lp_forced").await;
    let m = &ctx.mart;
    let (admin, reader) = ("it_lp_forced_admin", "it_lp_forced_wh_reader");
    mart_role(&ctx, admin, PW).await;
    warehouse_reader(&ctx, reader).await;
    // What step 5 of docs/roles-and-security.md gives an admin (plus a user mapping of its own).
    m.exec(&format!(
        "SELECT dm_grant('{admin}', 'admin');
         GRANT SELECT, INSERT, DELETE, UPDATE ON ALL TABLES IN SCHEMA public TO {admin};
         GRANT USAGE ON FOREIGN SERVER redshift_prd TO {admin};
         CREATE USER MAPPING FOR {admin} SERVER redshift_prd OPTIONS (user '{reader}', password '{PW}');"
    ))
    .await;
    let s = login(&ctx, admin).await;

    // Bans: 'infinity' becomes the time of the change.
    s.exec("UPDATE dm.section SET unbanned_at = 'infinity' WHERE section = 'fb'")
        .await;
    assert_eq!(
        m.text(
            "SELECT (unbanned_at <= clock_timestamp() AND unbanned_at > clock_timestamp() - interval '1 minute')::text
               FROM dm.section WHERE section = 'fb'"
        )
        .await
        .as_deref(),
        Some("true"),
        "unbanned_at forced to the time of the change"
    );
    // Failures after it still ban the section (pg_datamart.max_failures = 3).
    m.exec(
        "INSERT INTO dm.run (section, account_ids, accounts, start_date, end_date, mode, status, started_at, finished_at, error, sqlstate, pid, run_by)
         SELECT 'fb', '1001', '{1001}', '2026-01-10', '2026-01-10', 'delete_insert', 'failed',
                clock_timestamp() - interval '1 second', clock_timestamp(), 'relation \"public.fb_ad\" does not exist', '42P01', 1, 'postgres'
           FROM generate_series(1, 3);
         INSERT INTO dm.run_step (run_id, position, mart_oid, mart_table, status, sqlstate, error)
         SELECT run_id, 1, 'fb_ad_dm'::regclass, 'public.fb_ad_dm', 'failed', '42P01', 'relation \"public.fb_ad\" does not exist'
           FROM dm.run;",
    )
    .await;
    assert_eq!(
        s.i64("SELECT count(*) FROM dm_watchdog() WHERE section = 'fb' AND action = 'banned'")
            .await,
        1,
        "the admin's 'infinity' did not disable bans"
    );
    // dm_unban still lifts it.
    s.exec("SELECT dm_unban('fb')").await;
    assert_eq!(
        s.i64("SELECT count(*) FROM dm_watchdog() WHERE section = 'fb' AND action = 'banned'")
            .await,
        0
    );
    // A section an admin inserts has never been unbanned.
    s.exec(
        "INSERT INTO dm.section (section, account_column, account_table, unbanned_at)
         VALUES ('adm', 'account_id', 'fb_account_dm', 'infinity')",
    )
    .await;
    assert_eq!(
        m.text("SELECT (unbanned_at IS NULL)::text FROM dm.section WHERE section = 'adm'")
            .await
            .as_deref(),
        Some("true")
    );
    // A superuser's value is kept (restores).
    m.exec("UPDATE dm.section SET unbanned_at = '2001-02-03 04:05:06+00' WHERE section = 'naver'")
        .await;
    assert_eq!(
        m.text("SELECT (unbanned_at = '2001-02-03 04:05:06+00')::text FROM dm.section WHERE section = 'naver'")
            .await
            .as_deref(),
        Some("true")
    );

    // Pauses name who paused, and when.
    s.exec(
        "INSERT INTO dm.pause (section, paused_at, paused_by) VALUES ('naver', '2000-01-01', 'postgres')",
    )
    .await;
    let paused = "SELECT paused_by || ' ' || (paused_at > clock_timestamp() - interval '1 minute')::text FROM dm.pause WHERE section = 'naver'";
    assert_eq!(
        m.text(paused).await.as_deref(),
        Some(format!("{admin} true").as_str())
    );
    s.exec("UPDATE dm.pause SET paused_by = 'postgres', paused_at = '2000-01-01' WHERE section = 'naver'")
        .await;
    assert_eq!(
        m.text(paused).await.as_deref(),
        Some(format!("{admin} true").as_str())
    );
    s.exec("SELECT dm_pause('google')").await;
    assert_eq!(
        m.text("SELECT paused_by FROM dm.pause WHERE section = 'google'")
            .await
            .as_deref(),
        Some(admin)
    );

    // The watchdog's notes are the owner's to write (dm_watchdog writes them as the owner).
    let e = s
        .fails("UPDATE dm.run SET note = 'cancelled by dm_watchdog (forged)'")
        .await;
    assert_error(&e, SqlState::INSUFFICIENT_PRIVILEGE, &["run"]);
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE note LIKE '%forged%'")
            .await,
        0
    );
}
