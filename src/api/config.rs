//! Section configuration: registering sections, their tables and column mappings. Every
//! write here binds its values; no SQL text is built from input.

use crate::catalog::{mart_table, section as load_section};
use crate::error::{
    no_null_elements, required, DmError, DmResult, SpiContext, MART_TABLE_HINT, SECTION_HINT,
};
use pg_datamart_plan::config::{
    check_days, check_section_name, check_storage, check_vacuum, not_empty, parse_remote_table,
    DATE_COLUMN_HINT,
};
use pg_datamart_plan::{Closed, Mode};
use pgrx::prelude::*;
use pgrx::{pg_sys, PgSqlErrorCode};

/// What to pass for storage_parameters (NULL itself means the defaults; a NULL element is refused).
const STORAGE_HINT: &str =
    "Give each parameter as name=value, e.g. ARRAY['fillfactor=90'], or pass NULL for the defaults.";

/// Checks each storage parameter with PostgreSQL's own parser for a table's and its TOAST
/// table's options (as `CREATE TABLE ... WITH (...)` of a partition will), so that
/// 'nonsense=1' or 'fillfactor=5' is refused at registration, naming the parameter, instead
/// of failing at the first partition a sync creates.
fn validate_storage(params: &[String]) -> DmResult<()> {
    for p in params {
        let (name, value) = p.split_once('=').unwrap_or((p.as_str(), ""));
        let (namespace, name) = match name.split_once('.') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, name),
        };
        let c = |t: &str| std::ffi::CString::new(t).unwrap_or_default();
        let (ns_c, name_c, value_c) = (namespace.map(c), c(name), c(value));
        // SAFETY: on the backend's thread in a transaction; every string handed to PostgreSQL is
        // pstrdup'd, and the namespaces array is null-terminated and outlives the calls. An ERROR
        // from the reloptions parser becomes a Rust panic that PgTryBuilder catches.
        let refused: Option<String> = PgTryBuilder::new(|| unsafe {
            let arg = pg_sys::makeString(pg_sys::pstrdup(value_c.as_ptr())).cast::<pg_sys::Node>();
            let elem = match &ns_c {
                Some(ns) => pg_sys::makeDefElemExtended(
                    pg_sys::pstrdup(ns.as_ptr()),
                    pg_sys::pstrdup(name_c.as_ptr()),
                    arg,
                    pg_sys::DefElemAction::DEFELEM_UNSPEC,
                    -1,
                ),
                None => pg_sys::makeDefElem(pg_sys::pstrdup(name_c.as_ptr()), arg, -1),
            };
            let list = pg_sys::lappend(std::ptr::null_mut(), elem.cast());
            let mut namespaces = [
                c"toast".as_ptr() as *mut std::ffi::c_char,
                std::ptr::null_mut(),
            ];
            let heap = pg_sys::transformRelOptions(
                pg_sys::Datum::from(0),
                list,
                std::ptr::null(),
                namespaces.as_mut_ptr(),
                false,
                false,
            );
            pg_sys::heap_reloptions(pg_sys::RELKIND_RELATION as std::ffi::c_char, heap, true);
            let toast = pg_sys::transformRelOptions(
                pg_sys::Datum::from(0),
                list,
                c"toast".as_ptr(),
                namespaces.as_mut_ptr(),
                false,
                false,
            );
            pg_sys::heap_reloptions(pg_sys::RELKIND_TOASTVALUE as std::ffi::c_char, toast, true);
            None
        })
        .catch_others(|e| {
            Some(match &e {
                pgrx::pg_sys::panic::CaughtError::PostgresError(r)
                | pgrx::pg_sys::panic::CaughtError::ErrorReport(r) => r.message().to_string(),
                pgrx::pg_sys::panic::CaughtError::RustPanic { ereport, .. } => {
                    ereport.message().to_string()
                }
            })
        })
        .execute();
        if let Some(why) = refused {
            return Err(DmError::invalid_argument(
                "storage_parameters",
                format!("{p:?} is not a usable storage parameter of a partition: {why}"),
                "Use table storage parameters of CREATE TABLE ... WITH (...), e.g. ARRAY['fillfactor=90', 'autovacuum_vacuum_threshold=200000', 'toast.autovacuum_enabled=false'].",
            ));
        }
    }
    Ok(())
}

