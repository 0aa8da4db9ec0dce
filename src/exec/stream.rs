//! Stream: rows go from the warehouse straight into PostgreSQL's `COPY FROM` machinery.
//!
//! - [`Warehouse`] is a libpq connection (through `pq-sys`, the library dblink and postgres_fdw
//!   link) built from the section's foreign server and the current user's user mapping exactly
//!   as dblink builds it (`get_connect_string`: libpq keywords only, `user` and secrets only in
//!   the mapping, no debug options, no client_encoding; USAGE on the server required; dblink's
//!   password rule for non-superusers). Connecting and the setup statements are non-blocking:
//!   every wait is `WaitLatchOrSocket` on the backend's latch and the socket, followed by
//!   `CHECK_FOR_INTERRUPTS`. [`Warehouse::start`] sends the first query at once.
//! - [`copy_into`] hands the connection to the reader thread ([`crate::exec::reader`]), opens
//!   the target table as `COPY ... FROM` would (INSERT privilege on the columns, row-level
//!   security refused), and runs `BeginCopyFrom` / `CopyFrom` / `EndCopyFrom` with a
//!   data-source callback that passes the thread's chunks of COPY text on (upsert: only the
//!   staged rows, compared by [`crate::exec::upsert::Matcher`]). The callback waits for chunks
//!   with `WaitLatchOrSocket` on the thread's wake-up socket and `CHECK_FOR_INTERRUPTS`.
//!   Memory: the channel's chunks (at most ~2 MB) plus ~192 kB of recent COPY text, kept to
//!   name the row and column of a value COPY refuses.
//! - Closing: the feed lives in a thread-local slot for the callback; a guard owned by the Rust
//!   frame that calls `CopyFrom` empties the slot when it is dropped, which stops the thread
//!   (it cancels a running warehouse query with `PQcancel` and closes the connection). A
//!   PostgreSQL ERROR raised anywhere below (in the callback, in `CopyFrom`, by an interrupt) is
//!   turned by pgrx's FFI boundary into a Rust panic that unwinds through that frame, so the
//!   guard runs on every error path. A FATAL (pg_terminate_backend) exits without unwinding:
//!   an `on_proc_exit` callback stops the thread and cancels the query then.

use crate::error::{sqlstate_code, sqlstate_text, DmError, DmResult};
use crate::exec::reader::{escape_into, Chunk, Failure, Job, Msg, Reader};
use crate::exec::upsert::{Decision, Matcher};
use pg_datamart_plan::table::StreamPlan;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use pq_sys as pq;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// A libpq connection to the warehouse. Dropping it cancels a running query and closes it.
pub struct Warehouse {
    conn: *mut pq::PGconn,
    in_query: bool,
    /// Strings that must never appear in a message (the password).
    secrets: Vec<String>,
    server: String,
}

/// Asks the warehouse to cancel the running query of `conn` (the reader's cancel: at most a
/// second, in a helper thread that is abandoned after that).
///
/// # Safety
/// `conn` is a live, non-null connection.
unsafe fn cancel_query(conn: *mut pq::PGconn) {
    // SAFETY: the caller passes its live, non-null connection; PQgetCancel only copies its
    // cancel key and address (null on failure, which cancel_owned ignores); the PGcancel is
    // handed over and freed by cancel_owned, once.
    crate::exec::reader::cancel_owned(unsafe { pq::PQgetCancel(conn) });
}

impl Drop for Warehouse {
    fn drop(&mut self) {
        // No PostgreSQL API here: this runs while an ERROR unwinds.
        // SAFETY: self.conn is null (handed to the reader) or the live PGconn this Warehouse owns
        // (made in open, nulled only in into_reader and here); it is finished once and nulled.
        // Only libpq is called, so this holds while an ERROR unwinds.
        unsafe {
            if self.conn.is_null() {
                return;
            }
            if self.in_query {
                cancel_query(self.conn);
            }
            pq::PQfinish(self.conn);
            self.conn = std::ptr::null_mut();
        }
    }
}

