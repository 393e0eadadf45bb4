//! The layer rule, checked by reading the source (no build of the crate needed).
//!
//! Modules are ranked, lowest first; a module may use modules of its own rank or lower, never
//! higher. The table (`LAYERS`) mirrors the one documented in docs/ARCHITECTURE.md; change
//! both together. `lib.rs` only declares modules and is exempt.
//!
//! A file's module is its first path component under `src/`. References counted: `crate::…`
//! and `$crate::…` paths anywhere in code (grouped `use` trees are expanded), `super::…` paths
//! resolved against the file and any inline `mod x { … }` around them, and `hazard_registry::…`
//! in `main.rs`. Comments, strings and char literals are blanked out first, so prose such as
//! "see crate::routes" does not count; `#[cfg(test)]` modules count like any other code.
//!
//! The second test forbids import cycles: between distinct top-level modules, and between
//! files in different directories. Edges between a directory's `mod.rs` and the files directly
//! in that directory (declarations, `use super::…`) are the normal Rust pattern and are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Modules by rank, lowest first (the index is the rank); see docs/ARCHITECTURE.md.
const LAYERS: [&str; 8] = [
    "domain clock config telemetry metrics",
    "auth",
    "db",
    "http error state attachment_store webhook_client",
    "routes background backup webhooks",
    "openapi app",
    "cli",
    "main",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|layer| layer.split(' ').any(|m| m == module))
}

/// One path found in a file: where, as written, and the absolute module path it names.
struct Ref {
    line: usize,
    text: String,
    target: Vec<String>,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `*.rs` file under `dir`, relative to `root`, with `/` separators, sorted.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path: PathBuf = entry.unwrap().path();
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            out.push(rel.replace('\\', "/"));
        }
    }
    out.sort();
}

/// `db/hazards.rs` → `db`; `error.rs` → `error`; `main.rs` → `main`.
fn top_module(rel: &str) -> &str {
    let first = rel.split('/').next().unwrap();
    first.strip_suffix(".rs").unwrap_or(first)
}

/// The module path a file defines: `db/hazards.rs` → [db, hazards], `db/mod.rs` → [db].
fn module_path(rel: &str) -> Vec<String> {
    let path = rel.trim_end_matches(".rs");
    let path = path.strip_suffix("mod").unwrap_or(path);
    let parts = path
        .split('/')
        .filter(|p| !matches!(*p, "" | "lib" | "main"));
    parts.map(String::from).collect()
}

/// Blank out comments, strings and char literals, keeping newlines (so lines still match).
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        // `r"…"`, `r#"…"#`, `br"…"`: an `r` that does not end a longer identifier.
        let raw_start =
            at(i) == 'r' && (i == 0 || !is_ident(c[i - 1]) || matches!(c[i - 1], 'b' | 'c'));
        let hashes = c[i..].iter().skip(1).take_while(|&&x| x == '#').count();
        let end = if at(i) == '/' && at(i + 1) == '/' {
            (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len())
        } else if at(i) == '/' && at(i + 1) == '*' {
            let (mut j, mut depth) = (i + 2, 1);
            while j < c.len() && depth > 0 {
                match (c[j], at(j + 1)) {
                    ('/', '*') => (depth, j) = (depth + 1, j + 2),
                    ('*', '/') => (depth, j) = (depth - 1, j + 2),
                    _ => j += 1,
                }
            }
            j
        } else if at(i) == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            j + 1
        } else if raw_start && at(i + 1 + hashes) == '"' {
            let close: Vec<char> = std::iter::once('"')
                .chain((0..hashes).map(|_| '#'))
                .collect();
            let body = i + 2 + hashes;
            (body..c.len())
                .find(|&j| c[j..].starts_with(&close))
                .map_or(c.len(), |j| j + close.len())
        } else if at(i) == '\'' && at(i + 1) == '\\' {
            (i + 3..c.len())
                .find(|&j| c[j] == '\'')
                .map_or(c.len(), |j| j + 1)
        } else if at(i) == '\'' && at(i + 2) == '\'' {
            i + 3
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        };
        for &ch in &c[i..end.min(c.len())] {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
        i = end;
    }
    out
}

