//! Cases as data (`cases/<operation>/<code>/<name>.yaml`): set-up, one request, the expected
//! answer, and follow-up checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::spec::{CAPABILITIES, Operation, is_snake};
use crate::error::{DataError, line_of};

/// The personas a target can provide. `owner`, `member` and `stranger` are required of every
/// target; the others are optional and the cases that use them are ignored without them.
pub const PERSONAS: &[&str] = &["owner", "member", "other_member", "stranger", "admin"];
/// Personas every target must have.
pub const REQUIRED_PERSONAS: &[&str] = &["owner", "member", "stranger"];

/// One case, as loaded and validated.
#[derive(Clone, Debug)]
pub struct Case {
    /// `<operation>::<code>::<name>`; the trial name.
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Everything the file says.
    pub file: CaseFile,
    /// Everything the target must offer: capabilities, optional personas, `member-quota`.
    pub needs: BTreeSet<String>,
}

/// The YAML form of a case.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// Stable id, unique in the suite (kebab-case).
    pub id: String,
    /// The spec operation this case cites.
    pub operation: String,
    /// The row of that operation's table this case checks.
    pub code: u16,
    /// One line: what the case shows.
    pub purpose: String,
    /// Capabilities the target must declare (e.g. `fault-injection`).
    #[serde(default)]
    pub requires: Vec<String>,
    /// What must exist before the request.
    #[serde(default)]
    pub setup: Setup,
    /// Requests to send after set-up and before the request under test, each checked.
    #[serde(default)]
    pub before: Vec<Step>,
    /// The request under test.
    pub request: Request,
    /// What must come back.
    pub expect: Expect,
    /// Follow-up requests and their expectations, run in order after the main one.
    #[serde(default)]
    pub then: Vec<Step>,
}

/// Images to create before the request, by placeholder name.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Name → image. The name is usable as `{name}` in paths and bodies.
    #[serde(default)]
    pub images: BTreeMap<String, ImageSetup>,
}

/// An image to create.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSetup {
    /// The image's name (placeholders allowed); by default
    /// `sharecheck-<run id>-<case id>-<image>`. Give several images one name, unique to the
    /// run (e.g. `sharecheck-{run_id}-{random_uuid}`), to find exactly them with `?name=`.
    #[serde(default)]
    pub name: Option<String>,
    /// `private`, `shared` (default), `community` or `public`. Public images are created by
    /// the admin on behalf of the owner (only admins may publish).
    #[serde(default = "shared")]
    pub visibility: String,
    /// Members to add (persona → status reached: pending, accepted or rejected).
    #[serde(default)]
    pub members: BTreeMap<String, String>,
    /// Add placeholder projects until the member quota is reached.
    #[serde(default)]
    pub fill_to_quota: bool,
    /// Delete the image again at the end of set-up.
    #[serde(default)]
    pub deleted: bool,
}

fn shared() -> String {
    "shared".into()
}

/// One HTTP request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Who sends it: a persona, `anonymous` (no token), `empty_token` or `bad_token`.
    #[serde(rename = "as")]
    pub caller: String,
    /// HTTP method.
    pub method: String,
    /// Path with `{placeholders}`.
    pub path: String,
    /// Extra headers (placeholders allowed in values).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (string values may hold placeholders).
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// A body sent byte for byte, for malformed input.
    #[serde(default)]
    pub raw_body: Option<String>,
    /// Send the request again until a status comes back (e.g. a rate limit).
    #[serde(default)]
    pub repeat: Option<Repeat>,
}

/// Repetition of a request until a status appears.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// The status that stops the repetition.
    pub until: u16,
    /// At most this many attempts.
    pub max: u32,
}

/// What a response must look like.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Exact status code.
    pub status: u16,
    /// Body checks.
    #[serde(default)]
    pub body: Option<BodyExpect>,
    /// Header checks, by case-insensitive name.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderExpect>,
}

