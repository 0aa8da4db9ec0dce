//! The status writer: a background worker that records one sync's progress in its own
//! transactions, so that `dm.run` and `dm.run_step` show it live and keep it whatever happens
//! to the loading transaction (errors, rollbacks, cancellation, termination).
//!
//! A sync starts its writer when it begins (`open`), as pg_background starts its workers: a
//! dynamic background worker (no `shared_preload_libraries` needed) that attaches a dynamic
//! shared memory segment holding two message queues, one each way. The writer connects to this
//! very database (its oid, from the segment) as the extension's owner, the only role that may
//! write the status tables, with `search_path = pg_catalog, pg_temp`. It answers a token the
//! sync chose, so the sync knows it reached its own writer in its own database.
//!
//! Messages are typed events (`pg_datamart_plan::status::Event`, JSON), never SQL: the writer
//! builds the statements itself with the planner, and it records only the runs of the session
//! that started it. A new run gets that session's pid; every later event names a run, which
//! the writer accepts only when the run's pid is that session's and the run started after the
//! session did (`OWNED_RUN`). No password is involved, nor any connection or authentication:
//! the writer is forked by the postmaster. Each event is one transaction; a failure is sent back
//! with its SQLSTATE, message, detail and hint and raised in the sync. The writer exits when
//! the sync detaches (`close`, or the session ends).
//!
//! Every running sync holds one background worker slot (`max_worker_processes`) while it runs.

use crate::error::{DmError, DmResult};
use pg_datamart_plan::status::{self as sql, Envelope, Event, Reply, WriterError};
use pgrx::bgworkers::{BackgroundWorkerBuilder, BgWorkerStartTime};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

const MAGIC: u64 = 0x7067_646d_5f73_7473; // "pgdm_sts"
const HEADER: usize = 128;
const QUEUE: usize = 64 * 1024;
/// How long a sync waits for a free background worker slot before giving up.
const SLOT_WAIT: Duration = Duration::from_secs(10);

/// What the sync tells its writer before the writer runs anything.
#[repr(C)]
#[derive(Clone, Copy)]
struct Header {
    magic: u64,
    token: u64,
    database: pg_sys::Oid,
    owner: pg_sys::Oid,
    launcher_pid: i32,
    launcher_start: pg_sys::TimestampTz,
    /// The role that runs the sync (recorded as the run's `run_by`).
    launcher_role: pg_sys::Oid,
    /// The role the sync's backend logged in as (recorded as the run's `login_role`): what
    /// PostgreSQL's backend status shows for it (`st_userid`), whatever `SET ROLE` came after.
    launcher_login: pg_sys::Oid,
}

/// The sync's end of the link to its writer.
struct Link {
    seg: *mut pg_sys::dsm_segment,
    handle: *mut pg_sys::BackgroundWorkerHandle,
    to_writer: *mut pg_sys::shm_mq_handle,
    from_writer: *mut pg_sys::shm_mq_handle,
    seq: u64,
    /// A send was interrupted (an ERROR, such as a cancel, in the middle of it): the queue
    /// holds part of a message, so the link must be replaced.
    sending: bool,
}

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
    /// The run this session's sync is running (recorded by its writer); events may name only
    /// it, so no SQL-callable step of the sync can be used to rewrite another or a past run.
    static ACTIVE: Cell<Option<i64>> = const { Cell::new(None) };
}

