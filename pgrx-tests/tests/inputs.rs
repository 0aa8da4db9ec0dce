//! Windows, dates, account ids and settings a sync is given: refused clearly (what, which
//! argument or setting, what to do) before anything is recorded or written, or understood as
//! the user meant them.

use pg_datamart_it::{assert_error, setup};
use tokio_postgres::error::SqlState;

#[tokio::test]
async fn windows_beyond_the_maximum_and_bc_dates_are_refused_before_anything_happens() {
    let ctx = setup("it_inputs_window").await;
    let m = &ctx.mart;
    let partitions =
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'fb_campaign_dm'::regclass";
    let before = m.i64(partitions).await;
    let e = m
        .fails("CALL dm_sync('fb', '1001', '1926-12-01', '2026-12-01')")
        .await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &[
            "start_date",
            "spans 36526 days, more than pg_datamart.max_window_days (400)",
        ],
    );
    assert!(e.hint().unwrap_or_default().contains("shorter window"));
    let e = m
        .fails("CALL dm_sync('fb', '1001', '0044-03-15 BC', '2026-01-01')")
        .await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &["start_date", "out of range"],
    );
    let e = m
        .fails("SELECT * FROM dm_preview('fb', '1001', '1726-12-01', '2026-12-01')")
        .await;
    assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, &["max_window_days"]);
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 0);
    assert_eq!(m.i64(partitions).await, before);
    // A superuser may allow a long backfill; nobody else may change the limit.
    m.exec(
        "DO $$ BEGIN CREATE ROLE it_inputs_nobody; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         SET ROLE it_inputs_nobody;",
    )
    .await;
    let e = m.fails("SET pg_datamart.max_window_days = 40000").await;
    assert_eq!(
        e.code(),
        &SqlState::INSUFFICIENT_PRIVILEGE,
        "{}",
        e.message()
    );
    m.exec("RESET ROLE; SET pg_datamart.max_window_days = 800")
        .await;
    assert_eq!(
        m.i64("SELECT count(*) FROM dm_preview('fb', '1001', '2025-01-01', '2026-12-31')")
            .await,
        2
    );
}

#[tokio::test]
async fn a_bad_time_zone_setting_is_refused_when_set() {
    let ctx = setup("it_inputs_tz").await;
    let m = &ctx.mart;
    let e = m
        .fails("SET pg_datamart.timezone = 'Mars/Olympus_Mons'")
        .await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &["pg_datamart.timezone", "Mars/Olympus_Mons"],
    );
    assert!(e.hint().unwrap_or_default().contains("pg_timezone_names"));
    m.exec("SET pg_datamart.timezone = 'Asia/Seoul'; SET pg_datamart.timezone = ''")
        .await;
    m.exec("SET pg_datamart.timezone = 'UTC'").await;
    m.exec("CALL dm_sync('fb', '1001')").await;
}

#[tokio::test]
async fn account_ids_many_unknown_and_numeric_with_leading_zeros() {
    let ctx = setup("it_inputs_ids").await;
    let m = &ctx.mart;
    let many: Vec<String> = (0..10_000).map(|i| format!("9{i:05}")).collect();
    let e = m
        .fails(&format!(
            "CALL dm_sync('fb', '{}', '2026-01-10', '2026-01-10')",
            many.join(",")
        ))
        .await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &[
            "account_ids",
            "none of the 10000 requested account(s)",
            "and 9980 more",
        ],
    );
    assert!(e.message().len() < 1000, "{} bytes", e.message().len());
    // google's account table holds bigint ids: '01001' is account 1001.
    let remote = m
        .text(
            "SELECT remote_sql FROM dm_preview('google', '01001,1002', '2026-01-10', '2026-01-10')",
        )
        .await
        .unwrap();
    assert!(
        remote.contains("'1001'") && !remote.contains("01001"),
        "{remote}"
    );
}

/// Configuration that could only fail later is refused when it is registered.
#[tokio::test]
async fn bad_configuration_is_refused_at_registration() {
    let ctx = setup("it_inputs_config").await;
    let m = &ctx.mart;
    let before = m
        .checksum("SELECT * FROM dm.section NATURAL FULL JOIN dm.section_table NATURAL FULL JOIN dm.column_map")
        .await;
    let long = "x".repeat(10_000);
    let cases = [
        (
            format!("SELECT dm_add_section('s1', 'account_id', 'fb_account_dm', date_column => '{long}')"),
            vec!["date_column", "10000 bytes long"],
        ),
        (
            format!("CREATE TABLE other_dm (LIKE fb_ad_dm); SELECT dm_add_table('fb', 'other_dm', '{long}')"),
            vec!["remote_table", "10000 bytes long"],
        ),
        (
            "SELECT dm_map_column('fb_campaign_dm', 'created_at', 'x')".to_string(),
            vec!["mart_column", "created_at", "never fetches it"],
        ),
        (
            "CREATE TABLE lonely_dm (LIKE fb_ad_dm); SELECT dm_map_column('lonely_dm', 'tag', 'x')".to_string(),
            vec!["mart_table", "lonely_dm is a table of no section"],
        ),
        (
            "CREATE TEMP TABLE temp_dm (LIKE fb_ad_dm); SELECT dm_add_table('fb', 'temp_dm', 'fb_ad')".to_string(),
            vec!["mart_table", "is a temporary table"],
        ),
        (
            "SELECT dm_add_section('s2', 'account_id', 'fb_account_dm', storage_parameters => ARRAY['nonsense=1'])".to_string(),
            vec!["storage_parameters", "\"nonsense=1\"", "unrecognized parameter \"nonsense\""],
        ),
        (
            "SELECT dm_alter_section('fb', storage_parameters => ARRAY['autovacuum_enabled=false', 'fillfactor=5'])".to_string(),
            vec!["storage_parameters", "\"fillfactor=5\"", "fillfactor"],
        ),
        (
            "SELECT dm_alter_section('fb', storage_parameters => ARRAY['fillfactor=50', 'fillfactor=60'])".to_string(),
            vec!["storage_parameters", "fillfactor is given more than once"],
        ),
        (
            "SELECT dm_alter_section('fb', storage_parameters => ARRAY['toast.nonsense=1'])".to_string(),
            vec!["storage_parameters", "\"toast.nonsense=1\"", "unrecognized parameter"],
        ),
    ];
    for (sql, parts) in &cases {
        let e = m.fails(sql).await;
        assert_error(&e, SqlState::INVALID_PARAMETER_VALUE, parts);
        assert!(e.message().len() < 1000, "{}", e.message().len());
    }
    assert_eq!(
        m.checksum("SELECT * FROM dm.section NATURAL FULL JOIN dm.section_table NATURAL FULL JOIN dm.column_map")
            .await,
        before
    );
    // Valid ones, the TOAST table's included, are accepted.
    m.exec("SELECT dm_alter_section('fb', storage_parameters => ARRAY['fillfactor=90', 'toast.autovacuum_enabled=false'])")
        .await;
}
