//! The control API, beside the image API on the mock's own address: `GET /healthz` for
//! anyone, and under `/_sharecheck/` for a caller on the loopback interface or with an admin
//! token:
//!
//! - `POST reset`: back to the fixtures the mock started with (none: empty);
//! - `GET snapshot` the whole state as JSON, `PUT snapshot` replaces it (JSON or YAML);
//! - `GET requests?method=&path=&persona=` the journal, `DELETE requests` empties it;
//! - `GET faults` the fault rules, `POST faults` adds one, `DELETE faults` removes all.
//!
//! Answers are JSON; a refusal is `{"error": "..."}` with 400, 403, 404 or 405.

use serde_json::{Value, json};
use warp::http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::app::App;
use super::context::RequestContext;
use super::faults::RuleSpec;
use super::journal::Select;
use super::out::Reply;
use crate::model::Snapshot;

/// The prefix of the control API's paths.
pub const CONTROL_PREFIX: &str = "/_sharecheck/";

/// Whether `path` belongs to the control API rather than the image API.
pub(crate) fn owns(path: &str) -> bool {
    path == "/healthz" || path.starts_with(CONTROL_PREFIX)
}

fn answer(status: StatusCode, body: &Value) -> Reply {
    let mut r = Response::new(serde_json::to_vec(body).unwrap_or_default());
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Reply {
    answer(status, &json!({"error": message.into()}))
}

fn done() -> Reply {
    let mut r = Response::new(Vec::new());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

fn not_allowed(allow: &'static str) -> Reply {
    let mut r = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("this control resource takes {allow}"),
    );
    r.headers_mut()
        .insert("allow", HeaderValue::from_static(allow));
    r
}

/// Loopback callers are trusted; anyone else needs an admin token.
fn permitted(app: &App, req: &RequestContext<'_>) -> bool {
    if req.peer.is_some_and(|p| p.ip().is_loopback()) {
        return true;
    }
    let model = app.model.read();
    model
        .authenticate(req.token)
        .is_ok_and(|who| who.is_admin())
}

/// Answers a control request.
pub(crate) fn handle(app: &App, req: &RequestContext<'_>, body: &[u8]) -> Reply {
    if req.path == "/healthz" {
        return match *req.method {
            Method::GET | Method::HEAD => answer(StatusCode::OK, &json!({"status": "ok"})),
            _ => not_allowed("GET, HEAD"),
        };
    }
    if !permitted(app, req) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the control API answers loopback callers and admin tokens only",
        );
    }
    let what = &req.path[CONTROL_PREFIX.len()..];
    match (what, req.method) {
        ("reset", &Method::POST) => reset(app),
        ("reset", _) => not_allowed("POST"),
        ("snapshot", &Method::GET) => {
            let snap = app.model.read().snapshot();
            answer(
                StatusCode::OK,
                &serde_json::to_value(snap).unwrap_or_default(),
            )
        }
        ("snapshot", &Method::PUT) => load_snapshot(app, req.headers, body),
        ("snapshot", _) => not_allowed("GET, PUT"),
        ("requests", &Method::GET) => requests(app, req.query),
        ("requests", &Method::DELETE) => {
            app.journal.clear();
            done()
        }
        ("requests", _) => not_allowed("GET, DELETE"),
        ("faults", &Method::GET) => answer(StatusCode::OK, &app.faults.list()),
        ("faults", &Method::POST) => add_fault(app, body),
        ("faults", &Method::DELETE) => {
            app.faults.clear();
            done()
        }
        ("faults", _) => not_allowed("GET, POST, DELETE"),
        _ => refuse(
            StatusCode::NOT_FOUND,
            format!(
                "no control resource {}; there are reset, snapshot, requests and faults",
                req.path
            ),
        ),
    }
}

