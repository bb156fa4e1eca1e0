//! Whether a client's request follows the documentation (a documented operation, the media
//! type it documents, a body of the documented shape), for the request journal. The mock
//! answers as the reference does whatever this says: the verdict shows a client where it
//! leans on the reference's leniency (a `text/plain` member body, say, which Glance reads).

use serde_json::Value;

use crate::model::PATCH_MEDIA_TYPES;
use crate::operations::{Field, Kind, Operation, Takes};

/// What departs from the documentation in a request to `rows` (the rows matching its path);
/// empty when it follows it.
pub(crate) fn problems(
    rows: &[(&'static Operation, Vec<&str>)],
    method: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Vec<String> {
    if rows.is_empty() {
        return vec!["no documented operation has this path".into()];
    }
    let Some((op, _)) = rows.iter().find(|(op, _)| op.method == method) else {
        return vec![format!(
            "{method} is not documented for this path (documented: {})",
            crate::operations::allow(rows)
        )];
    };
    let media = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|c| !c.is_empty());
    let mut out = Vec::new();
    match op.takes {
        Takes::Nothing if !body.is_empty() => out.push(format!(
            "{} is documented without a request body; this one has {} bytes",
            op.name,
            body.len()
        )),
        Takes::Nothing => {}
        Takes::Object { fields, open } => {
            if media.as_deref() != Some("application/json") {
                out.push(media_problem(media.as_deref(), "application/json"));
            }
            object_problems(fields, open, body, &mut out);
        }
        Takes::Data => {
            if media.as_deref() != Some("application/octet-stream") {
                out.push(media_problem(media.as_deref(), "application/octet-stream"));
            }
        }
        Takes::Patch => {
            let types: Vec<&str> = PATCH_MEDIA_TYPES.iter().map(|(t, _)| *t).collect();
            if !media.as_deref().is_some_and(|m| types.contains(&m)) {
                out.push(media_problem(media.as_deref(), &types.join(" or ")));
            }
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(ops)) if ops.iter().all(Value::is_object) => {}
                _ => out.push("the body is not a JSON array of patch operations".into()),
            }
        }
    }
    out
}

fn media_problem(media: Option<&str>, documented: &str) -> String {
    match media {
        None => format!("no Content-Type; documented: {documented}"),
        Some(m) => format!("Content-Type {m}; documented: {documented}"),
    }
}

fn object_problems(fields: &[Field], open: bool, body: &[u8], out: &mut Vec<String>) {
    let map = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => {
            out.push("the body is not a JSON object".into());
            return;
        }
    };
    for f in fields.iter().filter(|f| f.required) {
        if !map.contains_key(f.name) {
            out.push(format!("the required field `{}` is missing", f.name));
        }
    }
    for (key, value) in &map {
        match fields.iter().find(|f| f.name == key) {
            Some(f) if !holds(f.kind, value) => {
                out.push(format!("field `{key}`: expected {}", describe(f.kind)))
            }
            Some(_) => {}
            None if open && value.is_string() => {}
            None if open => out.push(format!("extra property `{key}` is not a string")),
            None => out.push(format!("field `{key}` is not documented")),
        }
    }
}

fn holds(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Text => v.is_string(),
        Kind::TextOrNull => v.is_string() || v.is_null(),
        Kind::Bool => v.is_boolean(),
        Kind::Count => v.is_u64(),
        Kind::Texts => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::OneOf(values) => v.as_str().is_some_and(|s| values.contains(&s)),
        Kind::Object => v.is_object() || v.is_null(),
        Kind::Objects => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        Kind::Number => v.is_number(),
        Kind::Any => true,
    }
}

fn describe(kind: Kind) -> String {
    match kind {
        Kind::Text => "a string".into(),
        Kind::TextOrNull => "a string or null".into(),
        Kind::Bool => "true or false".into(),
        Kind::Count => "a whole number from 0".into(),
        Kind::Texts => "a list of strings".into(),
        Kind::OneOf(values) => format!("one of {}", values.join(", ")),
        Kind::Object => "a JSON object".into(),
        Kind::Objects => "a list of JSON objects".into(),
        Kind::Number => "a number".into(),
        Kind::Any => "any JSON value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::problems;
    use crate::operations::{matching, table};

    fn verdict(method: &str, path: &str, ct: Option<&str>, body: &str) -> Vec<String> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        problems(&matching(table(), &segs), method, ct, body.as_bytes())
    }

    #[test]
    fn documented_requests_have_no_problems() {
        let json = Some("application/json; charset=UTF-8");
        assert!(verdict("GET", "/v2/images", None, "").is_empty());
        let create = r#"{"name": "x", "visibility": "private", "tags": ["a"], "min_ram": 1, "colour": "red"}"#;
        assert!(verdict("POST", "/v2/images", json, create).is_empty());
        assert!(verdict("POST", "/v2/images/i/members", json, r#"{"member": "p"}"#).is_empty());
        assert!(
            verdict(
                "PUT",
                "/v2/images/i/members/p",
                json,
                r#"{"status": "accepted"}"#
            )
            .is_empty()
        );
        let patch = r#"[{"op": "replace", "path": "/name", "value": "y"}]"#;
        let media = Some("application/openstack-images-v2.1-json-patch");
        assert!(verdict("PATCH", "/v2/images/i", media, patch).is_empty());
    }

    #[test]
    fn each_departure_is_named() {
        let json = Some("application/json");
        let said = |v: Vec<String>, what: &str| {
            assert!(v.iter().any(|p| p.contains(what)), "{what}: {v:?}");
        };
        said(
            verdict("GET", "/v2/nothing", None, ""),
            "no documented operation",
        );
        said(
            verdict("DELETE", "/v2/images", None, ""),
            "documented: GET, POST",
        );
        said(
            verdict("GET", "/v2/images/i", None, "{}"),
            "without a request body",
        );
        said(
            verdict(
                "POST",
                "/v2/images/i/members",
                Some("text/plain"),
                r#"{"member": "p"}"#,
            ),
            "Content-Type text/plain",
        );
        said(
            verdict("POST", "/v2/images/i/members", None, "{}"),
            "no Content-Type",
        );
        said(
            verdict("POST", "/v2/images/i/members", json, "{}"),
            "`member` is missing",
        );
        said(
            verdict(
                "POST",
                "/v2/images/i/members",
                json,
                r#"{"member": "p", "x": 1}"#,
            ),
            "`x` is not documented",
        );
        said(
            verdict("POST", "/v2/images/i/members", json, "[1]"),
            "not a JSON object",
        );
        said(
            verdict(
                "PUT",
                "/v2/images/i/members/p",
                json,
                r#"{"status": "maybe"}"#,
            ),
            "one of pending, accepted, rejected",
        );
        said(
            verdict("POST", "/v2/images", json, r#"{"min_ram": -1}"#),
            "whole number",
        );
        said(
            verdict("POST", "/v2/images", json, r#"{"colour": 3}"#),
            "not a string",
        );
        said(
            verdict(
                "PATCH",
                "/v2/images/i",
                json,
                r#"[{"op": "remove", "path": "/x"}]"#,
            ),
            "documented: application/openstack-images-v2.0-json-patch or",
        );
        said(
            verdict(
                "PATCH",
                "/v2/images/i",
                Some("application/openstack-images-v2.1-json-patch"),
                "{}",
            ),
            "not a JSON array",
        );
    }
}
