//! `kind`: what sort of body comes back: none, a JSON object or array, an error in the
//! reference's format, or image data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::BodyExpect;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::Validation;
use crate::target::Answer;

/// What kind of body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// Zero bytes.
    Empty,
    /// A JSON object.
    Json,
    /// A JSON array (a list at the top: the nodes caching an image).
    JsonList,
    /// An error in the reference's JSON format: `message`, `code` (`"<status> <reason>"`),
    /// `title`.
    Error,
    /// Image data: exactly the bytes of `equals`.
    Data,
}

impl BodyKind {
    /// The name a case file gives it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BodyKind::Empty => "empty",
            BodyKind::Json => "json",
            BodyKind::JsonList => "json_list",
            BodyKind::Error => "error",
            BodyKind::Data => "data",
        }
    }

    /// Image data is only ever checked byte for byte.
    pub(super) fn validate(self, body: &BodyExpect, v: &mut Validation, at: &Node) {
        if self == BodyKind::Data && body.equals.0.is_none() {
            v.bad(
                &at.at("kind"),
                "kind: data needs `equals`, the exact bytes".into(),
            );
        }
    }

    /// What the schema of a body says beside its fields: `data` takes `equals`.
    pub(super) fn schema_rules() -> Vec<Value> {
        vec![serde_json::json!({
            "if": {"properties": {"kind": {"const": "data"}}},
            "then": {"required": ["equals"]},
        })]
    }

    /// Checks the body is of this kind; then `Ok` with the body as JSON for `json`,
    /// `json_list` and `error`, which the other checks read. `Err` when the body is not JSON at all.
    pub(super) fn eval(
        self,
        answer: &Answer,
        problems: &mut Vec<String>,
    ) -> Result<Option<Value>, ()> {
        match self {
            BodyKind::Data => return Ok(None),
            BodyKind::Empty => {
                if !answer.body.is_empty() {
                    problems.push(format!(
                        "expected an empty body, got {} bytes",
                        answer.body.len()
                    ));
                }
                return Ok(None);
            }
            BodyKind::Json | BodyKind::JsonList | BodyKind::Error => {}
        }
        let what = match self {
            BodyKind::JsonList => "a JSON array",
            _ => "a JSON object",
        };
        let json = match serde_json::from_slice::<Value>(&answer.body) {
            Ok(v @ Value::Array(_)) if self == BodyKind::JsonList => v,
            Ok(v @ Value::Object(_)) if self != BodyKind::JsonList => v,
            Ok(_) => {
                problems.push(format!("expected {what} body, got other JSON"));
                return Err(());
            }
            Err(_) => {
                problems.push(format!("expected {what} body, got something else"));
                return Err(());
            }
        };
        if self == BodyKind::Error {
            error_fields(&json, answer.status, problems);
        }
        Ok(Some(json))
    }
}

/// The reference's error body: `message`, `code` and `title`, the code led by the status.
fn error_fields(json: &Value, status: u16, problems: &mut Vec<String>) {
    for k in ["message", "code", "title"] {
        if json.get(k).is_none() {
            problems.push(format!("error body lacks `{k}`"));
        }
    }
    if let Some(code) = json.get("code") {
        let code = code.as_str().unwrap_or("");
        if !code.starts_with(&status.to_string()) {
            problems.push(format!(
                "error `code` is `{code}`, which does not start with the status {status}"
            ));
        }
    }
}
