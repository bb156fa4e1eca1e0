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
//!
//! The module's parts: `rst` reads lines and grid tables, `read` makes a [`Page`] of
//! them, `render` writes the page as YAML; this file holds the page's types and the API
//! ([`import`], [`import_file`], [`import_pages`], [`write_specs`]). The CLI is in `main.rs`.
//!
//! A public namespace (one of two the crate root allows) because it is a tool of its own
//! with its own vocabulary: at the root, its fifteen names ([`import`], [`Page`], [`Body`],
//! [`Field`], [`Location`], …) would each need a prefix to tell them from the suite's.

mod apiref;
mod read;
mod render;
mod rows;
mod rst;

use std::path::{Path, PathBuf};

pub use apiref::parse_inc;
pub use read::parse_page;
use render::{Doc, render};

use crate::error::DataError;
use crate::suite::Operation;

/// Methods the spec format allows.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// One page, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The page's `.. _label:` (an api-ref section: `<file>#<title slug>`).
    pub label: String,
    /// The citation the spec's `source` gets: `doc:<label>` for a seed page,
    /// `api-ref:<file>#<title slug>` for a section of the api-ref.
    pub source: String,
    /// The Image API version the operation appeared in (`2.6`), when the page says.
    pub since: Option<String>,
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

/// Which part of a page a line is in: before the Request heading, or under the Request or
/// Response heading. `read` finds the parts; `rows` reads a part's tables and body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Preamble,
    Request,
    Response,
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
    let src = read(path)?;
    import(path, &src, operation)
}

fn read(path: &Path) -> Result<String, Vec<DataError>> {
    std::fs::read_to_string(path).map_err(|source| {
        vec![DataError::Read {
            path: path.to_path_buf(),
            source,
        }]
    })
}

/// Reads and imports every operation of an api-ref `.inc` file; `operation` overrides the
/// name of a file holding one operation.
pub fn import_inc_file(
    path: &Path,
    operation: Option<&str>,
) -> Result<Vec<Imported>, Vec<DataError>> {
    let src = read(path)?;
    let pages = parse_inc(path, &src)?;
    if operation.is_some() && pages.len() != 1 {
        return Err(vec![DataError::invalid(
            path,
            None,
            format!(
                "--operation names one operation; this file holds {}",
                pages.len()
            ),
        )]);
    }
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for page in pages {
        match finish(path, page, operation) {
            Ok(i) => out.push(i),
            Err(e) => errs.extend(e),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// Imports one page's text; `file` names it in errors and in the YAML's header comment.
pub fn import(file: &Path, src: &str, operation: Option<&str>) -> Result<Imported, Vec<DataError>> {
    finish(file, parse_page(file, src)?, operation)
}

/// Names, renders and checks one page read from `file`.
fn finish(
    file: &Path,
    mut page: Page,
    operation: Option<&str>,
) -> Result<Imported, Vec<DataError>> {
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
        let all: Vec<String> = errs.iter().map(|e| crate::error::chain(e)).collect();
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

pub(crate) fn is_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Why pages could not be imported or written: every problem, one line each (`FILE:LINE:
/// MESSAGE` for a page's problems). Nothing has been written when it is returned.
#[derive(Debug)]
pub struct SpecImportError {
    /// The problems, in the order found.
    pub problems: Vec<String>,
}

impl SpecImportError {
    fn one(msg: impl Into<String>) -> Self {
        SpecImportError {
            problems: vec![msg.into()],
        }
    }
}

impl std::fmt::Display for SpecImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for SpecImportError {}

/// Imports every page, in order; `operation` names the operation of a single page. Fails
/// with every problem of every page, and when two pages make the same operation.
pub fn import_pages(
    pages: &[PathBuf],
    operation: Option<&str>,
) -> Result<Vec<Imported>, SpecImportError> {
    if operation.is_some() && pages.len() != 1 {
        return Err(SpecImportError::one(
            "--operation names one operation, so it takes exactly one page",
        ));
    }
    // (an api-ref `.inc` file may hold several operations: each is one spec)
    let mut imported: Vec<(&PathBuf, Imported)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for page in pages {
        let read = if page.extension().is_some_and(|e| e == "inc") {
            import_inc_file(page, operation)
        } else {
            import_file(page, operation).map(|i| vec![i])
        };
        for result in read.map_or_else(|e| vec![Err(e)], |v| v.into_iter().map(Ok).collect()) {
            match result {
                Ok(i) => {
                    if let Some((other, _)) = imported
                        .iter()
                        .find(|(_, j)| j.page.operation == i.page.operation)
                    {
                        problems.push(format!(
                            "{}: operation `{}` is also imported from {}",
                            page.display(),
                            i.page.operation,
                            other.display()
                        ));
                    } else {
                        imported.push((page, i));
                    }
                }
                Err(e) => problems.extend(e.iter().map(|d| crate::error::chain(d))),
            }
        }
    }
    if !problems.is_empty() {
        return Err(SpecImportError { problems });
    }
    Ok(imported.into_iter().map(|(_, i)| i).collect())
}

/// The citation index of the pages: `CITATION: {method: M, path: P, codes: [..]}` lines sorted by
/// citation (the format of `specs/sources.yaml`, which holds no prose of the pages).
pub fn sources_index(imported: &[Imported]) -> String {
    let mut lines: Vec<String> = imported
        .iter()
        .map(|i| {
            let codes: Vec<String> = i
                .page
                .responses
                .iter()
                .map(|c| c.code.to_string())
                .collect();
            format!(
                "{}: {{method: {}, path: {}, codes: [{}]}}\n",
                serde_json::to_string(&i.page.source).unwrap_or_default(),
                i.page.method,
                serde_json::to_string(&i.page.path).unwrap_or_default(),
                codes.join(", ")
            )
        })
        .collect();
    lines.sort();
    lines.concat()
}

/// The pages' YAML as one stream: documents separated by `---`.
pub fn yaml_stream(imported: &[Imported]) -> String {
    let docs: Vec<&str> = imported.iter().map(|i| i.yaml.as_str()).collect();
    docs.join("---\n")
}

/// Writes `<operation>.yaml` for each page into `out_dir` (created if missing), calling
/// `written` after each file. Without `force`, nothing is written when any file exists.
pub fn write_specs(
    imported: &[Imported],
    out_dir: &Path,
    force: bool,
    mut written: impl FnMut(&Path),
) -> Result<(), SpecImportError> {
    std::fs::create_dir_all(out_dir)
        .map_err(|e| SpecImportError::one(format!("{}: cannot create: {e}", out_dir.display())))?;
    let targets: Vec<PathBuf> = imported
        .iter()
        .map(|i| out_dir.join(format!("{}.yaml", i.page.operation)))
        .collect();
    if !force {
        let existing: Vec<String> = targets
            .iter()
            .filter(|t| t.exists())
            .map(|t| format!("{}: exists; pass --force to overwrite", t.display()))
            .collect();
        if !existing.is_empty() {
            return Err(SpecImportError { problems: existing });
        }
    }
    for (target, i) in targets.iter().zip(imported) {
        std::fs::write(target, &i.yaml).map_err(|e| {
            SpecImportError::one(format!("{}: cannot write: {e}", target.display()))
        })?;
        written(target);
    }
    Ok(())
}
