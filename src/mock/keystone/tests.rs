//! Keystone unit tests: issuing, validating, revoking and the read policy, over the handler.

use super::*;
use crate::model::{Identities, Rules};

fn model() -> Model {
    Model::new(Identities::builtin(), Rules::default())
}

fn password_body(user: Value, scope: Option<Value>) -> Vec<u8> {
    let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": user}}});
    if let Some(s) = scope {
        auth["scope"] = s;
    }
    serde_json::to_vec(&json!({ "auth": auth })).unwrap()
}

fn by_name(name: &str, password: &str) -> Value {
    json!({"name": name, "domain": {"name": "Default"}, "password": password})
}

#[test]
fn password_auth_scoped_by_project_name_gives_the_users_identity() {
    let m = model();
    let body = password_body(
        by_name("owner", "owner-secret"),
        Some(json!({"project": {"name": "owner", "domain": {"id": "default"}}})),
    );
    let t = issue(&m, &body, SystemTime::now()).unwrap();
    assert_eq!(t.identity, *m.identities().get("owner-token").unwrap());
    assert_eq!(t.methods, ["password"]);
    let body = token_body(m.identities(), &t, "http://h:1");
    let tok = &body["token"];
    assert_eq!(tok["user"]["name"], "owner");
    assert_eq!(tok["user"]["domain"]["name"], "Default");
    assert_eq!(tok["project"]["id"], "proj-owner");
    assert_eq!(tok["project"]["domain"]["id"], "default");
    assert_eq!(tok["catalog"][0]["type"], "image");
    assert_eq!(tok["catalog"][0]["endpoints"][0]["url"], "http://h:1");
    assert_eq!(tok["catalog"][1]["endpoints"][0]["url"], "http://h:1/v3");
    assert_eq!(tok["roles"][0]["name"], "member");
}

#[test]
fn an_image_endpoint_of_the_identities_replaces_the_mock_in_the_catalog() {
    let mut ids = Identities::builtin();
    ids.image_endpoint = Some("http://127.0.0.1:9393".into());
    let m = Model::new(ids, Rules::default());
    let body = password_body(by_name("owner", "owner-secret"), None);
    let t = issue(&m, &body, SystemTime::now()).unwrap();
    let tok = &token_body(m.identities(), &t, "http://h:1")["token"];
    assert_eq!(tok["catalog"][0]["type"], "image");
    for iface in 0..3 {
        assert_eq!(
            tok["catalog"][0]["endpoints"][iface]["url"],
            "http://127.0.0.1:9393"
        );
    }
    assert_eq!(tok["catalog"][1]["endpoints"][0]["url"], "http://h:1/v3");
}

#[test]
fn password_auth_by_user_id_scoped_by_project_id() {
    let m = model();
    let body = password_body(
        json!({"id": "user-admin", "password": "admin-secret"}),
        Some(json!({"project": {"id": "proj-admin"}})),
    );
    let t = issue(&m, &body, SystemTime::now()).unwrap();
    assert_eq!(t.identity.project_id, "proj-admin");
    assert!(t.identity.is_admin());
}

#[test]
fn no_scope_means_the_users_default_project() {
    let m = model();
    let t = issue(
        &m,
        &password_body(by_name("member", "member-secret"), None),
        SystemTime::now(),
    )
    .unwrap();
    assert_eq!(t.identity.project_id, "proj-member");
}

#[test]
fn wrong_password_unknown_user_and_foreign_project_are_401() {
    let m = model();
    for (user, scope) in [
        (by_name("owner", "wrong"), None),
        (by_name("nobody", "x"), None),
        (json!({"id": "user-nobody", "password": "x"}), None),
        (
            json!({"name": "owner", "domain": {"name": "Elsewhere"}, "password": "owner-secret"}),
            None,
        ),
        (
            by_name("owner", "owner-secret"),
            Some(json!({"project": {"id": "proj-member"}})),
        ),
        (
            by_name("owner", "owner-secret"),
            Some(json!({"domain": {"id": "default"}})),
        ),
    ] {
        let e = issue(&m, &password_body(user.clone(), scope), SystemTime::now()).unwrap_err();
        assert_eq!(e.status, 401, "{user}: {e:?}");
    }
}

#[test]
fn malformed_requests_are_400() {
    let m = model();
    for body in [
        b"not json".to_vec(),
        b"{}".to_vec(),
        password_body(json!({"name": "owner", "password": "owner-secret"}), None),
        password_body(json!({"password": "owner-secret"}), None),
    ] {
        let e = issue(&m, &body, SystemTime::now()).unwrap_err();
        assert_eq!(e.status, 400, "{}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn token_method_rescopes_an_existing_token() {
    let m = model();
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "member-token"}},
        "scope": {"project": {"name": "member", "domain": {"name": "Default"}}}}});
    let t = issue(&m, &serde_json::to_vec(&body).unwrap(), SystemTime::now()).unwrap();
    assert_eq!(t.identity, *m.identities().get("member-token").unwrap());
    assert_eq!(t.methods, ["token"]);
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "bogus"}}}});
    let e = issue(&m, &serde_json::to_vec(&body).unwrap(), SystemTime::now()).unwrap_err();
    assert_eq!(e.status, 401);
}