/// What to pass for a mart column.
const MART_COLUMN_HINT: &str = "Name a column of the mart table, e.g. 'campaign_id'.";

/// What to pass for a warehouse column.
const REMOTE_COLUMN_HINT: &str =
    "Give the warehouse column's name exactly as the warehouse spells it, e.g. campaign.id.";

/// In upsert mode every table needs a usable unique key.
fn check_upsert_table(oid: u32, name: &str) -> DmResult<()> {
    mart_table(oid, &format!("mart table {name}"))?.upsert_key()?;
    Ok(())
}

/// A mode argument: one of [`Mode`].
pub fn check_mode(mode: &str) -> DmResult<Mode> {
    Ok(Mode::parse("mode", mode)?)
}

/// `column` must be a live, user-visible column of `table`.
pub fn check_column(table: pg_sys::Oid, column: &str, argument: &str) -> DmResult<()> {
    let exists = crate::catalog::exists(
        pg_datamart_plan::config::COLUMN_EXISTS_SQL,
        &[table.into(), column.into()],
        "a column",
    )?;
    if exists {
        return Ok(());
    }
    let table_name = regclass_name(table)?;
    let columns = Spi::get_one_with_args::<String>(
        pg_datamart_plan::config::COLUMN_NAMES_SQL,
        &[table.into()],
    )
    .doing("listing columns")?
    .unwrap_or_default();
    Err(DmError::undefined(
        PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
        format!("{argument}: table {table_name} has no column \"{column}\""),
        format!("Its columns are: {columns}."),
    ))
}

pub fn regclass_name(table: pg_sys::Oid) -> DmResult<String> {
    Spi::get_one_with_args::<String>(pg_datamart_plan::config::REGCLASS_NAME_SQL, &[table.into()])
        .doing("naming a table")
        .map(|n| n.unwrap_or_else(|| format!("oid {}", table.to_u32())))
}

