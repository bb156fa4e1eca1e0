//! A raw sender: one kept-alive connection that sends a request exactly as it was built.
//!
//! The general client ([`http_client`](super::client::http_client)) is right for well-formed calls, but it
//! normalises what it sends (a URL parser resolves `..` and re-encodes the target) and costs
//! a URL parse per request. Hostile input wants neither: [`RawConn`] writes the request
//! target, headers and body as given, over one HTTP/1.1 connection it re-opens when the
//! server closes it. It speaks plain `http://` without a proxy; for `https://` or a proxied
//! target, [`RawConn::new`] says why not and callers use the general client.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::config::Network;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// No connection to the target.
    #[error("cannot connect to {addr}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// What the connect call said.
        #[source]
        source: std::io::Error,
    },
    /// The connection's set-up or the exchange failed.
    #[error("the exchange failed")]
    Exchange(#[source] hyper::Error),
    /// The answer's body broke off.
    #[error("the answer's body broke off after {read} bytes")]
    Body {
        /// Bytes read before it broke off.
        read: usize,
        /// What broke.
        #[source]
        source: hyper::Error,
    },
    /// Connecting or the whole exchange took longer than the target's timeouts.
    #[error("no answer within {0:.1} s")]
    Timeout(f64),
}

/// An answer: status, headers, and the body up to a cap.
#[derive(Debug)]
pub struct RawAnswer {
    /// The status and headers (the body is in [`RawAnswer::body`]).
    pub head: http::response::Parts,
    /// The body, at most the cap given to [`RawConn::send`].
    pub body: Vec<u8>,
    /// The body was longer than the cap (the rest was dropped with the connection).
    pub truncated: bool,
}

/// The connection half that does the I/O; polled by whoever awaits an exchange on it.
type Conn = Pin<Box<http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>>;

/// One HTTP/1.1 connection to a plain-`http` target, re-opened on demand. The connection is
/// driven in the caller's task (no task of its own), so an exchange costs no hand-over
/// between tasks or threads.
pub struct RawConn {
    addr: String,
    host: HeaderValue,
    open: Option<(SendRequest<Full<Bytes>>, Conn)>,
    timeout: f64,
    connect_timeout: f64,
}

/// Awaits `fut` while driving `conn`'s I/O; a connection that ends is dropped (its pending
/// exchange then fails with hyper's error).
async fn along<F: Future>(conn: &mut Option<Conn>, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if let Some(c) = conn
            && c.as_mut().poll(cx).is_ready()
        {
            *conn = None;
        }
        fut.as_mut().poll(cx)
    })
    .await
}

impl RawConn {
    /// A sender for `base` (`http://host:port[/prefix]`), or why there cannot be one.
    pub fn new(base: &str, network: &Network) -> Result<RawConn, String> {
        if network.proxy.is_some() {
            return Err("the target is reached through a proxy".into());
        }
        let Some(rest) = base.strip_prefix("http://") else {
            return Err("the target is not plain http://".into());
        };
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("cannot connect directly to `{base}`"));
        }
        let host = HeaderValue::from_str(authority)
            .map_err(|_| format!("`{authority}` is not a host name"))?;
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let addr = if has_port {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(RawConn {
            addr,
            host,
            open: None,
            timeout: network.timeout,
            connect_timeout: network.connect_timeout,
        })
    }

    /// Sends `req` (its URI in origin form: path and query only) and reads the answer's body
    /// up to `cap` bytes. A `Host` header is added when `req` has none. A request that the
    /// server never read because it had closed the connection is sent again, once, on a new
    /// connection.
    pub async fn send(
        &mut self,
        mut req: Request<Full<Bytes>>,
        cap: usize,
    ) -> Result<RawAnswer, RawError> {
        if !req.headers().contains_key(HOST) {
            req.headers_mut().insert(HOST, self.host.clone());
        }
        let limit = Duration::from_secs_f64(self.timeout);
        match tokio::time::timeout(limit, self.exchange(req, cap)).await {
            Ok(r) => r,
            Err(_) => {
                self.open = None;
                Err(RawError::Timeout(self.timeout))
            }
        }
    }

    async fn exchange(
        &mut self,
        req: Request<Full<Bytes>>,
        cap: usize,
    ) -> Result<RawAnswer, RawError> {
        let (mut sender, conn) = self.take_ready().await?;
        let mut conn = Some(conn);
        let resp = match along(&mut conn, sender.try_send_request(req)).await {
            Ok(r) => r,
            Err(mut e) => {
                // Never written: the connection had closed under it. Once more, fresh.
                let Some(req) = e.take_message() else {
                    return Err(RawError::Exchange(e.into_error()));
                };
                let (fresh, c) = self.connect().await?;
                (sender, conn) = (fresh, Some(c));
                along(&mut conn, sender.send_request(req))
                    .await
                    .map_err(RawError::Exchange)?
            }
        };
        let answer = read(&mut conn, resp, cap).await?;
        // Kept for the next request unless it ended or its answer was cut short.
        if let Some(c) = conn
            && !answer.truncated
        {
            self.open = Some((sender, c));
        }
        Ok(answer)
    }

    /// The open connection once it can take a request, or a new one.
    async fn take_ready(&mut self) -> Result<(SendRequest<Full<Bytes>>, Conn), RawError> {
        if let Some((mut sender, c)) = self.open.take() {
            let mut conn = Some(c);
            if along(&mut conn, sender.ready()).await.is_ok()
                && let Some(c) = conn
            {
                return Ok((sender, c));
            }
        }
        self.connect().await
    }

    async fn connect(&mut self) -> Result<(SendRequest<Full<Bytes>>, Conn), RawError> {
        let limit = Duration::from_secs_f64(self.connect_timeout);
        let stream = match tokio::time::timeout(limit, TcpStream::connect(&self.addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => {
                return Err(RawError::Connect {
                    addr: self.addr.clone(),
                    source,
                });
            }
            Err(_) => return Err(RawError::Timeout(self.connect_timeout)),
        };
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(RawError::Exchange)?;
        Ok((sender, Box::pin(conn)))
    }
}

