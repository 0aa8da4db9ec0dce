//! The docs a newcomer reads: every module under `src/` and `plan/src/` opens with a `//!` doc
//! comment, the README stays short and keeps the two commands, and the relative links of
//! README.md and docs/*.md reach a file and a heading that exist.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every module of the extension (`src/`) and of the planner (`plan/src/`) starts with a `//!`
/// comment saying what it is.
#[test]
fn every_module_has_a_doc_comment() {
    let root = common::manifest_dir().join("..");
    let mut files = rust_files(&root.join("src"));
    files.extend(rust_files(&root.join("plan/src")));
    assert!(files.len() > 10, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|p| !std::fs::read_to_string(p).unwrap().starts_with("//!"))
        .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a leading //! doc comment: {missing:?}"
    );
}

/// README.md is under 15 KB and names the two commands; the rest lives in docs/*.md.
#[test]
fn readme_is_short_and_has_the_two_commands() {
    let path = common::manifest_dir().join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    assert!(
        readme.len() < 15_360,
        "README.md is {} bytes, the limit is 15360: move reference material to docs/",
        readme.len()
    );
    for command in ["make demo", "make test"] {
        assert!(readme.contains(command), "README.md lost `{command}`");
    }
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown text's headings (outside fenced code).
fn anchors(text: &str) -> HashSet<String> {
    let mut in_code = false;
    let mut out = HashSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// Every relative link `[..](path#anchor)` of README.md and docs/*.md names a file that exists
/// and, when it has an anchor, a heading of that file.
#[test]
fn relative_links_resolve() {
    let docs = common::docs();
    let mut bad = Vec::new();
    let mut seen = 0;
    for (path, text) in &docs {
        let dir = path.parent().unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.contains("://") || target.contains(char::is_whitespace) {
                continue;
            }
            seen += 1;
            let (file, frag) = target.split_once('#').unwrap_or((target, ""));
            let file = if file.is_empty() {
                path.clone()
            } else {
                dir.join(file)
            };
            let ok = match std::fs::read_to_string(&file) {
                Ok(t) => frag.is_empty() || anchors(&t).contains(frag),
                Err(_) => false,
            };
            if !ok {
                bad.push(format!("{}: {target}", path.display()));
            }
        }
    }
    assert!(seen > 0, "no relative link found");
    assert!(bad.is_empty(), "links that go nowhere: {bad:#?}");
}

/// Every `unsafe` block in `src/` says why it holds: a `// SAFETY:` comment on its line or
/// within the four lines above it.
#[test]
fn every_unsafe_block_has_a_safety_comment() {
    let root = common::manifest_dir().join("../src");
    let mut missing = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let opens = code
                .match_indices("unsafe")
                .any(|(at, _)| code[at + "unsafe".len()..].trim_start().starts_with('{'));
            if opens
                && !lines[i.saturating_sub(4)..=i]
                    .iter()
                    .any(|l| l.contains("SAFETY"))
            {
                missing.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "unsafe blocks without a SAFETY comment: {missing:?}"
    );
}
