//! One worker's way to the target: a [`RawConn`] (the request target, headers and body go out
//! exactly as generated, on one kept-alive connection) for a plain-`http` target, else the
//! session's client (which normalises the target: `https://` or a proxy).

use bytes::Bytes;
use http_body_util::Full;
use reqwest::header::{ALLOW, CONTENT_TYPE, HeaderMap};

use super::check::Answer;
use super::request::{Body, Req, big_body};
use crate::error::chain as error_chain;
use crate::target::{RawConn, Session};

/// How much of an answer's body is read; the rest is dropped with the connection.
pub(super) const READ_CAP: usize = 1 << 20;

/// Why a request has no answer to check.
pub(super) enum Failure {
    /// The request cannot be put on the wire (an invalid target, say): not sent, not counted.
    Unsendable,
    /// Sent, but no answer came (reset, timeout, a body broken off).
    NoAnswer(String),
}

/// A worker's sender.
pub(super) enum Sender {
    /// Exactly as built.
    Raw(RawConn),
    /// Through the general client, to `base`.
    Client {
        client: reqwest::Client,
        base: String,
    },
}

impl Sender {
    /// A raw connection when the target allows one, else the session's client; with the
    /// reason there is no raw one.
    pub fn for_session(session: &Session) -> (Sender, Option<String>) {
        let target = session.target();
        match RawConn::new(target.base(), &target.network) {
            Ok(raw) => (Sender::Raw(raw), None),
            Err(why) => (
                Sender::Client {
                    client: session.client().clone(),
                    base: target.base().to_string(),
                },
                Some(why),
            ),
        }
    }

    /// Sends `req` (its headers are moved out) and reads the answer up to [`READ_CAP`].
    pub async fn send(&mut self, req: &mut Req) -> Result<Answer, Failure> {
        let body = match &req.body {
            Body::None => Bytes::new(),
            Body::Bytes(b) => b.clone(),
            Body::Big => big_body(),
        };
        let headers = std::mem::take(&mut req.headers);
        match self {
            Sender::Raw(conn) => raw(conn, req, headers, body).await,
            Sender::Client { client, base } => general(client, base, req, headers, body).await,
        }
    }
}

async fn raw(
    conn: &mut RawConn,
    req: &mut Req,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    body: Bytes,
) -> Result<Answer, Failure> {
    let uri = match req.uri.take() {
        Some(u) => u,
        None => http::Uri::try_from(req.path.as_str()).map_err(|_| Failure::Unsendable)?,
    };
    let mut built = http::Request::new(Full::new(body));
    *built.method_mut() = req.method.clone();
    *built.uri_mut() = uri;
    let map = built.headers_mut();
    map.reserve(headers.len());
    for (k, v) in headers {
        map.append(k, v);
    }
    match conn.send(built, READ_CAP).await {
        Ok(a) => Ok(answer(
            a.head.status.as_u16(),
            &a.head.headers,
            a.body,
            a.truncated,
        )),
        Err(e) => Err(Failure::NoAnswer(error_chain(&e))),
    }
}

async fn general(
    client: &reqwest::Client,
    base: &str,
    req: &mut Req,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    body: Bytes,
) -> Result<Answer, Failure> {
    let url =
        reqwest::Url::parse(&format!("{base}{}", req.path)).map_err(|_| Failure::Unsendable)?;
    let mut built = reqwest::Request::new(req.method.clone(), url);
    let mut map = HeaderMap::with_capacity(headers.len());
    for (k, v) in headers {
        map.append(k, v);
    }
    *built.headers_mut() = map;
    if !matches!(req.body, Body::None) {
        *built.body_mut() = Some(body.into());
    }
    let mut resp = match client.execute(built).await {
        Ok(r) => r,
        Err(e) if e.is_builder() => return Err(Failure::Unsendable),
        Err(e) => return Err(Failure::NoAnswer(error_chain(&e.without_url()))),
    };
    let (status, head) = (resp.status().as_u16(), resp.headers().clone());
    let mut body: Vec<u8> = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                let room = READ_CAP.saturating_sub(body.len());
                body.extend_from_slice(&c[..c.len().min(room)]);
                if c.len() > room {
                    return Ok(answer(status, &head, body, true));
                }
            }
            Ok(None) => return Ok(answer(status, &head, body, false)),
            Err(e) => {
                return Err(Failure::NoAnswer(format!(
                    "the answer's body broke off after {} bytes (status {status}): {}",
                    body.len(),
                    error_chain(&e.without_url())
                )));
            }
        }
    }
}

/// What the checks need of an answer.
fn answer(status: u16, headers: &HeaderMap, body: Vec<u8>, truncated: bool) -> Answer {
    let json_labelled = headers.get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.len() >= 16 && v[..16].eq_ignore_ascii_case(b"application/json")
    });
    Answer {
        status,
        json_labelled,
        allow: headers.contains_key(ALLOW),
        body,
        truncated,
    }
}
