//! Requests in, model calls, responses out. One handler sees every request, so the order of
//! the edge checks is in one place: request limits (target 414, head 431, body 413; see
//! [`super::MAX_BODY_BYTES`]) → fault → rate limit (member resources) → version discovery →
//! Keystone (`/v3`, see `keystone`) → auth → route.

use std::sync::{Arc, RwLock};

use serde::Serialize;
use warp::Filter;
use warp::http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::accept::{self, Format};
use super::documents::Documents;
use super::keystone;
use super::limits::RateLimiter;
use super::mutant::{self, Layer, Mutant};
use super::{
    DRAIN_BYTES, FAULT_HEADER, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES,
};
use crate::model::{ApiError, ErrorKind, Model, PATCH_MEDIA_TYPES};
use crate::operations::{self, Answer, Call, Handler, Operation};

type Reply = Response<Vec<u8>>;

/// Everything a request may touch.
pub(crate) struct App {
    model: RwLock<Model>,
    mutant: Option<Mutant>,
    base: String,
    www_authenticate: HeaderValue,
    faults: bool,
    rate: Option<RateLimiter>,
    docs: Documents,
}

impl App {
    pub(crate) fn new(
        model: Model,
        base: String,
        mutant: Option<Mutant>,
        faults: bool,
        rate_limit: Option<u32>,
    ) -> App {
        let www_authenticate = HeaderValue::from_str(&format!("Keystone uri=\"{base}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("Keystone"));
        App {
            model: RwLock::new(model),
            mutant,
            docs: Documents::new(&base),
            base,
            www_authenticate,
            faults,
            rate: rate_limit.map(RateLimiter::new),
        }
    }
}

/// The one warp filter: it extracts the raw request, reads the body within the limits and
/// hands it to [`handle`].
pub(crate) fn filter(
    app: Arc<App>,
) -> impl Filter<Extract = (Reply,), Error = std::convert::Infallible> + Clone + Send + Sync + 'static
{
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: String,
                  headers: HeaderMap,
                  body| {
                let app = Arc::clone(&app);
                async move {
                    let body = read_body(body, declared_length(&headers)).await;
                    let path = path.as_str();
                    let reply = match limits(path, &query, &headers, &body) {
                        Some(refusal) => refusal,
                        None => {
                            let body = match &body {
                                Body::Read(b) => b.as_slice(),
                                _ => &[],
                            };
                            handle(&app, &method, path, &query, &headers, body)
                        }
                    };
                    match app.mutant {
                        Some(m) if m.layer() == Layer::Http => {
                            mutant::reply(m, &method, path, reply, text_error)
                        }
                        _ => reply,
                    }
                }
            },
        )
        .recover(|_rej: warp::Rejection| async move {
            // Only the body read can reject; answer like any other unreadable request.
            Ok::<_, std::convert::Infallible>(plain(
                StatusCode::BAD_REQUEST,
                "unreadable request body",
            ))
        })
        .unify()
}

/// A request body as read within [`MAX_BODY_BYTES`].
enum Body {
    Read(Vec<u8>),
    /// Past the limit; `drained` when all of it was read (the connection can stay open).
    TooLarge {
        drained: bool,
    },
    /// The client broke off or sent a malformed body.
    Broken,
}

/// The declared `Content-Length`, if any (an unparsable one counts as huge).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get("content-length").map(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(u64::MAX)
    })
}