/// What kind of body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// Zero bytes.
    Empty,
    /// A JSON object.
    Json,
    /// An error in the reference's JSON format: `message`, `code` ("<status> <reason>"),
    /// `title`.
    Error,
}

/// Body checks.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyExpect {
    /// The kind of body.
    pub kind: BodyKind,
    /// Top-level keys that must be present (json).
    #[serde(default)]
    pub keys: Vec<String>,
    /// No top-level keys other than `keys` (json).
    #[serde(default)]
    pub only_keys: bool,
    /// JSON pointer → exact value (strings may hold placeholders).
    #[serde(default)]
    pub values: BTreeMap<String, serde_json::Value>,
    /// JSON pointer → length of the array there.
    #[serde(default)]
    pub lengths: BTreeMap<String, usize>,
    /// The body must validate against `specs/schemas/<schema>.yaml` (json or error).
    #[serde(default)]
    pub schema: Option<String>,
}

/// A header check.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderExpect {
    /// Must be present (`true`) or absent (`false`).
    #[serde(default)]
    pub present: Option<bool>,
    /// Exact value (placeholders allowed).
    #[serde(default)]
    pub equals: Option<String>,
    /// A comma-separated list holding exactly these tokens, in any order (e.g. `Allow`).
    #[serde(default)]
    pub tokens: Option<Vec<String>>,
    /// Value starts with this.
    #[serde(default)]
    pub starts_with: Option<String>,
}

/// A follow-up request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The request.
    pub request: Request,
    /// Its expected answer.
    pub expect: Expect,
}

/// Callers that are not personas.
pub const PSEUDO_CALLERS: &[&str] = &["anonymous", "empty_token", "bad_token"];
/// Placeholders that are not images or personas.
pub const SPECIAL_PLACEHOLDERS: &[&str] = &["random_uuid", "random_project", "run_id"];
/// Every image a case names must start with this, so that clean-up can find it.
const RUN_PREFIX: &str = "sharecheck-{run_id}-";
const STATUSES: &[&str] = &["pending", "accepted", "rejected"];
const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Every `{name}` in a string.
pub(crate) fn placeholders(s: &str) -> impl Iterator<Item = &str> {
    s.split('{')
        .skip(1)
        .filter_map(|chunk| chunk.split_once('}').map(|(name, _)| name))
}

/// Every string inside a JSON value (keys included).
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            json_strings(x, out)
        }),
        _ => {}
    }
}

impl Case {
    /// Parses and validates one case file. `rel` is its path relative to the cases root,
    /// which must be `<operation>/<code>/<name>.yaml`.
    pub(crate) fn parse(
        path: &Path,
        rel: &Path,
        src: &str,
        ops: &[Operation],
        schemas: &[String],
    ) -> Result<Case, Vec<DataError>> {
        let file: CaseFile =
            serde_yaml::from_str(src).map_err(|e| vec![DataError::yaml(path, &e)])?;
        let mut errs = Vec::new();
        let mut bad = |key: &str, msg: String| {
            errs.push(DataError::invalid(path, line_of(src, key), msg));
        };

        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let stem = rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if parts.len() != 3 {
            bad(
                "operation",
                "a case file must live at cases/<operation>/<code>/<name>.yaml".into(),
            );
        } else {
            if parts[0] != file.operation {
                bad(
                    "operation",
                    format!(
                        "operation `{}` does not match the folder `{}`",
                        file.operation, parts[0]
                    ),
                );
            }
            if parts[1] != file.code.to_string() {
                bad(
                    "code",
                    format!(
                        "code {} does not match the folder `{}`",
                        file.code, parts[1]
                    ),
                );
            }
        }
        if !is_snake(&stem) {
            bad("id", format!("file name `{stem}` must be snake_case"));
        }
        if file.id.is_empty()
            || !file
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            bad(
                "id",
                format!("id `{}` must be kebab-case (a-z, 0-9, -)", file.id),
            );
        }
        if file.purpose.trim().is_empty() || file.purpose.contains('\n') {
            bad("purpose", "purpose must be one non-empty line".into());
        }
        match ops.iter().find(|o| o.operation == file.operation) {
            None => bad(
                "operation",
                format!("operation `{}` is not in specs/", file.operation),
            ),
            Some(op) => {
                if op.response(file.code).is_none() {
                    let codes: Vec<String> =
                        op.responses.iter().map(|r| r.code.to_string()).collect();
                    bad(
                        "code",
                        format!(
                            "code {} is not in the table of `{}` ({})",
                            file.code,
                            op.operation,
                            codes.join(", ")
                        ),
                    );
                }
            }
        }
        if file.expect.status != file.code {
            bad(
                "status",
                format!(
                    "the main request expects {} but the case cites code {}",
                    file.expect.status, file.code
                ),
            );
        }

