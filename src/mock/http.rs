//! The edge: the raw request off the connection, its body read within the limits, then the
//! control API (`/_sharecheck/`, `/healthz`) or the image API (`route`) under the fault rules,
//! every image API request written to the journal before its answer leaves, and the answer
//! onto the wire (cut short or dropped when a rule says so). Request limits (target 414,
//! head 431, body 413; see [`super::MAX_BODY_BYTES`]) come before everything else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt as _;
use warp::Filter;
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::Reply as _;

use super::app::App;
use super::context::{RequestContext, decoded};
use super::control;
use super::data;
use super::faults::{Action, Decision, When};
use super::fetch;
use super::journal::{Entry, kept};
use super::mutant::{self, Layer};
use super::out::{Out, Reply, plain, text_error};
use super::route::{DataAction, Trace, handle_traced};
use super::{DRAIN_BYTES, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES};

/// The largest body the control API reads (a snapshot of many images).
const CONTROL_BODY_BYTES: usize = 48 << 20;

/// The one warp filter: it extracts the raw request, reads the body within the limits and
/// hands it to [`serve`].
pub(crate) fn filter(
    app: Arc<App>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = std::convert::Infallible>
+ Clone
+ Send
+ Sync
+ 'static {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::addr::remote())
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(
            move |method: Method,
                  peer: Option<SocketAddr>,
                  path: warp::path::FullPath,
                  query: String,
                  headers: HeaderMap,
                  body| {
                let app = Arc::clone(&app);
                async move {
                    let path = path.as_str();
                    let decoded = decoded(path);
                    let mut ctx =
                        RequestContext::new(&method, peer, path, &decoded, &query, &headers);
                    let control = control::owns(path);
                    let cap = if control {
                        CONTROL_BODY_BYTES
                    } else {
                        MAX_BODY_BYTES
                    };
                    let body = if !control && ctx.carries_data() {
                        Body::Stream(boxed(body))
                    } else {
                        read_body(body, declared_length(&headers), cap).await
                    };
                    if control {
                        let reply = match &body {
                            Body::Read(b) => control::handle(&app, &ctx, b),
                            _ => limits(&ctx, &body).unwrap_or_else(|| {
                                plain(StatusCode::BAD_REQUEST, "unreadable request body")
                            }),
                        };
                        return match app.model.settled().await {
                            Ok(()) => reply.into_response(),
                            Err(why) => {
                                let why = crate::error::chain(&why);
                                plain(StatusCode::INTERNAL_SERVER_ERROR, &why).into_response()
                            }
                        };
                    }
                    serve(&app, &mut ctx, body).await
                }
            },
        )
        .recover(|_rej: warp::Rejection| async move {
            // Only the body read can reject; answer like any other unreadable request.
            Ok::<_, std::convert::Infallible>(
                plain(StatusCode::BAD_REQUEST, "unreadable request body").into_response(),
            )
        })
        .unify()
}

/// One image API request: limits, the caller, the fault rules (latency, then a fault before
/// or after the change), the answer, the journal, the wire. Every answer is built with the
/// context's one request id.
async fn serve(app: &Arc<App>, ctx: &mut RequestContext<'_>, body: Body) -> warp::reply::Response {
    let started = Instant::now();
    let mut trace = Trace::default();
    let refusal = limits(ctx, &body);
    let decision = refusal.is_none().then(|| decide(app, ctx)).flatten();
    if let Some(d) = decision
        && !d.latency.is_zero()
    {
        tokio::time::sleep(d.latency).await;
    }
    let strikes = |when: When| decision.filter(|d| d.when == when && d.action != Action::Delay);
    let reply = match (refusal, strikes(When::Before)) {
        (Some(refusal), _) => refusal,
        (None, Some(d)) => fault_reply(&ctx.out, d.action),
        (None, None) => {
            let bytes = match &body {
                Body::Read(b) => b.as_slice(),
                _ => &[],
            };
            // A patch's location URLs are probed for a caller the token names only (no
            // anonymous request makes the mock reach out), within one time limit.
            if ctx.row().is_some_and(|(op, _)| op.name == "update_image") {
                ctx.authenticate(app);
                if ctx.who().is_some() {
                    let content_type = ctx
                        .headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok());
                    ctx.heads = fetch::heads(app, content_type, bytes).await;
                }
            }
            let reply = handle_traced(app, ctx, bytes, &mut trace);
            let reply = match (trace.data.take(), body) {
                (Some(DataAction::Upload(up)), Body::Stream(stream)) => {
                    data::receive(app, &ctx.out, up, stream, reply).await
                }
                (Some(send @ DataAction::Send { .. }), _) => {
                    trace.data = Some(send);
                    reply
                }
                (Some(DataAction::Fetch(job)), _) => {
                    fetch::spawn(Arc::clone(app), job);
                    reply
                }
                _ => reply,
            };
            // The answer waits for the store: what it shows is on disk (or it is a 500).
            let reply = match app.model.settled_for(trace.read_of.as_deref()).await {
                Ok(()) => reply,
                Err(why) => ctx.out.error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &crate::error::chain(&why),
                ),
            };
            match strikes(When::After) {
                Some(d) => fault_reply(&ctx.out, d.action),
                None => reply,
            }
        }
    };
    let reply = match app.mutant {
        Some(m) if m.layer() == Layer::Http => {
            mutant::reply(m, ctx.method, ctx.path, reply, text_error)
        }
        _ => reply,
    };
    let send = trace.data.take();
    record(app, ctx, &reply, trace, decision, started);
    match (send, decision.map(|d| d.action)) {
        (Some(DataAction::Send { blob, offset, len }), None) => {
            data::send(app, &ctx.out, reply, blob, offset, len)
        }
        (_, action) => wire(reply, action),
    }
}

