//! The mock as a prototyping server, used as another crate would use it (through
//! `MockServer::builder`): `/healthz`, reset to fixtures, snapshots that round-trip, the
//! request journal (consistent the moment an answer arrives, never a token, with a verdict on
//! the client's request) and fault rules of every kind, before and after the change commits.

mod common;

use std::time::{Duration, Instant};

use common::create;
use serde_json::{Value, json};
use sharecheck::{MockServer, Snapshot};

fn client() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn start() -> (MockServer, reqwest::Client) {
    let mock = MockServer::builder().start().await.expect("mock starts");
    (mock, client())
}

async fn add_member(http: &reqwest::Client, base: &str, image: &str, member: &str) -> u16 {
    http.post(format!("{base}/v2/images/{image}/members"))
        .header("x-auth-token", "owner-token")
        .json(&json!({ "member": member }))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// GET `url` as the owner; the JSON body.
async fn owner_get(http: &reqwest::Client, url: String) -> Value {
    let r = http
        .get(url)
        .header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

/// The names of the images the owner lists.
async fn names(http: &reqwest::Client, base: &str) -> Vec<String> {
    let v = owner_get(http, format!("{base}/v2/images?sort_key=name&sort_dir=asc")).await;
    v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn control(
    http: &reqwest::Client,
    method: reqwest::Method,
    base: &str,
    what: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, format!("{base}/_sharecheck/{what}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn snapshot(http: &reqwest::Client, base: &str) -> Value {
    let (status, snap) = control(http, reqwest::Method::GET, base, "snapshot", None).await;
    assert_eq!(status, 200);
    snap
}

#[tokio::test]
async fn healthz_answers_without_a_token() {
    let (mock, http) = start().await;
    let r = http
        .get(format!("{}/healthz", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
}

#[tokio::test]
async fn a_snapshot_round_trips_into_another_mock() {
    let (one, http) = start().await;
    let base = one.uri();
    let a = create(&http, &base, "alpha").await;
    create(&http, &base, "beta").await;
    assert_eq!(add_member(&http, &base, &a, "proj-member").await, 200);
    assert_eq!(add_member(&http, &base, &a, "proj-other-member").await, 200);
    let r = http
        .patch(format!("{base}/v2/images/{a}"))
        .header("x-auth-token", "owner-token")
        .header(
            "content-type",
            "application/openstack-images-v2.1-json-patch",
        )
        .body(r#"[{"op": "add", "path": "/sharecheck_note", "value": "kept"}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .put(format!("{base}/v2/images/{a}/members/proj-member"))
        .header("x-auth-token", "member-token")
        .json(&json!({"status": "accepted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let taken = snapshot(&http, &base).await;
    assert_eq!(taken["images"].as_array().unwrap().len(), 2);
    assert_eq!(taken["version"], 2);
    assert_eq!(taken["members"][0]["image_id"], a.as_str());
    assert_eq!(taken["members"][0]["status"], "accepted");
    assert_eq!(taken["members"][1]["status"], "pending");
    assert_eq!(taken["images"][0]["properties"]["sharecheck_note"], "kept");

    let (two, _) = start().await;
    let (status, _) = control(
        &http,
        reqwest::Method::PUT,
        &two.uri(),
        "snapshot",
        Some(taken.clone()),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(snapshot(&http, &two.uri()).await, taken);
    assert_eq!(names(&http, &two.uri()).await, ["alpha", "beta"]);
    // The member still sees the image it accepted.
    let r = http
        .get(format!("{}/v2/images/{a}/members/proj-member", two.uri()))
        .header("x-auth-token", "member-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_damaged_snapshot_is_refused_and_changes_nothing() {
    let (mock, http) = start().await;
    let base = mock.uri();
    create(&http, &base, "kept").await;
    let mut bad = snapshot(&http, &base).await;
    bad["images"][0]["visibility"] = json!("everyone");
    let (status, body) = control(&http, reqwest::Method::PUT, &base, "snapshot", Some(bad)).await;
    assert_eq!(status, 400);
    let said = body["error"].as_str().unwrap();
    assert!(said.contains("images[0].visibility"), "{said}");
    let (status, body) = control(
        &http,
        reqwest::Method::PUT,
        &base,
        "snapshot",
        Some(json!({"format": "sharecheck-snapshot", "version": 99})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("version"),
        "{body}"
    );
    assert_eq!(names(&http, &base).await, ["kept"]);
}

#[tokio::test]
async fn reset_returns_to_the_fixtures() {
    let fixtures: Snapshot = serde_json::from_value(json!({
        "format": "sharecheck-snapshot", "version": 1,
        "images": [{"id": "8a1f6ce4-0c1b-4bd4-9d1c-4c1e0c1b2a01", "name": "seeded",
                    "owner": "proj-owner", "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                    "members": [{"member_id": "proj-member", "created_at": "2026-01-01T00:00:00Z",
                                 "updated_at": "2026-01-01T00:00:00Z"}]}]
    }))
    .unwrap();
    let mock = MockServer::builder()
        .fixtures(fixtures)
        .start()
        .await
        .unwrap();
    let http = client();
    let base = mock.uri();
    assert_eq!(names(&http, &base).await, ["seeded"]);
    // A fixture without an order takes its place in the file.
    assert_eq!(
        snapshot(&http, &base).await["images"][0]["created_order"],
        1
    );
    create(&http, &base, "scratch").await;
    assert_eq!(names(&http, &base).await, ["scratch", "seeded"]);
    let (status, _) = control(&http, reqwest::Method::POST, &base, "reset", None).await;
    assert_eq!(status, 204);
    assert_eq!(names(&http, &base).await, ["seeded"]);
    let r = http
        .get(format!(
            "{base}/v2/images/8a1f6ce4-0c1b-4bd4-9d1c-4c1e0c1b2a01/members/proj-member"
        ))
        .header("x-auth-token", "member-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_journal_holds_every_answer_the_moment_it_arrives() {
    let (mock, http) = start().await;
    let base = mock.uri();
    // 32 clients at once, each reading the journal right after its own answer.
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let name = format!("journal-{i}");
            let r = http
                .post(format!("{base}/v2/images"))
                .header("x-auth-token", "owner-token")
                .json(&json!({ "name": name }))
                .send()
                .await
                .unwrap();
            let id = r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
            let r = http
                .get(format!("{base}/v2/images/{id}"))
                .header("x-auth-token", "owner-token")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let path = format!("/v2/images/{id}");
            let url = format!("{base}/_sharecheck/requests?method=GET&persona=owner&path={path}");
            let seen: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            assert_eq!(seen["requests"].as_array().unwrap().len(), 1, "{seen}");
            assert_eq!(seen["requests"][0]["status"], 200);
            assert_eq!(seen["requests"][0]["operation"], "show_image");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (_, all) = control(&http, reqwest::Method::GET, &base, "requests", None).await;
    let entries = all["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 64);
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(!all.to_string().contains("owner-token"), "a token leaked");
    assert_eq!(entries[0]["persona"], "owner");
    assert_eq!(entries[0]["project_id"], "proj-owner");
    let (status, _) = control(&http, reqwest::Method::DELETE, &base, "requests", None).await;
    assert_eq!(status, 204);
    let (_, all) = control(&http, reqwest::Method::GET, &base, "requests", None).await;
    assert!(all["requests"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_journal_says_where_a_request_leans_on_leniency() {
    let (mock, http) = start().await;
    let base = mock.uri();
    let image = create(&http, &base, "lenient").await;
    // The reference reads a member body whatever its media type; the documentation says JSON.
    let r = http
        .post(format!("{base}/v2/images/{image}/members"))
        .header("x-auth-token", "owner-token")
        .header("content-type", "text/plain")
        .body(r#"{"member": "proj-member"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let url = format!("{base}/_sharecheck/requests?method=POST&path=/v2/images/*/members");
    let seen: Value = http.get(url).send().await.unwrap().json().await.unwrap();
    let entry = &seen["requests"][0];
    assert_eq!(entry["documented"], false, "{entry}");
    assert!(
        entry["problems"][0]
            .as_str()
            .unwrap()
            .contains("Content-Type text/plain"),
        "{entry}"
    );
    let url = format!("{base}/_sharecheck/requests?method=POST&path=/v2/images");
    let seen: Value = http.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen["requests"][0]["documented"], true, "{seen}");
}

async fn add_rule(http: &reqwest::Client, base: &str, rule: Value) {
    let (status, body) = control(http, reqwest::Method::POST, base, "faults", Some(rule)).await;
    assert_eq!(status, 201, "{body}");
}

async fn members(http: &reqwest::Client, base: &str, image: &str) -> usize {
    let v = owner_get(http, format!("{base}/v2/images/{image}/members")).await;
    v["members"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_status_fault_before_the_commit_changes_nothing_after_it_does() {
    let (mock, http) = start().await;
    let base = mock.uri();
    let image = create(&http, &base, "faulty").await;
    let rule = |when: &str| {
        json!({"method": "POST", "path": "/v2/images/*/members", "status": 503,
               "retry_after": 7, "when": when, "times": 1})
    };
    add_rule(&http, &base, rule("before")).await;
    let r = http
        .post(format!("{base}/v2/images/{image}/members"))
        .header("x-auth-token", "owner-token")
        .json(&json!({"member": "proj-member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(members(&http, &base, &image).await, 0);
    add_rule(&http, &base, rule("after")).await;
    assert_eq!(add_member(&http, &base, &image, "proj-member").await, 503);
    assert_eq!(members(&http, &base, &image).await, 1);
    // Both rules have retired: the retry is a plain conflict.
    assert_eq!(add_member(&http, &base, &image, "proj-member").await, 409);
}

#[tokio::test]
async fn reset_and_truncate_faults_break_the_connection() {
    let (mock, http) = start().await;
    let base = mock.uri();
    let image = create(&http, &base, "broken").await;
    add_rule(
        &http,
        &base,
        json!({"path": "/v2/images/*/members", "method": "POST", "reset": true, "times": 1}),
    )
    .await;
    assert_eq!(add_member(&http, &base, &image, "proj-member").await, 0);
    assert_eq!(members(&http, &base, &image).await, 0);
    add_rule(
        &http,
        &base,
        json!({"path": "/v2/images/*/members", "method": "POST", "reset": true,
               "when": "after", "times": 1}),
    )
    .await;
    assert_eq!(add_member(&http, &base, &image, "proj-member").await, 0);
    assert_eq!(members(&http, &base, &image).await, 1);
    add_rule(
        &http,
        &base,
        json!({"path": "/v2/images/*", "method": "GET", "truncate": true, "times": 1}),
    )
    .await;
    let r = http
        .get(format!("{base}/v2/images/{image}"))
        .header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err(), "a truncated body reads whole");
    let (_, seen) = control(
        &http,
        reqwest::Method::GET,
        &base,
        "requests?method=POST",
        None,
    )
    .await;
    let faults: Vec<&str> = seen["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["fault"].as_str())
        .collect();
    assert_eq!(faults.len(), 2, "{seen}");
    assert!(faults.iter().all(|f| f.ends_with("reset")), "{faults:?}");
}

#[tokio::test]
async fn latency_and_persona_rules_strike_only_where_they_match() {
    let (mock, http) = start().await;
    let base = mock.uri();
    add_rule(
        &http,
        &base,
        json!({"persona": "member", "path": "/v2/images", "latency_ms": 300}),
    )
    .await;
    let timed = |token: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let t = Instant::now();
            let r = http
                .get(format!("{base}/v2/images"))
                .header("x-auth-token", token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            t.elapsed()
        }
    };
    assert!(timed("member-token").await >= Duration::from_millis(300));
    assert!(timed("owner-token").await < Duration::from_millis(300));
    let (status, rules) = control(&http, reqwest::Method::GET, &base, "faults", None).await;
    assert_eq!(status, 200);
    assert_eq!(rules["rules"][0]["hits"], 1);
    let (status, _) = control(&http, reqwest::Method::DELETE, &base, "faults", None).await;
    assert_eq!(status, 204);
    assert!(timed("member-token").await < Duration::from_millis(300));
    let (status, body) = control(
        &http,
        reqwest::Method::POST,
        &base,
        "faults",
        Some(json!({"status": 404})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("5xx"), "{body}");
}

#[tokio::test]
async fn unknown_control_paths_and_methods_are_named() {
    let (mock, http) = start().await;
    let base = mock.uri();
    let (status, body) = control(&http, reqwest::Method::GET, &base, "nothing", None).await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("reset, snapshot"),
        "{body}"
    );
    let (status, _) = control(&http, reqwest::Method::GET, &base, "reset", None).await;
    assert_eq!(status, 405);
    let (status, body) = control(
        &http,
        reqwest::Method::GET,
        &base,
        "requests?colour=red",
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("colour"), "{body}");
}

const OLD: &str = "8a1f6ce4-0c1b-4bd4-9d1c-4c1e0c1b2a02";

/// A mock holding one image made in 2020 and changed in 2024, which had `proj-member` as a
/// member in 2019: times no case on a live server can arrange.
async fn dated() -> (MockServer, reqwest::Client) {
    let fixtures: Snapshot = serde_json::from_value(json!({
        "format": "sharecheck-snapshot", "version": 1,
        "images": [{"id": OLD, "name": "dated", "owner": "proj-owner",
                    "created_at": "2020-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
                    "former_members": {"proj-member": "2019-05-05T05:05:05Z"}}]
    }))
    .unwrap();
    let mock = MockServer::builder()
        .fixtures(fixtures)
        .start()
        .await
        .unwrap();
    (mock, client())
}

async fn listed(http: &reqwest::Client, base: &str, query: &str) -> usize {
    let v = owner_get(http, format!("{base}/v2/images?{query}")).await;
    v["images"].as_array().map_or(usize::MAX, Vec::len)
}

#[tokio::test]
async fn a_snapshot_keeps_former_members() {
    let (mock, http) = dated().await;
    let snap = snapshot(&http, &mock.uri()).await;
    assert_eq!(
        snap["former_members"],
        json!([{"image_id": OLD, "member_id": "proj-member", "created_at": "2019-05-05T05:05:05Z"}])
    );
}

#[tokio::test]
async fn each_unsound_entry_of_a_snapshot_is_named() {
    let (mock, http) = start().await;
    let base = mock.uri();
    let image = |extra: Value| {
        let mut i = json!({"id": OLD, "owner": "proj-owner",
            "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"});
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({"format": "sharecheck-snapshot", "version": 1, "images": [i]})
    };
    let token = |token: &str, project: &str, user: &str| {
        json!({"format": "sharecheck-snapshot", "version": 1, "tokens": [{
            "token": token, "project_id": project, "user_id": user,
            "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2999-01-01T00:00:00Z"}]})
    };
    let member = |id: &str| json!({"member_id": id, "created_at": "t", "updated_at": "t"});
    for (doc, at) in [
        (image(json!({"id": "not-a-uuid"})), "images[0].id"),
        (
            image(json!({"properties": {"colour": 3}})),
            "images[0].properties.colour",
        ),
        (
            image(json!({"properties": {"name": "x"}})),
            "images[0].properties.name",
        ),
        (
            image(json!({"members": [member("")]})),
            "images[0].members[0].member_id",
        ),
        (
            image(json!({"members": [member("proj-member"), member("proj-member")]})),
            "images[0].members[1].member_id",
        ),
        (
            image(
                json!({"members": [{"member_id": "p", "status": "maybe", "created_at": "t", "updated_at": "t"}]}),
            ),
            "images[0].members[0].status",
        ),
        (token("", "p", "u"), "tokens[0]"),
        (token("t", "", "u"), "tokens[0]"),
        (token("t", "p", ""), "tokens[0]"),
        (
            json!({"format": "sharecheck-snapshot", "version": 1, "tokens": [{
                "token": "t", "project_id": "p", "user_id": "u",
                "issued_at": "yesterday", "expires_at": "2999-01-01T00:00:00Z"}]}),
            "tokens[0].issued_at",
        ),
        (json!({"format": "other", "version": 1}), "format"),
    ] {
        let (status, body) =
            control(&http, reqwest::Method::PUT, &base, "snapshot", Some(doc)).await;
        assert_eq!(status, 400, "{at}: {body}");
        let said = body["error"].as_str().unwrap();
        assert!(said.contains(&format!("{at}:")), "{at}: {said}");
    }
    // Two images with one id.
    let mut twice = image(json!({}));
    let again = twice["images"][0].clone();
    twice["images"].as_array_mut().unwrap().push(again);
    let (status, body) = control(&http, reqwest::Method::PUT, &base, "snapshot", Some(twice)).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("images[1]"),
        "{body}"
    );
    // A sound token document loads, and its token works.
    let (status, _) = control(
        &http,
        reqwest::Method::PUT,
        &base,
        "snapshot",
        Some(token("tok-restored", "proj-owner", "user-owner")),
    )
    .await;
    assert_eq!(status, 204);
    let r = http
        .get(format!("{base}/v2/images"))
        .header("x-auth-token", "tok-restored")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn time_filters_read_the_attribute_they_name_and_compare_strictly() {
    let (mock, http) = dated().await;
    let base = mock.uri();
    for (query, want) in [
        ("created_at=gt:2023-01-01T00:00:00Z", 0),
        ("updated_at=gt:2023-01-01T00:00:00Z", 1),
        ("created_at=lt:2021-01-01T00:00:00Z", 1),
        ("updated_at=lt:2021-01-01T00:00:00Z", 0),
        ("created_at=lt:2020-01-01T00:00:00Z", 0),
        ("created_at=gte:2020-01-01T00:00:00Z", 1),
    ] {
        assert_eq!(listed(&http, &base, query).await, want, "{query}");
    }
}

#[tokio::test]
async fn a_member_added_again_keeps_its_first_created_at() {
    let (mock, http) = dated().await;
    let base = mock.uri();
    let r = http
        .post(format!("{base}/v2/images/{OLD}/members"))
        .header("x-auth-token", "owner-token")
        .json(&json!({"member": "proj-member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["created_at"], "2019-05-05T05:05:05Z");
    assert!(snapshot(&http, &base).await["images"][0]["former_members"].is_null());
    assert_ne!(m["updated_at"], "2019-05-05T05:05:05Z");
}

async fn patch(http: &reqwest::Client, base: &str, ops: Value) -> Value {
    let r = http
        .patch(format!("{base}/v2/images/{OLD}"))
        .header("x-auth-token", "owner-token")
        .header(
            "content-type",
            "application/openstack-images-v2.1-json-patch",
        )
        .json(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn an_empty_patch_changes_no_time_and_a_real_one_does() {
    let (mock, http) = dated().await;
    let base = mock.uri();
    assert_eq!(
        patch(&http, &base, json!([])).await["updated_at"],
        "2024-01-01T00:00:00Z"
    );
    let new = create(&http, &base, "newer").await;
    // Still the dated image's old place in the order of changes.
    let first = |http: reqwest::Client, base: String| async move {
        let v = owner_get(&http, format!("{base}/v2/images?sort_key=updated_at")).await;
        v["images"][0]["id"].as_str().unwrap().to_string()
    };
    assert_eq!(first(http.clone(), base.clone()).await, new);
    let changed = patch(
        &http,
        &base,
        json!([{"op": "add", "path": "/sharecheck_note", "value": "x"}]),
    )
    .await;
    assert_ne!(changed["updated_at"], "2024-01-01T00:00:00Z");
    assert_eq!(first(http.clone(), base.clone()).await, OLD);
}

#[tokio::test]
async fn the_last_change_sorts_first_on_a_quiet_server() {
    // A mock of its own: no other test's changes fall between these.
    let (mock, http) = start().await;
    let base = mock.uri();
    let a = create(&http, &base, "a").await;
    let b = create(&http, &base, "b").await;
    let order = || async {
        let v = owner_get(&http, format!("{base}/v2/images?sort_key=updated_at")).await;
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(order().await, [b.clone(), a.clone()]);
    let r = http
        .put(format!("{base}/v2/images/{a}/tags/t"))
        .header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(order().await, [a, b]);
}

/// Sends `body` to `path` as the admin; the status and the body.
async fn admin(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, String) {
    let mut r = http
        .request(method, url)
        .header("x-auth-token", "admin-token");
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn every_collection_is_in_snapshots_and_resets() {
    use reqwest::Method;
    let (one, http) = start().await;
    let base = one.uri();
    let ns = format!("{base}/v2/metadefs/namespaces");
    let writes = [
        (
            ns.clone(),
            json!({"namespace": "kept", "visibility": "public"}),
        ),
        (format!("{ns}/kept/objects"), json!({"name": "o"})),
        (
            format!("{ns}/kept/resource_types"),
            json!({"name": "OS::Kept"}),
        ),
        (
            format!("{base}/v2/tasks"),
            json!({"type": "import", "input": {
                "import_from": "http://192.0.2.1/x.img", "import_from_format": "raw"}}),
        ),
    ];
    for (url, body) in writes {
        let (status, said) = admin(&http, Method::POST, url.clone(), Some(body)).await;
        assert_eq!(status, 201, "{url}: {said}");
    }
    let reads = [
        format!("{ns}/kept"),
        format!("{base}/v2/metadefs/resource_types"),
        format!("{base}/v2/tasks"),
    ];
    let mut before = Vec::new();
    for url in &reads {
        before.push(admin(&http, Method::GET, url.clone(), None).await);
    }
    let taken = snapshot(&http, &base).await;
    for name in ["tasks", "namespaces", "resource_types"] {
        assert_eq!(
            taken[name].as_array().map(Vec::len),
            Some(1),
            "{name}: {taken}"
        );
    }
    // A reset forgets them; loading the snapshot brings back the same answers.
    let (status, _) = control(&http, Method::POST, &base, "reset", None).await;
    assert_eq!(status, 204);
    let (status, _) = admin(&http, Method::GET, reads[0].clone(), None).await;
    assert_eq!(status, 404, "the namespace outlived the reset");
    let (two, _) = start().await;
    let (status, said) = control(&http, Method::PUT, &two.uri(), "snapshot", Some(taken)).await;
    assert_eq!(status, 204, "{said}");
    for (url, was) in reads.iter().zip(before) {
        let url = url.replace(&base, &two.uri());
        assert_eq!(
            admin(&http, Method::GET, url.clone(), None).await,
            was,
            "{url}"
        );
    }
}

/// The journal's entries for `method` on `path`, oldest first.
async fn journaled(http: &reqwest::Client, base: &str, method: &str, path: &str) -> Vec<Value> {
    let what = format!("requests?method={method}&path={path}");
    let (status, seen) = control(http, reqwest::Method::GET, base, &what, None).await;
    assert_eq!(status, 200, "{seen}");
    seen["requests"].as_array().unwrap().clone()
}

/// The request id an answer carries.
fn id_of(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-openstack-request-id")
        .expect("the answer carries a request id")
        .to_str()
        .unwrap()
        .to_string()
}

/// Creates an image with `disk_format` and a bare container; its id.
async fn create_formatted(http: &reqwest::Client, base: &str, disk_format: &str) -> String {
    let r = http
        .post(format!("{base}/v2/images"))
        .header("x-auth-token", "owner-token")
        .json(&json!({"name": "ids", "disk_format": disk_format, "container_format": "bare"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Checks that the answer `r` carries the client's id (or, without one, a minted id) and that
/// the journal's last entry for `method path` has that id and the answer's status; the id.
async fn same_id(
    http: &reqwest::Client,
    base: &str,
    (method, path): (&str, &str),
    client_id: Option<&str>,
    r: &reqwest::Response,
) -> String {
    let answered = id_of(r);
    match client_id {
        Some(id) => assert_eq!(answered, id),
        None => assert!(answered.starts_with("req-"), "{answered}"),
    }
    let entries = journaled(http, base, method, path).await;
    let last = entries.last().expect("a journal entry");
    assert_eq!(last["request_id"], answered, "{last}");
    assert_eq!(last["status"], r.status().as_u16(), "{last}");
    answered
}

#[tokio::test]
async fn an_upload_refused_late_carries_the_requests_one_id_as_its_journal_entry_does() {
    let (mock, http) = start().await;
    let base = mock.uri();
    let image = create_formatted(&http, &base, "qcow2").await;
    let file = format!("/v2/images/{image}/file");
    // Both refusals come once the body has streamed in: fewer bytes than declared (400), then
    // bytes that are no qcow2 (415).
    for (client_id, declared, status) in [
        (Some("req-client-size"), Some("99"), 400),
        (None, Some("99"), 400),
        (Some("req-client-format"), None, 415),
        (None, None, 415),
    ] {
        let mut req = http
            .put(format!("{base}{file}"))
            .header("x-auth-token", "owner-token")
            .header("content-type", "application/octet-stream")
            .body(vec![7u8; 64]);
        if let Some(id) = client_id {
            req = req.header("x-openstack-request-id", id);
        }
        if let Some(size) = declared {
            req = req.header("x-openstack-image-size", size);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), status, "{client_id:?}");
        same_id(&http, &base, ("PUT", &file), client_id, &r).await;
    }
    // An error the router gives, and a 500 a fault rule gives after the answer was made.
    let missing = "/v2/images/00000000-0000-0000-0000-000000000000";
    for client_id in [Some("req-client-404"), None] {
        let mut req = http
            .get(format!("{base}{missing}"))
            .header("x-auth-token", "owner-token");
        if let Some(id) = client_id {
            req = req.header("x-openstack-request-id", id);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 404);
        same_id(&http, &base, ("GET", missing), client_id, &r).await;
    }
    let shown = format!("/v2/images/{image}");
    add_rule(
        &http,
        &base,
        json!({"method": "GET", "path": shown, "status": 500, "when": "after", "times": 1}),
    )
    .await;
    let r = http
        .get(format!("{base}{shown}"))
        .header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    same_id(&http, &base, ("GET", &shown), None, &r).await;
}

#[tokio::test]
async fn the_model_records_the_id_the_answer_and_the_journal_carry() {
    let (mock, http) = start().await;
    let base = mock.uri();
    let image = create_formatted(&http, &base, "raw").await;
    let r = http
        .put(format!("{base}/v2/images/{image}/stage"))
        .header("x-auth-token", "owner-token")
        .header("content-type", "application/octet-stream")
        .body(vec![1u8; 32])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let import = format!("/v2/images/{image}/import");
    let r = http
        .post(format!("{base}{import}"))
        .header("x-auth-token", "owner-token")
        .json(&json!({"method": {"name": "glance-direct"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let minted = same_id(&http, &base, ("POST", &import), None, &r).await;
    let tasks = owner_get(&http, format!("{base}/v2/images/{image}/tasks")).await;
    assert_eq!(tasks["tasks"][0]["request_id"], minted, "{tasks}");
}

#[tokio::test]
async fn a_v2_path_without_a_valid_token_is_refused_before_it_is_routed() {
    let (mock, http) = start().await;
    let base = mock.uri();
    for token in [None, Some("bogus")] {
        let mut req = http.get(format!("{base}/v2/foo"));
        if let Some(t) = token {
            req = req.header("x-auth-token", t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{token:?}");
        assert!(r.headers().contains_key("www-authenticate"), "{token:?}");
    }
    let r = http
        .get(format!("{base}/v2/foo"))
        .header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let entries = journaled(&http, &base, "GET", "/v2/foo").await;
    let statuses: Vec<u64> = entries
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [401, 401, 404]);
    assert_eq!(entries[2]["persona"], "owner");
    assert_eq!(entries[0]["persona"], Value::Null);
}
