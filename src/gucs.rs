//! Settings, all under the `pg_datamart.` prefix. Each is documented in the settings table of
//! docs/settings.md; keep the two in step.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::{pg_guard, pg_sys};
use std::ffi::CString;

/// Time zone that decides "today" for the default window. Empty: the session's `TimeZone`.
pub static TIMEZONE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Account ids per remote statement; longer lists are split into several statements.
pub static ACCOUNTS_PER_QUERY: GucSetting<i32> = GucSetting::<i32>::new(1000);
pub static MAX_WAREHOUSE_QUERIES: GucSetting<i32> = GucSetting::<i32>::new(2);

/// `pg_datamart.status_server`: ignored since 0.3.0 (the loopback status session it named was
/// replaced by the status writer); kept so that old `ALTER ROLE ... SET` lines still load.
pub static STATUS_SERVER: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Days of run history kept; older finished runs are deleted when a sync starts. 0 keeps all.
pub static HISTORY_DAYS: GucSetting<i32> = GucSetting::<i32>::new(30);

/// Longest window one sync may load, in days.
pub static MAX_WINDOW_DAYS: GucSetting<i32> = GucSetting::<i32>::new(400);

/// Most ids one account_ids list may hold.
pub static MAX_ACCOUNT_IDS: GucSetting<i32> = GucSetting::<i32>::new(10_000);

/// Mart rows of the window one upsert group compares with at most (its fingerprints' memory).
pub static UPSERT_GROUP_ROWS: GucSetting<i32> =
    GucSetting::<i32>::new(pg_datamart_plan::table::FINGERPRINT_GROUP_ROWS as i32);

/// How far from today (in years, either way) a window may lie.
pub static MAX_YEARS_FROM_TODAY: GucSetting<i32> = GucSetting::<i32>::new(10);

/// Most syncs one non-superuser role may run at the same time.
pub static MAX_SYNCS_PER_ROLE: GucSetting<i32> = GucSetting::<i32>::new(4);

/// Rows written (deleted + inserted + updated) from which the touched partitions are analyzed.
pub static ANALYZE_THRESHOLD: GucSetting<i32> = GucSetting::<i32>::new(10_000);

/// How long a sync tries to get its (table, account) locks before it is skipped as busy.
pub static LOCK_WAIT_MS: GucSetting<i32> = GucSetting::<i32>::new(10_000);

/// Longest wait for any table lock a sync takes (catalog reads, partition DDL, DELETE, COPY).
pub static LOCK_TIMEOUT_MS: GucSetting<i32> = GucSetting::<i32>::new(60_000);

/// Above this many accounts a sync locks its tables whole instead of account by account.
pub static LOCK_ACCOUNTS_MAX: GucSetting<i32> = GucSetting::<i32>::new(100);

/// The watchdog flags a run longer than this times the previous successful run of its section.
pub static WARN_FACTOR: GucSetting<f64> = GucSetting::<f64>::new(3.0);

/// The watchdog cancels a run longer than this times the previous successful run.
pub static KILL_FACTOR: GucSetting<f64> = GucSetting::<f64>::new(5.0);

/// Runs shorter than this are never flagged or cancelled by the watchdog.
pub static WATCHDOG_MIN_S: GucSetting<i32> = GucSetting::<i32>::new(60);

/// Consecutive failed runs (failures of the sync's own work) that ban a section; 0 never bans.
pub static MAX_FAILURES: GucSetting<i32> = GucSetting::<i32>::new(3);

/// How long a ban lasts.
pub static BAN_MINUTES: GucSetting<i32> = GucSetting::<i32>::new(5);

/// statement_timeout of each pull on the warehouse: 0 automatic, -1 none, else milliseconds.
pub static REMOTE_TIMEOUT_MS: GucSetting<i32> = GucSetting::<i32>::new(0);