fn reset(app: &App) -> Reply {
    let mut model = app.model.write();
    match model.restore(&app.fixtures) {
        Ok(()) => done(),
        // The fixtures were checked when the mock started.
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Why a snapshot document sent to `PUT snapshot` cannot be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotBodyError {
    #[error("the YAML snapshot is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    #[error("the snapshot is not a YAML snapshot document")]
    Yaml(#[source] serde_yaml::Error),
    #[error("the snapshot is not a JSON snapshot document")]
    Json(#[source] serde_json::Error),
}

/// Reads a snapshot document: YAML when the `Content-Type` says so, JSON otherwise.
pub(crate) fn parse_snapshot(body: &[u8], yaml: bool) -> Result<Snapshot, SnapshotBodyError> {
    if yaml {
        let text = std::str::from_utf8(body).map_err(SnapshotBodyError::NotUtf8)?;
        serde_yaml::from_str(text).map_err(SnapshotBodyError::Yaml)
    } else {
        serde_json::from_slice(body).map_err(SnapshotBodyError::Json)
    }
}

/// `e` and its causes, each after a colon: what a client is told.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn load_snapshot(app: &App, headers: &HeaderMap, body: &[u8]) -> Reply {
    let yaml = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("yaml"));
    let snap = match parse_snapshot(body, yaml) {
        Ok(s) => s,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, chain(&e)),
    };
    let mut model = app.model.write();
    match model.restore(&snap) {
        Ok(()) => done(),
        Err(e) => refuse(StatusCode::BAD_REQUEST, format!("snapshot: {}", chain(&e))),
    }
}

fn requests(app: &App, query: &str) -> Reply {
    let mut select = Select::default();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "method" => &mut select.method,
            "path" => &mut select.path,
            "persona" => &mut select.persona,
            other => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter {other}; there are method, path and persona"),
                );
            }
        };
        *slot = Some(v.into_owned());
    }
    let (entries, dropped) = app.journal.read(&select, app.user_names());
    answer(
        StatusCode::OK,
        &json!({"requests": entries, "dropped": dropped}),
    )
}

fn add_fault(app: &App, body: &[u8]) -> Reply {
    let spec: RuleSpec = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("fault rule: {e}")),
    };
    match app.faults.add(spec) {
        Ok(id) => answer(StatusCode::CREATED, &json!({"id": id})),
        Err(e) => refuse(StatusCode::BAD_REQUEST, format!("fault rule: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use warp::http::{HeaderMap, HeaderValue, Method};

    use super::{SnapshotBodyError, chain, handle, parse_snapshot};
    use crate::mock::app::App;
    use crate::mock::context::RequestContext;
    use crate::model::{Identities, Model, Rules};

    fn ask(app: &App, peer: &str, token: Option<&'static str>) -> u16 {
        let mut headers = HeaderMap::new();
        if let Some(t) = token {
            headers.insert("x-auth-token", HeaderValue::from_static(t));
        }
        let path = "/_sharecheck/snapshot";
        let req = RequestContext::new(
            &Method::GET,
            Some(peer.parse().unwrap()),
            path,
            path,
            "",
            &headers,
        );
        handle(app, &req, b"").status().as_u16()
    }

    #[test]
    fn only_loopback_callers_and_admin_tokens_get_in() {
        let model = Model::new(Identities::builtin(), Rules::default());
        let app = App::new(model, "http://127.0.0.1:1".into(), None, false, None);
        assert_eq!(ask(&app, "127.0.0.1:5000", None), 200);
        assert_eq!(ask(&app, "[::1]:5000", None), 200);
        assert_eq!(ask(&app, "10.1.2.3:5000", None), 403);
        assert_eq!(ask(&app, "10.1.2.3:5000", Some("owner-token")), 403);
        assert_eq!(ask(&app, "10.1.2.3:5000", Some("bogus")), 403);
        assert_eq!(ask(&app, "10.1.2.3:5000", Some("admin-token")), 200);
    }

    #[test]
    fn an_unreadable_snapshot_names_its_format_and_the_cause() {
        let e = parse_snapshot(b"{", false).unwrap_err();
        assert!(matches!(e, SnapshotBodyError::Json(_)), "{e:?}");
        let told = chain(&e);
        assert!(
            told.starts_with("the snapshot is not a JSON snapshot document: "),
            "{told}"
        );
        assert!(told.contains("EOF"), "{told}");
        // The message names no cause itself: the chain adds it once.
        assert!(!e.to_string().contains("EOF"), "{e}");
        let e = parse_snapshot(&[0xff, b':'], true).unwrap_err();
        assert!(matches!(e, SnapshotBodyError::NotUtf8(_)), "{e:?}");
        assert!(matches!(
            parse_snapshot(b"images: 3", true),
            Err(SnapshotBodyError::Yaml(_))
        ));
    }
}
