//! The import directions of docs/architecture.md, checked on the source of
//! both crates (`src/` and `parsers/src/`): no top-level module imports one
//! that imports it back, and inside a folder module (at any depth) no file
//! imports one that imports it back. A
//! loop creeps in one harmless-looking `use` at a time; this test says
//! where, the day it does.
//!
//! It reads the files as text: a path that starts with `crate::`, `super::`
//! or (in a `mod.rs`) a child's name is an import of that module. Test
//! modules (from the first `#[cfg(test)]` on) are left out, since a test
//! may reach for whatever it needs to build its case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source folders of the two crates.
fn roots() -> [PathBuf; 2] {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest.join("src"), manifest.join("parsers/src")]
}

/// Every `.rs` file under `dir`, with its path relative to `root`.
fn files(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.map(|e| e.path()).unwrap_or_default())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            out.push((rel, text));
        }
    }
}

/// The code of a file without comments and without its test modules.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every path in the code, as its segments: `crate::a::b` gives
/// `[crate, a, b]`, and `super::{a, b::c}` gives `[super, a]` and
/// `[super, b, c]`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // A path starts at an identifier not preceded by `::`, `.` or another identifier.
        let starts = ident(chars[i])
            && (i == 0 || !(ident(chars[i - 1]) || chars[i - 1] == ':' || chars[i - 1] == '.'));
        if !starts {
            i += 1;
            continue;
        }
        // `pub(super)`, `pub(crate)`, `pub(in crate::x)` say who may see an
        // item; they import nothing.
        let mut b = i;
        while b > 0 && chars[b - 1].is_whitespace() {
            b -= 1;
        }
        let ends_with = |pat: &str| {
            let pat: Vec<char> = pat.chars().collect();
            b >= pat.len() && chars[b - pat.len()..b] == pat[..]
        };
        if ends_with("pub(") || ends_with("pub(in") {
            i = path_at(&chars, i, Vec::new(), &mut Vec::new());
            continue;
        }
        i = path_at(&chars, i, Vec::new(), &mut out);
    }
    out
}

/// Reads one path (or a `{...}` group of them) from `i`, after `prefix`.
fn path_at(chars: &[char], mut i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut segs = prefix;
    loop {
        let start = i;
        while i < chars.len() && ident(chars[i]) {
            i += 1;
        }
        segs.push(chars[start..i].iter().collect());
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            if chars.get(i) == Some(&'{') {
                i += 1;
                loop {
                    while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    match chars.get(i) {
                        None => return i,
                        Some('}') => return i + 1,
                        Some(c) if ident(*c) => i = path_at(chars, i, segs.clone(), out),
                        Some(_) => i += 1,
                    }
                }
            }
            if chars.get(i).is_some_and(|c| ident(*c)) {
                continue;
            }
        }
        out.push(segs);
        return i;
    }
}

/// The top-level modules of `src/` and which of them each imports.
fn top_level_graph(all: &[(PathBuf, String)]) -> Graph {
    let module = |rel: &Path| -> Option<String> {
        let first = rel.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        (!matches!(name, "lib" | "main")).then(|| name.to_string())
    };
    let known: BTreeSet<String> = all.iter().filter_map(|(rel, _)| module(rel)).collect();
    let mut graph = Graph::new();
    for (rel, text) in all {
        let Some(from) = module(rel) else { continue };
        let edges = graph.entry(from.clone()).or_default();
        for p in paths(&code(text)) {
            if let [first, to, ..] = p.as_slice()
                && first == "crate"
                && *to != from
                && known.contains(to)
            {
                edges.insert(to.clone());
            }
        }
    }
    graph
}

