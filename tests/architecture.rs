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

fn assert_absent(dir: &str, needles: &[&str], why: &str) {
    for (path, text) in sources(dir) {
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for n in needles {
                assert!(!code.contains(n), "{path}:{}: `{n}` — {why}", i + 1);
            }
        }
    }
}

#[test]
fn the_model_has_no_http_types() {
    assert_absent(
        "src/model",
        &[
            "warp",
            "reqwest",
            "hyper",
            "http::",
            "tokio",
            "crate::mock",
            "crate::suite",
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
fn the_persona_list_is_the_target_layers() {
    assert_eq!(sharecheck::suite::PERSONAS, sharecheck::target::PERSONAS);
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
