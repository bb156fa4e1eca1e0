//! One session with a target: the one HTTP client, the resolved [`Target`], the log of every
//! exchange, and the images to delete at the end. Every request of the suite and the fuzzers
//! goes through [`Session::send`], which is the one place that sets credentials.

use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::client::http_client;
use super::config::TargetFile;
use super::resolve::Target;
use crate::error::RunError;

/// How many times clean-up sends a delete again after a 5xx answer.
const CLEANUP_5XX_RETRIES: usize = 4;
/// Which part of a run a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Creating images and memberships.
    Setup,
    /// A `before` step.
    Before,
    /// The request under test.
    Request,
    /// A `then` step.
    Then,
    /// Deleting what the run created.
    Cleanup,
}

impl Stage {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Setup => "setup",
            Stage::Before => "before",
            Stage::Request => "request",
            Stage::Then => "then",
            Stage::Cleanup => "cleanup",
        }
    }
}

/// One request and what came back, without headers or tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Part of the run.
    pub stage: Stage,
    /// HTTP method.
    pub method: String,
    /// Path as sent (placeholders expanded).
    pub path: String,
    /// Status of the answer.
    pub status: u16,
    /// The answer's body shape: `empty`, `json{sorted,top,keys}`, `json` (not an object) or
    /// `text`.
    pub shape: String,
}

/// A body's shape, for comparing servers without comparing values.
pub fn shape(body: &[u8]) -> String {
    if body.is_empty() {
        return "empty".into();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => {
            let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
            keys.sort_unstable();
            format!("json{{{}}}", keys.join(","))
        }
        Ok(_) => "json".into(),
        Err(_) => "text".into(),
    }
}

const EXCERPT: usize = 300;

/// The first 300 characters of a body, for messages; `(empty)` when there is none.
pub fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty)".into();
    }
    let s = String::from_utf8_lossy(body);
    let mut out: String = s.chars().take(EXCERPT).collect();
    if s.chars().count() > EXCERPT {
        out.push('…');
    }
    out
}

/// Who sends a request, and so which credentials it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A persona of the target: its token in `X-Auth-Token`.
    Persona(String),
    /// No credentials at all.
    Anonymous,
    /// An empty `X-Auth-Token`.
    EmptyToken,
    /// A token no server issued (fresh for every request).
    BadToken,
    /// A persona's token in another header instead of `X-Auth-Token`, after `prefix`
    /// (e.g. `Authorization: Bearer <token>`).
    Header {
        /// The header name.
        name: String,
        /// What comes before the token, e.g. `Bearer `.
        prefix: String,
        /// Whose token.
        persona: String,
    },
}

impl Caller {
    /// From a case file's `caller`: `anonymous`, `empty_token`, `bad_token` or a persona.
    pub fn named(name: &str) -> Caller {
        match name {
            "anonymous" => Caller::Anonymous,
            "empty_token" => Caller::EmptyToken,
            "bad_token" => Caller::BadToken,
            p => Caller::Persona(p.to_string()),
        }
    }

    /// A persona's token as an OAuth-style bearer token.
    pub fn bearer(persona: &str) -> Caller {
        Caller::Header {
            name: "authorization".into(),
            prefix: "Bearer ".into(),
            persona: persona.into(),
        }
    }
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Persona(p) => f.write_str(p),
            Caller::Anonymous => f.write_str("anonymous"),
            Caller::EmptyToken => f.write_str("empty_token"),
            Caller::BadToken => f.write_str("bad_token"),
            Caller::Header { name, persona, .. } => write!(f, "{persona} (token in {name})"),
        }
    }
}

/// A request to send: who, what, and which part of the run it belongs to.
#[derive(Clone, Debug)]
pub struct Req {
    /// Whose credentials it carries.
    pub caller: Caller,
    /// HTTP method.
    pub method: String,
    /// Path below the endpoint, with query.
    pub path: String,
    /// Extra headers, set after the defaults and the credentials (so they override them).
    pub headers: Vec<(String, String)>,
    /// The body, sent as `application/json` unless a header says otherwise.
    pub body: Option<Vec<u8>>,
    /// Recorded with the exchange.
    pub stage: Stage,
    /// How often to retry after a connection error (only for calls safe to repeat).
    pub retries: u32,
}

