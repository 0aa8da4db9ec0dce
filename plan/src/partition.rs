//! Monthly partitions: before a table is loaded, the months of the window get their own
//! partitions (created if missing, with the section's storage parameters, which are also
//! applied to the window's existing partitions), so no row of the window ever lands in a
//! DEFAULT partition. Only for mart tables range-partitioned on the section's date column;
//! other tables are loaded as they are. Partitions are user objects, never members of the
//! extension.

use crate::error::{Code, PlanError, PlanResult};
use crate::quote;
use crate::snapshot::{MartTable, Partition};
use crate::window::Window;
use chrono::{Datelike, Months, NaiveDate};

/// Storage parameters new partitions get unless the section says otherwise.
pub const DEFAULT_STORAGE: &[&str] = &[
    "autovacuum_vacuum_scale_factor=0",
    "autovacuum_vacuum_threshold=200000",
    "autovacuum_analyze_scale_factor=0",
];

/// What the window needs done to the table's partitions, and the partitions (as SQL names)
/// the load writes to, for ANALYZE and the VACUUM check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionPlan {
    /// Months without a partition while a DEFAULT partition exists: the executor counts the
    /// month's rows in DEFAULT before loading, and refuses when there are any.
    pub default_checks: Vec<DefaultCheck>,
    /// The months that have no partition: each created as a plain table, then attached.
    pub creates: Vec<NewPartition>,
    /// (partition, `ALTER TABLE ... SET (...)`) for existing partitions lacking the parameters.
    pub alters: Vec<(String, String)>,
    pub touched: Vec<String>,
    /// The DEFAULT partition (as SQL), if any: attaching a partition scans it for rows of the
    /// new range under an ACCESS EXCLUSIVE lock.
    pub default: Option<String>,
}

impl PartitionPlan {
    /// The DDL in execution order.
    pub fn statements(&self) -> Vec<String> {
        self.alters
            .iter()
            .map(|(_, s)| s.clone())
            .chain(
                self.creates
                    .iter()
                    .flat_map(|c| [c.create.clone(), c.attach.clone()]),
            )
            .collect()
    }
}

/// A monthly partition to create. Not `CREATE TABLE ... PARTITION OF`, which takes the
/// parent's ACCESS EXCLUSIVE lock and so waits for every reader of the table and queues every
/// later one behind it: a plain table shaped like the parent, then `ATTACH PARTITION`, which
/// takes SHARE UPDATE EXCLUSIVE (readers and writers go on). The executor takes that lock
/// conditionally, retrying until `pg_datamart.lock_timeout`, so it never queues either.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPartition {
    /// The partition, as SQL.
    pub name: String,
    /// Its schema and name as the catalog spells them.
    pub schema: String,
    pub relname: String,
    pub month: NaiveDate,
    /// Whether the window needs it (false: next month's, created ahead of time).
    pub in_window: bool,
    /// `CREATE TABLE part (LIKE parent ...) WITH (...)`: columns, NOT NULL, CHECK constraints,
    /// defaults, generated columns, storage and compression; indexes, unique and primary keys
    /// and foreign keys come with the ATTACH, from the parent's.
    pub create: String,
    /// `ALTER TABLE parent ATTACH PARTITION part FOR VALUES FROM (month) TO (next month)`.
    pub attach: String,
}

/// A month whose rows must not sit in the DEFAULT partition.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultCheck {
    /// `SELECT count(*) ...` of the month's rows in the DEFAULT partition (read through the
    /// parent table).
    pub count_sql: String,
    default_name: String,
    table: String,
    month: NaiveDate,
    hint: String,
}

