//! What a CI pipeline relies on: preflight, exit codes, `--json`, `--expect` and `--strict`.

mod common;

use common::{Mock, scratch, sharecheck, target_file, text};

#[test]
fn json_has_one_record_per_case_and_no_tokens() {
    let dir = scratch("json");
    let path = dir.join("out/results.json");
    let out = sharecheck(&[
        "run",
        "--json",
        path.to_str().unwrap(),
        "delete_image_member::40",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let raw = std::fs::read_to_string(&path).unwrap();
    for token in [
        "owner-token",
        "member-token",
        "stranger-token",
        "admin-token",
    ] {
        assert!(!raw.contains(token), "a token leaked into the JSON");
    }
    let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let ran = text(&out)
        .lines()
        .filter(|l| l.starts_with("test delete_image_member::40"))
        .count();
    assert_eq!(cases.len(), ran);
    assert!(ran >= 15);
    assert_eq!(doc["totals"]["passed"].as_u64().unwrap() as usize, ran);
    let c = cases
        .iter()
        .find(|c| c["id"] == "dim-404-stranger-cannot-see-image")
        .expect("record of the case");
    assert_eq!(c["operation"], "delete_image_member");
    assert_eq!(c["code"], 404);
    assert_eq!(c["result"], "passed");
    assert!(c["duration_ms"].as_f64().unwrap() >= 0.0);
    let xs = c["exchanges"].as_array().unwrap();
    assert!(
        xs.iter()
            .any(|x| x["method"] == "DELETE" && x["status"] == 404),
        "{xs:?}"
    );
    assert!(
        xs.iter()
            .any(|x| x["method"] == "POST" && x["path"] == "/v2/images" && x["status"] == 201)
    );
}

fn expectations(tag: &str, body: &str) -> std::path::PathBuf {
    let p = scratch(tag).join("expect.yaml");
    std::fs::write(&p, format!("expectations:\n{body}")).unwrap();
    p
}

#[test]
fn expected_failures_do_not_fail_the_run_and_unexpected_passes_fail_it_under_strict() {
    let mock = Mock::start(&["--mutant", "member-can-delete-self"]);
    let target = mock.target_file("expect", "");
    let filter = "delete_image_member::403::";
    // The matrix cells of the member deleting itself fail under this mutant too; leave them out.
    let (skip, matrix) = ("--skip", "matrix_");
    // Without expectations the mutant fails the run.
    let out = sharecheck(&[
        "run",
        "--target",
        target.to_str().unwrap(),
        filter,
        skip,
        matrix,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    let known = expectations(
        "expect-known",
        "  dim-403-member-cannot-remove-itself: {expect: expected-fail, reason: our server lets members leave}\n",
    );
    let out = sharecheck(&[
        "run",
        "--target",
        target.to_str().unwrap(),
        "--expect",
        known.to_str().unwrap(),
        filter,
        skip,
        matrix,
    ]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("ignored (expected failure: our server lets members leave)"),
        "{t}"
    );
    assert!(
        t.contains("1 expected failure(s) failed as expected"),
        "{t}"
    );

    let stale = expectations(
        "expect-stale",
        "  dim-403-member-cannot-remove-itself: {expect: expected-fail, reason: known}\n  delete_image_member::403::owner_on_private_image: {expect: expected-fail, reason: fixed since}\n  dim-403-owner-on-public-image: {expect: skip, reason: no admin here}\n",
    );
    let args = |strict: bool| {
        let mut a = vec![
            "run",
            "--target",
            target.to_str().unwrap(),
            "--expect",
            stale.to_str().unwrap(),
            filter,
            skip,
            matrix,
        ];
        if strict {
            a.push("--strict");
        }
        sharecheck(&a)
    };
    let out = args(false);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("1 unexpected pass(es) (--strict fails the run on them): delete_image_member::403::owner_on_private_image"), "{t}");
    assert!(t.contains("ignored (skipped: no admin here)"), "{t}");
    let out = args(true);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("unexpected pass: listed as an expected failure (fixed since)"),
        "{t}"
    );
}

#[test]
fn bad_expectations_are_usage_errors() {
    let bad = expectations("expect-bad", "  no-such-case: {expect: skip, reason: x}\n");
    let out = sharecheck(&["run", "--expect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("expect.yaml:2: `no-such-case` is neither a case id nor a trial name"),
        "{}",
        text(&out)
    );
    let bad = expectations(
        "expect-bad2",
        "  dim-401-no-token: {expect: maybe, reason: x}\n",
    );
    let out = sharecheck(&["run", "--expect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("unknown variant `maybe`"),
        "{}",
        text(&out)
    );
}

#[test]
fn preflight_stops_bad_targets_before_any_case() {
    let mock = Mock::start(&[]);
    let cases = [
        (
            mock.target_file("pf-token", "")
                .to_str()
                .unwrap()
                .to_string(),
            Some(("member-token", "member-token-revoked")),
            "error: preflight\n  caused by: persona `member`: the image service refuses its token (401)",
        ),
        (
            target_file(&format!("{}/v2", mock.uri), "pf-path", "")
                .to_str()
                .unwrap()
                .to_string(),
            None,
            "without an image API v2 version; is this an image service root?",
        ),
        (
            target_file("http://127.0.0.1:9", "pf-down", "")
                .to_str()
                .unwrap()
                .to_string(),
            None,
            "no answer to version discovery",
        ),
    ];
    for (path, swap, want) in cases {
        if let Some((from, to)) = swap {
            let t = std::fs::read_to_string(&path)
                .unwrap()
                .replace(&format!("token: {from}"), &format!("token: {to}"));
            std::fs::write(&path, t).unwrap();
        }
        let out = sharecheck(&["run", "--target", &path]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{t}");
        assert!(t.contains(want), "{t}");
        assert!(!t.contains("running "), "no trial may run: {t}");
        assert_eq!(
            t.lines()
                .filter(|l| l.starts_with("sharecheck: error"))
                .count(),
            1,
            "one error (its causes follow, one a line): {t}"
        );
    }
}

/// A stand-in image service on 127.0.0.1, enough for preflight: version discovery (v2.0 to
/// v2.9), every persona's `GET /v2/images`, the import methods glance-direct and
/// web-download only, and two stores, `local` (the default) and `backup`. It answers at most
/// 200 connections, one request each.
fn two_method_service() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut s) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 16_384 {
                match s.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split(' ').nth(1).unwrap_or("/");
            let versions: Vec<String> = (0..=9)
                .map(|n| {
                    let status = if n == 9 { "CURRENT" } else { "SUPPORTED" };
                    format!(r#"{{"id": "v2.{n}", "status": "{status}", "links": []}}"#)
                })
                .collect();
            let (status, body) = match path.split('?').next().unwrap_or("") {
                "/versions" => (300, format!(r#"{{"versions": [{}]}}"#, versions.join(", "))),
                "/v2/images" => (200, r#"{"images": []}"#.to_string()),
                "/v2/info/import" => (
                    200,
                    r#"{"import-methods": {"type": "array", "value": ["glance-direct", "web-download"]}}"#
                        .to_string(),
                ),
                "/v2/info/stores" => (
                    200,
                    r#"{"stores": [{"id": "local", "default": "true"}, {"id": "backup"}]}"#
                        .to_string(),
                ),
                _ => (404, r#"{"message": "no", "code": "404 Not Found", "title": "Not Found"}"#.to_string()),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    uri
}

#[test]
fn a_case_needing_an_import_method_the_target_lacks_is_ignored_with_the_reason_in_every_report() {
    let uri = two_method_service();
    let target = common::target_file(&uri, "no-copy", "");
    let dir = scratch("no-copy-reports");
    let (junit, json, report) = (
        dir.join("junit.xml"),
        dir.join("results.json"),
        dir.join("report"),
    );
    let out = sharecheck(&[
        "run",
        "--target",
        target.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--exact",
        "import_image::403::copy_is_for_admins",
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let reason =
        "target does not offer import method `copy-image` (it offers glance-direct, web-download)";
    // The preflight says what it learned and what that turns off, before the trial.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let learned = [
        "API versions: v2.0–v2.9 (CURRENT v2.9)",
        "stores: local (default), backup",
        "import methods: glance-direct, web-download",
        "locations shown: no, image format match: yes, cache: no",
    ];
    for line in learned {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    let off = stdout
        .lines()
        .find(|l| l.contains("case(s) need import-method:copy-image and are ignored"))
        .unwrap_or_else(|| panic!("no line for copy-image: {stdout}"));
    assert!(off.ends_with(reason), "{off}");
    let trial = stdout
        .lines()
        .position(|l| l.starts_with("test import_image::403::copy_is_for_admins"))
        .expect("the trial's line");
    assert!(
        stdout
            .lines()
            .nth(trial)
            .unwrap()
            .contains(&format!("ignored ({reason})"))
    );
    assert!(stdout.lines().position(|l| l == off).unwrap() < trial);

    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("<skipped"), "{junit}");
    assert!(junit.contains(reason), "{junit}");

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let case = &doc["cases"][0];
    assert_eq!(case["name"], "import_image::403::copy_is_for_admins");
    assert_eq!(case["result"], "ignored");
    assert_eq!(case["reason"], reason);
    assert_eq!(doc["totals"]["ignored"], 1);
    // The JSON also says what the preflight learned and what it turned off.
    let facts = &doc["facts"];
    assert_eq!(
        facts["import_methods"],
        serde_json::json!(["glance-direct", "web-download"])
    );
    assert_eq!(facts["default_store"], "local");
    assert_eq!(facts["current"], "v2.9");
    assert_eq!(
        facts["unmet_needs"],
        serde_json::json!([{"need": "import-method:copy-image", "cases": 1, "reason": reason}])
    );

    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains(&reason.replace('`', "\\`")),
        "{}",
        &md[md.len().saturating_sub(3000)..]
    );
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(html.contains(reason), "the HTML report lacks the reason");

    // The image task list is new in v2.12; a target serving up to v2.9 runs none of its cases.
    let out = sharecheck(&[
        "run",
        "--target",
        target.to_str().unwrap(),
        "list_image_tasks::",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    let why = "needs Image API v2.12; the target serves up to v2.9";
    let trials: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("test list_image_tasks::"))
        .collect();
    assert!(trials.len() >= 5, "{stdout}");
    for t in &trials {
        assert!(t.contains("ignored (") && t.contains(why), "{t}");
    }
    assert!(
        stdout.contains(&format!(
            "preflight: {} case(s) need api:2.12 and are ignored: {why}",
            trials.len()
        )),
        "{stdout}"
    );
}
