//! Invariants of the code layout, stated as absences (see ARCHITECTURE.md).

use std::path::Path;

fn sources(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

/// Every path a Rust source names: each leaf of its `use` trees (`use crate::{mock, model::X}`
/// gives `crate::mock` and `crate::model::X`) and every path in its types and expressions.
fn paths(text: &str) -> Vec<String> {
    use syn::visit::Visit;
    struct Paths(Vec<String>);
    fn flatten(prefix: &str, tree: &syn::UseTree, out: &mut Vec<String>) {
        let join = |s: &str| {
            if prefix.is_empty() {
                s.to_string()
            } else {
                format!("{prefix}::{s}")
            }
        };
        match tree {
            syn::UseTree::Path(p) => flatten(&join(&p.ident.to_string()), &p.tree, out),
            syn::UseTree::Name(n) => out.push(join(&n.ident.to_string())),
            syn::UseTree::Rename(r) => out.push(join(&r.ident.to_string())),
            syn::UseTree::Glob(_) => out.push(join("*")),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| flatten(prefix, t, out)),
        }
    }
    impl<'a> Visit<'a> for Paths {
        fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
            flatten("", &u.tree, &mut self.0);
        }
        fn visit_path(&mut self, p: &'a syn::Path) {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.0.push(segs.join("::"));
            syn::visit::visit_path(self, p);
        }
    }
    let file = syn::parse_file(text).expect("the source parses");
    let mut v = Paths(Vec::new());
    v.visit_file(&file);
    v.0
}

/// Whether the segments `prefix` appear in `path`, whole: at its start (`crate::mock::X`
/// under `crate::mock`) or inside it (`crate::model::state` under `model::state`).
fn under(path: &str, prefix: &str) -> bool {
    let p = format!("::{path}::");
    p.contains(&format!("::{prefix}::"))
}

fn assert_absent(dir: &str, needles: &[&str], why: &str) {
    for (path, text) in sources(dir) {
        for p in paths(&text) {
            for n in needles {
                assert!(!under(&p, n), "{path}: names `{p}` — {why}");
            }
        }
    }
}

#[test]
fn the_checker_sees_grouped_and_nested_imports() {
    let found = paths(
        "use crate::{mock, model::Model};\nfn f() { let _ = crate::embedded::config(None); }",
    );
    assert!(found.iter().any(|p| under(p, "crate::mock")), "{found:?}");
    assert!(found.iter().any(|p| under(p, "crate::model")), "{found:?}");
    assert!(
        found.iter().any(|p| under(p, "crate::embedded")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|p| under(p, "crate::mo")),
        "whole segments only"
    );
    assert!(under("crate::model::state::State", "model::state"));
}

#[test]
fn the_model_has_no_http_types() {
    assert_absent(
        "src/model",
        &[
            "warp",
            "reqwest",
            "hyper",
            "http",
            "tokio",
            "crate::mock",
            "crate::suite",
            "crate::target",
        ],
        "the model holds the rules only; HTTP lives in the mock",
    );
}

#[test]
fn the_suite_never_imports_the_mock() {
    assert_absent(
        "src/suite",
        &["crate::mock", "crate::embedded", "crate::model", "warp"],
        "the suite talks to any target over HTTP; only the CLI and tests wire the mock",
    );
}

#[test]
fn the_fuzzer_never_imports_the_mock() {
    assert_absent(
        "src/fuzz",
        &["crate::mock", "crate::embedded", "warp"],
        "the fuzzer talks to any target over HTTP and asks the model for predictions",
    );
}

#[test]
fn the_mock_reaches_state_only_through_the_model() {
    assert_absent(
        "src/mock",
        &["model::state", "state::State", "State::default"],
        "state lives behind the model, so a persistent store replaces one module",
    );
}

#[test]
fn the_target_layer_is_below_suite_and_fuzz() {
    assert_absent(
        "src/target",
        &[
            "crate::suite",
            "crate::fuzz",
            "crate::mock",
            "crate::model",
            "crate::embedded",
            "warp",
        ],
        "the target layer sits below the suite and the fuzzers and knows neither",
    );
}

#[test]
fn the_target_files_depend_downwards_only() {
    // Each file may use only files listed before it (no import cycles).
    const ORDER: &[&str] = &[
        "keystone", "clouds", "config", "client", "resolve", "session",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/target");
    for (i, name) in ORDER.iter().enumerate() {
        let text = std::fs::read_to_string(root.join(format!("{name}.rs"))).unwrap();
        for later in &ORDER[i..] {
            for needle in [format!("super::{later}"), format!("{later}::")] {
                let uses = text
                    .lines()
                    .filter(|l| l.trim_start().starts_with("use "))
                    .any(|l| l.contains(&needle) || l.contains(&format!("super::{{{later}")));
                assert!(
                    !uses,
                    "src/target/{name}.rs uses `{later}`; files depend on earlier ones only"
                );
            }
        }
    }
    let error = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/error.rs"))
        .unwrap();
    for l in error.lines().filter(|l| l.starts_with("use crate::target")) {
        assert!(
            l.starts_with("use crate::target::keystone")
                || l.starts_with("use crate::target::clouds"),
            "src/error.rs: `{l}` — the error types may use the target layer's leaves only"
        );
    }
}
