//! Access levels as data: what `dm_grant(role, access)` grants and `dm_revoke(role, access)`
//! revokes, object by object. Every member object of the extension is listed here, in a level,
//! as owner-only, or as checking its caller itself, so a new function cannot be forgotten
//! (`pgrx-tests/tests/roles.rs` checks the installed extension against these lists).
//!
//! Levels nest: `loader` includes `monitor`, `admin` includes `loader`. Each list holds what its
//! level adds. `dm_grant` grants a level and the levels below it; `dm_revoke(role, level)` takes
//! back that level and the ones above it, so `dm_revoke(r, 'loader')` leaves an admin a monitor
//! and `dm_revoke(r, 'admin')` leaves it a loader. Both build statements only for what the role
//! lacks (or holds): they are idempotent and return exactly what they changed.
//!
//! No level writes the run history (`dm.run`, `dm.run_step`) or draws its run ids: only
//! pg_datamart's status writer does, as the extension's owner.

use crate::domain::{Access, Closed};
use crate::error::{PlanError, PlanResult};
use crate::quote;
use crate::snapshot::Schemas;

/// The kinds of object pg_datamart grants on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Schema,
    Table,
    View,
    Sequence,
    Function,
    Procedure,
}

impl Kind {
    /// The keyword of `GRANT ... ON <keyword> name` (a view is granted as a table).
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Schema => "SCHEMA",
            Kind::Table | Kind::View => "TABLE",
            Kind::Sequence => "SEQUENCE",
            Kind::Function => "FUNCTION",
            Kind::Procedure => "PROCEDURE",
        }
    }

    /// The catalog holding the object's ACL, as `sql/queries/held_privileges.sql` reads it:
    /// `schema` (pg_namespace), `relation` (pg_class) or `routine` (pg_proc).
    pub fn catalog(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Table | Kind::View | Kind::Sequence => "relation",
            Kind::Function | Kind::Procedure => "routine",
        }
    }
}

/// Where an object lives: schema `dm`, or the schema the extension was created in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    Dm,
    Ours,
}

/// One member object of the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    pub kind: Kind,
    pub home: Home,
    pub name: &'static str,
    /// A routine's argument types (`text, oid`); empty for other kinds.
    pub args: &'static str,
}

impl Object {
    /// The object's SQL name: `"dm"`, `"dm"."run"`, `"public"."dm_sync"(text, text, date, date, text)`.
    pub fn sql_name(&self, schemas: &Schemas) -> String {
        let schema = match self.home {
            Home::Dm => "dm",
            Home::Ours => schemas.ours.as_str(),
        };
        match self.kind {
            Kind::Schema => quote::ident(self.name),
            Kind::Function | Kind::Procedure => {
                format!("{}({})", quote::qualified(schema, self.name), self.args)
            }
            Kind::Table | Kind::View | Kind::Sequence => quote::qualified(schema, self.name),
        }
    }
}

/// Privileges on one object that a level gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub object: Object,
    pub privileges: &'static [&'static str],
}

const READ: &[&str] = &["SELECT"];
const WRITE: &[&str] = &["INSERT", "UPDATE", "DELETE"];
const EXECUTE: &[&str] = &["EXECUTE"];
const USAGE: &[&str] = &["USAGE"];

const fn object(kind: Kind, home: Home, name: &'static str, args: &'static str) -> Object {
    Object {
        kind,
        home,
        name,
        args,
    }
}

const fn dm_table(name: &'static str) -> Object {
    object(Kind::Table, Home::Dm, name, "")
}

const fn dm_fn(name: &'static str, args: &'static str) -> Object {
    object(Kind::Function, Home::Dm, name, args)
}

const fn our_fn(name: &'static str, args: &'static str) -> Object {
    object(Kind::Function, Home::Ours, name, args)
}

const fn entry(object: Object, privileges: &'static [&'static str]) -> Entry {
    Entry { object, privileges }
}

const fn read(object: Object) -> Entry {
    entry(object, READ)
}

const fn exec(object: Object) -> Entry {
    entry(object, EXECUTE)
}

/// `dm_add_section` / `dm_alter_section` arguments (regclass in the public API, oid inside).
const SECTION_ARGS: &str = "text, text, regclass, integer, text, text, text, text[], text, integer";
const SECTION_ARGS_OID: &str = "text, text, oid, integer, text, text, text, text[], text, integer";
const SYNC_ARGS: &str = "text, text, date, date, text";