/// Identifiers (`$crate` as one token), `::`, and single punctuation characters, with lines.
fn tokens(code: &str) -> Vec<(String, usize)> {
    let c: Vec<char> = code.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    while i < c.len() {
        let start = i;
        if c[i] == '\n' {
            line += 1;
        } else if c[i].is_whitespace() {
        } else if is_ident(c[i]) || (c[i] == '$' && c.get(i + 1).is_some_and(|&n| is_ident(n))) {
            i += 1;
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            out.push((c[start..i].iter().collect(), line));
            continue;
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            out.push(("::".to_string(), line));
            i += 1;
        } else {
            out.push((c[i].to_string(), line));
        }
        i += 1;
    }
    out
}

/// Parse a path or use tree at `i`, pushing each leaf (segments, line); returns the next index.
fn parse_tree(
    t: &[(String, usize)],
    mut i: usize,
    mut path: Vec<String>,
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let tok = |i: usize| t.get(i).map_or("", |x| x.0.as_str());
    loop {
        match tok(i) {
            "{" => {
                i += 1;
                while !matches!(tok(i), "}" | "") {
                    i = parse_tree(t, i, path.clone(), out);
                    while !matches!(tok(i), "," | "}" | "") {
                        i += 1; // `as alias`
                    }
                    if tok(i) == "," {
                        i += 1;
                    }
                }
                return i + 1;
            }
            "*" => {
                out.push((path, t[i].1));
                return i + 1;
            }
            s if s.starts_with(is_ident) => {
                if s != "self" {
                    path.push(s.to_string());
                }
                if tok(i + 1) != "::" {
                    out.push((path, t[i].1));
                    return i + 1;
                }
                i += 2;
            }
            _ => {
                out.push((path, t.get(i.saturating_sub(1)).map_or(0, |x| x.1)));
                return i;
            }
        }
    }
}

/// Every crate-internal path referenced by the file `rel` (relative to `src/`) with source `src`.
fn references(rel: &str, src: &str) -> Vec<Ref> {
    let t = tokens(&strip(src));
    let tok = |i: usize| t.get(i).map_or("", |x| x.0.as_str());
    let is_main = rel == "main.rs";
    let (mut depth, mut inline): (usize, Vec<(String, usize)>) = (0, Vec::new());
    let mut refs = Vec::new();
    for i in 0..t.len() {
        match tok(i) {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
            }
            "mod" if tok(i + 2) == "{" => inline.push((tok(i + 1).to_string(), depth)),
            _ => {}
        }
        if tok(i + 1) != "::" || (i > 0 && tok(i - 1) == "::") {
            continue;
        }
        let (root, mut j) = (tok(i), i + 2);
        let prefix = match root {
            "crate" | "$crate" if !is_main => Vec::new(),
            "hazard_registry" if is_main => Vec::new(),
            "super" if !is_main => {
                let mut here = module_path(rel);
                here.extend(inline.iter().map(|m| m.0.clone()));
                here.pop();
                while tok(j) == "super" && tok(j + 1) == "::" {
                    here.pop();
                    j += 2;
                }
                here
            }
            _ => continue,
        };
        let written: Vec<&str> = (i..j).step_by(2).map(tok).collect();
        let mut leaves = Vec::new();
        parse_tree(&t, j, Vec::new(), &mut leaves);
        for (segments, line) in leaves {
            let text = [
                written.clone(),
                segments.iter().map(String::as_str).collect(),
            ];
            let text = text.concat().join("::");
            let target = prefix.iter().chain(&segments).cloned().collect();
            refs.push(Ref { line, text, target });
        }
    }
    refs
}

/// The file that defines the longest existing prefix of `target` (falls back to `lib.rs`).
fn resolve(src: &Path, target: &[String]) -> String {
    for k in (1..=target.len()).rev() {
        let p = target[..k].join("/");
        for candidate in [format!("{p}.rs"), format!("{p}/mod.rs")] {
            if src.join(&candidate).is_file() {
                return candidate;
            }
        }
    }
    "lib.rs".to_string()
}

