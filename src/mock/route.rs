//! The image API: a request's matched rows and caller (read once at the edge, in
//! [`RequestContext`]) to the row's model call under the lock. In order: fault header → rate
//! limit (member resources) → OPTIONS and unknown methods → Keystone (`/v3`) and version
//! discovery → auth for every `/v2` path (401 + `WWW-Authenticate`, before routing, as the
//! reference's auth middleware) → the matching rows (none: 404; none with the method: 405 +
//! `Allow`) → the model call (read lock for a row that only reads) → the reply.

use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::FAULT_HEADER;
use super::app::App;
use super::conform;
use super::context::RequestContext;
use super::keystone;
use super::mutant::{self, Layer};
use super::out::{Out, Reply};
use crate::model::ApiError;
use crate::operations::{self, Answer, Call, Handler, Operation};

/// Methods this server knows; any other is answered 501, as the reference does.
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// An injected fault, when the capability is on and the request asks for one.
fn fault(app: &App, out: &Out, headers: &HeaderMap) -> Option<Reply> {
    if !app.fault_header {
        return None;
    }
    match headers.get(FAULT_HEADER)?.as_bytes() {
        b"500" => Some(out.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Injected fault: the server failed.",
        )),
        b"503" => {
            let mut r = out.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Injected fault: the service is unavailable.",
            );
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            Some(r)
        }
        _ => None,
    }
}

/// Answers one request (unit tests: the edge's context built here).
#[cfg(test)]
pub(crate) fn handle(
    app: &App,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let decoded = super::context::decoded(path);
    let ctx = RequestContext::new(method, None, path, &decoded, query, headers);
    handle_traced(app, &ctx, body, &mut Trace::default())
}

/// What the journal learns while a request is answered: the operation, the caller's user
/// and project ids, and where the request departs from the documentation.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub(crate) operation: Option<&'static str>,
    pub(crate) caller: Option<(String, String)>,
    pub(crate) problems: Vec<String>,
    /// For an answer that only read records filed under one key (the row is a read, its
    /// first path parameter the key; a schema reads none: the empty key), that key: the
    /// answer waits only for changes to those. `None`: it waits for every change so far.
    pub(crate) read_of: Option<String>,
    /// Image data the edge still has to move: an upload to stream in, bytes to send.
    pub(crate) data: Option<DataAction>,
}

/// Image data the edge moves after the model has answered.
#[derive(Debug)]
pub(crate) enum DataAction {
    /// Stream the request body into the blob store, then end the upload.
    Upload(crate::model::Upload),
    /// Send `len` bytes of blob `blob` from `offset` as the body.
    Send { blob: u64, offset: u64, len: u64 },
    /// Fetch a web-download's source once the answer has left, then end the import.
    Fetch(crate::model::Fetch),
}

/// The 413 of the rate limit, when the request is over it (member resources only).
fn over_rate(app: &App, ctx: &RequestContext<'_>) -> Option<Reply> {
    let rate = app.rate.as_ref()?;
    let on_members = ctx
        .rows
        .iter()
        .any(|(op, _)| op.names_member() || op.path.ends_with("/members"));
    if !on_members {
        return None;
    }
    let retry_after = rate.check(ctx.token.unwrap_or(""), ctx.method.as_str(), ctx.path)?;
    let mut r = ctx.out.error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Over Limit: too many requests; retry later.",
    );
    r.headers_mut()
        .insert("retry-after", HeaderValue::from(retry_after));
    Some(r)
}

