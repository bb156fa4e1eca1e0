//! Every citation of every spec resolves: `source` (when it names a page) and each `cites`
//! entry is a page of `docs/citations.yaml` documenting the spec's method and path, every
//! page documenting them is cited, and the api-ref pages no spec cites yet are exactly the
//! operations still to be specified. A spec says which documentation set its cases follow
//! (`follows`) exactly where the two sets it cites list different codes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

#[derive(Deserialize)]
struct Page {
    method: String,
    path: String,
    codes: Vec<u16>,
}

/// Operations the api-ref documents that have no spec yet (issue: the whole Image API
/// reference). The list may only shrink.
const NOT_SPECIFIED_YET: &[&str] = &[];

/// A path with its parameters' names left out: documentation sets name them differently.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('{');
            }
            '}' => {
                inside = false;
                out.push('}');
            }
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

fn index() -> BTreeMap<String, Page> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/citations.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// What is wrong with one spec's citations, given the index.
fn problems(name: &str, spec: &serde_yaml::Value, index: &BTreeMap<String, Page>) -> Vec<String> {
    let text = |k: &str| {
        spec.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let (method, path) = (text("method"), shape(&text("path")));
    let source = text("source");
    let cites: Vec<String> = spec
        .get("cites")
        .and_then(|c| c.as_sequence())
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    let given = cites
        .iter()
        .chain((source != "reference-behaviour").then_some(&source));
    for c in given {
        match index.get(c) {
            None => out.push(format!("{name}: `{c}` is no page of docs/citations.yaml")),
            Some(p) if p.method != method || shape(&p.path) != path => out.push(format!(
                "{name}: `{c}` documents {} {}, not {method} {}",
                p.method,
                p.path,
                text("path")
            )),
            Some(_) => {}
        }
    }
    for (c, p) in index {
        if p.method == method && shape(&p.path) == path && !cites.contains(c) {
            out.push(format!("{name}: does not cite `{c}`, which documents it"));
        }
    }
    out
}

/// The codes the pages of one set (`doc:` or `api-ref:`) the spec cites list together;
/// `None` when it cites no page of that set.
fn set_codes(
    cites: &[String],
    prefix: &str,
    index: &BTreeMap<String, Page>,
) -> Option<BTreeSet<u16>> {
    let pages: Vec<&Page> = cites
        .iter()
        .filter(|c| c.starts_with(prefix))
        .filter_map(|c| index.get(c))
        .collect();
    (!pages.is_empty()).then(|| pages.iter().flat_map(|p| p.codes.iter().copied()).collect())
}

/// What is wrong with one spec's `follows`: it must be there, and say something, exactly when
/// the spec cites both documentation sets and their codes differ.
fn follows_problem(
    name: &str,
    spec: &serde_yaml::Value,
    index: &BTreeMap<String, Page>,
) -> Option<String> {
    let cites: Vec<String> = spec
        .get("cites")
        .and_then(|c| c.as_sequence())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let follows = spec
        .get("follows")
        .filter(|v| !v.is_null())
        .map(|v| v.as_str().unwrap_or("").trim().to_string());
    let parted = match (
        set_codes(&cites, "doc:", index),
        set_codes(&cites, "api-ref:", index),
    ) {
        (Some(seed), Some(api)) if seed != api => {
            let only = |a: &BTreeSet<u16>, b: &BTreeSet<u16>| -> Vec<u16> {
                a.difference(b).copied().collect()
            };
            Some(format!(
                "seed pages only {:?}, api-ref only {:?}",
                only(&seed, &api),
                only(&api, &seed)
            ))
        }
        _ => None,
    };
    match (parted, follows) {
        (Some(how), None) => Some(format!(
            "{name}: the documentation sets it cites disagree ({how}) but it has no `follows`"
        )),
        (Some(how), Some(f)) if f.is_empty() => Some(format!(
            "{name}: the documentation sets it cites disagree ({how}) but its `follows` is empty"
        )),
        (None, Some(_)) => Some(format!(
            "{name}: has `follows` although the pages it cites do not disagree (or are of one set)"
        )),
        _ => None,
    }
}

fn specs() -> Vec<(String, serde_yaml::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, serde_yaml::from_str(&text).unwrap()));
        }
    }
    out
}

