//! Upsert by fingerprint, one group of accounts at a time ([`Upsert`]): the group's window rows
//! in the mart are read as key hash -> row hash (and where the row is), then every fetched row
//! of the group is compared as it streams past. Unchanged rows are dropped on the spot. A
//! changed row's old version is read for the columns it keeps (`id`, `created_at`, every
//! column not fetched) and deleted by its ctid, and the new version goes on to COPY with those
//! values ([`Rewriter`]); a new row goes on with the kept columns' defaults. When the group's
//! rows are all compared, its mart rows no fetched row matched are deleted.
//!
//! Hashes are PostgreSQL's `hash_bytes_extended` (what `hashtextextended` computes in the
//! planner's fingerprint query) of each column's text with a seed per position, XORed: two
//! for the key (128 bits), one for the compared columns (64 bits). A fetched value is hashed as
//! the warehouse sent it when its text is already the mart type's output (same type and
//! typmod, and for date/time types the same DateStyle, IntervalStyle and TimeZone on both
//! sides); otherwise it is first read and printed by the mart column's type (its input and
//! output functions), so `1.5` and `1.50` for a `numeric(12,2)` compare equal.
//!
//! Memory: 32 bytes per mart row of the group (plus one bit); the planner sizes the groups
//! ([`pg_datamart_plan::table::FINGERPRINT_GROUP_ROWS`]), so it does not grow with the window.

use crate::error::{DmError, DmResult, SpiContext};
use pg_datamart_plan::table::{fingerprint_seed, null_hash, LoadSql, Part, TablePlan};
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use pgrx::PgSqlErrorCode;
use std::ffi::{c_int, CStr, CString};

extern "C" {
    /// `hash_any_extended`, the function `hashtextextended` applies to a text's bytes.
    fn hash_bytes_extended(k: *const u8, keylen: c_int, seed: u64) -> u64;
}

/// `hash_bytes_extended` of `bytes`: pure, callable from any thread.
pub fn hash(bytes: &[u8], seed: u64) -> u64 {
    // SAFETY: a pure function over the given bytes; it never raises an error.
    unsafe { hash_bytes_extended(bytes.as_ptr(), bytes.len() as c_int, seed) }
}

/// The fingerprint of a fetched row (`field(i)`: column i's text, None for NULL): the key's
/// two hashes and the compared columns' hash, as the planner's fingerprint query computes
/// them for the mart's rows.
pub fn fingerprint<'a>(
    field: &dyn Fn(usize) -> Option<&'a [u8]>,
    key: &[usize],
    compared: &[usize],
) -> (u128, u64) {
    let part = |positions: &[usize], p: Part| {
        positions.iter().enumerate().fold(0u64, |acc, (j, &i)| {
            let seed = fingerprint_seed(p, j);
            acc ^ match field(i) {
                Some(v) => hash(v, seed),
                None => null_hash(seed),
            }
        })
    };
    let k = ((part(key, Part::Key0) as u128) << 64) | part(key, Part::Key1) as u128;
    (k, part(compared, Part::Row))
}

#[derive(Clone, Copy)]
struct Entry {
    key: u128,
    row: u64,
    /// Index into `toids` << 48 | block << 16 | offset.
    loc: u64,
}

const NO_ENTRIES: Vec<Entry> = Vec::new();

/// What to do with one fetched row.
pub enum Decision {
    /// Same values as the mart row: nothing to write.
    Skip,
    /// New key: insert it.
    New,
    /// Changed: replace the row at this tableoid and ctid.
    Changed { toid: u32, block: u32, offset: u16 },
}

/// How one fetched column is turned into the mart type's text before hashing.
struct Canon {
    input: pg_sys::FmgrInfo,
    output: pg_sys::FmgrInfo,
    ioparam: pg_sys::Oid,
    typmod: i32,
}

/// The window's fingerprints and the per-column rules; consumes the fetched rows.
pub struct Matcher {
    entries: Vec<Entry>,
    /// `entries` (sorted by key) cut into buckets by the key's top `bits` bits: bucket b is
    /// `entries[index[b]..index[b + 1]]`, about four entries (the keys are hashes), so a
    /// lookup reads one or two cache lines instead of binary-searching the whole group.
    index: Vec<u32>,
    bits: u32,
    seen: Vec<u64>,
    /// Keys the mart holds more than once (possible only with NULLs in a nullable key).
    ambiguous: Vec<u128>,
    toids: Vec<u32>,
    key_positions: Vec<usize>,
    compared_positions: Vec<usize>,
    /// Per fetched column: Some when its text must go through the mart type first. Filled
    /// from the first result's column types.
    canon: Option<Vec<Option<Canon>>>,
    /// The columns with a `Canon` (set with it).
    canon_cols: Vec<usize>,
    /// Per fetched column: the mart column's type oid and typmod.
    mart_types: Vec<(pg_sys::Oid, i32)>,
    /// Date/time types compare as sent only when the sessions' settings agree.
    datetime_settings_equal: bool,
    canon_scratch: Vec<Option<Vec<u8>>>,
    /// Keys the warehouse sent more than once, among those the mart holds: key -> (order of
    /// discovery, times sent); `duplicate_examples` has the first five keys' texts.
    pub duplicates: std::collections::HashMap<u128, (usize, u32)>,
    pub duplicate_examples: Vec<String>,
    pub column_names: Vec<String>,
}