/// `monitor`: reads `dm_status`, the run history and the configuration; runs nothing else.
/// `dm_status` calls `dm._status_rows`, which reconciles stale runs (`dm._reconcile`).
pub const MONITOR: &[Entry] = &[
    entry(object(Kind::Schema, Home::Dm, "dm", ""), USAGE),
    read(object(Kind::View, Home::Ours, "dm_status", "")),
    read(dm_table("run")),
    read(dm_table("run_step")),
    read(dm_table("section")),
    read(dm_table("section_table")),
    read(dm_table("column_map")),
    read(dm_table("pause")),
    read(dm_table("generated_procedure")),
    read(dm_table("access")),
    exec(dm_fn("_status_rows", "")),
    exec(dm_fn("_reconcile", "")),
];

/// `loader`: monitor, plus `dm_sync`, `dm_resume`, `dm_preview` and the helpers the sync path
/// calls as the syncing role; EXECUTE on the generated procedures is added from
/// `dm.generated_procedure` ([`Target::generated`]). Whose tables a loader may sync is
/// decided by its privileges on them, checked before any data moves.
pub const LOADER: &[Entry] = &[
    exec(object(Kind::Procedure, Home::Ours, "dm_sync", SYNC_ARGS)),
    exec(object(Kind::Procedure, Home::Ours, "dm_resume", "bigint")),
    exec(our_fn("dm_preview", SYNC_ARGS)),
    exec(dm_fn("_run_begin", SYNC_ARGS)),
    exec(dm_fn("_resume_begin", "bigint")),
    exec(object(Kind::Procedure, Home::Dm, "_run_steps", "bigint")),
    exec(dm_fn("_sync_step", "bigint, integer")),
    exec(dm_fn("_step_done", "bigint, integer, jsonb")),
    exec(dm_fn("_step_failed", "bigint, integer, text, text")),
    exec(dm_fn("_step_cancelled", "bigint, integer")),
    exec(dm_fn("_run_finish", "bigint")),
    exec(dm_fn("_preview", SYNC_ARGS)),
    exec(dm_fn("_check_generated", "text, text")),
    exec(dm_fn("_scrub", "text")),
];

/// `admin`: loader, plus every configuration function (they run as the caller, so it also
/// writes the configuration tables; none of them has a sequence). `dm.generated_procedure` is
/// written only by `dm._generate_procedures` / `dm._drop_generated`, which run as the owner.
pub const ADMIN: &[Entry] = &[
    entry(dm_table("section"), WRITE),
    entry(dm_table("section_table"), WRITE),
    entry(dm_table("column_map"), WRITE),
    entry(dm_table("pause"), WRITE),
    exec(our_fn("dm_add_section", SECTION_ARGS)),
    exec(our_fn("dm_alter_section", SECTION_ARGS)),
    exec(our_fn("dm_drop_section", "text")),
    exec(our_fn("dm_add_table", "text, regclass, text, text")),
    exec(our_fn("dm_remove_table", "text, regclass")),
    exec(our_fn("dm_map_column", "regclass, text, text")),
    exec(our_fn("dm_unmap_column", "regclass, text")),
    exec(our_fn("dm_discover_columns", "text")),
    exec(our_fn("dm_pause", "text")),
    exec(our_fn("dm_unpause", "text")),
    exec(our_fn("dm_unban", "text")),
    exec(our_fn("dm_schedule", "text, text, text")),
    exec(our_fn("dm_unschedule", "text")),
    exec(our_fn("dm_generate_procedures", "")),
    exec(our_fn("dm_watchdog", "")),
    exec(dm_fn("_add_section", SECTION_ARGS_OID)),
    exec(dm_fn("_alter_section", SECTION_ARGS_OID)),
    exec(dm_fn("_drop_section", "text")),
    exec(dm_fn("_add_table", "text, oid, text, text")),
    exec(dm_fn("_remove_table", "text, oid")),
    exec(dm_fn("_map_column", "oid, text, text")),
    exec(dm_fn("_unmap_column", "oid, text")),
    exec(dm_fn("_discover_columns", "text")),
    exec(dm_fn("_pause", "text")),
    exec(dm_fn("_unpause", "text")),
    exec(dm_fn("_schedule", "text, text, text")),
    exec(dm_fn("_unschedule", "text")),
    exec(dm_fn("_generate_procedures", "")),
    exec(dm_fn("_drop_generated", "text")),
    exec(dm_fn("_watchdog", "")),
    // The check the `dm._config_guard` trigger runs, as the role writing the configuration.
    exec(dm_fn("_check_config_write", "oid, text, oid[], text")),
    // The read check the same trigger runs: the writing role's own user mapping must read
    // the remote table and columns the written configuration makes syncs read.
    exec(dm_fn(
        "_check_remote_read",
        "text, text, text, text, oid, text, text, text, text, text",
    )),
];

