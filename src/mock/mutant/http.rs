//! Mutants of the mock's HTTP layer: each bends the finished response (a status, a header,
//! the error format), so the router and the response builder stay honest.

use warp::http::{HeaderValue, Method, Response, StatusCode};

use super::Mutant;

type Reply = Response<Vec<u8>>;

/// The response `r` to `method` on `path` as the HTTP-layer mutant `m` would send it.
/// `text` renders an error as plain text (for `errors-ignore-accept`).
pub(crate) fn reply(
    m: Mutant,
    method: &Method,
    path: &str,
    mut r: Reply,
    text: impl Fn(StatusCode, &str) -> Vec<u8>,
) -> Reply {
    let status = r.status();
    let headers = r.headers_mut();
    let member_row = path.trim_end_matches('/').rsplit('/').nth(1) == Some("members");
    match m {
        Mutant::MissingAllow => {
            headers.remove("allow");
        }
        Mutant::WrongMethodIs404 if status == StatusCode::METHOD_NOT_ALLOWED => {
            headers.remove("allow");
            *r.status_mut() = StatusCode::NOT_FOUND;
        }
        Mutant::MissingWwwAuthenticate => {
            headers.remove("www-authenticate");
        }
        Mutant::MissingRequestId => {
            headers.remove("x-openstack-request-id");
        }
        Mutant::DeleteAnswers200
            if method == Method::DELETE && member_row && status == StatusCode::NO_CONTENT =>
        {
            *r.status_mut() = StatusCode::OK;
        }
        Mutant::AddAnswers201
            if method == Method::POST
                && path.trim_end_matches('/').ends_with("/members")
                && status == StatusCode::OK =>
        {
            *r.status_mut() = StatusCode::CREATED;
        }
        Mutant::ErrorsIgnoreAccept if status.as_u16() >= 400 => {
            let json = headers
                .get("content-type")
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            let message = serde_json::from_slice::<serde_json::Value>(r.body())
                .ok()
                .and_then(|v| v["message"].as_str().map(String::from));
            if let (true, Some(message)) = (json, message) {
                r.headers_mut().insert(
                    "content-type",
                    HeaderValue::from_static("text/plain; charset=UTF-8"),
                );
                *r.body_mut() = text(status, &message);
            }
        }
        _ => {}
    }
    r
}