const BATCH: i64 = 10_000;

impl Matcher {
    /// A matcher with no fingerprints yet (see [`Matcher::load`]).
    pub fn new(
        key_positions: &[usize],
        compared_positions: &[usize],
        mart_types: Vec<(pg_sys::Oid, i32)>,
        column_names: Vec<String>,
    ) -> Matcher {
        Matcher {
            entries: NO_ENTRIES,
            index: Vec::new(),
            bits: 0,
            seen: Vec::new(),
            ambiguous: Vec::new(),
            toids: Vec::new(),
            key_positions: key_positions.to_vec(),
            compared_positions: compared_positions.to_vec(),
            canon: None,
            mart_types,
            datetime_settings_equal: false,
            canon_scratch: Vec::new(),
            canon_cols: Vec::new(),
            duplicates: Default::default(),
            duplicate_examples: Vec::new(),
            column_names,
        }
    }

    /// Reads one group's fingerprints with the planner's `fingerprints` query, in place of
    /// the previous group's (keys sent twice are remembered across groups).
    pub fn load(&mut self, fingerprints: &str) -> DmResult<()> {
        let mut entries = std::mem::take(&mut self.entries);
        entries.clear();
        let mut toids: Vec<u32> = Vec::new();
        Spi::connect(|client| {
            let mut cursor = client.open_cursor(fingerprints, &[]);
            loop {
                let batch = cursor
                    .fetch(BATCH)
                    .doing("reading the window's fingerprints")?;
                if batch.is_empty() {
                    break;
                }
                for row in batch {
                    let toid = u32::from(
                        row.get::<pg_sys::Oid>(1)
                            .doing("reading a fingerprint")?
                            .unwrap_or(pg_sys::InvalidOid),
                    );
                    let tid = row
                        .get::<pg_sys::ItemPointerData>(2)
                        .doing("reading a fingerprint")?
                        .ok_or_else(|| DmError::InvalidDefinition {
                            message: "a mart row without a ctid".into(),
                            detail: String::new(),
                            hint: String::new(),
                        })?;
                    let k0 = row
                        .get::<i64>(3)
                        .doing("reading a fingerprint")?
                        .unwrap_or(0);
                    let k1 = row
                        .get::<i64>(4)
                        .doing("reading a fingerprint")?
                        .unwrap_or(0);
                    let h = row
                        .get::<i64>(5)
                        .doing("reading a fingerprint")?
                        .unwrap_or(0);
                    let ti = match toids.iter().position(|&t| t == toid) {
                        Some(i) => i,
                        None => {
                            toids.push(toid);
                            toids.len() - 1
                        }
                    } as u64;
                    let block = ((tid.ip_blkid.bi_hi as u64) << 16) | tid.ip_blkid.bi_lo as u64;
                    entries.push(Entry {
                        key: ((k0 as u64 as u128) << 64) | k1 as u64 as u128,
                        row: h as u64,
                        loc: (ti << 48) | (block << 16) | tid.ip_posid as u64,
                    });
                }
                // pgrx keeps every fetched tuple table until SPI ends: free each batch, so the
                // scan holds one batch, not the window.
                // SAFETY: SPI_tuptable is this batch's table (cursor.fetch set it; no SPI call
                // since), and the batch, the only Rust view of it, was consumed by the loop above;
                // freed once (the next fetch nulls SPI_tuptable first).
                unsafe { pg_sys::SPI_freetuptable(pg_sys::SPI_tuptable) };
            }
            Ok::<_, DmError>(())
        })?;
        entries.sort_unstable_by_key(|e| e.key);
        let mut ambiguous: Vec<u128> = entries
            .windows(2)
            .filter(|w| w[0].key == w[1].key)
            .map(|w| w[0].key)
            .collect();
        ambiguous.dedup();
        self.seen.clear();
        self.seen.resize(entries.len().div_ceil(64), 0);
        self.bits = (entries.len() / 4)
            .max(1)
            .next_power_of_two()
            .trailing_zeros();
        let buckets = 1usize << self.bits;
        self.index.clear();
        self.index.reserve(buckets + 1);
        for (i, e) in entries.iter().enumerate() {
            while self.index.len() <= self.bucket(e.key) {
                self.index.push(i as u32);
            }
        }
        self.index.resize(buckets + 1, entries.len() as u32);
        self.entries = entries;
        self.ambiguous = ambiguous;
        self.toids = toids;
        Ok(())
    }

