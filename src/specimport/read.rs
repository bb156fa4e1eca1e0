//! Reading a page: the title, label, method line and sections, and what each table says.

use std::path::Path;

use super::rows::{body_of, read_codes, read_fields, read_params};
use super::rst::{Reader, Table, code_mask, header_is, is_table_line, is_underline, parse_table};
use super::{Body, Code, Field, Location, METHODS, Page, Param, Section, is_snake, snake_case};
use crate::error::DataError;

/// What a parameter table describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TableKind {
    Codes,
    Uri,
    Query,
    Body,
}

/// The title, its label and the operation name made from it.
struct Head {
    /// 0-based line of the title.
    title_idx: usize,
    title: String,
    label: String,
    operation: String,
}

/// Where the section headings are (0-based lines).
struct Sections {
    request: usize,
    response: usize,
}

impl Sections {
    fn of(&self, i: usize) -> Section {
        if i < self.request {
            Section::Preamble
        } else if i < self.response {
            Section::Request
        } else {
            Section::Response
        }
    }
}

/// What the tables say, before the cross-checks.
#[derive(Default)]
struct TableData {
    responses: Vec<Code>,
    parameters: Vec<Param>,
    /// URI parameter names read, including rows rejected for their type.
    uri_names: Vec<String>,
    /// A body table's first line and fields, per section.
    request_fields: Option<(usize, Vec<Field>)>,
    response_fields: Option<(usize, Vec<Field>)>,
}

/// Reads one page. All problems found are returned, each naming `file` and a line.
pub fn parse_page(file: &Path, src: &str) -> Result<Page, Vec<DataError>> {
    let lines: Vec<&str> = src
        .lines()
        .map(|l| l.trim_end_matches('\r').trim_end())
        .collect();
    let code = code_mask(&lines);
    let r = Reader { file, lines, code };
    let one = |e: DataError| vec![e];

    let head = read_head(&r).map_err(one)?;
    let sections = find_sections(&r, head.title_idx).map_err(one)?;
    let (method_idx, method, path) = read_method(&r, &head, &sections).map_err(one)?;
    let tables = find_tables(&r, head.title_idx + 2, &sections).map_err(one)?;

    let mut errs = Vec::new();
    let data = read_tables(&r, &tables, &sections, &mut errs);
    if data.responses.is_empty() && !tables.iter().any(|(s, _)| *s == Section::Preamble) {
        errs.push(r.err(
            sections.request,
            "no response-code table (Response Code | Name | Description) before the Request section",
        ));
    }
    check_placeholders(&r, &path, method_idx, &data, &mut errs);
    let request_body = body_of(
        &r,
        Section::Request,
        sections.request,
        sections.response,
        data.request_fields,
        &mut errs,
    );
    let response_body = body_of(
        &r,
        Section::Response,
        sections.response,
        r.lines.len(),
        data.response_fields,
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
        source: format!("doc:{}", head.label),
        since: None,
        label: head.label,
        title: head.title,
        operation: head.operation,
        method,
        path,
        parameters: data.parameters,
        request_body: request_body.unwrap_or(Body::Unstated),
        response_body: response_body.unwrap_or(Body::ExampleOnly(Vec::new())),
        responses: data.responses,
    })
}

/// A line that could be a heading: prose, not indented, not blank, with a next line.
fn heading_candidate(r: &Reader<'_>, i: usize) -> bool {
    !r.code[i] && !r.lines[i].trim().is_empty() && !r.lines[i].starts_with(char::is_whitespace)
}

/// The title (the first line underlined with `^`), the nearest `.. _label:` above it, and
/// the operation name.
fn read_head(r: &Reader<'_>) -> Result<Head, DataError> {
    let n = r.lines.len();
    let title_idx = (0..n.saturating_sub(1))
        .find(|&i| heading_candidate(r, i) && is_underline(r.lines[i + 1], '^'));
    let Some(title_idx) = title_idx else {
        return Err(no_title(r));
    };
    let title = r.lines[title_idx].trim().to_string();
    let label = (0..title_idx).rev().filter(|&i| !r.code[i]).find_map(|i| {
        let t = r.lines[i].trim();
        t.strip_prefix(".. _")
            .and_then(|rest| rest.strip_suffix(':'))
            .map(str::trim)
            .filter(|l| !l.is_empty())
    });
    let Some(label) = label else {
        return Err(r.err(
            title_idx,
            "no `.. _label:` line above the title (the spec's source cites it)",
        ));
    };
    let operation = snake_case(&title);
    if !is_snake(&operation) {
        return Err(r.err(
            title_idx,
            format!(
                "cannot make a snake_case operation name from the title `{title}`; pass --operation"
            ),
        ));
    }
    Ok(Head {
        title_idx,
        title,
        label: label.to_string(),
        operation,
    })
}

/// The error for a page without a title: points at a heading underlined with another
/// character, if there is one.
fn no_title(r: &Reader<'_>) -> DataError {
    let other = (0..r.lines.len().saturating_sub(1)).find(|&i| {
        heading_candidate(r, i)
            && "=-~\"'`#*+"
                .chars()
                .any(|c| is_underline(r.lines[i + 1], c))
    });
    match other {
        Some(i) => r.err(
            i,
            format!(
                "no title: `{}` is underlined with `{}`, a page title with ^^^^",
                r.lines[i].trim(),
                r.lines[i + 1].chars().next().unwrap_or('?')
            ),
        ),
        None => DataError::invalid(r.file, Some(1), "no title (a line underlined with ^^^^)"),
    }
}