/// Reads the body, keeping at most [`MAX_BODY_BYTES`] and dropping the rest of a larger one
/// up to [`DRAIN_BYTES`], so memory per request stays bounded whatever the client sends.
async fn read_body<S, B>(stream: S, declared: Option<u64>) -> Body
where
    S: warp::Stream<Item = Result<B, warp::Error>>,
    B: warp::Buf,
{
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return Body::TooLarge { drained: false };
    }
    let mut over = declared.is_some_and(|n| n > MAX_BODY_BYTES as u64);
    let mut stream = std::pin::pin!(stream);
    let mut kept = Vec::with_capacity(declared.unwrap_or(0).min(MAX_BODY_BYTES as u64) as usize);
    let mut seen: u64 = 0;
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let Ok(mut chunk) = chunk else {
            return Body::Broken;
        };
        seen = seen.saturating_add(chunk.remaining() as u64);
        if seen > DRAIN_BYTES {
            return Body::TooLarge { drained: false };
        }
        if over || seen > MAX_BODY_BYTES as u64 {
            over = true;
            kept = Vec::new();
            chunk.advance(chunk.remaining());
            continue;
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            kept.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    if over {
        Body::TooLarge { drained: true }
    } else {
        Body::Read(kept)
    }
}

/// The request limits, checked before anything else: request target (414), head (431),
/// body (413). Refusals store nothing.
fn limits(path: &str, query: &str, headers: &HeaderMap, body: &Body) -> Option<Reply> {
    // Built only for a refusal: most requests pass.
    let out = || out_for(headers);
    let target = path.len() + if query.is_empty() { 0 } else { query.len() + 1 };
    if target > MAX_URI_BYTES {
        return Some(out().error(
            StatusCode::URI_TOO_LONG,
            &format!("The request URI is longer than {MAX_URI_BYTES} bytes."),
        ));
    }
    let head: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || head > MAX_HEADER_BYTES {
        return Some(out().error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!(
                "The request headers are too large: at most {MAX_HEADERS} fields and {MAX_HEADER_BYTES} bytes."
            ),
        ));
    }
    match body {
        Body::Read(_) => None,
        Body::TooLarge { drained } => {
            let mut r = out().error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Over Limit: the request body is larger than {MAX_BODY_BYTES} bytes."),
            );
            if !drained {
                r.headers_mut()
                    .insert("connection", HeaderValue::from_static("close"));
            }
            Some(r)
        }
        Body::Broken => Some(out().error(StatusCode::BAD_REQUEST, "Unreadable request body.")),
    }
}

fn plain(status: StatusCode, msg: &str) -> Reply {
    let mut r = Response::new(msg.as_bytes().to_vec());
    *r.status_mut() = status;
    r
}

/// How error bodies are written, from `Accept`.
fn format_of(headers: &HeaderMap) -> Format {
    match headers.get("accept").map(|v| v.to_str()) {
        None => accept::format_for(""),
        Some(Ok(v)) => accept::format_for(v),
        // Bytes outside visible ASCII: a header the reference cannot read either.
        Some(Err(_)) => accept::format_for("\u{0}"),
    }
}

/// Builds responses for one request: the request id and error format are fixed up front.
struct Out {
    request_id: Option<HeaderValue>,
    format: Format,
}

impl Out {
    fn finish(&self, mut r: Reply) -> Reply {
        if let Some(id) = &self.request_id {
            r.headers_mut().insert("x-openstack-request-id", id.clone());
        }
        r
    }

    fn json<T: Serialize>(&self, status: StatusCode, value: &T) -> Reply {
        let mut body = Vec::with_capacity(256);
        if serde_json::to_writer(&mut body, value).is_err() {
            body.clear();
        }
        self.bytes(status, "application/json", body)
    }

    fn bytes(&self, status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Reply {
        let mut r = Response::new(body);
        *r.status_mut() = status;
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static(content_type));
        self.finish(r)
    }

    fn empty(&self, status: StatusCode) -> Reply {
        let mut r = Response::new(Vec::new());
        *r.status_mut() = status;
        self.finish(r)
    }

