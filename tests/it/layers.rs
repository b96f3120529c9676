//! The layers, held: the CLI parses and prints; commands do their own work through the
//! library and never import one another; the flows both front ends share never reach back
//! into a command or the CLI; nothing below the CLI prints.

use std::path::{Path, PathBuf};

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    out
}

/// The commands: the files (and folders) directly under `src/commands`.
fn command_names() -> Vec<String> {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_str()?.to_string();
            (stem != "mod").then_some(stem)
        })
        .collect()
}

#[test]
fn no_command_module_imports_another() {
    let names = command_names();
    assert!(names.len() >= 8, "{names:?}");
    for (path, text) in sources("src/commands") {
        let own = path
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands"))
            .unwrap()
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        for other in names.iter().filter(|n| **n != own) {
            for needle in [
                format!("crate::commands::{other}"),
                format!("super::{other}::"),
                format!("super::super::{other}"),
            ] {
                assert!(
                    !text.contains(&needle),
                    "{} imports the command {other}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_shared_flows_never_reach_into_a_command_or_the_cli() {
    for (path, text) in sources("src/flows") {
        for needle in ["crate::commands", "crate::cli"] {
            assert!(!text.contains(needle), "{} uses {needle}", path.display());
        }
    }
}

#[test]
fn nothing_below_the_cli_prints() {
    for dir in ["src/commands", "src/flows", "src/store", "src/odoo"] {
        for (path, text) in sources(dir) {
            for needle in ["println!", "eprintln!", "print!(", "eprint!("] {
                assert!(
                    !text.contains(needle),
                    "{} prints ({needle})",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_flows_import_each_other_without_a_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/flows");
    let flows: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_str()?.to_string();
            (stem != "mod").then_some(stem)
        })
        .collect();
    // Each flow's imports of the others, by `super::X::` or `crate::flows::X::`.
    let uses = |flow: &str| -> Vec<String> {
        let folder = root.join(flow);
        let in_folder = if folder.is_dir() {
            sources(&format!("src/flows/{flow}"))
        } else {
            Vec::new()
        };
        let texts: Vec<String> = in_folder
            .into_iter()
            .map(|(_, t)| t)
            .chain(std::fs::read_to_string(root.join(format!("{flow}.rs"))).ok())
            .collect();
        flows
            .iter()
            .filter(|other| *other != flow)
            .filter(|other| {
                texts.iter().any(|t| {
                    t.contains(&format!("crate::flows::{other}::"))
                        || t.lines().any(|l| {
                            l.contains(&format!("super::{other}::"))
                                || l.contains(&format!("super::{{{other}"))
                        })
                })
            })
            .cloned()
            .collect()
    };
    let graph: Vec<(String, Vec<String>)> = flows.iter().map(|f| (f.clone(), uses(f))).collect();
    fn reaches(
        graph: &[(String, Vec<String>)],
        from: &str,
        to: &str,
        seen: &mut Vec<String>,
    ) -> bool {
        let Some((_, next)) = graph.iter().find(|(f, _)| f == from) else {
            return false;
        };
        next.iter().any(|n| {
            if n == to {
                return true;
            }
            if seen.contains(n) {
                return false;
            }
            seen.push(n.clone());
            reaches(graph, n, to, seen)
        })
    }
    for (flow, _) in &graph {
        assert!(
            !reaches(&graph, flow, flow, &mut Vec::new()),
            "{flow} reaches itself: {graph:?}"
        );
    }
}
