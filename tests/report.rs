//! `--report DIR`: the traceability matrix and drift report, on the embedded mock, through
//! the library API. The bundled suite checks the whole-suite view; a tiny suite in a temp dir
//! makes a case fail, one ignored, one filtered out and the target answer codes the tables
//! do not list, and checks the report says so. The runs print libtest's own output (the tiny
//! suite's deliberate `FAILED` line included); the tests' verdicts are cargo's.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::Arguments;
use sharecheck::{Driver, RunError, RunOptions, RunSummary, Suite, Target};

/// A fresh, empty folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sharecheck-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `suite` on the embedded mock with `args`, the report going to `report`; `adjust`
/// changes the target first. Returns the run's result and the target's endpoint.
fn run(
    suite: Suite,
    args: Arguments,
    report: &Path,
    adjust: impl FnOnce(&mut Target),
) -> (Result<RunSummary, RunError>, String) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (_mock, mut target) = rt
        .block_on(sharecheck::embedded::start(None))
        .expect("embedded mock starts");
    adjust(&mut target);
    let endpoint = target.endpoint.trim_end_matches('/').to_string();
    let driver = Arc::new(Driver::new(target, &suite).expect("HTTP client"));
    let opts = RunOptions {
        // The inner run's libtest output goes to a file: its deliberate `FAILED` lines must
        // not read like this test binary's own result.
        args: Arguments {
            quiet: true,
            logfile: Some(
                std::env::temp_dir()
                    .join(format!(
                        "sharecheck-report-libtest-{}-{}.log",
                        std::process::id(),
                        report.file_name().and_then(|n| n.to_str()).unwrap_or("run")
                    ))
                    .display()
                    .to_string(),
            ),
            ..args
        },
        report: Some(report.to_path_buf()),
        ..Default::default()
    };
    let result = sharecheck::run_suite(&Arc::new(suite), driver, rt.handle().clone(), opts);
    (result, endpoint)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The Markdown matrix: the code of every column and each operation's cells.
struct MdMatrix {
    codes: Vec<u16>,
    rows: Vec<(String, Vec<String>)>,
}

fn cells_of(line: &str) -> Vec<String> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_string())
        .collect()
}

fn md_matrix(md: &str) -> MdMatrix {
    let mut lines = md.lines().skip_while(|l| !l.starts_with("| operation | "));
    let head = cells_of(lines.next().expect("matrix header"));
    let codes: Vec<u16> = head[1..head.len() - 1]
        .iter()
        .map(|c| c.parse().expect("a code column"))
        .collect();
    lines.next(); // |---|
    let rows = lines
        .take_while(|l| l.starts_with("| `"))
        .map(|l| {
            let cells = cells_of(l);
            let op = cells[0]
                .trim_start_matches('`')
                .split('`')
                .next()
                .unwrap()
                .to_string();
            assert_eq!(cells.len(), codes.len() + 2, "cells of {op}: {l}");
            (op, cells[1..].to_vec())
        })
        .collect();
    MdMatrix { codes, rows }
}

impl MdMatrix {
    fn row(&self, op: &str) -> &[String] {
        &self
            .rows
            .iter()
            .find(|(o, _)| o == op)
            .unwrap_or_else(|| panic!("no matrix row for {op}"))
            .1
    }

    fn cell(&self, op: &str, code: u16) -> &str {
        let i = self
            .codes
            .iter()
            .position(|c| *c == code)
            .unwrap_or_else(|| panic!("no column {code} in {:?}", self.codes));
        &self.row(op)[i]
    }
}

/// The Markdown footnote `[^n]` a cell refers to, by its text.
fn md_footnote<'a>(md: &'a str, cell: &str) -> &'a str {
    let n = cell
        .split("[^")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap_or_else(|| panic!("no footnote in {cell}"));
    let key = format!("[^{n}]: ");
    md.lines()
        .find_map(|l| l.strip_prefix(key.as_str()))
        .unwrap_or_else(|| panic!("footnote {n} missing"))
}

/// The drift row of `op`: (documented never produced, produced not documented).
fn md_drift(md: &str, op: &str) -> (String, String) {
    let drift = md.split("## Drift").nth(1).expect("a drift section");
    let line = drift
        .lines()
        .find(|l| l.starts_with(&format!("| `{op}` |")))
        .unwrap_or_else(|| panic!("no drift row for {op}"));
    let cells = cells_of(line);
    (cells[1].clone(), cells[2].clone())
}

