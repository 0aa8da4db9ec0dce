//! dm_sync end to end: exact windows, idempotence, types and names, failures per table, input
//! errors, account reporting, chunking, notices. Real sessions against real databases, the
//! warehouse reached through dblink over a TCP loopback foreign server.

use pg_datamart_it::{assert_error, setup, Ctx};
use tokio_postgres::error::SqlState;

const FB_CAMPAIGN: &str =
    "account_id, campaign_id, name, status, \"end\", daily_budget, spec, collected_at";
const FB_AD: &str =
    "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at";
const GOOGLE_WH: &str = "\"customer.id\", \"campaign.id\", \"campaign.name\", \"campaign.advertising_channel_type\", \
     \"segments.date\", \"metrics.clicks\", \"metrics.cost_micros\", \"metrics.all_conversions_value\", collected_at";
const GOOGLE_MART: &str = "customer_id, campaign_id, campaign_name, campaign_advertising_channel_type, \
     segments_date, metrics_clicks, metrics_cost_micros, metrics_all_conversions_value, collected_at";
const NAVER_WH: &str = "customerid, \"nccKeywordId\", keyword, bid_amt, collected_at";
const NAVER_MART: &str = "customerid, ncc_keyword_id, keyword, bid_amt, collected_at";

fn window(acct_col: &str, accounts: &str, start: &str, end: &str) -> String {
    format!("collected_at BETWEEN '{start}' AND '{end}' AND {acct_col}::text IN ({accounts})")
}

/// Warehouse rows == mart rows for a table, window and accounts.
async fn assert_same(
    ctx: &Ctx,
    wh: (&str, &str),
    mart: (&str, &str),
    acct: (&str, &str),
    filter: (&str, &str, &str),
) {
    let (accounts, start, end) = filter;
    let w = ctx
        .wh
        .checksum(&format!(
            "SELECT {} FROM {} WHERE {}",
            wh.1,
            wh.0,
            window(acct.0, accounts, start, end)
        ))
        .await;
    let m = ctx
        .mart
        .checksum(&format!(
            "SELECT {} FROM {} WHERE {}",
            mart.1,
            mart.0,
            window(acct.1, accounts, start, end)
        ))
        .await;
    assert!(w.0 > 0, "the fixture has rows for {} in the window", wh.0);
    assert_eq!(
        m, w,
        "{} must hold exactly the warehouse rows of {}",
        mart.0, wh.0
    );
}

