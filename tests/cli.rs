//! The `sharecheck` command end to end: the mock in one process, the runner in another.

mod common;

use common::{Mock, sharecheck, text};

/// The report line of one trial, padding removed.
fn trial_line(t: &str, name: &str) -> String {
    t.lines()
        .find(|l| l.starts_with(&format!("test {name} ")))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{t}"))
}

fn case_count() -> usize {
    sharecheck::Suite::bundled().unwrap().cases.len()
}

/// The bundled cases the default mock (one store, locations hidden, no unified limits) cannot
/// run.
fn one_store_ignores() -> usize {
    common::default_mock_ignores().len()
}

#[test]
fn separate_mock_and_runner_give_the_embedded_result() {
    let mock = Mock::start(&["--faults", "--rate-limit", "20", "--member-quota", "5"]);
    let target = mock.target_file(
        "full",
        "member_quota: 5\ntag_quota: 128\ncapabilities: [fault-injection, rate-limit]\n",
    );
    let junit = target.with_file_name("junit.xml");
    let out = sharecheck(&[
        "run",
        "--target",
        target.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let n = case_count();
    let k = one_store_ignores();
    assert!(k >= 1, "a copy among stores is bundled");
    let passed = n - k;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "test result: ok. {passed} passed; 0 failed; {k} ignored"
        )),
        "{}",
        text(&out)
    );
    let embedded = sharecheck(&["run"]);
    assert!(embedded.status.success(), "{}", text(&embedded));
    assert!(text(&embedded).contains(&format!("{passed} passed; 0 failed; {k} ignored")));

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), n, "{xml}");
    assert!(!xml.contains("<failure"));
}

#[test]
fn missing_capabilities_are_ignored_with_the_reason() {
    let mock = Mock::start(&[]);
    let target = mock.target_file("bare", "");
    let out = sharecheck(&["run", "--target", target.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(
        trial_line(&t, "delete_image_member::500::injected_fault"),
        "test delete_image_member::500::injected_fault ... ignored (target lacks capability `fault-injection`)"
    );
    assert_eq!(
        trial_line(&t, "add_image_member::413::member_quota_reached"),
        "test add_image_member::413::member_quota_reached ... ignored (target declares no member_quota)"
    );
}

#[test]
fn a_mutant_mock_fails_the_run_with_a_clear_message() {
    let mock = Mock::start(&[
        "--faults",
        "--rate-limit",
        "20",
        "--member-quota",
        "5",
        "--mutant",
        "member-can-delete-self",
    ]);
    let target = mock.target_file(
        "mutant",
        "member_quota: 5\ntag_quota: 128\ncapabilities: [fault-injection, rate-limit]\n",
    );
    let out = sharecheck(&["run", "--target", target.to_str().unwrap()]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("---- delete_image_member::403::member_cannot_remove_itself ----"),
        "{t}"
    );
    assert!(t.contains("expected status 403, got 204"), "{t}");
    // The hand-written case and the matrix cells of the pending, accepted and rejected member.
    assert!(t.contains("4 failed"), "{t}");
    assert!(
        t.contains("---- delete_image_member::403::matrix_rejected_shared ----"),
        "{t}"
    );
}

#[test]
fn libtest_options_work() {
    let out = sharecheck(&["run", "--list", "--format", "terse"]);
    let t = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = t.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), case_count(), "{t}");
    assert!(
        lines
            .iter()
            .all(|l| l.ends_with(": test") && l.split("::").count() == 3),
        "{t}"
    );

    let out = sharecheck(&["run", "--exact", "delete_image_member::404::unknown_member"]);
    assert!(
        text(&out).contains("1 passed; 0 failed; 0 ignored; 0 measured; "),
        "{}",
        text(&out)
    );

    let out = sharecheck(&["run", "delete_image_member::405", "--skip", "patch"]);
    assert!(text(&out).contains("2 passed"), "{}", text(&out));

    let out = sharecheck(&[
        "run",
        "--format",
        "json",
        "-Z",
        "unstable-options",
        "--exact",
        "delete_image_member::401::no_token",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(r#""event": "ok""#),
        "{}",
        text(&out)
    );
}

#[test]
fn bad_input_exits_2_with_the_file() {
    let out = sharecheck(&["run", "--target", "/nonexistent/target.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("error: /nonexistent/target.yaml: cannot read\n  caused by: "),
        "{}",
        text(&out)
    );
    // The cause (the OS's words) is printed once, on its own line.
    assert_eq!(
        text(&out).matches("No such file").count(),
        1,
        "{}",
        text(&out)
    );

    let dir = std::env::temp_dir().join(format!("sharecheck-cli-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ids = dir.join("ids.yaml");
    std::fs::write(
        &ids,
        "tokens:\n  t: {project_id: p, user_id: u, rolez: [x]}\n",
    )
    .unwrap();
    let out = sharecheck(&[
        "mock",
        "--listen",
        "127.0.0.1:0",
        "--identities",
        ids.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("ids.yaml:2:"), "{}", text(&out));
    assert!(
        text(&out).contains("unknown field `rolez`"),
        "{}",
        text(&out)
    );

    let out = sharecheck(&["mock", "--mutant", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("invalid value 'nonsense' for '--mutant <NAME>'"));

    let out = sharecheck(&["run", "--suite", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("specs: folder not found"),
        "{}",
        text(&out)
    );
}

#[test]
fn mock_uses_an_identities_file() {
    let dir = std::env::temp_dir().join(format!("sharecheck-cli-idfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ids = dir.join("ids.yaml");
    std::fs::write(
        &ids,
        "tokens:\n  alpha: {project_id: pa, user_id: ua, roles: [member]}\n  beta: {project_id: pb, user_id: ub, roles: [member]}\n  gamma: {project_id: pc, user_id: uc, roles: [member]}\n",
    )
    .unwrap();
    let mock = Mock::start(&["--identities", ids.to_str().unwrap()]);
    let target = dir.join("target.yaml");
    std::fs::write(
        &target,
        format!("endpoint: {}\npersonas:\n  owner: {{token: alpha, project_id: pa}}\n  member: {{token: beta, project_id: pb}}\n  stranger: {{token: gamma, project_id: pc}}\n", mock.uri),
    )
    .unwrap();
    let out = sharecheck(&[
        "run",
        "--target",
        target.to_str().unwrap(),
        "delete_image_member::40",
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        trial_line(&t, "delete_image_member::404::stranger_cannot_see_image").ends_with("... ok")
    );
    assert!(
        trial_line(&t, "delete_image_member::404::member_removes_other_member")
            .ends_with("... ignored (target has no `other_member` persona)")
    );
}
