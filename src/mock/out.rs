//! Responses as the reference writes them: the request id, and error bodies in the format
//! `Accept` asks for (JSON, HTML or plain text).

use serde::Serialize;
use warp::http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::accept::{self, Format};
use crate::model::{ApiError, ErrorKind, PATCH_MEDIA_TYPES};

/// A finished response, its body in memory.
pub(crate) type Reply = Response<Vec<u8>>;

pub(super) fn plain(status: StatusCode, msg: &str) -> Reply {
    let mut r = Response::new(msg.as_bytes().to_vec());
    *r.status_mut() = status;
    r
}

/// How error bodies are written, from `Accept`.
pub(super) fn format_of(headers: &HeaderMap) -> Format {
    match headers.get("accept").map(|v| v.to_str()) {
        None => accept::format_for(""),
        Some(Ok(v)) => accept::format_for(v),
        // Bytes outside visible ASCII: a header the reference cannot read either.
        Some(Err(_)) => accept::format_for("\u{0}"),
    }
}

/// Builds responses for one request: the request id and error format are fixed up front.
#[derive(Clone, Debug)]
pub(super) struct Out {
    pub(super) request_id: Option<HeaderValue>,
    pub(super) format: Format,
}

impl Out {
    /// The same builder for answers that carry no request id (version discovery, OPTIONS,
    /// and the auth layer's 401, which the reference sends before it adds ids).
    pub(super) fn unmarked(&self) -> Out {
        Out {
            request_id: None,
            format: self.format,
        }
    }

    pub(super) fn finish(&self, mut r: Reply) -> Reply {
        if let Some(id) = &self.request_id {
            r.headers_mut().insert("x-openstack-request-id", id.clone());
        }
        r
    }

    pub(super) fn json<T: Serialize>(&self, status: StatusCode, value: &T) -> Reply {
        let mut body = Vec::with_capacity(256);
        if serde_json::to_writer(&mut body, value).is_err() {
            body.clear();
        }
        self.bytes(status, "application/json", body)
    }

    pub(super) fn bytes(
        &self,
        status: StatusCode,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Reply {
        let mut r = Response::new(body);
        *r.status_mut() = status;
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static(content_type));
        self.finish(r)
    }

    pub(super) fn empty(&self, status: StatusCode) -> Reply {
        let mut r = Response::new(Vec::new());
        *r.status_mut() = status;
        self.finish(r)
    }

    /// An error in the reference's format for the request's `Accept`.
    pub(super) fn error(&self, status: StatusCode, message: &str) -> Reply {
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

    pub(super) fn api_error(&self, e: &ApiError) -> Reply {
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

    pub(super) fn not_allowed(&self, allow: &str) -> Reply {
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
pub(super) fn status_line(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}

/// A plain-text error body in the reference's layout.
pub(super) fn text_error(status: StatusCode, message: &str) -> Vec<u8> {
    format!("{}\n\n{message}\n\n   ", status_line(status)).into_bytes()
}

pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn request_id(headers: &HeaderMap) -> HeaderValue {
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

/// The response builder for a request: request id and error format. The edge builds it once
/// per request (in its `RequestContext`), so every answer has the same id.
pub(super) fn out_for(headers: &HeaderMap) -> Out {
    Out {
        request_id: Some(request_id(headers)),
        format: format_of(headers),
    }
}