impl Req {
    /// A request without body or extra headers, in the `request` stage.
    pub fn new(caller: Caller, method: &str, path: impl Into<String>) -> Req {
        Req {
            caller,
            method: method.to_string(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
            stage: Stage::Request,
            retries: 0,
        }
    }

    /// As `persona`.
    pub fn by(persona: &str, method: &str, path: impl Into<String>) -> Req {
        Req::new(Caller::Persona(persona.to_string()), method, path)
    }

    /// With a JSON body.
    pub fn json(mut self, body: &Value) -> Req {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    /// With this header.
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// In this stage.
    pub fn stage(mut self, stage: Stage) -> Req {
        self.stage = stage;
        self
    }

    /// Retried up to `n` times after connection errors.
    pub fn retries(mut self, n: u32) -> Req {
        self.retries = n;
        self
    }

    /// What it says in messages.
    pub fn sent(&self) -> Sent {
        Sent {
            caller: self.caller.to_string(),
            method: self.method.clone(),
            path: self.path.clone(),
        }
    }
}

/// A request as messages show it: method, path and caller, never credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The caller's name.
    pub caller: String,
    /// HTTP method.
    pub method: String,
    /// Path as sent.
    pub path: String,
}

impl std::fmt::Display for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} as {}", self.method, self.path, self.caller)
    }
}

/// An answer, fully read.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON, when it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A request that could not be sent, or whose answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The method is not a valid token.
    #[error("{sent}: invalid method")]
    Method {
        /// The request.
        sent: Sent,
    },
    /// The caller names a persona the target does not have.
    #[error("{sent}: the target has no persona `{persona}`")]
    UnknownPersona {
        /// The request.
        sent: Sent,
        /// The persona.
        persona: String,
    },
    /// A token cannot be a header value.
    #[error("token of `{caller}` is not a valid header value")]
    Token {
        /// The caller.
        caller: String,
    },
    /// A header name is invalid.
    #[error("header name `{name}` is invalid")]
    HeaderName {
        /// As given.
        name: String,
    },
    /// A header value is invalid.
    #[error("header `{name}` has an invalid value")]
    HeaderValue {
        /// The header.
        name: String,
    },
    /// No answer (connection, TLS, timeout).
    #[error("{sent}: no answer")]
    NoAnswer {
        /// The request.
        sent: Sent,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The answer's body could not be read.
    #[error("{sent}: answer cut short")]
    CutShort {
        /// The request.
        sent: Sent,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
}

/// An image registered for deletion that could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// The delete was not sent or not answered.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The delete answered neither 204 nor 404.
    #[error(
        "{sent}\n  expected status 204 or 404, got {status}\n  body: {}",
        excerpt(body)
    )]
    Refused {
        /// The image id, or the namespace name.
        image: String,
        /// The delete.
        sent: Sent,
        /// What it answered.
        status: u16,
        /// The answer's body.
        body: Vec<u8>,
    },
}

/// What every fork of a session shares.
#[derive(Debug)]
struct Shared {
    client: reqwest::Client,
    target: Target,
}

/// A session with one target; see the module documentation.
#[derive(Debug)]
pub struct Session {
    shared: Arc<Shared>,
    log: Mutex<Vec<Exchange>>,
    cleanups: Mutex<Vec<(Leftover, String)>>,
}

/// Something a run created and deletes at its end.
#[derive(Debug, Clone, PartialEq)]
enum Leftover {
    /// An image, by id.
    Image(String),
    /// A metadata definition namespace, by name.
    Namespace(String),
}

impl Session {
    /// A session with `target`, with a client built from its TLS and network settings.
    pub fn new(target: Target) -> Result<Session, RunError> {
        let client = http_client(&target.tls, &target.network)?;
        Ok(Session::with_client(client, target))
    }

    /// Resolves `file` (Keystone, `clouds.yaml`) with the client the session then keeps, so
    /// one client serves the whole session.
    pub async fn open(file: &TargetFile) -> Result<Session, RunError> {
        let client = http_client(&file.tls, &file.network)?;
        let target = file.resolve_with(&client).await?;
        Ok(Session::with_client(client, target))
    }

