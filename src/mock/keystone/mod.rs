//! A minimal Keystone v3 inside the mock, so that real OpenStack tooling (keystoneauth,
//! openstackclient, openstacksdk) works offline against it.
//!
//! It serves the version document at `/v3`, issues project-scoped tokens
//! (`POST /v3/auth/tokens`, methods `password` and `token`), validates them
//! (`GET`/`HEAD /v3/auth/tokens`), and shows the projects, users and domains of the
//! identities file so that clients can resolve names. Users, projects and issued tokens live
//! in the model ([`Model::identities`], [`Model::register_token`]); a token issued here works
//! on the image API with the user's project and roles.
//!
//! Deliberate simplifications, said in the README: a user has roles on its own project only;
//! a request without a scope gets the user's default project (as Keystone does when one is
//! set); domain, system and explicitly unscoped requests are refused with 401. Issued tokens
//! expire after the configured lifetime (`Rules::token_lifetime`) and can be revoked
//! (`DELETE /v3/auth/tokens`); static tokens of the identities file never expire. Reads
//! follow Keystone's default policy: listing projects, users and domains is for admins, and
//! anyone else may show only its own project, user and domain.

use std::time::SystemTime;

use serde_json::{Value, json};
use warp::http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use crate::model::{Identities, Identity, IssuedToken, Model, User};

mod body;

pub(crate) use body::token_body;
use body::{collection, domain_full_json, domain_ids, project_json, user_json, version_document};

type Reply = Response<Vec<u8>>;

/// The identity API version the mock claims.
const VERSION: &str = "v3.14";
/// The region of every catalog endpoint.
const REGION: &str = "RegionOne";

/// The resource a path under `/v3` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Version,
    Tokens,
    AuthProjects,
    Projects,
    Project(String),
    Users,
    User(String),
    UserProjects(String),
    Domains,
    Domain(String),
    Unknown,
}

/// Routes the segments after `v3`.
pub(crate) fn route(rest: &[&str]) -> Route {
    match rest {
        [] | [""] => Route::Version,
        ["auth", "tokens"] => Route::Tokens,
        ["auth", "projects"] => Route::AuthProjects,
        ["projects"] => Route::Projects,
        ["projects", id] => Route::Project(id.to_string()),
        ["users"] => Route::Users,
        ["users", id] => Route::User(id.to_string()),
        ["users", id, "projects"] => Route::UserProjects(id.to_string()),
        ["domains"] => Route::Domains,
        ["domains", id] => Route::Domain(id.to_string()),
        _ => Route::Unknown,
    }
}

/// A refusal, in Keystone's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KsError {
    pub(crate) status: u16,
    pub(crate) message: String,
}

impl KsError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        KsError {
            status,
            message: message.into(),
        }
    }
    fn bad(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    fn unauthorized() -> Self {
        Self::new(401, "The request you have made requires authentication.")
    }
    fn not_found(what: &str, id: &str) -> Self {
        Self::new(404, format!("Could not find {what}: {id}."))
    }
}

fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `{"id": ...}` or `{"name": ...}` of a domain reference → the domain's id.
fn domain_ref(ids: &Identities, v: Option<&Value>, target: &str) -> Result<String, KsError> {
    let Some(v) = v else {
        return Err(KsError::bad(format!(
            "Expecting to find domain in {target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
        )));
    };
    if let Some(id) = str_field(v, "id") {
        return match ids.domain_name(id) {
            Some(_) => Ok(id.to_string()),
            None => Err(KsError::unauthorized()),
        };
    }
    match str_field(v, "name").and_then(|n| ids.domain_id_by_name(n)) {
        Some(id) => Ok(id.to_string()),
        None if str_field(v, "name").is_some() => Err(KsError::unauthorized()),
        None => Err(KsError::bad(format!(
            "Expecting to find id or name in {target} domain."
        ))),
    }
}

/// Who is authenticating, and on which project it may hold roles.
struct Subject {
    user_id: String,
    project_id: String,
    roles: Vec<String>,
}

fn password_subject(ids: &Identities, auth: &Value) -> Result<Subject, KsError> {
    let user = auth
        .get("user")
        .ok_or_else(|| KsError::bad("Expecting to find user in password."))?;
    let password = str_field(user, "password").unwrap_or_default();
    let found: Option<&User> = if let Some(id) = str_field(user, "id") {
        ids.user_by_id(id).map(|(_, u)| u)
    } else if let Some(name) = str_field(user, "name") {
        let domain = domain_ref(ids, user.get("domain"), "user")?;
        ids.user_by_name(name, &domain)
    } else {
        return Err(KsError::bad("Expecting to find id or name in user."));
    };
    match found {
        Some(u) if !password.is_empty() && u.password == password => Ok(Subject {
            user_id: u.id.clone(),
            project_id: u.project_id.clone(),
            roles: u.roles.clone(),
        }),
        _ => Err(KsError::unauthorized()),
    }
}