fn cstr_lossy(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: p is non-null (checked above); callers pass a NUL-terminated string from libpq or
        // PostgreSQL that stays valid for this call, and it is copied at once.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// libpq keyword/value pairs, and the secret values among them (to mask in messages).
type Options = (Vec<(String, String)>, Vec<String>);

/// The libpq keyword/value pairs of a server for the current user, as dblink's
/// `get_connect_string` builds them.
fn connection_options(server: &str) -> DmResult<Options> {
    let name = CString::new(server).expect("server names have no NUL");
    let mut pairs = Vec::new();
    let mut secrets = Vec::new();
    // SAFETY: backend thread, in a transaction. GetForeignServerByName (missing_ok = false),
    // GetForeignDataWrapper and GetUserMapping raise an ERROR rather than return null, so srv,
    // fdw and um are valid, their option strings copied at once; defaults is checked for null
    // and freed once.
    unsafe {
        let srv = pg_sys::GetForeignServerByName(name.as_ptr(), false);
        // dblink's rule too: the server's USAGE privilege, whoever's mapping would be used.
        if pg_sys::pg_foreign_server_aclcheck(
            (*srv).serverid,
            pg_sys::GetUserId(),
            pg_sys::ACL_USAGE as pg_sys::AclMode,
        ) != pg_sys::AclResult::ACLCHECK_OK
        {
            return Err(DmError::Remote {
                code: PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                message: format!("permission denied for foreign server {server}"),
                detail: String::new(),
                hint: format!(
                    "GRANT USAGE ON FOREIGN SERVER {server} to the role that runs the sync."
                ),
            });
        }
        let fdw = pg_sys::GetForeignDataWrapper((*srv).fdwid);
        let um = pg_sys::GetUserMapping(pg_sys::GetUserId(), (*srv).serverid);
        let defaults = pq::PQconndefaults();
        if defaults.is_null() {
            return Err(DmError::Remote {
                code: PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY,
                message: "out of memory reading libpq's connection defaults".into(),
                detail: String::new(),
                hint: String::new(),
            });
        }
        // (options, is the user mapping)
        for (list, in_mapping, is_server) in [
            ((*fdw).options, false, false),
            ((*srv).options, false, true),
            ((*um).options, true, false),
        ] {
            let list = pgrx::PgList::<pg_sys::DefElem>::from_pg(list);
            for def in list.iter_ptr() {
                let key = cstr_lossy((*def).defname);
                let Some(secret) = valid_option(defaults, &key, in_mapping, is_server) else {
                    continue;
                };
                let val = cstr_lossy(pg_sys::defGetString(def));
                if secret && !val.is_empty() {
                    secrets.push(val.clone());
                }
                pairs.push((key, val));
            }
        }
        pq::PQconninfoFree(defaults);
    }
    Ok((pairs, secrets))
}

/// dblink's `is_valid_dblink_option`: Some(is secret) for a keyword it passes on.
unsafe fn valid_option(
    defaults: *mut pq::PQconninfoOption,
    key: &str,
    in_mapping: bool,
    in_server: bool,
) -> Option<bool> {
    let mut opt = defaults;
    // SAFETY: defaults is the non-null array PQconndefaults returned (the caller checked it and
    // frees it only after this returns); libpq ends it with an entry whose keyword is null, so opt
    // never steps past the array; its strings are copied at once.
    unsafe {
        while !(*opt).keyword.is_null() {
            if cstr_lossy((*opt).keyword) == key {
                let disp = cstr_lossy((*opt).dispchar);
                if disp.contains('D') || key == "client_encoding" {
                    return None;
                }
                let secret = disp.contains('*');
                if key == "user" || secret {
                    return in_mapping.then_some(secret);
                }
                return in_server.then_some(false);
            }
            opt = opt.add(1);
        }
    }
    None
}

/// dblink's "password is required" (2F003) for a role that is not a superuser: its
/// connection options give no password (`asked` false), or the warehouse did not ask for one
/// (`asked` true). Names the foreign server, the role and the warehouse user; never a secret.
fn password_required(server: &str, warehouse_user: Option<&str>, asked: bool) -> DmError {
    let role = crate::control::privileges::current_user();
    let wh_user = match warehouse_user {
        Some(u) => format!("warehouse user \"{u}\""),
        None => "the warehouse user (none given: libpq's default, the server's OS user)".into(),
    };
    let mapping_sql = format!(
        "ALTER USER MAPPING FOR {} SERVER {} OPTIONS (ADD password '...')",
        pg_datamart_plan::quote::ident(&role),
        pg_datamart_plan::quote::ident(server)
    );
    if asked {
        DmError::Remote {
            code: PgSqlErrorCode::ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
            message: format!(
                "password is required: the warehouse of foreign server \"{server}\" let role \"{role}\" in as {wh_user} without asking for the password of its user mapping"
            ),
            detail: "A role that is not a superuser may reach the warehouse only by a password its own user mapping gives and the warehouse checks (dblink's rule): otherwise it would act with the privileges of whatever the warehouse trusts this server as.".into(),
            hint: format!(
                "The warehouse must authenticate {wh_user} with a password (Redshift does; on PostgreSQL, scram-sha-256 or md5 in pg_hba.conf, not trust, peer or cert)."
            ),
        }
    } else {
        DmError::Remote {
            code: PgSqlErrorCode::ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED,
            message: format!(
                "password is required: the user mapping of role \"{role}\" for foreign server \"{server}\" gives no password"
            ),
            detail: "A role that is not a superuser must give the warehouse password in its own user mapping (option password, as dblink requires): a password from anywhere else (sslpassword, the server's passfile or ~/.pgpass, PGPASSWORD in the server's environment) is not its own.".into(),
            hint: format!(
                "Add the password of {wh_user}: {mapping_sql} (CREATE USER MAPPING FOR {} ... when the role uses the PUBLIC mapping); the warehouse must check it (password authentication, not trust).",
                pg_datamart_plan::quote::ident(&role)
            ),
        }
    }
}

impl Warehouse {
    fn mask(&self, text: &str) -> String {
        mask(&self.secrets, text)
    }

    fn conn_error(&self, what: &str) -> DmError {
        // SAFETY: self.conn is the live PGconn this Warehouse owns (libpq also accepts null); the
        // message is copied at once, before another libpq call can change it.
        let msg = self.mask(&cstr_lossy(unsafe { pq::PQerrorMessage(self.conn) }));
        DmError::Remote {
            code: if what == "connect" {
                PgSqlErrorCode::ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION
            } else {
                PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE
            },
            message: if what == "connect" {
                format!(
                    "could not connect to the warehouse through foreign server \"{}\": {msg}",
                    self.server
                )
            } else {
                format!(
                    "lost the warehouse connection of foreign server \"{}\" while {what}: {msg}",
                    self.server
                )
            },
            detail: String::new(),
            hint: String::new(),
        }
    }

    /// Connects, interruptibly; runs the plan's setup statements.
    pub fn connect(plan: &StreamPlan) -> DmResult<Warehouse> {
        Self::open(&plan.server, &plan.application_name, &plan.remote_setup)
    }

    /// Connects to `server` with the current user's user mapping, interruptibly, under
    /// dblink's password rule (`dblink_connstr_check` + `dblink_security_check`): a role that
    /// is not a superuser must give a non-empty `password` in its connection options (only
    /// the user mapping may hold one), and the warehouse must have asked for a password. So
    /// no password can come from anywhere else: `sslpassword` (a client key's passphrase),
    /// the server's passfile (`passfile` option, `PGPASSFILE`, `~/.pgpass`) or `PGPASSWORD`
    /// in the server's environment are used by libpq only when no `password` is given, and
    /// then the connection is refused before it is made. Runs `setup` once connected.
    fn open(server: &str, application_name: &str, setup: &[String]) -> DmResult<Warehouse> {
        let (options, secrets) = connection_options(server)?;
        // SAFETY: superuser() reads the current user's role in the syscache; we are in a
        // backend inside a transaction (every caller is a SQL-callable entry point).
        let superuser = unsafe { pg_sys::superuser() };
        let warehouse_user = options
            .iter()
            .find(|(k, _)| k == "user")
            .map(|(_, v)| v.clone());
        let gives_password = options
            .iter()
            .any(|(k, v)| k == "password" && !v.is_empty());
        if !superuser && !gives_password {
            return Err(password_required(server, warehouse_user.as_deref(), false));
        }
        // SAFETY: returns a pointer to the database encoding's static name.
        let encoding = cstr_lossy(unsafe { pg_sys::GetDatabaseEncodingName() });
        let mut all = vec![("application_name".to_string(), application_name.to_string())];
        all.extend(options);
        all.push(("client_encoding".into(), encoding));
        let keys: Vec<CString> = all
            .iter()
            .map(|(k, _)| CString::new(k.as_str()).unwrap_or_default())
            .collect();
        let vals: Vec<CString> = all
            .iter()
            .map(|(_, v)| CString::new(v.as_str()).unwrap_or_default())
            .collect();
        let mut kp: Vec<*const c_char> = keys.iter().map(|k| k.as_ptr()).collect();
        let mut vp: Vec<*const c_char> = vals.iter().map(|v| v.as_ptr()).collect();
        kp.push(std::ptr::null());
        vp.push(std::ptr::null());
        // SAFETY: kp and vp are null-terminated arrays of pointers into keys and vals, which
        // outlive the call (libpq copies what it keeps); expand_dbname = 0.
        let conn = unsafe { pq::PQconnectStartParams(kp.as_ptr(), vp.as_ptr(), 0) };
        if conn.is_null() {
            return Err(DmError::Remote {
                code: PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY,
                message: "out of memory connecting to the warehouse".into(),
                detail: String::new(),
                hint: String::new(),
            });
        }
        let mut wh = Warehouse {
            conn,
            in_query: false,
            secrets,
            server: server.to_string(),
        };
        // SAFETY: conn is non-null (checked above) and owned by wh, which finishes it when dropped.
        if unsafe { pq::PQstatus(conn) } == pq::ConnStatusType::CONNECTION_BAD {
            return Err(wh.conn_error("connect"));
        }
        let mut poll = pq::PostgresPollingStatusType::PGRES_POLLING_WRITING;
        loop {
            match poll {
                pq::PostgresPollingStatusType::PGRES_POLLING_OK => break,
                pq::PostgresPollingStatusType::PGRES_POLLING_FAILED => {
                    return Err(wh.conn_error("connect"))
                }
                pq::PostgresPollingStatusType::PGRES_POLLING_READING => {
                    wh.wait(pg_sys::WL_SOCKET_READABLE)
                }
                _ => wh.wait(pg_sys::WL_SOCKET_WRITEABLE),
            }
            // SAFETY: conn stays live, owned by wh, for the whole loop; only libpq uses it, on the
            // backend's thread.
            poll = unsafe { pq::PQconnectPoll(conn) };
        }
        // SAFETY: conn is a live connection owned by wh (closed when wh is dropped).
        if !superuser && unsafe { pq::PQconnectionUsedPassword(conn) } == 0 {
            return Err(password_required(server, warehouse_user.as_deref(), true));
        }
        if unsafe { pq::PQsetnonblocking(conn, 1) } != 0 {
            return Err(wh.conn_error("setting up"));
        }
        for sql in setup {
            wh.send(sql)?;
            while let Some(res) = wh.next_result(true)? {
                // SAFETY: res is a result libpq handed us that nothing else holds; cleared once.
                unsafe { pq::PQclear(res) };
            }
        }
        Ok(wh)
    }

    /// Sends the first query at once (single-row mode), so the warehouse works on it while the
    /// mart prepares (deletes the window, reads fingerprints, loads the previous table); its
    /// rows wait in the socket buffers until the reader thread takes over.
    pub fn start(&mut self, sql: &str) -> DmResult<()> {
        self.send(sql)
    }

    /// Hands the connection to a reader thread that runs `job` (see [`crate::exec::reader`]);
    /// returns it with what messages need: the server's name, the secrets to mask and the
    /// warehouse session's date/time settings.
    #[allow(clippy::type_complexity)]
    pub fn into_reader(
        mut self,
        job: Job,
    ) -> DmResult<(Reader, String, Vec<String>, Vec<(String, Option<String>)>)> {
        let settings = ["DateStyle", "IntervalStyle", "TimeZone"]
            .iter()
            .map(|name| {
                let c = CString::new(*name).unwrap_or_default();
                // SAFETY: self.conn is still the live connection this Warehouse owns (it is taken
                // below); c outlives the call, and the returned string, owned by the connection, is
                // copied at once.
                let p = unsafe { pq::PQparameterStatus(self.conn, c.as_ptr()) };
                (name.to_string(), (!p.is_null()).then(|| cstr_lossy(p)))
            })
            .collect();
        let conn = std::mem::replace(&mut self.conn, std::ptr::null_mut());
        // SAFETY: the connection is valid, idle, and no longer ours (self.conn is null now).
        let reader = unsafe { Reader::start(conn, job) }.map_err(|e| DmError::Remote {
            code: PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
            message: format!("could not start the warehouse reader thread: {e}"),
            detail: String::new(),
            hint: String::new(),
        });
        let reader = match reader {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: Reader::start failed before a thread took conn (on failure it spawns
                // nothing), so conn is still live and ours alone (self.conn is null): finished
                // exactly once.
                unsafe { pq::PQfinish(conn) };
                return Err(e);
            }
        };
        Ok((
            reader,
            std::mem::take(&mut self.server),
            std::mem::take(&mut self.secrets),
            settings,
        ))
    }

    pub fn backend_pid(&self) -> i32 {
        // SAFETY: self.conn is the live PGconn this Warehouse owns (into_reader consumes self, so
        // it is never null here); PQbackendPID only reads it.
        unsafe { pq::PQbackendPID(self.conn) }
    }

    /// Waits for `events` on the socket or the latch, then serves interrupts.
    fn wait(&self, events: u32) {
        // SAFETY: on the backend's thread (a Warehouse holds a raw pointer, so it is not Send):
        // MyLatch is this backend's latch; self.conn is the live PGconn it owns, and PQsocket only
        // reads its socket.
        unsafe {
            let sock = pq::PQsocket(self.conn);
            let rc = pg_sys::WaitLatchOrSocket(
                pg_sys::MyLatch,
                (pg_sys::WL_LATCH_SET | pg_sys::WL_EXIT_ON_PM_DEATH | pg_sys::WL_TIMEOUT | events)
                    as c_int,
                sock,
                1000,
                pg_sys::PG_WAIT_EXTENSION,
            );
            if rc & pg_sys::WL_LATCH_SET as c_int != 0 {
                pg_sys::ResetLatch(pg_sys::MyLatch);
            }
        }
        pg_sys::check_for_interrupts!();
    }

    /// Sends one statement (simple query protocol), single-row mode for its results.
    fn send(&mut self, sql: &str) -> DmResult<()> {
        let q = CString::new(sql).map_err(|_| DmError::Remote {
            code: PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            message: "a remote statement contains a NUL byte".into(),
            detail: String::new(),
            hint: String::new(),
        })?;
        // SAFETY: self.conn is the live, non-blocking PGconn this Warehouse owns; q outlives the
        // call (libpq copies the query into its output buffer).
        if unsafe { pq::PQsendQuery(self.conn, q.as_ptr()) } != 1 {
            return Err(self.conn_error("sending a query"));
        }
        self.in_query = true;
        // SAFETY: the same live connection, right after PQsendQuery succeeded (when libpq allows
        // single-row mode).
        unsafe { pq::PQsetSingleRowMode(self.conn) };
        loop {
            // SAFETY: self.conn is the live PGconn this Warehouse owns.
            match unsafe { pq::PQflush(self.conn) } {
                0 => return Ok(()),
                1 => {
                    self.wait(pg_sys::WL_SOCKET_READABLE | pg_sys::WL_SOCKET_WRITEABLE);
                    // SAFETY: self.conn is the live PGconn this Warehouse owns.
                    if unsafe { pq::PQconsumeInput(self.conn) } == 0 {
                        return Err(self.conn_error("sending a query"));
                    }
                }
                _ => return Err(self.conn_error("sending a query")),
            }
        }
    }

    /// The next result of the running statement: None when it is done. `block`: wait for it;
    /// otherwise `Err(None)`-like behaviour is expressed by [`Poll::Pending`] in `poll_result`.
    fn next_result(&mut self, block: bool) -> DmResult<Option<*mut pq::PGresult>> {
        loop {
            match self.poll_result()? {
                Poll::Ready(r) => return Ok(r),
                Poll::Pending if block => self.wait(pg_sys::WL_SOCKET_READABLE),
                Poll::Pending => unreachable!(),
            }
        }
    }

    /// Ready(Some(tuple or final result)), Ready(None) when the statement is done, or
    /// Pending when libpq needs more input. Errors are raised with the warehouse's SQLSTATE.
    fn poll_result(&mut self) -> DmResult<Poll> {
        // SAFETY: self.conn is the live PGconn this Warehouse owns, used only on the backend's
        // thread; res is checked for null, then either handed to the caller (who clears it) or
        // cleared here once, after failure() copied its fields.
        unsafe {
            if pq::PQisBusy(self.conn) != 0 {
                if pq::PQconsumeInput(self.conn) == 0 {
                    return Err(self.conn_error("reading rows"));
                }
                if pq::PQisBusy(self.conn) != 0 {
                    return Ok(Poll::Pending);
                }
            }
            let res = pq::PQgetResult(self.conn);
            if res.is_null() {
                self.in_query = false;
                return Ok(Poll::Ready(None));
            }
            match pq::PQresultStatus(res) {
                pq::ExecStatusType::PGRES_SINGLE_TUPLE
                | pq::ExecStatusType::PGRES_TUPLES_OK
                | pq::ExecStatusType::PGRES_COMMAND_OK => Ok(Poll::Ready(Some(res))),
                _ => {
                    let f = crate::exec::reader::failure(self.conn, res);
                    pq::PQclear(res);
                    Err(remote_error(&self.server, &self.secrets, f))
                }
            }
        }
    }
}

enum Poll {
    Ready(Option<*mut pq::PGresult>),
    Pending,
}

/// Runs `sql` (a planner-built `SELECT ... WHERE 1 = 0` of remote table `remote_table`) on
/// `server` as the current user, through its own user mapping and under the password rule of
/// [`Warehouse::open`], reading no row: the check that a role writing the configuration may
/// itself read what the configuration makes syncs read. A failure names the remote table, the
/// server and the role, with the warehouse's SQLSTATE (42501, 42P01, 42703, ...) or 08001 /
/// 2F003 for the connection.
pub fn probe(server: &str, sql: &str, remote_table: &str) -> DmResult<()> {
    let explain = |e: DmError| -> DmError {
        let (code, message, detail, hint) = match e {
            DmError::Remote {
                code,
                message,
                detail,
                hint,
            } => (code, message, detail, hint),
            // No user mapping at all (crate::exec::fetch::check_source).
            DmError::UndefinedObject {
                code,
                message,
                hint,
            } => (code, message, String::new(), hint),
            e => return e,
        };
        let role = crate::control::privileges::current_user();
        let what = format!(
            "role \"{role}\" cannot read warehouse table {remote_table} through its own user mapping for foreign server \"{server}\""
        );
        let hint = match code {
            // USAGE on the foreign server itself: its own hint says what to grant.
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE
                if message.starts_with("permission denied for foreign server") =>
            {
                hint
            }
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE => format!(
                "A sync reads the warehouse with the syncing role's credentials, so whoever points a section at a warehouse table must be able to read that table and the columns fetched from it with its own: grant the warehouse user of role \"{role}\"'s user mapping SELECT on them, or have a role that may read them write this configuration."
            ),
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE | PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN => {
                "Check the remote table's schema and name (remote_table of dm_add_table), and map mart columns the warehouse names differently (dm_map_column, dm_discover_columns).".to_string()
            }
            _ if hint.is_empty() => format!(
                "The check connects as role \"{role}\" with its own user mapping for foreign server \"{server}\" (CREATE USER MAPPING FOR CURRENT_USER SERVER ... OPTIONS (user '...', password '...'))."
            ),
            _ => hint,
        };
        DmError::Remote {
            code,
            message: format!("{what}: {message}"),
            detail,
            hint,
        }
    };
    crate::exec::fetch::check_source(server).map_err(explain)?;
    let mut wh = Warehouse::open(server, "pg_datamart check", &[]).map_err(explain)?;
    wh.send(sql).map_err(explain)?;
    while let Some(res) = wh.next_result(true).map_err(explain)? {
        // SAFETY: res is a result libpq handed us and nothing else holds; cleared once.
        unsafe { pq::PQclear(res) };
    }
    Ok(())
}

/// `text` with every secret replaced by `********`.
fn mask(secrets: &[String], text: &str) -> String {
    pg_datamart_plan::error::mask_secrets(secrets, text)
}

/// The error for a failed warehouse query or a lost connection (passwords masked).
fn remote_error(server: &str, secrets: &[String], f: Failure) -> DmError {
    if f.lost || f.severity == "FATAL" || f.severity == "PANIC" {
        // The warehouse ended the session (pg_terminate_backend, a shutdown) or the
        // connection broke: a lost connection here, not a 57P01 that would say this
        // session ends.
        return DmError::Remote {
            code: PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE,
            message: format!(
                "lost the warehouse connection of foreign server \"{}\" while reading rows: {}",
                server,
                mask(secrets, &f.message)
            ),
            detail: if f.sqlstate.is_empty() {
                String::new()
            } else {
                format!(
                    "The warehouse ended the session with SQLSTATE {}.",
                    f.sqlstate
                )
            },
            hint: mask(secrets, &f.hint),
        };
    }
    DmError::Remote {
        code: sqlstate_code(&f.sqlstate).unwrap_or(PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE),
        message: format!(
            "the warehouse query on foreign server \"{}\" failed: {}",
            server,
            mask(secrets, &f.message)
        ),
        detail: mask(secrets, &f.detail),
        hint: mask(secrets, &f.hint),
    }
}

/// What the COPY callback reads from: the reader's chunks and the COPY text not yet handed
/// over (`buf` from `pos`). The text handed over lately stays in `hist`, for naming the row of
/// a value COPY refuses.
struct Feed {
    reader: Reader,
    server: String,
    secrets: Vec<String>,
    remote_settings: Vec<(String, Option<String>)>,
    buf: Vec<u8>,
    pos: usize,
    fetched: i64,
    done: bool,
    /// Positions of the columns that identify a row in messages, and every column's name.
    row_key: Vec<usize>,
    names: Vec<String>,
    /// Upsert: compares each row with the mart's and decides whether it is staged.
    matcher: Option<Matcher>,
    /// Upsert: some column's text must go through the mart type (the backend hashes then).
    convert: bool,
    /// Set while the matcher converts `cur_line` (an error there is about that row).
    in_matcher: bool,
    cur_line: Vec<u8>,
    hist: std::collections::VecDeque<Vec<u8>>,
    hist_bytes: usize,
}

impl Feed {
    /// The error for a reader's failure.
    fn remote_error(&self, f: Failure) -> DmError {
        remote_error(&self.server, &self.secrets, f)
    }

    /// The next message from the reader, waiting for it interruptibly.
    fn next_msg(&mut self) -> DmResult<Msg> {
        loop {
            match self.reader.try_next() {
                Ok(Some(m)) => return Ok(m),
                // SAFETY: on the backend's thread (inside the COPY callback): MyLatch is this
                // backend's latch, and wake_fd is the reader's socket, open while self.reader
                // lives. An ERROR from check_for_interrupts becomes a Rust panic that unwinds
                // through this frame (see the module's doc).
                Ok(None) => unsafe {
                    let rc = pg_sys::WaitLatchOrSocket(
                        pg_sys::MyLatch,
                        (pg_sys::WL_LATCH_SET
                            | pg_sys::WL_EXIT_ON_PM_DEATH
                            | pg_sys::WL_TIMEOUT
                            | pg_sys::WL_SOCKET_READABLE) as c_int,
                        self.reader.wake_fd(),
                        1000,
                        pg_sys::PG_WAIT_EXTENSION,
                    );
                    if rc & pg_sys::WL_LATCH_SET as c_int != 0 {
                        pg_sys::ResetLatch(pg_sys::MyLatch);
                    }
                    self.reader.drain_wake();
                    pg_sys::check_for_interrupts!();
                },
                Err(_) => {
                    return Err(self.remote_error(Failure {
                        sqlstate: String::new(),
                        message: "the warehouse reader stopped".into(),
                        detail: String::new(),
                        hint: String::new(),
                        severity: String::new(),
                        lost: true,
                    }))
                }
            }
        }
    }

    /// Upsert: the staged lines (with their target) of one chunk.
    fn stage(&mut self, chunk: Chunk) -> DmResult<Vec<u8>> {
        let mut out = Vec::with_capacity(chunk.data.len() / 4);
        let Some(mut m) = self.matcher.take() else {
            return Ok(out);
        };
        let mut r = Ok(());
        for row in &chunk.rows {
            let line = &chunk.data[row.start as usize..row.end as usize];
            let (row_key, names) = (&self.row_key, &self.names);
            let key_text = |with_names: bool| line_key(line, row_key, names, with_names);
            let decision = if self.convert {
                self.cur_line.clear();
                self.cur_line.extend_from_slice(line);
                self.in_matcher = true;
                let fields = parse_copy_line(line);
                let d = m.decide(&|i| fields.get(i).and_then(|f| f.as_deref()), &key_text);
                self.in_matcher = false;
                d
            } else {
                m.lookup(row.key, row.row, &key_text)
            };
            match decision {
                Ok(Decision::Skip) => continue,
                Ok(Decision::New) => {
                    out.extend_from_slice(line);
                    out.extend_from_slice(b"\t\\N\t\\N\n");
                }
                Ok(Decision::Changed {
                    toid,
                    block,
                    offset,
                }) => {
                    out.extend_from_slice(line);
                    out.extend_from_slice(format!("\t{toid}\t({block},{offset})\n").as_bytes());
                }
                Err(e) => {
                    r = Err(e);
                    break;
                }
            }
        }
        self.matcher = Some(m);
        r.map(|_| out)
    }

    /// Fills `out` with up to `max` bytes; 0 only at the end of the data.
    fn read(&mut self, out: *mut u8, max: usize) -> DmResult<usize> {
        while self.pos == self.buf.len() && !self.done {
            // Keep what COPY has taken as history (bounded), then take the next chunk.
            let taken = std::mem::take(&mut self.buf);
            self.pos = 0;
            if !taken.is_empty() {
                self.hist_bytes += taken.len();
                self.hist.push_back(taken);
                while self.hist.len() > 1 && self.hist_bytes - self.hist[0].len() >= HISTORY_BYTES {
                    let old = self.hist.pop_front().unwrap_or_default();
                    self.hist_bytes -= old.len();
                }
            }
            match self.next_msg()? {
                Msg::Types(types) => {
                    if let Some(m) = self.matcher.as_mut() {
                        let settings = self.remote_settings.clone();
                        m.prepare(&types, &|name| {
                            settings
                                .iter()
                                .find(|(n, _)| n == name)
                                .and_then(|(_, v)| v.clone())
                        });
                        self.convert = m.converts();
                    }
                }
                Msg::Chunk(chunk) => {
                    self.buf = if self.matcher.is_some() {
                        self.stage(chunk)?
                    } else {
                        chunk.data
                    };
                }
                Msg::Failed(f) => return Err(self.remote_error(f)),
                Msg::End(n) => {
                    self.fetched = n;
                    self.done = true;
                }
            }
        }
        let n = (self.buf.len() - self.pos).min(max);
        // SAFETY: n <= buf.len() - pos, so the source range lies inside buf; out is COPY's buffer
        // of at least max >= n bytes (data_source passes maxread), which cannot overlap buf, a Rust
        // Vec.
        unsafe { std::ptr::copy_nonoverlapping(self.buf.as_ptr().add(self.pos), out, n) };
        self.pos += n;
        Ok(n)
    }

    /// The rows handed to COPY lately, oldest first, as fields (None: NULL).
    fn recent_rows(&self) -> Vec<Vec<Option<Vec<u8>>>> {
        let mut text: Vec<u8> = Vec::with_capacity(self.hist_bytes + self.pos);
        for h in &self.hist {
            text.extend_from_slice(h);
        }
        text.extend_from_slice(&self.buf[..self.pos]);
        text.split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(parse_copy_line)
            .collect()
    }
}

/// COPY text kept for naming a refused row: COPY holds at most 64 kB of unparsed input.
const HISTORY_BYTES: usize = 192 * 1024;

/// The fields of one COPY text line (without its newline).
fn parse_copy_line(line: &[u8]) -> Vec<Option<Vec<u8>>> {
    line.split(|&c| c == b'\t')
        .map(|f| {
            if f == b"\\N" {
                return None;
            }
            let mut v = Vec::with_capacity(f.len());
            let mut it = f.iter();
            while let Some(&c) = it.next() {
                if c != b'\\' {
                    v.push(c);
                    continue;
                }
                match it.next() {
                    Some(b't') => v.push(b'\t'),
                    Some(b'n') => v.push(b'\n'),
                    Some(b'r') => v.push(b'\r'),
                    Some(&o) => v.push(o),
                    None => {}
                }
            }
            Some(v)
        })
        .collect()
}

/// `(col, ...) = (value, ...)` (or only `(value, ...)`) of a COPY line's identifying columns.
fn line_key(line: &[u8], row_key: &[usize], names: &[String], with_names: bool) -> String {
    let fields = parse_copy_line(line);
    if with_names {
        return fields_key_text(&fields, row_key, names);
    }
    let vals: Vec<String> = row_key
        .iter()
        .map(|&i| match fields.get(i) {
            Some(Some(v)) => String::from_utf8_lossy(v).into_owned(),
            _ => "NULL".into(),
        })
        .collect();
    format!("({})", vals.join(", "))
}

/// `(col, ...) = (value, ...)` of a row's identifying columns.
fn fields_key_text(row: &[Option<Vec<u8>>], row_key: &[usize], names: &[String]) -> String {
    if row_key.is_empty() {
        return String::new();
    }
    let cols: Vec<&str> = row_key
        .iter()
        .filter_map(|&i| names.get(i).map(|n| n.as_str()))
        .collect();
    let vals: Vec<String> = row_key
        .iter()
        .map(|&i| match row.get(i) {
            Some(Some(v)) => String::from_utf8_lossy(v).into_owned(),
            _ => "NULL".into(),
        })
        .collect();
    format!("({}) = ({})", cols.join(", "), vals.join(", "))
}

thread_local! {
    static FEED: RefCell<Option<Feed>> = const { RefCell::new(None) };
}

static mut EXIT_HOOKED: bool = false;

#[pg_guard]
unsafe extern "C-unwind" fn close_on_exit(_code: c_int, _arg: pg_sys::Datum) {
    // Cancels a warehouse query left running by a FATAL exit (pg_terminate_backend). The
    // FATAL may come from CHECK_FOR_INTERRUPTS inside the COPY callback, whose frame holds the
    // slot's borrow and will never resume: read the slot through its raw pointer, stop the
    // reader and cancel the query, and let the process exit close the socket.
    crate::exec::load::drop_prefetched();
    // SAFETY: on the backend's thread at process exit, where nothing else runs: the frame holding
    // the slot's borrow (if any) never resumes, so reading the slot through its raw pointer races
    // with nothing. Only the atomic stop flag and the shared PGcancel (alive as long as the Feed)
    // are touched.
    let _ = FEED.try_with(|f| unsafe {
        if let Some(feed) = (*f.as_ptr()).as_ref() {
            feed.reader
                .shared
                .stop
                .store(true, std::sync::atomic::Ordering::SeqCst);
            feed.reader.shared.cancel_at_exit();
        }
    });
}

/// Empties the callback's slot (cancelling and closing the connection) when dropped.
struct SlotGuard;

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let _ = FEED.try_with(|f| f.try_borrow_mut().map(|mut f| f.take()));
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn data_source(
    outbuf: *mut c_void,
    _minread: c_int,
    maxread: c_int,
) -> c_int {
    let r = FEED.with(|f| {
        let mut f = f.borrow_mut();
        let feed = f
            .as_mut()
            .expect("pg_datamart: COPY callback without a feed");
        feed.read(outbuf as *mut u8, maxread.max(0) as usize)
    });
    match r {
        Ok(n) => n as c_int,
        Err(e) => {
            pgrx::pg_sys::panic::ErrorReport::from(e).report(PgLogLevel::ERROR);
            unreachable!("ERROR does not return")
        }
    }
}

/// Counts of one streamed load.
pub struct Streamed {
    pub fetched: i64,
    /// Rows COPY wrote (to the mart table, or to the stage in upsert).
    pub inserted: i64,
    /// Upsert: the comparison's state after the stream (unmatched rows, duplicates).
    pub matcher: Option<crate::exec::upsert::Matcher>,
}

/// One streamed COPY: into table `target_oid`, the remote columns go to `columns` (mart
/// names), then `extra` columns get either `stamp` (the load's timestamp, delete_insert) or
/// the target row of each staged row (upsert, when `matcher` is given). `mart_name` and
/// `row_key` name the table and the row in errors about a value.
pub struct CopySpec<'a> {
    pub target_oid: u32,
    pub mart_oid: u32,
    pub mart_name: &'a str,
    pub columns: &'a [String],
    pub extra: &'a [String],
    pub stamp: &'a str,
    pub queries: &'a [String],
    pub row_key: &'a [usize],
}

