//! Reader: the thread that reads the warehouse's rows while the backend writes them.
//!
//! It owns the libpq connection for the stream (the backend connected it, interruptibly, and
//! hands it over), sends the queries, reads rows in single-row mode and turns them into COPY
//! text in chunks of at most [`CHUNK_BYTES`], which it passes over a channel of
//! [`CHANNEL_CHUNKS`] slots; so the rows in flight never exceed a few MB, whatever the
//! window. In upsert it also hashes each row's key and compared columns (the fingerprints the
//! backend compares with the mart's). After each chunk it writes a byte to a socket pair the
//! backend waits on with `WaitLatchOrSocket`, so the backend stays interruptible.
//!
//! It calls no PostgreSQL function (only libpq and `hash_bytes_extended`, a pure function)
//! and blocks every signal. It stops when asked (a flag it checks at least every
//! [`POLL_MS`]), when the backend drops its end of the channel, or at the end of the data;
//! when it stops with a query running it cancels it on the warehouse (`PQcancel`, given up
//! after a second), and it always closes the connection.

use crate::exec::upsert::fingerprint;
use pq_sys as pq;
use std::ffi::{c_char, c_int, CStr, CString};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// COPY text per chunk.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks the channel holds (the reader waits when it is full).
pub const CHANNEL_CHUNKS: usize = 8;
/// Longest wait on the socket before looking at the stop flag again.
const POLL_MS: c_int = 100;

/// One fetched row of a chunk (upsert): its COPY text is `data[start..end]` (no newline).
pub struct RowMeta {
    pub start: u32,
    pub end: u32,
    pub key: u128,
    pub row: u64,
}

/// COPY text of consecutive rows. delete_insert: complete lines (with the stamps); upsert:
/// lines without their newline, described by `rows`.
pub struct Chunk {
    pub data: Vec<u8>,
    pub rows: Vec<RowMeta>,
    /// The query (index in [`Job::queries`]) the rows come from; in upsert a chunk never
    /// holds rows of two queries.
    pub query: usize,
}

impl Chunk {
    fn new(query: usize) -> Chunk {
        Chunk {
            data: Vec::with_capacity(CHUNK_BYTES + 4096),
            rows: Vec::new(),
            query,
        }
    }
}

/// A failed query or a lost connection, as libpq reported it.
pub struct Failure {
    pub sqlstate: String,
    pub message: String,
    pub detail: String,
    pub hint: String,
    pub severity: String,
    /// The connection broke (no result from the server).
    pub lost: bool,
}

pub enum Msg {
    /// The warehouse's column types (oid, typmod), before the first row.
    Types(Vec<(u32, i32)>),
    Chunk(Chunk),
    Failed(Failure),
    /// All queries done: the rows fetched.
    End(i64),
}

/// What the reader reads and how it writes it.
pub struct Job {
    pub queries: Vec<String>,
    /// The first query was already sent (single-row mode) by the backend.
    pub first_sent: bool,
    pub ncols: usize,
    /// Appended to each row's line in delete_insert (`\t<stamp>`... then `\n`).
    pub tail: Vec<u8>,
    /// Upsert: the key's and the compared columns' positions to hash.
    pub hash: Option<(Vec<usize>, Vec<usize>)>,
}

struct Ptr<T>(*mut T);
unsafe impl<T> Send for Ptr<T> {}
unsafe impl<T> Sync for Ptr<T> {}

/// What the backend and the reader share.
pub struct Shared {
    pub stop: AtomicBool,
    /// A query is running on the warehouse.
    pub running: AtomicBool,
    cancel: Ptr<pq::PGcancel>,
}

impl Shared {
    /// At process exit (a FATAL while streaming): cancels the running query with the
    /// PGcancel made at the start. Thread-safe.
    pub fn cancel_at_exit(&self) {
        if self.running.load(Ordering::SeqCst) {
            cancel_with(Ptr(self.cancel.0), false);
        }
    }
}