/// A mart table argument must name an ordinary or partitioned table; an oid that is no
/// relation at all (`999999`, `0`) is 42P01 naming the oid.
fn check_mart_table(table: pg_sys::Oid) -> DmResult<()> {
    let relkind =
        Spi::get_one_with_args::<String>(pg_datamart_plan::config::RELKIND_SQL, &[table.into()])
            .doing("looking up the mart table")?;
    match relkind.as_deref() {
        Some("rt") | Some("pt") => Err(DmError::invalid_argument(
            "mart_table",
            format!(
                "{} is a temporary table: it is gone when its session ends, and every later sync of the section would fail",
                regclass_name(table)?
            ),
            "Register a permanent (or UNLOGGED) table.",
        )),
        Some(k) if k.starts_with('r') || k.starts_with('p') => {
            crate::control::privileges::check_user_table(table.to_u32(), "mart table")
        }
        Some(_) => Err(DmError::invalid_argument(
            "mart_table",
            format!("{} is not a table", regclass_name(table)?),
            "A mart table must be an ordinary or a partitioned table.",
        )),
        None => Err(DmError::undefined(
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
            format!("mart_table: no table with oid {}", table.to_u32()),
            "Pass the table's name, e.g. 'public.facebook_ad_dm'.",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(schema = "dm", name = "_add_section")]
#[search_path(pg_catalog, pg_temp)]
fn add_section(
    section: Option<&str>,
    account_column: Option<&str>,
    account_table: Option<pg_sys::Oid>,
    days: Option<i32>,
    mode: Option<&str>,
    server: Option<&str>,
    date_column: Option<&str>,
    storage_parameters: Option<Vec<Option<String>>>,
    vacuum_policy: Option<&str>,
    vacuum_wait: Option<i32>,
) -> Result<String, pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        let section = required(
            section,
            "section",
            "Name the new section, e.g. 'facebook_resource'.",
        )?;
        let account_column = required(
            account_column,
            "account_column",
            "Name the account column the mart tables share, e.g. 'account_id'.",
        )?;
        let account_table = required(
            account_table,
            "account_table",
            "Pass the mart table listing the accounts served, e.g. 'public.fb_account_dm'.",
        )?;
        let days = required(
            days,
            "days",
            "Pass the default window in days, e.g. 7 (the default).",
        )?;
        let mode = required(
            mode,
            "mode",
            "Pass 'delete_insert' (the default) or 'upsert'.",
        )?;
        let server = required(
            server,
            "server",
            "Pass the foreign server of the warehouse, e.g. 'redshift_prd' (the default).",
        )?;
        let date_column = required(date_column, "date_column", DATE_COLUMN_HINT)?;
        let storage_parameters = storage_parameters
            .map(|p| no_null_elements(p, "an element of storage_parameters", STORAGE_HINT))
            .transpose()?;
        check_section_name(section)?;
        check_vacuum(vacuum_policy, vacuum_wait)?;
        let storage = storage_parameters.unwrap_or_else(|| {
            pg_datamart_plan::partition::DEFAULT_STORAGE
                .iter()
                .map(|s| s.to_string())
                .collect()
        });
        check_storage(&storage)?;
        validate_storage(&storage)?;
        check_days(days)?;
        check_mode(mode)?;
        crate::exec::warehouse::check_server(server)?;
        crate::control::privileges::check_server_usage(server)?;
        check_column(account_table, account_column, "account_column")?;
        crate::control::privileges::check_account_table(
            account_table.to_u32(),
            &regclass_name(account_table)?,
        )?;
        not_empty("date_column", Some(date_column), DATE_COLUMN_HINT)?;
        let exists = crate::catalog::exists(
            pg_datamart_plan::config::SECTION_EXISTS_SQL,
            &[section.into()],
            "the section",
        )?;
        if exists {
            return Err(DmError::Duplicate {
                message: format!("section \"{section}\" already exists"),
                hint:
                    "Change it with dm_alter_section(), or remove it first with dm_drop_section()."
                        .into(),
            });
        }
        Spi::run_with_args(
            pg_datamart_plan::config::INSERT_SECTION_SQL,
            &[
                section.into(),
                account_column.into(),
                account_table.into(),
                days.into(),
                mode.into(),
                server.into(),
                date_column.into(),
                storage.into(),
                vacuum_policy.into(),
                vacuum_wait.into(),
            ],
        )
        .doing("registering the section")?;
        Ok(format!(
            "section {section} registered (owner {})",
            crate::control::privileges::current_user()
        ))
    })
}