#[tokio::test]
async fn sync_loads_exactly_the_window_and_is_idempotent() {
    let ctx = setup("it_exact").await;
    let m = &ctx.mart;
    // Rows the sync must not touch: another date, an account not requested. Rows it must
    // replace: stale rows of a requested account inside the window.
    m.exec(
        "INSERT INTO fb_campaign_dm (account_id, campaign_id, name, collected_at) VALUES
           ('1001', 'keep-old-date', 'outside window', '2026-01-05'),
           ('1003', 'keep-other-acct', 'other account', '2026-01-12'),
           ('1001', 'stale', 'gone upstream', '2026-01-12');
         INSERT INTO fb_ad_dm (account_id, ad_id, collected_at) VALUES ('1004', 'keep', '2026-01-15');",
    )
    .await;
    let untouched = "SELECT * FROM (SELECT account_id, campaign_id, name, collected_at FROM fb_campaign_dm WHERE campaign_id LIKE 'keep%'
                     UNION ALL SELECT account_id, ad_id, NULL, collected_at FROM fb_ad_dm WHERE ad_id = 'keep') u";
    let before = m.checksum(untouched).await;
    assert_eq!(before.0, 3);

    m.exec("CALL dm_sync('fb', '1001, 1002', '2026-01-10', '2026-01-20')")
        .await;
    let filter = ("'1001','1002'", "2026-01-10", "2026-01-20");
    assert_same(
        &ctx,
        ("fb_campaign", FB_CAMPAIGN),
        ("fb_campaign_dm", FB_CAMPAIGN),
        ("account_id", "account_id"),
        filter,
    )
    .await;
    assert_same(
        &ctx,
        ("fb_ad", FB_AD),
        ("fb_ad_dm", FB_AD),
        ("account_id", "account_id"),
        filter,
    )
    .await;
    assert_eq!(
        m.checksum(untouched).await,
        before,
        "rows outside the window or of other accounts are untouched"
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm WHERE campaign_id = 'stale'")
            .await,
        0
    );
    // bookkeeping columns are set on load; the generated column is computed locally
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_campaign_dm WHERE collected_at BETWEEN '2026-01-10' AND '2026-01-20'
                  AND (created_at IS NULL OR updated_at IS NULL OR budget_x2 IS DISTINCT FROM daily_budget * 2 OR id IS NULL)")
            .await,
        1, // only the pre-seeded 'keep-other-acct' row has no timestamps
    );
    let first = m
        .checksum(&format!("SELECT {FB_CAMPAIGN} FROM fb_campaign_dm"))
        .await;
    let first_ad = m.checksum(&format!("SELECT {FB_AD} FROM fb_ad_dm")).await;

    // Run twice: same content; the second run deletes what the first inserted.
    m.exec("CALL dm_sync('fb', '1001,1002', '2026-01-10', '2026-01-20')")
        .await;
    assert_eq!(
        m.checksum(&format!("SELECT {FB_CAMPAIGN} FROM fb_campaign_dm"))
            .await,
        first
    );
    assert_eq!(
        m.checksum(&format!("SELECT {FB_AD} FROM fb_ad_dm")).await,
        first_ad
    );
    let rows = m
        .client
        .query(
            "SELECT r.status, s.position, s.status, s.rows_fetched, s.rows_deleted, s.rows_inserted, s.mart_table
               FROM dm.run r JOIN dm.run_step s USING (run_id) ORDER BY r.run_id, s.position",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    let get = |i: usize| -> (String, i32, String, i64, i64, i64, String) {
        let r = &rows[i];
        (
            r.get(0),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
        )
    };
    // 2 accounts x 11 days x 2 campaigns; 2 x 11 x 3 ads
    assert_eq!(
        get(0),
        (
            "succeeded".into(),
            1,
            "succeeded".into(),
            44,
            1,
            44,
            "public.fb_campaign_dm".into()
        )
    );
    assert_eq!(
        get(1),
        (
            "succeeded".into(),
            2,
            "succeeded".into(),
            66,
            0,
            66,
            "public.fb_ad_dm".into()
        )
    );
    assert_eq!(
        get(2),
        (
            "succeeded".into(),
            1,
            "succeeded".into(),
            44,
            44,
            44,
            "public.fb_campaign_dm".into()
        )
    );
    assert_eq!(
        get(3),
        (
            "succeeded".into(),
            2,
            "succeeded".into(),
            66,
            66,
            66,
            "public.fb_ad_dm".into()
        )
    );
    let run: (String, Vec<String>, Vec<String>) = {
        let r = m.client.query_one("SELECT account_ids, accounts, missing_accounts FROM dm.run ORDER BY run_id LIMIT 1", &[]).await.unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(
        run,
        (
            "1001, 1002".to_string(),
            vec!["1001".to_string(), "1002".to_string()],
            vec![]
        )
    );
}

