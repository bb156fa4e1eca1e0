//! `sharecheck spec import`: API reference pages (reStructuredText, in the layout of the Image
//! API reference) become spec YAML drafts that the suite's loader accepts.
//!
//! A page holds, in this order:
//!
//! - a `.. _label:` line, then a title underlined with `^`;
//! - a code block (`.. code::`) whose first line is `METHOD /path` (the path without `/v2`);
//! - a response-code grid table with the columns Response Code | Name | Description;
//! - a `Request` heading, then a URI (and maybe a query) parameter table, then a body
//!   parameter table or the sentence that the operation accepts no request body;
//! - a `Response` heading, then a body parameter table, the sentence that the operation
//!   returns no body, or only an example (schema pages).
//!
//! Grid-table rows end at `+---+` borders; a cell's lines are joined with spaces. Each table
//! is told apart by the sentence that introduces it ("...the URI parameters...", "...the
//! query parameters...", "...the body parameters...") or, failing that, by its names
//! (`{name}` for URI parameters, `**name**` for body fields).
//!
//! Mapping choices:
//!
//! - `operation` is the title in snake_case, `source` is `doc:<label>`, `path` is `/v2` + the
//!   documented path (a documented path that already starts with `/v2/` is kept).
//! - Body field names drop the `parameters.` prefix and `[]` markers. The spec format's fields
//!   are flat (a dotted name would read as a top-level key), so only top-level fields become
//!   spec fields; nested ones (`members.status`) are kept in [`Field::nested`] and written as
//!   YAML comments under their parent. A parent the page never lists on its own row is added,
//!   not required, with a description that says so.
//! - A section that shows only an example becomes `{json: {fields: []}}` (a JSON body whose
//!   fields the page does not list), with a comment; a request section that says nothing at
//!   all becomes `none`, with a comment. A response section that says nothing is an error.
//! - Descriptions and meanings are the page's cell text, whitespace collapsed, `\ ` escapes
//!   removed; the header comment says to put them in our words.
//!
//! Every problem is a [`DataError`] naming the page and line. The generated YAML is checked
//! twice before it is returned: it must read back to the same values, and it must load with
//! the suite's own spec loader.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::error::DataError;
use crate::suite::Operation;

/// Methods the spec format allows.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// Exit code for usage and input errors (as for the rest of the CLI).
const USAGE: u8 = 2;

/// One page, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The page's `.. _label:`.
    pub label: String,
    /// The title.
    pub title: String,
    /// snake_case operation name (from the title unless overridden).
    pub operation: String,
    /// HTTP method.
    pub method: String,
    /// Path on the wire, with the `/v2` prefix.
    pub path: String,
    /// URI and query parameters, in page order.
    pub parameters: Vec<Param>,
    /// What the request carries.
    pub request_body: Body,
    /// What a success returns.
    pub response_body: Body,
    /// The response-code table, in page order.
    pub responses: Vec<Code>,
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// In the path (`{name}`).
    Path,
    /// In the query string.
    Query,
}

/// A URI or query parameter row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Name without braces.
    pub name: String,
    /// Path or query.
    pub location: Location,
    /// `uuid` or `string`.
    pub kind: String,
    /// The cell text.
    pub description: String,
    /// 1-based line of the row.
    pub line: usize,
}

/// What a page says about a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// The page says there is no body.
    None,
    /// The page says nothing at all (request sections only); written as `none`.
    Unstated,
    /// A body parameter table: top-level fields, in page order.
    Fields(Vec<Field>),
    /// Only an example: a JSON body whose fields the page does not list; the top-level keys
    /// of the example (when it parses as a JSON object), in the example's order.
    ExampleOnly(Vec<String>),
}

/// A body field row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Key (for nested fields: the path below the parent, e.g. `status` under `members`).
    pub name: String,
    /// `*(Required)*` in the Type cell.
    pub required: bool,
    /// The cell text.
    pub description: String,
    /// Nested fields (`members.status` → `status` under `members`), in page order.
    pub nested: Vec<Field>,
    /// The page has no row of its own for this field, only nested rows under it.
    pub implied: bool,
    /// 1-based line of the row (of its first nested row when implied).
    pub line: usize,
}

