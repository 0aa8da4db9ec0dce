//! Settings, all under the `pg_datamart.` prefix. Each is documented in the README's settings
//! table; keep the two in step.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CString;

/// Time zone that decides "today" for the default window. Empty: the session's `TimeZone`.
pub static TIMEZONE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Account ids per remote statement; longer lists are split into several statements.
pub static ACCOUNTS_PER_QUERY: GucSetting<i32> = GucSetting::<i32>::new(1000);

/// Foreign server (with a user mapping) for the loopback status connection. Empty: connect to
/// this server over its Unix socket as the current user, without a password.
pub static STATUS_SERVER: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Days of run history kept; older finished runs are deleted when a sync starts. 0 keeps all.
pub static HISTORY_DAYS: GucSetting<i32> = GucSetting::<i32>::new(30);

/// Rows written (deleted + inserted + updated) from which the touched partitions are analyzed.
pub static ANALYZE_THRESHOLD: GucSetting<i32> = GucSetting::<i32>::new(10_000);

pub fn init() {
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
        c"Foreign server used to write run status from a separate session.",
        c"Needed where the Unix-socket loopback without a password is refused (password authentication, non-superusers): CREATE SERVER ... FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host, port, dbname) plus a user mapping with the password.",
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
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"pg_datamart.timezone",
        c"Time zone that decides today's date for default sync windows.",
        c"Empty means the session's TimeZone. The field runs on 'Asia/Seoul'.",
        &TIMEZONE,
        GucContext::Userset,
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
}

/// The configured time zone, or None for the session's.
pub fn timezone() -> Option<String> {
    TIMEZONE
        .get()
        .and_then(|c| c.into_string().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The configured loopback status server, or None for the Unix-socket default.
pub fn status_server() -> Option<String> {
    STATUS_SERVER
        .get()
        .and_then(|c| c.into_string().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub fn analyze_threshold() -> i32 {
    ANALYZE_THRESHOLD.get()
}

pub fn history_days() -> i32 {
    HISTORY_DAYS.get()
}

pub fn accounts_per_query() -> usize {
    ACCOUNTS_PER_QUERY.get().max(1) as usize
}
