//! Requests in, model calls, responses out. One handler sees every request, so the order of
//! the edge checks is in one place: request limits (target 414, head 431, body 413; see
//! [`super::MAX_BODY_BYTES`]) → fault → rate limit (member resources) → version discovery →
//! Keystone (`/v3`, see `keystone`) → auth → route.

use std::sync::{Arc, RwLock};

use serde::Serialize;
use warp::Filter;
use warp::http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::documents::Documents;
use super::keystone;
use super::limits::RateLimiter;
use super::{
    DRAIN_BYTES, FAULT_HEADER, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES,
};
use crate::model::{ApiError, ErrorKind, Identity, Model, Mutant};

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
    pub(crate) fn new(model: Model, base: String, faults: bool, rate_limit: Option<u32>) -> App {
        let mutant = model.rules().mutant;
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
                    match limits(&app, path, &query, &headers, &body) {
                        Some(refusal) => refusal,
                        None => {
                            let body = match &body {
                                Body::Read(b) => b.as_slice(),
                                _ => &[],
                            };
                            handle(&app, &method, path, &query, &headers, body)
                        }
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
fn limits(app: &App, path: &str, query: &str, headers: &HeaderMap, body: &Body) -> Option<Reply> {
    // Built only for a refusal: most requests pass.
    let out = || out_for(app, headers);
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
#[derive(Clone, Copy)]
enum Format {
    Json,
    Html,
    Text,
}

fn format_of(headers: &HeaderMap) -> Format {
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("json") {
        Format::Json
    } else if accept.contains("text/html") {
        Format::Html
    } else {
        Format::Text
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
        let code = format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
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
                format!("{code}\n\n{message}\n\n   ").into_bytes(),
            ),
        }
    }

    fn api_error(&self, e: &ApiError) -> Reply {
        let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
        self.error(status, &e.message)
    }

    fn not_allowed(&self, allow: &'static str, mutant: Option<Mutant>) -> Reply {
        if mutant == Some(Mutant::WrongMethodIs404) {
            return self.error(StatusCode::NOT_FOUND, "The resource could not be found.");
        }
        let mut r = self.error(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not allowed for the requested resource.",
        );
        if mutant != Some(Mutant::MissingAllow) {
            r.headers_mut()
                .insert("allow", HeaderValue::from_static(allow));
        }
        r
    }
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

/// Path segments, percent-decoded.
fn segments(path: &str) -> Vec<std::borrow::Cow<'_, str>> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy())
        .collect()
}

/// The resource a path names.
enum Route {
    Root,
    Versions,
    Images,
    Image(String),
    Members(String),
    Member(String, String),
    Schema(String),
    Keystone(keystone::Route),
    Unknown,
}

fn route(path: &str) -> Route {
    let segs = segments(path);
    let s: Vec<&str> = segs.iter().map(|c| c.as_ref()).collect();
    match s.as_slice() {
        [""] => Route::Root,
        ["versions"] => Route::Versions,
        ["v2", "images"] => Route::Images,
        ["v2", "images", id] => Route::Image(id.to_string()),
        ["v2", "images", id, "members"] => Route::Members(id.to_string()),
        ["v2", "images", id, "members", m] => Route::Member(id.to_string(), m.to_string()),
        ["v2", "schemas", name] => Route::Schema(name.to_string()),
        ["v3", rest @ ..] => Route::Keystone(keystone::route(rest)),
        _ => Route::Unknown,
    }
}

/// The response builder for a request: request id and error format (mutants included).
fn out_for(app: &App, headers: &HeaderMap) -> Out {
    let m = app.mutant;
    let format = if m == Some(Mutant::ErrorsIgnoreAccept) {
        Format::Text
    } else {
        format_of(headers)
    };
    Out {
        request_id: (m != Some(Mutant::MissingRequestId)).then(|| request_id(headers)),
        format,
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
    let m = app.mutant;
    let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok());
    let mut out = out_for(app, headers);

    if app.faults
        && let Some(fault) = headers.get(FAULT_HEADER)
    {
        match fault.as_bytes() {
            b"500" => {
                return out.error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Injected fault: the server failed.",
                );
            }
            b"503" => {
                let mut r = out.error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Injected fault: the service is unavailable.",
                );
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
                return r;
            }
            _ => {}
        }
    }
    let route = route(path);
    if let Some(rate) = &app.rate
        && matches!(route, Route::Members(_) | Route::Member(..))
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
    match route {
        Route::Keystone(k) => {
            return out.finish(keystone::handle(
                &app.model, &app.base, method, k, query, headers, body,
            ));
        }
        Route::Root | Route::Versions => {
            out.request_id = None;
            let status = if matches!(route, Route::Root) {
                StatusCode::MULTIPLE_CHOICES
            } else {
                StatusCode::OK
            };
            return out.json(status, app.docs.versions());
        }
        _ => {}
    }

    let model = app.model.read().expect("model lock");
    let who = match model.authenticate(token) {
        Ok(who) => who,
        Err(e) => {
            // Authentication runs before the layer that adds request ids.
            out.request_id = None;
            let mut r = out.api_error(&e);
            if m != Some(Mutant::MissingWwwAuthenticate) {
                r.headers_mut()
                    .insert("www-authenticate", app.www_authenticate.clone());
            }
            return r;
        }
    };
    match (route, method) {
        (Route::Member(img, mid), &Method::GET) => match model.show_member(who, &img, &mid) {
            Ok(member) => out.json(StatusCode::OK, member),
            Err(e) => out.api_error(&e),
        },
        (Route::Members(img), &Method::GET) => match model.list_members(who, &img) {
            Ok(members) => out.json(
                StatusCode::OK,
                &serde_json::json!({"members": members, "schema": "/v2/schemas/members"}),
            ),
            Err(e) => out.api_error(&e),
        },
        (Route::Image(img), &Method::GET) => match model.show_image(who, &img) {
            Ok(image) => out.json(StatusCode::OK, &image.to_json()),
            Err(e) => out.api_error(&e),
        },
        (Route::Images, &Method::GET) => list_images(&out, &model, who, query),
        (Route::Schema(name), &Method::GET) => match app.docs.schema(&name) {
            Some(doc) => out.bytes(StatusCode::OK, "application/json", doc.to_vec()),
            None => out.error(StatusCode::NOT_FOUND, "The resource could not be found."),
        },
        (route, method) => {
            // Only the write path needs its own copy of the identity.
            let who = who.clone();
            drop(model);
            write(app, &out, route, method, &who, body, m)
        }
    }
}