    /// The bucket of `key` in `index`.
    fn bucket(&self, key: u128) -> usize {
        if self.bits == 0 {
            0
        } else {
            (key >> (128 - self.bits)) as usize
        }
    }

    /// Whether some column's text goes through the mart type before hashing.
    pub fn converts(&self) -> bool {
        self.canon
            .as_ref()
            .is_some_and(|c| c.iter().any(|x| x.is_some()))
    }

    pub fn key_positions(&self) -> &[usize] {
        &self.key_positions
    }

    pub fn compared_positions(&self) -> &[usize] {
        &self.compared_positions
    }

    /// Sets, from the warehouse's column types and session settings, which columns are
    /// hashed as sent.
    pub fn prepare(
        &mut self,
        remote_types: &[(u32, i32)],
        remote_setting: &dyn Fn(&str) -> Option<String>,
    ) {
        if self.canon.is_some() {
            return;
        }
        // SAFETY: on the backend's thread (the COPY callback): GetConfigOption with missing_ok
        // returns null or the setting's current string, copied at once before any setting can
        // change.
        let local = |name: &str| unsafe {
            let c = CString::new(name).unwrap_or_default();
            let p = pg_sys::GetConfigOption(c.as_ptr(), true, false);
            (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
        };
        self.datetime_settings_equal = ["DateStyle", "IntervalStyle", "TimeZone"]
            .iter()
            .all(|s| remote_setting(s).is_some() && remote_setting(s) == local(s));
        let canon: Vec<Option<Canon>> = self
            .mart_types
            .iter()
            .enumerate()
            .map(|(i, &(oid, typmod))| {
                let remote = remote_types.get(i).copied().unwrap_or((0, -1));
                let o = u32::from(oid);
                let floaty = o == pg_sys::FLOAT4OID.to_u32() || o == pg_sys::FLOAT8OID.to_u32();
                let datetime = [
                    pg_sys::DATEOID,
                    pg_sys::TIMEOID,
                    pg_sys::TIMETZOID,
                    pg_sys::TIMESTAMPOID,
                    pg_sys::TIMESTAMPTZOID,
                    pg_sys::INTERVALOID,
                ]
                .iter()
                .any(|t| t.to_u32() == o);
                // Character types print what they read, whatever their length limit (a value
                // too long is refused by COPY); other types must match with their typmod.
                let texty = [pg_sys::TEXTOID, pg_sys::VARCHAROID]
                    .iter()
                    .any(|t| t.to_u32() == o)
                    && [pg_sys::TEXTOID, pg_sys::VARCHAROID]
                        .iter()
                        .any(|t| t.to_u32() == remote.0);
                let as_sent = (texty || (remote.0 == o && remote.1 == typmod))
                    && !floaty
                    && (!datetime || self.datetime_settings_equal);
                if as_sent {
                    return None;
                }
                // The FmgrInfos go in the (sub)transaction's context, which outlives the load.
                // SAFETY: on the backend's thread in a transaction: getTypeInputInfo /
                // getTypeOutputInfo raise an ERROR for a missing type; fmgr_info_cxt fills the
                // zeroed FmgrInfo structs in place (nothing points at them, so moving them into
                // canon is fine).
                unsafe {
                    let mut input = pg_sys::InvalidOid;
                    let mut ioparam = pg_sys::InvalidOid;
                    pg_sys::getTypeInputInfo(oid, &mut input, &mut ioparam);
                    let mut output = pg_sys::InvalidOid;
                    let mut varlena = false;
                    pg_sys::getTypeOutputInfo(oid, &mut output, &mut varlena);
                    let mut c = Canon {
                        input: std::mem::zeroed(),
                        output: std::mem::zeroed(),
                        ioparam,
                        typmod,
                    };
                    // In the (sub)transaction's context, not the current one: prepare runs in
                    // COPY's per-row context, which is reset for every row, and input and output
                    // functions keep caches in their FmgrInfo's context (fn_extra: arrays,
                    // records, ranges, domains) that the following rows use.
                    pg_sys::fmgr_info_cxt(input, &mut c.input, pg_sys::CurTransactionContext);
                    pg_sys::fmgr_info_cxt(output, &mut c.output, pg_sys::CurTransactionContext);
                    Some(c)
                }
            })
            .collect();
        self.canon_cols = canon
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| i)
            .collect();
        self.canon_scratch = vec![None; canon.len()];
        self.canon = Some(canon);
    }