/// Reads the body up to `cap` (past it, the rest is left to die with the connection).
async fn read(
    conn: &mut Option<Conn>,
    resp: Response<Incoming>,
    cap: usize,
) -> Result<RawAnswer, RawError> {
    let (head, mut incoming) = resp.into_parts();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(frame) = along(conn, incoming.frame()).await {
        let frame = frame.map_err(|source| RawError::Body {
            read: body.len(),
            source,
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            truncated = true;
            break;
        }
    }
    Ok(RawAnswer {
        head,
        body,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers each of `n` connections' first request with its request line
    /// as the body, then closes.
    async fn echo_line_server(n: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for _ in 0..n {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 8192];
                let mut got = 0;
                while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                    got += s.read(&mut buf[got..]).await.unwrap();
                }
                let head = String::from_utf8_lossy(&buf[..got]).to_string();
                let line = head.lines().next().unwrap_or_default().to_string();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{line}",
                    line.len()
                );
                s.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        format!("http://{addr}")
    }

    fn get(target: &str) -> Request<Full<Bytes>> {
        let mut r = Request::new(Full::new(Bytes::new()));
        *r.uri_mut() = http::Uri::try_from(target).unwrap();
        r
    }

    #[tokio::test]
    async fn the_target_goes_out_as_built_and_a_closed_connection_is_reopened() {
        let base = echo_line_server(2).await;
        let mut conn = RawConn::new(&base, &Network::default()).unwrap();
        let a = conn
            .send(get("/v2/images/../x/%2F/members"), 1 << 20)
            .await
            .unwrap();
        assert_eq!(a.head.status, 200);
        assert_eq!(a.body, b"GET /v2/images/../x/%2F/members HTTP/1.1");
        // The server closed after answering; the next request gets a new connection.
        let b = conn.send(get("/again"), 1 << 20).await.unwrap();
        assert_eq!(b.body, b"GET /again HTTP/1.1");
    }

    #[tokio::test]
    async fn a_body_past_the_cap_is_cut_and_marked() {
        let base = echo_line_server(1).await;
        let mut conn = RawConn::new(&base, &Network::default()).unwrap();
        let a = conn.send(get("/0123456789"), 8).await.unwrap();
        assert!(a.truncated);
        assert_eq!(a.body, b"GET /012");
    }

    #[tokio::test]
    async fn no_server_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let mut conn = RawConn::new(&base, &Network::default()).unwrap();
        let e = conn.send(get("/"), 16).await.unwrap_err();
        assert!(matches!(e, RawError::Connect { .. }), "{e:?}");
    }

    #[test]
    fn only_plain_http_without_a_proxy() {
        let net = Network::default();
        assert!(RawConn::new("https://example.org", &net).is_err());
        assert!(RawConn::new("http://user@host:1", &net).is_err());
        let proxied = Network {
            proxy: Some("http://proxy:3128".into()),
            ..Network::default()
        };
        assert!(RawConn::new("http://127.0.0.1:1", &proxied).is_err());
        let c = RawConn::new("http://localhost/prefix", &net).unwrap();
        assert_eq!(c.addr, "localhost:80");
        assert_eq!(c.host, "localhost");
    }
}
