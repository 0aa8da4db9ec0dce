//! Shared helpers of the planner's tests: a deterministic PRNG and random inputs, a small SQL
//! tokenizer (literals, quoted identifiers, comments) with the inverse parsers of `quote`, the
//! statement checkers the property tests apply, fixtures and golden files.
#![allow(dead_code)]

use chrono::{Datelike, Days, NaiveDate};
use pg_datamart_plan::snapshot::{MartTable, Schemas, Section};
use serde::Deserialize;
use std::path::PathBuf;

// ------------------------------------------------------------------------------------------
// PRNG
// ------------------------------------------------------------------------------------------

/// xorshift64*: tiny, deterministic, good enough to pick test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// The fixed seed of all property tests.
pub const SEED: u64 = 0x00da_7a3a_2702_5eed;

struct CaseGuard<'a> {
    test: &'a str,
    case: usize,
    seed: u64,
}

impl Drop for CaseGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "property {} failed at case {} (rng seed {:#x})",
                self.test, self.case, self.seed
            );
        }
    }
}

/// Runs `n` cases of a property, each with its own deterministic generator; a failure names
/// the case and its seed.
pub fn cases(test: &str, n: usize, mut f: impl FnMut(&mut Rng)) {
    let base = test.bytes().fold(SEED, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    for case in 0..n {
        let seed = base ^ (case as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let _guard = CaseGuard { test, case, seed };
        let mut rng = Rng::new(seed);
        f(&mut rng);
    }
}

// ------------------------------------------------------------------------------------------
// Random inputs
// ------------------------------------------------------------------------------------------

/// Pieces random names are built from: reserved words, dots, quotes, backslashes, spaces,
/// Korean, emoji, and fragments of SQL that must never escape their quotes.
#[rustfmt::skip]
const NAME_PIECES: &[&str] = &[
    // reserved words, in any case
    "end", "user", "order", "open", "tag", "select", "from", "where", "table", "group", "limit",
    "default", "SELECT", "Order",
    // dots, quotes, backslashes, blanks
    "campaign.id", "metrics.clicks", "a.b.c", ".", "\"", "\"\"", "'", "''", "\\", "\\\\", " ", "  ",
    "\u{3000}", "\u{feff}", "\n", "\r\n", "\t",
    // Korean, emoji, other unicode
    "광고", "계정 ID", "캠페인", "📈", "🔥✨", "ünï", "Ω",
    // plain pieces
    "x", "_", "id_2", "1d_click", "nccCampaignId",
    // SQL that must stay inside its quotes
    "; DROP TABLE t; --", "' OR '1'='1", "/* c */", "*/", "--", "$$", "$1", "::text", "E'x'",
    "ANY(", "FORMAT", "IS DISTINCT FROM", "%s", "(", ")", ",", "=", "<>",
];

/// A random non-empty name, sometimes longer than 63 bytes.
pub fn name(rng: &mut Rng) -> String {
    let mut s = String::new();
    let long = rng.chance(1, 8);
    let parts = if long {
        rng.range(8, 30)
    } else {
        rng.range(1, 4)
    };
    for _ in 0..parts {
        let piece = *rng.pick(NAME_PIECES);
        s.push_str(piece);
    }
    if long {
        while s.len() <= 63 {
            let piece = *rng.pick(&["가나다라", "abcdefgh", "📈", "x"]);
            s.push_str(piece);
        }
    }
    s
}

/// `n` distinct random names, none of them in `avoid`.
pub fn distinct_names(rng: &mut Rng, n: usize, avoid: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    while out.len() < n {
        let candidate = name(rng);
        if !out.contains(&candidate) && !avoid.contains(&candidate.as_str()) {
            out.push(candidate);
        }
    }
    out
}

/// Arbitrary text: printable characters, quotes, backslashes, control characters, unicode.
pub fn text(rng: &mut Rng, max_chars: usize) -> String {
    const CHARS: &[char] = &[
        'a', 'Z', '0', ' ', '\'', '"', '\\', '\n', '\r', '\t', '\u{1}', '\u{7f}', '\u{85}', ';',
        '-', '/', '*', '$', 'E', '%', '{', '}', '광', '고', '📈', 'é', '\u{2028}', ':', '=',
    ];
    let n = rng.below(max_chars + 1);
    (0..n).map(|_| *rng.pick(CHARS)).collect()
}

/// A valid account id (letters, digits, '_' and '-', 1..=64 characters), or digits only.
pub fn account_id(rng: &mut Rng, digits_only: bool) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    let len = if rng.chance(1, 10) {
        64
    } else {
        rng.range(1, 18) as usize
    };
    (0..len)
        .map(|_| {
            if digits_only {
                (b'0' + rng.below(10) as u8) as char
            } else {
                *rng.pick(ALNUM) as char
            }
        })
        .collect()
}

pub fn account_ids(rng: &mut Rng, max: usize, digits_only: bool) -> Vec<String> {
    let n = rng.below(max + 1);
    let mut out: Vec<String> = Vec::new();
    for _ in 0..n {
        let id = account_id(rng, digits_only);
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A random date, often on a month, year or leap-day boundary.
pub fn date(rng: &mut Rng) -> NaiveDate {
    match rng.below(6) {
        0 => *rng.pick(&[
            ymd(2023, 12, 31),
            ymd(2024, 1, 1),
            ymd(2024, 2, 28),
            ymd(2024, 2, 29),
            ymd(2024, 3, 1),
            ymd(2023, 2, 28),
            ymd(2000, 2, 29),
            ymd(2099, 12, 31),
            ymd(2100, 2, 28),
            ymd(2100, 3, 1),
            ymd(1999, 12, 31),
        ]),
        1 => {
            // the last day of a random month
            let d = ymd(rng.range(1990, 2040) as i32, rng.range(1, 12) as u32, 1);
            d.checked_add_months(chrono::Months::new(1)).unwrap() - Days::new(1)
        }
        _ => ymd(rng.range(1990, 2040) as i32, 1, 1) + Days::new(rng.range(0, 365) as u64),
    }
}

/// A random inclusive window: start <= end, 0 to about 14 months long.
pub fn window(rng: &mut Rng) -> pg_datamart_plan::window::Window {
    let start = date(rng);
    let len = if rng.chance(1, 3) {
        rng.range(0, 3)
    } else {
        rng.range(0, 430)
    };
    pg_datamart_plan::window::Window {
        start,
        end: start + Days::new(len as u64),
    }
}

pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap()
}

/// The first days of the months `window` touches.
pub fn months_of(w: &pg_datamart_plan::window::Window) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = month_start(w.start);
    while m <= w.end {
        out.push(m);
        m = m + chrono::Months::new(1);
    }
    out
}

// ------------------------------------------------------------------------------------------
// Tokenizer
// ------------------------------------------------------------------------------------------

/// A token of SQL text, as far as the checks need: PostgreSQL's lexical rules for literals
/// (`'...'` with `''`, `E'...'` with backslash escapes, `$tag$...$tag$`), quoted identifiers
/// (`"..."` with `""`) and comments; everything else is words, numbers, operators, punctuation.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted word, as written (keyword, bare name, function name).
    Word(String),
    /// A quoted identifier, unquoted.
    Ident(String),
    /// A string literal, unquoted; `escaped` for `E'...'`.
    Str {
        value: String,
        escaped: bool,
    },
    /// A dollar-quoted string.
    Dollar(String),
    /// `$1`.
    Param(String),
    Number(String),
    /// `/* ... */`, its text.
    Comment(String),
    /// `-- ...`, its text.
    LineComment(String),
    /// A run of operator characters (`>=`, `=`, `*`, `||`, `=>`).
    Op(String),
    /// `(`, `)`, `[`, `]`, `,`, `.`, `;`, `::`.
    Punct(&'static str),
    /// Anything else: unquoted non-ASCII, stray characters.
    Other(char),
}

impl Tok {
    pub fn is_word(&self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x == w)
    }
    pub fn is_punct(&self, p: &str) -> bool {
        matches!(self, Tok::Punct(x) if *x == p)
    }
}