impl DefaultCheck {
    /// The refusal when `rows` of the month sit in DEFAULT: creating its partition would fail,
    /// and loading without it would put the window's rows in DEFAULT.
    pub fn refusal(&self, rows: i64) -> PlanError {
        PlanError::new(
            Code::CheckViolation,
            format!(
                "the DEFAULT partition {} of {} holds {rows} rows of {}, a month the window needs as its own partition",
                self.default_name,
                self.table,
                self.month.format("%Y-%m")
            ),
            "Loading would either fail creating the month's partition or put the window's rows in the DEFAULT partition; nothing was changed.",
            self.hint.clone(),
        )
    }
}

/// `[from, to)` of a range partition; None is MINVALUE / MAXVALUE.
type Range = (Option<NaiveDate>, Option<NaiveDate>);

/// A bound of a range partition: None is MINVALUE / MAXVALUE.
pub fn parse_bound(text: &str) -> Result<Option<NaiveDate>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("MINVALUE") || t.eq_ignore_ascii_case("MAXVALUE") {
        return Ok(None);
    }
    let inner = t.trim_start_matches('\'').trim_end_matches('\'');
    let (date, time) = inner.split_at(inner.len().min(10));
    // A timestamptz bound carries its UTC offset ('2024-01-01 00:00:00+09'): midnight there.
    let time = time.trim();
    let offset = time.trim_start_matches("00:00:00");
    let is_offset = |o: &str| {
        o.starts_with(['+', '-'])
            && o.len() > 1
            && o[1..].chars().all(|c| c.is_ascii_digit() || c == ':')
    };
    if !(time.is_empty()
        || (time.starts_with("00:00:00") && (offset.is_empty() || is_offset(offset))))
    {
        return Err(format!("bound {t} is not at midnight"));
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(Some)
        .map_err(|e| format!("bound {t}: {e}"))
}

/// `[from, to)` of a range partition; None for DEFAULT.
fn range_of(p: &Partition) -> Result<Option<Range>, String> {
    let b = p.bound.trim();
    if b == "DEFAULT" {
        return Ok(None);
    }
    let from = b
        .find("FROM (")
        .ok_or_else(|| format!("unexpected bound {b}"))?
        + 6;
    let to_kw = b
        .find(") TO (")
        .ok_or_else(|| format!("unexpected bound {b}"))?;
    let lo = parse_bound(&b[from..to_kw])?;
    let hi = parse_bound(b[to_kw + 6..].trim_end_matches(')'))?;
    Ok(Some((lo, hi)))
}

/// FNV-1a, for short deterministic name suffixes.
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