/// Answers one request, noting in `trace` what the journal records. The caller of a `/v2`
/// path is authenticated here, before routing, unless the edge already did.
pub(crate) fn handle_traced(
    app: &App,
    ctx: &RequestContext<'_>,
    body: &[u8],
    trace: &mut Trace,
) -> Reply {
    let out = &ctx.out;
    if let Some(r) = fault(app, out, ctx.headers) {
        return r;
    }
    if let Some(r) = over_rate(app, ctx) {
        return r;
    }
    // Version discovery and OPTIONS are answered before auth and carry no request id.
    if ctx.method == Method::OPTIONS {
        return out.unmarked().empty(StatusCode::OK);
    }
    if !KNOWN_METHODS.contains(&ctx.method.as_str()) {
        return out.error(
            StatusCode::NOT_IMPLEMENTED,
            "The server does not support this request method.",
        );
    }
    match ctx.segments.as_slice() {
        ["v3", rest @ ..] => {
            trace.operation = Some("identity");
            return out.finish(keystone::handle(
                &app.model,
                &app.base,
                ctx.method,
                keystone::route(rest),
                ctx.query,
                ctx.headers,
                body,
            ));
        }
        [""] | ["versions"] => {
            trace.operation = Some("versions");
            return versions(app, out, ctx.method, ctx.segments[0].is_empty());
        }
        // The reference's version negotiation answers any path of the retired v1 API with
        // the version list (300), whatever the method, before auth.
        ["v1", ..] => {
            trace.operation = Some("versions");
            return out.unmarked().bytes(
                StatusCode::MULTIPLE_CHOICES,
                "application/json",
                app.docs.versions().to_vec(),
            );
        }
        _ => {}
    }
    // Keystone and version discovery are outside the image API's documentation.
    let content_type = ctx
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    trace.problems = conform::problems(&ctx.rows, ctx.method.as_str(), content_type, body);
    if !ctx.needs_token() {
        // Every row is under `/v2`: nothing else is routed.
        return out.error(StatusCode::NOT_FOUND, "The resource could not be found.");
    }
    // The caller, before the path is routed: the edge's when it needed it, else looked up
    // under the lock the answer is read with (no copy of the identity for a read).
    let model = app.model.read();
    let caller = match &ctx.caller {
        Some(known) => known.as_ref().map_err(ApiError::clone),
        None => mutant::authenticate(app.mutant, &model, ctx.token),
    };
    let who = match caller {
        Ok(who) => who,
        Err(e) => {
            // The auth layer answers before the one that adds request ids.
            let mut r = out.unmarked().api_error(&e);
            r.headers_mut()
                .insert("www-authenticate", app.www_authenticate.clone());
            return r;
        }
    };
    trace.caller = Some((who.user_id.clone(), who.project_id.clone()));
    if ctx.rows.is_empty() {
        return out.error(StatusCode::NOT_FOUND, "The resource could not be found.");
    }
    let Some((op, params)) = ctx.row() else {
        return out.not_allowed(&operations::allow(&ctx.rows));
    };
    trace.operation = Some(op.name);
    let query = query_pairs(ctx.query);
    let call = Call {
        who,
        params,
        query: &query,
        body,
        content_type,
        headers: ctx.headers,
        request_id: ctx.request_id(),
        heads: &ctx.heads,
    };
    let rules_mutant = app.mutant.filter(|m| m.layer() == Layer::Rules);
    trace.read_of = match (rules_mutant, op.handler) {
        (None, Handler::Document(_)) => Some(String::new()),
        (None, Handler::Read(_)) => params.first().map(|p| p.to_string()),
        _ => None,
    };
    let read = match rules_mutant {
        None => op.answer_read(&model, &call),
        Some(_) => None,
    };
    let answer = match read {
        Some(answer) => answer,
        // A row that writes takes the write lock, and so does any row under a rules mutant
        // (it may bend state); they need their own copy of the identity.
        None => {
            let who = who.clone();
            drop(model);
            let mut model = app.model.write();
            let call = Call {
                who: &who,
                params,
                query: &query,
                body,
                content_type,
                headers: ctx.headers,
                request_id: ctx.request_id(),
                heads: &ctx.heads,
            };
            match rules_mutant {
                Some(m) => mutant::answer(m, op, &mut model, &call),
                None => op.answer(&mut model, &call),
            }
        }
    };
    match answer {
        Ok(a) => reply(app, out, op, a, trace),
        Err(e) => out.api_error(&e),
    }
}

