//! dm_preview pinned by golden output: the exact remote SQL, column-definition lists and local
//! statements for the fixture's sections. Regenerate with `make bless` and review the diff.

use pg_datamart_it::setup;

const GOLDEN: &str = "golden/preview.out";

#[tokio::test]
async fn preview_matches_golden_and_writes_nothing() {
    let ctx = setup("it_preview").await;
    let m = &ctx.mart;
    let calls = [
        (
            "",
            "dm_preview('fb', '1002, 1001', '2026-01-10', '2026-01-20')",
        ),
        (
            "",
            "dm_preview('google', '1001', '2026-02-01', '2026-02-28')",
        ),
        ("", "dm_preview('naver', NULL, '2026-02-01', '2026-02-01')"),
        (
            "SET pg_datamart.accounts_per_query = 3",
            "dm_preview('fb', '0', '2026-01-31', '2026-02-01')",
        ),
        (
            "SELECT dm_add_section('fbup', 'account_id', 'fb_account_dm', mode => 'upsert'); SELECT dm_add_table('fbup', 'fb_campaign_dm')",
            "dm_preview('fbup', '1001', '2026-02-27', '2026-03-02')",
        ),
    ];
    let mut out = String::new();
    for (set, call) in calls {
        if !set.is_empty() {
            m.exec(set).await;
            out.push_str(&format!("{set};\n"));
        }
        out.push_str(&format!("SELECT * FROM {call};\n"));
        let rows = m
            .client
            .query(&format!("SELECT mart_table::text, remote_sql, column_definitions, local_sql FROM {call}"), &[])
            .await
            .unwrap();
        for r in rows {
            out.push_str(&format!(
                "-- mart_table\n{}\n-- remote_sql\n{}\n-- column_definitions\n{}\n-- local_sql\n{}\n\n",
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                r.get::<_, String>(3)
            ));
        }
    }
    // Nothing was executed or written.
    assert_eq!(m.i64("SELECT count(*) FROM dm.run").await, 0);
    assert_eq!(
        m.i64("SELECT (SELECT count(*) FROM fb_campaign_dm) + (SELECT count(*) FROM fb_ad_dm)")
            .await,
        0
    );

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var("DM_IT_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &out).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != out {
        let actual = path.with_extension("actual");
        std::fs::write(&actual, &out).unwrap();
        panic!(
            "dm_preview output differs from {GOLDEN}; actual output written to {}.\n\
             Compare with: diff -u {} {}\nIf the change is intended: make bless",
            actual.display(),
            path.display(),
            actual.display()
        );
    }
}