#[test]
fn every_citation_resolves_and_every_documenting_page_is_cited() {
    let index = index();
    let all: Vec<String> = specs()
        .iter()
        .flat_map(|(name, spec)| problems(name, spec, &index))
        .collect();
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[test]
fn the_api_ref_pages_no_spec_cites_are_the_operations_not_specified_yet() {
    let index = index();
    let cited: BTreeSet<String> = specs()
        .iter()
        .flat_map(|(_, s)| {
            s.get("cites")
                .and_then(|c| c.as_sequence())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
        })
        .collect();
    let uncited: BTreeSet<&str> = index
        .keys()
        .filter(|c| c.starts_with("api-ref:") && !cited.contains(*c))
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = NOT_SPECIFIED_YET.iter().copied().collect();
    assert_eq!(uncited, expected);
}

#[test]
fn a_citation_that_resolves_nowhere_or_to_another_operation_is_caught() {
    let index = index();
    let spec = |source: &str, cites: &str| -> serde_yaml::Value {
        serde_yaml::from_str(&format!(
            "method: PATCH\npath: /v2/images/{{id}}\nsource: {source}\ncites: {cites}\n"
        ))
        .unwrap()
    };
    let right = r#"["api-ref:images-images-v2.inc#update-image", "doc:patch-update-image-images-image-id"]"#;
    assert_eq!(
        problems(
            "s",
            &spec("doc:patch-update-image-images-image-id", right),
            &index
        ),
        Vec::<String>::new()
    );
    let broken = problems("s", &spec("doc:patch-update-image", right), &index);
    assert_eq!(
        broken,
        ["s: `doc:patch-update-image` is no page of docs/citations.yaml"]
    );
    let other = problems(
        "s",
        &spec(
            "reference-behaviour",
            r#"["api-ref:images-images-v2.inc#update-image", "doc:patch-update-image-images-image-id", "api-ref:images-images-v2.inc#delete-image"]"#,
        ),
        &index,
    );
    assert!(
        other[0].contains("documents DELETE /v2/images/{image_id}, not PATCH"),
        "{other:?}"
    );
    let missing = problems("s", &spec("reference-behaviour", "[]"), &index);
    assert_eq!(missing.len(), 2, "{missing:?}");
}

#[test]
fn a_spec_says_which_set_it_follows_exactly_where_the_sets_it_cites_disagree() {
    let index = index();
    let all: Vec<String> = specs()
        .iter()
        .filter_map(|(name, spec)| follows_problem(name, spec, &index))
        .collect();
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[test]
fn a_missing_empty_or_needless_follows_is_caught() {
    let page = |codes: &[u16]| Page {
        method: "GET".into(),
        path: "/v2/x".into(),
        codes: codes.to_vec(),
    };
    let index: BTreeMap<String, Page> = [
        ("doc:x", page(&[200, 404, 500])),
        ("api-ref:x", page(&[200, 404])),
        ("api-ref:same", page(&[200, 404, 500])),
    ]
    .into_iter()
    .map(|(c, p)| (c.to_string(), p))
    .collect();
    let spec = |cites: &str, follows: &str| -> serde_yaml::Value {
        serde_yaml::from_str(&format!("cites: {cites}\n{follows}")).unwrap()
    };
    let check = |cites: &str, follows: &str| follows_problem("s", &spec(cites, follows), &index);
    let parted = r#"["api-ref:x", "doc:x"]"#;
    let said = "follows: The reference decides; it never gives 500.";
    assert_eq!(check(parted, said), None);
    let missing = check(parted, "").expect("a missing follows is caught");
    assert!(
        missing.contains("seed pages only [500], api-ref only []"),
        "{missing}"
    );
    for empty in ["follows:", "follows: \"\"", "follows: \"  \""] {
        let e = check(parted, empty).expect("an empty follows is caught");
        assert!(e.contains("is empty") || e.contains("no `follows`"), "{e}");
    }
    assert_eq!(check(r#"["api-ref:same", "doc:x"]"#, ""), None);
    for needless in [
        r#"["api-ref:same", "doc:x"]"#,
        r#"["api-ref:x"]"#,
        r#"["doc:x"]"#,
        "[]",
    ] {
        let n = check(needless, said).expect("a needless follows is caught");
        assert!(n.contains("do not disagree"), "{n}");
    }
}
