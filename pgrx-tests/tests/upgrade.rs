//! `ALTER EXTENSION pg_datamart UPDATE` from every released version (sql/released/, installed
//! by `make it`) gives the same objects as a fresh install, and keeps configuration, history
//! and syncs working.

use pg_datamart_it::{setup_with, Session};

/// Every member object of the extension with its full definition, comment and privileges.
const MEMBERS: &str = "
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) || E'\\n' || COALESCE(CASE d.classid
         WHEN 'pg_proc'::regclass THEN pg_get_functiondef(d.objid) || COALESCE(' acl ' || (SELECT proacl::text FROM pg_proc WHERE oid = d.objid), '')
         WHEN 'pg_class'::regclass THEN (
             SELECT c.relkind::text || ' ' || COALESCE(c.relacl::text, '') || ' ' || COALESCE(c.reloptions::text, '') || E'\\n'
                 || COALESCE(pg_get_viewdef(c.oid), '')
                 || COALESCE((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                                                || COALESCE(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
                                                || COALESCE(' -- ' || col_description(c.oid, a.attnum), ''), E'\\n' ORDER BY a.attnum)
                                FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
                 || COALESCE(E'\\n' || (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), E'\\n' ORDER BY conname)
                                          FROM pg_constraint WHERE conrelid = c.oid), '')
                 || COALESCE(E'\\n' || (SELECT string_agg(pg_get_indexdef(indexrelid), E'\\n' ORDER BY 1)
                                          FROM pg_index WHERE indrelid = c.oid), '')
               FROM pg_class c WHERE c.oid = d.objid)
         WHEN 'pg_namespace'::regclass THEN (SELECT COALESCE(nspacl::text, '') FROM pg_namespace WHERE oid = d.objid)
         ELSE '' END, '') || COALESCE(E'\\n-- ' || obj_description(d.objid, d.classid::regclass::name), '')
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_datamart'
 WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass
 ORDER BY 1";

async fn members(s: &Session) -> Vec<String> {
    s.client
        .query(MEMBERS, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The version a fresh install gets (the control file's default_version).
const CURRENT: &str = "0.5.0";

#[tokio::test]
async fn update_from_0_1_0_equals_a_fresh_install_and_keeps_working() {
    update_from("0.1.0", "it_upgrade").await;
}

#[tokio::test]
async fn update_from_0_2_0_equals_a_fresh_install_and_keeps_working() {
    update_from("0.2.0", "it_upgrade2").await;
}

#[tokio::test]
async fn update_from_0_3_0_equals_a_fresh_install_and_keeps_working() {
    update_from("0.3.0", "it_upgrade3").await;
}

#[tokio::test]
async fn update_from_0_4_0_equals_a_fresh_install_and_keeps_working() {
    update_from("0.4.0", "it_upgrade4").await;
}

async fn update_from(version: &str, name: &str) {
    let old = setup_with(
        name,
        &format!("CREATE EXTENSION pg_datamart VERSION '{version}' CASCADE"),
    )
    .await;
    let m = &old.mart;
    assert_eq!(
        m.text("SELECT extversion FROM pg_extension WHERE extname = 'pg_datamart'")
            .await
            .as_deref(),
        Some(version)
    );
    // History and a pause recorded under the old version.
    m.exec(
        "INSERT INTO dm.run (section, account_ids, accounts, start_date, end_date, mode, status, finished_at, error, pid)
         VALUES ('fb', '1001', '{1001}', '2026-01-01', '2026-01-02', 'delete_insert', 'failed', now(), 'old failure', 1);
         INSERT INTO dm.run_step (run_id, position, mart_oid, mart_table, status)
         SELECT run_id, 1, 'fb_campaign_dm'::regclass::oid, 'public.fb_campaign_dm', 'failed' FROM dm.run;
         SELECT dm_pause('naver');",
    )
    .await;
    let sections = m.i64("SELECT count(*) FROM dm.section").await;
    let tables = m.i64("SELECT count(*) FROM dm.section_table").await;
    let mappings = m.i64("SELECT count(*) FROM dm.column_map").await;

    m.exec("ALTER EXTENSION pg_datamart UPDATE").await;
    assert_eq!(
        m.text("SELECT extversion FROM pg_extension WHERE extname = 'pg_datamart'")
            .await
            .as_deref(),
        Some(CURRENT)
    );

    let fresh = pg_datamart_it::setup(&format!("{name}_fresh")).await;
    let (upgraded, installed) = (members(m).await, members(&fresh.mart).await);
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|x| !b.contains(x)).cloned().collect()
    };
    assert!(
        upgraded == installed,
        "after UPDATE, not in a fresh install:\n{}\n\nin a fresh install, not after UPDATE:\n{}",
        only(&upgraded, &installed).join("\n---\n"),
        only(&installed, &upgraded).join("\n---\n")
    );

    // Configuration and history survive; syncs, status and pause still work.
    assert_eq!(m.i64("SELECT count(*) FROM dm.section").await, sections);
    assert_eq!(m.i64("SELECT count(*) FROM dm.section_table").await, tables);
    assert_eq!(m.i64("SELECT count(*) FROM dm.column_map").await, mappings);
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.run WHERE error = 'old failure'")
            .await,
        1
    );
    m.exec("CALL dm_sync('fb', '1001,1002', '2026-01-10', '2026-01-12')")
        .await;
    let wh = old
        .wh
        .i64("SELECT count(*) FROM fb_campaign WHERE account_id IN ('1001', '1002') AND collected_at BETWEEN '2026-01-10' AND '2026-01-12'")
        .await;
    assert!(wh > 0);
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm WHERE collected_at BETWEEN '2026-01-10' AND '2026-01-12'").await,
        wh
    );
    assert_eq!(
        m.text("SELECT status FROM dm_status WHERE section = 'fb'")
            .await
            .as_deref(),
        Some("succeeded")
    );
    m.exec("CALL dm_sync('naver', '1001', '2026-02-01', '2026-02-01')")
        .await;
    assert_eq!(
        m.text("SELECT status || ': ' || note FROM dm.run WHERE section = 'naver' ORDER BY run_id DESC LIMIT 1")
            .await
            .unwrap()
            .split(" (")
            .next(),
        Some("skipped: paused")
    );
}
