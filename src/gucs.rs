//! Settings, all under the `pg_datamart.` prefix. Each is documented in the README's settings
//! table; keep the two in step.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CString;

/// Time zone that decides "today" for the default window. Empty: the session's `TimeZone`.
pub static TIMEZONE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Account ids per remote statement; longer lists are split into several statements.
pub static ACCOUNTS_PER_QUERY: GucSetting<i32> = GucSetting::<i32>::new(1000);

pub fn init() {
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

pub fn accounts_per_query() -> usize {
    ACCOUNTS_PER_QUERY.get().max(1) as usize
}
