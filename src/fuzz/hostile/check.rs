//! The properties every answer must keep ([`Property`]), pure: a request and its answer in,
//! violations out. No HTTP here.

use reqwest::Method;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::request::{Req, excerpt};
use super::{ALLOWED_STATUSES, Property};

/// What the checks need of an answer.
pub(super) struct Answer {
    pub status: u16,
    /// `Content-Type` is `application/json` (any parameters).
    pub json_labelled: bool,
    /// An `Allow` header came.
    pub allow: bool,
    /// The body (or as much of it as was read).
    pub body: Vec<u8>,
    /// The body was longer than what was read.
    pub truncated: bool,
}

/// The methods the image API uses. Any other a server may refuse with 501 Not Implemented
/// (RFC 9110, section 15.6.2: a method it does not recognise) as well as with 405.
const API_METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

/// `501` to a method the image API does not use: correct HTTP, not a server fault.
pub(super) fn not_implemented_method(method: &Method, status: u16) -> bool {
    status == 501 && !API_METHODS.contains(method)
}

/// The properties of one answer. `faults_injected`: 500 and 503 are expected now and then.
pub(super) fn check(req: &Req, a: &Answer, faults_injected: bool) -> Vec<(Property, String)> {
    let mut v = Vec::new();
    let s = a.status;
    let shown = || {
        if a.body.is_empty() {
            "(empty body)".to_string()
        } else {
            excerpt(&a.body, 160)
        }
    };
    let excused =
        (faults_injected && (s == 500 || s == 503)) || not_implemented_method(&req.method, s);
    if s >= 500 && !excused {
        v.push((Property::No5xx, format!("status {s}: {}", shown())));
    }
    if !ALLOWED_STATUSES.contains(&s) && !excused {
        v.push((
            Property::KnownStatus,
            format!("status {s} is not one the image API gives"),
        ));
    }
    let head = req.method == Method::HEAD;
    if !head
        && a.json_labelled
        && !a.body.is_empty()
        && !a.truncated
        && let Err(e) = serde_json::from_slice::<IgnoredAny>(&a.body)
    {
        v.push((
            Property::JsonParses,
            format!(
                "status {s}, labelled application/json, does not parse ({e}): {}",
                shown()
            ),
        ));
    }
    let early_refusal = matches!(s, 413 | 414 | 431) && a.body.is_empty();
    if req.accept_json && s >= 400 && !head && !early_refusal && !a.truncated {
        let keystone = req.path.starts_with("/v3");
        if let Some(why) = error_shape(s, &a.body, keystone) {
            v.push((
                Property::JsonError,
                format!("status {s} to Accept: application/json: {why}: {}", shown()),
            ));
        }
    }
    if s == 405 && !a.allow {
        v.push((Property::AllowOn405, "405 without Allow".into()));
    }
    if (200..300).contains(&s)
        && req.path.starts_with("/v2/images")
        && req.method != Method::OPTIONS
    {
        authorised(req, s, &mut v);
    }
    v
}

/// The access properties of a 2xx under `/v2/images`.
fn authorised(req: &Req, s: u16, v: &mut Vec<(Property, String)>) {
    if req.auth.unauthenticated() {
        v.push((
            Property::NoAnonymousSuccess,
            format!("status {s} without a valid X-Auth-Token"),
        ));
    }
    if req.names_private
        && let Some(p) = req.auth.persona()
        && p != "owner"
        && p != "admin"
    {
        v.push((
            Property::PrivateStaysPrivate,
            format!("status {s} for `{p}` on the private image"),
        ));
    }
}