/// Member objects no level is granted, and why: only the extension's owner (and superusers)
/// use them.
pub const OWNER_ONLY: &[(Object, &str)] = &[
    (
        object(Kind::Sequence, Home::Dm, "run_run_id_seq", ""),
        "run ids are drawn by the status writer, as the extension's owner",
    ),
    (
        dm_fn("_config_guard", ""),
        "a trigger function: the configuration tables' trigger runs it (no EXECUTE needed); it calls dm._check_config_write and dm._check_remote_read as the writing role",
    ),
    (
        dm_fn("_forced_columns", ""),
        "a trigger function: the triggers of dm.section and dm.pause run it as the writing role; it only sets the columns their API writes",
    ),
    (
        dm_fn("_grant", "oid, text"),
        "the work of dm_grant, which only a superuser or the extension's owner may call",
    ),
    (
        dm_fn("_revoke", "oid, text"),
        "the work of dm_revoke, which only a superuser or the extension's owner may call",
    ),
];

/// Member routines every role may execute because they check their caller themselves
/// (a clear 42501 with a hint, rather than PostgreSQL's bare "permission denied").
pub const CALLER_CHECKED: &[Object] = &[
    our_fn("dm_grant", "regrole, text"),
    our_fn("dm_revoke", "regrole, text"),
];

/// What `level` adds to the level below it.
pub fn own_entries(level: Access) -> &'static [Entry] {
    match level {
        Access::Monitor => MONITOR,
        Access::Loader => LOADER,
        Access::Admin => ADMIN,
    }
}

/// One object and the privileges in question on it, with its SQL name resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    /// The SQL name: usable in `GRANT` and by `to_regclass` / `to_regprocedure`.
    pub name: String,
    pub privileges: Vec<&'static str>,
}

impl Target {
    fn of(entry: &Entry, schemas: &Schemas) -> Target {
        Target {
            kind: entry.object.kind,
            name: entry.object.sql_name(schemas),
            privileges: entry.privileges.to_vec(),
        }
    }

    /// EXECUTE on a procedure made by `dm_generate_procedures`, by its recorded signature
    /// (`dm.generated_procedure.procedure`, already quoted).
    pub fn generated(signature: &str) -> Target {
        Target {
            kind: Kind::Procedure,
            name: signature.to_string(),
            privileges: EXECUTE.to_vec(),
        }
    }
}

/// What `level` itself adds, resolved; `generated`: the signatures of the generated procedures.
pub fn level_targets(schemas: &Schemas, level: Access, generated: &[String]) -> Vec<Target> {
    let mut targets: Vec<Target> = own_entries(level)
        .iter()
        .map(|e| Target::of(e, schemas))
        .collect();
    if level == Access::Loader {
        targets.extend(generated.iter().map(|g| Target::generated(g)));
    }
    targets
}

/// Everything a role with `level` holds: its level and every level it includes.
pub fn granted(schemas: &Schemas, level: Access, generated: &[String]) -> Vec<Target> {
    Access::ALL
        .iter()
        .filter(|l| level.includes(**l))
        .flat_map(|l| level_targets(schemas, *l, generated))
        .collect()
}

/// What `dm_revoke(role, from)` takes away: `from` and every level that includes it.
pub fn revoked(schemas: &Schemas, from: Access, generated: &[String]) -> Vec<Target> {
    Access::ALL
        .iter()
        .filter(|l| l.includes(from))
        .flat_map(|l| level_targets(schemas, *l, generated))
        .collect()
}

/// The catalog kinds and SQL names of `targets`, the two arrays
/// `sql/queries/held_privileges.sql` takes.
pub fn lookup(targets: &[Target]) -> (Vec<String>, Vec<String>) {
    targets
        .iter()
        .map(|t| (t.kind.catalog().to_string(), t.name.clone()))
        .unzip()
}

/// `GRANT privileges ON <kind> name TO "role"`.
pub fn grant_sql(kind: Kind, name: &str, privileges: &[&str], role: &str) -> String {
    format!(
        "GRANT {} ON {} {name} TO {}",
        privileges.join(", "),
        kind.keyword(),
        quote::ident(role)
    )
}

/// `REVOKE privileges ON <kind> name FROM "role"`.
pub fn revoke_sql(kind: Kind, name: &str, privileges: &[&str], role: &str) -> String {
    format!(
        "REVOKE {} ON {} {name} FROM {}",
        privileges.join(", "),
        kind.keyword(),
        quote::ident(role)
    )
}

/// `REVOKE ALL ON <kind> name FROM PUBLIC`: a new routine is executable by everyone until
/// then.
pub fn revoke_public_sql(kind: Kind, name: &str) -> String {
    format!("REVOKE ALL ON {} {name} FROM PUBLIC", kind.keyword())
}