    /// A session using an existing client.
    pub(crate) fn with_client(client: reqwest::Client, target: Target) -> Session {
        Session {
            shared: Arc::new(Shared { client, target }),
            log: Mutex::default(),
            cleanups: Mutex::default(),
        }
    }

    /// A session with the same client and target, an empty log and nothing to clean up.
    pub fn fork(&self) -> Session {
        Session {
            shared: self.shared.clone(),
            log: Mutex::default(),
            cleanups: Mutex::default(),
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    /// The HTTP client (for callers that build requests the session cannot express).
    pub fn client(&self) -> &reqwest::Client {
        &self.shared.client
    }

    /// The credential header of `caller`, or `None` for anonymous.
    fn credential(&self, req: &Req) -> Result<Option<(HeaderName, HeaderValue)>, SendError> {
        let token_of = |persona: &str| {
            self.target()
                .personas
                .get(persona)
                .map(|p| p.token.clone())
                .ok_or_else(|| SendError::UnknownPersona {
                    sent: req.sent(),
                    persona: persona.to_string(),
                })
        };
        let x_auth = HeaderName::from_static("x-auth-token");
        let (name, value) = match &req.caller {
            Caller::Anonymous => return Ok(None),
            Caller::EmptyToken => (x_auth, String::new()),
            Caller::BadToken => (
                x_auth,
                format!("sharecheck-invalid-{}", uuid::Uuid::new_v4().simple()),
            ),
            Caller::Persona(p) => (x_auth, token_of(p)?),
            Caller::Header {
                name,
                prefix,
                persona,
            } => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| SendError::HeaderName { name: name.clone() })?;
                (name, format!("{prefix}{}", token_of(persona)?))
            }
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| SendError::Token {
            caller: req.caller.to_string(),
        })?;
        value.set_sensitive(true);
        Ok(Some((name, value)))
    }