fn token_subject(model: &Model, auth: &Value) -> Result<Subject, KsError> {
    let id = auth
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| KsError::bad("Expecting to find id in token."))?;
    let who = lookup(model, id, SystemTime::now())
        .ok_or_else(KsError::unauthorized)?
        .identity;
    Ok(Subject {
        user_id: who.user_id,
        project_id: who.project_id,
        roles: who.roles,
    })
}

/// The project a `scope` asks for (its id); `None` without a scope.
fn scope_project(ids: &Identities, scope: Option<&Value>) -> Result<Option<String>, KsError> {
    let Some(scope) = scope else {
        return Ok(None);
    };
    let refused = || {
        KsError::new(
            401,
            "This mock issues project-scoped tokens only (no unscoped, domain or system scope).",
        )
    };
    let Some(project) = scope.get("project") else {
        return Err(refused());
    };
    if let Some(id) = str_field(project, "id") {
        return Ok(Some(id.to_string()));
    }
    let Some(name) = str_field(project, "name") else {
        return Err(KsError::bad("Expecting to find id or name in project."));
    };
    let domain = domain_ref(ids, project.get("domain"), "project")?;
    match ids.project_by_name(name, &domain) {
        Some((id, _)) => Ok(Some(id.to_string())),
        None => Err(KsError::new(
            401,
            format!("Could not find project: {name}."),
        )),
    }
}

/// `POST /v3/auth/tokens`: checks the credentials and the scope and says what the new token
/// stands for. The caller registers it under a fresh id.
pub(crate) fn issue(model: &Model, body: &[u8], now: SystemTime) -> Result<IssuedToken, KsError> {
    let ids = model.identities();
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| KsError::bad(format!("The request body is not valid JSON: {e}")))?;
    let auth = v
        .get("auth")
        .ok_or_else(|| KsError::bad("Expecting to find auth in request body."))?;
    let identity = auth
        .get("identity")
        .ok_or_else(|| KsError::bad("Expecting to find identity in auth."))?;
    let methods: Vec<String> = identity
        .get("methods")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let subject = match methods.as_slice() {
        [] => return Err(KsError::bad("Expecting to find methods in identity.")),
        [m] if m == "password" || m == "token" => {
            let section = identity
                .get(m.as_str())
                .ok_or_else(|| KsError::bad(format!("Expecting to find {m} in identity.")))?;
            if m == "password" {
                password_subject(ids, section)?
            } else {
                token_subject(model, section)?
            }
        }
        _ => {
            return Err(KsError::new(
                401,
                "Attempted to authenticate with an unsupported method.",
            ));
        }
    };
    let project_id = scope_project(ids, auth.get("scope"))?.unwrap_or(subject.project_id.clone());
    if project_id != subject.project_id {
        return Err(KsError::new(
            401,
            format!(
                "User {} has no access to project {project_id}",
                subject.user_id
            ),
        ));
    }
    Ok(IssuedToken {
        identity: Identity {
            project_id,
            user_id: subject.user_id,
            roles: subject.roles,
        },
        methods,
        issued_at: timestamp(now),
        expires_at: timestamp(now + model.token_lifetime()),
    })
}

/// A token the model knows: an issued one as issued, a static one as if issued `now`.
pub(crate) fn lookup(model: &Model, token: &str, now: SystemTime) -> Option<IssuedToken> {
    if let Some(t) = model.issued_token(token) {
        return Some(t.clone());
    }
    model.identities().get(token).map(|who| IssuedToken {
        identity: who.clone(),
        methods: vec!["token".to_string()],
        issued_at: timestamp(now),
        expires_at: timestamp(now + model.token_lifetime()),
    })
}