/// The live column `name` of a table's tuple descriptor.
fn live_column<'a>(
    tupdesc: &'a pgrx::PgTupleDesc<'a>,
    name: &str,
) -> DmResult<&'a pg_sys::FormData_pg_attribute> {
    tupdesc
        .iter()
        .find(|a| !a.is_dropped() && a.name() == name)
        .ok_or_else(|| DmError::Remote {
            code: PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
            message: format!("column \"{name}\" of the mart table no longer exists"),
            detail: String::new(),
            hint: String::new(),
        })
}

/// The mart table's type oid and typmod of each of `columns`.
pub fn column_types(mart_oid: u32, columns: &[String]) -> DmResult<Vec<(pg_sys::Oid, i32)>> {
    // SAFETY: on the backend's thread in a transaction: table_open raises an ERROR (a Rust panic
    // through pgrx) for a missing relation, so rel is valid; its tuple descriptor is read while the
    // relation is open, and tupdesc is dropped before table_close.
    unsafe {
        let rel = pg_sys::table_open(
            pg_sys::Oid::from(mart_oid),
            pg_sys::AccessShareLock as pg_sys::LOCKMODE,
        );
        let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*rel).rd_att);
        let mut out = Vec::with_capacity(columns.len());
        for name in columns {
            let att = live_column(&tupdesc, name)?;
            out.push((att.atttypid, att.atttypmod));
        }
        drop(tupdesc);
        pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        Ok(out)
    }
}