/// Altering a section registers it anew: the caller needs what a sync of the altered section
/// needs (SELECT on its account table; SELECT, INSERT, DELETE, and UPDATE in upsert, on each of
/// its tables), so no admin can make a sync reach tables it could not register itself.
fn check_altered_privileges(
    current: &pg_datamart_plan::snapshot::Section,
    account_table: Option<pg_sys::Oid>,
    mode: Mode,
) -> DmResult<()> {
    match account_table {
        Some(t) => crate::control::privileges::check_account_table(t.to_u32(), &regclass_name(t)?)?,
        None => crate::control::privileges::check_account_table(
            current.account_table,
            &current.account_table_name,
        )?,
    }
    for t in &current.tables {
        crate::control::privileges::check_mart_table(t.mart_table, &t.mart_table_name, mode)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(schema = "dm", name = "_alter_section")]
#[search_path(pg_catalog, pg_temp)]
fn alter_section(
    section: Option<&str>,
    account_column: Option<&str>,
    account_table: Option<pg_sys::Oid>,
    days: Option<i32>,
    mode: Option<&str>,
    server: Option<&str>,
    date_column: Option<&str>,
    storage_parameters: Option<Vec<Option<String>>>,
    vacuum_policy: Option<&str>,
    vacuum_wait: Option<i32>,
) -> Result<String, pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        let storage_parameters = storage_parameters
            .map(|p| no_null_elements(p, "an element of storage_parameters", STORAGE_HINT))
            .transpose()?;
        let current = load_section(section)?;
        check_vacuum(vacuum_policy, vacuum_wait)?;
        if let Some(p) = &storage_parameters {
            check_storage(p)?;
            validate_storage(p)?;
        }
        let new_mode = match mode {
            Some(m) => check_mode(m)?,
            None => current.mode,
        };
        if mode.is_some() && new_mode == Mode::Upsert {
            for t in &current.tables {
                check_upsert_table(t.mart_table, &t.mart_table_name)?;
            }
        }
        if let Some(d) = days {
            check_days(d)?;
        }
        if let Some(s) = server {
            crate::exec::warehouse::check_server(s)?;
            crate::control::privileges::check_server_usage(s)?;
        }
        let table = account_table.unwrap_or(pg_sys::Oid::from(current.account_table));
        check_column(
            table,
            account_column.unwrap_or(&current.account_column),
            "account_column",
        )?;
        check_altered_privileges(&current, account_table, new_mode)?;
        not_empty("date_column", date_column, DATE_COLUMN_HINT)?;
        Spi::run_with_args(
            pg_datamart_plan::config::UPDATE_SECTION_SQL,
            &[
                section.into(),
                account_column.into(),
                account_table.into(),
                days.into(),
                mode.into(),
                server.into(),
                date_column.into(),
                storage_parameters.into(),
                vacuum_policy.into(),
                vacuum_wait.into(),
            ],
        )
        .doing("changing the section")?;
        Ok(format!("section {section} changed"))
    })
}

#[pg_extern(schema = "dm", name = "_drop_section")]
#[search_path(pg_catalog, pg_temp)]
fn drop_section(section: Option<&str>) -> Result<String, pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        let s = load_section(section)?;
        Spi::run_with_args(
            pg_datamart_plan::config::DELETE_SECTION_SQL,
            &[section.into()],
        )
        .doing("removing the section")?;
        // The generated procedures belong to the extension's owner: dropped by its helper.
        let dropped = Spi::get_one_with_args::<String>(
            pg_datamart_plan::config::DROP_GENERATED_SQL,
            &[section.into()],
        )
        .doing("dropping the section's generated procedure")?;
        Ok(format!(
            "section {section} removed ({} tables unregistered{}; mart tables and run history kept)",
            s.tables.len(),
            dropped.map(|p| format!(", procedure {p} dropped")).unwrap_or_default()
        ))
    })
}

#[pg_extern(schema = "dm", name = "_add_table")]
#[search_path(pg_catalog, pg_temp)]
fn add_table(
    section: Option<&str>,
    mart_table: Option<pg_sys::Oid>,
    remote_table: Option<&str>,
    account_column: Option<&str>,
) -> Result<String, pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        let mart_table = required(mart_table, "mart_table", MART_TABLE_HINT)?;
        let s = load_section(section)?;
        check_mart_table(mart_table)?;
        let mart_name = regclass_name(mart_table)?;
        if s.tables.iter().any(|t| t.mart_table == mart_table.to_u32()) {
            return Err(DmError::Duplicate {
                message: format!("{mart_name} is already a table of section {section}"),
                hint: "Remove it first with dm_remove_table() to register it again.".into(),
            });
        }
        not_empty(
            "account_column",
            account_column,
            "Pass NULL to use the section's account column.",
        )?;
        check_column(
            mart_table,
            account_column.unwrap_or(&s.account_column),
            "account_column",
        )?;
        check_column(mart_table, &s.date_column, "date_column (of the section)")?;
        if s.mode == Mode::Upsert {
            check_upsert_table(mart_table.to_u32(), &mart_name)?;
        }
        crate::control::privileges::check_mart_table(mart_table.to_u32(), &mart_name, s.mode)?;
        let (remote_schema, remote_name) = match remote_table {
            Some(r) => parse_remote_table(r)?,
            None => {
                let relname = Spi::get_one_with_args::<String>(
                    pg_datamart_plan::config::RELNAME_SQL,
                    &[mart_table.into()],
                )
                .doing("naming the mart table")?
                .unwrap_or_default();
                let base = relname.strip_suffix("_dm").unwrap_or(&relname).to_string();
                ("public".to_string(), base)
            }
        };
        let position = s.tables.iter().map(|t| t.position).max().unwrap_or(0) + 1;
        Spi::run_with_args(
            pg_datamart_plan::config::INSERT_SECTION_TABLE_SQL,
            &[
                section.into(),
                position.into(),
                mart_table.into(),
                remote_schema.as_str().into(),
                remote_name.as_str().into(),
                account_column.into(),
            ],
        )
        .doing("registering the table")?;
        Ok(format!(
            "{mart_name} added to section {section} as table {position}, fetched from {}",
            pg_datamart_plan::quote::qualified(&remote_schema, &remote_name)
        ))
    })
}

