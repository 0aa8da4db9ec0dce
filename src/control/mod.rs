//! Job control around the load: (table, account) locks, pause switch, bans, VACUUM policy
//! and the end of a run with its statement (`guard`), the privileges a sync needs
//! (`privileges`), the switch to an owner for fixed statements (`as_owner`), and the
//! watchdog's checks (`watchdog`).

pub mod as_owner;
pub mod guard;
pub mod privileges;
pub mod watchdog;