const OP_CHARS: &str = "+-*/<>=~!@#%^&|`?";

pub fn tokenize(sql: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let at = |i: usize| c.get(i).copied();
    while i < c.len() {
        let ch = c[i];
        if ch.is_ascii_whitespace() {
            i += 1;
        } else if ch == '\'' {
            let (v, next) = standard_string(&c, i + 1)?;
            out.push(Tok::Str {
                value: v,
                escaped: false,
            });
            i = next;
        } else if (ch == 'E' || ch == 'e') && at(i + 1) == Some('\'') {
            let (v, next) = escape_string(&c, i + 2)?;
            out.push(Tok::Str {
                value: v,
                escaped: true,
            });
            i = next;
        } else if ch == '"' {
            let mut v = String::new();
            let mut j = i + 1;
            loop {
                match at(j) {
                    None => return Err(format!("unterminated quoted identifier at {i}: {sql}")),
                    Some('"') if at(j + 1) == Some('"') => {
                        v.push('"');
                        j += 2;
                    }
                    Some('"') => break,
                    Some(x) => {
                        v.push(x);
                        j += 1;
                    }
                }
            }
            if v.is_empty() {
                return Err(format!("zero-length quoted identifier at {i}"));
            }
            out.push(Tok::Ident(v));
            i = j + 1;
        } else if ch == '$' {
            if at(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                let mut j = i + 1;
                while at(j).is_some_and(|d| d.is_ascii_digit()) {
                    j += 1;
                }
                out.push(Tok::Param(c[i..j].iter().collect()));
                i = j;
            } else {
                let mut j = i + 1;
                while at(j).is_some_and(|x| x.is_ascii_alphanumeric() || x == '_') {
                    j += 1;
                }
                if at(j) != Some('$') {
                    out.push(Tok::Other('$'));
                    i += 1;
                    continue;
                }
                let tag: String = c[i..=j].iter().collect();
                let rest: String = c[j + 1..].iter().collect();
                let Some(end) = rest.find(&tag) else {
                    return Err(format!("unterminated dollar quote {tag}"));
                };
                out.push(Tok::Dollar(rest[..end].to_string()));
                i = j + 1 + rest[..end].chars().count() + tag.chars().count();
            }
        } else if ch == '/' && at(i + 1) == Some('*') {
            let rest: String = c[i + 2..].iter().collect();
            let Some(end) = rest.find("*/") else {
                return Err("unterminated comment".into());
            };
            out.push(Tok::Comment(rest[..end].to_string()));
            i += 2 + rest[..end].chars().count() + 2;
        } else if ch == '-' && at(i + 1) == Some('-') {
            let mut j = i;
            while at(j).is_some_and(|x| x != '\n') {
                j += 1;
            }
            out.push(Tok::LineComment(c[i + 2..j].iter().collect()));
            i = j;
        } else if ch.is_ascii_alphabetic() || ch == '_' {
            let mut j = i;
            while at(j).is_some_and(|x| x.is_ascii_alphanumeric() || x == '_' || x == '$') {
                j += 1;
            }
            out.push(Tok::Word(c[i..j].iter().collect()));
            i = j;
        } else if ch.is_ascii_digit() {
            let mut j = i;
            while at(j).is_some_and(|x| x.is_ascii_digit())
                || (at(j) == Some('.') && at(j + 1).is_some_and(|x| x.is_ascii_digit()))
            {
                j += 1;
            }
            out.push(Tok::Number(c[i..j].iter().collect()));
            i = j;
        } else if ch == ':' && at(i + 1) == Some(':') {
            out.push(Tok::Punct("::"));
            i += 2;
        } else if let Some(p) = ["(", ")", "[", "]", ",", ".", ";"]
            .into_iter()
            .find(|p| p.starts_with(ch))
        {
            out.push(Tok::Punct(p));
            i += 1;
        } else if OP_CHARS.contains(ch) {
            let mut j = i;
            while at(j).is_some_and(|x| OP_CHARS.contains(x))
                && !(at(j) == Some('-') && at(j + 1) == Some('-'))
                && !(at(j) == Some('/') && at(j + 1) == Some('*'))
            {
                j += 1;
            }
            out.push(Tok::Op(c[i..j].iter().collect()));
            i = j;
        } else {
            out.push(Tok::Other(ch));
            i += 1;
        }
    }
    Ok(out)
}