/// A response-code table row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// Status code.
    pub code: u16,
    /// Name cell.
    pub name: String,
    /// Description cell.
    pub meaning: String,
    /// 1-based line of the row.
    pub line: usize,
}

/// An imported page: what was read, the YAML written for it, and that YAML as the suite's
/// loader reads it.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The page.
    pub page: Page,
    /// The spec YAML.
    pub yaml: String,
    /// The YAML, loaded by the suite's spec loader.
    pub spec: Operation,
}

/// Reads and imports one page file; `operation` overrides the name made from the title.
pub fn import_file(path: &Path, operation: Option<&str>) -> Result<Imported, Vec<DataError>> {
    let src = std::fs::read_to_string(path).map_err(|source| {
        vec![DataError::Read {
            path: path.to_path_buf(),
            source,
        }]
    })?;
    import(path, &src, operation)
}

/// Imports one page's text; `file` names it in errors and in the YAML's header comment.
pub fn import(file: &Path, src: &str, operation: Option<&str>) -> Result<Imported, Vec<DataError>> {
    let mut page = parse_page(file, src)?;
    if let Some(name) = operation {
        if !is_snake(name) {
            return Err(vec![DataError::invalid(
                file,
                None,
                format!("--operation `{name}` must be snake_case (a-z, 0-9, _; a letter first)"),
            )]);
        }
        page.operation = name.to_string();
    }
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let yaml = render(&page, &file_name);
    let internal = |msg: String| {
        vec![DataError::invalid(
            file,
            None,
            format!("the generated spec {msg} (a bug in the importer)"),
        )]
    };
    // The text must read back to exactly the values meant.
    let expected = serde_yaml::to_value(Doc::from(&page)).map_err(|e| internal(e.to_string()))?;
    let actual: serde_yaml::Value =
        serde_yaml::from_str(&yaml).map_err(|e| internal(format!("is not YAML: {e}")))?;
    if expected != actual {
        return Err(internal("does not read back to the page's values".into()));
    }
    // And it must load with the suite's loader.
    let spec_path = PathBuf::from("specs").join(format!("{}.yaml", page.operation));
    let spec = Operation::parse(&spec_path, &yaml).map_err(|errs| {
        let all: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        internal(format!("does not load: {}", all.join("; ")))
    })?;
    Ok(Imported { page, yaml, spec })
}

/// The operation name made from a title: ASCII letters and digits lower-cased, every run of
/// anything else one `_`.
pub fn snake_case(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

fn is_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

// ---------------------------------------------------------------------------------------
// Reading a page.

/// Which part of the page a line is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Preamble,
    Request,
    Response,
}

/// What a parameter table describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TableKind {
    Codes,
    Uri,
    Query,
    Body,
}

/// A grid table: header cells and rows of joined cell text.
#[derive(Debug)]
struct Table {
    /// 0-based index of the top border.
    start: usize,
    header: Vec<String>,
    rows: Vec<Row>,
}

#[derive(Debug)]
struct Row {
    /// 1-based line of the row's first line.
    line: usize,
    cells: Vec<String>,
}

struct Reader<'a> {
    file: &'a Path,
    lines: Vec<&'a str>,
    /// Lines inside a code or literal block (or another directive's body).
    code: Vec<bool>,
}

impl Reader<'_> {
    fn err(&self, idx: usize, msg: impl Into<String>) -> DataError {
        DataError::invalid(self.file, Some(idx + 1), msg)
    }

    fn last_line(&self) -> usize {
        self.lines.len().saturating_sub(1)
    }
}

fn indent_of(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).count()
}

