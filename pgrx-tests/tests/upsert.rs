//! Upsert that writes only what changed, monthly partitions with storage parameters, and
//! column mapping discovery.

use pg_datamart_it::{assert_error, setup, Ctx, Session};
use tokio_postgres::error::SqlState;

const COLS: &str =
    "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at";

/// Two copies of fb_campaign_dm, one per mode: `fb_di_dm` (section di) and `fb_up_dm` (up).
/// Their partitions have autovacuum off, so that no auto-analyze rewrites the dead-tuple counts
/// the tests compare.
async fn two_modes(ctx: &Ctx) {
    ctx.mart
        .exec(
            "CREATE TABLE fb_di_dm (LIKE fb_campaign_dm INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY, PRIMARY KEY (account_id, campaign_id, collected_at)) PARTITION BY RANGE (collected_at);
             CREATE TABLE fb_up_dm (LIKE fb_campaign_dm INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY, PRIMARY KEY (account_id, campaign_id, collected_at)) PARTITION BY RANGE (collected_at);
             SELECT dm_add_section('di', 'account_id', 'fb_account_dm', mode => 'delete_insert', storage_parameters => ARRAY['autovacuum_enabled=false']);
             SELECT dm_add_table('di', 'fb_di_dm', 'fb_campaign');
             SELECT dm_add_section('up', 'account_id', 'fb_account_dm', mode => 'upsert', storage_parameters => ARRAY['autovacuum_enabled=false']);
             SELECT dm_add_table('up', 'fb_up_dm', 'fb_campaign');",
        )
        .await;
}

async fn same_content(m: &Session) {
    let di = m.checksum(&format!("SELECT {COLS} FROM fb_di_dm")).await;
    let up = m.checksum(&format!("SELECT {COLS} FROM fb_up_dm")).await;
    assert!(di.0 > 0);
    assert_eq!(up, di, "upsert and delete_insert give the same content");
}