#[test]
fn issued_tokens_authenticate_and_validate() {
    let mut m = model();
    let now = SystemTime::now();
    let t = issue(
        &m,
        &password_body(by_name("owner", "owner-secret"), None),
        now,
    )
    .unwrap();
    m.register_token("fresh".into(), t.clone());
    assert_eq!(m.authenticate(Some("fresh")).unwrap(), &t.identity);
    // Validated by itself, by an admin; unknown subject 404, bad caller 401, someone
    // else's token 403.
    assert_eq!(validate(&m, Some("fresh"), Some("fresh"), now).unwrap(), t);
    assert_eq!(
        validate(&m, Some("admin-token"), Some("fresh"), now).unwrap(),
        t
    );
    let status = |c: Option<&str>, s: Option<&str>| validate(&m, c, s, now).unwrap_err().status;
    assert_eq!(status(Some("fresh"), Some("nope")), 404);
    assert_eq!(status(Some("nope"), Some("fresh")), 401);
    assert_eq!(status(None, Some("fresh")), 401);
    assert_eq!(status(Some("member-token"), Some("fresh")), 403);
    assert_eq!(status(Some("fresh"), None), 400);
}

fn call(
    m: &crate::mock::shared::Shared,
    method: Method,
    path: &[&str],
    query: &str,
    headers: &[(&'static str, &str)],
    body: &[u8],
) -> (u16, HeaderMap, Value) {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    let r = handle(m, "http://h:1", &method, route(path), query, &h, body);
    let v = serde_json::from_slice(r.body()).unwrap_or(Value::Null);
    (r.status().as_u16(), r.headers().clone(), v)
}

#[test]
fn over_http_issue_validate_and_look_up_projects() {
    let m = crate::mock::shared::Shared::new(model());
    let (status, _, v) = call(&m, Method::GET, &[""], "", &[], b"");
    assert_eq!(status, 200);
    assert_eq!(v["version"]["links"][0]["href"], "http://h:1/v3/");
    let body = password_body(by_name("owner", "owner-secret"), None);
    let (status, h, v) = call(&m, Method::POST, &["auth", "tokens"], "", &[], &body);
    assert_eq!(status, 201);
    assert_eq!(v["token"]["project"]["name"], "owner");
    let token = h["x-subject-token"].to_str().unwrap().to_string();
    let (status, h, v) = call(
        &m,
        Method::GET,
        &["auth", "tokens"],
        "",
        &[("x-auth-token", &token), ("x-subject-token", &token)],
        b"",
    );
    assert_eq!(
        (status, h["x-subject-token"].to_str().unwrap()),
        (200, token.as_str())
    );
    assert_eq!(v["token"]["user"]["id"], "user-owner");
    let (status, _, _) = call(
        &m,
        Method::GET,
        &["auth", "tokens"],
        "",
        &[("x-auth-token", &token), ("x-subject-token", "gone")],
        b"",
    );
    assert_eq!(status, 404);
    let bad = password_body(by_name("owner", "nope"), None);
    let (status, h, v) = call(&m, Method::POST, &["auth", "tokens"], "", &[], &bad);
    assert_eq!((status, v["error"]["code"].as_u64()), (401, Some(401)));
    assert_eq!(v["error"]["title"], "Unauthorized");
    assert!(h.contains_key("www-authenticate"));
    let (status, _, v) = call(
        &m,
        Method::GET,
        &["projects"],
        "name=member",
        &[("x-auth-token", &token)],
        b"",
    );
    // Listing projects is for admins; an owner sees its own project only.
    assert_eq!((status, v["error"]["code"].as_u64()), (403, Some(403)));
    let (status, _, _) = call(
        &m,
        Method::GET,
        &["projects", "proj-owner"],
        "",
        &[("x-auth-token", &token)],
        b"",
    );
    assert_eq!(status, 200);
    let (status, _, v) = call(
        &m,
        Method::GET,
        &["projects"],
        "name=member",
        &[("x-auth-token", "admin-token")],
        b"",
    );
    assert_eq!(status, 200);
    assert_eq!(v["projects"].as_array().unwrap().len(), 1);
    assert_eq!(v["projects"][0]["id"], "proj-member");
    let (status, _, v) = call(
        &m,
        Method::GET,
        &["projects", "proj-member"],
        "",
        &[("x-auth-token", "admin-token")],
        b"",
    );
    assert_eq!((status, &v["project"]["name"]), (200, &json!("member")));
    let (status, _, _) = call(
        &m,
        Method::GET,
        &["projects", "x"],
        "",
        &[("x-auth-token", "admin-token")],
        b"",
    );
    assert_eq!(status, 404);
    let (status, _, _) = call(&m, Method::GET, &["projects"], "", &[], b"");
    assert_eq!(status, 401);
    let (status, _, v) = call(
        &m,
        Method::GET,
        &["users"],
        "name=member",
        &[("x-auth-token", "admin-token")],
        b"",
    );
    assert_eq!((status, &v["users"][0]["id"]), (200, &json!("user-member")));
    assert!(v["users"][0].get("password").is_none());
}