fn status_error(
    code: PgSqlErrorCode,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> DmError {
    DmError::Status {
        code,
        message: message.into(),
        detail: String::new(),
        hint: hint.into(),
    }
}

/// The extension's owner (the role that writes the run history).
pub(crate) fn extension_owner() -> DmResult<pg_sys::Oid> {
    let owner = Spi::get_one::<pg_sys::Oid>(pg_datamart_plan::status::EXTENSION_OWNER_SQL)
        .map_err(|e| DmError::Spi {
            doing: "reading the extension's owner".into(),
            source: e,
        })?;
    owner.ok_or_else(|| {
        status_error(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            "extension pg_datamart is not installed in this database",
            pg_datamart_plan::status::CREATE_EXTENSION,
        )
    })
}

/// A random token (from the server's strong random source).
fn token() -> u64 {
    let mut t = 0u64;
    // SAFETY: writes 8 bytes into `t`.
    let ok = unsafe { pg_sys::pg_strong_random((&raw mut t).cast(), 8) };
    if !ok {
        // SAFETY: plain reads of this backend's globals.
        t = unsafe { (pg_sys::MyStartTimestamp as u64) ^ ((pg_sys::MyProcPid as u64) << 32) };
    }
    t
}

/// Starts this session's writer for a new run (replacing one left over) and waits until it
/// answers.
pub fn open() -> DmResult<()> {
    close();
    start()
}

/// Starts a writer (also to replace one whose queue an interrupted send left unusable, in the
/// middle of a run).
fn start() -> DmResult<()> {
    detach();
    let owner = extension_owner()?;
    // SAFETY: the segment, queues and handle are created and attached here, in
    // TopMemoryContext and pinned to the session, since a sync spans many transactions. Both
    // queues are attached before the worker is registered, so that whatever happens next (an
    // error, a cancel, the session's exit) detaching them tells the worker to exit.
    let token = unsafe {
        let old = pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
        let seg = pg_sys::dsm_create(HEADER + 2 * QUEUE, 0);
        pg_sys::dsm_pin_mapping(seg);
        let base = pg_sys::dsm_segment_address(seg).cast::<u8>();
        let header = Header {
            magic: MAGIC,
            token: token(),
            database: pg_sys::MyDatabaseId,
            owner,
            launcher_pid: pg_sys::MyProcPid,
            launcher_start: pg_sys::MyStartTimestamp,
            launcher_role: pg_sys::GetUserId(),
            launcher_login: pg_sys::GetAuthenticatedUserId(),
        };
        std::ptr::write(base.cast::<Header>(), header);
        let q_in = pg_sys::shm_mq_create(base.add(HEADER).cast(), QUEUE);
        pg_sys::shm_mq_set_sender(q_in, pg_sys::MyProc);
        let q_out = pg_sys::shm_mq_create(base.add(HEADER + QUEUE).cast(), QUEUE);
        pg_sys::shm_mq_set_receiver(q_out, pg_sys::MyProc);
        let link = Link {
            seg,
            handle: std::ptr::null_mut(),
            to_writer: pg_sys::shm_mq_attach(q_in, seg, std::ptr::null_mut()),
            from_writer: pg_sys::shm_mq_attach(q_out, seg, std::ptr::null_mut()),
            seq: 0,
            sending: false,
        };
        pg_sys::MemoryContextSwitchTo(old);
        LINK.with(|l| *l.borrow_mut() = Some(link));
        header.token
    };
    // SAFETY: registers the worker for the segment just made (the handle in TopMemoryContext).
    let handle = unsafe {
        let seg = LINK
            .with(|l| l.borrow().as_ref().map(|k| k.seg))
            .unwrap_or(std::ptr::null_mut());
        register(pg_sys::dsm_segment_handle(seg))
    };
    let handle = match handle {
        Ok(h) => h,
        Err(e) => {
            detach();
            return Err(e);
        }
    };
    LINK.with(|l| {
        if let Some(k) = l.borrow_mut().as_mut() {
            k.handle = handle;
            // SAFETY: from now on a worker that dies makes the queues report it.
            unsafe {
                pg_sys::shm_mq_set_handle(k.to_writer, handle);
                pg_sys::shm_mq_set_handle(k.from_writer, handle);
            }
        }
    });
    // The writer's first message says which database it reached and echoes the token.
    match receive(0)?.ok_or_else(writer_gone)? {
        // SAFETY: MyDatabaseId is set once at backend start; read on the backend's thread.
        Reply::Ready { token: t, database }
            if t == token && database == u32::from(unsafe { pg_sys::MyDatabaseId }) =>
        {
            Ok(())
        }
        other => {
            detach();
            Err(status_error(
                PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE,
                format!("the status writer did not reach this database (it answered {other:?})"),
                "This is a bug in pg_datamart; please report it.",
            ))
        }
    }
}

/// Registers the writer worker, waiting up to [`SLOT_WAIT`] for a free slot.
unsafe fn register(seg: pg_sys::dsm_handle) -> DmResult<*mut pg_sys::BackgroundWorkerHandle> {
    let old = pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
    let registered = register_in_context(seg);
    pg_sys::MemoryContextSwitchTo(old);
    registered
}

unsafe fn register_in_context(
    seg: pg_sys::dsm_handle,
) -> DmResult<*mut pg_sys::BackgroundWorkerHandle> {
    let builder = BackgroundWorkerBuilder::new("pg_datamart status writer")
        .set_type("pg_datamart status writer")
        .set_library("pg_datamart")
        .set_function("pg_datamart_status_writer_main")
        .set_argument(Some(pg_sys::Datum::from(seg)))
        .set_notify_pid(pg_sys::MyProcPid)
        .enable_spi_access()
        .set_start_time(BgWorkerStartTime::RecoveryFinished)
        .set_restart_time(None);
    let mut worker: pg_sys::BackgroundWorker = (&builder).into();
    let started = Instant::now();
    loop {
        let mut handle = std::ptr::null_mut();
        if pg_sys::RegisterDynamicBackgroundWorker(&mut worker, &mut handle) {
            let mut pid = 0;
            return match pg_sys::WaitForBackgroundWorkerStartup(handle, &mut pid) {
                pg_sys::BgwHandleStatus::BGWH_STARTED => Ok(handle),
                _ => Err(status_error(
                    PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE,
                    "the status writer (a background worker) could not be started",
                    "See the server log for why; no data was touched.",
                )),
            };
        }
        if started.elapsed() >= SLOT_WAIT {
            return Err(status_error(
                PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
                format!(
                    "no background worker slot is free for the sync's status writer (waited {} s; max_worker_processes = {})",
                    SLOT_WAIT.as_secs(),
                    { pg_sys::max_worker_processes }
                ),
                "Each running dm_sync uses one background worker; raise max_worker_processes (needs a restart) or run fewer syncs at once. No data was touched.",
            ));
        }
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            100,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
        pg_sys::check_for_interrupts!();
    }
}

/// Ends the run: stops this session's writer (it exits when the queues are detached).
pub fn close() {
    ACTIVE.with(|a| a.set(None));
    detach();
}

fn detach() {
    if let Some(link) = LINK.with(|l| l.borrow_mut().take()) {
        // SAFETY: the handles belong to this segment, which is still mapped here.
        unsafe {
            pg_sys::shm_mq_detach(link.to_writer);
            pg_sys::shm_mq_detach(link.from_writer);
            pg_sys::dsm_detach(link.seg);
            if !link.handle.is_null() {
                pg_sys::pfree(link.handle.cast());
            }
        }
    }
}

/// Sends `event` to the writer and waits for its answer: the new run's id for a new run.
pub fn request(event: Event) -> DmResult<Option<i64>> {
    if let Some((run_id, _)) = event.run_and_position() {
        if ACTIVE.with(|a| a.get()) != Some(run_id) {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: format!("run {run_id} is not the run this session is syncing"),
                detail: "The status of a run is recorded only by the session running it, while it runs.".into(),
                hint: "Use CALL dm_sync(...) or CALL dm_resume(...); the dm._* functions are its steps.".into(),
            });
        }
    }
    let creates = matches!(event, Event::CreateRun { .. });
    let reply = match exchange(&event)? {
        Some(reply) => reply,
        // The writer stopped (terminated, or crashed): a new one records the event. Every
        // event but a new run records a state, so sending it twice is harmless.
        None if !creates => {
            start()?;
            exchange(&event)?.ok_or_else(writer_gone)?
        }
        None => return Err(writer_gone()),
    };
    match reply {
        Reply::Done { run_id, .. } => {
            if creates {
                ACTIVE.with(|a| a.set(run_id));
            }
            Ok(run_id)
        }
        Reply::Failed { error, .. } => Err(DmError::Status {
            code: crate::error::sqlstate_code(&error.sqlstate)
                .unwrap_or(PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE),
            message: format!("recording status: {}", error.message),
            detail: error.detail,
            hint: error.hint,
        }),
        Reply::Ready { .. } => Err(writer_gone()),
    }
}

