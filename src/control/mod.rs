//! Job control around the load: (table, account) locks, pause switch, bans, VACUUM policy
//! (`guard`), and the watchdog's checks (`watchdog`).

pub mod guard;
pub mod watchdog;
