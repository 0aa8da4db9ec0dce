//! SQL has one home: every SQL text the extension runs is in plan/ (or sql/queries/, loaded
//! with `include_str!`). This scans the extension's sources (`../src/**/*.rs`) and fails on a
//! string literal that starts with an SQL keyword.

use std::path::{Path, PathBuf};

const KEYWORDS: &[&str] = &[
    "SELECT", "WITH", "UPDATE", "INSERT", "DELETE", "CREATE", "ALTER", "DROP", "GRANT", "REVOKE",
    "SET", "LOCK", "ANALYZE", "CALL", "DO",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of a Rust source, with the line each starts on (comments, char
/// literals and lifetimes skipped; raw strings included; escapes left as written).
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let line = |at: usize| src[..at].matches('\n').count() + 1;
    while i < b.len() {
        let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if b[i..].starts_with(b"//") {
            i = src[i..].find('\n').map_or(b.len(), |n| i + n);
        } else if b[i..].starts_with(b"/*") {
            i = src[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
        } else if !ident_before && (b[i] == b'r' || b[i..].starts_with(b"br")) && {
            let r = if b[i] == b'b' { i + 2 } else { i + 1 };
            let hashes = b[r..].iter().take_while(|&&c| c == b'#').count();
            b.get(r + hashes) == Some(&b'"')
        } {
            let r = if b[i] == b'b' { i + 2 } else { i + 1 };
            let hashes = b[r..].iter().take_while(|&&c| c == b'#').count();
            let start = r + hashes + 1;
            let close = format!("\"{}", "#".repeat(hashes));
            let end = src[start..].find(&close).map_or(b.len(), |n| start + n);
            out.push((line(i), src[start..end].to_string()));
            i = end + close.len();
        } else if b[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push((line(i), src[start..j.min(b.len())].to_string()));
            i = j + 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\'', '\u{..}') or a lifetime ('a): skip the former whole.
            let rest = &src[i + 1..];
            let len = if rest.starts_with('\\') {
                rest.find('\'').map(|n| if n == 1 { 3 } else { n + 1 })
            } else {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), Some('\'')) => Some(c.len_utf8() + 1),
                    _ => None,
                }
            };
            i += 1 + len.unwrap_or(0);
        } else {
            i += 1;
        }
    }
    out
}

/// The literal's first word when it is an SQL keyword (leading blanks and `\n` escapes skipped).
fn sql_keyword(literal: &str) -> Option<&'static str> {
    let mut text = literal;
    loop {
        let trimmed = text.trim_start();
        match trimmed
            .strip_prefix("\\n")
            .or_else(|| trimmed.strip_prefix("\\\n"))
        {
            Some(rest) => text = rest,
            None => {
                text = trimmed;
                break;
            }
        }
    }
    let word: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    KEYWORDS.iter().find(|k| **k == word).copied()
}

#[test]
fn scanner_sees_sql_literals() {
    let src = "// \"SELECT 1\" in a comment\nlet a = 'x'; let b: &'static str = \"  SELECT 1\";\n\
               let c = r#\"WITH x AS (SELECT 1) SELECT 2\"#; let d = \"Selected\"; let e = \"SET\";";
    let found: Vec<_> = string_literals(src)
        .into_iter()
        .filter_map(|(line, l)| sql_keyword(&l).map(|k| (line, k)))
        .collect();
    assert_eq!(found, vec![(2, "SELECT"), (3, "WITH"), (3, "SET")]);
}

#[test]
fn sql_lives_in_plan_or_sql_queries() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 10, "no sources found under {}", src.display());
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, literal) in string_literals(&text) {
            if let Some(keyword) = sql_keyword(&literal) {
                let shown: String = literal.chars().take(60).collect();
                found.push(format!("{}:{line}: {keyword}: {shown:?}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL text in src/: move it to plan/ (a pub const or a function in the planner module of its stage) or to sql/queries/:\n{}",
        found.join("\n")
    );
}
