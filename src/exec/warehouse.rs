//! The warehouse connection: how rows leave the warehouse.
//!
//! - [`check_server`] and [`check_source`]: the section's foreign server exists and the current
//!   user has a user mapping for it, checked before any data is touched, with how to fix it.
//! - [`Warehouse`] is a libpq connection (through `pq-sys`, the library dblink and postgres_fdw
//!   link) built from the section's foreign server and the current user's user mapping exactly
//!   as dblink builds it (`get_connect_string`: libpq keywords only, `user` and secrets only in
//!   the mapping, no debug options, no client_encoding; USAGE on the server required; dblink's
//!   password rule for non-superusers). Connecting and the setup statements are non-blocking:
//!   every wait is `WaitLatchOrSocket` on the backend's latch and the socket, followed by
//!   `CHECK_FOR_INTERRUPTS`. [`Warehouse::start`] sends the first query at once;
//!   [`Warehouse::into_reader`] hands the connection to the reader thread
//!   ([`crate::exec::reader`]). Every message has the secrets masked: no password shows.
//! - The prefetch hand-over: [`prefetch`] opens the next table's connection and sends its first
//!   query while the current table loads; [`open_warehouse`] hands it to the step it was opened
//!   for, or connects anew.
//! - [`probe`]: the configuration's check that a role may read a remote table itself;
//!   [`remote_columns`]: a warehouse table's columns (through dblink), for discovery and for
//!   explaining a missing column.

use crate::error::{sqlstate_code, DmError, DmResult};
use crate::exec::reader::{Failure, Job, Reader};
use pg_datamart_plan::table::{StreamPlan, TablePlan};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use pq_sys as pq;
use std::ffi::{c_char, c_int, CStr, CString};

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
                hint: pg_datamart_plan::control::grant_server_hint(server),
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
    let mapping_sql = pg_datamart_plan::control::add_password_statement(&role, server);
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

    /// Whether a query was sent and has not finished ([`Warehouse::start`]).
    pub fn query_sent(&self) -> bool {
        self.in_query
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
            // No user mapping at all (check_source).
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
    check_source(server).map_err(explain)?;
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
pub fn remote_error(server: &str, secrets: &[String], f: Failure) -> DmError {
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

/// The foreign server the warehouse is reached through must exist.
pub fn check_server(server: &str) -> DmResult<()> {
    let exists = crate::catalog::exists(
        pg_datamart_plan::config::SERVER_EXISTS_SQL,
        &[server.into()],
        "the foreign server",
    )?;
    if exists {
        Ok(())
    } else {
        Err(DmError::undefined(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("foreign server \"{server}\" does not exist"),
            format!(
                "Create it with CREATE SERVER {server} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '...', port '5439', dbname '...') \
                 and CREATE USER MAPPING FOR CURRENT_USER SERVER {server} OPTIONS (user '...', password '...')."
            ),
        ))
    }
}

/// The server must exist and the current user must have a user mapping for it.
pub fn check_source(server: &str) -> DmResult<()> {
    check_server(server)?;
    let mapped = crate::catalog::exists(
        pg_datamart_plan::config::USER_MAPPING_EXISTS_SQL,
        &[server.into()],
        "the user mapping",
    )?;
    if !mapped {
        return Err(DmError::undefined(
            PgSqlErrorCode::ERRCODE_FDW_OPTION_NAME_NOT_FOUND,
            format!("no user mapping for the current user on foreign server \"{server}\""),
            format!("Create one with CREATE USER MAPPING FOR CURRENT_USER SERVER {server} OPTIONS (user '...', password '...')."),
        ));
    }
    Ok(())
}

/// The warehouse's columns of a table, in order.
pub fn remote_columns(
    server: &str,
    table: &pg_datamart_plan::snapshot::SectionTable,
) -> DmResult<Vec<String>> {
    let sql = pg_datamart_plan::control::remote_columns_sql(
        &crate::catalog::schemas()?,
        server,
        &table.remote_schema,
        &table.remote_table,
    )?;
    Ok(
        crate::catalog::read_json::<Vec<String>>(&sql, &[], "the warehouse's columns")?
            .unwrap_or_default(),
    )
}

/// A table's warehouse connection opened ahead of its step (prefetch): its first query is
/// already running on the warehouse.
struct Prefetched {
    run_id: i64,
    position: i32,
    remote_sqls: Vec<String>,
    stream: pg_datamart_plan::table::StreamPlan,
    wh: Warehouse,
}

thread_local! {
    static PREFETCHED: std::cell::RefCell<Option<Prefetched>> = const { std::cell::RefCell::new(None) };
}

/// Drops a prefetched connection (cancelling its query on the warehouse), if any.
pub fn drop_prefetched() {
    let p = PREFETCHED
        .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.take()))
        .ok()
        .flatten();
    drop(p);
}

/// Opens table `position` of run `run_id`'s connection now and sends its first query, so the
/// warehouse works on it while the current table loads (`pg_datamart.max_warehouse_queries`
/// 2). A prefetch the step does not use is dropped (and its query cancelled) by the next
/// step, a failure or the end of the run.
pub fn prefetch(run_id: i64, position: i32, plan: &TablePlan) -> DmResult<()> {
    drop_prefetched();
    let Some(first) = plan.remote_sqls.first() else {
        return Ok(());
    };
    let mut wh = Warehouse::connect(&plan.stream)?;
    wh.start(first)?;
    PREFETCHED.with(|p| {
        *p.borrow_mut() = Some(Prefetched {
            run_id,
            position,
            remote_sqls: plan.remote_sqls.clone(),
            stream: plan.stream.clone(),
            wh,
        })
    });
    Ok(())
}

/// Prefetches the next table; a failure there is the next step's to report (it connects
/// again), so it does not fail this one.
pub fn prefetch_next(next: Option<(i64, i32, &TablePlan)>) {
    if let Some((run_id, position, plan)) = next {
        if prefetch(run_id, position, plan).is_err() {
            drop_prefetched();
        }
    }
}

/// The step's warehouse connection with its first query sent: the prefetched one when it was
/// opened for this very plan, else a new one.
pub fn open_warehouse(
    plan: &TablePlan,
    step: Option<(i64, i32)>,
    on_remote_pid: impl FnOnce(i32) -> DmResult<()>,
) -> DmResult<Warehouse> {
    let ready = PREFETCHED.with(|p| p.borrow_mut().take());
    let wh = match ready {
        Some(p)
            if Some((p.run_id, p.position)) == step
                && p.remote_sqls == plan.remote_sqls
                && p.stream == plan.stream =>
        {
            p.wh
        }
        other => {
            drop(other);
            let mut wh = Warehouse::connect(&plan.stream)?;
            if let Some(first) = plan.remote_sqls.first() {
                wh.start(first)?;
            }
            wh
        }
    };
    on_remote_pid(wh.backend_pid())?;
    Ok(wh)
}