/// Why `body` is not the error document for `status`, or `None` when it is. Under `/v3`
/// (`keystone`), Keystone's `{"error": {"code": <status>, "message", "title"}}` also does.
fn error_shape(status: u16, body: &[u8], keystone: bool) -> Option<String> {
    let doc: Value = match serde_json::from_slice(body) {
        Ok(d) => d,
        Err(_) => return Some("not JSON".into()),
    };
    let Some(obj) = doc.as_object() else {
        return Some("not a JSON object".into());
    };
    if keystone && let Some(err) = obj.get("error").and_then(Value::as_object) {
        let strings = ["message", "title"]
            .iter()
            .all(|k| err.get(*k).is_some_and(Value::is_string));
        return match err.get("code").and_then(Value::as_u64) {
            Some(c) if c == u64::from(status) && strings => None,
            _ => Some(format!(
                "Keystone error without `code` {status} and string `message` and `title`"
            )),
        };
    }
    for key in ["message", "code", "title"] {
        if !obj.get(key).is_some_and(Value::is_string) {
            return Some(format!("no string `{key}`"));
        }
    }
    let code = obj["code"].as_str().unwrap_or_default();
    if !code.starts_with(&status.to_string()) {
        return Some(format!("`code` {code:?} does not start with {status}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::generate::generate;
    use super::super::generate::tests::ctx;
    use super::*;

    #[test]
    fn error_shape_wants_message_code_and_title() {
        let ok = br#"{"message": "m", "code": "404 Not Found", "title": "Not Found"}"#;
        assert_eq!(error_shape(404, ok, false), None);
        assert!(error_shape(400, ok, false).is_some());
        assert!(error_shape(404, b"[]", false).is_some());
        assert!(error_shape(404, b"", false).is_some());
        assert!(
            error_shape(
                404,
                br#"{"message": "m", "code": 404, "title": "t"}"#,
                false
            )
            .is_some()
        );
        let ks = br#"{"error": {"code": 400, "message": "m", "title": "Bad Request"}}"#;
        assert_eq!(error_shape(400, ks, true), None);
        assert!(error_shape(400, ks, false).is_some());
        assert!(error_shape(401, ks, true).is_some());
    }

    fn answer(status: u16, body: &[u8]) -> Answer {
        Answer {
            status,
            json_labelled: true,
            allow: status == 405,
            body: body.to_vec(),
            truncated: false,
        }
    }

    fn properties(req: &Req, a: &Answer) -> Vec<Property> {
        check(req, a, false).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn a_501_to_an_unrecognised_method_is_no_fault_but_its_body_is_checked() {
        let c = ctx(7);
        let mut req = generate(&c, 0);
        req.method = Method::from_bytes(b"FROB").unwrap();
        req.path = "/v2/images".into();
        req.accept_json = true;
        let good =
            br#"{"message": "m", "code": "501 Not Implemented", "title": "Not Implemented"}"#;
        assert_eq!(properties(&req, &answer(501, good)), vec![]);
        // 405 (with Allow) is as good.
        let good405 = br#"{"message": "m", "code": "405 Method Not Allowed", "title": "t"}"#;
        assert_eq!(properties(&req, &answer(405, good405)), vec![]);
        // The error body must still be well-formed.
        assert_eq!(
            properties(&req, &answer(501, br#"{"message": "m"}"#)),
            vec![Property::JsonError]
        );
        // Lower-case methods are other methods (names are case-sensitive).
        req.method = Method::from_bytes(b"get").unwrap();
        assert_eq!(properties(&req, &answer(501, good)), vec![]);
        // A 501 to a method the API uses is a fault; so is a 500 to an odd one.
        req.method = Method::GET;
        let p = properties(&req, &answer(501, good));
        assert!(
            p.contains(&Property::No5xx) && p.contains(&Property::KnownStatus),
            "{p:?}"
        );
        req.method = Method::from_bytes(b"FROB").unwrap();
        let boom = br#"{"message": "m", "code": "500 Internal Server Error", "title": "t"}"#;
        assert!(properties(&req, &answer(500, boom)).contains(&Property::No5xx));
        assert!(not_implemented_method(&Method::TRACE, 501));
        assert!(!not_implemented_method(&Method::PUT, 501));
    }
}