fn standard_string(c: &[char], mut j: usize) -> Result<(String, usize), String> {
    let mut v = String::new();
    loop {
        match c.get(j) {
            None => return Err("unterminated string literal".into()),
            Some('\'') if c.get(j + 1) == Some(&'\'') => {
                v.push('\'');
                j += 2;
            }
            Some('\'') => return Ok((v, j + 1)),
            Some(x) => {
                v.push(*x);
                j += 1;
            }
        }
    }
}

fn escape_string(c: &[char], mut j: usize) -> Result<(String, usize), String> {
    let mut v = String::new();
    loop {
        match c.get(j) {
            None => return Err("unterminated E'' literal".into()),
            Some('\'') if c.get(j + 1) == Some(&'\'') => {
                v.push('\'');
                j += 2;
            }
            Some('\'') => return Ok((v, j + 1)),
            Some('\\') => {
                let e = c.get(j + 1).ok_or("dangling backslash")?;
                v.push(match e {
                    '\\' => '\\',
                    '\'' => '\'',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    other => return Err(format!("unexpected escape \\{other} in E'' literal")),
                });
                j += 2;
            }
            Some(x) => {
                v.push(*x);
                j += 1;
            }
        }
    }
}

/// The quoted identifiers of `toks`, unquoted, in order.
pub fn idents(toks: &[Tok]) -> Vec<String> {
    toks.iter()
        .filter_map(|t| match t {
            Tok::Ident(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// The string literals of `toks`, unquoted, in order.
pub fn literals(toks: &[Tok]) -> Vec<String> {
    toks.iter()
        .filter_map(|t| match t {
            Tok::Str { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect()
}

/// Inverse of `quote::local_literal`: exactly one literal, `'...'` or `E'...'`.
pub fn parse_local_literal(sql: &str) -> Result<String, String> {
    match tokenize(sql)?.as_slice() {
        [Tok::Str { value, .. }] => Ok(value.clone()),
        other => Err(format!("not one literal: {other:?}")),
    }
}

/// Inverse of `quote::remote_literal`: exactly one plain `'...'` literal.
pub fn parse_remote_literal(sql: &str) -> Result<String, String> {
    match tokenize(sql)?.as_slice() {
        [Tok::Str {
            value,
            escaped: false,
        }] => Ok(value.clone()),
        other => Err(format!("not one plain literal: {other:?}")),
    }
}

/// Inverse of `quote::ident`.
pub fn parse_ident(sql: &str) -> Result<String, String> {
    match tokenize(sql)?.as_slice() {
        [Tok::Ident(v)] => Ok(v.clone()),
        other => Err(format!("not one identifier: {other:?}")),
    }
}

/// Inverse of `quote::conninfo_value`: `'...'` with `\\` and `\'`.
pub fn parse_conninfo_value(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .ok_or("not single-quoted")?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(ch) = it.next() {
        match ch {
            '\\' => out.push(it.next().ok_or("dangling backslash")?),
            '\'' => return Err("unescaped quote".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// Statement checks
// ------------------------------------------------------------------------------------------

/// What a remote statement is made of, read by the strict grammar
/// `SELECT id, ... FROM id.id WHERE id >= 'd' AND id < 'd' AND id IN ('a', ...)`.
#[derive(Debug, PartialEq)]
pub struct RemoteSelect {
    pub columns: Vec<String>,
    pub schema: String,
    pub table: String,
    pub date_column: String,
    pub start: String,
    pub end_exclusive: String,
    pub account_column: String,
    pub ids: Vec<String>,
}

/// Checks one remote statement against the Redshift dialect the SPEC allows and reads it.
/// Forbidden outside quoted identifiers and literals: `::`, `E''`, `$$` quoting, `ANY`,
/// `FORMAT`, `IS DISTINCT FROM`, `;`, comments, parameters and any word, operator or
/// character the planner does not write itself. Literals must not hold backslashes.
pub fn check_remote(sql: &str) -> Result<RemoteSelect, String> {
    let toks = tokenize(sql).map_err(|e| format!("{e}: {sql}"))?;
    for (i, t) in toks.iter().enumerate() {
        let bad = match t {
            Tok::Punct("::") => Some("a :: cast"),
            Tok::Punct(";") => Some("a ;"),
            Tok::Punct("[" | "]") => Some("an array subscript"),
            Tok::Str { escaped: true, .. } => Some("an E'' string"),
            Tok::Str { value, .. } if value.contains('\\') => Some("a backslash in a literal"),
            Tok::Dollar(_) => Some("a dollar-quoted string"),
            Tok::Param(_) => Some("a parameter"),
            Tok::Comment(_) | Tok::LineComment(_) => Some("a comment"),
            Tok::Other(_) => Some("a stray character"),
            Tok::Word(w) if w.eq_ignore_ascii_case("ANY") => Some("ANY"),
            Tok::Word(w) if w.eq_ignore_ascii_case("FORMAT") => Some("FORMAT"),
            Tok::Word(w)
                if w.eq_ignore_ascii_case("IS")
                    && toks.get(i + 1).is_some_and(|t| t.is_word("DISTINCT")) =>
            {
                Some("IS DISTINCT FROM")
            }
            Tok::Word(w) if !["SELECT", "FROM", "WHERE", "AND", "IN"].contains(&w.as_str()) => {
                Some("a word the planner does not write")
            }
            Tok::Op(o) if o != ">=" && o != "<" => Some("an operator the planner does not write"),
            Tok::Number(_) => Some("a bare number"),
            _ => None,
        };
        if let Some(what) = bad {
            return Err(format!("remote statement has {what} ({t:?}): {sql}"));
        }
    }
    let err = |what: &str, at: usize| format!("expected {what} at token {at} of: {sql}");
    let mut p = 0;
    let word = |p: &mut usize, w: &str| -> Result<(), String> {
        if toks.get(*p).is_some_and(|t| t.is_word(w)) {
            *p += 1;
            Ok(())
        } else {
            Err(err(w, *p))
        }
    };
    let punct = |p: &mut usize, w: &str| -> Result<(), String> {
        if toks.get(*p).is_some_and(|t| t.is_punct(w)) {
            *p += 1;
            Ok(())
        } else {
            Err(err(w, *p))
        }
    };
    let ident = |p: &mut usize| -> Result<String, String> {
        match toks.get(*p) {
            Some(Tok::Ident(v)) => {
                *p += 1;
                Ok(v.clone())
            }
            _ => Err(err("a quoted identifier", *p)),
        }
    };
    let lit = |p: &mut usize| -> Result<String, String> {
        match toks.get(*p) {
            Some(Tok::Str { value, .. }) => {
                *p += 1;
                Ok(value.clone())
            }
            _ => Err(err("a literal", *p)),
        }
    };
    let op = |p: &mut usize, o: &str| -> Result<(), String> {
        if toks.get(*p) == Some(&Tok::Op(o.to_string())) {
            *p += 1;
            Ok(())
        } else {
            Err(err(o, *p))
        }
    };
    word(&mut p, "SELECT")?;
    let mut columns = vec![ident(&mut p)?];
    while toks.get(p).is_some_and(|t| t.is_punct(",")) {
        p += 1;
        columns.push(ident(&mut p)?);
    }
    word(&mut p, "FROM")?;
    let schema = ident(&mut p)?;
    punct(&mut p, ".")?;
    let table = ident(&mut p)?;
    word(&mut p, "WHERE")?;
    let date_column = ident(&mut p)?;
    op(&mut p, ">=")?;
    let start = lit(&mut p)?;
    word(&mut p, "AND")?;
    if ident(&mut p)? != date_column {
        return Err(format!(
            "the two date predicates name different columns: {sql}"
        ));
    }
    op(&mut p, "<")?;
    let end_exclusive = lit(&mut p)?;
    word(&mut p, "AND")?;
    let account_column = ident(&mut p)?;
    word(&mut p, "IN")?;
    punct(&mut p, "(")?;
    let mut ids = vec![lit(&mut p)?];
    while toks.get(p).is_some_and(|t| t.is_punct(",")) {
        p += 1;
        ids.push(lit(&mut p)?);
    }
    punct(&mut p, ")")?;
    if p != toks.len() {
        return Err(err("the end of the statement", p));
    }
    Ok(RemoteSelect {
        columns,
        schema,
        table,
        date_column,
        start,
        end_exclusive,
        account_column,
        ids,
    })
}

/// Keywords that take parentheses without being function calls, so they need no schema:
/// - `IN`, `EXISTS`, `ANY`, `VALUES`: lists and subqueries;
/// - `COALESCE`, `NULLIF`: grammar constructs, never looked up in the search_path;
/// - `OVER`, `FILTER`: window and aggregate clauses;
/// - `OPERATOR`: the `OPERATOR(pg_catalog.=)` syntax itself;
/// - `FROM`, `TO`: partition bounds (`FOR VALUES FROM (...) TO (...)`) and the row operand of
///   `IS DISTINCT FROM (...)`;
/// - `AND`, `OR`, `NOT`, `WHERE`, `SELECT`: grouping and row constructors;
/// - `SET`, `WITH`: storage parameter lists of `ALTER TABLE ... SET (...)` and
///   `CREATE TABLE ... WITH (...)`.
pub const PAREN_KEYWORDS: &[&str] = &[
    "ROW", "IN", "EXISTS", "ANY", "VALUES", "COALESCE", "NULLIF", "OVER", "FILTER", "OPERATOR",
    "FROM", "TO", "AND", "OR", "NOT", "WHERE", "SELECT", "SET", "WITH",
];

/// SQL-standard type names that take a type modifier (`character varying(32)`,
/// `numeric(18,2)`): keywords of the grammar that always mean the pg_catalog type.
pub const TYPMOD_WORDS: &[&str] = &[
    "varying",
    "numeric",
    "decimal",
    "varchar",
    "char",
    "character",
    "timestamp",
    "time",
    "bit",
    "interval",
];

/// The planner's own comment markers in local statements and scripts.
pub const COMMENT_MARKERS: &[&str] = &[
    " any row refuses the load ",
    " after writing at least pg_datamart.analyze_threshold rows: ",
    " the rows the warehouse rows are compared with ",
    " only the new and the changed rows ",
    " the rows no fetched row matched ",
];

/// Checks one local statement: it tokenizes; no `;`, `--` or foreign `/*` comment; no stray
/// character; every word outside literals and identifiers is in `words`; every function call
/// is qualified (`pg_catalog.f(` or `"schema".f(`), keywords of [`PAREN_KEYWORDS`], alias column
/// lists (`AS r(`) and type modifiers excepted; every operator is written
/// `OPERATOR(pg_catalog.op)`, except `*` (`count(*)`, `SELECT *`), the `=` of UPDATE's SET
/// clause and of storage parameter lists (`WITH (a=1)`, `SET (a=1)`), which are assignments,
/// not operators. (`IS DISTINCT FROM` is not an operator token: it resolves `=` of the row's
/// types and is run under the executor's pinned search_path, as table.rs documents.)
pub fn check_local(sql: &str, words: &[&str]) -> Result<Vec<Tok>, String> {
    let toks = tokenize(sql).map_err(|e| format!("{e}: {sql}"))?;
    #[derive(PartialEq, Clone, Copy)]
    enum Paren {
        Plain,
        Storage,
        Operator,
    }
    let mut stack: Vec<Paren> = Vec::new();
    let mut set_clause: Option<usize> = None;
    for (i, t) in toks.iter().enumerate() {
        let prev = if i > 0 { toks.get(i - 1) } else { None };
        let prev2 = if i > 1 { toks.get(i - 2) } else { None };
        let fail = |why: String| Err(format!("{why} at token {i} ({t:?}) of: {sql}"));
        match t {
            Tok::Punct(";") => return fail("a ; inside one statement".into()),
            Tok::LineComment(_) => return fail("a -- comment".into()),
            Tok::Comment(c) if !COMMENT_MARKERS.contains(&c.as_str()) => {
                return fail("a foreign comment".into())
            }
            Tok::Other(_) => return fail("a stray character".into()),
            Tok::Dollar(_) => return fail("a dollar-quoted string".into()),
            Tok::Word(w) if !words.contains(&w.as_str()) => {
                return fail(format!("the word {w}, which the planner does not write"))
            }
            Tok::Word(w) if w == "SET" && !toks.get(i + 1).is_some_and(|n| n.is_punct("(")) => {
                set_clause = Some(stack.len());
            }
            Tok::Word(w) if (w == "FROM" || w == "WHERE") && set_clause == Some(stack.len()) => {
                set_clause = None;
            }
            Tok::Punct("(") => {
                let kind = match prev {
                    Some(Tok::Word(w)) if w == "OPERATOR" => Paren::Operator,
                    Some(Tok::Word(w)) if w == "SET" || w == "WITH" => Paren::Storage,
                    _ => Paren::Plain,
                };
                let qualified = prev2.is_some_and(|p| p.is_punct("."));
                match prev {
                    Some(Tok::Word(w)) => {
                        let ok = qualified
                            || PAREN_KEYWORDS.contains(&w.as_str())
                            || TYPMOD_WORDS.contains(&w.as_str())
                            || prev2.is_some_and(|p| p.is_word("AS"));
                        if !ok {
                            return fail(format!("an unqualified call {w}("));
                        }
                    }
                    Some(Tok::Ident(v)) => {
                        let ok = qualified || prev2.is_some_and(|p| p.is_word("TABLE"));
                        if !ok {
                            return fail(format!("an unqualified call \"{v}\"("));
                        }
                    }
                    _ => {}
                }
                stack.push(kind);
            }
            Tok::Punct(")") => {
                let popped = stack.pop();
                if popped.is_none() {
                    return fail("an unbalanced )".into());
                }
            }
            Tok::Op(o) => {
                let in_operator = stack.last() == Some(&Paren::Operator)
                    && prev.is_some_and(|p| p.is_punct("."))
                    && prev2.is_some_and(|p| p.is_word("pg_catalog"))
                    && toks.get(i + 1).is_some_and(|n| n.is_punct(")"));
                let star =
                    o == "*" && (prev.is_some_and(|p| p.is_punct("(") || p.is_word("SELECT")));
                let assignment = o == "="
                    && (stack.last() == Some(&Paren::Storage) || set_clause == Some(stack.len()));
                if !(in_operator || star || assignment) {
                    return fail(format!("the bare operator {o}"));
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("unbalanced ( in: {sql}"));
    }
    Ok(toks)
}

/// The words local table statements may contain outside literals and identifiers: the
/// planner's keywords, aliases, the built-ins it calls (always after `pg_catalog.` or a
/// schema, which [`check_local`] checks separately) and the words of declared types.
#[rustfmt::skip]
pub const LOCAL_WORDS: &[&str] = &[
    // keywords
    "SELECT", "FROM", "WHERE", "AND", "NOT", "EXISTS", "IN", "ANY", "ARRAY", "AS", "INSERT",
    "INTO", "DELETE", "UPDATE", "SET", "CREATE", "TEMP", "TABLE", "ON", "COMMIT", "DROP",
    "ANALYZE", "GROUP", "BY", "HAVING", "ORDER", "DESC", "LIMIT", "OVER", "IS", "DISTINCT",
    "OPERATOR", "PARTITION", "OF", "FOR", "VALUES", "TO", "WITH", "ALTER", "OVERRIDING",
    "SYSTEM", "VALUE", "COPY", "STDIN", "ROW", "NULL", "LIKE", "INCLUDING", "DEFAULTS",
    "CONSTRAINTS", "GENERATED", "STORAGE", "COMPRESSION", "ATTACH", "COLLATE",
    // system columns and the stage's columns
    "tableoid", "ctid", "dm_target_tableoid", "dm_target_ctid",
    // schemas and aliases
    "pg_catalog", "pg_temp", "r", "s", "m", "t", "c", "pid",
    // functions (check_local checks separately that each call is qualified)
    "dblink", "dblink_connect", "dblink_exec", "dblink_disconnect", "dblink_get_connections",
    "now", "count", "format", "concat_ws", "unnest", "int4", "hashtextextended", "COALESCE",
    "oid", "tid", "int8", "regclass",
    // words of declared types
    "text", "character", "varying", "bigint", "integer", "smallint", "numeric", "date",
    "timestamp", "without", "with", "time", "zone", "double", "precision", "boolean", "jsonb",
    "json", "uuid",
    // storage parameters
    "autovacuum_vacuum_scale_factor", "autovacuum_vacuum_threshold",
    "autovacuum_analyze_scale_factor", "fillfactor",
];

// ------------------------------------------------------------------------------------------
// Fixtures and golden files
// ------------------------------------------------------------------------------------------

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The user documentation: `README.md` and every `docs/*.md`, as (path, text), README first.
pub fn docs() -> Vec<(PathBuf, String)> {
    let root = manifest_dir().join("..");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    paths.insert(0, root.join("README.md"));
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// A catalog snapshot as the extension reads it (`sql/queries/section.sql`,
/// `sql/queries/mart_table.sql`), plus the request a golden file plans.
#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub schemas: Schemas,
    pub section: Section,
    pub mart_tables: Vec<MartTable>,
    pub request: Request,
}

#[derive(Debug, Deserialize)]
pub struct Request {
    /// As passed to dm_sync.
    pub account_ids: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub per_query: usize,
    pub remote_timeout_ms: Option<i64>,
}

impl Fixture {
    /// The mart tables in the section's order.
    pub fn marts(&self) -> Vec<MartTable> {
        self.section
            .tables
            .iter()
            .map(|t| {
                self.mart_tables
                    .iter()
                    .find(|m| m.oid == t.mart_table)
                    .unwrap_or_else(|| panic!("fixture lacks mart table {}", t.mart_table))
                    .clone()
            })
            .collect()
    }
}

pub const FIXTURES: &[&str] = &[
    "facebook_resource",
    "google_metric",
    "naver_metric",
    "kakao_resource",
    "odd_names",
];

pub fn fixture_text(name: &str) -> String {
    let path = manifest_dir()
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn fixture(name: &str) -> Fixture {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Compares `actual` with `tests/golden/<name>.sql`; with `BLESS=1`, writes it instead.
pub fn golden(name: &str, actual: &str) {
    let dir = manifest_dir().join("tests/golden");
    let path = dir.join(format!("{name}.sql"));
    if std::env::var("BLESS").as_deref() == Ok("1") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "golden file {} is missing: run `BLESS=1 cargo test -p pg_datamart_plan --test table_golden` to write it, then review it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the planner's output at line {}:\n  golden: {:?}\n  actual: {:?}\nIf the change is intended, run with BLESS=1 and review the diff.",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end of file>"),
            actual.lines().nth(line).unwrap_or("<end of output>"),
        );
    }
}
