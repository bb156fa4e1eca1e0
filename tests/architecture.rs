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

/// One module of `src/` as the import graph sees it.
#[derive(Default)]
struct Module {
    /// The file, relative to `src/` (an inline `mod` shares its file).
    file: String,
    parent: Option<usize>,
    /// Child modules by name.
    children: Vec<(String, usize)>,
    /// Items defined here, by name.
    defs: Vec<String>,
    /// `use` leaves: the name they bind, and the path they name.
    uses: Vec<(String, Vec<String>)>,
    /// `use …::*` prefixes.
    globs: Vec<Vec<String>>,
}

/// The leaves of a `use` tree with the name each binds (`as` applied; `_` binds nothing).
fn use_leaves(prefix: &[String], tree: &syn::UseTree, module: &mut Module) {
    let with = |s: &syn::Ident| {
        let mut p = prefix.to_vec();
        p.push(s.to_string());
        p
    };
    match tree {
        syn::UseTree::Path(p) => use_leaves(&with(&p.ident), &p.tree, module),
        syn::UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned().unwrap_or_default();
            module.uses.push((name, prefix.to_vec()));
        }
        syn::UseTree::Name(n) => module.uses.push((n.ident.to_string(), with(&n.ident))),
        syn::UseTree::Rename(r) => {
            let path = if r.ident == "self" {
                prefix.to_vec()
            } else {
                with(&r.ident)
            };
            module.uses.push((r.rename.to_string(), path));
        }
        syn::UseTree::Glob(_) => module.globs.push(prefix.to_vec()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_leaves(prefix, t, module)),
    }
}

/// Reads the modules of `items` (in `file`, whose child files live in `dir`) into `out`.
fn read_module(
    items: &[syn::Item],
    file: &str,
    dir: &Path,
    parent: Option<usize>,
    out: &mut Vec<Module>,
) -> usize {
    let me = out.len();
    out.push(Module {
        file: file.to_string(),
        parent,
        ..Module::default()
    });
    let mut module = Module::default();
    for item in items {
        let ident = match item {
            syn::Item::Use(u) => {
                use_leaves(&[], &u.tree, &mut module);
                continue;
            }
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                let child = match &m.content {
                    Some((_, inner)) => read_module(inner, file, &dir.join(&name), Some(me), out),
                    None => read_file_module(dir, &name, me, out),
                };
                module.children.push((name, child));
                continue;
            }
            syn::Item::Fn(f) => &f.sig.ident,
            syn::Item::Struct(s) => &s.ident,
            syn::Item::Enum(e) => &e.ident,
            syn::Item::Trait(t) => &t.ident,
            syn::Item::Const(c) => &c.ident,
            syn::Item::Static(s) => &s.ident,
            syn::Item::Type(t) => &t.ident,
            syn::Item::Union(u) => &u.ident,
            syn::Item::Macro(m) => match &m.ident {
                Some(i) => i,
                None => continue,
            },
            _ => continue,
        };
        module.defs.push(ident.to_string());
    }
    let slot = &mut out[me];
    slot.children = module.children;
    slot.defs = module.defs;
    slot.uses = module.uses;
    slot.globs = module.globs;
    me
}

/// Reads the file module `name` declared in a file whose children live in `dir`.
fn read_file_module(dir: &Path, name: &str, parent: usize, out: &mut Vec<Module>) -> usize {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (path, children) = [
        (dir.join(format!("{name}.rs")), dir.join(name)),
        (dir.join(name).join("mod.rs"), dir.join(name)),
    ]
    .into_iter()
    .find(|(p, _)| p.exists())
    .unwrap_or_else(|| panic!("{}: no file for `mod {name}`", dir.display()));
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = syn::parse_file(&text)
        .unwrap_or_else(|e| panic!("{}: does not parse: {e}", path.display()));
    let rel = path.strip_prefix(&src).unwrap().display().to_string();
    read_module(&parsed.items, &rel, &children, Some(parent), out)
}

/// Every module of the library crate, the root (`lib.rs`) first.
fn library_modules() -> Vec<Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    read_module(&lib_rs().items, "lib.rs", &src, None, &mut out);
    out
}