#[tokio::test]
async fn types_reserved_words_dotted_and_mapped_columns_round_trip() {
    let ctx = setup("it_types").await;
    let m = &ctx.mart;
    m.exec("CALL dm_sync('fb', '0', '2026-02-01', '2026-02-28')")
        .await;
    m.exec("CALL dm_sync('google', '0', '2026-02-01', '2026-02-28')")
        .await;
    m.exec("CALL dm_sync('naver', NULL, '2026-02-01', '2026-02-28')")
        .await;
    let served = "'1001','1002','1003','1004','1007'";
    let feb = |accts: &'static str| (accts, "2026-02-01", "2026-02-28");
    assert_same(
        &ctx,
        ("fb_campaign", FB_CAMPAIGN),
        ("fb_campaign_dm", FB_CAMPAIGN),
        ("account_id", "account_id"),
        feb(served),
    )
    .await;
    assert_same(
        &ctx,
        ("fb_ad", FB_AD),
        ("fb_ad_dm", FB_AD),
        ("account_id", "account_id"),
        feb(served),
    )
    .await;
    assert_same(
        &ctx,
        ("google_campaign_report", GOOGLE_WH),
        ("google_campaign_report_dm", GOOGLE_MART),
        ("\"customer.id\"", "customer_id"),
        feb("'1001','1002','1003','1004'"),
    )
    .await;
    assert_same(
        &ctx,
        ("naver_keyword_master_report", NAVER_WH),
        ("naver_keyword_master_report_dm", NAVER_MART),
        ("customerid", "customerid"),
        feb("'1001','1002'"),
    )
    .await;
    // Nothing of the advertisers the mart does not serve, in any table.
    for (t, c) in [
        ("fb_campaign_dm", "account_id"),
        ("fb_ad_dm", "account_id"),
        ("google_campaign_report_dm", "customer_id"),
    ] {
        assert_eq!(
            m.i64(&format!(
                "SELECT count(*) FROM {t} WHERE {c}::text IN ('1005', '1006')"
            ))
            .await,
            0,
            "{t}"
        );
    }
    assert_eq!(m.i64("SELECT count(*) FROM naver_keyword_master_report_dm WHERE customerid NOT IN ('1001','1002')").await, 0);
    // Spot checks of hard values, byte for byte.
    let tricky = m
        .text("SELECT string_agg(DISTINCT spec, '|' ORDER BY spec) FROM fb_campaign_dm WHERE spec NOT LIKE 'xxx%'")
        .await
        .unwrap();
    assert_eq!(
        tricky,
        "tab\there\nnew line and 한국어 광고 ✓|{\"title\": \"it's \\\"quoted\\\"\", \"path\": \"C:\\\\ads\\\\new\"}"
    );
    assert_eq!(m.i64("SELECT count(*) FROM fb_campaign_dm WHERE spec IS NULL").await, ctx.wh.i64(
        "SELECT count(*) FROM fb_campaign WHERE spec IS NULL AND account_id IN ('1001','1002','1003','1004') AND collected_at BETWEEN '2026-02-01' AND '2026-02-28'").await);
    assert_eq!(
        m.text("SELECT \"end\"::text FROM fb_campaign_dm WHERE account_id = '1001' AND campaign_id = '1001001' AND collected_at = '2026-02-03'").await.unwrap(),
        "2026-02-03 23:59:59.123456"
    );
    assert_eq!(
        m.text("SELECT metrics_all_conversions_value::text FROM google_campaign_report_dm WHERE customer_id = 1003 AND campaign_id = 10032 LIMIT 1").await.unwrap(),
        ctx.wh.text("SELECT \"metrics.all_conversions_value\"::text FROM google_campaign_report WHERE \"customer.id\" = 1003 AND \"campaign.id\" = 10032 LIMIT 1").await.unwrap()
    );
    assert_eq!(m.i64("SELECT count(*) FROM naver_keyword_master_report_dm WHERE keyword = '키워드 2' AND updated_at IS NOT NULL").await, 56);
}

#[tokio::test]
async fn failure_in_table_k_keeps_earlier_tables_and_leaves_table_k_untouched() {
    let ctx = setup("it_fail").await;
    let m = &ctx.mart;
    m.exec(
        "CREATE TABLE fb_ad_extra_dm (LIKE fb_ad_dm);
         SELECT dm_add_section('broken', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('broken', 'fb_campaign_dm');
         SELECT dm_add_table('broken', 'fb_ad_dm', 'public.missing_table');
         SELECT dm_add_table('broken', 'fb_ad_extra_dm', 'fb_ad');
         INSERT INTO fb_ad_dm (account_id, ad_id, collected_at) VALUES ('1001', 'old-1', '2026-01-11'), ('1002', 'old-2', '2026-01-12');",
    )
    .await;
    let old = m.checksum("SELECT * FROM fb_ad_dm").await;
    let e = m
        .fails("CALL dm_sync('broken', '1001,1002', '2026-01-10', '2026-01-20')")
        .await;
    assert_error(
        &e,
        SqlState::UNDEFINED_TABLE,
        &["broken", "public.fb_ad_dm", "(2 of 3)", "missing_table"],
    );
    assert!(
        e.detail().unwrap_or("").contains("dm.run_step"),
        "{:?}",
        e.detail()
    );

    // table 1 committed, table 2 exactly as before, table 3 never started
    assert_same(
        &ctx,
        ("fb_campaign", FB_CAMPAIGN),
        ("fb_campaign_dm", FB_CAMPAIGN),
        ("account_id", "account_id"),
        ("'1001','1002'", "2026-01-10", "2026-01-20"),
    )
    .await;
    assert_eq!(m.checksum("SELECT * FROM fb_ad_dm").await, old);
    assert_eq!(m.i64("SELECT count(*) FROM fb_ad_extra_dm").await, 0);

    let run = m
        .client
        .query_one("SELECT status, error FROM dm.run", &[])
        .await
        .unwrap();
    assert_eq!(run.get::<_, String>(0), "failed");
    let run_error: String = run.get(1);
    assert!(
        run_error.contains("public.fb_ad_dm (2 of 3) failed")
            && run_error.contains("missing_table"),
        "{run_error}"
    );
    let steps = m
        .client
        .query(
            "SELECT status, sqlstate, error, rows_inserted FROM dm.run_step ORDER BY position",
            &[],
        )
        .await
        .unwrap();
    let st: Vec<(String, Option<String>)> = steps.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        st,
        vec![
            ("succeeded".into(), None),
            ("failed".into(), Some("42P01".into())),
            ("pending".into(), None)
        ]
    );
    assert_eq!(steps[0].get::<_, Option<i64>>(3), Some(44));
    assert!(steps[1].get::<_, String>(2).contains("missing_table"));
}

