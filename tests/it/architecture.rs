//! The layering rules of ARCHITECTURE.md that a machine can check, read from the source:
//! no command module imports another, no two modules import each other, no source file over
//! 700 lines outside tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
const MAX_LINES: usize = 700;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The code of a file without its comments and its `#[cfg(test)] mod tests { ... }` block
/// (tests may reach anywhere).
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first name of each path after `prefix` in `code`: `crate::store::x` -> `store`, and
/// for a group `crate::{am, store::x}` -> `am`, `store`.
fn referenced(code: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let rest = &code[at + prefix.len()..];
        let Some(group) = rest.strip_prefix('{') else {
            names.insert(ident(rest));
            continue;
        };
        let (mut depth, mut start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.insert(ident(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.insert(ident(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    names.remove("");
    names
}

/// The module a file is (`store/walk.rs` -> `store::walk`, `store/mod.rs` -> `store`).
fn module_of(path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(SRC).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// Edges between sibling modules: `a -> b` when `a` uses `b` through `crate::` (top level)
/// or `super::` (modules of one directory).
fn edges() -> BTreeMap<(String, String), PathBuf> {
    let files: Vec<PathBuf> = rust_files(Path::new(SRC))
        .into_iter()
        .filter(|p| !p.starts_with(Path::new(SRC).join("bin")))
        .filter(|p| p.file_name().is_some_and(|n| n != "tests.rs"))
        .collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|p| module_of(p)).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        let code = code(file);
        let Some(top) = module.first() else { continue };
        for name in referenced(&code, "crate::") {
            if modules.contains(&vec![name.clone()]) && name != *top {
                edges.insert((top.clone(), name), file.clone());
            }
        }
        // `super::x` from a/b.rs is a sibling a::x; from a/mod.rs it is outside a.
        let is_mod = file.file_name().is_some_and(|n| n == "mod.rs");
        if module.len() >= 2 && !is_mod {
            let parent = &module[..module.len() - 1];
            for name in referenced(&code, "super::") {
                let mut sibling = parent.to_vec();
                sibling.push(name.clone());
                if modules.contains(&sibling) && sibling != module {
                    edges.insert((module.join("::"), sibling.join("::")), file.clone());
                }
            }
        }
    }
    edges
}

#[test]
fn no_command_imports_another() {
    let dir = Path::new(SRC).join("commands");
    for file in rust_files(&dir) {
        if file.ends_with("commands/mod.rs") {
            continue;
        }
        let code = code(&file);
        for bad in ["super::", "crate::commands"] {
            assert!(
                !code.contains(bad),
                "{} uses {bad}: a command uses options, output and the library, never another command",
                file.display()
            );
        }
    }
}

#[test]
fn no_two_modules_import_each_other() {
    let edges = edges();
    // The checker sees edges that are there (a canary against a checker that sees nothing).
    for seen in [
        ("value", "store"),
        ("options", "cli"),
        ("store::env_file", "store::shell"),
    ] {
        let seen = (seen.0.to_owned(), seen.1.to_owned());
        assert!(edges.contains_key(&seen), "{seen:?} not in {edges:?}");
    }
    for ((a, b), file) in &edges {
        if let Some(back) = edges.get(&(b.clone(), a.clone())) {
            panic!(
                "{a} and {b} import each other ({} and {})",
                file.display(),
                back.display()
            );
        }
    }
}

#[test]
fn no_source_file_over_700_lines_but_tests() {
    let mut long = Vec::new();
    for file in rust_files(Path::new(SRC)) {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let lines = fs::read_to_string(&file).unwrap().lines().count();
        if lines > MAX_LINES {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
    }
    assert!(
        long.is_empty(),
        "split these along their concerns: {long:?}"
    );
}