        let mut needs: BTreeSet<String> = BTreeSet::new();
        for r in &file.requires {
            if !CAPABILITIES.contains(&r.as_str()) {
                bad(
                    "requires",
                    format!(
                        "unknown capability `{r}`; known: {}",
                        CAPABILITIES.join(", ")
                    ),
                );
            }
            needs.insert(r.clone());
        }
        let need_persona = |p: &str, needs: &mut BTreeSet<String>| {
            if !REQUIRED_PERSONAS.contains(&p) {
                needs.insert(p.to_string());
            }
        };

        for (name, img) in &file.setup.images {
            if !is_snake(name)
                || PERSONAS.contains(&name.as_str())
                || SPECIAL_PLACEHOLDERS.contains(&name.as_str())
            {
                bad(
                    name,
                    format!(
                        "image name `{name}` must be snake_case and not a persona or special placeholder"
                    ),
                );
            }
            if let Some(n) = &img.name
                && !n.starts_with(RUN_PREFIX)
            {
                bad(
                    "name",
                    format!("image name `{n}` must start with `{RUN_PREFIX}` so clean-up finds it"),
                );
            }
            if !VISIBILITIES.contains(&img.visibility.as_str()) {
                bad(
                    "visibility",
                    format!(
                        "visibility `{}` is not one of {}",
                        img.visibility,
                        VISIBILITIES.join(", ")
                    ),
                );
            }
            if img.visibility == "public" {
                need_persona("admin", &mut needs);
            }
            if img.visibility != "shared" && (!img.members.is_empty() || img.fill_to_quota) {
                bad(
                    "members",
                    format!("image `{name}`: only shared images have members"),
                );
            }
            if img.fill_to_quota {
                needs.insert("member-quota".into());
            }
            for (p, status) in &img.members {
                if !PERSONAS.contains(&p.as_str()) || p == "owner" {
                    bad(
                        p,
                        format!(
                            "member `{p}` must be a persona other than owner: {}",
                            PERSONAS[1..].join(", ")
                        ),
                    );
                }
                need_persona(p, &mut needs);
                if !STATUSES.contains(&status.as_str()) {
                    bad(
                        p,
                        format!(
                            "member status `{status}` is not one of {}",
                            STATUSES.join(", ")
                        ),
                    );
                }
            }
        }

