//! The maintained Image API reference (Glance's api-ref) as a second documentation source:
//! an `.inc` file holds several operations, each a title underlined with `~`, a
//! `.. rest_method:: METHOD PATH` line, an optional `*(Since Image API v2.N)*` note,
//! "Normal response codes" and "Error response codes" lines, and under its `Request…` and
//! `Response…` headings (underlined with `-`) `.. rest_parameters:: FILE` lists of
//! `- name: key` lines whose keys are entries of that `*-parameters.yaml` file beside it
//! (`in`, `required`, `type`, `description`), and `.. literalinclude::` samples.
//!
//! Each operation section becomes a [`Page`] cited as `api-ref:<file>#<title slug>`. Path and
//! query parameters become the page's parameters, body parameters its fields, headers are
//! left out; a response without body parameters shows the top-level keys of its JSON sample,
//! or no body when every normal code is 204; a path parameter that the path does not hold is
//! read as a body field. A section that names a method but whose codes,
//! parameters or sample cannot be read is refused with its file and line; sections without a
//! method (introductions) are passed over.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Body, Code, Field, Location, Page, Param, snake_case};
use crate::error::DataError;

/// One entry of a `*-parameters.yaml` file.
#[derive(Clone, Debug, Deserialize)]
struct ParamDef {
    #[serde(rename = "in")]
    location: String,
    #[serde(default)]
    required: bool,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    description: String,
}

/// The parameter files read so far, by file name.
#[derive(Default)]
struct ParamFiles {
    dir: PathBuf,
    files: BTreeMap<String, BTreeMap<String, ParamDef>>,
}

impl ParamFiles {
    fn get(&mut self, file: &str) -> Result<&BTreeMap<String, ParamDef>, DataError> {
        if !self.files.contains_key(file) {
            let path = self.dir.join(file);
            let src = std::fs::read_to_string(&path).map_err(|source| DataError::Read {
                path: path.clone(),
                source,
            })?;
            let defs = serde_yaml::from_str(&src).map_err(|e| DataError::yaml(&path, &e))?;
            self.files.insert(file.to_string(), defs);
        }
        Ok(&self.files[file])
    }
}

/// A `- name: key` line of a `rest_parameters` list, under the heading it belongs to.
struct ParamRef {
    name: String,
    key: String,
    file: String,
    response: bool,
    line: usize,
}

/// What one section says, before its parameters are resolved.
#[derive(Default)]
struct Raw {
    title: String,
    method: Option<(String, String, usize)>,
    since: Option<String>,
    normal: Vec<(u16, usize)>,
    error: Vec<(u16, usize)>,
    params: Vec<ParamRef>,
    response_sample: Option<(String, usize)>,
}

/// Reads every operation of an api-ref `.inc` file (parameter files and samples are read
/// from its directory).
pub fn parse_inc(file: &Path, src: &str) -> Result<Vec<Page>, Vec<DataError>> {
    let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut params = ParamFiles {
        dir: dir.clone(),
        ..ParamFiles::default()
    };
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut pages = Vec::new();
    let mut errs = Vec::new();
    for raw in sections(file, src, &mut errs) {
        if raw.method.is_none() {
            continue;
        }
        match page(file, &name, &dir, raw, &mut params) {
            Ok(p) => pages.push(p),
            Err(e) => errs.push(e),
        }
    }
    if pages.is_empty() && errs.is_empty() {
        errs.push(DataError::invalid(
            file,
            None,
            "no `.. rest_method::` section",
        ));
    }
    if errs.is_empty() {
        Ok(pages)
    } else {
        Err(errs)
    }
}

fn underline(line: &str, c: char) -> bool {
    line.len() >= 3 && line.chars().all(|x| x == c)
}

/// The sections of the file, each with what its lines say.
fn sections(file: &Path, src: &str, errs: &mut Vec<DataError>) -> Vec<Raw> {
    let lines: Vec<&str> = src.lines().collect();
    let mut out: Vec<Raw> = Vec::new();
    let mut response = false;
    let mut list: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        let next = lines.get(i + 1).copied().unwrap_or("");
        let n = i + 1;
        if !line.trim().is_empty() && underline(next, '~') {
            out.push(Raw {
                title: line.trim().to_string(),
                ..Raw::default()
            });
            (response, list) = (false, None);
            continue;
        }
        let Some(raw) = out.last_mut() else { continue };
        if !line.trim().is_empty() && underline(next, '-') {
            response = line.trim().starts_with("Response");
            list = None;
            continue;
        }
        let t = line.trim();
        if let Some(rest) = t.strip_prefix(".. rest_method::") {
            // The method and path may stand on the next, indented line.
            let rest = if rest.trim().is_empty() { next } else { rest };
            let mut w = rest.split_whitespace();
            match (w.next(), w.next(), w.next()) {
                (Some(m), Some(p), None) => raw.method = Some((m.into(), p.into(), n)),
                _ => errs.push(DataError::invalid(
                    file,
                    Some(n),
                    "expected `.. rest_method:: METHOD /path`",
                )),
            }
        } else if let Some(v) = t.find("*(Since Image API v").map(|k| &t[k + 19..]) {
            raw.since = v.split(')').next().map(str::to_string);
        } else if let Some(codes) = t.strip_prefix("Normal response codes:") {
            raw.normal = numbers(file, codes, n, errs);
        } else if let Some(codes) = t.strip_prefix("Error response codes:") {
            raw.error = numbers(file, codes, n, errs);
        } else if let Some(f) = t.strip_prefix(".. rest_parameters::") {
            list = Some(f.trim().to_string());
        } else if let (Some(f), Some(item)) = (&list, t.strip_prefix("- ")) {
            match item.split_once(':') {
                Some((name, key)) => raw.params.push(ParamRef {
                    name: name.trim().to_string(),
                    key: key.trim().to_string(),
                    file: f.clone(),
                    response,
                    line: n,
                }),
                None => errs.push(DataError::invalid(
                    file,
                    Some(n),
                    "expected `- name: parameter-key`",
                )),
            }
        } else if let Some(s) = t.strip_prefix(".. literalinclude::") {
            if response && raw.response_sample.is_none() {
                raw.response_sample = Some((s.trim().to_string(), n));
            }
        } else if !t.is_empty() && !t.starts_with(':') {
            list = None;
        }
    }
    out
}