    /// Sends `req` with the caller's credentials, reads the whole answer and records the
    /// exchange.
    pub async fn send(&self, req: Req) -> Result<Answer, SendError> {
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("application/json"));
        if req.body.is_some() {
            headers.insert("content-type", HeaderValue::from_static("application/json"));
        }
        if let Some((name, value)) = self.credential(&req)? {
            headers.insert(name, value);
        }
        for (k, v) in &req.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| SendError::HeaderName { name: k.clone() })?;
            let value =
                HeaderValue::from_str(v).map_err(|_| SendError::HeaderValue { name: k.clone() })?;
            headers.insert(name, value);
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| SendError::Method { sent: req.sent() })?;
        let url = format!("{}{}", self.target().base(), req.path);
        let mut attempt = 0;
        let resp = loop {
            let mut rb = self
                .client()
                .request(method.clone(), &url)
                .headers(headers.clone());
            if let Some(b) = &req.body {
                rb = rb.body(b.clone());
            }
            match rb.send().await {
                Ok(r) => break r,
                // Only calls that are safe to repeat, and only when no connection was made.
                Err(e) if e.is_connect() && attempt < req.retries => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                        .await;
                }
                Err(source) => {
                    return Err(SendError::NoAnswer {
                        sent: req.sent(),
                        source,
                    });
                }
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(source) => {
                return Err(SendError::CutShort {
                    sent: req.sent(),
                    source,
                });
            }
        };
        if let Ok(mut log) = self.log.lock() {
            log.push(Exchange {
                stage: req.stage,
                method: req.method,
                path: req.path,
                status,
                shape: shape(&body),
            });
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Every exchange so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Every exchange so far, leaving the log empty.
    pub(crate) fn take_exchanges(&self) -> Vec<Exchange> {
        self.log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// Deletes `image_id` as `persona` (a [`Caller::named`] name) at
    /// [`cleanup`](Session::cleanup).
    pub fn register_cleanup(&self, image_id: &str, persona: &str) {
        if let Ok(mut c) = self.cleanups.lock() {
            c.push((Leftover::Image(image_id.to_string()), persona.to_string()));
        }
    }

    /// Deletes the metadata definition namespace `name`, as `persona`, at clean-up.
    pub fn register_namespace_cleanup(&self, name: &str, persona: &str) {
        if let Ok(mut c) = self.cleanups.lock() {
            c.push((Leftover::Namespace(name.to_string()), persona.to_string()));
        }
    }

    /// No longer deletes `image_id` (it is gone already).
    pub(crate) fn forget_cleanup(&self, image_id: &str) {
        if let Ok(mut c) = self.cleanups.lock() {
            c.retain(|(left, _)| *left != Leftover::Image(image_id.to_string()));
        }
    }

    /// Deletes every registered image and namespace, last registered first, each as whoever
    /// registered it (a 404 counts as deleted); returns the ones that could not be deleted.
    pub async fn cleanup(&self) -> Vec<CleanupError> {
        let todo = self
            .cleanups
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        let mut failed = Vec::new();
        for (left, persona) in todo.into_iter().rev() {
            let done = match &left {
                Leftover::Image(id) => self.delete_image(id, &persona).await,
                Leftover::Namespace(name) => self.delete_namespace(name, &persona).await,
            };
            if let Err(e) = done {
                failed.push(e);
            }
        }
        failed
    }

    /// `PATCH` of `protected` to false (a protected image refuses deletion with 403); whether
    /// it succeeded.
    async fn unprotect(&self, id: &str, persona: &str) -> bool {
        let req = Req::new(Caller::named(persona), "PATCH", format!("/v2/images/{id}"))
            .json(&serde_json::json!([{"op": "replace", "path": "/protected", "value": false}]))
            .header(
                "content-type",
                "application/openstack-images-v2.1-json-patch",
            )
            .stage(Stage::Cleanup);
        self.send(req).await.is_ok_and(|a| a.status == 200)
    }

    /// `DELETE /v2/metadefs/namespaces/{name}` as `persona`, retried after connection errors;
    /// 204 and 404 count as deleted; a protected namespace is unprotected first.
    pub(crate) async fn delete_namespace(
        &self,
        name: &str,
        persona: &str,
    ) -> Result<(), CleanupError> {
        let path = format!("/v2/metadefs/namespaces/{name}");
        let req = Req::new(Caller::named(persona), "DELETE", path.clone())
            .stage(Stage::Cleanup)
            .retries(self.target().network.retries);
        let sent = req.sent();
        let mut a = self.send(req.clone()).await?;
        if a.status == 403 {
            let unprotect = Req::new(Caller::named(persona), "PUT", path)
                .json(&serde_json::json!({"namespace": name, "protected": false}))
                .stage(Stage::Cleanup);
            if self.send(unprotect).await.is_ok_and(|u| u.status == 200) {
                a = self.send(req).await?;
            }
        }
        match a.status {
            204 | 404 => Ok(()),
            status => Err(CleanupError::Refused {
                image: name.to_string(),
                sent,
                status,
                body: a.body,
            }),
        }
    }

    /// `DELETE /v2/images/{id}` as `persona`, retried after connection errors; 204 and 404
    /// count as deleted; a protected image is unprotected first.
    pub(crate) async fn delete_image(&self, id: &str, persona: &str) -> Result<(), CleanupError> {
        let req = Req::new(Caller::named(persona), "DELETE", format!("/v2/images/{id}"))
            .stage(Stage::Cleanup)
            .retries(self.target().network.retries);
        let sent = req.sent();
        let mut a = self.send(req.clone()).await?;
        if a.status == 403 && self.unprotect(id, persona).await {
            a = self.send(req.clone()).await?;
        }
        // A 5xx is tried again a few times: the reference's import threads may still be
        // writing to the image (its database refuses the delete that races them). Clean-up
        // is not under test; every attempt stays in the log.
        for _ in 0..CLEANUP_5XX_RETRIES {
            if a.status < 500 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            a = self.send(req.clone()).await?;
        }
        match a.status {
            204 | 404 => Ok(()),
            status => Err(CleanupError::Refused {
                image: id.to_string(),
                sent,
                status,
                body: a.body,
            }),
        }
    }
}