/// Requests that change state, under the write lock.
fn write(
    app: &App,
    out: &Out,
    route: Route,
    method: &Method,
    who: &Identity,
    body: &[u8],
    m: Option<Mutant>,
) -> Reply {
    match (route, method) {
        (Route::Images, &Method::POST) => {
            let r = app
                .model
                .write()
                .expect("model lock")
                .create_image(who, body);
            match r {
                Ok(image) => {
                    let mut r = out.json(StatusCode::CREATED, &image.to_json());
                    if let Ok(loc) =
                        HeaderValue::from_str(&format!("{}/v2/images/{}", app.base, image.id))
                    {
                        r.headers_mut().insert("location", loc);
                    }
                    r
                }
                Err(e) => out.api_error(&e),
            }
        }
        (Route::Images, _) => out.not_allowed("GET, POST", m),
        (Route::Image(img), &Method::DELETE) => {
            let r = app
                .model
                .write()
                .expect("model lock")
                .delete_image(who, &img);
            match r {
                Ok(()) => out.empty(StatusCode::NO_CONTENT),
                Err(e) => out.api_error(&e),
            }
        }
        (Route::Image(_), _) => out.not_allowed("GET, DELETE", m),
        (Route::Members(img), &Method::POST) => {
            let r = app
                .model
                .write()
                .expect("model lock")
                .add_member(who, &img, body);
            match r {
                Ok(member) if m == Some(Mutant::AddAnswers201) => {
                    out.json(StatusCode::CREATED, &member)
                }
                Ok(member) => out.json(StatusCode::OK, &member),
                Err(e) => out.api_error(&e),
            }
        }
        (Route::Members(_), _) => out.not_allowed("GET, POST", m),
        (Route::Member(img, mid), &Method::PUT) => {
            let r = app
                .model
                .write()
                .expect("model lock")
                .update_member(who, &img, &mid, body);
            match r {
                Ok(member) => out.json(StatusCode::OK, &member),
                Err(e) => out.api_error(&e),
            }
        }
        (Route::Member(img, mid), &Method::DELETE) => {
            let r = app
                .model
                .write()
                .expect("model lock")
                .delete_member(who, &img, &mid, body);
            match r {
                Ok(()) if m == Some(Mutant::DeleteAnswers200) => {
                    out.json(StatusCode::OK, &serde_json::json!({}))
                }
                Ok(()) => out.empty(StatusCode::NO_CONTENT),
                Err(e) => out.api_error(&e),
            }
        }
        (Route::Member(..), _) => out.not_allowed("GET, PUT, DELETE", m),
        (Route::Schema(_), _) => out.not_allowed("GET", m),
        (Route::Root | Route::Versions, _) => out.not_allowed("GET", m),
        (Route::Keystone(_) | Route::Unknown, _) => {
            out.error(StatusCode::NOT_FOUND, "The resource could not be found.")
        }
    }
}

/// Page size when the client gives no `limit`.
const DEFAULT_LIMIT: usize = 25;
/// Largest page.
const MAX_LIMIT: usize = 1000;

fn list_images(out: &Out, model: &Model, who: &Identity, query: &str) -> Reply {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let images = match model.list_images(who, &pairs) {
        Ok(i) => i,
        Err(e) => return out.api_error(&e),
    };
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let limit = match get("limit").map(str::parse::<usize>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) => n.min(MAX_LIMIT),
        Some(Err(_)) => return out.api_error(&bad("limit must be a non-negative integer")),
    };
    let start = match get("marker") {
        None => 0,
        Some(marker) => match images.iter().position(|i| i.id == marker) {
            Some(p) => p + 1,
            None => return out.api_error(&bad(&format!("marker {marker} not found"))),
        },
    };
    let page: Vec<serde_json::Value> = images
        .iter()
        .skip(start)
        .take(limit)
        .map(|i| i.to_json())
        .collect();
    let mut body = serde_json::json!({
        "images": page,
        "first": "/v2/images",
        "schema": "/v2/schemas/images",
    });
    // `limit=0` gives an empty page and no `next` (it would point back at the same page).
    if limit > 0
        && start + limit < images.len()
        && let Some(last) = images.get(start + limit - 1)
    {
        let mut next = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "marker") {
            next.append_pair(k, v);
        }
        next.append_pair("marker", &last.id);
        body["next"] = serde_json::Value::String(format!("/v2/images?{}", next.finish()));
    }
    out.json(StatusCode::OK, &body)
}

fn bad(msg: &str) -> ApiError {
    ApiError {
        kind: ErrorKind::BadRequest,
        message: msg.to_string(),
    }
}