/// `GET /v3/auth/tokens`: the caller (any valid token) validates the subject token. Only an
/// admin or the subject's own user may (Keystone's `identity:validate_token`).
pub(crate) fn validate(
    model: &Model,
    caller: Option<&str>,
    subject: Option<&str>,
    now: SystemTime,
) -> Result<IssuedToken, KsError> {
    let caller = caller
        .and_then(|c| lookup(model, c, now))
        .ok_or_else(KsError::unauthorized)?;
    let subject = subject
        .filter(|s| !s.is_empty())
        .ok_or_else(|| KsError::bad("Expecting to find X-Subject-Token in the request headers."))?;
    let found = lookup(model, subject, now)
        .ok_or_else(|| KsError::new(404, format!("Could not find token: {subject}.")))?;
    if !caller.identity.is_admin() && caller.identity.user_id != found.identity.user_id {
        return Err(KsError::new(
            403,
            "You are not authorized to perform the requested action: identity:validate_token.",
        ));
    }
    Ok(found)
}

/// `DELETE /v3/auth/tokens`: the caller revokes the subject token, its own or (as an admin)
/// anyone's (Keystone's `identity:revoke_token`). Static tokens of the identities file are
/// configuration and cannot be revoked.
pub(crate) fn revoke(
    model: &mut Model,
    caller: Option<&str>,
    subject: Option<&str>,
    now: SystemTime,
) -> Result<(), KsError> {
    validate(model, caller, subject, now)?;
    let subject = subject.unwrap_or_default();
    if model.issued_token(subject).is_none() {
        return Err(KsError::new(
            403,
            format!(
                "Token {subject} is a static token of the identities file; only issued tokens can be revoked."
            ),
        ));
    }
    model.revoke_token(subject);
    Ok(())
}

/// The default policy of a read: an admin may read anything; others only what is theirs.
fn allowed(caller: &Identity, ids: &Identities, route: &Route) -> Result<(), KsError> {
    if caller.is_admin() {
        return Ok(());
    }
    let own_user = |id: &str| caller.user_id == id;
    let (ok, rule) = match route {
        Route::Projects => (false, "identity:list_projects"),
        Route::Project(id) => (caller.project_id == *id, "identity:get_project"),
        Route::Users => (false, "identity:list_users"),
        Route::User(id) => (own_user(id), "identity:get_user"),
        Route::UserProjects(id) => (own_user(id), "identity:list_user_projects"),
        Route::Domains => (false, "identity:list_domains"),
        Route::Domain(id) => {
            let own = ids
                .projects
                .get(&caller.project_id)
                .is_some_and(|p| p.domain_id == *id);
            (own, "identity:get_domain")
        }
        Route::Version | Route::Tokens | Route::AuthProjects | Route::Unknown => (true, ""),
    };
    if ok {
        Ok(())
    } else {
        Err(KsError::new(
            403,
            format!("You are not authorized to perform the requested action: {rule}."),
        ))
    }
}