    /// An error in the reference's format for the request's `Accept`.
    fn error(&self, status: StatusCode, message: &str) -> Reply {
        let code = status_line(status);
        let title = status.canonical_reason().unwrap_or("Error");
        match self.format {
            Format::Json => self.json(
                status,
                &serde_json::json!({"message": message, "code": code, "title": title}),
            ),
            Format::Html => self.bytes(
                status,
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{code}</title>\n </head>\n <body>\n  <h1>{code}</h1>\n  {}<br /><br />\n\n\n\n </body>\n</html>",
                    html_escape(message)
                )
                .into_bytes(),
            ),
            Format::Text => self.bytes(
                status,
                "text/plain; charset=UTF-8",
                text_error(status, message),
            ),
        }
    }

    fn api_error(&self, e: &ApiError) -> Reply {
        let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut r = self.error(status, &e.message);
        // A refused media type names the ones the operation reads (only PATCH has any).
        if e.kind == ErrorKind::UnsupportedMediaType {
            let types: Vec<&str> = PATCH_MEDIA_TYPES.iter().map(|(t, _)| *t).collect();
            if let Ok(v) = HeaderValue::from_str(&types.join(", ")) {
                r.headers_mut().insert("accept-patch", v);
            }
        }
        r
    }

    fn not_allowed(&self, allow: &str) -> Reply {
        let mut r = self.error(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not allowed for the requested resource.",
        );
        if let Ok(v) = HeaderValue::from_str(allow) {
            r.headers_mut().insert("allow", v);
        }
        r
    }
}

/// `404 Not Found`: the code and reason, as error bodies name them.
fn status_line(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}

/// A plain-text error body in the reference's layout.
fn text_error(status: StatusCode, message: &str) -> Vec<u8> {
    format!("{}\n\n{message}\n\n   ", status_line(status)).into_bytes()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn request_id(headers: &HeaderMap) -> HeaderValue {
    headers
        .get("x-openstack-request-id")
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .cloned()
        .unwrap_or_else(|| {
            // `req-` and a hyphenated UUID, written in place (this runs on every request).
            let mut buf = [0u8; 40];
            buf[..4].copy_from_slice(b"req-");
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut buf[4..]);
            HeaderValue::from_bytes(&buf).expect("ascii")
        })
}

/// The path percent-decoded before it is split into segments, as the reference routes: an
/// encoded `/` (`%2F`) separates segments like a plain one. Borrowed when nothing is encoded.
fn decoded(path: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy()
}

/// Methods this server knows; any other is answered 501, as the reference does.
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// The response builder for a request: request id and error format.
fn out_for(headers: &HeaderMap) -> Out {
    Out {
        request_id: Some(request_id(headers)),
        format: format_of(headers),
    }
}

/// An injected fault, when the capability is on and the request asks for one.
fn fault(app: &App, out: &Out, headers: &HeaderMap) -> Option<Reply> {
    if !app.faults {
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
pub(crate) fn handle(
    app: &App,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
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
        [""] | ["versions"] => return versions(app, &mut out, method, segs[0].is_empty()),
        _ => {}
    }
    if rows.is_empty() {
        return out.error(StatusCode::NOT_FOUND, "The resource could not be found.");
    }
    let model = app.model.read().expect("model lock");
    let who = match mutant::authenticate(app.mutant, &model, token) {
        Ok(who) => who,
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
    let query = query_pairs(query);
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let call = |who| Call {
        who,
        params,
        query: &query,
        body,
        content_type,
    };
    let rules_mutant = app.mutant.filter(|m| m.layer() == Layer::Rules);
    let answer = match (rules_mutant, op.handler) {
        (_, Handler::Document(name)) => Ok(Answer::Schema(name)),
        (None, Handler::Read(f)) => f(&model, &call(who)),
        // Writes take the write lock, and so does any row under a rules mutant (it may bend
        // state); they need their own copy of the identity.
        (broken, handler) => {
            let who = who.clone();
            drop(model);
            let mut model = app.model.write().expect("model lock");
            let call = Call {
                who: &who,
                params,
                query: &query,
                body,
                content_type,
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
        Ok(a) => reply(app, &out, op, a),
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

/// A successful answer as HTTP: the row's status, body and `Location`.
fn reply(app: &App, out: &Out, op: &Operation, answer: Answer) -> Reply {
    let status = StatusCode::from_u16(op.success).unwrap_or(StatusCode::OK);
    match answer {
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