/// Which column of `row` fails its mart type's input function (the first, as COPY converts
/// them in order), if any. Runs only after COPY raised a data error.
fn failing_column(row: &[Option<Vec<u8>>], types: &[(pg_sys::Oid, i32)]) -> Option<usize> {
    for (i, &(oid, typmod)) in types.iter().enumerate() {
        let Some(Some(v)) = row.get(i) else {
            continue;
        };
        let Ok(text) = CString::new(v.as_slice()) else {
            return Some(i);
        };
        // SAFETY: on the backend's thread in a transaction; getTypeInputInfo raises an ERROR for a
        // missing type; text is a NUL-terminated string that outlives the call, which only reads
        // it. An ERROR becomes a Rust panic that PgTryBuilder catches (pgrx has flushed the error
        // state by then).
        let ok = PgTryBuilder::new(|| unsafe {
            let mut input = pg_sys::InvalidOid;
            let mut ioparam = pg_sys::InvalidOid;
            pg_sys::getTypeInputInfo(oid, &mut input, &mut ioparam);
            pg_sys::OidInputFunctionCall(input, text.as_ptr() as *mut _, ioparam, typmod);
            true
        })
        .catch_others(|_| false)
        .execute();
        if !ok {
            return Some(i);
        }
    }
    None
}

