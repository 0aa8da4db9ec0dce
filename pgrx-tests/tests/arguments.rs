//! Every argument of the public API either has a documented meaning or is refused with a clear
//! error naming it: a NULL where none is allowed is 22004, a table oid that is no relation is
//! 42P01 naming the oid; never XX000, never a silent no-op, and nothing is written.

use pg_datamart_it::{assert_error, setup, Session};
use tokio_postgres::error::SqlState;

/// The configuration and the run history, as one comparable value.
async fn state(m: &Session) -> (i64, String) {
    m.checksum(
        "SELECT 'section ' || s::text FROM dm.section s
         UNION ALL SELECT 'table ' || t::text FROM dm.section_table t
         UNION ALL SELECT 'map ' || c::text FROM dm.column_map c
         UNION ALL SELECT 'run ' || r.run_id FROM dm.run r",
    )
    .await
}

/// `sql` fails with `code` and a message naming `argument`, and changes nothing.
async fn refused(m: &Session, sql: &str, code: SqlState, parts: &[&str]) {
    let before = state(m).await;
    let e = m.fails(sql).await;
    assert_error(&e, code, parts);
    assert!(
        e.hint().is_some_and(|h| !h.is_empty()),
        "{sql}: no hint saying what to pass ({})",
        e.message()
    );
    assert_eq!(state(m).await, before, "{sql} wrote something");
}

/// Each positional argument of dm_add_section that has no default meaning for NULL.
const ADD_SECTION: [(&str, &str); 7] = [
    ("section", "'s2'"),
    ("account_column", "'account_id'"),
    ("account_table", "'fb_account_dm'"),
    ("days", "7"),
    ("mode", "'delete_insert'"),
    ("server", "'redshift_prd'"),
    ("date_column", "'collected_at'"),
];

#[tokio::test]
async fn null_arguments_are_refused_naming_the_argument() {
    let ctx = setup("it_arguments_null").await;
    let m = &ctx.mart;
    let null = SqlState::NULL_VALUE_NOT_ALLOWED;
    for (i, (name, _)) in ADD_SECTION.iter().enumerate() {
        let args: Vec<&str> = ADD_SECTION
            .iter()
            .enumerate()
            .map(|(j, (_, v))| if i == j { "NULL" } else { *v })
            .collect();
        let sql = format!("SELECT dm_add_section({})", args.join(", "));
        refused(m, &sql, null.clone(), &[name, "NULL"]).await;
    }
    for (sql, argument) in [
        ("CALL dm_sync(NULL)", "section"),
        ("SELECT * FROM dm_preview(NULL)", "section"),
        ("CALL dm_resume(NULL)", "run_id"),
        (
            "SELECT dm_add_section('s2', 'account_id', 'fb_account_dm', storage_parameters => ARRAY[NULL])",
            "storage_parameters",
        ),
        (
            "SELECT dm_alter_section('fb', storage_parameters => ARRAY['fillfactor=90', NULL])",
            "storage_parameters",
        ),
        ("SELECT dm_alter_section(NULL)", "section"),
        ("SELECT dm_alter_section(NULL, days => 3)", "section"),
        ("SELECT dm_drop_section(NULL)", "section"),
        ("SELECT dm_add_table(NULL, 'fb_ad_dm')", "section"),
        ("SELECT dm_add_table('fb', NULL)", "mart_table"),
        ("SELECT dm_remove_table(NULL, 'fb_ad_dm')", "section"),
        ("SELECT dm_remove_table('fb', NULL)", "mart_table"),
        ("SELECT dm_map_column(NULL, 'campaign_id', 'campaign.id')", "mart_table"),
        ("SELECT dm_map_column('fb_ad_dm', NULL, 'campaign.id')", "mart_column"),
        ("SELECT dm_map_column('fb_ad_dm', 'campaign_id', NULL)", "remote_column"),
        ("SELECT dm_unmap_column(NULL, 'campaign_id')", "mart_table"),
        ("SELECT dm_unmap_column('google_campaign_report_dm', NULL)", "mart_column"),
        ("SELECT dm_schedule(NULL, NULL)", "section"),
        ("SELECT dm_schedule('fb', NULL)", "schedule"),
        ("SELECT dm_unschedule(NULL)", "section"),
        ("SELECT * FROM dm_discover_columns(NULL)", "section"),
    ] {
        refused(m, sql, null.clone(), &[argument, "must not be NULL"]).await;
    }
}

#[tokio::test]
async fn a_table_oid_that_is_no_relation_is_42p01_naming_it() {
    let ctx = setup("it_arguments_oid").await;
    let m = &ctx.mart;
    // Removing a table that is not in the section names the oid.
    let e = m.fails("SELECT dm_remove_table('fb', 0)").await;
    assert_error(
        &e,
        SqlState::UNDEFINED_OBJECT,
        &["oid 0 is not a table of section fb"],
    );
    let undefined = SqlState::UNDEFINED_TABLE;
    for (sql, parts) in [
        (
            "SELECT dm_add_table('fb', '999999'::regclass)",
            ["mart_table", "999999"],
        ),
        ("SELECT dm_add_table('fb', 0)", ["mart_table", "oid 0"]),
        ("SELECT dm_map_column(0, 'a', 'b')", ["mart_table", "oid 0"]),
        (
            "SELECT dm_unmap_column(999999, 'a')",
            ["mart_table", "999999"],
        ),
    ] {
        refused(m, sql, undefined.clone(), &parts).await;
    }
}

#[tokio::test]
async fn documented_nulls_keep_their_meaning() {
    let ctx = setup("it_arguments_meaning").await;
    let m = &ctx.mart;
    // NULL account ids = every account; NULL dates and mode = the section's defaults.
    let defaults = m
        .checksum("SELECT mart_table::text, remote_sql, local_sql FROM dm_preview('fb')")
        .await;
    let nulls = m
        .checksum(
            "SELECT mart_table::text, remote_sql, local_sql FROM dm_preview('fb', NULL, NULL, NULL, NULL)",
        )
        .await;
    assert_eq!(defaults.0, 2, "one preview row per table of section fb");
    assert_eq!(
        nulls, defaults,
        "NULL arguments of dm_preview mean the defaults"
    );

    // dm_alter_section: NULL keeps the current value.
    let before = state(m).await;
    m.exec("SELECT dm_alter_section('fb', NULL, NULL, NULL)")
        .await;
    assert_eq!(
        m.text("SELECT days::text || ' ' || account_column FROM dm.section WHERE section = 'fb'")
            .await
            .as_deref(),
        Some("7 account_id")
    );
    assert_eq!(before.0, state(m).await.0);

    // dm_pause / dm_unpause: NULL = every section.
    m.exec("SELECT dm_pause(NULL)").await;
    m.exec("CALL dm_sync('fb')").await;
    assert_eq!(
        m.text(
            "SELECT status || ' ' || COALESCE(note, '') FROM dm.run ORDER BY run_id DESC LIMIT 1"
        )
        .await
        .map(|s| s.starts_with("skipped")),
        Some(true),
        "a sync while every section is paused is skipped"
    );
    m.exec("SELECT dm_unpause(NULL)").await;
    m.exec("CALL dm_sync('fb', NULL)").await;
    assert_eq!(
        m.text("SELECT status FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .as_deref(),
        Some("succeeded"),
        "NULL account ids sync every account"
    );
}