pub fn init() {
    GucRegistry::define_int_guc(
        c"pg_datamart.lock_wait",
        c"How long a sync tries to get its locks before it is recorded as skipped (busy).",
        c"Two syncs that would touch the same (table, account) rows never run together; the later one waits this long, then gives up without an error.",
        &LOCK_WAIT_MS,
        0,
        3_600_000,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.lock_timeout",
        c"Longest wait for a table lock in a sync (lock_timeout of its transactions).",
        c"A lock held by another session (a LOCK TABLE, a long DDL) ends the wait with 55P03 naming the table and the holders, instead of a sync that hangs; 0 waits forever.",
        &LOCK_TIMEOUT_MS,
        0,
        3_600_000,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.lock_accounts_max",
        c"Above this many accounts a sync locks each table whole instead of account by account.",
        c"Bounds the number of advisory locks one sync holds; 0 always locks whole tables.",
        &LOCK_ACCOUNTS_MAX,
        0,
        100_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"pg_datamart.watchdog_warn_factor",
        c"dm_watchdog flags a run longer than this times the previous successful run of its section.",
        c"Flagged once: a note in dm.run and a dm_status notification.",
        &WARN_FACTOR,
        1.0,
        1000.0,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"pg_datamart.watchdog_kill_factor",
        c"dm_watchdog cancels a run longer than this times the previous successful run of its section.",
        c"Cancels the query on the warehouse (and the local backend when it is not waiting on the warehouse).",
        &KILL_FACTOR,
        1.0,
        1000.0,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.watchdog_min_duration",
        c"dm_watchdog never flags or cancels a run shorter than this.",
        c"Also the floor of the automatic remote statement_timeout.",
        &WATCHDOG_MIN_S,
        0,
        86_400,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.max_failures",
        c"Consecutive failed runs that ban a section for pg_datamart.ban_duration (only failures of the sync's own work count: not lock timeouts, busy slots or cancels).",
        c"0 never bans.",
        &MAX_FAILURES,
        0,
        1000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.ban_duration",
        c"How long a section stays banned after pg_datamart.max_failures consecutive failures.",
        c"Syncs of a banned section are recorded as skipped (banned until ...).",
        &BAN_MINUTES,
        0,
        10_080,
        GucContext::Suset,
        GucFlags::UNIT_MIN,
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.remote_statement_timeout",
        c"statement_timeout of each pull on the warehouse.",
        c"0: automatic, watchdog_kill_factor times what the table's own recent loads say the request takes (their seconds per account-day times its accounts x days; at least watchdog_min_duration; none before the table's first success); -1: none; otherwise this many milliseconds.",
        &REMOTE_TIMEOUT_MS,
        -1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.analyze_threshold",
        c"Rows written to a table by one sync from which its touched partitions are analyzed.",
        c"-1 never analyzes; 0 analyzes after every load that wrote a row.",
        &ANALYZE_THRESHOLD,
        -1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"pg_datamart.status_server",
        c"No longer used: status is written by a background worker (since 0.3.0).",
        c"Kept so that settings made for the old loopback status session (ALTER ROLE ... SET) still load; its value is ignored.",
        &STATUS_SERVER,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.history_days",
        c"Days of run history kept in dm.run and dm.run_step.",
        c"Finished runs older than this are deleted when a sync starts; 0 keeps everything.",
        &HISTORY_DAYS,
        0,
        36_500,
        GucContext::Suset,
        GucFlags::default(),
    );
    // SAFETY: the check hook is guarded and only reads its argument.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"pg_datamart.timezone",
            c"Time zone that decides today's date for default sync windows.",
            c"Empty means the session's TimeZone. The field runs on 'Asia/Seoul'.",
            &TIMEZONE,
            GucContext::Userset,
            GucFlags::default(),
            Some(check_timezone),
            None,
            None,
        );
    }
    GucRegistry::define_int_guc(
        c"pg_datamart.max_window_days",
        c"Longest window, in days, one dm_sync or dm_resume may load.",
        c"A longer window is refused before any data moves (one sync locks, and may create, a partition per month of its window).",
        &MAX_WINDOW_DAYS,
        1,
        36_600,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.max_account_ids",
        c"Most account ids one account_ids list may hold.",
        c"A longer list is refused (54000) before anything is recorded; '0' syncs every account of the section.",
        &MAX_ACCOUNT_IDS,
        1,
        1_000_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.upsert_group_rows",
        c"Mart rows of the window an upsert compares in one group of accounts, at most.",
        c"Upsert holds 32 bytes per mart row of a group in memory; a table that may hold more rows has its accounts counted and grouped (an account is never split).",
        &UPSERT_GROUP_ROWS,
        1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.max_years_from_today",
        c"How many years before or after today a sync's window may lie.",
        c"A window outside is refused (22023) before anything is recorded: each month of a window may get a partition created.",
        &MAX_YEARS_FROM_TODAY,
        1,
        1000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.max_syncs_per_role",
        c"Most syncs one role that is not a superuser may run at the same time.",
        c"Each running sync holds a background worker slot (its status writer); a role past the limit is refused (53400) before anything is recorded, so no role can take every slot.",
        &MAX_SYNCS_PER_ROLE,
        1,
        1000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.accounts_per_query",
        c"Most account ids sent to the warehouse in one statement.",
        c"Longer account lists are fetched with several statements (Redshift statements are limited to 16 MB).",
        &ACCOUNTS_PER_QUERY,
        1,
        100_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pg_datamart.max_warehouse_queries",
        c"Most warehouse queries one sync runs at a time (1 or 2).",
        c"2: the next table's query is sent while the current table loads (prefetch); 1: one table at a time.",
        &MAX_WAREHOUSE_QUERIES,
        1,
        2,
        GucContext::Userset,
        GucFlags::default(),
    );
}

