//! Writing a page as spec YAML, and the values that YAML must read back to.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Body, Location, Page};

/// A YAML scalar: plain when that reads back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~",
    ];
    let plain = !s.is_empty()
        && s.trim() == s
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c) || c.is_ascii_digit())
        && !s.starts_with(['+', '.'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.chars().any(char::is_control)
        && !SPECIAL.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else {
        // A JSON string is a valid YAML double-quoted scalar.
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn render_body(y: &mut String, key: &str, body: &Body) {
    match body {
        Body::None => {
            let _ = writeln!(y, "{key}: none");
        }
        Body::Unstated => {
            let _ = writeln!(
                y,
                "# The page says nothing about a {} body; none is assumed.",
                key.trim_end_matches("_body")
            );
            let _ = writeln!(y, "{key}: none");
        }
        Body::ExampleOnly(keys) => {
            let _ = writeln!(
                y,
                "# The page shows only an example: a JSON body whose fields it does not list;"
            );
            let _ = writeln!(y, "# the fields below are the example's top-level keys.");
            if keys.is_empty() {
                let _ = writeln!(y, "{key}:\n  json:\n    fields: []");
            } else {
                let _ = writeln!(y, "{key}:\n  json:\n    fields:");
                for k in keys {
                    let _ = writeln!(y, "      - name: {}", scalar(k));
                    let _ = writeln!(y, "        required: false");
                    let _ = writeln!(y, "        description: Shown in the page's example.");
                }
            }
        }
        Body::Fields(fields) => {
            let _ = writeln!(y, "{key}:\n  json:");
            if fields.is_empty() {
                let _ = writeln!(y, "    fields: []");
                return;
            }
            let _ = writeln!(y, "    fields:");
            for f in fields {
                let _ = writeln!(y, "      - name: {}", scalar(&f.name));
                let _ = writeln!(y, "        required: {}", f.required);
                let _ = writeln!(y, "        description: {}", scalar(&f.description));
                if !f.nested.is_empty() {
                    let _ = writeln!(
                        y,
                        "        # Nested fields on the page (spec fields are top-level only):"
                    );
                    for n in &f.nested {
                        let req = if n.required { " (required)" } else { "" };
                        let _ = writeln!(
                            y,
                            "        #   {}.{}{req}",
                            comment_safe(&f.name),
                            comment_safe(&n.name)
                        );
                    }
                }
            }
        }
    }
}

/// The spec YAML for a page; `file_name` goes into the header comment.
pub(super) fn render(page: &Page, file_name: &str) -> String {
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Imported by `sharecheck spec import` from {}.",
        comment_safe(file_name)
    );
    let _ = writeln!(
        y,
        "# Codes, names, parameters and fields are the page's; descriptions and meanings are its"
    );
    let _ = writeln!(
        y,
        "# text as is: put them in our words, and add rows observed on the reference only with"
    );
    let _ = writeln!(y, "# `documented: false`.");
    let _ = writeln!(y, "operation: {}", scalar(&page.operation));
    let _ = writeln!(y, "title: {}", scalar(&page.title));
    let _ = writeln!(y, "source: {}", scalar(&page.source));
    if let Some(v) = &page.since {
        let _ = writeln!(y, "since: {}", scalar(v));
    }
    let _ = writeln!(y, "method: {}", scalar(&page.method));
    let _ = writeln!(y, "path: {}", scalar(&page.path));
    if !page.parameters.is_empty() {
        let _ = writeln!(y, "parameters:");
        for p in &page.parameters {
            let _ = writeln!(y, "  - name: {}", scalar(&p.name));
            let _ = writeln!(
                y,
                "    in: {}",
                match p.location {
                    Location::Path => "path",
                    Location::Query => "query",
                }
            );
            let _ = writeln!(y, "    type: {}", scalar(&p.kind));
            let _ = writeln!(y, "    description: {}", scalar(&p.description));
        }
    }
    render_body(&mut y, "request_body", &page.request_body);
    render_body(&mut y, "response_body", &page.response_body);
    let _ = writeln!(y, "responses:");
    for c in &page.responses {
        let _ = writeln!(y, "  - code: {}", c.code);
        let _ = writeln!(y, "    name: {}", scalar(&c.name));
        let _ = writeln!(y, "    meaning: {}", scalar(&c.meaning));
    }
    y
}

/// The values the YAML must read back to.
#[derive(Serialize)]
pub(super) struct Doc<'a> {
    operation: &'a str,
    title: &'a str,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<DocParam<'a>>,
    request_body: DocBody<'a>,
    response_body: DocBody<'a>,
    responses: Vec<DocCode<'a>>,
}

#[derive(Serialize)]
struct DocParam<'a> {
    name: &'a str,
    #[serde(rename = "in")]
    location: &'static str,
    #[serde(rename = "type")]
    kind: &'a str,
    description: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum DocBody<'a> {
    Keyword(&'static str),
    Json { json: DocFields<'a> },
}

#[derive(Serialize)]
struct DocFields<'a> {
    fields: Vec<DocField<'a>>,
}

#[derive(Serialize)]
struct DocField<'a> {
    name: &'a str,
    required: bool,
    description: &'a str,
}

#[derive(Serialize)]
struct DocCode<'a> {
    code: u16,
    name: &'a str,
    meaning: &'a str,
}

impl<'a> From<&'a Body> for DocBody<'a> {
    fn from(b: &'a Body) -> Self {
        match b {
            Body::None | Body::Unstated => DocBody::Keyword("none"),
            Body::ExampleOnly(keys) => DocBody::Json {
                json: DocFields {
                    fields: keys
                        .iter()
                        .map(|k| DocField {
                            name: k,
                            required: false,
                            description: "Shown in the page's example.",
                        })
                        .collect(),
                },
            },
            Body::Fields(fields) => DocBody::Json {
                json: DocFields {
                    fields: fields
                        .iter()
                        .map(|f| DocField {
                            name: &f.name,
                            required: f.required,
                            description: &f.description,
                        })
                        .collect(),
                },
            },
        }
    }
}

impl<'a> From<&'a Page> for Doc<'a> {
    fn from(p: &'a Page) -> Self {
        Doc {
            operation: &p.operation,
            title: &p.title,
            source: &p.source,
            since: p.since.as_deref(),
            method: &p.method,
            path: &p.path,
            parameters: p
                .parameters
                .iter()
                .map(|q| DocParam {
                    name: &q.name,
                    location: match q.location {
                        Location::Path => "path",
                        Location::Query => "query",
                    },
                    kind: &q.kind,
                    description: &q.description,
                })
                .collect(),
            request_body: (&p.request_body).into(),
            response_body: (&p.response_body).into(),
            responses: p
                .responses
                .iter()
                .map(|c| DocCode {
                    code: c.code,
                    name: &c.name,
                    meaning: &c.meaning,
                })
                .collect(),
        }
    }
}