#[pg_extern(schema = "dm", name = "_remove_table")]
#[search_path(pg_catalog, pg_temp)]
fn remove_table(
    section: Option<&str>,
    mart_table: Option<pg_sys::Oid>,
) -> Result<String, pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        let section = required(section, "section", SECTION_HINT)?;
        let mart_table = required(mart_table, "mart_table", MART_TABLE_HINT)?;
        let s = load_section(section)?;
        let Some(t) = s
            .tables
            .iter()
            .find(|t| t.mart_table == mart_table.to_u32())
        else {
            return Err(DmError::undefined(
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!(
                    "{} is not a table of section {section}",
                    match regclass_name(mart_table)?.as_str() {
                        "-" | "" => format!("oid {}", mart_table.to_u32()),
                        name => name.to_string(),
                    }
                ),
                format!(
                    "Its tables are: {}.",
                    s.tables
                        .iter()
                        .map(|t| t.mart_table_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        // Close the gap so positions stay 1..n (the UNIQUE constraint is deferred).
        Spi::run_with_args(
            pg_datamart_plan::config::DELETE_SECTION_TABLE_SQL,
            &[section.into(), mart_table.into()],
        )
        .doing("removing the table")?;
        Spi::run_with_args(
            pg_datamart_plan::config::CLOSE_GAP_SQL,
            &[section.into(), t.position.into()],
        )
        .doing("renumbering the tables")?;
        Ok(format!(
            "{} removed from section {section}",
            t.mart_table_name
        ))
    })
}

/// Declaring where a mart column comes from changes what syncs write into it: the caller needs
/// what registering the table needs (as `dm_add_table` asks), in the strictest mode of the
/// sections that load it.
fn check_mapping_privileges(mart_table: pg_sys::Oid) -> DmResult<()> {
    let mode = crate::control::privileges::mode_of_table(mart_table.to_u32())?;
    crate::control::privileges::check_mart_table(
        mart_table.to_u32(),
        &regclass_name(mart_table)?,
        mode,
    )
}

#[pg_extern(schema = "dm", name = "_map_column")]
#[search_path(pg_catalog, pg_temp)]
fn map_column(
    mart_table: Option<pg_sys::Oid>,
    mart_column: Option<&str>,
    remote_column: Option<&str>,
) -> Result<String, pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        let mart_table = required(mart_table, "mart_table", MART_TABLE_HINT)?;
        let mart_column = required(mart_column, "mart_column", MART_COLUMN_HINT)?;
        let remote_column = required(remote_column, "remote_column", REMOTE_COLUMN_HINT)?;
        check_mart_table(mart_table)?;
        check_column(mart_table, mart_column, "mart_column")?;
        if pg_datamart_plan::snapshot::BOOKKEEPING.contains(&mart_column) {
            return Err(DmError::invalid_argument(
                "mart_column",
                format!("{mart_column} is the mart's own bookkeeping column: pg_datamart never fetches it, so a mapping for it would never be used"),
                "Map a column the warehouse provides.",
            ));
        }
        check_mapping_privileges(mart_table)?;
        let registered = Spi::get_one_with_args::<bool>(
            pg_datamart_plan::config::TABLE_CONFIGURED_SQL,
            &[mart_table.into()],
        )
        .doing("looking up the table's sections")?
        .unwrap_or(false);
        if !registered {
            return Err(DmError::invalid_argument(
                "mart_table",
                format!("{} is a table of no section: a mapping for it would never be used", regclass_name(mart_table)?),
                "Register it first with dm_add_table('section', 'schema.table'), then map its columns.",
            ));
        }
        not_empty("remote_column", Some(remote_column), REMOTE_COLUMN_HINT)?;
        Spi::run_with_args(
            pg_datamart_plan::config::DECLARE_COLUMN_SQL,
            &[mart_table.into(), mart_column.into(), remote_column.into()],
        )
        .doing("storing the column mapping")?;
        Ok(format!(
            "{}.{} is fetched from {}",
            regclass_name(mart_table)?,
            pg_datamart_plan::quote::ident(mart_column),
            pg_datamart_plan::quote::ident(remote_column)
        ))
    })
}

