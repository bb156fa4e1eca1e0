//! Personas from real credentials: `clouds.yaml` and Keystone password auth against the mock's
//! Keystone give the same results as static tokens; bad credentials stop the run in preflight.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Mock, scratch, text};

/// Persona, user, project name (the reader is a user of the owner's project).
const PERSONAS: &[(&str, &str, &str)] = &[
    ("owner", "owner", "owner"),
    ("member", "member", "member"),
    ("other_member", "other-member", "other-member"),
    ("stranger", "stranger", "stranger"),
    ("admin", "admin", "admin"),
    ("reader", "reader", "owner"),
];

fn run_json(
    target: &Path,
    clouds: Option<&Path>,
    json: &Path,
) -> (std::process::Output, BTreeMap<String, String>) {
    let mut cmd = Command::new(common::BIN);
    cmd.args([
        "run",
        "--target",
        target.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    match clouds {
        Some(c) => cmd.env("OS_CLIENT_CONFIG_FILE", c),
        None => cmd.env_remove("OS_CLIENT_CONFIG_FILE"),
    };
    let out = cmd.output().unwrap();
    let mut results = BTreeMap::new();
    if let Ok(raw) = std::fs::read_to_string(json) {
        let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();
        for c in doc["cases"].as_array().unwrap() {
            results.insert(
                c["name"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            );
        }
    }
    (out, results)
}

#[test]
fn clouds_yaml_and_password_personas_match_static_tokens() {
    let mock = Mock::start(&["--faults", "--rate-limit", "20", "--member-quota", "5"]);
    let dir = scratch("credentials");
    let mut clouds = String::from("clouds:\n");
    for (persona, user, project) in PERSONAS {
        clouds.push_str(&format!(
            "  sc-{persona}:\n    region_name: RegionOne\n    auth:\n      auth_url: {}/v3\n      username: {user}\n      password: {user}-secret\n      project_name: {project}\n      user_domain_name: Default\n      project_domain_name: Default\n",
            mock.uri
        ));
    }
    let clouds_path = dir.join("clouds.yaml");
    std::fs::write(&clouds_path, clouds).unwrap();
    let tail = "member_quota: 5\ntag_quota: 128\ncapabilities: [fault-injection, rate-limit]\n";

    // Every persona from clouds.yaml except the owner, who uses password credentials; no
    // endpoint: it comes from the catalog.
    let mut keystone = String::from("personas:\n");
    for (persona, user, project) in PERSONAS {
        if *persona == "owner" {
            keystone.push_str(&format!(
                "  owner: {{auth_url: \"{}\", username: {user}, password: {user}-secret, project_name: {project}, user_domain_name: Default, project_domain_name: Default}}\n",
                mock.uri
            ));
        } else {
            keystone.push_str(&format!("  {persona}: {{cloud: sc-{persona}}}\n"));
        }
    }
    keystone.push_str(tail);
    let keystone_target = dir.join("keystone.yaml");
    std::fs::write(&keystone_target, keystone).unwrap();
    let static_target = mock.target_file("credentials-static", tail);

    let (out_k, k) = run_json(&keystone_target, Some(&clouds_path), &dir.join("k.json"));
    assert!(out_k.status.success(), "{}", text(&out_k));
    let (out_s, s) = run_json(&static_target, None, &dir.join("s.json"));
    assert!(out_s.status.success(), "{}", text(&out_s));
    assert!(k.len() > 100, "{k:?}");
    assert_eq!(k, s);
    // Every case passes but those the default mock cannot run, which it ignores.
    let lacking = common::default_mock_ignores();
    assert!(
        k.iter()
            .all(|(name, r)| r == "passed" || (r == "ignored" && lacking.contains(name))),
        "{k:?}"
    );
    let raw = std::fs::read_to_string(dir.join("k.json")).unwrap();
    assert!(!raw.contains("-secret"), "a password leaked");
}

#[test]
fn bad_credentials_stop_the_run_in_preflight() {
    let mock = Mock::start(&[]);
    let dir = scratch("credentials-bad");
    let clouds_path = dir.join("clouds.yaml");
    std::fs::write(
        &clouds_path,
        format!("clouds:\n  wrong:\n    auth:\n      auth_url: {}/v3\n      username: member\n      password: nope\n      project_name: member\n", mock.uri),
    )
    .unwrap();
    let target = dir.join("t.yaml");
    std::fs::write(
        &target,
        format!("endpoint: {}\npersonas:\n  owner: {{token: owner-token, project_id: proj-owner}}\n  member: {{cloud: wrong}}\n  stranger: {{cloud: missing}}\n", mock.uri),
    )
    .unwrap();
    let (out, _) = run_json(&target, Some(&clouds_path), &dir.join("x.json"));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    // One cause a line, each once: the persona, then what Keystone said.
    assert!(
        t.contains("caused by: persona `member`\n  caused by: Keystone at"),
        "{t}"
    );
    assert_eq!(t.matches("refused the credentials").count(), 1, "{t}");
    assert!(t.contains("refused the credentials (401"), "{t}");
    assert!(!t.contains("nope"), "the password must not be printed: {t}");
    assert!(!t.contains("running "), "{t}");
}