/// Marks the lines of directive bodies and literal blocks: after a line starting `.. ` with
/// `::`, or ending with `::`, every blank or more-indented line.
fn code_mask(lines: &[&str]) -> Vec<bool> {
    let mut mask = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        let opens = t.ends_with("::") || (t.starts_with(".. ") && t.contains("::"));
        if opens && !t.starts_with('|') && !t.starts_with('+') {
            let indent = indent_of(lines[i]);
            let mut j = i + 1;
            while j < lines.len() && (lines[j].trim().is_empty() || indent_of(lines[j]) > indent) {
                mask[j] = true;
                j += 1;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    mask
}

/// Reads one page. All problems found are returned, each naming `file` and a line.
pub fn parse_page(file: &Path, src: &str) -> Result<Page, Vec<DataError>> {
    let lines: Vec<&str> = src
        .lines()
        .map(|l| l.trim_end_matches('\r').trim_end())
        .collect();
    let code = code_mask(&lines);
    let r = Reader { file, lines, code };
    let n = r.lines.len();

    // Title: the first line underlined with ^.
    let title_idx = (0..n.saturating_sub(1)).find(|&i| {
        !r.code[i]
            && !r.lines[i].trim().is_empty()
            && !r.lines[i].starts_with(char::is_whitespace)
            && is_underline(r.lines[i + 1], '^')
    });
    let Some(title_idx) = title_idx else {
        // Point at a heading underlined with another character, if there is one.
        let other = (0..n.saturating_sub(1)).find(|&i| {
            !r.code[i]
                && !r.lines[i].trim().is_empty()
                && !r.lines[i].starts_with(char::is_whitespace)
                && "=-~\"'`#*+"
                    .chars()
                    .any(|c| is_underline(r.lines[i + 1], c))
        });
        return Err(vec![match other {
            Some(i) => r.err(
                i,
                format!(
                    "no title: `{}` is underlined with `{}`, a page title with ^^^^",
                    r.lines[i].trim(),
                    r.lines[i + 1].chars().next().unwrap_or('?')
                ),
            ),
            None => DataError::invalid(file, Some(1), "no title (a line underlined with ^^^^)"),
        }]);
    };
    let title = r.lines[title_idx].trim().to_string();

    // Label: the nearest `.. _label:` above the title.
    let label = (0..title_idx).rev().filter(|&i| !r.code[i]).find_map(|i| {
        let t = r.lines[i].trim();
        t.strip_prefix(".. _")
            .and_then(|rest| rest.strip_suffix(':'))
            .map(str::trim)
            .filter(|l| !l.is_empty())
    });
    let Some(label) = label else {
        return Err(vec![r.err(
            title_idx,
            "no `.. _label:` line above the title (the spec's source cites it)",
        )]);
    };

    let operation = snake_case(&title);
    if !is_snake(&operation) {
        return Err(vec![r.err(
            title_idx,
            format!(
                "cannot make a snake_case operation name from the title `{title}`; pass --operation"
            ),
        )]);
    }

    // Section headings.
    let heading = |word: &str, from: usize| {
        (from..n).find(|&i| !r.code[i] && r.lines[i] == word && !is_table_line(r.lines[i]))
    };
    let Some(request_idx) = heading("Request", title_idx + 2) else {
        return Err(vec![r.err(
            r.last_line(),
            "reached the end of the page without a `Request` section heading",
        )]);
    };
    let Some(response_idx) = heading("Response", request_idx + 1) else {
        return Err(vec![r.err(
            r.last_line(),
            "reached the end of the page without a `Response` section heading (after `Request`)",
        )]);
    };
    let section_of = |i: usize| {
        if i < request_idx {
            Section::Preamble
        } else if i < response_idx {
            Section::Request
        } else {
            Section::Response
        }
    };

    // Method and path: the first line of the first code block after the title.
    let first_code =
        (title_idx + 2..request_idx).find(|&i| r.code[i] && !r.lines[i].trim().is_empty());
    let Some(method_idx) = first_code else {
        return Err(vec![r.err(
            title_idx,
            "no `.. code::` block with `METHOD /path` between the title and the Request section",
        )]);
    };
    let (method, path) = parse_method_line(&r, method_idx).map_err(|e| vec![e])?;

    // Tables.
    let mut tables: Vec<(Section, Table)> = Vec::new();
    let mut i = title_idx + 2;
    while i < n {
        let line = r.lines[i];
        if r.code[i] {
            i += 1;
            continue;
        }
        let t = line.trim_start();
        if t.starts_with("+-") || t.starts_with("+=") {
            let (table, next) = parse_table(&r, i).map_err(|e| vec![e])?;
            tables.push((section_of(i), table));
            i = next;
        } else if t.starts_with('|') && t.len() > 1 && t.ends_with('|') {
            return Err(vec![r.err(
                i,
                "malformed grid table: a table row with no `+---+` border above it",
            )]);
        } else {
            i += 1;
        }
    }

    let mut errs = Vec::new();
    let mut responses = Vec::new();
    let mut parameters: Vec<Param> = Vec::new();
    // URI parameter names read, including rows rejected for their type.
    let mut uri_names: Vec<String> = Vec::new();
    let mut request_fields: Option<(usize, Vec<Field>)> = None;
    let mut response_fields: Option<(usize, Vec<Field>)> = None;
    for (section, table) in &tables {
        let kind = match classify(&r, *section, table, request_idx, response_idx) {
            Ok(k) => k,
            Err(e) => {
                errs.push(e);
                continue;
            }
        };
        match (section, kind) {
            (Section::Preamble, TableKind::Codes) => {
                if !responses.is_empty() {
                    errs.push(r.err(table.start, "a second response-code table"));
                    continue;
                }
                responses = read_codes(&r, table, &mut errs);
            }
            (Section::Request, TableKind::Uri | TableKind::Query) => {
                let location = if kind == TableKind::Uri {
                    Location::Path
                } else {
                    Location::Query
                };
                for p in read_params(&r, table, location, &mut uri_names, &mut errs) {
                    if parameters
                        .iter()
                        .any(|q| q.name == p.name && q.location == p.location)
                    {
                        errs.push(r.err(
                            p.line - 1,
                            format!("parameter `{}` is listed twice", p.name),
                        ));
                    } else {
                        parameters.push(p);
                    }
                }
            }
            (Section::Request | Section::Response, TableKind::Body) => {
                let slot = if *section == Section::Request {
                    &mut request_fields
                } else {
                    &mut response_fields
                };
                if slot.is_some() {
                    errs.push(r.err(table.start, "a second body parameter table in this section"));
                    continue;
                }
                *slot = Some((table.start, read_fields(&r, table, &mut errs)));
            }
            (section, kind) => errs.push(r.err(
                table.start,
                format!(
                    "unexpected {} table in the {} section",
                    kind_name(kind),
                    section_name(*section)
                ),
            )),
        }
    }
    if responses.is_empty() && !tables.iter().any(|(s, _)| *s == Section::Preamble) {
        errs.push(r.err(
            request_idx,
            "no response-code table (Response Code | Name | Description) before the Request section",
        ));
    }

    // Every path placeholder has a URI row, and every URI row is in the path.
    let placeholders = placeholders(&path);
    for p in parameters.iter().filter(|p| p.location == Location::Path) {
        if !placeholders.contains(&p.name) {
            errs.push(r.err(
                p.line - 1,
                format!(
                    "URI parameter `{{{}}}` does not occur in the path `{path}`",
                    p.name
                ),
            ));
        }
    }
    for name in &placeholders {
        if !uri_names.contains(name) {
            errs.push(r.err(
                method_idx,
                format!("path parameter `{{{name}}}` has no row in a URI parameter table"),
            ));
        }
    }

    let request_body = body_of(
        &r,
        Section::Request,
        request_idx,
        response_idx,
        request_fields,
        &mut errs,
    );
    let response_body = body_of(
        &r,
        Section::Response,
        response_idx,
        n,
        response_fields,
        &mut errs,
    );

    if !errs.is_empty() {
        errs.sort_by_key(|e| match e {
            DataError::Parse { line, .. } => line.unwrap_or(0),
            DataError::Read { .. } => 0,
        });
        return Err(errs);
    }
    Ok(Page {
        label: label.to_string(),
        title,
        operation,
        method,
        path,
        parameters,
        request_body: request_body.unwrap_or(Body::Unstated),
        response_body: response_body.unwrap_or(Body::ExampleOnly(Vec::new())),
        responses,
    })
}

fn is_underline(line: &str, ch: char) -> bool {
    let t = line.trim_end();
    t.len() >= 3 && t.chars().all(|c| c == ch)
}

fn is_table_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('+') || t.starts_with('|')
}

fn kind_name(kind: TableKind) -> &'static str {
    match kind {
        TableKind::Codes => "response-code",
        TableKind::Uri => "URI parameter",
        TableKind::Query => "query parameter",
        TableKind::Body => "body parameter",
    }
}