#[pg_extern(schema = "dm", name = "_unmap_column")]
#[search_path(pg_catalog, pg_temp)]
fn unmap_column(
    mart_table: Option<pg_sys::Oid>,
    mart_column: Option<&str>,
) -> Result<String, pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        let mart_table = required(mart_table, "mart_table", MART_TABLE_HINT)?;
        let mart_column = required(mart_column, "mart_column", MART_COLUMN_HINT)?;
        check_mart_table(mart_table)?;
        check_mapping_privileges(mart_table)?;
        let n = Spi::get_one_with_args::<i64>(
            pg_datamart_plan::config::FORGET_COLUMN_SQL,
            &[mart_table.into(), mart_column.into()],
        )
        .doing("removing the column mapping")?
        .unwrap_or(0);
        let name = regclass_name(mart_table)?;
        if n == 0 {
            return Err(DmError::undefined(
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!(
                    "{name}.{} has no column mapping",
                    pg_datamart_plan::quote::ident(mart_column)
                ),
                "See the mappings in dm.column_map.",
            ));
        }
        Ok(format!(
            "{name}.{} is fetched from the same-named column again",
            pg_datamart_plan::quote::ident(mart_column)
        ))
    })
}

/// The check behind the `dm._config_guard` trigger on `dm.section`, `dm.section_table` and
/// `dm.column_map`: an admin holds INSERT/UPDATE on those tables, so a row written directly,
/// not through `dm_add_section` / `dm_add_table` / `dm_map_column`, must pass the same
/// privilege checks, or an admin could make another role's sync (a superuser's, say) load a
/// table the admin could not register. Checks the current user's SELECT on `account_table`,
/// USAGE on `server`, and what a sync needs on each of `mart_tables` in `mode` (NULL: the
/// strictest mode of the sections loading the table). NULL arguments are not checked.
#[pg_extern(schema = "dm", name = "_check_config_write")]
#[search_path(pg_catalog, pg_temp)]
fn check_config_write(
    account_table: Option<pg_sys::Oid>,
    server: Option<&str>,
    mart_tables: Option<Vec<pg_sys::Oid>>,
    mode: Option<&str>,
) -> Result<(), pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        crate::control::guard::refuse_config_write_while_loading()?;
        if let Some(t) = account_table {
            crate::control::privileges::check_account_table(t.to_u32(), &regclass_name(t)?)?;
        }
        if let Some(s) = server {
            crate::control::privileges::check_server_usage(s)?;
        }
        let mode = mode.map(check_mode).transpose()?;
        for t in mart_tables.unwrap_or_default() {
            let mode = match mode {
                Some(m) => m,
                None => crate::control::privileges::mode_of_table(t.to_u32())?,
            };
            crate::control::privileges::check_mart_table(t.to_u32(), &regclass_name(t)?, mode)?;
        }
        Ok(())
    })
}

