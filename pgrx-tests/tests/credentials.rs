//! Warehouse credentials (issue 18, items 2 and 3).
//!
//! - dblink's password rule, exactly: a role that is not a superuser reaches the warehouse only
//!   with a non-empty `password` of its own user mapping that the warehouse asks for. Each case
//!   here would have passed the old rule ("some secret option"): the mapping gives only an
//!   `sslpassword`, and the server's environment supplies the warehouse user's password: a
//!   `passfile` option on the foreign server, the server's default passfile (`PGPASSFILE`, as
//!   `~/.pgpass` would) and `PGPASSWORD`. The last two run the mart on a cluster of this file
//!   (`.ci/pg.sh`, port `DM_IT_CRED_PORT`, by default the test server's port + 56) started with
//!   that environment, so the test server's environment stays as it is.
//! - No confused deputy across user mappings: a configuration write (API or direct) is checked
//!   through the writer's own user mapping, for exactly what syncs of the table read.
//!
//! The warehouse users are scram roles (members of `dm_scram`: the test server requires their
//! password, Makefile `IT_HBA`).

use pg_datamart_it::{
    assert_error, configuration, login, mart_role, port, scram_role, setup, Ctx, Session,
};
use tokio_postgres::error::{DbError, SqlState};

const PW: &str = "Cred-S3cret-4";
const NOT_IT: &str = "Ssl-Key-Passphrase-8";
const FB_AD: &str =
    "account_id, ad_id, \"user\", \"order\", \"open\", tag, shown_at, ratio, collected_at";
const SYNC: &str = "CALL dm_sync('fb', '1001', '2026-01-10', '2026-01-12')";
const WINDOW: &str = "collected_at BETWEEN '2026-01-10' AND '2026-01-12' AND account_id = '1001'";

/// Everything an error shows (message, detail, hint).
fn shown(e: &DbError) -> String {
    format!(
        "{} {} {}",
        e.message(),
        e.detail().unwrap_or_default(),
        e.hint().unwrap_or_default()
    )
}

fn assert_no_secret(e: &DbError) {
    let all = shown(e);
    for secret in [PW, NOT_IT] {
        assert!(!all.contains(secret), "a secret shown: {all}");
    }
}

fn id(args: &[&str]) -> u32 {
    let out = std::process::Command::new("id")
        .args(args)
        .output()
        .expect("run id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("id {args:?}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Writes a libpq password file at `path` with one line, as libpq accepts it: mode 0600 and,
/// when the tests run as root, owned by the OS user `postgres` the server runs as.
fn write_pgpass(path: &str, line: &str) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::write(path, format!("{line}\n")).expect("write the password file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 0600");
    if id(&["-u"]) == 0 {
        std::os::unix::fs::chown(
            path,
            Some(id(&["-u", "postgres"])),
            Some(id(&["-g", "postgres"])),
        )
        .expect("chown postgres");
    }
}

/// The warehouse user `wh_user` (scram, with `password`) may read every table of the test's
/// warehouse.
async fn warehouse_user(ctx: &Ctx, wh_user: &str) {
    let admin = Session::connect("postgres").await;
    scram_role(&admin, wh_user, PW).await;
    ctx.wh
        .exec(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {wh_user}"
        ))
        .await;
}

/// A loader of section fb's table fb_ad_dm (and an admin, for the configuration checks) on
/// `mart`, with the privileges a sync needs, and a user mapping for `wh_user` that gives an
/// `sslpassword` and no `password`.
async fn sslpassword_loader(mart: &Session, loader: &str, wh_user: &str) {
    mart.exec(&format!(
        "SELECT dm_grant('{loader}', 'admin');
         SELECT dm_remove_table('fb', 'fb_campaign_dm');
         GRANT SELECT ON fb_account_dm TO {loader};
         GRANT SELECT, INSERT, DELETE ON fb_ad_dm TO {loader};
         GRANT USAGE ON FOREIGN SERVER redshift_prd TO {loader};
         CREATE USER MAPPING FOR {loader} SERVER redshift_prd OPTIONS (user '{wh_user}', sslpassword '{NOT_IT}');"
    ))
    .await;
}

/// 2F003 naming the rule, the server and the role; `hint`: the hint says what to add (the
/// sync's own error may carry the resume hint instead).
fn assert_password_required(e: &DbError, loader: &str, hint: bool) {
    assert_error(
        e,
        SqlState::S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
        &[
            "password is required",
            "gives no password",
            "foreign server \"redshift_prd\"",
            loader,
        ],
    );
    assert!(
        !hint
            || e.hint()
                .is_some_and(|h| h.contains("OPTIONS (ADD password '...')")),
        "{:?}",
        e.hint()
    );
    assert_no_secret(e);
}

