//! The COPY feed: the reader thread's rows go into PostgreSQL's `COPY FROM` machinery.
//!
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

use crate::error::{sqlstate_text, DmError, DmResult};
use crate::exec::reader::{escape_into, Chunk, Failure, Job, Msg, Reader};
use crate::exec::upsert::Upsert;
use crate::exec::warehouse::{remote_error, Warehouse};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use std::cell::RefCell;
use std::ffi::{c_int, c_void, CString};

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
    /// Upsert: compares each row with the mart's and writes only the new and the changed.
    upsert: Option<Upsert>,
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

    /// Upsert: the COPY lines of one chunk's new and changed rows (a changed row's old
    /// version is deleted here, before COPY reads its new one).
    fn rewrite(&mut self, chunk: Chunk) -> DmResult<Vec<u8>> {
        let mut out = Vec::with_capacity(chunk.data.len() / 4);
        let Some(mut u) = self.upsert.take() else {
            return Ok(out);
        };
        let r = self.rewrite_rows(&mut u, &chunk, &mut out);
        self.upsert = Some(u);
        r.map(|_| out)
    }

    fn rewrite_rows(&mut self, u: &mut Upsert, chunk: &Chunk, out: &mut Vec<u8>) -> DmResult<()> {
        u.enter_query(chunk.query)?;
        for row in &chunk.rows {
            let line = &chunk.data[row.start as usize..row.end as usize];
            let (row_key, names) = (&self.row_key, &self.names);
            let key_text = |with_names: bool| line_key(line, row_key, names, with_names);
            let decision = if self.convert {
                self.cur_line.clear();
                self.cur_line.extend_from_slice(line);
                self.in_matcher = true;
                let fields = parse_copy_line(line);
                let d = u
                    .matcher
                    .decide(&|i| fields.get(i).and_then(|f| f.as_deref()), &key_text);
                self.in_matcher = false;
                d
            } else {
                u.matcher.lookup(row.key, row.row, &key_text)
            }?;
            u.row(decision, line, out)?;
        }
        Ok(())
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
                    if let Some(u) = self.upsert.as_mut() {
                        let m = &mut u.matcher;
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
                    self.buf = if self.upsert.is_some() {
                        self.rewrite(chunk)?
                    } else {
                        chunk.data
                    };
                }
                Msg::Failed(f) => return Err(self.remote_error(f)),
                Msg::End(n) => {
                    if let Some(u) = self.upsert.as_mut() {
                        u.finish()?;
                    }
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
    crate::exec::warehouse::drop_prefetched();
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
    /// Rows COPY wrote.
    pub inserted: i64,
    /// Upsert: its state after the stream (counts, keys sent twice).
    pub upsert: Option<Upsert>,
}

/// One streamed COPY: into table `target_oid`, the remote columns go to `columns` (mart
/// names), then `extra` columns get either `stamp` (the load's timestamp, delete_insert) or
/// what the upsert's rewrite writes (when an [`Upsert`] is given). `mart_name` and
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
pub fn copy_into(wh: Warehouse, spec: &CopySpec, upsert: Option<Upsert>) -> DmResult<Streamed> {
    // SAFETY: EXIT_HOOKED is only touched here, on the backend's thread (never from another
    // thread); on_proc_exit registers close_on_exit once for the life of the process.
    unsafe {
        if !EXIT_HOOKED {
            pg_sys::on_proc_exit(Some(close_on_exit), pg_sys::Datum::from(0usize));
            EXIT_HOOKED = true;
        }
    }
    let mut tail = Vec::new();
    if upsert.is_none() {
        for _ in spec.extra {
            tail.push(b'\t');
            escape_into(&mut tail, spec.stamp.as_bytes());
        }
        tail.push(b'\n');
    }
    let hash = upsert.as_ref().map(|u| {
        (
            u.matcher.key_positions().to_vec(),
            u.matcher.compared_positions().to_vec(),
        )
    });
    let guard = SlotGuard;
    let first_sent = wh.query_sent();
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
            upsert,
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
    let (fetched, upsert) = FEED.with(|f| {
        let mut f = f.borrow_mut();
        match f.as_mut() {
            Some(feed) => (feed.fetched, feed.upsert.take()),
            None => (0, None),
        }
    });
    drop(guard);
    let inserted = result?;
    Ok(Streamed {
        fetched,
        inserted,
        upsert,
    })
}

/// Whether an error is about a value or a row (data exception, NOT NULL, CHECK or unique
/// violation).
fn about_a_row(report: &pg_sys::panic::ErrorReportWithLevel) -> bool {
    let state = sqlstate_text(report.sql_error_code());
    state.starts_with("22") || state == "23502" || state == "23514" || state == "23505"
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
    if state == "23505" {
        return DmError::Conflict {
            code,
            message: format!(
                "mart table {}: the warehouse returned a key twice, or one the table holds outside the window: {}",
                spec.mart_name,
                report.detail().unwrap_or(report.message())
            ),
            detail: format!("{} Nothing of this table was changed.", report.message()),
            hint: "Remove the duplicates at the source, or give the mart table a key that matches the warehouse's grain.".into(),
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