/// The HTML of one matrix row.
fn html_row<'a>(html: &'a str, op: &str) -> &'a str {
    let start = html
        .find(&format!("<tr id=\"op-{op}\">"))
        .unwrap_or_else(|| panic!("no HTML row for {op}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").expect("row ends")]
}

/// The opening tag and content of one HTML cell.
fn html_cell(row: &str, code: u16) -> &str {
    let start = row
        .find(&format!("data-code=\"{code}\""))
        .unwrap_or_else(|| panic!("no HTML cell {code}"));
    let tag_start = row[..start].rfind("<td").expect("cell tag");
    let rest = &row[tag_start..];
    &rest[..rest.find("</td>").expect("cell ends")]
}

/// No scripts, styles or images from anywhere, and no URL but the target's.
fn assert_self_contained(html: &str, endpoint: &str) {
    for bad in [
        "<script", "<link", "<img", "<iframe", "@import", "url(", " src=",
    ] {
        assert!(!html.contains(bad), "the HTML contains `{bad}`");
    }
    let stripped = html.replace(endpoint, "");
    for scheme in ["http://", "https://", "//fonts", "file:"] {
        assert!(
            !stripped.contains(scheme),
            "the HTML refers to `{scheme}…` besides the endpoint"
        );
    }
    assert!(html.contains(endpoint), "the HTML names the target");
    assert!(html.contains("<style>"), "the CSS is inline");
}