/// The `Request` and `Response` headings, in that order, after the title.
fn find_sections(r: &Reader<'_>, title_idx: usize) -> Result<Sections, DataError> {
    let heading = |word: &str, from: usize| {
        (from..r.lines.len())
            .find(|&i| !r.code[i] && r.lines[i] == word && !is_table_line(r.lines[i]))
    };
    let Some(request) = heading("Request", title_idx + 2) else {
        return Err(r.err(
            r.last_line(),
            "reached the end of the page without a `Request` section heading",
        ));
    };
    let Some(response) = heading("Response", request + 1) else {
        return Err(r.err(
            r.last_line(),
            "reached the end of the page without a `Response` section heading (after `Request`)",
        ));
    };
    Ok(Sections { request, response })
}

/// Method and path: the first line of the first code block after the title; with the
/// 0-based line they are on.
fn read_method(
    r: &Reader<'_>,
    head: &Head,
    sections: &Sections,
) -> Result<(usize, String, String), DataError> {
    let first_code = (head.title_idx + 2..sections.request)
        .find(|&i| r.code[i] && !r.lines[i].trim().is_empty());
    let Some(method_idx) = first_code else {
        return Err(r.err(
            head.title_idx,
            "no `.. code::` block with `METHOD /path` between the title and the Request section",
        ));
    };
    let (method, path) = parse_method_line(r, method_idx)?;
    Ok((method_idx, method, path))
}

/// Every grid table from line `from` on (code blocks skipped), with its section.
fn find_tables(
    r: &Reader<'_>,
    from: usize,
    sections: &Sections,
) -> Result<Vec<(Section, Table)>, DataError> {
    let mut tables = Vec::new();
    let mut i = from;
    while i < r.lines.len() {
        let t = r.lines[i].trim_start();
        if r.code[i] {
            i += 1;
        } else if t.starts_with("+-") || t.starts_with("+=") {
            let (table, next) = parse_table(r, i)?;
            tables.push((sections.of(i), table));
            i = next;
        } else if t.starts_with('|') && t.len() > 1 && t.ends_with('|') {
            return Err(r.err(
                i,
                "malformed grid table: a table row with no `+---+` border above it",
            ));
        } else {
            i += 1;
        }
    }
    Ok(tables)
}

/// Reads each table as what it is in its section.
fn read_tables(
    r: &Reader<'_>,
    tables: &[(Section, Table)],
    sections: &Sections,
    errs: &mut Vec<DataError>,
) -> TableData {
    let mut data = TableData::default();
    for (section, table) in tables {
        match classify(r, *section, table, sections.request, sections.response) {
            Ok(kind) => read_table(r, *section, kind, table, &mut data, errs),
            Err(e) => errs.push(e),
        }
    }
    data
}

/// Reads one classified table into `data`.
fn read_table(
    r: &Reader<'_>,
    section: Section,
    kind: TableKind,
    table: &Table,
    data: &mut TableData,
    errs: &mut Vec<DataError>,
) {
    match (section, kind) {
        (Section::Preamble, TableKind::Codes) => {
            if !data.responses.is_empty() {
                errs.push(r.err(table.start, "a second response-code table"));
                return;
            }
            data.responses = read_codes(r, table, errs);
        }
        (Section::Request, TableKind::Uri | TableKind::Query) => {
            let location = if kind == TableKind::Uri {
                Location::Path
            } else {
                Location::Query
            };
            for p in read_params(r, table, location, &mut data.uri_names, errs) {
                if data
                    .parameters
                    .iter()
                    .any(|q| q.name == p.name && q.location == p.location)
                {
                    errs.push(r.err(
                        p.line - 1,
                        format!("parameter `{}` is listed twice", p.name),
                    ));
                } else {
                    data.parameters.push(p);
                }
            }
        }
        (Section::Request | Section::Response, TableKind::Body) => {
            let slot = if section == Section::Request {
                &mut data.request_fields
            } else {
                &mut data.response_fields
            };
            if slot.is_some() {
                errs.push(r.err(table.start, "a second body parameter table in this section"));
                return;
            }
            *slot = Some((table.start, read_fields(r, table, errs)));
        }
        (section, kind) => errs.push(r.err(
            table.start,
            format!(
                "unexpected {} table in the {} section",
                kind_name(kind),
                section_name(section)
            ),
        )),
    }
}

/// Every path placeholder has a URI row, and every URI row is in the path.
fn check_placeholders(
    r: &Reader<'_>,
    path: &str,
    method_idx: usize,
    data: &TableData,
    errs: &mut Vec<DataError>,
) {
    let placeholders = placeholders(path);
    for p in data
        .parameters
        .iter()
        .filter(|p| p.location == Location::Path)
    {
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
        if !data.uri_names.contains(name) {
            errs.push(r.err(
                method_idx,
                format!("path parameter `{{{name}}}` has no row in a URI parameter table"),
            ));
        }
    }
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