fn scan(src: &Path) -> Vec<(String, Vec<Ref>)> {
    let mut files = Vec::new();
    rust_files(src, src, &mut files);
    assert!(!files.is_empty(), "no .rs files under {}", src.display());
    let read = |rel: &String| fs::read_to_string(src.join(rel)).unwrap();
    files
        .iter()
        .map(|f| (f.clone(), references(f, &read(f))))
        .collect()
}

fn rank_text(module: &str) -> String {
    rank(module).map_or_else(|| "unranked".to_string(), |r| format!("rank {r}"))
}

fn describe(from: &str, line: usize, text: &str, to_module: &str) -> String {
    let (a, b) = (rank_text(top_module(from)), rank_text(to_module));
    format!("src/{from}:{line} uses {text} ({a} → {b})")
}

/// Imports that point up the layer table, and files whose module is not in it.
pub fn layer_violations(src: &Path) -> Vec<String> {
    let mut found = BTreeSet::new();
    for (rel, refs) in scan(src) {
        let module = top_module(&rel);
        let Some(from) = rank(module) else {
            if rel != "lib.rs" {
                let message = format!("src/{rel}: module `{module}` is not in the layer table");
                found.insert((rel.clone(), 0, message));
            }
            continue;
        };
        for r in refs {
            let Some(to) = r.target.first().and_then(|m| rank(m)) else {
                continue;
            };
            if to > from {
                let message = describe(&rel, r.line, &r.text, &r.target[0]);
                found.insert((rel.clone(), r.line, message));
            }
        }
    }
    found.into_iter().map(|(_, _, message)| message).collect()
}

/// `db/hazards.rs` → `db`; `error.rs` → ``.
fn dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// True for a directory's `mod.rs` and a file directly in that directory (either order).
fn parent_and_child(a: &str, b: &str) -> bool {
    let is_parent = |p: &str, c: &str| p.ends_with("/mod.rs") && dir(c) == dir(p);
    is_parent(a, b) || is_parent(b, a)
}

/// Edges (from file, to file) → the first reference that makes them.
type Edges = BTreeMap<(String, String), (usize, String)>;