    fn bit(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, i % 64);
        let was = self.seen[w] & (1 << b) != 0;
        self.seen[w] |= 1 << b;
        was
    }

    /// The mart type's text of fetched column `i` (value `v`), for hashing.
    fn canonical(&mut self, i: usize, v: Option<&[u8]>) -> DmResult<()> {
        let Some(v) = v else {
            self.canon_scratch[i] = None;
            return Ok(());
        };
        let Some(Some(c)) = self.canon.as_mut().map(|c| &mut c[i]) else {
            return Ok(());
        };
        let text = CString::new(v).map_err(|_| DmError::Conflict {
            code: PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
            message: format!("a NUL byte in column {}", self.column_names[i]),
            detail: String::new(),
            hint: String::new(),
        })?;
        // SAFETY: on the backend's thread; c's FmgrInfo were filled by fmgr_info in prepare; text
        // outlives the call; OutputFunctionCall returns a palloc'd NUL-terminated string, copied
        // and then pfree'd once. An ERROR becomes a Rust panic through pgrx.
        unsafe {
            let datum = pg_sys::InputFunctionCall(
                &mut c.input,
                text.as_ptr() as *mut _,
                c.ioparam,
                c.typmod,
            );
            let out = pg_sys::OutputFunctionCall(&mut c.output, datum);
            let bytes = CStr::from_ptr(out).to_bytes().to_vec();
            pg_sys::pfree(out.cast());
            self.canon_scratch[i] = Some(bytes);
        }
        Ok(())
    }

    /// Compares one fetched row (`field(i)`: column i's text, None for NULL); `key_text`
    /// renders its key for messages.
    pub fn decide<'a>(
        &mut self,
        field: &dyn Fn(usize) -> Option<&'a [u8]>,
        key_text: &dyn Fn(bool) -> String,
    ) -> DmResult<Decision> {
        let needs = std::mem::take(&mut self.canon_cols);
        for &i in &needs {
            if let Err(e) = self.canonical(i, field(i)) {
                self.canon_cols = needs;
                return Err(e);
            }
        }
        let canon = &self.canon_scratch;
        let value = |i: usize| -> Option<&[u8]> {
            if needs.contains(&i) {
                canon[i].as_deref()
            } else {
                field(i)
            }
        };
        let (key, row) = fingerprint(&value, &self.key_positions, &self.compared_positions);
        self.canon_cols = needs;
        self.lookup(key, row, key_text)
    }

    /// Compares a fetched row by its hashes (computed by the reader when no column needs
    /// converting).
    pub fn lookup(
        &mut self,
        key: u128,
        row: u64,
        key_text: &dyn Fn(bool) -> String,
    ) -> DmResult<Decision> {
        let b = self.bucket(key);
        let (lo, hi) = (self.index[b] as usize, self.index[b + 1] as usize);
        let Some(i) = self.entries[lo..hi]
            .iter()
            .position(|e| e.key == key)
            .map(|p| lo + p)
        else {
            return Ok(Decision::New);
        };
        if self.ambiguous.binary_search(&key).is_ok() {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_CARDINALITY_VIOLATION,
                message: format!(
                    "the warehouse row with key {} matches several rows of the mart table",
                    key_text(true)
                ),
                detail: "The mart's unique key has NULLs, which PostgreSQL's UNIQUE lets repeat; pg_datamart matches NULLs as equal and will not guess which row to keep. Nothing was changed.".into(),
                hint: "Delete the repeated rows from the mart table (or make the key's columns NOT NULL, or the index UNIQUE NULLS NOT DISTINCT), then sync again.".into(),
            });
        }
        if self.bit(i) {
            let n = self.duplicates.len();
            let entry = self.duplicates.entry(key).or_insert((n, 1));
            entry.1 += 1;
            if entry.0 < 5 && entry.1 == 2 {
                self.duplicate_examples.push(key_text(false));
            }
            return Ok(Decision::Skip);
        }
        let e = self.entries[i];
        if e.row == row {
            return Ok(Decision::Skip);
        }
        Ok(Decision::Changed {
            toid: self.toids[(e.loc >> 48) as usize],
            block: ((e.loc >> 16) & 0xffff_ffff) as u32,
            offset: (e.loc & 0xffff) as u16,
        })
    }

    /// The mart rows no fetched row matched, as `(tableoid, tid[] literal, rows)` batches.
    pub fn unmatched(&self, batch: usize) -> Vec<(u32, String, usize)> {
        let mut out = Vec::new();
        for (ti, &toid) in self.toids.iter().enumerate() {
            let mut lit = String::from("{");
            let mut n = 0;
            for (i, e) in self.entries.iter().enumerate() {
                if (e.loc >> 48) as usize != ti || self.seen[i / 64] & (1 << (i % 64)) != 0 {
                    continue;
                }
                if n > 0 {
                    lit.push(',');
                }
                lit.push_str(&format!(
                    "\"({},{})\"",
                    (e.loc >> 16) & 0xffff_ffff,
                    e.loc & 0xffff
                ));
                n += 1;
                if n == batch {
                    lit.push('}');
                    out.push((toid, std::mem::replace(&mut lit, String::from("{")), n));
                    n = 0;
                }
            }
            if n > 0 {
                lit.push('}');
                out.push((toid, lit, n));
            }
        }
        out
    }
}

