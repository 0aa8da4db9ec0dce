//! Job control around the load: (table, account) locks, pause switch, bans, VACUUM policy
//! (`guard`), the privileges a sync needs (`privileges`), and the watchdog's checks
//! (`watchdog`).

pub mod guard;
pub mod privileges;
pub mod watchdog;
