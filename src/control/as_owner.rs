//! Running as another role: the switch to a table's owner (or the extension's owner) for the
//! few fixed statements a caller may not run with its own rights.
//!
//! PostgreSQL runs its own maintenance of a table as the table's owner: `vacuum_rel` and
//! `do_analyze_rel` (commands/vacuum.c, analyze.c) and `RefreshMatViewByOid` (commands/
//! matview.c) save the user id and security context with `GetUserIdAndSecContext`, switch with
//! `SetUserIdAndSecContext(owner, saved | SECURITY_RESTRICTED_OPERATION)` inside a new GUC nest
//! level, and restore both afterwards. [`as_role`] does the same:
//!
//! - with `SECURITY_LOCAL_USERID_CHANGE` (no `SET ROLE` in between) and
//!   `SECURITY_RESTRICTED_OPERATION` (no temporary objects, no `SET ROLE` / `SET SESSION
//!   AUTHORIZATION`, no `LISTEN`, no cursors WITH HOLD: nothing that outlives the statement
//!   with the owner's rights); a permanent `CREATE TABLE` is allowed under it;
//! - restored on every path: a guard's `Drop` puts the saved user id and context back, also
//!   while an ERROR unwinds through pgrx as a Rust panic (the (sub)transaction abort that
//!   follows restores them once more, and pops the GUC nest level).
//!
//! Its callers: the partition DDL and ANALYZE of a load (`crate::exec::partition`) and the
//! watchdog's note (`crate::control::watchdog`).

use pgrx::pg_sys;

/// While alive, the backend runs as another role; dropping it switches back.
struct Switched {
    saved_user: pg_sys::Oid,
    saved_context: i32,
    nest_level: i32,
}

impl Switched {
    /// Becomes `role` for the statements run until the guard is dropped.
    fn to(role: pg_sys::Oid) -> Switched {
        let mut saved_user = pg_sys::InvalidOid;
        let mut saved_context = 0;
        // SAFETY: on the backend's thread: GetUserIdAndSecContext writes the current user id and
        // security context into the two locals; SetUserIdAndSecContext only sets those backend
        // globals, which Drop restores.
        unsafe {
            pg_sys::GetUserIdAndSecContext(&mut saved_user, &mut saved_context);
            pg_sys::SetUserIdAndSecContext(
                role,
                saved_context
                    | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32
                    | pg_sys::SECURITY_RESTRICTED_OPERATION as i32,
            );
        }
        // Settings changed meanwhile (by an event trigger, say) end with the statement.
        // SAFETY: on the backend's thread in a transaction; the level is popped by Drop, or by the
        // abort that follows an ERROR.
        let nest_level = unsafe { pg_sys::NewGUCNestLevel() };
        Switched {
            saved_user,
            saved_context,
            nest_level,
        }
    }
}

impl Drop for Switched {
    fn drop(&mut self) {
        // SAFETY: on the backend's thread: nest_level was pushed by `to` and is popped at most
        // once, here (not while an ERROR unwinds: the abort does it then); SetUserIdAndSecContext
        // only sets backend globals, which is fine during unwinding.
        unsafe {
            // On an ERROR the abort that follows pops the nest level; popping it here, in the
            // middle of the error's unwinding, would run GUC code PostgreSQL does not expect.
            if !std::thread::panicking() {
                pg_sys::AtEOXact_GUC(false, self.nest_level);
            }
            pg_sys::SetUserIdAndSecContext(self.saved_user, self.saved_context);
        }
    }
}

/// Runs `f` as `role`, and is back to the caller's identity when it returns or fails.
pub(crate) fn as_role<T>(role: pg_sys::Oid, f: impl FnOnce() -> T) -> T {
    let _switched = Switched::to(role);
    f()
}