/// `<table>_pYYYYMM`; when that would pass PostgreSQL's 63-byte limit, the table part is cut
/// (at a character boundary) and an 8-hex-digit hash of the full table name keeps it unique.
pub fn partition_name(table: &str, month: NaiveDate) -> String {
    let suffix = format!("_p{:04}{:02}", month.year(), month.month());
    if table.len() + suffix.len() <= 63 {
        return format!("{table}{suffix}");
    }
    let hash = format!("_{:08x}", fnv1a(table));
    let mut cut = 63 - suffix.len() - hash.len();
    while !table.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{hash}{suffix}", &table[..cut])
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Plans the partitions of `mart` for `window` from the catalog snapshot alone.
pub fn plan(
    mart: &MartTable,
    date_column: &str,
    storage: &[String],
    window: &Window,
    ahead: Option<NaiveDate>,
) -> PlanResult<PartitionPlan> {
    // The storage parameters end up in DDL that runs as the table's owner: checked again here,
    // whoever wrote them into dm.section.
    crate::config::check_storage(storage)?;
    let on_date = mart.partition_strategy.as_deref() == Some("r")
        && mart.partition_key.as_deref() == Some(std::slice::from_ref(&date_column.to_string()));
    if !on_date {
        return Ok(PartitionPlan {
            touched: vec![mart.sql_name()],
            ..Default::default()
        });
    }
    let unusable = |why: String| {
        PlanError::invalid_definition(
            format!("the partitions of {} cannot be managed: {why}", mart.display_name()),
            "pg_datamart creates monthly partitions [YYYY-MM-01, next month) on a date or timestamp key.",
            "Create the partitions the window needs yourself, or use monthly partitions with bounds at midnight.",
        )
    };
    let mut ranges = Vec::new();
    let mut default = None;
    for p in &mart.partitions {
        match range_of(p).map_err(unusable)? {
            Some(r) => ranges.push((p, r)),
            None => default = Some(p),
        }
    }
    let with = storage.join(", ");
    let mut plan = PartitionPlan {
        default: default.map(|d| quote::qualified(&d.schema, &d.name)),
        ..Default::default()
    };
    let mut month = month_start(window.start);
    while month <= window.end {
        let next = month + Months::new(1);
        let overlapping: Vec<&(&Partition, Range)> = ranges
            .iter()
            .filter(|(_, (lo, hi))| lo.is_none_or(|lo| lo < next) && hi.is_none_or(|hi| hi > month))
            .collect();
        // Is [month, next) covered by the union of the overlapping ranges?
        let mut sorted: Vec<Range> = overlapping.iter().map(|(_, r)| *r).collect();
        sorted.sort_by_key(|(lo, _)| *lo);
        let mut reach = Some(month); // covered up to here
        for (lo, hi) in &sorted {
            if let Some(r) = reach {
                if lo.is_none_or(|lo| lo <= r) {
                    reach = hi.map(|h| h.max(r));
                }
            }
        }
        let covered = reach.is_none_or(|r| r >= next);
        if covered {
            for (p, _) in &overlapping {
                let sql_name = quote::qualified(&p.schema, &p.name);
                let altered = plan.alters.iter().any(|(t, _)| *t == sql_name);
                // A sub-partitioned partition takes no table storage parameters (its leaves
                // are not managed here).
                if !storage.iter().all(|o| p.reloptions.contains(o))
                    && !with.is_empty()
                    && !altered
                    && !p.partitioned
                {
                    plan.alters.push((
                        sql_name.clone(),
                        format!("ALTER TABLE {sql_name} SET ({with})"),
                    ));
                }
                if !plan.touched.contains(&sql_name) {
                    plan.touched.push(sql_name);
                }
            }
        } else if !overlapping.is_empty() {
            return Err(unusable(format!(
                "month {} is only partly covered by {}",
                month.format("%Y-%m"),
                overlapping
                    .iter()
                    .map(|(p, _)| p.bound.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        } else {
            if let Some(d) = default {
                plan.default_checks
                    .push(default_check(mart, d, date_column, month, next));
            }
            let created = new_partition(mart, &with, month, true);
            plan.touched.push(created.name.clone());
            plan.creates.push(created);
        }
        month = next;
    }
    // Next month's partition, ahead of time, so that the first sync of a month creates none
    // (only without a DEFAULT partition, which would hold that month's rows until then, and
    // only when no existing range touches the month).
    if let Some(a) = ahead.map(month_start) {
        let next = a + Months::new(1);
        let untouched = !ranges
            .iter()
            .any(|(_, (lo, hi))| lo.is_none_or(|lo| lo < next) && hi.is_none_or(|hi| hi > a));
        if a > window.end && default.is_none() && untouched {
            plan.creates.push(new_partition(mart, &with, a, false));
        }
    }
    Ok(plan)
}

/// The month after the one of `today`, when the window reaches `today`'s month: the partition
/// a sync creates ahead of time.
pub fn ahead_month(window: &Window, today: NaiveDate) -> Option<NaiveDate> {
    let this = month_start(today);
    (window.end >= this).then(|| this + Months::new(1))
}

fn new_partition(mart: &MartTable, with: &str, month: NaiveDate, in_window: bool) -> NewPartition {
    let next = month + Months::new(1);
    let relname = partition_name(&mart.name, month);
    let name = quote::qualified(&mart.schema, &relname);
    let storage_clause = if with.is_empty() {
        String::new()
    } else {
        format!(" WITH ({with})")
    };
    let tablespace = mart
        .tablespace
        .as_deref()
        .map(|t| format!(" TABLESPACE {}", quote::ident(t)))
        .unwrap_or_default();
    NewPartition {
        create: format!(
            "CREATE TABLE {name} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION){storage_clause}{tablespace}",
            mart.sql_name()
        ),
        attach: format!(
            "ALTER TABLE {} ATTACH PARTITION {name} FOR VALUES FROM ({}) TO ({})",
            mart.sql_name(),
            quote::local_literal(&month.to_string()),
            quote::local_literal(&next.to_string()),
        ),
        name,
        schema: mart.schema.clone(),
        relname,
        month,
        in_window,
    }
}

fn default_check(
    mart: &MartTable,
    d: &Partition,
    date_column: &str,
    month: NaiveDate,
    next: NaiveDate,
) -> DefaultCheck {
    let default_name = quote::qualified(&d.schema, &d.name);
    let col = quote::ident(date_column);
    let (from, to) = (
        quote::local_literal(&month.to_string()),
        quote::local_literal(&next.to_string()),
    );
    let range = format!(
        "{col} {} {from} AND {col} {} {to}",
        quote::op(">="),
        quote::op("<")
    );
    let part = quote::qualified(&mart.schema, &partition_name(&mart.name, month));
    let cols = mart
        .columns
        .iter()
        .filter(|c| !c.generated)
        .map(|c| quote::ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    DefaultCheck {
        // Read through the parent (pruned to the partitions the month's range reaches), so a
        // loader with privileges on the mart table only needs none on its DEFAULT partition.
        count_sql: format!(
            "SELECT pg_catalog.count(*) FROM {} WHERE {range} AND tableoid {} {}::pg_catalog.regclass",
            mart.sql_name(),
            quote::op("="),
            quote::local_literal(&default_name)
        ),
        hint: format!(
            "Move the month out of the DEFAULT partition in one transaction: BEGIN; \
             CREATE TEMP TABLE moved ON COMMIT DROP AS SELECT * FROM {default_name} WHERE {range}; \
             DELETE FROM {default_name} WHERE {range}; \
             CREATE TABLE {part} PARTITION OF {parent} FOR VALUES FROM ({from}) TO ({to}); \
             INSERT INTO {parent} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM moved; COMMIT;",
            parent = mart.sql_name(),
        ),
        default_name,
        table: mart.display_name(),
        month,
    }
}

// ---- Queries the extension runs (moved here from src/: SQL lives in plan/ or sql/queries/).

/// Whether table `$1` has a partition named `$2` in schema `$3`.
pub const PARTITION_EXISTS_SQL: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
                          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                         WHERE i.inhparent OPERATOR(pg_catalog.=) $1::pg_catalog.oid
                           AND c.relname OPERATOR(pg_catalog.=) $2::pg_catalog.name
                           AND n.nspname OPERATOR(pg_catalog.=) $3::pg_catalog.name)";

/// What already has the name `$1` in schema `$2` (a relation or a type, with its owner), or NULL.
pub const NAME_TAKEN_BY_SQL: &str = "SELECT COALESCE(
           (SELECT pg_catalog.format('%s %s (owner %s)',
                    CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                                   WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
                                   WHEN 'f' THEN 'foreign table' ELSE 'relation' END,
                    c.oid::pg_catalog.regclass, r.rolname)
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
              JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
             WHERE c.relname OPERATOR(pg_catalog.=) $1::pg_catalog.name
               AND n.nspname OPERATOR(pg_catalog.=) $2::pg_catalog.name),
           (SELECT pg_catalog.format('type %s (owner %s)', t.oid::pg_catalog.regtype, r.rolname)
              FROM pg_catalog.pg_type t
              JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.typnamespace
              JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) t.typowner
             WHERE t.typname OPERATOR(pg_catalog.=) $1::pg_catalog.name
               AND n.nspname OPERATOR(pg_catalog.=) $2::pg_catalog.name))";
