//! The mock's Keystone over HTTP: a password-issued token works on the image API, a wrong
//! password is refused, and the version documents of both services are where clients look.

use serde_json::{Value, json};
use sharecheck::MockServer;

fn password_auth(user: &str, password: &str) -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": user, "domain": {"id": "default"}}},
    }})
}

async fn start() -> (MockServer, reqwest::Client) {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = MockServer::start(sharecheck::embedded::config(None))
        .await
        .expect("mock starts");
    (server, reqwest::Client::new())
}

#[tokio::test]
async fn a_password_token_lists_images_and_validates() {
    let (server, http) = start().await;
    let base = server.uri();
    let r = http
        .post(format!("{base}/v3/auth/tokens"))
        .json(&password_auth("owner", "owner-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.headers()["x-subject-token"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token"]["project"]["id"], "proj-owner");
    let image = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "image")
        .expect("an image service in the catalog");
    assert_eq!(image["endpoints"][0]["url"], base.as_str());

    let r = http
        .get(format!("{base}/v2/images"))
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The token is the owner's: an image it creates is owned by proj-owner.
    let r = http
        .post(format!("{base}/v2/images"))
        .header("x-auth-token", &token)
        .json(&json!({"name": "kt", "visibility": "shared"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let img: Value = r.json().await.unwrap();
    assert_eq!(img["owner"], "proj-owner");

    let r = http
        .get(format!("{base}/v3/auth/tokens"))
        .header("x-auth-token", &token)
        .header("x-subject-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-subject-token"], token.as_str());
    let r = http
        .get(format!("{base}/v3/auth/tokens"))
        .header("x-auth-token", &token)
        .header("x-subject-token", "no-such-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_wrong_password_is_401_in_keystones_format() {
    let (server, http) = start().await;
    let r = http
        .post(format!("{}/v3/auth/tokens", server.uri()))
        .json(&password_auth("owner", "not-the-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("x-subject-token").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 401);
    assert_eq!(body["error"]["title"], "Unauthorized");
}

#[tokio::test]
async fn both_services_answer_discovery() {
    let (server, http) = start().await;
    let base = server.uri();
    for path in ["/v3", "/v3/"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["version"]["id"], "v3.14");
        assert_eq!(v["version"]["links"][0]["href"], format!("{base}/v3/"));
    }
    let r = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), 300);
    let v: Value = r.json().await.unwrap();
    assert!(v["versions"][0]["id"].as_str().unwrap().starts_with("v2."));
}

#[tokio::test]
async fn tokens_issued_one_after_another_all_stay_valid() {
    let (server, http) = start().await;
    let base = server.uri();
    let mut tokens = Vec::new();
    for user in ["owner", "member", "owner"] {
        let password = format!("{user}-secret");
        let r = http
            .post(format!("{base}/v3/auth/tokens"))
            .json(&password_auth(user, &password))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        tokens.push(r.headers()["x-subject-token"].to_str().unwrap().to_string());
    }
    for token in &tokens {
        let r = http
            .get(format!("{base}/v2/images"))
            .header("x-auth-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "an earlier token stopped working");
    }
}

/// Builtin identities plus a domain `dom-alpha` (named `Alpha`) with one user and project.
async fn start_with_domain() -> (MockServer, reqwest::Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = sharecheck::embedded::config(None);
    let extra: sharecheck::Identities = serde_yaml::from_str(
        "domains: {dom-alpha: {name: Alpha}}\n\
         projects: {proj-alpha: {name: alpha, domain_id: dom-alpha}}\n\
         users: {ann: {id: user-ann, password: ann-secret, domain_id: dom-alpha, \
         project_id: proj-alpha, roles: [member]}}\n",
    )
    .expect("identities");
    config.identities.domains.extend(extra.domains);
    config.identities.projects.extend(extra.projects);
    config.identities.users.extend(extra.users);
    let server = MockServer::start(config).await.expect("mock starts");
    (server, reqwest::Client::new())
}

async fn issue(http: &reqwest::Client, base: &str, auth: Value) -> (u16, Value) {
    let r = http
        .post(format!("{base}/v3/auth/tokens"))
        .json(&auth)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn domains_are_found_by_id_and_name_and_users_by_id() {
    let (server, http) = start_with_domain().await;
    let base = server.uri();
    let in_domain = |domain: Value, project_domain: Value| {
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "ann", "domain": domain, "password": "ann-secret"}}},
            "scope": {"project": {"name": "alpha", "domain": project_domain}},
        }})
    };
    let (status, body) = issue(
        &http,
        &base,
        in_domain(json!({"name": "Alpha"}), json!({"id": "dom-alpha"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["token"]["user"]["domain"]["name"], "Alpha");
    assert_eq!(body["token"]["user"]["name"], "ann");
    assert_eq!(body["token"]["project"]["domain"]["name"], "Alpha");
    // An unknown domain name or id is refused, and so is the right user in the wrong domain.
    for (user_domain, project_domain) in [
        (json!({"name": "Nope"}), json!({"id": "dom-alpha"})),
        (json!({"name": "Default"}), json!({"id": "dom-alpha"})),
        (json!({"id": "dom-nope"}), json!({"id": "dom-alpha"})),
    ] {
        let (status, _) = issue(&http, &base, in_domain(user_domain, project_domain)).await;
        assert_eq!(status, 401);
    }
    // A builtin user named with the default domain's name, and with a name no domain has.
    let (status, body) = issue(&http, &base, password_auth("owner", "owner-secret")).await;
    assert_eq!(status, 201);
    assert_eq!(body["token"]["user"]["domain"]["name"], "Default");
    let mut nowhere = password_auth("owner", "owner-secret");
    nowhere["auth"]["identity"]["password"]["user"]["domain"] = json!({"name": "Nope"});
    assert_eq!(issue(&http, &base, nowhere).await.0, 401);
    // A user by id, right and wrong.
    let by_id = |id: &str| {
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "id": id, "password": "ann-secret"}}},
            "scope": {"project": {"id": "proj-alpha"}},
        }})
    };
    assert_eq!(issue(&http, &base, by_id("user-ann")).await.0, 201);
    assert_eq!(issue(&http, &base, by_id("user-nobody")).await.0, 401);

    let admin = |path: String| {
        http.get(format!("{base}{path}"))
            .header("x-auth-token", "admin-token")
            .send()
    };
    let r = admin("/v3/domains/dom-alpha".into()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["domain"]["name"], "Alpha");
    let r = admin("/v3/domains/default".into()).await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["domain"]["name"],
        "Default"
    );
    assert_eq!(
        admin("/v3/domains/dom-nope".into()).await.unwrap().status(),
        404
    );
    let r = admin("/v3/users/user-ann".into()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["user"]["name"], "ann");
    assert_eq!(
        admin("/v3/users/user-nobody".into())
            .await
            .unwrap()
            .status(),
        404
    );
}