/// The module that defines what `segs` names, seen from module `from`: through child
/// modules, `use` items (re-exports too) and globs, to the module whose items hold it.
/// `None` for what is outside the crate (std, other crates) or a name nothing binds.
fn resolve(mods: &[Module], from: usize, segs: &[String], depth: usize) -> Option<usize> {
    if depth > 24 || segs.is_empty() {
        return None;
    }
    let m = &mods[from];
    let (mut cur, mut rest) = match segs[0].as_str() {
        "crate" => (0, &segs[1..]),
        "self" => (from, &segs[1..]),
        "super" => (m.parent?, &segs[1..]),
        first => match m.children.iter().find(|(n, _)| n == first) {
            Some(&(_, c)) => (c, &segs[1..]),
            None => return resolve_name(mods, from, segs, depth),
        },
    };
    while let Some(seg) = rest.first() {
        if seg == "super" {
            cur = mods[cur].parent?;
        } else if let Some(&(_, c)) = mods[cur].children.iter().find(|(n, _)| n == seg) {
            cur = c;
        } else {
            return resolve_name(mods, cur, rest, depth).or(Some(cur));
        }
        rest = &rest[1..];
    }
    Some(cur)
}

/// `segs[0]` as a name in module `at`: defined there, bound by a `use`, or through a glob.
fn resolve_name(mods: &[Module], at: usize, segs: &[String], depth: usize) -> Option<usize> {
    let m = &mods[at];
    if m.defs.contains(&segs[0]) {
        return Some(at);
    }
    let tail = &segs[1..];
    if let Some((_, path)) = m.uses.iter().find(|(n, _)| *n == segs[0]) {
        return resolve(mods, at, &[path.as_slice(), tail].concat(), depth + 1);
    }
    m.globs.iter().find_map(|g| {
        let target = resolve(mods, at, g, depth + 1)?;
        mods[target]
            .defs
            .contains(&segs[0])
            .then_some(target)
            .or_else(|| resolve_name(mods, target, segs, depth + 1))
    })
}

/// Whether one of two modules holds the other (a module and its parent, grandparent…).
fn lineal(mods: &[Module], a: usize, b: usize) -> bool {
    let above = |mut x: usize, y: usize| {
        while let Some(p) = mods[x].parent {
            if p == y {
                return true;
            }
            x = p;
        }
        false
    };
    above(a, b) || above(b, a)
}

/// The file-level import graph of the modules: an edge from a file to each other file that
/// defines what one of its `use` leaves or globs names (re-exports followed to the
/// definition), except between a module and one that holds it (see [`IMPORT_CYCLES_LEFT`]).
fn import_graph(mods: &[Module]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut graph: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (i, m) in mods.iter().enumerate() {
        let named = m.uses.iter().map(|(_, p)| p).chain(m.globs.iter());
        let edges = graph.entry(m.file.clone()).or_default();
        for path in named {
            if let Some(to) = resolve(mods, i, path, 0)
                && mods[to].file != m.file
                && !lineal(mods, i, to)
                && !edges.contains(&mods[to].file)
            {
                edges.push(mods[to].file.clone());
            }
        }
    }
    graph
}

