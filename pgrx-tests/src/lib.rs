//! Test harness for pg_datamart's client-driven integration tests.
//!
//! Every test gets two fresh databases on the server the Makefile starts (`make it`):
//! `<name>_wh`, a warehouse filled from `fixtures/warehouse.sql`, and `<name>_mart`, with the
//! extension, a foreign server `redshift_prd` pointing at the warehouse over TCP loopback, and
//! the sections of `fixtures/mart.sql`. Tests talk to them with real client sessions, so
//! `CALL dm_sync` commits for real and notices arrive as a client sees them.

use std::sync::{Arc, Mutex};
use tokio_postgres::error::{DbError, SqlState};
use tokio_postgres::{AsyncMessage, Client, NoTls};

pub fn port() -> String {
    std::env::var("DM_IT_PORT").unwrap_or_else(|_| "28817".to_string())
}

pub fn dsn(db: &str) -> String {
    format!("host=127.0.0.1 port={} user=postgres dbname={db}", port())
}

/// A client session plus the notices the server sent it.
pub struct Session {
    pub client: Client,
    notices: Arc<Mutex<Vec<String>>>,
    notifications: Arc<Mutex<Vec<(String, String)>>>,
}

impl Session {
    pub async fn connect(db: &str) -> Session {
        Self::connect_dsn(&dsn(db)).await.unwrap_or_else(|e| {
            panic!(
                "connect to {db} on port {}: {e} (is the test server up? run `make it`)",
                port()
            )
        })
    }

    pub async fn connect_dsn(dsn: &str) -> Result<Session, tokio_postgres::Error> {
        let (client, mut conn) = tokio_postgres::connect(dsn, NoTls).await?;
        let notices = Arc::new(Mutex::new(Vec::new()));
        let notifications = Arc::new(Mutex::new(Vec::new()));
        let (sink, notes) = (notices.clone(), notifications.clone());
        tokio::spawn(async move {
            while let Some(msg) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                match msg {
                    Ok(AsyncMessage::Notice(n)) => {
                        sink.lock().unwrap().push(n.message().to_string())
                    }
                    Ok(AsyncMessage::Notification(n)) => notes
                        .lock()
                        .unwrap()
                        .push((n.channel().to_string(), n.payload().to_string())),
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("connection error: {e}");
                        break;
                    }
                }
            }
        });
        Ok(Session {
            client,
            notices,
            notifications,
        })
    }

    /// The notifications (channel, payload) received so far.
    pub fn notifications(&self) -> Vec<(String, String)> {
        self.notifications.lock().unwrap().clone()
    }

    /// The notices received so far (and forgets them).
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap())
    }

    pub async fn exec(&self, sql: &str) {
        self.client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}\n failed: {}", describe(&e)));
    }

    /// Runs `sql`, which must fail; returns the server's error.
    pub async fn fails(&self, sql: &str) -> DbError {
        match self.client.batch_execute(sql).await {
            Ok(()) => panic!("expected an error from: {sql}"),
            Err(e) => e
                .as_db_error()
                .unwrap_or_else(|| panic!("not a server error: {e}"))
                .clone(),
        }
    }

    pub async fn i64(&self, sql: &str) -> i64 {
        self.client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}\n failed: {}", describe(&e)))
            .get(0)
    }

    pub async fn text(&self, sql: &str) -> Option<String> {
        self.client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}\n failed: {}", describe(&e)))
            .get(0)
    }

    /// Row count and an md5 of every row's text (ordered) of `select`.
    pub async fn checksum(&self, select: &str) -> (i64, String) {
        let sql = format!(
            "SELECT count(*), COALESCE(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), 'empty') FROM ({select}) t"
        );
        let row = self
            .client
            .query_one(&sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}\n failed: {}", describe(&e)));
        (row.get(0), row.get(1))
    }
}

pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} {} (detail: {:?}, hint: {:?})",
            db.code().code(),
            db.message(),
            db.detail(),
            db.hint()
        ),
        None => e.to_string(),
    }
}