/// Streams the rows of `spec.queries` from `wh` into `spec.target_oid` through COPY FROM.
/// The connection is closed when this returns or unwinds. A value COPY cannot store is
/// reported naming the mart table, the column and the row's key.
pub fn copy_into(wh: Warehouse, spec: &CopySpec, matcher: Option<Matcher>) -> DmResult<Streamed> {
    // SAFETY: EXIT_HOOKED is only touched here, on the backend's thread (never from another
    // thread); on_proc_exit registers close_on_exit once for the life of the process.
    unsafe {
        if !EXIT_HOOKED {
            pg_sys::on_proc_exit(Some(close_on_exit), pg_sys::Datum::from(0usize));
            EXIT_HOOKED = true;
        }
    }
    let mut tail = Vec::new();
    if matcher.is_none() {
        for _ in spec.extra {
            tail.push(b'\t');
            escape_into(&mut tail, spec.stamp.as_bytes());
        }
        tail.push(b'\n');
    }
    let hash = matcher
        .as_ref()
        .map(|m| (m.key_positions().to_vec(), m.compared_positions().to_vec()));
    let guard = SlotGuard;
    let first_sent = wh.in_query;
    let (reader, server, secrets, remote_settings) = wh.into_reader(Job {
        first_sent,
        queries: spec.queries.to_vec(),
        ncols: spec.columns.len(),
        tail,
        hash,
    })?;
    FEED.with(|f| {
        *f.borrow_mut() = Some(Feed {
            reader,
            server,
            secrets,
            remote_settings,
            buf: Vec::new(),
            pos: 0,
            fetched: 0,
            done: false,
            row_key: spec.row_key.to_vec(),
            names: spec.columns.to_vec(),
            matcher,
            convert: false,
            in_matcher: false,
            cur_line: Vec::new(),
            hist: Default::default(),
            hist_bytes: 0,
        })
    });
    let names: Vec<&String> = spec.columns.iter().chain(spec.extra.iter()).collect();
    let target_oid = spec.target_oid;
    // SAFETY: on the backend's thread in a transaction, with the feed in its slot for data_source
    // (filled above, emptied by guard); an ERROR below becomes a Rust panic caught here.
    let result = PgTryBuilder::new(|| unsafe { copy_from(target_oid, &names) })
        .catch_others(|e| match e {
            pg_sys::panic::CaughtError::PostgresError(report) if about_a_row(&report) => {
                Err(value_error(spec, report))
            }
            other => other.rethrow(),
        })
        .execute();
    let (fetched, matcher) = FEED.with(|f| {
        let mut f = f.borrow_mut();
        match f.as_mut() {
            Some(feed) => (feed.fetched, feed.matcher.take()),
            None => (0, None),
        }
    });
    drop(guard);
    let inserted = result?;
    Ok(Streamed {
        fetched,
        inserted,
        matcher,
    })
}