#[tokio::test]
async fn bad_input_is_a_clear_error_and_changes_nothing() {
    let ctx = setup("it_input").await;
    let m = &ctx.mart;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12')")
        .await;
    let before = m.checksum("SELECT * FROM fb_campaign_dm").await;
    let runs_before = m.i64("SELECT count(*) FROM dm.run").await;
    let p = SqlState::INVALID_PARAMETER_VALUE;
    let cases: Vec<(&str, SqlState, Vec<&str>)> = vec![
        (
            "CALL dm_sync('nope')",
            p.clone(),
            vec!["section", "unknown section \"nope\"", "fb, google, naver"],
        ),
        (
            "CALL dm_sync('fb', '1001', '2026-01-20', '2026-01-10')",
            p.clone(),
            vec!["start_date", "after end_date"],
        ),
        (
            "CALL dm_sync('fb', '1001,abc')",
            p.clone(),
            vec!["account_ids", "\"abc\"", "numeric"],
        ),
        (
            "CALL dm_sync('fb', '1001''); DELETE FROM fb_campaign_dm; --')",
            p.clone(),
            vec!["account_ids", "is not an account id"],
        ),
        (
            "CALL dm_sync('fb', '1001) OR (1=1')",
            p.clone(),
            vec!["account_ids", "is not an account id"],
        ),
        (
            "CALL dm_sync('fb', '1001,,1002')",
            p.clone(),
            vec!["account_ids", "element 2"],
        ),
        (
            "CALL dm_sync('fb', '9998,9999')",
            p.clone(),
            vec!["account_ids", "none of the 2 requested account(s)"],
        ),
        (
            "CALL dm_sync('fb', '1001', 'infinity', NULL)",
            p.clone(),
            vec!["start_date", "infinity"],
        ),
        (
            "SELECT * FROM dm_preview('nope')",
            p.clone(),
            vec!["unknown section"],
        ),
        (
            "SELECT dm_add_section('Bad Name', 'account_id', 'fb_account_dm')",
            p.clone(),
            vec!["section", "not a valid section name"],
        ),
        (
            "SELECT dm_add_section('s2', 'account_id', 'fb_account_dm', mode => 'merge')",
            p.clone(),
            vec!["mode", "unknown mode", "delete_insert"],
        ),
        (
            "SELECT dm_add_section('s2', 'account_id', 'fb_account_dm', days => -1)",
            p.clone(),
            vec!["days"],
        ),
        (
            "SELECT dm_add_section('s2', 'account_id', 'fb_account_dm', server => 'nowhere')",
            SqlState::UNDEFINED_OBJECT,
            vec!["foreign server \"nowhere\""],
        ),
        (
            "SELECT dm_add_section('s2', 'acct', 'fb_account_dm')",
            SqlState::UNDEFINED_COLUMN,
            vec!["account_column", "no column \"acct\""],
        ),
        (
            "SELECT dm_add_section('fb', 'account_id', 'fb_account_dm')",
            SqlState::DUPLICATE_OBJECT,
            vec!["already exists"],
        ),
        (
            "SELECT dm_add_section('s2', 'account_id', 'no_such_table')",
            SqlState::UNDEFINED_TABLE,
            vec!["no_such_table"],
        ),
        (
            "SELECT dm_add_table('fb', 'fb_ad_dm')",
            SqlState::DUPLICATE_OBJECT,
            vec!["already a table of section fb"],
        ),
        (
            "SELECT dm_add_table('fb', 'google_customer_dm')",
            SqlState::UNDEFINED_COLUMN,
            vec!["no column \"account_id\""],
        ),
        (
            "SELECT dm_add_table('google', 'fb_ad_dm', 'a.b.c', 'account_id')",
            p.clone(),
            vec!["remote_table", "more than two parts"],
        ),
        (
            "SELECT dm_add_table('google', 'fb_ad_dm', 'x\"y', 'account_id')",
            p.clone(),
            vec!["remote_table"],
        ),
        (
            "SELECT dm_map_column('fb_ad_dm', 'nope', 'x')",
            SqlState::UNDEFINED_COLUMN,
            vec!["mart_column", "no column \"nope\""],
        ),
        (
            "SELECT dm_remove_table('fb', 'google_customer_dm')",
            SqlState::UNDEFINED_OBJECT,
            vec!["not a table of section fb"],
        ),
        (
            "BEGIN; CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12')",
            SqlState::ACTIVE_SQL_TRANSACTION,
            vec!["inside a transaction block"],
        ),
        (
            "SELECT 1; CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12')",
            SqlState::ACTIVE_SQL_TRANSACTION,
            vec!["inside a transaction block"],
        ),
    ];
    for (sql, code, parts) in cases {
        let e = m.fails(sql).await;
        if sql.starts_with("BEGIN") {
            m.exec("ROLLBACK").await;
        }
        assert_error(&e, code, &parts);
        if e.message().starts_with("pg_datamart:") {
            assert!(
                e.hint().is_some(),
                "every pg_datamart error says what to do: {sql}: {}",
                e.message()
            );
        }
    }
    assert_eq!(
        m.checksum("SELECT * FROM fb_campaign_dm").await,
        before,
        "bad input changed nothing"
    );
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, runs_before);
    assert_eq!(m.i64("SELECT count(*) FROM fb_account_dm").await, 5);
}