/// The read check behind the `dm._config_guard` trigger (issue 18): a sync reads the warehouse
/// with the syncing role's credentials, so a role writing the configuration must itself be
/// able to read, through its own user mapping (dblink's password rule), every remote table and
/// column the written configuration makes syncs read; otherwise an admin could point a
/// loader's section at data only the loader's warehouse user may read, and read it in the mart.
/// Runs `SELECT <the columns a sync reads> FROM <remote table> WHERE 1 = 0` on the warehouse
/// (the planner's [`pg_datamart_plan::table::probe_sql`]) as the current user for each table
/// concerned:
/// - a `dm.section_table` row: `section`, `mart_table` and the row's `remote_schema`,
///   `remote_table` and `table_account_column` (NULL: the section's);
/// - a changed `dm.section` row: every table of `section`, with the new `server`,
///   `account_column` and `date_column` (NULL: unchanged);
/// - a `dm.column_map` row: every registration of `mart_table` (any section, `section` NULL),
///   with `mart_column` read from `remote_column` (NULL: the mapping is being removed, so from
///   the same-named column).
///
/// Superusers are not checked: a superuser can read every user mapping's password anyway, and
/// restoring the configuration (as a superuser) must not need the warehouse.
#[allow(clippy::too_many_arguments)]
#[pg_extern(schema = "dm", name = "_check_remote_read")]
#[search_path(pg_catalog, pg_temp)]
fn check_remote_read(
    section: Option<&str>,
    server: Option<&str>,
    account_column: Option<&str>,
    date_column: Option<&str>,
    mart_table: Option<pg_sys::Oid>,
    remote_schema: Option<&str>,
    remote_table: Option<&str>,
    table_account_column: Option<&str>,
    mart_column: Option<&str>,
    remote_column: Option<&str>,
) -> Result<(), pgrx::pg_sys::panic::ErrorReport> {
    crate::error::report(|| {
        // SAFETY: superuser() reads the current user's role in the syscache, in a transaction.
        if unsafe { pg_sys::superuser() } {
            return Ok(());
        }
        let sections: Vec<String> = match (section, mart_table) {
            (Some(s), _) => vec![s.to_string()],
            (None, Some(t)) => Spi::get_one_with_args::<Vec<String>>(
                pg_datamart_plan::config::SECTIONS_OF_TABLE_SQL,
                &[t.into()],
            )
            .doing("looking up the table's sections")?
            .unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        for name in sections {
            let mut s = load_section(&name)?;
            if let Some(v) = server {
                s.server = v.to_string();
            }
            if let Some(v) = account_column {
                s.account_column = v.to_string();
            }
            if let Some(v) = date_column {
                s.date_column = v.to_string();
            }
            let tables: Vec<pg_datamart_plan::snapshot::SectionTable> =
                match (mart_table, remote_table) {
                    (Some(t), Some(r)) => vec![pg_datamart_plan::snapshot::SectionTable {
                        position: 0,
                        mart_table: t.to_u32(),
                        mart_table_name: regclass_name(t)?,
                        remote_schema: remote_schema.unwrap_or("public").to_string(),
                        remote_table: r.to_string(),
                        account_column: table_account_column.map(str::to_string),
                    }],
                    (Some(t), None) => s
                        .tables
                        .iter()
                        .filter(|x| x.mart_table == t.to_u32())
                        .cloned()
                        .collect(),
                    (None, _) => s.tables.clone(),
                };
            for t in &tables {
                let mut mart = crate::catalog::mart_table(
                    t.mart_table,
                    &format!("mart table {}", t.mart_table_name),
                )?;
                if let (Some(m), Some(oid)) = (mart_column, mart_table) {
                    if oid.to_u32() == t.mart_table {
                        match remote_column {
                            Some(r) => mart.mappings.insert(m.to_string(), r.to_string()),
                            // A mapping being removed: read from the same-named column.
                            None => mart.mappings.remove(m),
                        };
                    }
                }
                let sql = pg_datamart_plan::table::probe_sql(&s, t, &mart)?;
                crate::exec::warehouse::probe(
                    &s.server,
                    &sql,
                    &pg_datamart_plan::quote::display(&t.remote_schema, &t.remote_table),
                )?;
            }
        }
        Ok(())
    })
}