fn missing_object(t: &Target) -> PlanError {
    PlanError::invalid_definition(
        format!(
            "{} {} of pg_datamart does not exist",
            t.kind.keyword().to_lowercase(),
            t.name
        ),
        "The extension's SQL objects do not match its library.",
        "Run ALTER EXTENSION pg_datamart UPDATE, or reinstall pg_datamart.",
    )
}

/// Pairs each target with the privileges the role holds on it (`held[i]`; None: the object
/// does not exist) and keeps the privileges `keep` selects, one statement per object.
fn statements(
    targets: &[Target],
    held: &[Option<Vec<String>>],
    keep: impl Fn(bool) -> bool,
    render: impl Fn(&Target, &[&str]) -> String,
) -> PlanResult<Vec<String>> {
    assert_eq!(targets.len(), held.len(), "one held list per target");
    let mut out = Vec::new();
    for (t, h) in targets.iter().zip(held) {
        let h = h.as_ref().ok_or_else(|| missing_object(t))?;
        let privileges: Vec<&str> = t
            .privileges
            .iter()
            .copied()
            .filter(|p| keep(h.iter().any(|x| x == p)))
            .collect();
        if !privileges.is_empty() {
            out.push(render(t, &privileges));
        }
    }
    Ok(out)
}

/// The GRANTs that give `role` what it lacks of `targets`; nothing when it has it all.
pub fn grant_statements(
    targets: &[Target],
    held: &[Option<Vec<String>>],
    role: &str,
) -> PlanResult<Vec<String>> {
    statements(
        targets,
        held,
        |has| !has,
        |t, p| grant_sql(t.kind, &t.name, p, role),
    )
}

/// The REVOKEs that take from `role` what it holds of `targets`; nothing when it holds none.
pub fn revoke_statements(
    targets: &[Target],
    held: &[Option<Vec<String>>],
    role: &str,
) -> PlanResult<Vec<String>> {
    statements(
        targets,
        held,
        |has| has,
        |t, p| revoke_sql(t.kind, &t.name, p, role),
    )
}

/// A role's level after `dm_grant(role, level)`: granting a lower level than it has changes
/// nothing.
pub fn after_grant(current: Option<Access>, level: Access) -> Access {
    match current {
        Some(c) if c.includes(level) => c,
        _ => level,
    }
}

/// A role's level after `dm_revoke(role, from)` (None: every level): below `from`, or none.
pub fn after_revoke(current: Option<Access>, from: Option<Access>) -> Option<Access> {
    let from = from.unwrap_or(Access::Monitor);
    match current {
        Some(c) if c.includes(from) => from.below(),
        other => other,
    }
}

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// Role `$1`'s name and whether it owns the extension, as a JSON object.
pub const ROLE_SQL: &str = "SELECT pg_catalog.json_build_object('name', r.rolname,
                    'owns_extension', r.oid OPERATOR(pg_catalog.=) (SELECT e.extowner FROM pg_catalog.pg_extension e
                                                                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_datamart'::pg_catalog.name))
           FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid";

/// The generated procedures that exist, as a JSON array of signatures.
pub const GENERATED_PROCEDURES_SQL: &str =
    "SELECT COALESCE(pg_catalog.json_agg(g.procedure ORDER BY g.section), '[]'::pg_catalog.json)
           FROM dm.generated_procedure g WHERE pg_catalog.to_regprocedure(g.procedure) IS NOT NULL";

/// Role `$1`'s recorded access level, as JSON.
pub const ACCESS_OF_SQL: &str = "SELECT pg_catalog.to_json(a.access) FROM dm.access a WHERE a.role::pg_catalog.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid";

/// Forgets the access of roles that no longer exist.
pub const FORGET_DROPPED_SQL: &str = "DELETE FROM dm.access a WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) a.role::pg_catalog.oid)";

/// Forgets role `$1`'s access.
pub const FORGET_ACCESS_SQL: &str = "DELETE FROM dm.access a WHERE a.role::pg_catalog.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid";

/// Records role `$1`'s access level `$2`.
pub const RECORD_ACCESS_SQL: &str = "INSERT INTO dm.access AS a (role, access) VALUES ($1::pg_catalog.oid::pg_catalog.regrole, $2::pg_catalog.text)
             ON CONFLICT (role) DO UPDATE SET access = EXCLUDED.access, granted_at = pg_catalog.now(), granted_by = CURRENT_USER
              WHERE a.access OPERATOR(pg_catalog.<>) EXCLUDED.access";

/// Every role's recorded access, as a JSON array of [role, access].
pub const ACCESS_LIST_SQL: &str = "SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_array(r.rolname, a.access) ORDER BY r.rolname), '[]'::pg_catalog.json)
           FROM dm.access a JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.role::pg_catalog.oid";