/// Whether an error is about a value or a row (data exception, NOT NULL or CHECK violation).
fn about_a_row(report: &pg_sys::panic::ErrorReportWithLevel) -> bool {
    let state = sqlstate_text(report.sql_error_code());
    state.starts_with("22") || state == "23502" || state == "23514"
}

/// Turns an error COPY raised about the current row into one naming the mart table, the
/// column and the row's key; other errors pass unchanged.
fn value_error(spec: &CopySpec, report: pg_sys::panic::ErrorReportWithLevel) -> DmError {
    let code = report.sql_error_code();
    let state = sqlstate_text(code);
    let plain = || DmError::Remote {
        code,
        message: report.message().to_string(),
        detail: report.detail().unwrap_or_default().to_string(),
        hint: report.hint().unwrap_or_default().to_string(),
    };
    if state == "23502" || state == "23514" {
        return DmError::Conflict {
            code,
            message: format!("mart table {}: {}", spec.mart_name, report.message()),
            detail: report.detail().unwrap_or_default().to_string(),
            hint: "Fix the rows in the warehouse, or the mart table's constraint; nothing of this table was changed.".into(),
        };
    }
    if !state.starts_with("22") {
        return plain();
    }
    // The row: the one the matcher was converting, else the first of the rows handed to COPY
    // lately that fails its conversion again.
    let rows = FEED.with(|f| match f.borrow().as_ref() {
        Some(feed) if feed.in_matcher => vec![parse_copy_line(&feed.cur_line)],
        Some(feed) => feed.recent_rows(),
        None => Vec::new(),
    });
    let Ok(types) = column_types(spec.mart_oid, spec.columns) else {
        return plain();
    };
    let Some((row, col)) = rows
        .iter()
        .find_map(|r| failing_column(r, &types).map(|c| (r, c)))
    else {
        return plain();
    };
    let column = format!(", column {}", spec.columns[col]);
    let key = fields_key_text(row, spec.row_key, spec.columns);
    DmError::Conflict {
        code,
        message: format!(
            "mart table {}{column}, row {key}: {}",
            spec.mart_name,
            report.message()
        ),
        detail: report.detail().unwrap_or_default().to_string(),
        hint: "Fix the value in the warehouse, or change the mart column's type to one that holds it; nothing of this table was changed.".into(),
    }
}