async fn last_step(m: &Session) -> (i64, i64, i64, i64) {
    let r = m
        .client
        .query_one(
            "SELECT rows_fetched, rows_deleted, rows_inserted, rows_updated FROM dm.run_step ORDER BY run_id DESC, position DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// Inserted, updated, deleted and dead tuples of the table's partitions, as the statistics
/// collector has them once the syncing session (`m`) has flushed its counters.
async fn tuple_stats(m: &Session, table: &str) -> (i64, i64, i64, i64) {
    m.exec("SELECT pg_stat_force_next_flush()").await;
    m.exec("SELECT 1").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let r = m
        .client
        .query_one(
            &format!(
                "SELECT pg_stat_clear_snapshot(), COALESCE(sum(n_tup_ins), 0)::bigint, COALESCE(sum(n_tup_upd), 0)::bigint,
                        COALESCE(sum(n_tup_del), 0)::bigint, COALESCE(sum(n_dead_tup), 0)::bigint
                   FROM pg_stat_user_tables s JOIN pg_partition_tree('{table}') p ON p.relid = s.relid"
            ),
            &[],
        )
        .await
        .unwrap();
    (r.get(1), r.get(2), r.get(3), r.get(4))
}

#[tokio::test]
async fn upsert_equals_delete_insert_and_rewrites_nothing_unchanged() {
    let ctx = setup("it_upsert").await;
    two_modes(&ctx).await;
    let m = &ctx.mart;
    let call = |s: &str| format!("CALL dm_sync('{s}', '0', '2026-01-25', '2026-02-05')");
    m.exec(&call("di")).await;
    m.exec(&call("up")).await;
    same_content(m).await;
    // 4 served accounts with data x 12 days x 2 campaigns
    assert_eq!(last_step(m).await, (96, 0, 96, 0));

    // Unchanged data: upsert writes nothing; delete_insert rewrites every row.
    let before = tuple_stats(m, "fb_up_dm").await;
    m.exec(&call("up")).await;
    assert_eq!(last_step(m).await, (96, 0, 0, 0));
    let after = tuple_stats(m, "fb_up_dm").await;
    assert_eq!(
        after, before,
        "no insert, update, delete or dead tuple in fb_up_dm's partitions"
    );
    let di_before = tuple_stats(m, "fb_di_dm").await;
    m.exec(&call("di")).await;
    let di_after = tuple_stats(m, "fb_di_dm").await;
    assert_eq!(
        di_after.2 - di_before.2,
        96,
        "delete_insert deletes every row of the window"
    );
    assert_eq!(
        di_after.3 - di_before.3,
        96,
        "... leaving one dead tuple per row"
    );

    // Upstream changes: updated values (including to and from NULL), new rows, vanished rows.
    ctx.wh
        .exec(
            "UPDATE fb_campaign SET name = name || ' (renamed)' WHERE account_id = '1001' AND collected_at = '2026-01-30';
             UPDATE fb_campaign SET spec = NULL WHERE account_id = '1002' AND collected_at = '2026-02-01' AND spec IS NOT NULL;
             UPDATE fb_campaign SET \"end\" = '2030-01-01' WHERE account_id = '1002' AND collected_at = '2026-02-02' AND \"end\" IS NULL;
             INSERT INTO fb_campaign (account_id, campaign_id, name, collected_at) VALUES ('1003', 'new-1', 'new', '2026-02-03'), ('1004', 'new-2', 'new', '2026-01-26');
             DELETE FROM fb_campaign WHERE account_id = '1004' AND collected_at = '2026-02-04';",
        )
        .await;
    m.exec(&call("di")).await;
    m.exec(&call("up")).await;
    same_content(m).await;
    let (fetched, deleted, inserted, updated) = last_step(m).await;
    assert_eq!((fetched, deleted, inserted), (96, 2, 2));
    assert_eq!(
        updated, 4,
        "only the changed rows are updated (2 renamed, 1 spec to NULL, 1 end from NULL)"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_up_dm WHERE updated_at > created_at")
            .await,
        updated,
        "updated rows get a new updated_at; the others keep theirs"
    );
    // Mode override for one call: the upsert section loaded by delete_insert equals too.
    m.exec("CALL dm_sync('up', '0', '2026-01-25', '2026-02-05', mode => 'delete_insert')")
        .await;
    same_content(m).await;
    assert_eq!(
        m.text("SELECT mode FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await
            .unwrap(),
        "delete_insert"
    );
}

#[tokio::test]
async fn upsert_needs_a_key_and_reports_duplicate_keys() {
    let ctx = setup("it_upkey").await;
    let m = &ctx.mart;
    // fb_ad_dm has no key at all: refused at registration and at sync.
    let e = m.fails("SELECT dm_add_section('up2', 'account_id', 'fb_account_dm', mode => 'upsert'); SELECT dm_add_table('up2', 'fb_ad_dm')").await;
    assert_error(
        &e,
        SqlState::INVALID_COLUMN_REFERENCE,
        &["fb_ad_dm", "upsert", "no primary key or unique index"],
    );
    let e = m
        .fails("SELECT dm_alter_section('fb', mode => 'upsert')")
        .await;
    assert_error(&e, SqlState::INVALID_COLUMN_REFERENCE, &["fb_ad_dm"]);
    let e = m
        .fails("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-11', mode => 'upsert')")
        .await;
    assert_error(&e, SqlState::INVALID_COLUMN_REFERENCE, &["fb_ad_dm"]);
    let e = m
        .fails("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-11', mode => 'merge')")
        .await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &["unknown mode \"merge\"", "delete_insert, upsert"],
    );

    // Duplicate keys in the warehouse: a clear error naming key and count; nothing changes.
    m.exec(
        "SELECT dm_add_section('upc', 'account_id', 'fb_account_dm', mode => 'upsert');
         SELECT dm_add_table('upc', 'fb_campaign_dm');",
    )
    .await;
    m.exec("CALL dm_sync('upc', '1001,1002', '2026-01-10', '2026-01-12')")
        .await;
    let before = m.checksum("SELECT * FROM fb_campaign_dm").await;
    ctx.wh
        .exec(
            "INSERT INTO fb_campaign SELECT * FROM fb_campaign WHERE account_id = '1001' AND collected_at = '2026-01-11';
             INSERT INTO fb_campaign SELECT * FROM fb_campaign WHERE account_id = '1002' AND collected_at = '2026-01-12' AND campaign_id = '1002001';",
        )
        .await;
    let e = m
        .fails("CALL dm_sync('upc', '1001,1002', '2026-01-10', '2026-01-12')")
        .await;
    assert_error(
        &e,
        SqlState::UNIQUE_VIOLATION,
        &[
            "3 duplicated key(s)",
            "(account_id, campaign_id, collected_at)",
            "(1001, 1001001, 2026-01-11) x2",
        ],
    );
    assert!(!e.message().contains("cannot affect row a second time"));
    assert_eq!(m.checksum("SELECT * FROM fb_campaign_dm").await, before);
}

#[tokio::test]
async fn monthly_partitions_are_created_with_storage_parameters() {
    let ctx = setup("it_parts").await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE fb_parts_dm (LIKE fb_ad_dm, created_at timestamptz, updated_at timestamptz) PARTITION BY RANGE (collected_at);
         CREATE TABLE fb_parts_dm_old PARTITION OF fb_parts_dm FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
         SELECT dm_add_section('parts', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('parts', 'fb_parts_dm', 'fb_ad');
         SET pg_datamart.analyze_threshold = 1;",
    )
    .await;
    // The window spans January (existing partition), February and March (to be created).
    ctx.wh.exec("INSERT INTO fb_ad (account_id, ad_id, collected_at) SELECT '1001', 'march', d FROM generate_series(date '2026-03-01', '2026-03-10', '1 day') d").await;
    m.exec("CALL dm_sync('parts', '1001', '2026-01-20', '2026-03-05')")
        .await;
    let parts = m
        .client
        .query(
            "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid), c.reloptions, s.last_analyze IS NOT NULL,
                    EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
              WHERE i.inhparent = 'fb_parts_dm'::regclass ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let storage = vec![
        "autovacuum_vacuum_scale_factor=0".to_string(),
        "autovacuum_vacuum_threshold=200000".to_string(),
        "autovacuum_analyze_scale_factor=0".to_string(),
    ];
    let got: Vec<(String, String, Vec<String>, bool)> = parts
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get::<_, Option<Vec<String>>>(2).unwrap_or_default(),
                r.get(4),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("fb_parts_dm_old".into(), "FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')".into(), storage.clone(), false),
            ("fb_parts_dm_p202602".into(), "FOR VALUES FROM ('2026-02-01') TO ('2026-03-01')".into(), storage.clone(), false),
            ("fb_parts_dm_p202603".into(), "FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')".into(), storage.clone(), false),
        ],
        "missing months created, existing ones given the storage parameters; none is an extension member"
    );
    assert!(
        parts.iter().all(|r| r.get::<_, bool>(3)),
        "the loaded partitions were analyzed"
    );
    // 12 Jan days + 28 Feb days + 5 March days, 3 ads a day, plus 5 'march' rows
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_parts_dm").await,
        (12 + 28) * 3 + 5
    );
    assert_eq!(m.i64("SELECT count(*) FROM fb_parts_dm_p202603").await, 5);

    // Storage parameters are the section's: none at all is allowed.
    m.exec("SELECT dm_alter_section('parts', storage_parameters => '{}')")
        .await;
    m.exec("CALL dm_sync('parts', '1001', '2026-04-01', '2026-04-02')")
        .await;
    assert_eq!(m.text("SELECT COALESCE(reloptions::text, 'none') FROM pg_class WHERE relname = 'fb_parts_dm_p202604'").await.unwrap(), "none");
    let e = m.fails("SELECT dm_alter_section('parts', storage_parameters => '{\"fillfactor = 1; DROP TABLE x\"}')").await;
    assert_error(
        &e,
        SqlState::INVALID_PARAMETER_VALUE,
        &["storage_parameters"],
    );

    // A long table name gives a deterministic, shortened partition name.
    let long = format!("t{}", "x".repeat(60));
    m.exec(&format!(
        "CREATE TABLE {long} (LIKE fb_ad_dm) PARTITION BY RANGE (collected_at);
         SELECT dm_add_section('longname', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('longname', '{long}', 'fb_ad');"
    ))
    .await;
    m.exec("CALL dm_sync('longname', '1001', '2026-01-10', '2026-01-10')")
        .await;
    let name = m.text(&format!("SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '{long}'::regclass")).await.unwrap();
    assert!(
        name.len() <= 63 && name.ends_with("_p202601") && name.starts_with("txxxx"),
        "{name}"
    );
}

#[tokio::test]
async fn rows_of_the_window_never_land_in_a_default_partition() {
    let ctx = setup("it_default_part").await;
    let m = &ctx.mart;
    // fb_campaign_dm (fixture) has Dec, Jan, Feb and a DEFAULT partition. March rows sit in DEFAULT.
    m.exec("INSERT INTO fb_campaign_dm (account_id, campaign_id, collected_at) VALUES ('1003', 'stuck', '2026-03-15')").await;
    let before = m.checksum("SELECT * FROM fb_campaign_dm").await;
    let e = m
        .fails("CALL dm_sync('fb', '1001', '2026-02-25', '2026-03-02')")
        .await;
    assert_error(
        &e,
        SqlState::CHECK_VIOLATION,
        &[
            "DEFAULT partition",
            "fb_campaign_dm_rest",
            "holds 1 rows of 2026-03",
        ],
    );
    assert!(
        e.hint().unwrap().contains("PARTITION OF")
            && e.hint().unwrap().contains("fb_campaign_dm_p202603"),
        "{:?}",
        e.hint()
    );
    assert_eq!(m.checksum("SELECT * FROM fb_campaign_dm").await, before);
    // After moving them as the hint says, the sync creates March and loads into it.
    m.exec(
        "BEGIN;
         CREATE TEMP TABLE moved AS SELECT * FROM fb_campaign_dm_rest WHERE collected_at >= '2026-03-01' AND collected_at < '2026-04-01';
         DELETE FROM fb_campaign_dm_rest WHERE collected_at >= '2026-03-01' AND collected_at < '2026-04-01';
         CREATE TABLE fb_campaign_dm_p202603 PARTITION OF fb_campaign_dm FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
         INSERT INTO fb_campaign_dm (id, account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at, created_at, updated_at)
           OVERRIDING SYSTEM VALUE SELECT id, account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at, created_at, updated_at FROM moved;
         COMMIT;",
    )
    .await;
    ctx.wh.exec("INSERT INTO fb_campaign (account_id, campaign_id, collected_at) VALUES ('1001', 'march', '2026-03-02')").await;
    m.exec("CALL dm_sync('fb', '1001', '2026-02-25', '2026-03-02')")
        .await;
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm_rest").await,
        0,
        "nothing in DEFAULT"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm_p202603 WHERE account_id = '1001'")
            .await,
        1
    );
}

