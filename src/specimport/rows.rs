//! What the rows of each kind of table say: response codes, parameters, body fields, and
//! what a section says about its body.

use super::rst::{Reader, Table};
use super::{Body, Code, Field, Location, Param, Section};
use crate::error::DataError;

pub(super) fn read_codes(r: &Reader<'_>, table: &Table, errs: &mut Vec<DataError>) -> Vec<Code> {
    let mut out: Vec<Code> = Vec::new();
    for row in &table.rows {
        let at = row.line - 1;
        let code_text = row.cells[0].as_str();
        if code_text.is_empty() {
            errs.push(r.err(at, "a response-code row with no code"));
            continue;
        }
        if !code_text.chars().all(|c| c.is_ascii_digit()) {
            errs.push(r.err(at, format!("response code `{code_text}` is not a number")));
            continue;
        }
        let code = match code_text.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => c,
            _ => {
                errs.push(r.err(
                    at,
                    format!("`{code_text}` is not an HTTP status code (100-599)"),
                ));
                continue;
            }
        };
        if out.iter().any(|c| c.code == code) {
            errs.push(r.err(at, format!("code {code} appears twice in the table")));
            continue;
        }
        if row.cells[1].is_empty() {
            errs.push(r.err(at, format!("code {code} has no name")));
            continue;
        }
        out.push(Code {
            code,
            name: row.cells[1].clone(),
            meaning: row.cells[2].clone(),
            line: row.line,
        });
    }
    if out.is_empty() && errs.is_empty() {
        errs.push(r.err(table.start, "the response-code table has no rows"));
    }
    out
}

/// The Type cell without `*(Required)*` / `*(Optional)*`, and whether it said required.
pub(super) fn type_cell(cell: &str) -> (String, bool) {
    let required = cell.contains("*(Required)*");
    let kind = cell
        .replace("*(Required)*", " ")
        .replace("*(Optional)*", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (kind, required)
}

pub(super) fn read_params(
    r: &Reader<'_>,
    table: &Table,
    location: Location,
    uri_names: &mut Vec<String>,
    errs: &mut Vec<DataError>,
) -> Vec<Param> {
    let mut out = Vec::new();
    for row in &table.rows {
        let at = row.line - 1;
        let raw = row.cells[0].replace("**", "");
        let name = match location {
            Location::Path => match raw.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(n) => n.to_string(),
                None => {
                    errs.push(r.err(
                        at,
                        format!("URI parameter `{raw}` should look like `{{name}}`"),
                    ));
                    continue;
                }
            },
            Location::Query => raw.clone(),
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            errs.push(r.err(
                at,
                format!("cannot read a parameter name from `{}`", row.cells[0]),
            ));
            continue;
        }
        if location == Location::Path {
            uri_names.push(name.clone());
        }
        let (kind, _) = type_cell(&row.cells[1]);
        let lower = match kind.to_ascii_lowercase().as_str() {
            "int" | "integer" => "integer".to_string(),
            other => other.to_string(),
        };
        if !["uuid", "string", "integer"].contains(&lower.as_str()) {
            errs.push(r.err(
                at,
                format!(
                    "parameter `{name}`: unknown type `{kind}` (the spec format knows Uuid, String and Int)"
                ),
            ));
            continue;
        }
        out.push(Param {
            name,
            location,
            kind: lower,
            description: row.cells[2].clone(),
            line: row.line,
        });
    }
    out
}

/// A body field's name cell as a path: `parameters.\ **members**` → [members],
/// `parameters.members.\ **status**` → [members, status], `**images**\.[]` → [images].
pub(super) fn field_path(cell: &str) -> Option<Vec<String>> {
    let mut s = String::new();
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            // An escaped character stands for itself (escaped whitespace is already gone).
            if let Some(n) = chars.next() {
                s.push(n);
            }
        } else {
            s.push(c);
        }
    }
    let s = s.replace("**", "");
    if s.chars().any(char::is_whitespace) {
        return None;
    }
    let mut segs: Vec<String> = s
        .split('.')
        .map(|seg| seg.trim_end_matches("[]").to_string())
        .collect();
    // `images.[]` leaves an empty last segment: the marker of an array.
    if segs.len() > 1 && segs.last().is_some_and(String::is_empty) && s.ends_with("[]") {
        segs.pop();
    }
    if segs.len() > 1 && segs[0] == "parameters" {
        segs.remove(0);
    }
    let ok = segs.iter().all(|seg| {
        !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '@' | '$'))
    });
    ok.then_some(segs)
}