fn reply(status: StatusCode, body: Option<&Value>) -> Reply {
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let mut r = Response::new(bytes);
    *r.status_mut() = status;
    if body.is_some() {
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    r
}

/// An error in Keystone's format; 401s say where to authenticate.
fn error(base: &str, e: &KsError) -> Reply {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = reply(
        status,
        Some(&json!({"error": {
            "code": e.status,
            "title": status.canonical_reason().unwrap_or("Error"),
            "message": e.message,
        }})),
    );
    if status == StatusCode::UNAUTHORIZED
        && let Ok(v) = HeaderValue::from_str(&format!("Keystone uri=\"{base}/v3\""))
    {
        r.headers_mut().insert("www-authenticate", v);
    }
    r
}

fn with_subject(mut r: Reply, token: &str) -> Reply {
    if let Ok(v) = HeaderValue::from_str(token) {
        r.headers_mut().insert("x-subject-token", v);
    }
    r
}

fn not_allowed(base: &str, allow: &'static str) -> Reply {
    let mut r = error(
        base,
        &KsError::new(405, "The method is not allowed for the requested URL."),
    );
    r.headers_mut()
        .insert("allow", HeaderValue::from_static(allow));
    r
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Answers one request under `/v3`. `model` is the mock's lock on the model.
pub(crate) fn handle(
    model: &super::shared::Shared,
    base: &str,
    method: &Method,
    route: Route,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let now = SystemTime::now();
    let is_read = method == Method::GET || method == Method::HEAD;
    match route {
        Route::Version if is_read => return reply(StatusCode::OK, Some(&version_document(base))),
        Route::Version => return not_allowed(base, "GET, HEAD"),
        Route::Tokens if method == Method::POST => {
            let mut m = model.write();
            return match issue(&m, body, now) {
                Ok(t) => {
                    let token = uuid::Uuid::new_v4().simple().to_string();
                    let out = token_body(m.identities(), &t, base);
                    m.register_token(token.clone(), t);
                    with_subject(reply(StatusCode::CREATED, Some(&out)), &token)
                }
                Err(e) => error(base, &e),
            };
        }
        Route::Tokens if is_read => {
            let m = model.read();
            let subject = header(headers, "x-subject-token");
            return match validate(&m, header(headers, "x-auth-token"), subject, now) {
                Ok(t) => {
                    let out = token_body(m.identities(), &t, base);
                    let body = (method == Method::GET).then_some(&out);
                    with_subject(reply(StatusCode::OK, body), subject.unwrap_or_default())
                }
                Err(e) => error(base, &e),
            };
        }
        Route::Tokens if method == Method::DELETE => {
            let mut m = model.write();
            let subject = header(headers, "x-subject-token");
            return match revoke(&mut m, header(headers, "x-auth-token"), subject, now) {
                Ok(()) => reply(StatusCode::NO_CONTENT, None),
                Err(e) => error(base, &e),
            };
        }
        Route::Tokens => return not_allowed(base, "GET, HEAD, POST, DELETE"),
        _ => {}
    }
    // Everything else needs a valid token.
    let m = model.read();
    let Some(caller) = header(headers, "x-auth-token").and_then(|t| lookup(&m, t, now)) else {
        return error(base, &KsError::unauthorized());
    };
    if !is_read {
        return match route {
            Route::Unknown => error(base, &KsError::new(404, "The resource could not be found.")),
            _ => not_allowed(base, "GET, HEAD"),
        };
    }
    let ids = m.identities();
    if let Err(e) = allowed(&caller.identity, ids, &route) {
        return error(base, &e);
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let q = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let result = match route {
        Route::Projects => {
            let items = ids
                .projects
                .iter()
                .filter(|(_, p)| q("name").is_none_or(|n| p.name == n))
                .filter(|(_, p)| q("domain_id").is_none_or(|d| p.domain_id == d))
                .map(|(id, p)| project_json(base, id, p))
                .collect();
            Ok(collection(base, "projects", "projects", items))
        }
        Route::AuthProjects => {
            let own = &caller.identity.project_id;
            let items = ids
                .projects
                .iter()
                .filter(|(id, _)| *id == own)
                .map(|(id, p)| project_json(base, id, p))
                .collect();
            Ok(collection(base, "auth/projects", "projects", items))
        }
        Route::Project(id) => ids
            .projects
            .get(&id)
            .map(|p| json!({"project": project_json(base, &id, p)}))
            .ok_or_else(|| KsError::not_found("project", &id)),
        Route::Users => {
            let items = ids
                .users
                .iter()
                .filter(|(n, _)| q("name").is_none_or(|want| *n == want))
                .filter(|(_, u)| q("domain_id").is_none_or(|d| u.domain_id == d))
                .map(|(n, u)| user_json(base, n, u))
                .collect();
            Ok(collection(base, "users", "users", items))
        }
        Route::User(id) => ids
            .user_by_id(&id)
            .map(|(n, u)| json!({"user": user_json(base, n, u)}))
            .ok_or_else(|| KsError::not_found("user", &id)),
        Route::UserProjects(id) => match ids.user_by_id(&id) {
            Some((_, u)) => {
                let items = ids
                    .projects
                    .get(&u.project_id)
                    .map(|p| project_json(base, &u.project_id, p))
                    .into_iter()
                    .collect();
                Ok(collection(
                    base,
                    &format!("users/{id}/projects"),
                    "projects",
                    items,
                ))
            }
            None => Err(KsError::not_found("user", &id)),
        },
        Route::Domains => {
            let items = domain_ids(ids)
                .iter()
                .filter(|d| q("name").is_none_or(|n| ids.domain_name(d) == Some(n)))
                .map(|d| domain_full_json(ids, base, d))
                .collect();
            Ok(collection(base, "domains", "domains", items))
        }
        Route::Domain(id) => match ids.domain_name(&id) {
            Some(_) => Ok(json!({"domain": domain_full_json(ids, base, &id)})),
            None => Err(KsError::not_found("domain", &id)),
        },
        Route::Version | Route::Tokens | Route::Unknown => {
            Err(KsError::new(404, "The resource could not be found."))
        }
    };
    match result {
        Ok(v) if method == Method::HEAD => {
            let mut r = reply(StatusCode::OK, None);
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            let _ = v;
            r
        }
        Ok(v) => reply(StatusCode::OK, Some(&v)),
        Err(e) => error(base, &e),
    }
}

#[cfg(test)]
mod tests;