#[tokio::test]
async fn discovery_maps_dotted_and_camel_case_names_and_reports_the_rest() {
    let ctx = setup("it_discover").await;
    // (Names past 63 bytes cannot be shown here: the PostgreSQL warehouse truncates them too;
    // the truncation rule is covered by discover::tests.)
    ctx.wh
        .exec(
            "CREATE TABLE disc_report (\"customer.id\" bigint, \"campaign.id\" bigint, \"Metrics.Clicks\" bigint,
                 \"nccKeywordId\" text, adgroupid text, \"convValue\" numeric, \"ConvValue\" numeric,
                 \"extra.field\" text, collected_at date);
             INSERT INTO disc_report VALUES (1001, 7, 3, 'k', 'g', 1, 2, 'x', '2026-01-10');",
        )
        .await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE disc_report_dm (customer_id bigint, campaign_id bigint, metrics_clicks bigint,
             ncc_keyword_id text, adgroup_id text, conv_value numeric, local_only text, collected_at date,
             updated_at timestamptz);
         SELECT dm_add_section('disc', 'customer_id', 'google_customer_dm');
         SELECT dm_add_table('disc', 'disc_report_dm');",
    )
    .await;
    // Before discovery: the load fails naming the missing mart columns and the candidates.
    let e = m
        .fails("CALL dm_sync('disc', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::UNDEFINED_COLUMN,
        &[
            "disc_report_dm",
            "\"local_only\" (no candidate)",
            "\"conv_value\" (candidates: convValue, ConvValue)",
            "customer_id <- \"customer.id\"",
            "dm_discover_columns('disc')",
        ],
    );

    let r = m
        .client
        .query_one(
            "SELECT matched, mapped, unmatched_mart, unmatched_remote, ambiguous FROM dm_discover_columns('disc')",
            &[],
        )
        .await
        .unwrap();
    let v = |i: usize| r.get::<_, Vec<String>>(i);
    assert_eq!(v(0), vec!["collected_at"]);
    assert_eq!(
        v(1),
        vec![
            "customer_id <- \"customer.id\" (dots)".to_string(),
            "campaign_id <- \"campaign.id\" (dots)".into(),
            "metrics_clicks <- \"Metrics.Clicks\" (dots)".into(),
            "ncc_keyword_id <- \"nccKeywordId\" (camelCase)".into(),
            "adgroup_id <- \"adgroupid\" (run-together)".into(),
        ]
    );
    assert_eq!(v(2), vec!["local_only"]);
    assert_eq!(v(3), vec!["extra.field"]);
    assert_eq!(v(4), vec!["conv_value: convValue | ConvValue"]);
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.column_map WHERE source = 'discovered'")
            .await,
        5
    );

    // Declared mappings win and are kept; rediscovery is idempotent.
    m.exec("SELECT dm_map_column('disc_report_dm', 'conv_value', 'ConvValue')")
        .await;
    let again = m
        .client
        .query_one(
            "SELECT mapped, ambiguous FROM dm_discover_columns('disc')",
            &[],
        )
        .await
        .unwrap();
    assert!(again
        .get::<_, Vec<String>>(0)
        .contains(&"conv_value <- \"ConvValue\" (declared)".to_string()));
    assert!(again.get::<_, Vec<String>>(1).is_empty());
    assert_eq!(
        m.i64("SELECT count(*) FROM dm.column_map WHERE mart_table = 'disc_report_dm'::regclass")
            .await,
        6
    );

    // With local_only dropped, the table loads through the discovered mappings.
    m.exec("ALTER TABLE disc_report_dm DROP COLUMN local_only")
        .await;
    m.exec("CALL dm_sync('disc', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_eq!(
        m.text("SELECT concat_ws(',', customer_id, campaign_id, metrics_clicks, ncc_keyword_id, adgroup_id, conv_value) FROM disc_report_dm")
            .await
            .unwrap(),
        "1001,7,3,k,g,2"
    );
}