impl Matcher {
    /// Up to five `(key) xN` examples of keys sent more than once, and how many keys were.
    pub fn duplicate_report(&self) -> (i64, Vec<String>) {
        let mut found: Vec<(usize, u32)> = self.duplicates.values().copied().collect();
        found.sort();
        let examples = found
            .iter()
            .filter_map(|&(i, n)| self.duplicate_examples.get(i).map(|k| format!("{k} x{n}")))
            .collect();
        (self.duplicates.len() as i64, examples)
    }
}

/// Rows per DELETE of the rows gone upstream.
const DELETE_BATCH: usize = 50_000;

/// A column a changed row keeps from its old version, and what a new row gets instead.
struct Kept {
    name: CString,
    output: pg_sys::FmgrInfo,
    /// A new row's value: the load's timestamp (`stamp`), else the column's default
    /// (`default`, planned and initialised as COPY does; null: no default, NULL).
    stamp: bool,
    default: *mut pg_sys::ExprState,
}

/// A partition a changed row was found in: open (its lock is the load's), with a slot for
/// reading the old versions and the kept columns' numbers there.
struct Partition {
    oid: u32,
    rel: pg_sys::Relation,
    slot: *mut pg_sys::TupleTableSlot,
    attnums: Vec<i16>,
}

/// Writes the COPY text that follows a fetched row's own columns: the kept columns (the old
/// version's values for a changed row, which it deletes; defaults for a new row), then the
/// load's timestamp for `updated_at`.
pub struct Rewriter {
    kept: Vec<Kept>,
    parts: Vec<Partition>,
    econtext: *mut pg_sys::ExprContext,
    stamp: Vec<u8>,
    updated_at: bool,
    mart_name: String,
}

/// The error for a mart table with triggers a rewrite would skip.
fn triggers_refused(name: &str) -> DmError {
    DmError::Conflict {
        code: PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        message: format!("mode upsert cannot load {name}: it has UPDATE or DELETE triggers (or foreign keys that reference it)"),
        detail: "Upsert writes a changed row by deleting its old version and inserting the new one through COPY, which would bypass those triggers. Nothing was changed.".into(),
        hint: "Sync this section with mode => 'delete_insert', or drop the triggers.".into(),
    }
}

/// Whether a relation has row or statement triggers on UPDATE or DELETE.
///
/// # Safety
/// `rel` is an open relation.
unsafe fn has_rewrite_triggers(rel: pg_sys::Relation) -> bool {
    // SAFETY: rel is open (the caller's contract), so rd_trigdesc is null or valid.
    unsafe {
        let t = (*rel).trigdesc;
        !t.is_null()
            && ((*t).trig_update_before_row
                || (*t).trig_update_after_row
                || (*t).trig_update_instead_row
                || (*t).trig_update_before_statement
                || (*t).trig_update_after_statement
                || (*t).trig_delete_before_row
                || (*t).trig_delete_after_row
                || (*t).trig_delete_instead_row
                || (*t).trig_delete_before_statement
                || (*t).trig_delete_after_statement)
    }
}

