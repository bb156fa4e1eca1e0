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

/// The leaves of a `use` tree, before any `as`: `use crate::{mock, model::X as Y}` gives
/// `crate::mock` and `crate::model::X`; `self` in a group names the prefix.
fn flatten(prefix: &str, tree: &syn::UseTree, out: &mut Vec<String>) {
    let join = |s: &str| {
        if prefix.is_empty() {
            s.to_string()
        } else if s == "self" {
            prefix.to_string()
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

/// Every path a Rust source names: each leaf of its `use` trees (`use crate::{mock, model::X}`
/// gives `crate::mock` and `crate::model::X`) and every path in its types and expressions.
fn paths(text: &str) -> Vec<String> {
    use syn::visit::Visit;
    struct Paths(Vec<String>);
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
fn the_rules_name_no_mutant() {
    for (path, text) in sources("src/model") {
        assert!(
            !text.contains("Mutant") && !text.contains("mutated("),
            "{path} names a mutant: mutants wrap the model from the mock (src/mock/mutant)"
        );
    }
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

/// The modules `src/lib.rs` may declare public: namespaces whose names read better with the
/// module in front (`sharecheck::embedded::start`, `sharecheck::specimport::import`). Each
/// says why in its own documentation ("A public namespace …"). Every other module is
/// private and the root re-exports what users need (ARCHITECTURE.md, "Public surface").
const PUB_MODS: &[&str] = &["embedded", "specimport"];

fn lib_rs() -> syn::File {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    syn::parse_file(&std::fs::read_to_string(path).unwrap()).expect("lib.rs parses")
}

/// The modules a file declares `pub` (at the crate root, `pub(crate)` is private).
fn public_mods(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Mod(m) if matches!(m.vis, syn::Visibility::Public(_)) => {
                Some(m.ident.to_string())
            }
            _ => None,
        })
        .collect()
}

/// The inner documentation (`//!`) of the module `name` that `src/lib.rs` declares.
fn module_docs(name: &str) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let file = [
        src.join(format!("{name}.rs")),
        src.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("no file for module `{name}`"));
    let parsed = syn::parse_file(&std::fs::read_to_string(file).unwrap()).unwrap();
    let docs = parsed.attrs.iter().filter_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    });
    docs.collect::<Vec<_>>().join("\n")
}

/// Every module path (`fuzz::hostile`) the crate root could `use`: its own modules, and below
/// them every module not declared private (files found as `name.rs` or `name/mod.rs`).
fn modules_reachable_from_root() -> Vec<String> {
    fn walk(items: &[syn::Item], dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for item in items {
            let syn::Item::Mod(m) = item else { continue };
            if !prefix.is_empty() && matches!(m.vis, syn::Visibility::Inherited) {
                continue;
            }
            let name = m.ident.to_string();
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}::{name}")
            };
            out.push(path.clone());
            let sub = dir.join(&name);
            if let Some((_, inner)) = &m.content {
                walk(inner, &sub, &path, out);
                continue;
            }
            for file in [dir.join(format!("{name}.rs")), sub.join("mod.rs")] {
                if let Ok(text) = std::fs::read_to_string(&file) {
                    let parsed = syn::parse_file(&text).expect("a module parses");
                    walk(&parsed.items, &sub, &path, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    walk(&lib_rs().items, &src, "", &mut out);
    out
}

/// What a file's public `use` items re-export that is a glob or one of `modules`.
fn module_re_exports(file: &syn::File, modules: &[String]) -> Vec<String> {
    let mut leaves = Vec::new();
    for item in &file.items {
        if let syn::Item::Use(u) = item
            && !matches!(u.vis, syn::Visibility::Inherited)
        {
            flatten("", &u.tree, &mut leaves);
        }
    }
    leaves
        .into_iter()
        .map(|l| l.trim_start_matches("crate::").to_string())
        .filter(|l| l.ends_with('*') || modules.contains(l))
        .collect()
}

#[test]
fn the_surface_checks_see_pub_mods_and_module_re_exports() {
    let file = syn::parse_file(
        "pub mod a; pub(crate) mod b; mod c;\n\
         pub use c::{self as d, x::*, f as c, g};\nuse c::h;",
    )
    .unwrap();
    assert_eq!(public_mods(&file), ["a"]);
    let modules = ["c".to_string(), "c::h".to_string()];
    assert_eq!(module_re_exports(&file, &modules), ["c", "c::x::*"]);
    assert!(
        modules_reachable_from_root()
            .iter()
            .any(|m| m == "fuzz::hostile"),
        "the walk goes below the root"
    );
}

#[test]
fn lib_rs_declares_no_pub_mod_outside_the_allow_list() {
    let mut public = public_mods(&lib_rs());
    for name in &public {
        assert!(
            PUB_MODS.contains(&name.as_str()),
            "src/lib.rs: `pub mod {name}`: modules are private and the root re-exports what \
             users need; a new public namespace goes in PUB_MODS, with its reason in its docs"
        );
        assert!(
            module_docs(name).contains("public namespace"),
            "module `{name}` is public: its documentation must say why (\"A public namespace …\")"
        );
    }
    public.sort();
    assert_eq!(public, PUB_MODS, "the allow-list names only public modules");
}

#[test]
fn the_root_re_exports_items_not_modules() {
    let found = module_re_exports(&lib_rs(), &modules_reachable_from_root());
    assert!(
        found.is_empty(),
        "src/lib.rs re-exports {found:?}: re-export items by name (renamed if they clash), \
         or add a namespace to PUB_MODS"
    );
}