/// A unique key on nullable columns (what ORMs create): upsert matches NULLs as equal, loads
/// what delete_insert loads, rewrites nothing on an unchanged re-sync, updates a changed row
/// whose key has a NULL; a mart holding one NULL key twice is reported, not guessed.
#[tokio::test]
async fn upsert_on_a_nullable_unique_key_equals_delete_insert() {
    let ctx = setup("it_upnull").await;
    ctx.wh
        .exec(
            "CREATE VIEW fb_campaign_nk AS
             SELECT account_id, CASE WHEN campaign_id LIKE '%2' THEN NULL ELSE campaign_id END AS campaign_id,
                    name, status, \"end\", daily_budget, spec, collected_at FROM fb_campaign",
        )
        .await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE fb_nk_di (account_id varchar(32), campaign_id varchar(32), name text, status varchar(16), \"end\" timestamp,
                                daily_budget numeric(14,2), spec text, collected_at date, created_at timestamptz, updated_at timestamptz,
                                UNIQUE (account_id, campaign_id, collected_at)) PARTITION BY RANGE (collected_at);
         CREATE TABLE fb_nk_up (LIKE fb_nk_di INCLUDING ALL) PARTITION BY RANGE (collected_at);
         SELECT dm_add_section('nkdi', 'account_id', 'fb_account_dm', mode => 'delete_insert');
         SELECT dm_add_table('nkdi', 'fb_nk_di', 'fb_campaign_nk');
         SELECT dm_add_section('nkup', 'account_id', 'fb_account_dm', mode => 'upsert');
         SELECT dm_add_table('nkup', 'fb_nk_up', 'fb_campaign_nk');",
    )
    .await;
    let call = |s: &str| format!("CALL dm_sync('{s}', '0', '2026-01-25', '2026-02-05')");
    let same = || async {
        let di = m.checksum(&format!("SELECT {COLS} FROM fb_nk_di")).await;
        let up = m.checksum(&format!("SELECT {COLS} FROM fb_nk_up")).await;
        assert!(di.0 > 0);
        assert_eq!(up, di, "upsert and delete_insert give the same content");
    };
    m.exec(&call("nkdi")).await;
    m.exec(&call("nkup")).await;
    same().await;
    assert!(
        m.i64("SELECT count(*) FROM fb_nk_up WHERE campaign_id IS NULL")
            .await
            > 0
    );
    assert_eq!(last_step(m).await, (96, 0, 96, 0));
    m.exec(&call("nkup")).await;
    assert_eq!(
        last_step(m).await,
        (96, 0, 0, 0),
        "unchanged: nothing written"
    );

    ctx.wh
        .exec(
            "UPDATE fb_campaign SET name = name || ' (renamed)' WHERE account_id = '1001' AND collected_at = '2026-01-30';
             DELETE FROM fb_campaign WHERE account_id = '1002' AND collected_at = '2026-02-04';",
        )
        .await;
    m.exec(&call("nkdi")).await;
    m.exec(&call("nkup")).await;
    same().await;
    assert_eq!(
        last_step(m).await,
        (94, 2, 0, 2),
        "one NULL-key and one non-NULL-key row renamed, both rows of a deleted day removed"
    );

    // A NULL key held twice by the mart (UNIQUE lets NULLs repeat): reported, nothing changed.
    m.exec("INSERT INTO fb_nk_up (account_id, campaign_id, name, collected_at) VALUES ('1001', NULL, 'twin', '2026-01-30')")
        .await;
    let before = m.checksum("SELECT * FROM fb_nk_up").await;
    let e = m.fails(&call("nkup")).await;
    assert_error(
        &e,
        SqlState::CARDINALITY_VIOLATION,
        &[
            "(account_id, campaign_id, collected_at) = (1001, NULL, 2026-01-30)",
            "matches several rows",
        ],
    );
    assert_eq!(m.checksum("SELECT * FROM fb_nk_up").await, before);
}