#[test]
fn the_bundled_suite_on_the_mock_gives_a_full_matrix_and_its_drift() {
    let dir = temp_dir("bundled");
    let suite = Suite::bundled().expect("bundled suite");
    let (result, endpoint) = run(suite.clone(), Arguments::default(), &dir, |_| {});
    let summary = result.expect("the run and the report succeed");
    assert_eq!(
        summary.exit_code(),
        0,
        "the bundled suite passes on the mock"
    );
    let md = read(&dir, "report.md");
    let html = read(&dir, "report.html");

    // The header: target, totals; never a token.
    assert!(md.contains(&format!("Target: `{endpoint}`")), "{md}");
    let total = suite.cases.len();
    // The mock has one store and hides locations: the cases needing more are ignored.
    let ignored = common::default_mock_ignores().len();
    let passed = total - ignored;
    assert!(
        md.contains(&format!(
            "Cases: {total} — {passed} passed, 0 failed, {ignored} ignored"
        )),
        "totals in: {}",
        &md[..md.find("## Legend").unwrap()]
    );
    for token in [
        "owner-token",
        "member-token",
        "admin-token",
        "stranger-token",
    ] {
        assert!(
            !md.contains(token) && !html.contains(token),
            "{token} leaked"
        );
    }

    // One row per operation, and the columns are every table's codes, sorted.
    let m = md_matrix(&md);
    let ops: Vec<&str> = m.rows.iter().map(|(o, _)| o.as_str()).collect();
    let want: Vec<&str> = suite
        .operations
        .iter()
        .map(|o| o.operation.as_str())
        .collect();
    assert_eq!(ops, want);
    for op in &want {
        html_row(&html, op);
    }
    let mut codes: Vec<u16> = suite
        .operations
        .iter()
        .flat_map(|o| o.responses.iter().map(|r| r.code))
        .collect();
    codes.sort();
    codes.dedup();
    for c in &codes {
        assert!(m.codes.contains(c), "column {c} missing: {:?}", m.codes);
    }
    assert!(m.codes.windows(2).all(|w| w[0] < w[1]), "{:?}", m.codes);

    // delete_image_member: every table row a cell naming its cases, all passed; the other
    // columns blank.
    let dim = suite
        .operations
        .iter()
        .find(|o| o.operation == "delete_image_member")
        .unwrap();
    assert_eq!(dim.responses.len(), 9, "delete_image_member's table");
    let row = html_row(&html, "delete_image_member");
    for &code in &m.codes {
        let cell = m.cell("delete_image_member", code);
        let html_cell = html_cell(row, code);
        match dim.response(code) {
            Some(_) => {
                let cited: Vec<_> = suite
                    .cases
                    .iter()
                    .filter(|c| c.file.operation == "delete_image_member" && c.file.code == code)
                    .collect();
                assert!(!cited.is_empty(), "delete_image_member {code} has cases");
                for c in cited {
                    let line = format!("`{}` passed", c.file.id);
                    assert!(cell.contains(&line), "{code}: `{line}` not in {cell}");
                    assert!(
                        html_cell
                            .contains(&format!("class=\"c passed\" title=\"{}: passed\"", c.name)),
                        "{code}: {} not shown passed in {html_cell}",
                        c.name
                    );
                }
                assert!(html_cell.contains("class=\"cell passed\""), "{html_cell}");
            }
            None => {
                assert_eq!(cell, "·", "delete_image_member has no {code} row");
                assert!(html_cell.contains("class=\"cell na\""), "{html_cell}");
            }
        }
    }
    let filled = m.row("delete_image_member")[..m.codes.len()]
        .iter()
        .filter(|c| *c != "·")
        .count();
    assert_eq!(filled, 9);
    assert!(
        m.row("delete_image_member")
            .last()
            .unwrap()
            .starts_with("9/9"),
        "summary: {:?}",
        m.row("delete_image_member").last()
    );

    // A not-provokable row shows its reason: a footnote in Markdown, a tooltip and a
    // footnote in HTML.
    let sim = suite
        .operations
        .iter()
        .find(|o| o.operation == "show_image_member")
        .unwrap();
    let reason = sim
        .response(403)
        .and_then(|r| r.not_provokable.as_deref())
        .expect("show_image_member 403 is not provokable");
    let cell = m.cell("show_image_member", 403);
    assert!(cell.contains("not provokable"), "{cell}");
    let note = md_footnote(&md, cell);
    assert!(
        note.contains(&reason.replace('_', "\\_")[..40]),
        "footnote `{note}` lacks `{reason}`"
    );
    let hc = html_cell(html_row(&html, "show_image_member"), 403);
    assert!(hc.contains("class=\"cell np\""), "{hc}");
    assert!(hc.contains(&reason[..40]), "{hc}");
    assert!(
        m.row("show_image_member")
            .last()
            .unwrap()
            .contains("not provokable"),
        "{:?}",
        m.row("show_image_member").last()
    );

    // Undocumented rows are marked; and their codes, produced by passing cases, are drift.
    let aim = suite
        .operations
        .iter()
        .find(|o| o.operation == "add_image_member")
        .unwrap();
    assert!(
        aim.response(409).is_some_and(|r| !r.documented),
        "add_image_member 409 is documented: false"
    );
    // Cases the mock ignores (an http store, two stores, locations shown) produce nothing.
    let skipped = common::default_mock_ignores();
    for op in &suite.operations {
        let (missing, extra) = md_drift(&md, &op.operation);
        for r in &op.responses {
            let passed = suite.cases.iter().any(|c| {
                c.file.operation == op.operation
                    && c.file.code == r.code
                    && !skipped.contains(&c.name)
            });
            if !passed {
                continue;
            }
            let code = format!("{} ×", r.code);
            if r.documented {
                assert!(
                    !missing.contains(&r.code.to_string()),
                    "{} {}: its cases passed, yet drift says never produced: {missing}",
                    op.operation,
                    r.code
                );
                assert!(
                    !extra.contains(&code),
                    "{} {}: {extra}",
                    op.operation,
                    r.code
                );
            } else {
                assert!(
                    m.cell(&op.operation, r.code).starts_with("*undoc.*"),
                    "{} {}: {}",
                    op.operation,
                    r.code,
                    m.cell(&op.operation, r.code)
                );
                assert!(
                    extra.contains(&code) && extra.contains("documented: false"),
                    "{} {} is produced but undocumented: {extra}",
                    op.operation,
                    r.code
                );
            }
        }
    }
    let (_, extra) = md_drift(&md, "add_image_member");
    assert!(extra.contains("409 ×1"), "{extra}");
    assert!(
        html_cell(html_row(&html, "add_image_member"), 409).contains("undoc"),
        "409 is marked undocumented in HTML"
    );
    // Not provokable rows are never produced, and say so.
    let (missing, _) = md_drift(&md, "show_image_member");
    assert!(
        missing.contains("403 Forbidden (not provokable)"),
        "{missing}"
    );

    assert_self_contained(&html, &endpoint);
}

const DIM_SPEC: &str = "\
operation: delete_image_member
title: Delete image member
source: test
method: DELETE
path: /v2/images/{image_id}/members/{member_id}
request_body: none
response_body: none
responses:
  - {code: 403, name: Forbidden, meaning: Not allowed.}
  - {code: 404, name: Not Found, meaning: No such image or member.}
  - {code: 409, name: Conflict, meaning: Never happens here., documented: false}
  - code: 415
    name: Bad Media Type
    meaning: Wrong body type.
    not_provokable: This call parses no body at all, so nothing yields 415 here.
  - {code: 500, name: Internal Server Error, meaning: A fault., capability: fault-injection}