        let steps = file
            .before
            .iter()
            .map(|s| (&s.request, &s.expect))
            .chain(std::iter::once((&file.request, &file.expect)))
            .chain(file.then.iter().map(|s| (&s.request, &s.expect)));
        for (req, exp) in steps {
            if !PERSONAS.contains(&req.caller.as_str())
                && !PSEUDO_CALLERS.contains(&req.caller.as_str())
            {
                bad(
                    "as",
                    format!(
                        "caller `{}` is not one of {}, {}",
                        req.caller,
                        PERSONAS.join(", "),
                        PSEUDO_CALLERS.join(", ")
                    ),
                );
            } else if PERSONAS.contains(&req.caller.as_str()) {
                need_persona(&req.caller, &mut needs);
            }
            if !METHODS.contains(&req.method.as_str()) {
                bad(
                    "method",
                    format!(
                        "method `{}` is not one of {}",
                        req.method,
                        METHODS.join(", ")
                    ),
                );
            }
            if !req.path.starts_with('/') {
                bad("path", format!("path `{}` must start with /", req.path));
            }
            if req.method == "POST" && req.path.trim_end_matches('/') == "/v2/images" {
                let name = req
                    .body
                    .as_ref()
                    .and_then(|b| b.get("name"))
                    .and_then(|n| n.as_str());
                if !name.is_some_and(|n| n.starts_with(RUN_PREFIX)) {
                    bad(
                        "path",
                        format!(
                            "an image a case creates must be named `{RUN_PREFIX}…` so clean-up finds it"
                        ),
                    );
                }
            }
            if req.body.is_some() && req.raw_body.is_some() {
                bad("raw_body", "give `body` or `raw_body`, not both".into());
            }
            if let Some(r) = &req.repeat
                && (r.max == 0 || r.max > 10_000 || r.until != exp.status)
            {
                bad(
                    "repeat",
                    "repeat.max must be 1..=10000 and repeat.until must equal expect.status".into(),
                );
            }
            for (k, h) in &exp.headers {
                let n = [
                    h.present.is_some(),
                    h.equals.is_some(),
                    h.tokens.is_some(),
                    h.starts_with.is_some(),
                ]
                .iter()
                .filter(|x| **x)
                .count();
                if n != 1 {
                    bad(
                        k,
                        format!(
                            "header check `{k}` needs exactly one of present, equals, tokens, starts_with"
                        ),
                    );
                }
            }
            if let Some(b) = &exp.body {
                if b.kind != BodyKind::Json
                    && (!b.keys.is_empty()
                        || b.only_keys
                        || !b.values.is_empty()
                        || !b.lengths.is_empty())
                {
                    bad(
                        "kind",
                        "keys, only_keys, values and lengths need kind: json".into(),
                    );
                }
                if let Some(s) = &b.schema {
                    if b.kind == BodyKind::Empty {
                        bad("schema", "an empty body has no schema".into());
                    } else if !schemas.contains(s) {
                        bad(
                            "schema",
                            format!("unknown schema `{s}`; known: {}", schemas.join(", ")),
                        );
                    }
                }
                for p in b.values.keys().chain(b.lengths.keys()) {
                    if !p.starts_with('/') {
                        bad(
                            p,
                            format!("`{p}` is not a JSON pointer (it must start with /)"),
                        );
                    }
                }
            }
            // Every placeholder must be known.
            let mut texts: Vec<String> = vec![req.path.clone()];
            texts.extend(file.setup.images.values().filter_map(|i| i.name.clone()));
            texts.extend(req.headers.values().cloned());
            if let Some(b) = &req.body {
                json_strings(b, &mut texts);
            }
            for h in exp.headers.values() {
                texts.extend(h.equals.iter().cloned());
            }
            if let Some(b) = &exp.body {
                for v in b.values.values() {
                    json_strings(v, &mut texts);
                }
            }
            for t in &texts {
                for ph in placeholders(t) {
                    if file.setup.images.contains_key(ph) || SPECIAL_PLACEHOLDERS.contains(&ph) {
                        continue;
                    }
                    if PERSONAS.contains(&ph) {
                        need_persona(ph, &mut needs);
                        continue;
                    }
                    bad(
                        "path",
                        format!(
                            "unknown placeholder `{{{ph}}}`: not a set-up image, persona or one of {}",
                            SPECIAL_PLACEHOLDERS.join(", ")
                        ),
                    );
                }
            }
        }

        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Case {
            name: format!("{}::{}::{}", file.operation, file.code, stem),
            path: path.to_path_buf(),
            file,
            needs,
        })
    }
}