impl Rewriter {
    /// Prepares the kept columns of `plan` (output functions, defaults) and refuses a table
    /// or touched partition with UPDATE or DELETE triggers, which a rewrite would bypass.
    pub fn new(plan: &TablePlan, stamp: &str) -> DmResult<Rewriter> {
        let LoadSql::Upsert { carried, .. } = &plan.load else {
            unreachable!("upsert plans")
        };
        let mut rels = vec![plan.mart_oid];
        for t in &plan.partitions.touched {
            rels.push(crate::exec::partition::relation_oid(t)?.to_u32());
        }
        for oid in rels {
            // SAFETY: on the backend's thread in a transaction; the load holds ROW EXCLUSIVE on
            // these relations (table_open raises an ERROR for a missing one); closed at once.
            let refused = unsafe {
                let rel = pg_sys::table_open(pg_sys::Oid::from(oid), pg_sys::NoLock as _);
                let refused = has_rewrite_triggers(rel);
                pg_sys::table_close(rel, pg_sys::NoLock as _);
                refused
            };
            if refused {
                return Err(triggers_refused(&plan.mart_name));
            }
        }
        let mut escaped = Vec::new();
        crate::exec::reader::escape_into(&mut escaped, stamp.as_bytes());
        // Everything that lives as long as the load goes in the transaction's context: the
        // callbacks that use it run in COPY's per-row context.
        // SAFETY: on the backend's thread in a transaction (whose context outlives the load and
        // holds the FmgrInfo caches and ExprStates); the table is locked by the load;
        // get_attnum / getTypeOutputInfo / build_column_default read the catalog (an ERROR
        // becomes a Rust panic); rel is closed on every return.
        unsafe {
            PgMemoryContexts::CurTransactionContext.switch_to(|_| {
                let rel = pg_sys::table_open(pg_sys::Oid::from(plan.mart_oid), pg_sys::NoLock as _);
                let mut kept = Vec::with_capacity(carried.len());
                for c in carried {
                    let name = CString::new(c.name.as_str()).unwrap_or_default();
                    let attnum =
                        pg_sys::get_attnum(pg_sys::Oid::from(plan.mart_oid), name.as_ptr());
                    if attnum <= 0 {
                        pg_sys::table_close(rel, pg_sys::NoLock as _);
                        return Err(column_gone(&plan.mart_name, &c.name));
                    }
                    let att = (*(*rel).rd_att)
                        .attrs
                        .as_slice((*(*rel).rd_att).natts as usize)[attnum as usize - 1];
                    let mut output = pg_sys::InvalidOid;
                    let mut varlena = false;
                    pg_sys::getTypeOutputInfo(att.atttypid, &mut output, &mut varlena);
                    let mut k = Kept {
                        name,
                        output: std::mem::zeroed(),
                        stamp: c.stamp_when_new,
                        default: std::ptr::null_mut(),
                    };
                    pg_sys::fmgr_info_cxt(output, &mut k.output, pg_sys::CurTransactionContext);
                    if !k.stamp {
                        let expr = pg_sys::build_column_default(rel, attnum as _);
                        if !expr.is_null() {
                            let planned = pg_sys::expression_planner(expr.cast());
                            k.default = pg_sys::ExecInitExpr(planned, std::ptr::null_mut());
                        }
                    }
                    kept.push(k);
                }
                pg_sys::table_close(rel, pg_sys::NoLock as _);
                Ok(Rewriter {
                    kept,
                    parts: Vec::new(),
                    econtext: pg_sys::CreateStandaloneExprContext(),
                    stamp: escaped,
                    updated_at: plan.stream.stamps.iter().any(|s| s == "updated_at"),
                    mart_name: plan.mart_name.clone(),
                })
            })
        }
    }

    /// The columns COPY gets after the fetched ones.
    pub fn columns(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .kept
            .iter()
            .map(|k| k.name.to_string_lossy().into_owned())
            .collect();
        if self.updated_at {
            v.push("updated_at".into());
        }
        v
    }

    /// `\t<value>` of a datum (`isnull`: `\N`) printed by kept column `i`'s output function.
    ///
    /// # Safety
    /// On the backend's thread; `datum` is a value of the column's type.
    unsafe fn push_value(
        &mut self,
        i: usize,
        datum: pg_sys::Datum,
        isnull: bool,
        out: &mut Vec<u8>,
    ) {
        out.push(b'\t');
        if isnull {
            out.extend_from_slice(b"\\N");
            return;
        }
        // SAFETY: the FmgrInfo was filled in new(); the output is a palloc'd NUL-terminated
        // string, copied, then freed once.
        unsafe {
            let text = pg_sys::OutputFunctionCall(&mut self.kept[i].output, datum);
            crate::exec::reader::escape_into(out, CStr::from_ptr(text).to_bytes());
            pg_sys::pfree(text.cast());
        }
    }

    fn push_updated_at(&self, out: &mut Vec<u8>) {
        if self.updated_at {
            out.push(b'\t');
            out.extend_from_slice(&self.stamp);
        }
    }

    /// What follows a new row: the kept columns' defaults (the load's timestamp for
    /// `created_at`) and `updated_at`.
    pub fn new_row(&mut self, out: &mut Vec<u8>) {
        for i in 0..self.kept.len() {
            if self.kept[i].stamp {
                out.push(b'\t');
                out.extend_from_slice(&self.stamp);
                continue;
            }
            let state = self.kept[i].default;
            if state.is_null() {
                out.extend_from_slice(b"\t\\N");
                continue;
            }
            // SAFETY: on the backend's thread; state was initialised by ExecInitExpr in new() and
            // is evaluated in the standalone context's per-tuple memory, reset for every row (the
            // printed text is copied out before the next reset).
            unsafe {
                let memory = (*self.econtext).ecxt_per_tuple_memory;
                pg_sys::MemoryContextReset(memory);
                let old = pg_sys::CurrentMemoryContext;
                pg_sys::CurrentMemoryContext = memory;
                let mut isnull = false;
                let eval = (*state).evalfunc.expect("an initialised expression");
                let datum = eval(state, self.econtext, &mut isnull);
                self.push_value(i, datum, isnull, out);
                pg_sys::CurrentMemoryContext = old;
            }
        }
        self.push_updated_at(out);
    }