pub(super) fn read_fields(r: &Reader<'_>, table: &Table, errs: &mut Vec<DataError>) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    for row in &table.rows {
        let at = row.line - 1;
        let Some(path) = field_path(&row.cells[0]) else {
            errs.push(r.err(
                at,
                format!("cannot read a body field name from `{}`", row.cells[0]),
            ));
            continue;
        };
        let (_, required) = type_cell(&row.cells[1]);
        let field = Field {
            name: path[1..].join("."),
            required,
            description: row.cells[2].clone(),
            nested: Vec::new(),
            implied: false,
            line: row.line,
        };
        let top = path[0].clone();
        let existing = out.iter_mut().position(|f| f.name == top);
        if path.len() == 1 {
            match existing {
                Some(idx) if out[idx].implied => {
                    let nested = std::mem::take(&mut out[idx].nested);
                    out[idx] = Field {
                        name: top,
                        nested,
                        ..field
                    };
                }
                Some(_) => errs.push(r.err(at, format!("field `{top}` is listed twice"))),
                None => out.push(Field { name: top, ..field }),
            }
        } else {
            let parent = match existing {
                Some(idx) => &mut out[idx],
                None => {
                    out.push(Field {
                        name: top.clone(),
                        required: false,
                        description: format!(
                            "Not described on its own row; the page lists fields nested in `{top}`."
                        ),
                        nested: Vec::new(),
                        implied: true,
                        line: row.line,
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            if parent.nested.iter().any(|n| n.name == field.name) {
                errs.push(r.err(at, format!("field `{}` is listed twice", path.join("."))));
            } else {
                parent.nested.push(field);
            }
        }
    }
    out
}

/// What a section says about its body; `None` when it says nothing at all.
pub(super) fn body_of(
    r: &Reader<'_>,
    section: Section,
    from: usize,
    to: usize,
    fields: Option<(usize, Vec<Field>)>,
    errs: &mut Vec<DataError>,
) -> Option<Body> {
    let (needle, what) = match section {
        Section::Request => ("does not accept a request body", "request"),
        _ => ("does not return a response body", "response"),
    };
    let normal = |i: usize| {
        r.lines[i]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase()
    };
    let prose = |i: usize| i < to && !r.code[i];
    let says_none = (from + 1..to)
        .find(|&i| prose(i) && normal(i).contains(needle))
        .or_else(|| {
            // The sentence may wrap onto the next line.
            (from + 1..to).find(|&i| {
                prose(i)
                    && prose(i + 1)
                    && format!("{} {}", normal(i), normal(i + 1)).contains(needle)
            })
        });
    let example = (from + 1..to).any(|i| {
        let t = r.lines[i].trim_start();
        !r.code[i] && (t.starts_with(".. code") || (t.ends_with("::") && !t.starts_with(".. ")))
    });
    match (fields, says_none) {
        (Some((table, _)), Some(sentence)) => {
            errs.push(r.err(
                table,
                format!(
                    "a {what} body table, but line {} says there is no {what} body",
                    sentence + 1
                ),
            ));
            None
        }
        (Some((_, fields)), None) => Some(Body::Fields(fields)),
        (None, Some(_)) => Some(Body::None),
        (None, None) if example => {
            let code: String = (from + 1..to)
                .filter(|&i| r.code[i])
                .map(|i| &*r.lines[i])
                .collect::<Vec<_>>()
                .join("\n");
            Some(Body::ExampleOnly(example_keys(&code)))
        }
        (None, None) if section == Section::Request => Some(Body::Unstated),
        (None, None) => {
            errs.push(r.err(
                from,
                "the Response section neither lists body fields, says there is no response \
                 body, nor shows an example",
            ));
            None
        }
    }
}

/// The top-level keys of the first JSON object in an example block (text after it, such as a
/// stray line, is ignored); empty when there is none.
pub(super) fn example_keys(code: &str) -> Vec<String> {
    let Some(start) = code.find('{') else {
        return Vec::new();
    };
    let mut values =
        serde_json::Deserializer::from_str(&code[start..]).into_iter::<serde_json::Value>();
    match values.next() {
        Some(Ok(serde_json::Value::Object(map))) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}