/// Whether the next table's warehouse query may run while the current table loads.
pub fn prefetch() -> bool {
    MAX_WAREHOUSE_QUERIES.get() >= 2
}

/// The configured time zone, or None for the session's.
pub fn timezone() -> Option<String> {
    TIMEZONE
        .get()
        .and_then(|c| c.into_string().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub fn analyze_threshold() -> i32 {
    ANALYZE_THRESHOLD.get()
}

pub fn max_window_days() -> i32 {
    MAX_WINDOW_DAYS.get()
}

pub fn max_account_ids() -> usize {
    MAX_ACCOUNT_IDS.get().max(1) as usize
}

pub fn upsert_group_rows() -> i64 {
    UPSERT_GROUP_ROWS.get().max(1) as i64
}

pub fn max_years_from_today() -> i32 {
    MAX_YEARS_FROM_TODAY.get()
}

pub fn max_syncs_per_role() -> i64 {
    MAX_SYNCS_PER_ROLE.get() as i64
}

pub fn history_days() -> i32 {
    HISTORY_DAYS.get()
}

pub fn accounts_per_query() -> usize {
    ACCOUNTS_PER_QUERY.get().max(1) as usize
}

pub fn lock_timeout_ms() -> i32 {
    LOCK_TIMEOUT_MS.get()
}

pub fn lock_wait_ms() -> i64 {
    LOCK_WAIT_MS.get() as i64
}

pub fn lock_accounts_max() -> usize {
    LOCK_ACCOUNTS_MAX.get().max(0) as usize
}

pub fn warn_factor() -> f64 {
    WARN_FACTOR.get()
}

pub fn kill_factor() -> f64 {
    KILL_FACTOR.get()
}

pub fn watchdog_min_seconds() -> f64 {
    WATCHDOG_MIN_S.get() as f64
}

pub fn max_failures() -> i32 {
    MAX_FAILURES.get()
}

pub fn ban_minutes() -> i32 {
    BAN_MINUTES.get()
}

pub fn remote_timeout_ms() -> i32 {
    REMOTE_TIMEOUT_MS.get()
}

/// `pg_datamart.timezone` must be a time zone PostgreSQL knows (or empty): a bad one is refused
/// when it is set, naming the setting, not at the next sync.
#[pg_guard]
unsafe extern "C-unwind" fn check_timezone(
    newval: *mut *mut std::ffi::c_char,
    _extra: *mut *mut std::ffi::c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: PostgreSQL passes a valid (possibly NULL) string.
    let value = unsafe { (*newval).as_ref() }.map(|p| unsafe { std::ffi::CStr::from_ptr(p) });
    let Some(name) = value.filter(|v| !v.to_bytes().trim_ascii().is_empty()) else {
        return true;
    };
    // SAFETY: pg_tzset reads the name; the error strings are palloc'd as GUC checks expect.
    unsafe {
        if !pg_sys::pg_tzset(name.as_ptr()).is_null() {
            return true;
        }
        pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(
            c"pg_datamart.timezone must name a time zone PostgreSQL knows, or be empty for the session's TimeZone."
                .as_ptr(),
        );
        pg_sys::GUC_check_errhint_string = pg_sys::pstrdup(
            c"See pg_timezone_names, e.g. SET pg_datamart.timezone = 'Asia/Seoul'.".as_ptr(),
        );
    }
    false
}