/// `BeginCopyFrom` / `CopyFrom` / `EndCopyFrom` into `oid`, with the permission checks COPY
/// makes (INSERT on the columns, row-level security refused).
unsafe fn copy_from(oid: u32, names: &[&String]) -> DmResult<i64> {
    // SAFETY: backend thread, in a transaction (through copy_into). table_open raises an ERROR
    // for a missing relation, so rel is valid; pstate, nsitem and rte are palloc'd and live until
    // free_parsestate; strings handed over are pstrdup'd (encoding is the database's static
    // name); data_source finds the feed copy_into put in its slot.
    unsafe {
        let oid = pg_sys::Oid::from(oid);
        let lock = pg_sys::RowExclusiveLock as pg_sys::LOCKMODE;
        let rel = pg_sys::table_open(oid, lock);
        let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
        (*pstate).p_sourcetext = c"pg_datamart streaming load".as_ptr();
        let nsitem = pg_sys::addRangeTableEntryForRelation(
            pstate,
            rel,
            lock as c_int,
            std::ptr::null_mut(),
            false,
            false,
        );
        let rte = (*nsitem).p_rte;
        (*rte).requiredPerms = pg_sys::ACL_INSERT as pg_sys::AclMode;
        // Column numbers of the COPY list, for the column privileges COPY checks.
        let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*rel).rd_att);
        let mut attnames: *mut pg_sys::List = std::ptr::null_mut();
        for name in names {
            let att = live_column(&tupdesc, name)?;
            (*rte).insertedCols = pg_sys::bms_add_member(
                (*rte).insertedCols,
                att.attnum as c_int - pg_sys::FirstLowInvalidHeapAttributeNumber,
            );
            let cname = CString::new(name.as_str()).unwrap_or_default();
            attnames = pg_sys::lappend(
                attnames,
                pg_sys::makeString(pg_sys::pstrdup(cname.as_ptr())) as *mut c_void,
            );
        }
        drop(tupdesc);
        pg_sys::ExecCheckRTPerms((*pstate).p_rtable, true);
        if pg_sys::check_enable_rls(oid, pg_sys::InvalidOid, false)
            == pg_sys::CheckEnableRlsResult::RLS_ENABLED as c_int
        {
            return Err(DmError::Remote {
                code: PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                message: "row-level security is enabled on the mart table; pg_datamart loads through COPY FROM, which does not support it".into(),
                detail: String::new(),
                hint: "Disable row-level security on the mart table, or load as a role that bypasses it.".into(),
            });
        }
        let encoding = pg_sys::GetDatabaseEncodingName();
        let options = pg_sys::lappend(
            std::ptr::null_mut(),
            pg_sys::makeDefElem(
                pg_sys::pstrdup(c"encoding".as_ptr()),
                pg_sys::makeString(pg_sys::pstrdup(encoding)) as *mut pg_sys::Node,
                -1,
            ) as *mut c_void,
        );
        let cstate = pg_sys::BeginCopyFrom(
            pstate,
            rel,
            std::ptr::null_mut(),
            std::ptr::null(),
            false,
            Some(data_source),
            attnames,
            options,
        );
        let n = pg_sys::CopyFrom(cstate);
        pg_sys::EndCopyFrom(cstate);
        pg_sys::free_parsestate(pstate);
        pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        Ok(n as i64)
    }
}