fn numbers(file: &Path, text: &str, line: usize, errs: &mut Vec<DataError>) -> Vec<(u16, usize)> {
    let mut out = Vec::new();
    for w in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match w.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => out.push((c, line)),
            _ => errs.push(DataError::invalid(
                file,
                Some(line),
                format!("`{w}` is not a status code"),
            )),
        }
    }
    out
}

/// The slug of a title: lower case, words joined with `-`.
fn slug(title: &str) -> String {
    snake_case(title).replace('_', "-")
}

fn page(
    file: &Path,
    name: &str,
    dir: &Path,
    raw: Raw,
    params: &mut ParamFiles,
) -> Result<Page, DataError> {
    let (method, path, mline) = raw.method.clone().unwrap_or_default();
    let bad = |line: usize, m: String| DataError::invalid(file, Some(line), m);
    if raw.normal.is_empty() {
        return Err(bad(
            mline,
            format!("`{}` lists no normal response codes", raw.title),
        ));
    }
    let mut parameters = Vec::new();
    let (mut request, mut response) = (Vec::new(), Vec::new());
    for r in &raw.params {
        let defs = params.get(&r.file)?;
        let d = defs
            .get(&r.key)
            .ok_or_else(|| bad(r.line, format!("`{}` is not an entry of {}", r.key, r.file)))?;
        let description = d
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        // A path parameter the path does not hold is read as a body field (the api-ref
        // files `name` of a resource type association under `in: path`).
        let location = match d.location.as_str() {
            "path" if !path.contains(&format!("{{{}}}", r.name)) => "body",
            other => other,
        };
        match (location, r.response) {
            ("path" | "query", false) => parameters.push(Param {
                name: r.name.clone(),
                location: if d.location == "path" {
                    Location::Path
                } else {
                    Location::Query
                },
                // the spec's kinds: integer, or a string (uuid is the seed pages' word)
                kind: if d.kind == "integer" {
                    d.kind.clone()
                } else {
                    "string".into()
                },
                description,
                line: r.line,
            }),
            ("body", resp) => {
                let f = Field {
                    name: r.name.clone(),
                    required: d.required,
                    description,
                    nested: Vec::new(),
                    implied: false,
                    line: r.line,
                };
                if resp {
                    response.push(f)
                } else {
                    request.push(f)
                }
            }
            ("header" | "path" | "query", _) => {}
            (other, _) => {
                return Err(bad(
                    r.line,
                    format!("`{}`: unknown location `{other}`", r.key),
                ));
            }
        }
    }
    let response_body = if !response.is_empty() {
        Body::Fields(response)
    } else if let Some((sample, line)) = &raw.response_sample {
        Body::ExampleOnly(sample_keys(&dir.join(sample)).map_err(|m| bad(*line, m))?)
    } else if raw.normal.iter().all(|(c, _)| *c == 204) {
        Body::None
    } else {
        Body::ExampleOnly(Vec::new())
    };
    let codes = |list: &[(u16, usize)], kind: &str| -> Vec<Code> {
        list.iter()
            .map(|(c, line)| Code {
                code: *c,
                name: http::StatusCode::from_u16(*c)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("")
                    .to_string(),
                meaning: format!("Listed among the {kind} response codes."),
                line: *line,
            })
            .collect()
    };
    let mut responses = codes(&raw.normal, "normal");
    responses.extend(codes(&raw.error, "error"));
    let full = if path.starts_with("/v2") {
        path.clone()
    } else {
        format!("/v2{path}")
    };
    Ok(Page {
        label: format!("{name}#{}", slug(&raw.title)),
        source: format!("api-ref:{name}#{}", slug(&raw.title)),
        since: raw.since.clone(),
        title: raw.title.clone(),
        operation: snake_case(&raw.title),
        method,
        path: full,
        parameters,
        request_body: if request.is_empty() {
            Body::Unstated
        } else {
            Body::Fields(request)
        },
        response_body,
        responses,
    })
}

/// The top-level keys of a JSON sample.
fn sample_keys(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the sample: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: the sample is not JSON: {e}", path.display()))?;
    Ok(v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default())
}
