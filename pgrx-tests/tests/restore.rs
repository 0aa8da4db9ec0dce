//! Run history survives pg_dump and pg_restore into a database of another name: a failed run
//! is resumed there, its tables found by name.

use pg_datamart_it::{port, setup, Session};
use std::process::Command;

fn pg_bin(tool: &str) -> String {
    format!(
        "{}/{tool}",
        std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".to_string())
    )
}

#[tokio::test]
async fn a_failed_run_resumes_after_dump_and_restore_under_another_name() {
    let ctx = setup("it_restore").await;
    let m = &ctx.mart;
    m.exec(
        "SELECT dm_add_section('two', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('two', 'fb_campaign_dm');
         SELECT dm_add_table('two', 'fb_ad_dm', 'fb_ad_later');",
    )
    .await;
    m.fails("CALL dm_sync('two', '1001', '2026-01-10', '2026-01-12')")
        .await;
    assert_eq!(
        m.text("SELECT status FROM dm.run").await.as_deref(),
        Some("failed")
    );

    let admin = Session::connect("postgres").await;
    admin
        .exec("DROP DATABASE IF EXISTS it_restore_copy WITH (FORCE)")
        .await;
    admin.exec("CREATE DATABASE it_restore_copy").await;
    let dump = std::env::temp_dir().join(format!("it_restore_{}.dump", std::process::id()));
    let out = Command::new(pg_bin("pg_dump"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port(),
            "-U",
            "postgres",
            "-Fc",
            "-f",
        ])
        .arg(&dump)
        .arg(&ctx.mart_db)
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("circular foreign-key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(pg_bin("pg_restore"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port(),
            "-U",
            "postgres",
            "-d",
            "it_restore_copy",
        ])
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    let _ = std::fs::remove_file(&dump);
    assert!(
        out.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The warehouse gets the missing table; the restored mart resumes the failed run.
    ctx.wh
        .exec("CREATE VIEW fb_ad_later AS SELECT * FROM fb_ad")
        .await;
    let copy = Session::connect("it_restore_copy").await;
    assert_eq!(
        copy.text("SELECT mart_oid::text FROM dm.run_step WHERE position = 2")
            .await
            .as_deref(),
        Some("fb_ad_dm")
    );
    copy.exec("CALL dm_resume(1)").await;
    assert_eq!(
        copy.text("SELECT status FROM dm.run WHERE resumed_from = 1")
            .await
            .as_deref(),
        Some("succeeded")
    );
    let wh = ctx
        .wh
        .i64("SELECT count(*) FROM fb_ad WHERE account_id = '1001' AND collected_at BETWEEN '2026-01-10' AND '2026-01-12'")
        .await;
    assert!(wh > 0);
    assert_eq!(
        copy.i64("SELECT count(*) FROM fb_ad_dm WHERE account_id = '1001' AND collected_at BETWEEN '2026-01-10' AND '2026-01-12'")
            .await,
        wh
    );
}