/// A value the mart column cannot hold is refused naming the mart table, the column and the
/// row's key, in both modes, and the table is unchanged.
#[tokio::test]
async fn a_bad_value_names_the_table_the_column_and_the_row() {
    let ctx = setup("it_badval").await;
    ctx.wh
        .exec(
            "CREATE VIEW fb_campaign_bad AS
             SELECT account_id, campaign_id, name, status, \"end\",
                    CASE WHEN campaign_id = '1001001' AND collected_at = '2026-01-11' THEN 'n/a'
                         WHEN campaign_id = '1002002' AND collected_at = '2026-01-12' THEN '1e20'
                         ELSE daily_budget::text END AS daily_budget, spec, collected_at FROM fb_campaign",
        )
        .await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE fb_bad_dm (LIKE fb_campaign_dm INCLUDING ALL);
         SELECT dm_add_section('bad', 'account_id', 'fb_account_dm', mode => 'delete_insert');
         SELECT dm_add_table('bad', 'fb_bad_dm', 'fb_campaign_bad');
         SELECT dm_add_section('badup', 'account_id', 'fb_account_dm', mode => 'upsert');
         SELECT dm_add_table('badup', 'fb_bad_dm', 'fb_campaign_bad');",
    )
    .await;
    let before = m.checksum("SELECT * FROM fb_bad_dm").await;
    // One section per mode: three failures in a row would ban a section for a while.
    for mode in ["bad", "badup"] {
        let e = m
            .fails(&format!(
                "CALL dm_sync('{mode}', '1001', '2026-01-10', '2026-01-12')"
            ))
            .await;
        assert_error(
            &e,
            SqlState::INVALID_TEXT_REPRESENTATION,
            &[
                "public.fb_bad_dm",
                "column daily_budget",
                "(account_id, campaign_id, collected_at) = (1001, 1001001, 2026-01-11)",
                "\"n/a\"",
            ],
        );
        assert_eq!(
            m.checksum("SELECT * FROM fb_bad_dm").await,
            before,
            "{mode}"
        );
        let e = m
            .fails(&format!(
                "CALL dm_sync('{mode}', '1002', '2026-01-10', '2026-01-12')"
            ))
            .await;
        assert_error(
            &e,
            SqlState::NUMERIC_VALUE_OUT_OF_RANGE,
            &[
                "public.fb_bad_dm",
                "column daily_budget",
                "(account_id, campaign_id, collected_at) = (1002, 1002002, 2026-01-12)",
            ],
        );
    }
}