    /// The partition `toid`, opened on first use.
    fn partition(&mut self, toid: u32) -> DmResult<usize> {
        if let Some(i) = self.parts.iter().position(|p| p.oid == toid) {
            return Ok(i);
        }
        let mut attnums = Vec::with_capacity(self.kept.len());
        for k in &self.kept {
            // SAFETY: a catalog lookup by oid and a NUL-terminated name.
            let n = unsafe { pg_sys::get_attnum(pg_sys::Oid::from(toid), k.name.as_ptr()) };
            if n <= 0 {
                return Err(column_gone(&self.mart_name, &k.name.to_string_lossy()));
            }
            attnums.push(n);
        }
        // SAFETY: on the backend's thread in a transaction; toid is a partition of the window the
        // load locked ROW EXCLUSIVE (it came from the fingerprints); the relation stays open, and
        // the slot allocated in the transaction's context, until close().
        let (rel, slot, refused) = unsafe {
            let rel = pg_sys::table_open(
                pg_sys::Oid::from(toid),
                pg_sys::RowExclusiveLock as pg_sys::LOCKMODE,
            );
            let slot = PgMemoryContexts::CurTransactionContext
                .switch_to(|_| pg_sys::table_slot_create(rel, std::ptr::null_mut()));
            (rel, slot, has_rewrite_triggers(rel))
        };
        self.parts.push(Partition {
            oid: toid,
            rel,
            slot,
            attnums,
        });
        if refused {
            return Err(triggers_refused(&self.mart_name));
        }
        Ok(self.parts.len() - 1)
    }

    /// What follows a changed row: the old version's kept columns and `updated_at`; the old
    /// version is deleted here, before COPY inserts the new one.
    pub fn replace(
        &mut self,
        toid: u32,
        block: u32,
        offset: u16,
        out: &mut Vec<u8>,
    ) -> DmResult<()> {
        let p = self.partition(toid)?;
        let (rel, slot) = (self.parts[p].rel, self.parts[p].slot);
        let mut tid = pg_sys::ItemPointerData {
            ip_blkid: pg_sys::BlockIdData {
                bi_hi: (block >> 16) as u16,
                bi_lo: (block & 0xffff) as u16,
            },
            ip_posid: offset,
        };
        // The old version is read whatever its visibility (SnapshotAny: this transaction's
        // snapshot holds it back from pruning since the fingerprints saw it); whether another
        // session changed it meanwhile is what table_tuple_delete reports.
        // SAFETY: on the backend's thread in a transaction; rel and slot are open (partition());
        // the slot is cleared (dropping its buffer pin) before the delete.
        let result = unsafe {
            let any = &raw mut pg_sys::SnapshotAnyData;
            if !pg_sys::table_tuple_fetch_row_version(rel, &mut tid, any, slot) {
                return Err(changed_meanwhile(&self.mart_name, "replaced", 1, 0));
            }
            for i in 0..self.kept.len() {
                let mut isnull = false;
                let datum = pg_sys::slot_getattr(slot, self.parts[p].attnums[i] as _, &mut isnull);
                self.push_value(i, datum, isnull, out);
            }
            pg_sys::ExecClearTuple(slot);
            let mut tmfd: pg_sys::TM_FailureData = std::mem::zeroed();
            pg_sys::table_tuple_delete(
                rel,
                &mut tid,
                pg_sys::GetCurrentCommandId(true),
                pg_sys::GetActiveSnapshot(),
                std::ptr::null_mut(),
                true,
                &mut tmfd,
                false,
            )
        };
        if result != pg_sys::TM_Result::TM_Ok {
            return Err(changed_meanwhile(&self.mart_name, "replaced", 1, 0));
        }
        self.push_updated_at(out);
        Ok(())
    }

    /// Closes the partitions (their locks stay until the transaction ends).
    fn close(&mut self) {
        for p in self.parts.drain(..) {
            // SAFETY: opened by partition() and not closed since; the slot is dropped once.
            unsafe {
                pg_sys::ExecDropSingleTupleTableSlot(p.slot);
                pg_sys::table_close(p.rel, pg_sys::NoLock as pg_sys::LOCKMODE);
            }
        }
        // SAFETY: created in new(), freed once.
        unsafe { pg_sys::FreeExprContext(self.econtext, true) };
    }
}

/// A kept column dropped while the table was loaded.
fn column_gone(table: &str, column: &str) -> DmError {
    DmError::Remote {
        code: PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
        message: format!("column \"{column}\" of mart table {table} no longer exists"),
        detail: String::new(),
        hint: "Sync again.".into(),
    }
}

/// The window changed between the comparison and the writes (another session wrote to it).
pub fn changed_meanwhile(table: &str, what: &str, expected: i64, found: i64) -> DmError {
    DmError::Conflict {
        code: PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
        message: format!(
            "{table} changed while it was loaded: {expected} rows were to be {what}, {found} were found"
        ),
        detail: "Another session wrote to the window between the comparison and the writes. Nothing was changed.".into(),
        hint: "Sync again; keep other writers off the mart table's window during loads.".into(),
    }
}

/// What one upsert load writes, counted.
#[derive(Default, Clone, Copy)]
pub struct Written {
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
}