fn section_name(section: Section) -> &'static str {
    match section {
        Section::Preamble => "introductory",
        Section::Request => "Request",
        Section::Response => "Response",
    }
}

fn parse_method_line(r: &Reader<'_>, idx: usize) -> Result<(String, String), DataError> {
    let text = r.lines[idx].trim();
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [method, path] = parts.as_slice() else {
        return Err(r.err(
            idx,
            format!("expected `METHOD /path` as the first line of the code block, found `{text}`"),
        ));
    };
    if !path.starts_with('/') {
        return Err(r.err(
            idx,
            format!("expected `METHOD /path` as the first line of the code block, found `{text}`"),
        ));
    }
    if !METHODS.contains(method) {
        return Err(r.err(
            idx,
            format!("unknown method `{method}` (known: {})", METHODS.join(", ")),
        ));
    }
    let mut depth = 0i32;
    for c in path.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(r.err(idx, format!("unbalanced braces in the path `{path}`")));
        }
    }
    if depth != 0 {
        return Err(r.err(idx, format!("unbalanced braces in the path `{path}`")));
    }
    let full = if *path == "/v2" || path.starts_with("/v2/") {
        path.to_string()
    } else if *path == "/" {
        "/v2/".to_string()
    } else {
        format!("/v2{path}")
    };
    Ok((method.to_string(), full))
}

