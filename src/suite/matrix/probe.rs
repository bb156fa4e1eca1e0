//! A spec's `matrix:` section: its operation's rows (per image visibility, the code of each
//! persona column) and the probe a cell sends, and the case document of one cell. The
//! request's method and path are the spec's own; the parts written in the case format
//! (`before`, `body`, `check`, the follow-ups) are values of it, with `$visibility`,
//! `$status` (the member persona's status) and `$seen_member` (`member`, or `other_member`
//! in its own column) filled in per cell.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The matrix section of a spec.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// What every cell needs of the target (the case format's `requires`).
    #[serde(default)]
    requires: Vec<String>,
    /// The image `{img}` every cell acts on: set-up keys besides its visibility, name and
    /// members (`{}` for none). Absent: the call involves no existing image.
    #[serde(default)]
    pub(crate) image: Option<Map<String, Value>>,
    /// Tasks to set up, by name (the case format's `setup.tasks`).
    #[serde(default)]
    tasks: Map<String, Value>,
    /// Steps before the request (the case format's `before`).
    #[serde(default)]
    before: Vec<Value>,
    /// Values of the path's parameters; `{image_id}` is `{img}` and `{member_id}` is
    /// `{member}` unless given.
    #[serde(default)]
    params: BTreeMap<String, String>,
    /// A query string to append to the path.
    #[serde(default)]
    query: Option<String>,
    /// Request headers.
    #[serde(default)]
    headers: Map<String, Value>,
    /// A JSON request body.
    #[serde(default)]
    body: Option<Value>,
    /// A request body sent as it is.
    #[serde(default)]
    raw_body: Option<String>,
    /// The body check of a success (a refusal checks for an error body).
    #[serde(default)]
    check: Option<Value>,
    /// For lists: the check of a success whose list does not hold the image. Its presence
    /// makes a success cell `N+` (listed, `check`) or `N-` (not listed, this one).
    #[serde(default)]
    pub(crate) unlisted_check: Option<Value>,
    /// Steps after a success.
    #[serde(default)]
    after_success: Vec<FollowUp>,
    /// Steps after a refusal.
    #[serde(default)]
    after_refusal: Vec<FollowUp>,
    /// Visibility (or `any`) → one entry per column: a code, `N+`/`N-`, or a reason key.
    pub(crate) rows: BTreeMap<String, Vec<Entry>>,
}

/// A step after the request (the case format's `then` item), on one visibility only when
/// `only_on` says so.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowUp {
    request: Value,
    expect: Value,
    #[serde(default)]
    only_on: Option<String>,
}

/// An entry of a row.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Entry {
    /// A status code.
    Code(u16),
    /// A reason key, or a list code `N+`/`N-`.
    Word(String),
}

/// One cell to turn into a case.
pub(crate) struct Cell<'a> {
    pub(crate) operation: &'a str,
    pub(crate) method: &'a str,
    /// The spec's path template.
    pub(crate) path: &'a str,
    pub(crate) visibility: &'a str,
    pub(crate) persona: &'a str,
    pub(crate) code: u16,
    /// For `unlisted_check` operations' successes: whether the image is in the list.
    pub(crate) listed: Option<bool>,
}

/// Who sends the request, and the member status of the `member` persona on a shared image.
fn caller(persona: &str) -> (&str, &str) {
    match persona {
        "pending" | "accepted" | "rejected" => ("member", persona),
        p => (p, "pending"),
    }
}

fn kebab(s: &str) -> String {
    s.replace('_', "-")
}