/// The strongly connected groups (more than one node) of a directed graph.
fn cyclic_groups(graph: &BTreeSet<(String, String)>) -> Vec<BTreeSet<String>> {
    let reach = |start: &String| {
        let (mut seen, mut stack) = (BTreeSet::new(), vec![start]);
        while let Some(n) = stack.pop() {
            for (_, m) in graph.iter().filter(|(a, _)| a == n) {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<&String>> =
        graph.iter().map(|(a, _)| (a, reach(a))).collect();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for (&n, from_n) in &reachable {
        let group: BTreeSet<String> = (from_n.iter())
            .filter(|m| reachable.get(*m).is_some_and(|r| r.contains(n)))
            .map(|m| m.to_string())
            .collect();
        if group.len() > 1 && !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

/// Cycles in the file graph seen through `node` (file → module, or file → itself).
fn cycles_by(
    kind: &str,
    edges: &Edges,
    node: impl Fn(&str) -> String,
    keep: impl Fn(&BTreeSet<String>) -> bool,
) -> Vec<String> {
    let graph = (edges.keys().map(|(a, b)| (node(a), node(b))))
        .filter(|(a, b)| a != b)
        .collect();
    let mut report = Vec::new();
    for group in cyclic_groups(&graph).into_iter().filter(keep) {
        let names: Vec<&str> = group.iter().map(String::as_str).collect();
        report.push(format!("cycle between {kind}: {}", names.join(", ")));
        let mut inside: Vec<_> = (edges.iter())
            .filter(|((from, to), _)| node(from) != node(to))
            .filter(|((from, to), _)| group.contains(&node(from)) && group.contains(&node(to)))
            .collect();
        inside.sort_by_key(|((from, _), (line, _))| (from, *line));
        for ((from, to), (line, text)) in inside {
            let edge = describe(from, *line, text, top_module(to));
            report.push(format!("  {edge} [→ src/{to}]"));
        }
    }
    report
}

/// Import cycles between top-level modules and between files in different directories.
pub fn import_cycles(src: &Path) -> Vec<String> {
    let mut edges = Edges::new();
    for (rel, refs) in scan(src) {
        for r in refs {
            let to = resolve(src, &r.target);
            let exempt = [&rel, &to].contains(&&"lib.rs".to_string());
            if to != rel && !exempt && !parent_and_child(&rel, &to) {
                edges.entry((rel.clone(), to)).or_insert((r.line, r.text));
            }
        }
    }
    let mut report = cycles_by("modules", &edges, |f| top_module(f).to_string(), |_| true);
    report.extend(cycles_by(
        "files",
        &edges,
        |f| format!("src/{f}"),
        |group| group.iter().map(|f| dir(f)).collect::<BTreeSet<_>>().len() > 1,
    ));
    report
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn imports_follow_the_layers() {
    let v = layer_violations(&src_dir());
    assert!(
        v.is_empty(),
        "imports against the layers (docs/ARCHITECTURE.md):\n{}",
        v.join("\n")
    );
}

#[test]
fn no_import_cycles() {
    let v = import_cycles(&src_dir());
    assert!(v.is_empty(), "import cycles:\n{}", v.join("\n"));
}

/// A throwaway `src/` tree under the system temp dir, from `== path` sections.
fn fixture(name: &str, files: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("layers-{name}-{}", std::process::id()));
    let root = root.join("src");
    let _ = fs::remove_dir_all(&root);
    for section in files.split("\n== ").skip(1) {
        let (rel, text) = section.split_once('\n').unwrap();
        fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        fs::write(root.join(rel), text).unwrap();
    }
    root
}

#[test]
fn fixture_legal_imports_pass() {
    let src = fixture(
        "legal",
        r##"
== lib.rs
pub mod auth;
pub mod db;
pub mod domain;
== domain/mod.rs
//! See crate::routes and `crate::cli`.
/* outer /* crate::http */ */
pub fn f() {}
== auth.rs
use crate::domain;
fn g<'a>(_: &'a str) -> char { let _ = "crate::db \" crate::app"; '\'' }
fn k() -> [char; 2] { ['{', '\u{7b}'] } // crate::routes
== db/mod.rs
pub mod a;
use crate::{
    domain,
    auth::{self, X as Y},
};
pub use crate::db::a::Z;
== db/a.rs
use super::*;
fn h() { let _ = (r#"crate::cli"#, b'"', 'x'); }
#[cfg(test)]
mod tests {
    use super::*;
}
"##,
    );
    assert_eq!(layer_violations(&src), Vec::<String>::new());
    assert_eq!(import_cycles(&src), Vec::<String>::new());
}

#[test]
fn fixture_violations_and_cycles_are_found() {
    let src = fixture(
        "bad",
        r#"
== lib.rs
pub mod db;
pub mod http;
== db/mod.rs
pub mod a;
== db/a.rs
use crate::domain;
fn h() { crate::http::h() }
== db/b.rs
use super::super::http::{X, Y};
== http/mod.rs
use crate::{db::a::h,
    db::b};
pub fn h() {}
"#,
    );
    let violations = layer_violations(&src);
    assert_eq!(
        violations,
        [
            "src/db/a.rs:2 uses crate::http::h (rank 2 → rank 3)",
            "src/db/b.rs:1 uses super::super::http::X (rank 2 → rank 3)",
            "src/db/b.rs:1 uses super::super::http::Y (rank 2 → rank 3)",
        ]
    );
    let cycles = import_cycles(&src);
    for expected in [
        "cycle between modules: db, http",
        "cycle between files: src/db/a.rs, src/db/b.rs, src/http/mod.rs",
        "src/http/mod.rs:1 uses crate::db::a::h (rank 3 → rank 2) [→ src/db/a.rs]",
        "src/db/a.rs:2 uses crate::http::h (rank 2 → rank 3) [→ src/http/mod.rs]",
    ] {
        assert!(
            cycles.iter().any(|l| l.trim() == expected),
            "{expected}\n{cycles:#?}"
        );
    }
}