/// Sends `event` to the writer (starting one when needed) and waits for its answer; None when
/// the writer is gone.
fn exchange(event: &Event) -> DmResult<Option<Reply>> {
    let interrupted = LINK.with(|l| l.borrow().as_ref().map(|k| k.sending));
    match interrupted {
        None if matches!(event, Event::Housekeeping { .. } | Event::CreateRun { .. }) => open()?,
        None | Some(true) => start()?,
        Some(false) => {}
    }
    let (to_writer, seq) = LINK.with(|l| {
        let mut l = l.borrow_mut();
        let k = l.as_mut().expect("opened above");
        k.seq += 1;
        k.sending = true;
        (k.to_writer, k.seq)
    });
    let bytes = serde_json::to_vec(&Envelope {
        seq,
        event: event.clone(),
    })
    .map_err(|e| {
        status_error(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("a status event could not be encoded: {e}"),
            "This is a bug in pg_datamart; please report it.",
        )
    })?;
    // SAFETY: `to_writer` is attached; the bytes live across the call.
    let sent =
        unsafe { pg_sys::shm_mq_send(to_writer, bytes.len(), bytes.as_ptr().cast(), false, true) };
    LINK.with(|l| {
        if let Some(k) = l.borrow_mut().as_mut() {
            k.sending = false;
        }
    });
    if sent != pg_sys::shm_mq_result::SHM_MQ_SUCCESS {
        detach();
        return Ok(None);
    }
    receive(seq)
}