/// `value` with every `$name` of `vars` in its strings replaced.
fn fill(value: &Value, vars: &[(&str, &str)]) -> Value {
    match value {
        Value::String(s) => {
            let mut s = s.clone();
            for (name, v) in vars {
                s = s.replace(name, v);
            }
            Value::String(s)
        }
        Value::Array(items) => items.iter().map(|v| fill(v, vars)).collect(),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Probe {
    /// Problems of the section itself: parameters without a value or not in the path, an
    /// `only_on` that is no visibility.
    pub(crate) fn problems(&self, path: &str, visibilities: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.path(path) {
            out.push(e);
        }
        for p in self.params.keys() {
            if !path.contains(&format!("{{{p}}}")) {
                out.push(format!("params: `{p}` is not a parameter of `{path}`"));
            }
        }
        for f in self.after_success.iter().chain(&self.after_refusal) {
            if let Some(v) = &f.only_on
                && !visibilities.contains(&v.as_str())
            {
                out.push(format!(
                    "only_on: `{v}` is not one of {}",
                    visibilities.join(", ")
                ));
            }
        }
        out
    }

    /// The request path: the template with its parameters' values, and the query.
    fn path(&self, template: &str) -> Result<String, String> {
        let mut segments = Vec::new();
        for seg in template.split('/') {
            let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                segments.push(seg.to_string());
                continue;
            };
            let value = match (self.params.get(name), name) {
                (Some(v), _) => v.clone(),
                (None, "image_id") if self.image.is_some() => "{img}".into(),
                (None, "member_id") if self.image.is_some() => "{member}".into(),
                _ => {
                    return Err(format!(
                        "the path parameter `{name}` needs a value under `params`"
                    ));
                }
            };
            segments.push(value);
        }
        let path = segments.join("/");
        Ok(match &self.query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        })
    }

    /// The case document of `cell`, in the case format.
    pub(crate) fn case(&self, cell: &Cell) -> Result<Value, String> {
        let Cell {
            operation: op,
            visibility: vis,
            persona,
            code,
            ..
        } = *cell;
        let (who, status) = caller(persona);
        let seen = if persona == "other_member" {
            "other_member"
        } else {
            "member"
        };
        let vars = [
            ("$visibility", vis),
            ("$status", status),
            ("$seen_member", seen),
        ];
        let mut doc = Map::new();
        doc.insert(
            "id".into(),
            format!("mx-{}-{}-{vis}", kebab(op), kebab(persona)).into(),
        );
        doc.insert("operation".into(), op.into());
        doc.insert("code".into(), code.into());
        doc.insert(
            "purpose".into(),
            format!("Authorization matrix: {op} as {persona} on a {vis} image answers {code}.")
                .into(),
        );
        if !self.requires.is_empty() {
            doc.insert("requires".into(), self.requires.clone().into());
        }
        let setup = self.setup(vis, persona, status, &vars);
        if !setup.is_empty() {
            doc.insert("setup".into(), setup.into());
        }
        if !self.before.is_empty() {
            doc.insert("before".into(), fill(&self.before.clone().into(), &vars));
        }
        doc.insert("request".into(), self.request(cell, who, &vars)?);
        let ok = code < 300;
        let check = match (ok, cell.listed) {
            (false, _) => Some(json!({"kind": "error"})),
            (true, Some(false)) => self.unlisted_check.clone(),
            (true, _) => self.check.clone(),
        };
        let mut expect = json!({ "status": code });
        if let Some(check) = check {
            expect["body"] = fill(&check, &vars);
        }
        doc.insert("expect".into(), expect);
        let after = if ok {
            &self.after_success
        } else {
            &self.after_refusal
        };
        let then: Vec<Value> = after
            .iter()
            .filter(|f| f.only_on.as_deref().is_none_or(|v| v == vis))
            .map(|f| fill(&json!({"request": f.request, "expect": f.expect}), &vars))
            .collect();
        if !then.is_empty() {
            doc.insert("then".into(), then.into());
        }
        Ok(doc.into())
    }

    /// The set-up: the image `img` (with the member persona, and `other_member` in its
    /// column, on a shared one) and the tasks.
    fn setup(
        &self,
        vis: &str,
        persona: &str,
        status: &str,
        vars: &[(&str, &str)],
    ) -> Map<String, Value> {
        let mut setup = Map::new();
        if let Some(extra) = &self.image {
            let mut img = Map::new();
            img.insert("visibility".into(), vis.into());
            img.insert("name".into(), "sharecheck-{run_id}-{random_uuid}".into());
            for (k, v) in extra {
                img.insert(k.clone(), fill(v, vars));
            }
            if vis == "shared" {
                let mut members = Map::new();
                members.insert("member".into(), status.into());
                if persona == "other_member" {
                    members.insert("other_member".into(), "accepted".into());
                }
                img.insert("members".into(), members.into());
            }
            setup.insert("images".into(), json!({ "img": img }));
        }
        if !self.tasks.is_empty() {
            setup.insert("tasks".into(), fill(&self.tasks.clone().into(), vars));
        }
        setup
    }

    /// The request under test, as `who`.
    fn request(&self, cell: &Cell, who: &str, vars: &[(&str, &str)]) -> Result<Value, String> {
        let mut request = Map::new();
        request.insert("as".into(), who.into());
        request.insert("method".into(), cell.method.into());
        request.insert("path".into(), fill(&self.path(cell.path)?.into(), vars));
        if !self.headers.is_empty() {
            request.insert("headers".into(), fill(&self.headers.clone().into(), vars));
        }
        if let Some(body) = &self.body {
            request.insert("body".into(), fill(body, vars));
        }
        if let Some(raw) = &self.raw_body {
            request.insert("raw_body".into(), raw.clone().into());
        }
        Ok(request.into())
    }
}