/// What the fault rules decide for the request (the caller is authenticated only when a rule
/// names a persona, and its user name looked up only when no id matches).
fn decide(app: &App, ctx: &mut RequestContext<'_>) -> Option<Decision> {
    if !app.faults.any() {
        return None;
    }
    let (method, path) = (ctx.method.as_str(), ctx.path);
    let mut names_caller = |persona: &str| {
        ctx.authenticate(app);
        ctx.who().is_some_and(|who| {
            who.user_id == persona
                || who.project_id == persona
                || app
                    .model
                    .read()
                    .identities()
                    .user_by_id(&who.user_id)
                    .is_some_and(|(name, _)| name == persona)
        })
    };
    app.faults.decide(method, path, &mut names_caller)
}

/// The answer an injected status gives (reset and truncate keep the honest reply, to cut).
fn fault_reply(out: &Out, action: Action) -> Reply {
    match action {
        Action::Status { code, retry_after } => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = out.error(
                status,
                "Injected fault: a fault rule answered this request.",
            );
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            r
        }
        Action::Delay | Action::Reset | Action::Truncate => out.empty(StatusCode::OK),
    }
}

/// Writes the journal entry (and the JSON log line), before the answer leaves.
fn record(
    app: &App,
    ctx: &RequestContext<'_>,
    reply: &Reply,
    trace: Trace,
    decision: Option<Decision>,
    started: Instant,
) {
    // The router's caller, or the edge's when a fault rule answered before the router ran.
    let (user_id, project_id) = trace
        .caller
        .or_else(|| ctx.who().map(|w| (w.user_id.clone(), w.project_id.clone())))
        .unzip();
    let entry = Entry {
        seq: 0,
        time: std::time::SystemTime::now(),
        method: ctx.method.to_string(),
        path: kept(ctx.path),
        query: kept(ctx.query),
        request_id: ctx.request_id().to_string(),
        persona: None,
        user_id,
        project_id,
        operation: trace.operation,
        status: reply.status().as_u16(),
        documented: trace.problems.is_empty(),
        problems: trace.problems,
        fault: decision.map(|d| format!("rule {}: {}", d.rule, d.action.describe())),
        micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    };
    if app.log_json
        && let Ok(line) = serde_json::to_string(&entry.clone().named(&app.user_names()))
    {
        eprintln!("{line}");
    }
    app.journal.push(entry);
}

/// The reply as the connection gets it: whole, or cut off by a reset or truncate fault.
fn wire(reply: Reply, action: Option<Action>) -> warp::reply::Response {
    let broken = || std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected fault");
    match action {
        Some(Action::Reset) => {
            let chunks = futures_util::stream::iter([Err::<bytes::Bytes, _>(broken())]);
            warp::reply::stream(chunks).into_response()
        }
        Some(Action::Truncate) => {
            let (parts, body) = reply.into_parts();
            let full = body.len();
            let half = bytes::Bytes::from(body).slice(..full / 2);
            // The head and the first half go out before the connection breaks.
            let cut = async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Err(broken())
            };
            let chunks = futures_util::stream::iter([Ok(half)])
                .chain(futures_util::stream::once(Box::pin(cut)));
            let mut r = warp::reply::stream(chunks).into_response();
            *r.status_mut() = parts.status;
            *r.headers_mut() = parts.headers;
            r.headers_mut()
                .insert("content-length", HeaderValue::from(full.max(1)));
            r
        }
        _ => reply.into_response(),
    }
}

/// A request body as read within [`MAX_BODY_BYTES`], or image data left to stream.
pub(crate) enum Body {
    Read(Vec<u8>),
    /// Image data, not read yet.
    Stream(futures_util::stream::BoxStream<'static, Result<bytes::Bytes, warp::Error>>),
    /// Past the limit; `drained` when all of it was read (the connection can stay open).
    TooLarge {
        drained: bool,
    },
    /// The client broke off or sent a malformed body.
    Broken,
}

/// A body stream as chunks of bytes, to stream on.
fn boxed<S, B>(
    stream: S,
) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, warp::Error>>
where
    S: warp::Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: warp::Buf,
{
    stream
        .map(|chunk| chunk.map(|mut b| b.copy_to_bytes(b.remaining())))
        .boxed()
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

/// Reads the body, keeping at most `cap` bytes ([`MAX_BODY_BYTES`] on the image API) and dropping the rest of a larger one
/// up to [`DRAIN_BYTES`], so memory per request stays bounded whatever the client sends.
async fn read_body<S, B>(stream: S, declared: Option<u64>, cap: usize) -> Body
where
    S: warp::Stream<Item = Result<B, warp::Error>>,
    B: warp::Buf,
{
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return Body::TooLarge { drained: false };
    }
    let mut over = declared.is_some_and(|n| n > cap as u64);
    let mut stream = std::pin::pin!(stream);
    let mut kept = Vec::with_capacity(declared.unwrap_or(0).min(cap as u64) as usize);
    let mut seen: u64 = 0;
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let Ok(mut chunk) = chunk else {
            return Body::Broken;
        };
        seen = seen.saturating_add(chunk.remaining() as u64);
        if seen > DRAIN_BYTES {
            return Body::TooLarge { drained: false };
        }
        if over || seen > cap as u64 {
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
fn limits(ctx: &RequestContext<'_>, body: &Body) -> Option<Reply> {
    let (path, query, headers) = (ctx.path, ctx.query, ctx.headers);
    let out = || &ctx.out;
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
        Body::Read(_) | Body::Stream(_) => None,
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