fn placeholders(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    out
}

/// Reads the grid table whose top border is line `start`; returns it and the index of the
/// first line after it.
fn parse_table(r: &Reader<'_>, start: usize) -> Result<(Table, usize), DataError> {
    let first = r.lines[start];
    let indent = indent_of(first);
    let top: Vec<char> = first.chars().skip(indent).collect();
    let malformed = |idx: usize, what: String| r.err(idx, format!("malformed grid table: {what}"));
    if top.first() != Some(&'+')
        || top.last() != Some(&'+')
        || top.len() < 3
        || !top.iter().all(|&c| c == '+' || c == '-')
    {
        return Err(malformed(
            start,
            "the top border must look like `+----+----+`".into(),
        ));
    }
    let bounds: Vec<usize> = top
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == '+')
        .map(|(i, _)| i)
        .collect();
    if bounds.windows(2).any(|w| w[1] == w[0] + 1) {
        return Err(malformed(start, "an empty column in the top border".into()));
    }
    let width = top.len();
    let columns = bounds.len() - 1;

    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    // The row being read: its first line and each column's lines.
    let mut pending: Option<(usize, Vec<Vec<String>>)> = None;
    let mut rows_before_header = 0;
    let mut i = start + 1;
    let mut closed = true;
    while i < r.lines.len() {
        let line = r.lines[i];
        if r.code[i] || line.trim().is_empty() {
            break;
        }
        let lead: String = line.chars().take(indent).collect();
        let chars: Vec<char> = line.chars().skip(indent).collect();
        if !lead.chars().all(char::is_whitespace) || !matches!(chars.first(), Some('+' | '|')) {
            break;
        }
        if chars.len() != width {
            return Err(malformed(
                i,
                format!(
                    "the line is {} characters wide, the top border {width}",
                    chars.len()
                ),
            ));
        }
        if chars[0] == '+' {
            let fill = chars[1];
            if fill != '-' && fill != '=' {
                return Err(malformed(i, "a border must be made of `-` or `=`".into()));
            }
            for (col, &c) in chars.iter().enumerate() {
                let want = if bounds.contains(&col) { '+' } else { fill };
                if c != want {
                    return Err(malformed(
                        i,
                        format!(
                            "expected `{want}` at column {} of the border (spanning cells are not supported)",
                            col + indent + 1
                        ),
                    ));
                }
            }
            let Some((line0, cols)) = pending.take() else {
                return Err(malformed(i, "two borders with no row between them".into()));
            };
            let cells: Vec<String> = cols.iter().map(|c| join_cell(c)).collect();
            if fill == '=' {
                if header.is_some() {
                    return Err(malformed(i, "a second header separator (`+===+`)".into()));
                }
                if rows_before_header > 0 {
                    return Err(malformed(
                        i,
                        "the header separator (`+===+`) must follow the first row".into(),
                    ));
                }
                header = Some(cells);
            } else if header.is_none() {
                rows_before_header += 1;
                rows.push(Row {
                    line: line0 + 1,
                    cells,
                });
            } else {
                rows.push(Row {
                    line: line0 + 1,
                    cells,
                });
            }
            closed = true;
        } else {
            for &b in &bounds {
                if chars[b] != '|' {
                    return Err(malformed(
                        i,
                        format!(
                            "expected `|` at column {} (cells must line up with the border; spanning cells are not supported)",
                            b + indent + 1
                        ),
                    ));
                }
            }
            let (_, cols) = pending.get_or_insert_with(|| (i, vec![Vec::new(); columns]));
            for (c, w) in bounds.windows(2).enumerate() {
                cols[c].push(chars[w[0] + 1..w[1]].iter().collect());
            }
            closed = false;
        }
        i += 1;
    }
    if !closed {
        return Err(malformed(
            i - 1,
            "the table ends without a closing border (`+----+`)".into(),
        ));
    }
    let Some(header) = header else {
        return Err(malformed(
            start,
            "no header row (a `+====+` line under the column names)".into(),
        ));
    };
    Ok((
        Table {
            start,
            header,
            rows,
        },
        i,
    ))
}

