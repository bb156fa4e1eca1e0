//! The image API: a request's path against the operation table, the caller against the
//! model, and the row's model call under the lock. In order: fault header → rate limit
//! (member resources) → OPTIONS and unknown methods → Keystone (`/v3`) and version discovery
//! → auth (401 + `WWW-Authenticate`) → the matching rows (none: 404; none with the method:
//! 405 + `Allow`) → the model call (read lock for `Handler::Read`) → the reply.

use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::FAULT_HEADER;
use super::app::App;
use super::conform;
use super::keystone;
use super::mutant::{self, Layer};
use super::out::{Out, Reply, out_for};
use crate::operations::{self, Answer, Call, Handler, Operation};

/// The path percent-decoded before it is split into segments, as the reference routes: an
/// encoded `/` (`%2F`) separates segments like a plain one. Borrowed when nothing is encoded.
fn decoded(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains('%') {
        return std::borrow::Cow::Borrowed(path);
    }
    percent_encoding::percent_decode_str(path).decode_utf8_lossy()
}

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

/// Answers one request.
#[cfg(test)]
pub(crate) fn handle(
    app: &App,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    handle_traced(
        app,
        method,
        path,
        query,
        headers,
        body,
        &mut Trace::default(),
    )
}

/// What the journal learns while a request is answered: the operation, the caller and where
/// the request departs from the documentation.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub(crate) operation: Option<&'static str>,
    pub(crate) user_id: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) persona: Option<String>,
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
}

/// Whether a request carries image data to stream (the edge does not read it whole).
pub(crate) fn carries_data(method: &Method, path: &str) -> bool {
    let path = decoded(path);
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    operations::streams_body(method.as_str(), &segs)
}

/// Answers one request, noting in `trace` what the journal records.
pub(crate) fn handle_traced(
    app: &App,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    trace: &mut Trace,
) -> Reply {
    let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok());
    let mut out = out_for(headers);
    if let Some(r) = fault(app, &out, headers) {
        return r;
    }
    let path_decoded = decoded(path);
    let segs: Vec<&str> = path_decoded.trim_start_matches('/').split('/').collect();
    let rows = operations::matching(operations::table(), &segs);
    if let Some(rate) = &app.rate
        && rows
            .iter()
            .any(|(op, _)| op.names_member() || op.path.ends_with("/members"))
        && let Some(retry_after) = rate.check(token.unwrap_or(""), method.as_str(), path)
    {
        let mut r = out.error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Over Limit: too many requests; retry later.",
        );
        r.headers_mut()
            .insert("retry-after", HeaderValue::from(retry_after));
        return r;
    }
    // Version discovery and OPTIONS are answered before auth and carry no request id.
    if method == Method::OPTIONS {
        out.request_id = None;
        return out.empty(StatusCode::OK);
    }
    if !KNOWN_METHODS.contains(&method.as_str()) {
        return out.error(
            StatusCode::NOT_IMPLEMENTED,
            "The server does not support this request method.",
        );
    }
    match segs.as_slice() {
        ["v3", rest @ ..] => {
            trace.operation = Some("identity");
            return out.finish(keystone::handle(
                &app.model,
                &app.base,
                method,
                keystone::route(rest),
                query,
                headers,
                body,
            ));
        }
        [""] | ["versions"] => {
            trace.operation = Some("versions");
            return versions(app, &mut out, method, segs[0].is_empty());
        }
        _ => {}
    }
    // Keystone and version discovery are outside the image API's documentation.
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    trace.problems = conform::problems(&rows, method.as_str(), content_type, body);
    if rows.is_empty() {
        return out.error(StatusCode::NOT_FOUND, "The resource could not be found.");
    }
    let model = app.model.read();
    let who = match mutant::authenticate(app.mutant, &model, token) {
        Ok(who) => {
            trace.persona = model
                .identities()
                .user_by_id(&who.user_id)
                .map(|(name, _)| name.to_string());
            trace.user_id = Some(who.user_id.clone());
            trace.project_id = Some(who.project_id.clone());
            who
        }
        Err(e) => {
            // Authentication runs before the layer that adds request ids.
            out.request_id = None;
            let mut r = out.api_error(&e);
            r.headers_mut()
                .insert("www-authenticate", app.www_authenticate.clone());
            return r;
        }
    };
    let Some((op, params)) = rows.iter().find(|(op, _)| op.method == method.as_str()) else {
        return out.not_allowed(&operations::allow(&rows));
    };
    trace.operation = Some(op.name);
    let query = query_pairs(query);
    let request_id = out
        .request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let call = |who| Call {
        who,
        params,
        query: &query,
        body,
        content_type,
        headers,
        request_id,
    };
    let rules_mutant = app.mutant.filter(|m| m.layer() == Layer::Rules);
    trace.read_of = match (rules_mutant, op.handler) {
        (None, Handler::Document(_)) => Some(String::new()),
        (None, Handler::Read(_)) => params.first().map(|p| p.to_string()),
        _ => None,
    };
    let answer = match (rules_mutant, op.handler) {
        (_, Handler::Document(name)) => Ok(Answer::Schema(name)),
        (None, Handler::Read(f)) => f(&model, &call(who)),
        // Writes take the write lock, and so does any row under a rules mutant (it may bend
        // state); they need their own copy of the identity.
        (broken, handler) => {
            let who = who.clone();
            drop(model);
            let mut model = app.model.write();
            let call = Call {
                who: &who,
                params,
                query: &query,
                body,
                content_type,
                headers,
                request_id,
            };
            match (broken, handler) {
                (Some(m), _) => mutant::answer(m, op, &mut model, &call),
                (None, Handler::Write(f)) => f(&mut model, &call),
                (None, Handler::Read(f)) => f(&model, &call),
                (None, Handler::Document(name)) => Ok(Answer::Schema(name)),
            }
        }
    };
    match answer {
        Ok(a) => reply(app, &out, op, a, trace),
        Err(e) => out.api_error(&e),
    }
}

/// `GET /` (300) and `GET /versions` (200): the version document, without a request id.
fn versions(app: &App, out: &mut Out, method: &Method, root: bool) -> Reply {
    if method != Method::GET {
        return out.not_allowed("GET");
    }
    out.request_id = None;
    let status = if root {
        StatusCode::MULTIPLE_CHOICES
    } else {
        StatusCode::OK
    };
    out.json(status, app.docs.versions())
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
