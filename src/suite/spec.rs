//! The documentation as data: operations and their response-code tables (`specs/*.yaml`).

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::matrix::Probe;
use crate::error::{DataError, line_of};

/// One operation of the API, as documented (or, for set-up operations, as observed).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// Stable snake_case name, e.g. `delete_image_member`; cases cite it.
    pub operation: String,
    /// Human title.
    pub title: String,
    /// Where the facts come from: a documentation page, or `reference-behaviour`.
    pub source: String,
    /// Every documentation page that documents the operation (`doc:LABEL` of the seed set,
    /// `api-ref:FILE#SLUG` of Glance's api-ref), each listed in `docs/citations.yaml`.
    #[serde(default)]
    pub cites: Vec<String>,
    /// Where the cited documentation sets list different codes: which set the cases follow
    /// for those codes and why (in our words; the reference's behaviour decides). Present
    /// exactly when the spec cites both sets and their codes differ (`tests/citations.rs`).
    #[serde(default)]
    pub follows: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path on the wire, with `{parameters}`, e.g. `/v2/images/{image_id}/members`.
    pub path: String,
    /// URI and query parameters.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// What the request carries.
    pub request_body: BodyShape,
    /// What a success returns.
    pub response_body: BodyShape,
    /// The response-code table.
    pub responses: Vec<Response>,
    /// The Image API version the operation appeared in, as written (`"2.N"`).
    #[serde(default, rename = "since")]
    since_text: Option<String>,
    /// That version as `(2, N)`: every case of the operation needs `api:2.N`.
    #[serde(skip)]
    pub since: Option<(u32, u32)>,
    /// The authorization matrix's rows of this operation and the request its cells send.
    #[serde(default)]
    pub matrix: Option<Probe>,
}

/// A URI or query parameter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Name as in the path template.
    pub name: String,
    /// `path` or `query`.
    #[serde(rename = "in")]
    pub location: ParamIn,
    /// Documented type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// In our words.
    pub description: String,
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamIn {
    /// In the path.
    Path,
    /// In the query string.
    Query,
    /// In a request header.
    Header,
}

/// Parameter types used by the documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// A UUID.
    Uuid,
    /// Any string.
    String,
    /// A whole number (query parameters such as `limit`).
    Integer,
}

/// The shape of a request or response body: `none`, `data` (image data, bytes as
/// `application/octet-stream`), or `{json: {fields: [...]}}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum BodyShape {
    /// The word `none` (no body at all) or `data` (image data).
    Keyword(String),
    /// A JSON object.
    Json {
        /// The object's fields.
        json: JsonShape,
    },
}

/// The fields of a JSON object body.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonShape {
    /// Field names; `required` marks the ones that must be present.
    pub fields: Vec<Field>,
}

/// A body field.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Key.
    pub name: String,
    /// Whether it must be present.
    #[serde(default)]
    pub required: bool,
    /// In our words.
    pub description: String,
}

/// One row of a response-code table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Status code.
    pub code: u16,
    /// The table's name for it.
    pub name: String,
    /// What it means here, in our words.
    pub meaning: String,
    /// Whether the documentation's table lists it (`false`: observed on the reference only).
    #[serde(default = "yes")]
    pub documented: bool,
    /// The capability a target needs to give this code on demand, if any.
    #[serde(default)]
    pub capability: Option<String>,
    /// Why no case can provoke this code, when none can.
    #[serde(default)]
    pub not_provokable: Option<String>,
    /// Where documentation and reference disagree, or anything else worth knowing.
    #[serde(default)]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

pub use crate::target::CAPABILITIES;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

impl Operation {
    /// Parses and validates one spec file.
    pub(crate) fn parse(path: &Path, src: &str) -> Result<Operation, Vec<DataError>> {
        let mut op: Operation =
            serde_yaml::from_str(src).map_err(|e| vec![DataError::yaml(path, &e)])?;
        let mut errs = Vec::new();
        let mut bad = |key: &str, msg: String| {
            errs.push(DataError::invalid(path, line_of(src, key), msg));
        };
        if let Some(text) = &op.since_text {
            op.since = since(text);
            if op.since.is_none() {
                bad(
                    "since",
                    format!("since `{text}` is not an Image API version 2.N"),
                );
            }
        }
        if !is_snake(&op.operation) {
            bad(
                "operation",
                format!("operation `{}` must be snake_case", op.operation),
            );
        }
        if !METHODS.contains(&op.method.as_str()) {
            bad(
                "method",
                format!(
                    "method `{}` is not one of {}",
                    op.method,
                    METHODS.join(", ")
                ),
            );
        }
        if !op.path.starts_with("/v2/") {
            bad("path", format!("path `{}` must start with /v2/", op.path));
        }
        for p in &op.parameters {
            if p.location == ParamIn::Path && !op.path.contains(&format!("{{{}}}", p.name)) {
                bad(
                    "name",
                    format!(
                        "path parameter `{}` does not occur in `{}`",
                        p.name, op.path
                    ),
                );
            }
        }
        for (key, shape) in [
            ("request_body", &op.request_body),
            ("response_body", &op.response_body),
        ] {
            if let BodyShape::Keyword(k) = shape
                && k != "none"
                && k != "data"
                && !(k == "ignored" && key == "request_body")
            {
                bad(
                    key,
                    format!(
                        "{key} must be `none`, `data` or `{{json: {{fields: [...]}}}}`, not `{k}`"
                    ),
                );
            }
        }
        if op.follows.as_ref().is_some_and(|s| s.trim().len() < 20) {
            bad(
                "follows",
                "follows needs a sentence saying which documentation set the cases follow \
                 and why"
                    .into(),
            );
        }
        if op.responses.is_empty() {
            bad("responses", "the response-code table is empty".into());
        }
        let mut seen = BTreeSet::new();
        for r in &op.responses {
            if !(100..=599).contains(&r.code) {
                bad("code", format!("{} is not an HTTP status code", r.code));
            }
            if !seen.insert(r.code) {
                bad(
                    "code",
                    format!("code {} appears twice in the table", r.code),
                );
            }
            if let Some(c) = &r.capability
                && !CAPABILITIES.contains(&c.as_str())
            {
                bad(
                    "capability",
                    format!(
                        "unknown capability `{c}`; known: {}",
                        CAPABILITIES.join(", ")
                    ),
                );
            }
            if r.not_provokable
                .as_ref()
                .is_some_and(|s| s.trim().len() < 10)
            {
                bad(
                    "not_provokable",
                    format!(
                        "code {}: not_provokable needs a reason, not just a word",
                        r.code
                    ),
                );
            }
        }
        if errs.is_empty() { Ok(op) } else { Err(errs) }
    }

    /// Whether a concrete path fits this operation's template (`{x}` matches one segment).
    pub fn matches_path(&self, path: &str) -> bool {
        let t: Vec<&str> = self.path.split('/').collect();
        let p: Vec<&str> = path.split('/').collect();
        t.len() == p.len()
            && t.iter()
                .zip(&p)
                .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
    }

    /// The table row for `code`, if the table lists it.
    pub fn response(&self, code: u16) -> Option<&Response> {
        self.responses.iter().find(|r| r.code == code)
    }
}

/// `2.N` as `(2, N)`.
fn since(text: &str) -> Option<(u32, u32)> {
    let minor = text.strip_prefix("2.")?;
    let digits = !minor.is_empty() && minor.len() <= 3 && minor.bytes().all(|b| b.is_ascii_digit());
    Some((2, minor.parse().ok().filter(|_| digits)?))
}

pub(crate) fn is_snake(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