/// Polls `sql` (a boolean query) every 50 ms until it is true; panics after `secs` seconds.
pub async fn wait_until(s: &Session, sql: &str, secs: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let ok: bool = s
            .client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
            .get(0);
        if ok {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for: {sql}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A test's warehouse and mart.
pub struct Ctx {
    pub wh: Session,
    pub mart: Session,
    pub mart_db: String,
}

/// Creates `<name>_wh` and `<name>_mart` from the fixtures (dropping leftovers of an earlier run).
pub async fn setup(name: &str) -> Ctx {
    setup_with(name, "CREATE EXTENSION pg_datamart CASCADE").await
}

/// [`setup`], creating the extension with `create_extension` (e.g. an older version).
pub async fn setup_with(name: &str, create_extension: &str) -> Ctx {
    let admin = Session::connect("postgres").await;
    let wh_db = format!("{name}_wh");
    let mart_db = format!("{name}_mart");
    for db in [&wh_db, &mart_db] {
        admin
            .exec(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await;
        admin.exec(&format!("CREATE DATABASE {db}")).await;
    }
    let wh = Session::connect(&wh_db).await;
    wh.exec(include_str!("../fixtures/warehouse.sql")).await;
    let mart = Session::connect(&mart_db).await;
    mart.exec(create_extension).await;
    let fixture = include_str!("../fixtures/mart.sql")
        .replace("{{WH_PORT}}", &port())
        .replace("{{WH_DB}}", &wh_db);
    mart.exec(&fixture).await;
    mart.take_notices();
    Ctx { wh, mart, mart_db }
}

/// Asserts an error's SQLSTATE and that its message contains every one of `parts`.
pub fn assert_error(e: &DbError, code: SqlState, parts: &[&str]) {
    assert_ne!(
        e.code(),
        &SqlState::INTERNAL_ERROR,
        "internal error (XX000): {}",
        e.message()
    );
    assert_eq!(
        e.code(),
        &code,
        "SQLSTATE of: {} (hint: {:?})",
        e.message(),
        e.hint()
    );
    for p in parts {
        assert!(
            e.message().contains(p),
            "error message {:?} lacks {p:?}",
            e.message()
        );
    }
}

/// The Unix socket directory of the test server (`.ci/pg.sh` puts it in the cluster's
/// directory; `DM_IT_SOCKET` overrides it for a cluster under another name).
pub fn socket_dir() -> String {
    std::env::var("DM_IT_SOCKET").unwrap_or_else(|_| "/tmp/pg_datamart-it".to_string())
}

/// Group role whose members must log in with a scram password, over TCP and over the socket
/// (the Makefile's `IT_HBA`): the tests' non-superuser roles.
pub const SCRAM_GROUP: &str = "dm_scram";

/// Creates (or resets) login role `name` with scram password `password`, a member of
/// [`SCRAM_GROUP`], with no other privilege. Roles are cluster-wide: tests use names of their
/// own so that parallel tests do not share one.
pub async fn scram_role(admin: &Session, name: &str, password: &str) {
    admin
        .exec(&format!(
            "DO $$ BEGIN CREATE ROLE {SCRAM_GROUP} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
             DO $$ BEGIN CREATE ROLE {name}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
             SET password_encryption = 'scram-sha-256';
             ALTER ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '{password}';
             GRANT {SCRAM_GROUP} TO {name};
             RESET password_encryption;"
        ))
        .await;
}

/// Logs in as `user` with `password` to `db`, over TCP (`socket` false) or the Unix socket.
pub async fn connect_as(
    db: &str,
    user: &str,
    password: &str,
    socket: bool,
) -> Result<Session, tokio_postgres::Error> {
    let host = if socket {
        socket_dir()
    } else {
        "127.0.0.1".to_string()
    };
    Session::connect_dsn(&format!(
        "host={host} port={} user={user} password={password} dbname={db}",
        port()
    ))
    .await
}

/// Creates (or resets) scram login role `name` with password `password` and no privilege in the
/// test's mart (what an earlier run of the test granted it there is dropped).
pub async fn mart_role(ctx: &Ctx, name: &str, password: &str) {
    let admin = Session::connect("postgres").await;
    scram_role(&admin, name, password).await;
    ctx.mart.exec(&format!("DROP OWNED BY {name}")).await;
}

/// Logs `name` in to the test's mart over TCP with its scram password.
pub async fn login(ctx: &Ctx, name: &str, password: &str) -> Session {
    connect_as(&ctx.mart_db, name, password, false)
        .await
        .unwrap_or_else(|e| panic!("{name} logs in: {e}"))
}

/// The configuration as stored (sections, their tables, column mappings), to check that a
/// refused write changed nothing.
pub async fn configuration(m: &Session) -> (i64, String) {
    m.checksum(
        "SELECT s.*, t.*, c.* FROM dm.section s LEFT JOIN dm.section_table t USING (section)
           FULL JOIN dm.column_map c ON c.mart_table = t.mart_table",
    )
    .await
}