#[tokio::test]
async fn unserved_accounts_are_reported_not_dropped_silently() {
    let ctx = setup("it_missing").await;
    let m = &ctx.mart;
    m.exec("CALL dm_sync('fb', '1005,1001,9999', '2026-01-10', '2026-01-11')")
        .await;
    let notices = m.take_notices();
    assert!(
        notices.iter().any(|n| n
            .contains("2 requested account(s) are not in the section's account table")
            && n.contains("1005, 9999")),
        "{notices:#?}"
    );
    let r = m
        .client
        .query_one("SELECT accounts, missing_accounts, status FROM dm.run", &[])
        .await
        .unwrap();
    assert_eq!(r.get::<_, Vec<String>>(0), vec!["1001"]);
    assert_eq!(r.get::<_, Vec<String>>(1), vec!["1005", "9999"]);
    assert_eq!(r.get::<_, String>(2), "succeeded");
    assert_eq!(
        m.i64("SELECT count(DISTINCT account_id) FROM fb_campaign_dm")
            .await,
        1
    );
}

#[tokio::test]
async fn default_window_is_today_minus_days_for_every_account() {
    let ctx = setup("it_default").await;
    ctx.wh
        .exec(
            "INSERT INTO fb_ad (account_id, ad_id, collected_at)
             SELECT a::text, 'recent', current_date - k FROM generate_series(1001, 1006) a, generate_series(0, 9) k",
        )
        .await;
    let m = &ctx.mart;
    m.exec("SELECT dm_alter_section('fb', days => 3)").await;
    m.exec("CALL dm_sync('fb')").await;
    // today-3 .. today = 4 days, 4 served accounts with data (1007 has none)
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_ad_dm WHERE ad_id = 'recent'")
            .await,
        16
    );
    assert_eq!(
        m.i64("SELECT count(*) FROM fb_ad_dm WHERE collected_at < current_date - 3")
            .await,
        0
    );
    let r = m.client.query_one("SELECT end_date = current_date, end_date - start_date, cardinality(accounts) FROM dm.run", &[]).await.unwrap();
    assert!(r.get::<_, bool>(0));
    assert_eq!(r.get::<_, i32>(1), 3);
    assert_eq!(r.get::<_, i32>(2), 5);
    // The time zone setting decides "today".
    let today_far_east = m
        .text("SELECT (now() AT TIME ZONE 'Pacific/Kiritimati')::date::text")
        .await;
    m.exec("SET pg_datamart.timezone = 'Pacific/Kiritimati'")
        .await;
    m.exec("CALL dm_sync('fb')").await;
    assert_eq!(
        m.text("SELECT end_date::text FROM dm.run ORDER BY run_id DESC LIMIT 1")
            .await,
        today_far_east
    );
}

