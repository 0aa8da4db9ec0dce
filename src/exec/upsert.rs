//! Upsert by fingerprint: the window's rows in the mart are read once as key hash -> row hash
//! (and where the row is), then every fetched row is compared as it streams past. Unchanged
//! rows are dropped on the spot; new and changed rows go to the stage (changed ones with the
//! tableoid and ctid of the row they replace); mart rows no fetched row matched are deleted.
//!
//! Hashes are PostgreSQL's `hash_bytes_extended` (what `hashtextextended` computes in the
//! planner's fingerprint query) of each column's text with a seed per position, XORed: two
//! for the key (128 bits), one for the compared columns (64 bits). A fetched value is hashed as
//! the warehouse sent it when its text is already the mart type's output (same type and
//! typmod, and for date/time types the same DateStyle, IntervalStyle and TimeZone on both
//! sides); otherwise it is first read and printed by the mart column's type (its input and
//! output functions), so `1.5` and `1.50` for a `numeric(12,2)` compare equal.
//!
//! Memory: 32 bytes per mart row of the window (plus one bit), independent of row width.

use crate::error::{DmError, DmResult, SpiContext};
use pg_datamart_plan::table::{fingerprint_seed, null_hash, Part};
use pgrx::pg_sys;
use pgrx::prelude::*;
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

/// What to do with one fetched row.
pub enum Decision {
    /// Same values as the mart row: nothing to write.
    Skip,
    /// New key: stage it with a NULL target.
    New,
    /// Changed: stage it with the target row's tableoid and ctid.
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
    /// Reads the window's fingerprints with the planner's `fingerprints` query.
    pub fn read(
        fingerprints: &str,
        key_positions: &[usize],
        compared_positions: &[usize],
        mart_types: Vec<(pg_sys::Oid, i32)>,
        column_names: Vec<String>,
    ) -> DmResult<Matcher> {
        let mut entries = Vec::new();
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
        let seen = vec![0u64; entries.len().div_ceil(64)];
        let datetime_settings_equal = false;
        Ok(Matcher {
            entries,
            seen,
            ambiguous,
            toids,
            key_positions: key_positions.to_vec(),
            compared_positions: compared_positions.to_vec(),
            canon: None,
            mart_types,
            datetime_settings_equal,
            canon_scratch: Vec::new(),
            canon_cols: Vec::new(),
            duplicates: Default::default(),
            duplicate_examples: Vec::new(),
            column_names,
        })
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
        let Ok(i) = self.entries.binary_search_by_key(&key, |e| e.key) else {
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