/// Asks the warehouse to cancel the running query, waiting at most a second (PQcancel opens a
/// connection, which could hang on a stalled network: the helper thread is then abandoned,
/// and frees `c` itself when `free`).
fn cancel_with(c: Ptr<pq::PGcancel>, free: bool) {
    if c.0.is_null() {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let spawned = spawn_quiet("pg_datamart cancel", move || {
        let c = c;
        let mut buf = [0 as c_char; 256];
        // SAFETY: c.0 is non-null (checked above) and outlives this use: the reader's own
        // PGcancel (free) is freed only here, once; the shared one (cancel_at_exit, at process
        // exit) is freed only by Reader::drop, which never runs after that. PQcancel is
        // thread-safe and touches no PostgreSQL API; buf outlives the call.
        unsafe {
            pq::PQcancel(c.0, buf.as_mut_ptr(), buf.len() as c_int);
            if free {
                pq::PQfreeCancel(c.0);
            }
        }
        let _ = tx.send(());
    });
    if spawned.is_ok() {
        let _ = rx.recv_timeout(std::time::Duration::from_secs(1));
    }
}

/// The backend's end: messages, the socket to wait on, the shared state. Dropping it stops
/// the reader (cancelling a running query) and waits for it to finish.
pub struct Reader {
    rx: Option<Receiver<Msg>>,
    pub wake: UnixStream,
    pub shared: Arc<Shared>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Reader {
    /// Starts the reader on `conn` (connected, non-blocking, idle), which it then owns.
    ///
    /// # Safety
    /// `conn` is a valid libpq connection that no one else uses or frees afterwards.
    pub unsafe fn start(conn: *mut pq::PGconn, job: Job) -> std::io::Result<Reader> {
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        notify.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            running: AtomicBool::new(false),
            // SAFETY: the caller guarantees conn is a valid connection no one else uses; only this
            // thread holds it until the reader thread starts below.
            cancel: Ptr(unsafe { pq::PQgetCancel(conn) }),
        });
        let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
        let s = shared.clone();
        let c = Ptr(conn);
        let handle = spawn_quiet("pg_datamart fetch", move || {
            let c = c;
            let conn = c.0;
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(conn, &job, &tx, &notify, &s)
            }));
            if r.is_err() {
                send(
                    &tx,
                    &notify,
                    Msg::Failed(Failure {
                        sqlstate: String::new(),
                        message: "the warehouse reader failed".into(),
                        detail: String::new(),
                        hint: String::new(),
                        severity: String::new(),
                        lost: true,
                    }),
                );
            }
            if s.running.load(Ordering::SeqCst) {
                // Stopped (or failed) with a query running: cancel it on the warehouse.
                // SAFETY: conn is this thread's alone (the caller of start gave it up) and not
                // yet finished.
                cancel_with(Ptr(unsafe { pq::PQgetCancel(conn) }), true);
            }
            s.running.store(false, Ordering::SeqCst);
            // SAFETY: the last use of conn: finished once, by the thread that owns it (run has
            // cleared every result it got).
            unsafe { pq::PQfinish(conn) };
            let _ = (&notify).write(&[1]);
        })?;
        Ok(Reader {
            rx: Some(rx),
            wake,
            shared,
            handle: Some(handle),
        })
    }

    /// The next message if one is ready; `Err` when the reader is gone.
    pub fn try_next(&self) -> Result<Option<Msg>, std::sync::mpsc::TryRecvError> {
        match self.rx.as_ref().map(|rx| rx.try_recv()) {
            Some(Ok(m)) => Ok(Some(m)),
            Some(Err(std::sync::mpsc::TryRecvError::Empty)) => Ok(None),
            Some(Err(e)) => Err(e),
            None => Err(std::sync::mpsc::TryRecvError::Disconnected),
        }
    }

    /// Empties the wake-up socket.
    pub fn drain_wake(&self) {
        let mut buf = [0u8; 64];
        while matches!(std::io::Read::read(&mut &self.wake, &mut buf), Ok(n) if n > 0) {}
    }

    pub fn wake_fd(&self) -> c_int {
        self.wake.as_raw_fd()
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // No PostgreSQL API here: this runs while an ERROR unwinds.
        self.shared.stop.store(true, Ordering::SeqCst);
        drop(self.rx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        if !self.shared.cancel.0.is_null() {
            // SAFETY: the shared PGcancel is non-null and freed only here, once: the reader
            // thread (which does not use it) is joined, and cancel_at_exit, its only user, runs at
            // process exit, after which no Reader is dropped.
            unsafe { pq::PQfreeCancel(self.shared.cancel.0) };
        }
    }
}