#[tokio::test]
async fn long_account_lists_are_chunked() {
    let ctx = setup("it_chunks").await;
    let m = &ctx.mart;
    m.exec("SET pg_datamart.accounts_per_query = 2").await;
    let remote = m
        .text("SELECT remote_sql FROM dm_preview('fb', '0', '2026-01-10', '2026-01-12') LIMIT 1")
        .await
        .unwrap();
    let statements: Vec<&str> = remote.split(";\n").collect();
    assert_eq!(statements.len(), 3, "5 accounts in chunks of 2: {remote}");
    assert!(
        statements[0].ends_with("IN ('1001', '1002')"),
        "{}",
        statements[0]
    );
    assert!(statements[2].ends_with("IN ('1007')"), "{}", statements[2]);
    m.exec("CALL dm_sync('fb', '0', '2026-01-10', '2026-01-12')")
        .await;
    assert_same(
        &ctx,
        ("fb_ad", FB_AD),
        ("fb_ad_dm", FB_AD),
        ("account_id", "account_id"),
        (
            "'1001','1002','1003','1004','1007'",
            "2026-01-10",
            "2026-01-12",
        ),
    )
    .await;
}

#[tokio::test]
async fn notices_report_each_table_with_rows_and_seconds() {
    let ctx = setup("it_notice").await;
    let m = &ctx.mart;
    m.exec("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    let notices = m.take_notices();
    let started = notices.iter().position(|n| {
        n.contains("fb run 1 started: 2 table(s), 1 account(s), 2026-01-10 .. 2026-01-10")
    });
    let t1 = notices.iter().position(|n| {
        n.contains("[1/2] public.fb_campaign_dm: fetched 2, deleted 0, inserted 2, updated 0 in ")
            && n.ends_with(" s")
    });
    let t2 = notices
        .iter()
        .position(|n| n.contains("[2/2] public.fb_ad_dm: fetched 3, deleted 0, inserted 3"));
    let done = notices
        .iter()
        .position(|n| n.contains("run 1 succeeded: 5 rows in"));
    assert!(
        started < t1 && t1 < t2 && t2 < done && started.is_some(),
        "{notices:#?}"
    );
}

#[tokio::test]
async fn connection_errors_name_the_table_and_never_the_password() {
    let ctx = setup("it_secret").await;
    let m = &ctx.mart;
    m.exec(
        "CREATE SERVER wrong_host FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '1', dbname 'x');
         CREATE USER MAPPING FOR CURRENT_USER SERVER wrong_host OPTIONS (user 'postgres', password 'S3cr3t-pw');
         SELECT dm_alter_section('fb', server => 'wrong_host');",
    )
    .await;
    let e = m
        .fails("CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-10')")
        .await;
    assert_error(
        &e,
        SqlState::SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
        &["public.fb_campaign_dm (1 of 2)"],
    );
    let all = format!("{} {:?} {:?}", e.message(), e.detail(), e.hint());
    let status = m.text("SELECT r.error || ' ' || string_agg(coalesce(s.error, ''), ' ') FROM dm.run r JOIN dm.run_step s USING (run_id) GROUP BY r.error").await.unwrap();
    for text in [all, status, m.take_notices().join(" ")] {
        assert!(!text.contains("S3cr3t"), "password leaked: {text}");
    }
}