/// The strongly connected components of more than one file (Tarjan), each sorted.
fn cycles(graph: &std::collections::BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
    struct T<'g> {
        graph: &'g std::collections::BTreeMap<String, Vec<String>>,
        index: std::collections::HashMap<&'g str, (usize, usize)>,
        stack: Vec<&'g str>,
        on: std::collections::HashSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    impl<'g> T<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, (n, n));
            self.stack.push(v);
            self.on.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let low = self.index[w.as_str()].1.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                } else if self.on.contains(w.as_str()) {
                    let low = self.index[w.as_str()].0.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                }
            }
            let (i, low) = self.index[v];
            if i == low {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    scc.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if scc.len() > 1 {
                    scc.sort();
                    self.out.push(scc);
                }
            }
        }
    }
    let mut t = T {
        graph,
        index: Default::default(),
        stack: Vec::new(),
        on: Default::default(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out.sort();
    t.out
}

/// The import cycles between files of `src/` that remain, each its files sorted. Others are
/// removing them on their branches: THIS LIST MUST END EMPTY. The check fails on any cycle
/// not listed here, and on an entry that is no longer a cycle (delete it then). It is empty:
/// keep it so.
///
/// The definition (the one that finds exactly the four cycles counted on main when the check
/// was written: `mock/control ↔ http`, `model/changes → snapshot → state`, `mock/mutant/*`
/// and `specimport/read ↔ rows`, all since removed by design): file X imports file
/// Y when a `use` in X (a leaf or a glob, `crate::`, `super::`, `self::` or a child module)
/// names something Y defines, re-exports followed to the definition; a cycle is a strongly
/// connected component of more than one file. A module and the modules holding it are one
/// unit, not an edge (a `mod.rs` re-exports its children and they use its items with
/// `super::`: with those counted, every folder of the model would be one cycle), and paths
/// written in code (`super::format::detect(…)`) are not imports.
const IMPORT_CYCLES_LEFT: &[&[&str]] = &[];

/// Each cycle as its files and the imports between them.
fn describe_cycles(
    graph: &std::collections::BTreeMap<String, Vec<String>>,
    cycles: &[&Vec<String>],
) -> String {
    let mut out = String::new();
    for c in cycles {
        let edges: Vec<String> = c
            .iter()
            .flat_map(|f| {
                graph[f]
                    .iter()
                    .filter(|t| c.contains(t))
                    .map(move |t| format!("{f} → {t}"))
            })
            .collect();
        out.push_str(&format!("\n  {}: {}", c.join(", "), edges.join("; ")));
    }
    out
}

#[test]
fn no_import_cycle_between_files_of_src() {
    let graph = import_graph(&library_modules());
    let found = cycles(&graph);
    let allowed: Vec<Vec<String>> = IMPORT_CYCLES_LEFT
        .iter()
        .map(|c| c.iter().map(|f| f.to_string()).collect())
        .collect();
    let new: Vec<&Vec<String>> = found.iter().filter(|c| !allowed.contains(c)).collect();
    assert!(
        new.is_empty(),
        "import cycles between files of src/ (split the files by job so imports go one way):{}",
        describe_cycles(&graph, &new)
    );
    let gone: Vec<&Vec<String>> = allowed.iter().filter(|c| !found.contains(c)).collect();
    assert!(
        gone.is_empty(),
        "IMPORT_CYCLES_LEFT lists {gone:?}, no longer a cycle: delete the entry"
    );
}

#[test]
fn the_cycle_check_follows_re_exports_and_skips_a_module_and_its_children() {
    let file = syn::parse_file(
        "mod a { use super::f::F; pub use super::b::inner::*; pub struct A; }
         mod b { pub mod inner { pub use crate::a::{self as renamed}; pub struct B; } }
         mod e { pub use super::a::A; }
         mod f { use super::e::A; pub struct F; }
         mod p { pub use c::C; pub struct P; mod c { use super::P; pub struct C; } }
         mod d { use super::a::A; use std::fmt; }",
    )
    .unwrap();
    let mut mods = Vec::new();
    read_module(
        &file.items,
        "lib.rs",
        Path::new("/nowhere"),
        None,
        &mut mods,
    );
    // Each inline module its own file, named by its path.
    fn name(mods: &mut [Module], at: usize, prefix: &str) {
        for (n, c) in mods[at].children.clone() {
            let path = format!("{prefix}{n}");
            mods[c].file = format!("{path}.rs");
            name(mods, c, &format!("{path}/"));
        }
    }
    name(&mut mods, 0, "");
    let graph = import_graph(&mods);
    assert_eq!(
        graph["f.rs"],
        ["a.rs"],
        "to the definition, not the re-export"
    );
    assert_eq!(
        graph["p.rs"],
        Vec::<String>::new(),
        "a module and its child"
    );
    assert_eq!(
        cycles(&graph),
        [["a.rs", "b/inner.rs", "f.rs"].map(String::from).to_vec()],
        "a glob, a renamed `self` and a re-export each make an edge"
    );
}

/// The `#[error]` messages of `text` that print their own source (a field named `source`,
/// or marked `#[source]` or `#[from]`), as `Type::Variant`: a printer walking the chain of
/// causes (`main`, `error::chain`) would show that cause twice.
fn messages_printing_their_source(text: &str) -> Vec<String> {
    fn check(name: String, attrs: &[syn::Attribute], fields: &syn::Fields, out: &mut Vec<String>) {
        let Some(message) = attrs.iter().find(|a| a.path().is_ident("error")) else {
            return;
        };
        let Ok(list) = message.meta.require_list() else {
            return;
        };
        let tokens = list.tokens.to_string();
        if tokens == "transparent" {
            return;
        }
        let marked = |f: &syn::Field| {
            f.attrs
                .iter()
                .any(|a| a.path().is_ident("source") || a.path().is_ident("from"))
        };
        let source = fields.iter().enumerate().find_map(|(i, f)| match &f.ident {
            Some(id) if id == "source" || marked(f) => Some(id.to_string()),
            None if marked(f) => Some(i.to_string()),
            _ => None,
        });
        let Some(source) = source else { return };
        // The format string, then the arguments (`"…{}", path.display()`).
        let (format, args) = match tokens.strip_prefix('"').and_then(|t| t.split_once('"')) {
            Some((f, a)) => (f.to_string(), a.to_string()),
            None => (String::new(), tokens.clone()),
        };
        let in_format =
            format.contains(&format!("{{{source}}}")) || format.contains(&format!("{{{source}:"));
        let words: Vec<&str> = args
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .collect();
        if in_format || words.contains(&source.as_str()) {
            out.push(name);
        }
    }
    fn walk(items: &[syn::Item], out: &mut Vec<String>) {
        let derives_error = |attrs: &[syn::Attribute]| {
            attrs.iter().any(|a| {
                a.path().is_ident("derive")
                    && a.meta
                        .require_list()
                        .is_ok_and(|l| l.tokens.to_string().contains("Error"))
            })
        };
        for item in items {
            match item {
                syn::Item::Struct(s) if derives_error(&s.attrs) => {
                    check(s.ident.to_string(), &s.attrs, &s.fields, out);
                }
                syn::Item::Enum(e) if derives_error(&e.attrs) => {
                    for v in &e.variants {
                        let name = format!("{}::{}", e.ident, v.ident);
                        check(name, &v.attrs, &v.fields, out);
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        walk(inner, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &syn::parse_file(text).expect("the source parses").items,
        &mut out,
    );
    out
}

#[test]
fn the_message_check_sees_each_way_of_printing_a_source() {
    let found = messages_printing_their_source(
        "#[derive(Debug, thiserror::Error)]
         enum E {
             #[error(\"cannot read {path}: {source}\")] Named { path: String, source: Io },
             #[error(\"{0}\")] Tuple(#[from] Io),
             #[error(\"no answer: {}\", chain(cause))] Call { #[source] cause: Io },
             #[error(\"at {}: {why:?}\", path.display())] Debug { path: P, #[source] why: Io },
             #[error(\"cannot read {path}\")] Fine { path: String, source: Io },
             #[error(transparent)] Through(Io),
             #[error(\"resource {sourced}\")] Word { sourced: String, #[source] source: Io },
         }
         mod inner {
             #[derive(thiserror::Error)]
             #[error(\"{0}\")] struct S(#[source] Io);
         }",
    );
    assert_eq!(found, ["E::Named", "E::Tuple", "E::Call", "E::Debug", "S"]);
}

#[test]
fn no_error_message_prints_its_own_source() {
    let mut found = Vec::new();
    for (path, text) in sources("src") {
        for name in messages_printing_their_source(&text) {
            found.push(format!("{path}: {name}"));
        }
    }
    assert!(
        found.is_empty(),
        "these #[error] messages print their source, so a chain of causes shows it twice; \
         drop it from the message (callers show the chain with error::chain):\n  {}",
        found.join("\n  ")
    );
}