/// The loader's sync is refused (2F003, nothing loaded); so are its configuration writes (the
/// read check connects the same way) and discovery (dblink's own rule).
async fn refused_everywhere(mart: &Session, s: &Session, loader: &str) {
    let before = mart
        .checksum(&format!("SELECT {FB_AD} FROM fb_ad_dm"))
        .await;
    let e = s.fails(SYNC).await;
    assert_password_required(&e, loader, false);
    assert_eq!(
        mart.checksum(&format!("SELECT {FB_AD} FROM fb_ad_dm"))
            .await,
        before,
        "nothing loaded"
    );
    let config = configuration(mart).await;
    let e = s
        .fails("SELECT dm_map_column('fb_ad_dm', 'tag', 'tag')")
        .await;
    assert_password_required(&e, loader, true);
    assert!(e.message().contains("public.fb_ad"), "{}", e.message());
    assert_eq!(configuration(mart).await, config, "nothing stored");
    let e = s.fails("SELECT * FROM dm_discover_columns('fb')").await;
    assert_eq!(
        e.code(),
        &SqlState::S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
        "{}",
        e.message()
    );
    assert!(
        e.message().contains("password is required"),
        "{}",
        e.message()
    );
    assert_no_secret(&e);
}

/// A `passfile` option on the foreign server holds the warehouse user's password; the loader's
/// mapping gives only an sslpassword. The superuser's dblink through the same file logs in (the
/// environment would authenticate); the loader is refused, until its own mapping gives the
/// password.
#[tokio::test]
async fn an_sslpassword_with_the_servers_passfile_is_no_password() {
    let ctx = setup("it_cred_passfile").await;
    let m = &ctx.mart;
    let loader = "it_cred_pf_loader";
    let wh_user = "it_cred_pf_wh";
    mart_role(&ctx, loader, PW).await;
    warehouse_user(&ctx, wh_user).await;
    let passfile = "/tmp/pg_datamart-it-cred-passfile.pgpass";
    write_pgpass(passfile, &format!("127.0.0.1:{}:*:{wh_user}:{PW}", port()));
    m.exec(&format!(
        "ALTER SERVER redshift_prd OPTIONS (ADD passfile '{passfile}')"
    ))
    .await;
    sslpassword_loader(m, loader, wh_user).await;
    // The control: the file does authenticate the warehouse user.
    assert!(
        m.i64(&format!(
            "SELECT n FROM dblink('host=127.0.0.1 port={} dbname=it_cred_passfile_wh user={wh_user} passfile={passfile}',
                                  'SELECT count(*) FROM fb_ad') AS t(n bigint)",
            port()
        ))
        .await
            > 0
    );
    let s = login(&ctx, loader, PW).await;
    refused_everywhere(m, &s, loader).await;

    // Its own password: the sync loads the window.
    m.exec(&format!(
        "ALTER USER MAPPING FOR {loader} SERVER redshift_prd OPTIONS (ADD password '{PW}')"
    ))
    .await;
    s.exec(SYNC).await;
    let wh = ctx
        .wh
        .checksum(&format!("SELECT {FB_AD} FROM fb_ad WHERE {WINDOW}"))
        .await;
    assert!(wh.0 > 0);
    assert_eq!(
        m.checksum(&format!("SELECT {FB_AD} FROM fb_ad_dm WHERE {WINDOW}"))
            .await,
        wh
    );
    let _ = std::fs::remove_file(passfile);
}

// ---------------------------------------------------------------------------------------------
// A mart cluster of this file, started with a password in its environment

struct Cluster {
    name: String,
    port: u16,
}

fn pg_sh(args: &[&str], fresh: bool, env: &str) -> std::process::Output {
    std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/pg.sh"))
        .args(args)
        .env("PG_FRESH", if fresh { "1" } else { "0" })
        .env("PG_ENV", env)
        .env_remove("PG_HBA_PREPEND")
        .output()
        .expect("run .ci/pg.sh")
}