/// Spawns a helper thread with every signal blocked from its first instruction on: a new thread
/// inherits the mask of the thread that spawns it, so the caller blocks them all for the spawn
/// and restores its own mask after. Signals are the backend's: no PostgreSQL signal handler
/// may run on a helper thread (they touch the backend's latch and interrupt flags).
pub fn spawn_quiet<F, T>(name: &str, f: F) -> std::io::Result<std::thread::JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // SAFETY: all and old are zeroed sigset_t, all filled by sigfillset before use;
    // pthread_sigmask changes only the calling thread's mask, which is restored right after the
    // spawn (a signal that arrives meanwhile stays pending and is delivered then).
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let spawned = std::thread::Builder::new().name(name.into()).spawn(f);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        spawned
    }
}

/// Cancels the warehouse query of an owned PGcancel (made by `PQgetCancel`, null ignored) and
/// frees it, as [`cancel_with`] does for the reader's own.
pub fn cancel_owned(c: *mut pq::PGcancel) {
    cancel_with(Ptr(c), true);
}

fn send(tx: &SyncSender<Msg>, notify: &UnixStream, m: Msg) -> bool {
    if tx.send(m).is_err() {
        return false;
    }
    let _ = (&*notify).write(&[1]);
    true
}

fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: p is non-null (checked above); callers pass a NUL-terminated string from libpq
        // (PQerrorMessage, PQresultErrorField) that stays valid for this call; copied at once.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The failure a result (or, when `res` is null, the connection) reports.
pub(crate) fn failure(conn: *mut pq::PGconn, res: *mut pq::PGresult) -> Failure {
    // SAFETY: conn is the caller's live connection (the reader thread's, or the backend's
    // Warehouse before handing it over) and res null or a result not yet cleared; the strings libpq
    // returns are copied at once by cstr. Only libpq is called, so any thread may run this.
    unsafe {
        if res.is_null() {
            return Failure {
                sqlstate: String::new(),
                message: cstr(pq::PQerrorMessage(conn)),
                detail: String::new(),
                hint: String::new(),
                severity: String::new(),
                lost: true,
            };
        }
        let field = |f: u8| cstr(pq::PQresultErrorField(res, f as c_int));
        let mut message = field(pq::PG_DIAG_MESSAGE_PRIMARY);
        if message.is_empty() {
            message = cstr(pq::PQerrorMessage(conn));
        }
        Failure {
            sqlstate: field(pq::PG_DIAG_SQLSTATE),
            message,
            detail: field(pq::PG_DIAG_MESSAGE_DETAIL),
            hint: field(pq::PG_DIAG_MESSAGE_HINT),
            severity: field(pq::PG_DIAG_SEVERITY_NONLOCALIZED),
            lost: false,
        }
    }
}

/// Waits up to `ms` for the socket (`events`: POLLIN and/or POLLOUT); whether it is ready.
fn poll(conn: *mut pq::PGconn, events: i16, ms: c_int) -> bool {
    let mut fds = libc::pollfd {
        // SAFETY: conn is the live connection the reader thread owns (the only caller); PQsocket
        // only reads it.
        fd: unsafe { pq::PQsocket(conn) },
        events,
        revents: 0,
    };
    // SAFETY: fds is a valid pollfd on the stack and nfds = 1; poll does not keep it (a socket of
    // -1 is ignored).
    unsafe { libc::poll(&mut fds, 1, ms) > 0 }
}