/// An upsert in progress: the groups of the plan, the current group's fingerprints, the
/// rewrite of changed and new rows, and the counts.
pub struct Upsert {
    pub matcher: Matcher,
    rewriter: Rewriter,
    /// (fingerprints query, remote queries) of each group.
    groups: Vec<(String, usize)>,
    /// Groups loaded so far, and the end (exclusive) of the current group's remote queries.
    loaded: usize,
    queries_end: usize,
    /// The current group's unmatched rows are deleted (it is done).
    finished: bool,
    delete: String,
    mart_name: String,
    pub written: Written,
}

impl Upsert {
    pub fn new(
        plan: &TablePlan,
        stamp: &str,
        mart_types: Vec<(pg_sys::Oid, i32)>,
    ) -> DmResult<Upsert> {
        let LoadSql::Upsert {
            key_positions,
            compared_positions,
            groups,
            delete,
            ..
        } = &plan.load
        else {
            unreachable!("upsert plans")
        };
        Ok(Upsert {
            matcher: Matcher::new(
                key_positions,
                compared_positions,
                mart_types,
                plan.stream.columns.clone(),
            ),
            rewriter: Rewriter::new(plan, stamp)?,
            groups: groups
                .iter()
                .map(|g| (g.fingerprints.clone(), g.queries))
                .collect(),
            loaded: 0,
            queries_end: 0,
            finished: false,
            delete: delete.clone(),
            mart_name: plan.mart_name.clone(),
            written: Written::default(),
        })
    }

    /// The columns COPY gets after the fetched ones.
    pub fn extra_columns(&self) -> Vec<String> {
        self.rewriter.columns()
    }

    /// Makes the group that fetches remote query `query` the current one: each group before it
    /// is finished (its unmatched rows deleted) and the next ones' fingerprints read in turn.
    pub fn enter_query(&mut self, query: usize) -> DmResult<()> {
        while self.loaded == 0 || query >= self.queries_end {
            if self.loaded > 0 && !self.finished {
                self.delete_unmatched()?;
                self.finished = true;
            }
            if self.loaded == self.groups.len() {
                return Ok(());
            }
            self.finished = false;
            let (fingerprints, n) = &self.groups[self.loaded];
            self.matcher.load(fingerprints)?;
            self.queries_end += *n;
            self.loaded += 1;
        }
        Ok(())
    }

    /// At the end of the rows: finishes every group (a group the warehouse sent no row for
    /// has all its mart rows deleted).
    pub fn finish(&mut self) -> DmResult<()> {
        self.enter_query(usize::MAX)
    }

    /// Appends one compared row's COPY line to `out` (or nothing when it is unchanged).
    pub fn row(&mut self, decision: Decision, line: &[u8], out: &mut Vec<u8>) -> DmResult<()> {
        match decision {
            Decision::Skip => return Ok(()),
            Decision::New => {
                out.extend_from_slice(line);
                self.rewriter.new_row(out);
                self.written.inserted += 1;
            }
            Decision::Changed {
                toid,
                block,
                offset,
            } => {
                out.extend_from_slice(line);
                self.rewriter.replace(toid, block, offset, out)?;
                self.written.updated += 1;
            }
        }
        out.push(b'\n');
        Ok(())
    }

    /// Deletes the current group's mart rows no fetched row matched.
    fn delete_unmatched(&mut self) -> DmResult<()> {
        let (mut deleted, mut expected) = (0, 0);
        for (toid, tids, n) in self.matcher.unmatched(DELETE_BATCH) {
            expected += n as i64;
            let args = [
                DatumWithOid::from(pg_sys::Oid::from(toid)),
                DatumWithOid::from(tids.as_str()),
            ];
            deleted += Spi::connect_mut(|client| {
                Ok::<_, DmError>(
                    client
                        .update(self.delete.as_str(), None, &args)
                        .doing("deleting rows gone upstream")?
                        .len() as i64,
                )
            })?;
        }
        if deleted != expected {
            return Err(changed_meanwhile(
                &self.mart_name,
                "deleted",
                expected,
                deleted,
            ));
        }
        self.written.deleted += deleted;
        Ok(())
    }

    /// Closes what the rewrite opened; the counts, or the error for keys sent twice.
    pub fn close(mut self, key: &[String], fetched: i64) -> DmResult<Written> {
        self.rewriter.close();
        let (total, examples) = self.matcher.duplicate_report();
        if total > 0 {
            return Err(DmError::Conflict {
                code: PgSqlErrorCode::ERRCODE_UNIQUE_VIOLATION,
                message: format!(
                    "the warehouse returned {total} duplicated key(s) for {} on ({}), e.g. {}",
                    self.mart_name,
                    key.join(", "),
                    examples.join(", ")
                ),
                detail: format!("{fetched} rows were fetched; the warehouse does not enforce keys. Nothing was changed."),
                hint: "Remove the duplicates at the source, or give the mart table a key that matches the warehouse's grain."
                    .into(),
            });
        }
        Ok(self.written)
    }
}