/// A cell's lines, trimmed, blank ones dropped, joined with spaces; RST's escaped
/// whitespace (`\ `) removed and runs of whitespace collapsed.
fn join_cell(lines: &[String]) -> String {
    let joined = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::with_capacity(joined.len());
    let mut chars = joined.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| n.is_whitespace()) {
            chars.next();
            continue;
        }
        out.push(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn header_is(table: &Table, names: &[&str]) -> bool {
    table.header.len() == names.len()
        && table
            .header
            .iter()
            .zip(names)
            .all(|(h, n)| h.eq_ignore_ascii_case(n))
}

/// Tells what a table describes, from its header, its introducing sentence and its names.
fn classify(
    r: &Reader<'_>,
    section: Section,
    table: &Table,
    request_idx: usize,
    response_idx: usize,
) -> Result<TableKind, DataError> {
    let shown = table.header.join(" | ");
    if section == Section::Preamble {
        if header_is(table, &["Response Code", "Name", "Description"]) {
            return Ok(TableKind::Codes);
        }
        return Err(r.err(
            table.start,
            format!("expected the response-code table (Response Code | Name | Description), found a table with columns {shown}"),
        ));
    }
    if !header_is(table, &["Name", "Type", "Description"]) {
        return Err(r.err(
            table.start,
            format!("expected a parameter table (Name | Type | Description), found a table with columns {shown}"),
        ));
    }
    let floor = if section == Section::Request {
        request_idx
    } else {
        response_idx
    };
    let intro = (floor + 1..table.start)
        .rev()
        .find(|&i| !r.lines[i].trim().is_empty())
        .filter(|&i| !r.code[i])
        .map(|i| r.lines[i].to_ascii_lowercase());
    if let Some(intro) = intro {
        if intro.contains("uri parameters") || intro.contains("path parameters") {
            return Ok(TableKind::Uri);
        }
        if intro.contains("query parameters") {
            return Ok(TableKind::Query);
        }
        if intro.contains("body parameters") {
            return Ok(TableKind::Body);
        }
        if intro.contains("header parameters") {
            return Err(r.err(
                table.start,
                "header parameter tables are not supported by the spec format",
            ));
        }
    }
    let names: Vec<&str> = table.rows.iter().map(|row| row.cells[0].as_str()).collect();
    if !names.is_empty() && names.iter().all(|n| n.starts_with('{') && n.ends_with('}')) {
        return Ok(TableKind::Uri);
    }
    if !names.is_empty() && names.iter().all(|n| n.contains("**")) {
        return Ok(TableKind::Body);
    }
    Err(r.err(
        table.start,
        "cannot tell whether this table lists URI, query or body parameters: no sentence \
         (\"This table shows the ... parameters ...\") introduces it, and its names do not say",
    ))
}

fn read_codes(r: &Reader<'_>, table: &Table, errs: &mut Vec<DataError>) -> Vec<Code> {
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
fn type_cell(cell: &str) -> (String, bool) {
    let required = cell.contains("*(Required)*");
    let kind = cell
        .replace("*(Required)*", " ")
        .replace("*(Optional)*", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (kind, required)
}

fn read_params(
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
fn field_path(cell: &str) -> Option<Vec<String>> {
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

fn read_fields(r: &Reader<'_>, table: &Table, errs: &mut Vec<DataError>) -> Vec<Field> {
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
fn body_of(
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
fn example_keys(code: &str) -> Vec<String> {
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

// ---------------------------------------------------------------------------------------
// Writing the YAML.

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
fn render(page: &Page, file_name: &str) -> String {
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
    let _ = writeln!(y, "source: {}", scalar(&format!("doc:{}", page.label)));
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
struct Doc<'a> {
    operation: &'a str,
    title: &'a str,
    source: String,
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
            source: format!("doc:{}", p.label),
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

// ---------------------------------------------------------------------------------------
// The CLI.

/// `sharecheck spec ...`: work with spec files.
#[derive(Debug, clap::Subcommand)]
pub enum SpecCommand {
    /// Import API reference pages (reStructuredText) as spec YAML drafts.
    ///
    /// Each page becomes `<operation>.yaml` in --out DIR, or, without --out, one YAML
    /// document per page on stdout, separated by `---`. Nothing is written when any page
    /// has a problem; each problem is reported as FILE:LINE: MESSAGE and the exit code is 2.
    Import(ImportArgs),
}

/// Options of `sharecheck spec import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The pages to import.
    #[arg(required = true, value_name = "PAGE.rst")]
    pub pages: Vec<PathBuf>,
    /// Write `<operation>.yaml` files into DIR (created if missing) instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Name the operation NAME instead of the title in snake_case (one page only).
    #[arg(long, value_name = "NAME")]
    pub operation: Option<String>,
    /// Overwrite files that already exist in --out DIR.
    #[arg(long)]
    pub force: bool,
}

/// Runs a `spec` subcommand; returns the process exit code (0, or 2 on any problem).
pub fn run(command: SpecCommand) -> ExitCode {
    match command {
        SpecCommand::Import(args) => run_import(&args),
    }
}

fn fail_all(errs: &[impl std::fmt::Display]) -> ExitCode {
    for e in errs {
        eprintln!("sharecheck: error: {e}");
    }
    ExitCode::from(USAGE)
}

fn run_import(args: &ImportArgs) -> ExitCode {
    if args.operation.is_some() && args.pages.len() != 1 {
        return fail_all(&["--operation names one operation, so it takes exactly one page"]);
    }
    let mut imported: Vec<(PathBuf, Imported)> = Vec::new();
    let mut errs: Vec<String> = Vec::new();
    for page in &args.pages {
        match import_file(page, args.operation.as_deref()) {
            Ok(i) => {
                if let Some((other, _)) = imported
                    .iter()
                    .find(|(_, j)| j.page.operation == i.page.operation)
                {
                    errs.push(format!(
                        "{}: operation `{}` is also imported from {}",
                        page.display(),
                        i.page.operation,
                        other.display()
                    ));
                } else {
                    imported.push((page.clone(), i));
                }
            }
            Err(e) => errs.extend(e.iter().map(|d| d.to_string())),
        }
    }
    if !errs.is_empty() {
        return fail_all(&errs);
    }
    match &args.out {
        None => {
            let docs: Vec<&str> = imported.iter().map(|(_, i)| i.yaml.as_str()).collect();
            let text = docs.join("---\n");
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                return fail_all(&[format!("cannot write to stdout: {e}")]);
            }
            ExitCode::SUCCESS
        }
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return fail_all(&[format!("{}: cannot create: {e}", dir.display())]);
            }
            let targets: Vec<PathBuf> = imported
                .iter()
                .map(|(_, i)| dir.join(format!("{}.yaml", i.page.operation)))
                .collect();
            if !args.force {
                let existing: Vec<String> = targets
                    .iter()
                    .filter(|t| t.exists())
                    .map(|t| format!("{}: exists; pass --force to overwrite", t.display()))
                    .collect();
                if !existing.is_empty() {
                    return fail_all(&existing);
                }
            }
            for (target, (_, i)) in targets.iter().zip(&imported) {
                if let Err(e) = std::fs::write(target, &i.yaml) {
                    return fail_all(&[format!("{}: cannot write: {e}", target.display())]);
                }
                let _ = writeln!(std::io::stdout(), "wrote {}", target.display());
            }
            ExitCode::SUCCESS
        }
    }
}