/// COPY text format: backslash, tab, newline and carriage return escaped.
pub fn escape_into(buf: &mut Vec<u8>, v: &[u8]) {
    // Most values need no escape: a branch-free scan (vectorised) finds out first.
    let special = v.iter().fold(0u8, |acc, &c| {
        acc | (c == b'\\') as u8 | (c == b'\t') as u8 | (c == b'\n') as u8 | (c == b'\r') as u8
    });
    if special == 0 {
        buf.extend_from_slice(v);
        return;
    }
    let mut start = 0;
    for (i, &c) in v.iter().enumerate() {
        let esc = match c {
            b'\\' => b'\\',
            b'\t' => b't',
            b'\n' => b'n',
            b'\r' => b'r',
            _ => continue,
        };
        buf.extend_from_slice(&v[start..i]);
        buf.push(b'\\');
        buf.push(esc);
        start = i + 1;
    }
    buf.extend_from_slice(&v[start..]);
}

/// A field of `res` (row 0): None for NULL.
unsafe fn field<'a>(res: *mut pq::PGresult, i: usize) -> Option<&'a [u8]> {
    // SAFETY: the caller passes a live, not yet cleared result; libpq checks the row and column
    // numbers (an out-of-range field reads as NULL here), and the value's PQgetlength bytes live
    // until the result is cleared, which callers do only after their last use of the slice.
    unsafe {
        if pq::PQgetisnull(res, 0, i as c_int) != 0 {
            return None;
        }
        let p = pq::PQgetvalue(res, 0, i as c_int) as *const u8;
        let len = pq::PQgetlength(res, 0, i as c_int) as usize;
        Some(std::slice::from_raw_parts(p, len))
    }
}