";

/// The clean-up's `DELETE /v2/images/{id}` answers 204, which this table lacks.
const DI_SPEC: &str = "\
operation: delete_image
title: Delete image
source: test
method: DELETE
path: /v2/images/{image_id}
request_body: none
response_body: none
responses:
  - {code: 202, name: Accepted, meaning: Deletion queued.}
";

const CASES: &[(&str, &str)] = &[
    (
        "403/owner_is_refused.yaml",
        "id: t-403-owner-is-refused
operation: delete_image_member
code: 403
purpose: Wrong on purpose; the owner may remove a member.
setup:
  images:
    img: {visibility: shared, members: {member: accepted}}
request: {as: owner, method: DELETE, path: \"/v2/images/{img}/members/{member}\"}
expect: {status: 403}
",
    ),
    (
        "404/unknown_image.yaml",
        "id: t-404-unknown-image
operation: delete_image_member
code: 404
purpose: No such image.
request: {as: owner, method: DELETE, path: \"/v2/images/{random_uuid}/members/{member}\"}
expect: {status: 404}
",
    ),
    (
        "404/filtered_out.yaml",
        "id: t-404-filtered-out
operation: delete_image_member
code: 404
purpose: Skipped by the test options.
request: {as: owner, method: DELETE, path: \"/v2/images/{random_uuid}/members/{member}\"}
expect: {status: 404}
",
    ),
    (
        "500/injected_fault.yaml",
        "id: t-500-injected-fault
operation: delete_image_member
code: 500
purpose: Needs fault injection, which the target will lack.
requires: [fault-injection]
request:
  as: owner
  method: DELETE
  path: \"/v2/images/{random_uuid}/members/{member}\"
  headers: {X-Sharecheck-Fault: \"500\"}
expect: {status: 500}
",
    ),
];

/// A suite of two specs and the cases above, in a temp dir.
fn tiny_suite(name: &str) -> Suite {
    let root = temp_dir(name);
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::write(root.join("specs/delete_image_member.yaml"), DIM_SPEC).unwrap();
    std::fs::write(root.join("specs/delete_image.yaml"), DI_SPEC).unwrap();
    for (path, text) in CASES {
        let p = root.join("cases/delete_image_member").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    Suite::from_dir(&root).expect("the tiny suite loads")
}

#[test]
fn failures_skips_filtered_cases_and_undocumented_codes_show_in_the_report() {
    let suite = tiny_suite("tiny-suite");
    let dir = temp_dir("tiny-report");
    let args = Arguments {
        skip: vec!["filtered_out".into()],
        ..Default::default()
    };
    let (result, endpoint) = run(suite, args, &dir, |t| t.capabilities.clear());
    assert_eq!(result.expect("the report is written").exit_code(), 1);
    let md = read(&dir, "report.md");
    let html = read(&dir, "report.html");
    assert!(
        md.contains("Cases: 4 — 1 passed, 1 failed, 1 ignored, 1 not run"),
        "{}",
        &md[..md.find("## Legend").unwrap()]
    );

    // Columns: every table's codes plus 204, which the target gave and no table lists.
    let m = md_matrix(&md);
    assert_eq!(m.codes, vec![202, 204, 403, 404, 409, 415, 500]);
    let cell = m.cell("delete_image_member", 403);
    assert_eq!(cell, "`t-403-owner-is-refused` failed");
    let cell = m.cell("delete_image_member", 404);
    assert!(
        cell.contains("`t-404-unknown-image` passed")
            && cell.contains("`t-404-filtered-out` not run"),
        "{cell}"
    );
    let cell = m.cell("delete_image_member", 500);
    assert!(cell.contains("`t-500-injected-fault` ignored[^"), "{cell}");
    assert!(
        md_footnote(&md, cell).contains("target lacks capability \\`fault-injection\\`"),
        "{}",
        md_footnote(&md, cell)
    );
    let cell = m.cell("delete_image_member", 415);
    assert!(cell.contains("not provokable"), "{cell}");
    assert!(md_footnote(&md, cell).contains("parses no body at all"));
    assert_eq!(
        m.cell("delete_image_member", 409),
        "*undoc.*<br>**no case**"
    );
    assert_eq!(
        m.cell("delete_image_member", 204),
        "**observed ×1, not in table**"
    );
    assert_eq!(m.cell("delete_image", 202), "**no case**");
    assert_eq!(m.cell("delete_image", 204), "**observed ×1, not in table**");
    assert!(
        m.row("delete_image_member")
            .last()
            .unwrap()
            .starts_with("2/5<br>"),
        "403 (failed) and 404 ran: {:?}",
        m.row("delete_image_member").last()
    );

    // Drift: 403 was expected and never came; 204 came and is not in the table.
    let (missing, extra) = md_drift(&md, "delete_image_member");
    assert!(
        missing.contains("**403** Forbidden (its cases ran, the target never answered it)"),
        "{missing}"
    );
    assert!(
        missing.contains("415 Bad Media Type (not provokable)"),
        "{missing}"
    );
    assert!(
        missing.contains("500 Internal Server Error (its cases were ignored)"),
        "{missing}"
    );
    assert!(!missing.contains("404"), "{missing}");
    assert!(
        extra.contains("204 ×1 (not in the table; seen in t-403-owner-is-refused)"),
        "{extra}"
    );
    let (missing, extra) = md_drift(&md, "delete_image");
    assert!(
        missing.contains("202 Accepted (no case cites it)"),
        "{missing}"
    );
    assert!(extra.contains("204 ×1 (not in the table"), "{extra}");

    // The failure is spelled out.
    let failures = md.split("## Failures").nth(1).expect("a failures section");
    assert!(failures.contains("delete_image_member::403::owner_is_refused"));
    assert!(
        failures.contains("expected status 403, got 204"),
        "{failures}"
    );

    // The HTML says the same, in colour.
    let row = html_row(&html, "delete_image_member");
    let c403 = html_cell(row, 403);
    assert!(c403.contains("class=\"cell failed\""), "{c403}");
    assert!(
        c403.contains("href=\"#fail-t-403-owner-is-refused\""),
        "{c403}"
    );
    assert!(html.contains("id=\"fail-t-403-owner-is-refused\""));
    let c404 = html_cell(row, 404);
    assert!(c404.contains("class=\"c notrun\""), "{c404}");
    assert!(c404.contains("class=\"c passed\""), "{c404}");
    let c500 = html_cell(row, 500);
    assert!(c500.contains("class=\"cell ignored\""), "{c500}");
    assert!(
        c500.contains("target lacks capability `fault-injection`"),
        "{c500}"
    );
    assert!(html_cell(row, 415).contains("class=\"cell np\""));
    assert!(html_cell(row, 204).contains("class=\"cell drift\""));
    assert!(html_cell(row, 409).contains("undoc"));
    assert_self_contained(&html, &endpoint);
}

#[test]
fn a_report_that_cannot_be_written_is_a_report_error() {
    let suite = tiny_suite("unwritable-suite");
    let dir = temp_dir("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let args = Arguments {
        filter: Some("no-such-case".into()),
        ..Default::default()
    };
    let (result, _) = run(suite, args, &file.join("report"), |_| {});
    match result {
        Err(RunError::Report { path, .. }) => assert_eq!(path, file.join("report")),
        other => panic!("expected RunError::Report, got {other:?}"),
    }
}

#[test]
fn the_report_shows_the_authorization_matrix_with_outcomes() {
    let dir = temp_dir("authz");
    let suite = Suite::bundled().expect("bundled suite");
    let args = Arguments {
        filter: Some("matrix_stranger".into()),
        ..Arguments::default()
    };
    let (result, _) = run(suite, args, &dir, |_| {});
    result.expect("the run and the report succeed");
    let md = read(&dir, "report.md");
    let section = md
        .split("## Authorization matrix")
        .nth(1)
        .expect("an authorization matrix section");
    let table = section
        .split("### `show_image`")
        .nth(1)
        .expect("a table for show_image");
    let private = table
        .lines()
        .find(|l| l.starts_with("| private |"))
        .expect("a private row");
    let cells = cells_of(private);
    let stranger = 1 + ["owner", "pending", "accepted", "rejected", "other_member"].len();
    assert_eq!(cells[stranger], "404 ✓", "{private}");
    // Filtered out: the owner's cell did not run.
    assert_eq!(cells[1], "200 –", "{private}");
    let html = read(&dir, "report.html");
    assert!(html.contains("<h2>Authorization matrix</h2>"));
    assert!(html.contains("<td>404 ✓</td>"));
}