/// Upsert compares columns whose mart type differs from the warehouse's through the mart
/// type's input and output functions; those that cache in their FmgrInfo (a domain, an array)
/// keep working for every row of the stream (the caches outlive COPY's per-row memory): an
/// unchanged re-sync writes nothing, one changed value updates one row, and the content
/// equals delete_insert's.
#[tokio::test]
async fn upsert_compares_domain_and_array_columns_row_after_row() {
    let ctx = setup("it_upsert_domain").await;
    let m = &ctx.mart;
    m.exec(
        "CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 1000);
         CREATE TABLE fb_dom_dm (account_id varchar(32) NOT NULL, ad_id varchar(32) NOT NULL,
                                 tag short_text, tags text[], collected_at date NOT NULL,
                                 PRIMARY KEY (account_id, ad_id, collected_at));
         CREATE TABLE fb_dom_di_dm (LIKE fb_dom_dm INCLUDING ALL);
         SELECT dm_add_section('dom', 'account_id', 'fb_account_dm', mode => 'upsert');
         SELECT dm_add_table('dom', 'fb_dom_dm', 'fb_dom');
         SELECT dm_add_section('domdi', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('domdi', 'fb_dom_di_dm', 'fb_dom');",
    )
    .await;
    ctx.wh
        .exec(
            "CREATE TABLE fb_dom AS
               SELECT account_id, ad_id, tag::varchar(200) AS tag,
                      ARRAY[tag, ad_id]::varchar(50)[] AS tags, collected_at
                 FROM fb_ad;",
        )
        .await;
    let sync = async || {
        m.exec("CALL dm_sync('dom', NULL, '2026-01-01', '2026-01-31')")
            .await;
        m.exec("CALL dm_sync('domdi', NULL, '2026-01-01', '2026-01-31')")
            .await;
    };
    sync().await;
    let cols = "account_id, ad_id, tag, tags, collected_at";
    let up = m.checksum(&format!("SELECT {cols} FROM fb_dom_dm")).await;
    assert!(up.0 > 300, "{up:?}");
    assert_eq!(
        up,
        m.checksum(&format!("SELECT {cols} FROM fb_dom_di_dm"))
            .await
    );
    let xmins = "SELECT string_agg(xmin::text, ',' ORDER BY account_id, ad_id, collected_at) FROM fb_dom_dm";
    let before = m.text(xmins).await;
    m.exec("CALL dm_sync('dom', NULL, '2026-01-01', '2026-01-31')")
        .await;
    assert_eq!(
        m.text(
            "SELECT rows_inserted || ' ' || rows_updated || ' ' || rows_deleted FROM dm.run_step s
               JOIN dm.run r USING (run_id) WHERE r.section = 'dom' ORDER BY run_id DESC LIMIT 1"
        )
        .await
        .as_deref(),
        Some("0 0 0"),
        "an unchanged re-sync writes nothing"
    );
    assert_eq!(m.text(xmins).await, before);
    ctx.wh
        .exec("UPDATE fb_dom SET tags = ARRAY['changed'] WHERE account_id = '1002' AND ad_id = (SELECT min(ad_id) FROM fb_dom WHERE account_id = '1002') AND collected_at = '2026-01-20'")
        .await;
    sync().await;
    assert_eq!(
        m.text(
            "SELECT rows_inserted || ' ' || rows_updated || ' ' || rows_deleted FROM dm.run_step s
               JOIN dm.run r USING (run_id) WHERE r.section = 'dom' ORDER BY run_id DESC LIMIT 1"
        )
        .await
        .as_deref(),
        Some("0 1 0")
    );
    assert_eq!(
        m.checksum(&format!("SELECT {cols} FROM fb_dom_dm")).await,
        m.checksum(&format!("SELECT {cols} FROM fb_dom_di_dm"))
            .await
    );
}

/// A changed row is rewritten (its old version deleted, the new one inserted through COPY)
/// keeping its identity `id` and `created_at`, with a new `updated_at`; a new row gets a new
/// id and the load's timestamp in both. With `pg_datamart.upsert_group_rows` below the
/// window's rows the accounts are compared in groups (one per account here), and an account
/// the warehouse no longer has rows for loses its mart rows; the result equals delete_insert.
#[tokio::test]
async fn upsert_rewrites_changed_rows_keeping_id_and_created_at_in_groups() {
    let ctx = setup("it_upgroups").await;
    two_modes(&ctx).await;
    let m = &ctx.mart;
    // Enough rows for account 1001 that its query's rows come in several full chunks.
    ctx.wh
        .exec(
            "INSERT INTO fb_campaign (account_id, campaign_id, name, collected_at)
             SELECT '1001', 'bulk-' || g, repeat('x', 300), '2026-01-27' FROM generate_series(1, 2000) g",
        )
        .await;
    let call = |s: &str| format!("CALL dm_sync('{s}', '0', '2026-01-25', '2026-02-05')");
    m.exec(&call("di")).await;
    m.exec(&call("up")).await;
    m.exec("ANALYZE fb_up_dm").await;
    let kept = |extra: &str| {
        format!(
            "SELECT account_id, campaign_id, collected_at, id, created_at FROM fb_up_dm WHERE NOT (account_id = '1001' AND collected_at = '2026-01-30') {extra}"
        )
    };
    let before = m
        .checksum(&kept(
            "AND account_id <> '1004' AND NOT (account_id = '1002' AND collected_at = '2026-01-26')",
        ))
        .await;
    let stamps_before = m
        .checksum("SELECT account_id, campaign_id, collected_at, updated_at FROM fb_up_dm WHERE account_id IN ('1002', '1003') AND collected_at <> '2026-01-26'")
        .await;
    let renamed_before = m
        .checksum("SELECT campaign_id, id, created_at FROM fb_up_dm WHERE account_id = '1001' AND collected_at = '2026-01-30'")
        .await;
    assert_eq!(renamed_before.0, 2);
    let max_id = m.i64("SELECT max(id) FROM fb_up_dm").await;
    ctx.wh
        .exec(
            "UPDATE fb_campaign SET name = name || ' (renamed)' WHERE account_id = '1001' AND collected_at = '2026-01-30';
             INSERT INTO fb_campaign (account_id, campaign_id, name, collected_at) VALUES ('1003', 'new-1', 'new', '2026-02-03');
             DELETE FROM fb_campaign WHERE account_id = '1002' AND collected_at = '2026-01-26';
             DELETE FROM fb_campaign WHERE account_id = '1004';",
        )
        .await;
    m.exec(&call("di")).await;
    m.exec("SET pg_datamart.upsert_group_rows = 1").await;
    m.exec(&call("up")).await;
    m.exec("RESET pg_datamart.upsert_group_rows").await;
    same_content(m).await;
    // 3 accounts with data x 12 days x 2 campaigns + 2000 - 2 gone + 1 new; account 1004's
    // 24 rows gone (its group deleted at the end), and 1002's 2 (deleted when the next group
    // starts)
    assert_eq!(last_step(m).await, (2071, 26, 1, 2));
    assert_eq!(
        m.checksum(&kept("AND campaign_id <> 'new-1'")).await,
        before,
        "unchanged rows keep id and created_at"
    );
    assert_eq!(
        m.checksum("SELECT account_id, campaign_id, collected_at, updated_at FROM fb_up_dm WHERE account_id IN ('1002', '1003') AND collected_at <> '2026-01-26' AND campaign_id <> 'new-1'")
            .await,
        stamps_before,
        "unchanged rows keep updated_at"
    );
    assert_eq!(
        m.checksum("SELECT campaign_id, id, created_at FROM fb_up_dm WHERE account_id = '1001' AND collected_at = '2026-01-30'")
            .await,
        renamed_before,
        "changed rows keep id and created_at"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_up_dm WHERE account_id = '1001' AND collected_at = '2026-01-30' AND updated_at > created_at AND name LIKE '% (renamed)' AND budget_x2 IS NOT DISTINCT FROM daily_budget * 2")
            .await,
        2,
        "changed rows get the new values, a new updated_at and their generated column"
    );
    assert_eq!(
        m.i64(&format!("SELECT count(*) FROM fb_up_dm WHERE campaign_id = 'new-1' AND id > {max_id} AND created_at = updated_at"))
            .await,
        1,
        "a new row gets a new id and the load's timestamp"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_up_dm WHERE account_id = '1004'")
            .await,
        0
    );
}

/// Upsert rewrites a changed row as a delete and an insert, which would bypass UPDATE and
/// DELETE triggers: a table with one is refused with 0A000 naming the way out; nothing moves.
#[tokio::test]
async fn upsert_refuses_a_table_with_update_or_delete_triggers() {
    let ctx = setup("it_uptrig").await;
    two_modes(&ctx).await;
    let m = &ctx.mart;
    m.exec("CALL dm_sync('up', '0', '2026-01-25', '2026-02-05')")
        .await;
    m.exec(
        "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER audit BEFORE UPDATE ON fb_up_dm FOR EACH ROW EXECUTE FUNCTION audit();",
    )
    .await;
    let before = m.checksum("SELECT * FROM fb_up_dm").await;
    let e = m
        .fails("CALL dm_sync('up', '0', '2026-01-25', '2026-02-05')")
        .await;
    assert_error(
        &e,
        SqlState::FEATURE_NOT_SUPPORTED,
        &[
            "mode upsert cannot load",
            "fb_up_dm",
            "UPDATE or DELETE triggers",
        ],
    );
    assert!(e.hint().unwrap_or("").contains("delete_insert"), "{e:?}");
    assert_eq!(m.checksum("SELECT * FROM fb_up_dm").await, before);
    // delete_insert loads it
    m.exec("CALL dm_sync('up', '0', '2026-01-25', '2026-02-05', mode => 'delete_insert')")
        .await;
}