/// Sends one query (non-blocking, flushed), single-row mode; false when libpq failed (or the
/// reader was stopped while flushing).
fn send_query(conn: *mut pq::PGconn, sql: &str, shared: &Shared) -> bool {
    let Ok(q) = CString::new(sql) else {
        return false;
    };
    shared.running.store(true, Ordering::SeqCst);
    // SAFETY: conn is the live, non-blocking connection the reader thread owns (the only caller);
    // q outlives PQsendQuery, which copies the query.
    unsafe {
        if pq::PQsendQuery(conn, q.as_ptr()) != 1 {
            return false;
        }
        pq::PQsetSingleRowMode(conn);
        loop {
            match pq::PQflush(conn) {
                0 => return true,
                1 => {
                    if shared.stop.load(Ordering::SeqCst) {
                        return false;
                    }
                    poll(conn, libc::POLLIN | libc::POLLOUT, POLL_MS);
                    if pq::PQconsumeInput(conn) == 0 {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

fn run(
    conn: *mut pq::PGconn,
    job: &Job,
    tx: &SyncSender<Msg>,
    notify: &UnixStream,
    shared: &Shared,
) {
    let stopped = || shared.stop.load(Ordering::SeqCst);
    let fail = |f: Failure| {
        send(tx, notify, Msg::Failed(f));
    };
    let mut fetched = 0i64;
    let mut types_sent = false;
    let mut chunk = Chunk::new(0);
    for (query, sql) in job.queries.iter().enumerate() {
        // upsert compares each query's rows with its group's fingerprints: one query per chunk
        if job.hash.is_some() && query > 0 {
            if !chunk.data.is_empty() {
                let full = std::mem::replace(&mut chunk, Chunk::new(query));
                if !send(tx, notify, Msg::Chunk(full)) {
                    return;
                }
            }
            chunk.query = query;
        }
        if query == 0 && job.first_sent {
            shared.running.store(true, Ordering::SeqCst);
        } else if !send_query(conn, sql, shared) {
            return fail(failure(conn, std::ptr::null_mut()));
        }
        if stopped() {
            return;
        }
        'rows: loop {
            if stopped() {
                return;
            }
            // SAFETY: conn is the live connection this thread owns (Reader::start); a result
            // PQgetResult hands us is ours until we PQclear it, once, on every path below.
            while unsafe { pq::PQisBusy(conn) } == 0 {
                let res = unsafe { pq::PQgetResult(conn) };
                if res.is_null() {
                    break 'rows;
                }
                // SAFETY: res is non-null (checked above) and not yet cleared.
                match unsafe { pq::PQresultStatus(res) } {
                    pq::ExecStatusType::PGRES_SINGLE_TUPLE => {
                        // SAFETY: res is a live result, not yet cleared.
                        let n = unsafe { pq::PQnfields(res) } as usize;
                        if !types_sent {
                            // SAFETY: res is a live result and i < n = PQnfields(res).
                            let types = (0..n)
                                .map(|i| unsafe {
                                    (pq::PQftype(res, i as c_int), pq::PQfmod(res, i as c_int))
                                })
                                .collect();
                            types_sent = true;
                            if !send(tx, notify, Msg::Types(types)) {
                                // SAFETY: res is live and not used again; cleared once.
                                unsafe { pq::PQclear(res) };
                                return;
                            }
                        }
                        if n != job.ncols {
                            // SAFETY: res is live and not used again; cleared once.
                            unsafe { pq::PQclear(res) };
                            return fail(Failure {
                                sqlstate: "42804".into(),
                                message: format!(
                                    "the warehouse returned {n} columns where {} were asked for",
                                    job.ncols
                                ),
                                detail: String::new(),
                                hint: String::new(),
                                severity: String::new(),
                                lost: false,
                            });
                        }
                        let start = chunk.data.len();
                        for i in 0..n {
                            if i > 0 {
                                chunk.data.push(b'\t');
                            }
                            // SAFETY: res is a live single-row result and i < n = PQnfields(res);
                            // the value is copied before res is cleared.
                            match unsafe { field(res, i) } {
                                None => chunk.data.extend_from_slice(b"\\N"),
                                Some(v) => escape_into(&mut chunk.data, v),
                            }
                        }
                        match &job.hash {
                            None => chunk.data.extend_from_slice(&job.tail),
                            Some((key, compared)) => {
                                // SAFETY: res stays live until the PQclear below; field checks the
                                // column number (out of range reads as NULL) and fingerprint keeps
                                // no slice.
                                let (k, r) =
                                    fingerprint(&|i| unsafe { field(res, i) }, key, compared);
                                chunk.rows.push(RowMeta {
                                    start: start as u32,
                                    end: chunk.data.len() as u32,
                                    key: k,
                                    row: r,
                                });
                            }
                        }
                        // SAFETY: res is live and its last use is above; cleared once.
                        unsafe { pq::PQclear(res) };
                        fetched += 1;
                        if chunk.data.len() >= CHUNK_BYTES {
                            let full = std::mem::replace(&mut chunk, Chunk::new(query));
                            if !send(tx, notify, Msg::Chunk(full)) {
                                return;
                            }
                        }
                    }
                    pq::ExecStatusType::PGRES_TUPLES_OK | pq::ExecStatusType::PGRES_COMMAND_OK => {
                        // SAFETY: res is live and not used again; cleared once.
                        unsafe { pq::PQclear(res) };
                    }
                    _ => {
                        let f = failure(conn, res);
                        // SAFETY: failure() has copied what it needs; res is cleared once and not
                        // used again.
                        unsafe { pq::PQclear(res) };
                        shared.running.store(false, Ordering::SeqCst);
                        return fail(f);
                    }
                }
            }
            // Nothing more for now. Rows keep coming while the socket turns readable within a
            // couple of milliseconds; otherwise hand over what is ready (so a slow warehouse's
            // rows reach the mart at once), then wait for the socket.
            if !chunk.data.is_empty() && !poll(conn, libc::POLLIN, 2) {
                let part = std::mem::replace(&mut chunk, Chunk::new(query));
                if !send(tx, notify, Msg::Chunk(part)) {
                    return;
                }
            }
            poll(conn, libc::POLLIN, POLL_MS);
            // SAFETY: conn is the live connection this thread owns.
            if unsafe { pq::PQconsumeInput(conn) } == 0 {
                return fail(failure(conn, std::ptr::null_mut()));
            }
        }
        shared.running.store(false, Ordering::SeqCst);
    }
    if !chunk.data.is_empty() && !send(tx, notify, Msg::Chunk(chunk)) {
        return;
    }
    send(tx, notify, Msg::End(fetched));
}