/// A token for `user`, from a mock whose tokens live `lifetime`.
async fn token_of(http: &reqwest::Client, base: &str, user: &str) -> String {
    let r = http
        .post(format!("{base}/v3/auth/tokens"))
        .json(&password_auth(user, &format!("{user}-secret")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.headers()["x-subject-token"].to_str().unwrap().to_string()
}

async fn images_status(http: &reqwest::Client, base: &str, token: &str) -> u16 {
    http.get(format!("{base}/v2/images"))
        .header("x-auth-token", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn issued_tokens_expire_after_their_lifetime() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = sharecheck::embedded::config(None);
    config.rules.token_lifetime = std::time::Duration::from_millis(400);
    let server = MockServer::start(config).await.unwrap();
    let (http, base) = (reqwest::Client::new(), server.uri());
    let token = token_of(&http, &base, "owner").await;
    assert_eq!(images_status(&http, &base, &token).await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(images_status(&http, &base, &token).await, 401);
    let r = http
        .get(format!("{base}/v3/auth/tokens"))
        .header("x-auth-token", "admin-token")
        .header("x-subject-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "an expired token still validates");
    // Static tokens never expire.
    assert_eq!(images_status(&http, &base, "owner-token").await, 200);
}

#[tokio::test]
async fn a_revoked_token_stops_working_and_only_its_user_or_an_admin_may_revoke() {
    let (server, http) = start().await;
    let base = server.uri();
    let revoke = |caller: String, subject: String| {
        http.delete(format!("{base}/v3/auth/tokens"))
            .header("x-auth-token", caller)
            .header("x-subject-token", subject)
            .send()
    };
    let owner = token_of(&http, &base, "owner").await;
    let status = |r: reqwest::Response| r.status().as_u16();
    // Another user may not; the static token of the same user is configuration.
    assert_eq!(
        status(revoke("member-token".into(), owner.clone()).await.unwrap()),
        403
    );
    assert_eq!(
        status(revoke(owner.clone(), "owner-token".into()).await.unwrap()),
        403
    );
    assert_eq!(images_status(&http, &base, &owner).await, 200);
    assert_eq!(
        status(revoke("owner-token".into(), owner.clone()).await.unwrap()),
        204
    );
    assert_eq!(images_status(&http, &base, &owner).await, 401);
    assert_eq!(
        status(revoke("owner-token".into(), owner.clone()).await.unwrap()),
        404
    );
    // An admin revokes anyone's.
    let member = token_of(&http, &base, "member").await;
    assert_eq!(
        status(revoke("admin-token".into(), member.clone()).await.unwrap()),
        204
    );
    assert_eq!(images_status(&http, &base, &member).await, 401);
    assert_eq!(images_status(&http, &base, "owner-token").await, 200);
}

#[tokio::test]
async fn reads_follow_keystones_default_policy() {
    let (server, http) = start().await;
    let base = server.uri();
    let get = |token: &'static str, path: &'static str| {
        http.get(format!("{base}{path}"))
            .header("x-auth-token", token)
            .send()
    };
    for (token, path, want) in [
        ("owner-token", "/v3/projects", 403),
        ("owner-token", "/v3/projects?name=member", 403),
        ("owner-token", "/v3/projects/proj-owner", 200),
        ("owner-token", "/v3/projects/proj-member", 403),
        ("owner-token", "/v3/users", 403),
        ("owner-token", "/v3/users/user-owner", 200),
        ("owner-token", "/v3/users/user-member", 403),
        ("owner-token", "/v3/users/user-owner/projects", 200),
        ("owner-token", "/v3/users/user-member/projects", 403),
        ("owner-token", "/v3/domains", 403),
        ("owner-token", "/v3/domains/default", 200),
        ("owner-token", "/v3/auth/projects", 200),
        ("admin-token", "/v3/projects", 200),
        ("admin-token", "/v3/projects/proj-member", 200),
        ("admin-token", "/v3/users", 200),
        ("admin-token", "/v3/domains", 200),
    ] {
        let r = get(token, path).await.unwrap();
        assert_eq!(r.status().as_u16(), want, "{token} GET {path}");
    }
}