impl Cluster {
    /// (Re)starts the cluster with `env` as the server's extra environment (`NAME=value`).
    fn start(&self, fresh: bool, env: &str) {
        let out = pg_sh(&["start", &self.name, &self.port.to_string()], fresh, env);
        assert!(
            out.status.success(),
            "pg.sh start (cluster {} on port {}): {}",
            self.name,
            self.port,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn connect(&self, db: &str, user: &str) -> Session {
        Session::connect_dsn(&format!(
            "host=127.0.0.1 port={} user={user} dbname={db}",
            self.port
        ))
        .await
        .unwrap_or_else(|e| panic!("connect to {db} as {user} on cluster {}: {e}", self.name))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg_sh(&["stop", &self.name, "immediate"], false, "");
    }
}

/// The mart server's own environment supplies the warehouse user's password: `PGPASSWORD`,
/// then (restarted) its default passfile (`PGPASSFILE`, where libpq looks as it looks in
/// `~/.pgpass`). Each time the superuser's dblink without a password logs in as the warehouse
/// user (the environment authenticates), and the loader whose mapping gives an sslpassword is
/// refused; with its own password it syncs.
#[tokio::test]
async fn a_password_from_the_servers_environment_is_no_password() {
    // The warehouse on the test server; the mart on a cluster of its own (trust logins).
    let ctx = setup("it_cred_env").await;
    let wh_user = "it_cred_env_wh";
    let loader = "it_cred_env_loader";
    warehouse_user(&ctx, wh_user).await;
    let cport = std::env::var("DM_IT_CRED_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| port().parse::<u16>().unwrap() + 56);
    let cluster = Cluster {
        name: format!("cred-mart-{cport}"),
        port: cport,
    };
    cluster.start(true, &format!("PGPASSWORD={PW}"));
    let fixture = include_str!("../fixtures/mart.sql")
        .replace("{{WH_PORT}}", &port())
        .replace("{{WH_DB}}", "it_cred_env_wh");
    {
        let su = cluster.connect("postgres", "postgres").await;
        su.exec("CREATE DATABASE mart").await;
        su.exec(&format!("CREATE ROLE {loader} LOGIN")).await;
    }
    let m = cluster.connect("mart", "postgres").await;
    m.exec(&format!("CREATE EXTENSION pg_datamart CASCADE; {fixture}"))
        .await;
    sslpassword_loader(&m, loader, wh_user).await;
    let control = format!(
        "SELECT n FROM dblink('host=127.0.0.1 port={} dbname=it_cred_env_wh user={wh_user}',
                              'SELECT count(*) FROM fb_ad') AS t(n bigint)",
        port()
    );

    // PGPASSWORD.
    assert!(m.i64(&control).await > 0, "PGPASSWORD authenticates");
    let s = cluster.connect("mart", loader).await;
    refused_everywhere(&m, &s, loader).await;
    drop((s, m));

    // The default passfile (PGPASSWORD would take precedence over it: not set now).
    let passfile = format!("/tmp/pg_datamart-it-cred-env-{cport}.pgpass");
    write_pgpass(&passfile, &format!("127.0.0.1:{}:*:{wh_user}:{PW}", port()));
    cluster.start(false, &format!("PGPASSFILE={passfile}"));
    let m = cluster.connect("mart", "postgres").await;
    assert!(m.i64(&control).await > 0, "the passfile authenticates");
    let s = cluster.connect("mart", loader).await;
    refused_everywhere(&m, &s, loader).await;

    // Its own password: the sync loads the window.
    m.exec(&format!(
        "ALTER USER MAPPING FOR {loader} SERVER redshift_prd OPTIONS (ADD password '{PW}')"
    ))
    .await;
    s.exec(SYNC).await;
    let wh = ctx
        .wh
        .checksum(&format!("SELECT {FB_AD} FROM fb_ad WHERE {WINDOW}"))
        .await;
    assert!(wh.0 > 0);
    assert_eq!(
        m.checksum(&format!("SELECT {FB_AD} FROM fb_ad_dm WHERE {WINDOW}"))
            .await,
        wh
    );
    let _ = std::fs::remove_file(&passfile);
}

// ---------------------------------------------------------------------------------------------
// No confused deputy across user mappings

/// The loader's warehouse user may read `secret_metric` and every column of `fb_ad`; the
/// admin's may read neither `secret_metric` nor `fb_ad.secret`. The admin cannot point the
/// loader's section at them: not by `dm_add_table`, not by writing `dm.section_table` directly,
/// not by mapping a column to the secret one (42501 naming the role, the remote table and the
/// server; nothing stored). What its own mapping reads, it may register; once its warehouse
/// user may read the table, the same direct write is accepted.
#[tokio::test]
async fn an_admin_cannot_point_a_sync_at_warehouse_data_its_own_mapping_cannot_read() {
    let ctx = setup("it_cred_deputy").await;
    let m = &ctx.mart;
    let admin = "it_cred_dep_admin";
    let loader_wh = "it_cred_dep_loader_wh";
    let admin_wh = "it_cred_dep_admin_wh";
    mart_role(&ctx, admin, PW).await;
    let su = Session::connect("postgres").await;
    scram_role(&su, loader_wh, PW).await;
    scram_role(&su, admin_wh, PW).await;
    ctx.wh
        .exec(&format!(
            "CREATE TABLE secret_metric AS SELECT * FROM fb_ad;
             ALTER TABLE fb_ad ADD COLUMN secret text DEFAULT 'S3CRET-ROW';
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {loader_wh};
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {admin_wh};
             REVOKE SELECT ON secret_metric, fb_ad FROM {admin_wh};
             GRANT SELECT ({FB_AD}) ON fb_ad TO {admin_wh};"
        ))
        .await;
    m.exec(&format!(
        "CREATE TABLE fb_secret_dm (LIKE fb_ad_dm INCLUDING ALL);
         CREATE TABLE fb_ad2_dm (LIKE fb_ad_dm INCLUDING ALL);
         SELECT dm_grant('{admin}', 'admin');
         GRANT SELECT ON fb_account_dm TO {admin};
         GRANT SELECT, INSERT, DELETE ON fb_ad_dm, fb_secret_dm, fb_ad2_dm TO {admin};
         GRANT USAGE ON FOREIGN SERVER redshift_prd TO {admin};
         CREATE USER MAPPING FOR {admin} SERVER redshift_prd OPTIONS (user '{admin_wh}', password '{PW}');
         SELECT dm_add_section('dep', 'account_id', 'fb_account_dm');
         SELECT dm_add_table('dep', 'fb_ad_dm', 'fb_ad');
         ALTER TABLE fb_ad_dm ADD COLUMN secret text;
         SELECT dm_map_column('fb_ad_dm', 'secret', 'tag');"
    ))
    .await;
    let s = login(&ctx, admin, PW).await;
    let before = configuration(m).await;

    for (sql, table) in [
        (
            "UPDATE dm.section_table SET remote_table = 'secret_metric' WHERE section = 'dep'",
            "public.secret_metric",
        ),
        (
            "SELECT dm_add_table('dep', 'fb_secret_dm', 'secret_metric')",
            "public.secret_metric",
        ),
        (
            "INSERT INTO dm.section_table (section, position, mart_table, remote_schema, remote_table)
             VALUES ('dep', 2, 'fb_secret_dm', 'public', 'secret_metric')",
            "public.secret_metric",
        ),
        ("SELECT dm_map_column('fb_ad_dm', 'tag', 'secret')", "public.fb_ad"),
        (
            "INSERT INTO dm.column_map (mart_table, mart_column, remote_column) VALUES ('fb_ad_dm', 'tag', 'secret')",
            "public.fb_ad",
        ),
        // Removing a mapping reads the same-named warehouse column ("secret") instead.
        (
            "DELETE FROM dm.column_map WHERE mart_table = 'fb_ad_dm'::regclass AND mart_column = 'secret'",
            "public.fb_ad",
        ),
        ("SELECT dm_unmap_column('fb_ad_dm', 'secret')", "public.fb_ad"),
    ] {
        let e = s.fails(sql).await;
        assert_error(
            &e,
            SqlState::INSUFFICIENT_PRIVILEGE,
            &[admin, table, "foreign server \"redshift_prd\"", "permission denied"],
        );
        assert!(
            e.hint().is_some_and(|h| h.contains("syncing role's credentials")),
            "{sql}: {:?}",
            e.hint()
        );
        assert_no_secret(&e);
        assert_eq!(configuration(m).await, before, "{sql}: nothing stored");
    }

    // A table that is not there: 42P01 naming it.
    let e = s
        .fails("SELECT dm_add_table('dep', 'fb_secret_dm', 'no_such_table')")
        .await;
    assert_error(
        &e,
        SqlState::UNDEFINED_TABLE,
        &[
            admin,
            "public.no_such_table",
            "foreign server \"redshift_prd\"",
        ],
    );
    assert_eq!(configuration(m).await, before);

    // What its own mapping reads, it may register, through the API and directly.
    s.exec("SELECT dm_add_table('dep', 'fb_ad2_dm', 'fb_ad')")
        .await;
    ctx.wh
        .exec(&format!("GRANT SELECT ON secret_metric TO {admin_wh}"))
        .await;
    s.exec("UPDATE dm.section_table SET remote_table = 'secret_metric' WHERE section = 'dep' AND mart_table = 'fb_ad_dm'::regclass")
        .await;
    assert_eq!(
        m.text("SELECT string_agg(mart_table::text || '<-' || remote_table, ', ' ORDER BY position) FROM dm.section_table WHERE section = 'dep'")
            .await
            .as_deref(),
        Some("fb_ad_dm<-secret_metric, fb_ad2_dm<-fb_ad")
    );
    // Without a user mapping of its own, it writes nothing that reaches the warehouse.
    m.exec(&format!(
        "DROP USER MAPPING FOR {admin} SERVER redshift_prd"
    ))
    .await;
    let before = configuration(m).await;
    let e = s
        .fails("UPDATE dm.section_table SET remote_table = 'fb_ad' WHERE section = 'dep' AND mart_table = 'fb_ad_dm'::regclass")
        .await;
    assert!(e.message().contains("no user mapping"), "{}", e.message());
    assert!(e.message().contains(admin), "{}", e.message());
    assert_eq!(configuration(m).await, before);
}