fn writer_gone() -> DmError {
    status_error(
        PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE,
        "the sync's status writer (a background worker) stopped",
        "See the server log for why (a terminated worker, or a server shutting down).",
    )
}

/// The writer's answer to message `seq` (answers to older messages, left over from an
/// interrupted wait, are skipped); None when the writer is gone.
fn receive(seq: u64) -> DmResult<Option<Reply>> {
    let Some(from_writer) = LINK.with(|l| l.borrow().as_ref().map(|k| k.from_writer)) else {
        return Ok(None);
    };
    loop {
        let mut len = 0usize;
        let mut data = std::ptr::null_mut();
        // SAFETY: `from_writer` is attached; the data stays valid until the next receive.
        let got = unsafe { pg_sys::shm_mq_receive(from_writer, &mut len, &mut data, false) };
        if got != pg_sys::shm_mq_result::SHM_MQ_SUCCESS {
            detach();
            return Ok(None);
        }
        // SAFETY: shm_mq returned `len` bytes at `data`.
        let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
        let reply: Reply = serde_json::from_slice(bytes).map_err(|e| {
            status_error(
                PgSqlErrorCode::ERRCODE_PROTOCOL_VIOLATION,
                format!("the status writer's answer could not be read: {e}"),
                "This is a bug in pg_datamart; please report it.",
            )
        })?;
        if reply.seq() >= seq {
            return Ok(Some(reply));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The writer (runs in the background worker)

/// PostgreSQL's own signal handlers, called by the kernel as they are (pgrx's bindings wrap
/// every function for calls from Rust, which a signal handler must not be).
mod postgres {
    extern "C-unwind" {
        /// `die` (tcop/postgres.c): SIGTERM sets ProcDiePending and the latch, nothing else.
        pub fn die(postgres_signal_arg: std::ffi::c_int);
    }
}

/// Entry point of the status writer worker; its argument is the segment's handle.
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn pg_datamart_status_writer_main(arg: pg_sys::Datum) {
    // SIGTERM gets PostgreSQL's `die` handler, which only sets a flag that the next interrupt
    // check (in the queue waits, between statements) turns into an orderly exit: the default
    // handler of background workers raises FATAL from the signal handler itself, which becomes a
    // PANIC (a restart of the whole server) when the signal lands inside a critical section, such
    // as the WAL insert of a status row.
    // SAFETY: the standard start of a background worker that attaches a segment, on the worker's
    // only thread; the mapping (page-aligned) is checked for MAGIC before its queues are used, and
    // each message shm_mq_receive hands over (len bytes, valid until the next receive) is copied.
    unsafe {
        pg_sys::pqsignal(libc::SIGTERM, Some(postgres::die));
        pg_sys::BackgroundWorkerUnblockSignals();
        pg_sys::CurrentResourceOwner = pg_sys::ResourceOwnerCreate(
            std::ptr::null_mut(),
            c"pg_datamart status writer".as_ptr(),
        );
        let seg = pg_sys::dsm_attach(arg.value() as pg_sys::dsm_handle);
        if seg.is_null() {
            pgrx::log!("pg_datamart status writer: its sync is gone (no shared memory segment)");
            return;
        }
        let base = pg_sys::dsm_segment_address(seg).cast::<u8>();
        let header = std::ptr::read(base.cast::<Header>());
        if header.magic != MAGIC {
            pgrx::log!("pg_datamart status writer: not a pg_datamart segment");
            return;
        }
        let q_in = base.add(HEADER).cast::<pg_sys::shm_mq>();
        let q_out = base.add(HEADER + QUEUE).cast::<pg_sys::shm_mq>();
        pg_sys::shm_mq_set_receiver(q_in, pg_sys::MyProc);
        pg_sys::shm_mq_set_sender(q_out, pg_sys::MyProc);
        let from_sync = pg_sys::shm_mq_attach(q_in, seg, std::ptr::null_mut());
        let to_sync = pg_sys::shm_mq_attach(q_out, seg, std::ptr::null_mut());
        pg_sys::BackgroundWorkerInitializeConnectionByOid(header.database, header.owner, 0);
        let writer = Writer { header };
        let ready = Reply::Ready {
            token: header.token,
            database: u32::from(pg_sys::MyDatabaseId),
        };
        if !send(to_sync, &ready) {
            return;
        }
        let _ = writer.in_transaction("setup", || {
            Spi::run(pg_datamart_plan::status::WRITER_SEARCH_PATH_SQL)
                .map_err(|e| spi("setting the search_path", e))
        });
        loop {
            let mut len = 0usize;
            let mut data = std::ptr::null_mut();
            if pg_sys::shm_mq_receive(from_sync, &mut len, &mut data, false)
                != pg_sys::shm_mq_result::SHM_MQ_SUCCESS
            {
                return; // the sync detached: its run is over, or its session ended
            }
            let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len).to_vec();
            let reply = writer.handle(&bytes);
            if !send(to_sync, &reply) {
                return;
            }
        }
    }
}

unsafe fn send(mq: *mut pg_sys::shm_mq_handle, reply: &Reply) -> bool {
    let bytes = serde_json::to_vec(reply).unwrap_or_default();
    pg_sys::shm_mq_send(mq, bytes.len(), bytes.as_ptr().cast(), false, true)
        == pg_sys::shm_mq_result::SHM_MQ_SUCCESS
}

fn spi(doing: &str, e: pgrx::spi::SpiError) -> DmError {
    DmError::Spi {
        doing: doing.into(),
        source: e,
    }
}

struct Writer {
    header: Header,
}

/// A role's name from the syscache (the roles of a running sync exist: errors if not).
fn role_name(role: pg_sys::Oid) -> String {
    // SAFETY: GetUserNameFromId returns a palloc'd C string (or raises an ERROR, which pgrx
    // turns into a Rust panic caught by `in_transaction`); it is copied at once.
    unsafe {
        std::ffi::CStr::from_ptr(pg_sys::GetUserNameFromId(role, false))
            .to_string_lossy()
            .into_owned()
    }
}

/// Section, table count and table name (at the event's position) of a run of this writer's
/// session; none when the run is another session's.
struct Owned {
    section: String,
    tables: i32,
    mart_table: String,
}

impl Writer {
    fn handle(&self, bytes: &[u8]) -> Reply {
        let envelope: Envelope = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(e) => {
                return Reply::Failed {
                    seq: 0,
                    error: WriterError {
                        sqlstate: "08P01".into(),
                        message: format!("an event could not be read: {e}"),
                        detail: String::new(),
                        hint: "This is a bug in pg_datamart; please report it.".into(),
                    },
                }
            }
        };
        let seq = envelope.seq;
        match self.in_transaction(envelope.event.name(), || self.record(&envelope.event)) {
            Ok(run_id) => Reply::Done { seq, run_id },
            Err(error) => Reply::Failed { seq, error },
        }
    }

    /// Runs `f` in a transaction of its own; an error (raised by PostgreSQL or returned) rolls
    /// it back and is returned with its SQLSTATE, detail and hint.
    fn in_transaction<R>(
        &self,
        what: &str,
        f: impl FnOnce() -> DmResult<R>,
    ) -> Result<R, WriterError> {
        let activity = std::ffi::CString::new(format!("pg_datamart status writer: {what}"))
            .unwrap_or_default();
        // SAFETY: the standard transaction bracket of a background worker.
        unsafe {
            pg_sys::SetCurrentStatementStartTimestamp();
            pg_sys::StartTransactionCommand();
            pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
            pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_RUNNING, activity.as_ptr());
        }
        let result = PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
            let r = f();
            if r.is_ok() {
                // SAFETY: ends the transaction started above.
                unsafe {
                    pg_sys::PopActiveSnapshot();
                    pg_sys::CommitTransactionCommand();
                }
            }
            r.map_err(|e| {
                let code = e.sqlstate();
                let report = pgrx::pg_sys::panic::ErrorReport::from(e);
                WriterError {
                    sqlstate: crate::error::sqlstate_text(code),
                    message: report
                        .message()
                        .trim_start_matches("pg_datamart: ")
                        .to_string(),
                    detail: report.detail().unwrap_or_default().to_string(),
                    hint: report.hint().unwrap_or_default().to_string(),
                }
            })
        }))
        .catch_others(|e| {
            let r = match &e {
                pgrx::pg_sys::panic::CaughtError::PostgresError(r)
                | pgrx::pg_sys::panic::CaughtError::ErrorReport(r) => r,
                pgrx::pg_sys::panic::CaughtError::RustPanic { ereport, .. } => ereport,
            };
            Err(WriterError {
                sqlstate: crate::error::sqlstate_text(r.sql_error_code()),
                message: r.message().to_string(),
                detail: r.detail().unwrap_or_default().to_string(),
                hint: r.hint().unwrap_or_default().to_string(),
            })
        })
        .execute();
        if let Err(e) = &result {
            pgrx::log!(
                "pg_datamart status writer: {what} failed: {} {}",
                e.sqlstate,
                e.message
            );
            // SAFETY: rolls back whatever the failed event left (also after a returned error).
            unsafe { pg_sys::AbortCurrentTransaction() };
        }
        // SAFETY: reports the worker idle again.
        unsafe {
            pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_IDLE, std::ptr::null())
        };
        result
    }

    /// The run `run_id` as recorded, when it is a run of this writer's session.
    fn owned(&self, run_id: i64, position: i32) -> DmResult<Owned> {
        let row = Spi::get_three_with_args::<String, i32, String>(
            sql::OWNED_RUN,
            &[
                run_id.into(),
                self.header.launcher_pid.into(),
                pgrx::datum::TimestampWithTimeZone::try_from(self.header.launcher_start)
                    .map_err(|_| {
                        status_error(
                            PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
                            "bad backend start",
                            "",
                        )
                    })?
                    .into(),
                position.into(),
            ],
        )
        .map_err(|e| spi("reading the run", e))?;
        match row {
            (Some(section), Some(tables), mart_table) => Ok(Owned {
                section,
                tables,
                mart_table: mart_table.unwrap_or_default(),
            }),
            _ => Err(DmError::Privilege {
                message: format!(
                    "run {run_id} is not a run of the session that started this status writer (pid {})",
                    self.header.launcher_pid
                ),
                hint: "A sync records only its own runs.".into(),
            }),
        }
    }

    fn record(&self, event: &Event) -> DmResult<Option<i64>> {
        let exec = |statements: &str| Spi::run(statements).map_err(|e| spi("recording status", e));
        match event {
            Event::Housekeeping { history_days } => exec(&sql::housekeeping(*history_days))?,
            Event::CreateRun { run } => {
                let role = role_name(self.header.launcher_role);
                let login = role_name(self.header.launcher_login);
                let new = run.as_new(self.header.launcher_pid, &role, &login);
                let run_id = Spi::get_one::<i64>(&sql::create_run(&new))
                    .map_err(|e| spi("recording the run", e))?
                    .unwrap_or_default();
                return Ok(Some(run_id));
            }
            Event::WatchdogNote { run_id, .. } => {
                return Err(DmError::Privilege {
                    message: format!(
                        "the status writer does not record the watchdog's notes (run {run_id})"
                    ),
                    hint: "dm_watchdog records its notes itself.".into(),
                })
            }
            e => {
                let (run_id, position) = e.run_and_position().unwrap_or_default();
                let o = self.owned(run_id, position.unwrap_or(0))?;
                let run = sql::RunRef {
                    run_id,
                    section: &o.section,
                    tables: o.tables,
                };
                let step = sql::StepRef {
                    position: position.unwrap_or(0),
                    mart_table: &o.mart_table,
                };
                if let Some(statements) = e.statements(run, step) {
                    exec(&statements)?;
                }
            }
        }
        Ok(None)
    }
}