/// For one folder module (`report`, `nft/parser`): its files and
/// sub-folders (`mod` for mod.rs) and which of them each imports.
fn folder_graph(all: &[(PathBuf, String)], folder: &str) -> Graph {
    let depth = folder.split('/').count();
    let in_folder: Vec<(String, &String)> = all
        .iter()
        .filter_map(|(rel, text)| {
            let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
            let (file, dir) = parts.split_last()?;
            (dir.join("/") == folder)
                .then(|| (file.strip_suffix(".rs").unwrap_or(file).to_string(), text))
        })
        .collect();
    // A sub-folder is a sibling too: `checks/` beside `expr.rs`.
    let subfolders: BTreeSet<String> = all
        .iter()
        .filter_map(|(rel, _)| {
            let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
            (parts.len() > depth + 1 && parts[..depth].join("/") == folder)
                .then(|| parts[depth].to_string())
        })
        .collect();
    let mut siblings: BTreeSet<&str> = in_folder.iter().map(|(n, _)| n.as_str()).collect();
    siblings.extend(subfolders.iter().map(String::as_str));
    let path: Vec<&str> = folder.split('/').collect();
    let mut graph = Graph::new();
    for (from, text) in &in_folder {
        let edges = graph.entry(from.clone()).or_default();
        for p in paths(&code(text)) {
            let segs: Vec<&str> = p.iter().map(String::as_str).collect();
            let to = match segs.as_slice() {
                ["crate", rest @ ..] if rest.len() > depth && rest[..depth] == path[..] => {
                    Some(rest[depth]).filter(|s| siblings.contains(s))
                }
                ["crate", rest @ ..] if rest.len() >= depth && rest[..depth] == path[..] => {
                    Some("mod")
                }
                ["super", s, ..] if from != "mod" && siblings.contains(s) => Some(*s),
                ["super", ..] if from != "mod" => Some("mod"),
                ["self", s, ..] if from == "mod" && siblings.contains(s) => Some(*s),
                [s, _, ..] if from == "mod" && siblings.contains(s) => Some(*s),
                _ => None,
            };
            if let Some(to) = to.filter(|t| t != from) {
                edges.insert(to.to_string());
            }
        }
    }
    graph
}

/// A loop in the graph, as the modules along it, if there is one.
fn find_loop(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut done, &mut Vec::new()))
}

/// The files of each crate: (crate's source folder, files relative to it).
fn crates() -> Vec<(PathBuf, Vec<(PathBuf, String)>)> {
    roots()
        .into_iter()
        .map(|root| {
            let mut all = Vec::new();
            files(&root, &root, &mut all);
            assert!(
                all.len() > 20,
                "the source files of {} are found",
                root.display()
            );
            (root, all)
        })
        .collect()
}

#[test]
fn top_level_modules_import_in_one_direction() {
    for (root, all) in crates() {
        if let Some(cycle) = find_loop(&top_level_graph(&all)) {
            panic!(
                "import loop between modules of {}: {} (see docs/architecture.md)",
                root.display(),
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn files_of_a_folder_module_import_in_one_direction() {
    let mut loops = Vec::new();
    let mut seen = BTreeSet::new();
    for (root, all) in crates() {
        // Every folder that holds a file, at any depth.
        let folders: BTreeSet<String> = all
            .iter()
            .filter_map(|(rel, _)| {
                let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
                let (_, dir) = parts.split_last()?;
                (!dir.is_empty()).then(|| dir.join("/"))
            })
            .collect();
        for folder in &folders {
            seen.insert(folder.clone());
            if let Some(cycle) = find_loop(&folder_graph(&all, folder)) {
                loops.push(format!(
                    "{}/{folder}/: {}",
                    root.display(),
                    cycle.join(" -> ")
                ));
            }
        }
    }
    assert!(
        seen.contains("report") && seen.contains("nft/parser"),
        "{seen:?}"
    );
    assert!(
        loops.is_empty(),
        "import loops (see docs/architecture.md):\n{}",
        loops.join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_loops() {
    let code = "use crate::a::b;\nuse super::{x, y::z};\nlet v = crate::c::d(); // crate::e\npub(super) fn f() {}\npub(in crate::g) fn h() {}\n";
    let found = paths(&super::architecture_test::code(code));
    assert!(found.contains(&vec!["crate".into(), "a".into(), "b".into()]));
    assert!(found.contains(&vec!["super".into(), "x".into()]));
    assert!(found.contains(&vec!["super".into(), "y".into(), "z".into()]));
    assert!(found.contains(&vec!["crate".into(), "c".into(), "d".into()]));
    assert!(!found.iter().any(|p| p.contains(&"e".to_string())));
    // Visibility is no import.
    assert!(
        !found
            .iter()
            .any(|p| p == &["super"] || p.contains(&"g".to_string()))
    );
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_loop(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_loop(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