/// `GET /` (300) and `GET /versions` (200): the version document, without a request id.
fn versions(app: &App, out: &Out, method: &Method, root: bool) -> Reply {
    if method != Method::GET {
        return out.not_allowed("GET");
    }
    let out = out.unmarked();
    let status = if root {
        StatusCode::MULTIPLE_CHOICES
    } else {
        StatusCode::OK
    };
    out.bytes(status, "application/json", app.docs.versions().to_vec())
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    if query.is_empty() {
        return Vec::new();
    }
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A successful answer as HTTP: the row's status, body and `Location`; for image data, the
/// head, with what the edge still has to move noted in `trace`.
fn reply(app: &App, out: &Out, op: &Operation, answer: Answer, trace: &mut Trace) -> Reply {
    let status = StatusCode::from_u16(answer.status(op)).unwrap_or(StatusCode::OK);
    match answer {
        Answer::Upload(up) => {
            trace.data = Some(DataAction::Upload(up));
            out.empty(status)
        }
        Answer::Fetch(job) => {
            trace.data = Some(DataAction::Fetch(job));
            out.empty(status)
        }
        Answer::Data { data: None, .. } => out.empty(status),
        Answer::Data {
            data: Some(d),
            span,
        } => {
            let (offset, len) = span.as_ref().map_or((0, d.size), |s| (s.offset, s.len));
            let mut r = out.bytes(status, "application/octet-stream", Vec::new());
            let headers = r.headers_mut();
            if let Some(s) = &span
                && let Ok(v) = HeaderValue::from_str(&s.content_range)
            {
                headers.insert("content-range", v);
            }
            if let Ok(v) = HeaderValue::from_str(&d.checksum) {
                headers.insert("content-md5", v);
            }
            headers.insert("content-length", HeaderValue::from(len));
            trace.data = Some(DataAction::Send {
                blob: d.blob,
                offset,
                len,
            });
            r
        }
        Answer::Empty => out.empty(status),
        Answer::Schema(name) => match app.docs.schema(name) {
            Some(doc) => out.bytes(status, "application/json", doc.to_vec()),
            None => out.error(StatusCode::NOT_FOUND, "The resource could not be found."),
        },
        Answer::Json { body, location } => {
            let mut r = out.bytes(status, "application/json", body);
            if let Some(loc) = location
                && let Ok(v) = HeaderValue::from_str(&format!("{}{loc}", app.base))
            {
                r.headers_mut().insert("location", v);
            }
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use warp::http::{HeaderMap, HeaderValue, Method};

    use super::handle;
    use crate::mock::app::App;
    use crate::model::{Identities, Model, Rules};

    fn app() -> App {
        let model = Model::new(Identities::builtin(), Rules::default());
        App::new(model, "http://127.0.0.1:1".into(), None, false, None)
    }

    fn headers(token: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("accept", HeaderValue::from_static("application/json"));
        if let Some(t) = token {
            h.insert("x-auth-token", HeaderValue::from_static(t));
        }
        h
    }

    /// Status and `WWW-Authenticate` of `method path` with `token`.
    fn ask(app: &App, method: Method, path: &str, token: Option<&'static str>) -> (u16, bool) {
        let r = handle(app, &method, path, "", &headers(token), b"");
        (
            r.status().as_u16(),
            r.headers().contains_key("www-authenticate"),
        )
    }

    #[test]
    fn every_v2_path_wants_a_valid_token_before_it_is_routed() {
        let app = app();
        for path in ["/v2/foo", "/v2", "/v2/images/x/nothing/here", "/v2/images"] {
            assert_eq!(ask(&app, Method::GET, path, None), (401, true), "{path}");
            assert_eq!(
                ask(&app, Method::GET, path, Some("bogus")),
                (401, true),
                "{path}"
            );
        }
        // A method the path does not take is refused for its token first too.
        assert_eq!(ask(&app, Method::PUT, "/v2/images", None), (401, true));
        assert_eq!(
            ask(&app, Method::GET, "/v2/foo", Some("owner-token")),
            (404, false)
        );
        assert_eq!(
            ask(&app, Method::PUT, "/v2/images", Some("owner-token")),
            (405, false)
        );
        // Version discovery and paths outside the image API are answered without one.
        assert_eq!(ask(&app, Method::GET, "/", None), (300, false));
        assert_eq!(ask(&app, Method::GET, "/versions", None), (200, false));
        assert_eq!(ask(&app, Method::GET, "/foo", None), (404, false));
        assert_eq!(ask(&app, Method::OPTIONS, "/v2/images", None), (200, false));
    }

    #[test]
    fn answers_carry_the_clients_request_id_or_one_minted() {
        let app = app();
        let mut h = headers(Some("owner-token"));
        h.insert(
            "x-openstack-request-id",
            HeaderValue::from_static("req-mine"),
        );
        let r = handle(&app, &Method::GET, "/v2/images/nope", "", &h, b"");
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-openstack-request-id"], "req-mine");
        let r = handle(
            &app,
            &Method::GET,
            "/v2/foo",
            "",
            &headers(Some("owner-token")),
            b"",
        );
        let minted = r.headers()["x-openstack-request-id"].to_str().unwrap();
        assert!(minted.starts_with("req-") && minted.len() == 40, "{minted}");
        // The auth layer's 401 is sent before ids are added, as the reference's is.
        let r = handle(&app, &Method::GET, "/v2/foo", "", &headers(None), b"");
        assert!(!r.headers().contains_key("x-openstack-request-id"));
    }
}
