//! The authorization matrix: per operation, image visibility and persona the expected status
//! code, or the key of a reason why the cell cannot be provoked. `cases/matrix.yaml` names the
//! columns and the reasons; each spec's `matrix:` section (a [`Probe`]) gives its operation's
//! rows and the request a cell sends. Each code becomes an ordinary [`Case`], built as a
//! value (never as text), named `<operation>::<code>::matrix_<persona>_<visibility>` and
//! citing that row of the operation's table.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::case::{Case, CaseFile};
use super::spec::Operation;
use crate::error::DataError;

mod probe;

use probe::Entry;
pub use probe::Probe;

/// Where the matrix's columns and reasons live, under `cases/`.
pub(crate) const FILE: &str = "matrix.yaml";

/// The persona columns of every row, in order.
pub const COLUMNS: &[&str] = &[
    "owner",
    "pending",
    "accepted",
    "rejected",
    "other_member",
    "stranger",
    "admin",
    "reader",
    "anonymous",
    "bad_token",
];

/// Rows of operations that act on an existing image, one per visibility.
pub const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];

/// The one row of an operation that involves no existing image.
const ANY: &str = "any";

/// One cell of the matrix.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The operation (a spec).
    pub operation: String,
    /// A persona column.
    pub persona: String,
    /// A visibility, or `any`.
    pub visibility: String,
    /// The expected code, when the cell is a case.
    pub code: Option<u16>,
    /// The trial name of the cell's case.
    pub case: Option<String>,
    /// Why the cell cannot be provoked.
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    columns: Vec<String>,
    reasons: BTreeMap<String, String>,
}

/// The 1-based line of `key:` at or after line `from` (1-based), or `from` itself.
fn line_after(src: &str, from: usize, key: &str) -> usize {
    src.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.starts_with(':'))
        })
        .map_or(from, |(i, _)| i + 1)
}

/// A spec file: its path and text, for the lines of its problems.
pub(crate) type Source<'a> = (&'a Path, &'a str);

/// What the expansion shares: the loaded specs and schemas, the reasons, and what it found.
struct Expansion<'a> {
    ops: &'a [Operation],
    schemas: &'a [String],
    reasons: &'a BTreeMap<String, String>,
    cases: Vec<Case>,
    cells: Vec<Cell>,
    errs: Vec<DataError>,
}

/// Expands the matrix: the columns and reasons of `path` (`cases/matrix.yaml`, text `src`)
/// and the `matrix:` section of every spec in `ops` (`sources`: each spec's file by name).
pub(crate) fn expand(
    path: &Path,
    src: &str,
    ops: &[Operation],
    sources: &BTreeMap<String, Source>,
    schemas: &[String],
) -> Result<(Vec<Case>, Vec<Cell>), Vec<DataError>> {
    let file: MatrixFile =
        serde_yaml::from_str(src).map_err(|e| vec![DataError::yaml(path, &e)])?;
    let mut x = Expansion {
        ops,
        schemas,
        reasons: &file.reasons,
        cases: Vec::new(),
        cells: Vec::new(),
        errs: Vec::new(),
    };
    if file.columns != COLUMNS {
        x.errs.push(DataError::invalid(
            path,
            Some(line_after(src, 1, "columns")),
            format!("columns must be exactly [{}]", COLUMNS.join(", ")),
        ));
    }
    for (key, reason) in &file.reasons {
        if reason.trim().is_empty() {
            x.errs.push(DataError::invalid(
                path,
                Some(line_after(src, 1, key)),
                format!("reason `{key}` is empty"),
            ));
        }
    }
    for op in ops {
        let (Some(probe), Some(source)) = (&op.matrix, sources.get(&op.operation)) else {
            continue;
        };
        x.operation(op, probe, *source);
    }
    if x.errs.is_empty() {
        Ok((x.cases, x.cells))
    } else {
        Err(x.errs)
    }
}

impl Expansion<'_> {
    /// The rows of one operation.
    fn operation(&mut self, op: &Operation, probe: &Probe, (path, src): Source) {
        let name = &op.operation;
        let matrix_line = line_after(src, 1, "matrix");
        let rows_line = line_after(src, matrix_line, "rows");
        let problems = probe.problems(&op.path, VISIBILITIES);
        let had_problems = !problems.is_empty();
        for p in problems {
            self.errs.push(DataError::invalid(
                path,
                Some(matrix_line),
                format!("{name} matrix: {p}"),
            ));
        }
        let wanted: &[&str] = if probe.image.is_none() && probe.rows.contains_key(ANY) {
            &[ANY]
        } else {
            VISIBILITIES
        };
        let mut keys: Vec<&str> = probe.rows.keys().map(String::as_str).collect();
        let mut sorted = wanted.to_vec();
        keys.sort_unstable();
        sorted.sort_unstable();
        if keys != sorted {
            self.errs.push(DataError::invalid(
                path,
                Some(rows_line),
                format!("`{name}` needs exactly the rows {}", wanted.join(", ")),
            ));
            return;
        }
        if had_problems {
            return;
        }
        for (vis, values) in &probe.rows {
            let line = line_after(src, rows_line, vis);
            if values.len() != COLUMNS.len() {
                self.errs.push(DataError::invalid(
                    path,
                    Some(line),
                    format!(
                        "`{name}` `{vis}` has {} entries, one per column ({}) expected",
                        values.len(),
                        COLUMNS.len()
                    ),
                ));
                continue;
            }
            for (persona, value) in COLUMNS.iter().zip(values) {
                self.cell(op, probe, vis, persona, value, (path, line));
            }
        }
    }

    /// One cell: a reason, or a case built from the probe.
    fn cell(
        &mut self,
        op: &Operation,
        probe: &Probe,
        vis: &str,
        persona: &str,
        value: &Entry,
        (path, line): (&Path, usize),
    ) {
        let name = &op.operation;
        let mut cell = Cell {
            operation: name.clone(),
            persona: persona.to_string(),
            visibility: vis.to_string(),
            code: None,
            case: None,
            reason: None,
        };
        let bad = |msg: String| DataError::invalid(path, Some(line), msg);
        let lists = probe.unlisted_check.is_some();
        let (code, listed) = match value {
            Entry::Code(c) => (*c, None),
            Entry::Word(w) if self.reasons.contains_key(w) => {
                cell.reason = Some(self.reasons[w].clone());
                self.cells.push(cell);
                return;
            }
            Entry::Word(w) => match list_code(w) {
                Some(found) if lists => found,
                _ => {
                    self.errs.push(bad(format!(
                        "`{w}` ({name}, {vis}, {persona}) is neither a code, a list code \
                         (200+ listed, 200- not listed, where the probe has an unlisted_check) \
                         nor a reason key"
                    )));
                    return;
                }
            },
        };
        if lists && (code < 300) != listed.is_some() {
            self.errs.push(bad(format!(
                "{name} {vis} {persona}: a success is written 200+ or 200- (listed or not), \
                 other codes plain"
            )));
            return;
        }
        let spec_cell = probe::Cell {
            operation: name,
            method: &op.method,
            path: &op.path,
            visibility: vis,
            persona,
            code,
            listed,
        };
        let rel = format!("{name}/{code}/matrix_{persona}_{vis}.yaml");
        let built = probe
            .case(&spec_cell)
            .and_then(|doc| serde_json::from_value::<CaseFile>(doc).map_err(|e| e.to_string()));
        let file = match built {
            Ok(file) => file,
            Err(e) => {
                self.errs.push(bad(format!("{name} {vis} {persona}: {e}")));
                return;
            }
        };
        match Case::from_file(path, Path::new(&rel), file, self.ops, self.schemas) {
            Ok(c) => {
                cell.code = Some(code);
                cell.case = Some(c.name.clone());
                self.cells.push(cell);
                self.cases.push(c);
            }
            Err(e) => self.errs.extend(e.into_iter().map(|d| {
                let msg = match d {
                    DataError::Parse { message, .. } => message,
                    other => crate::error::chain(&other),
                };
                bad(format!("{name} {vis} {persona}: {msg}"))
            })),
        }
    }
}

/// `200+` → (200, listed), `200-` → (200, not listed).
fn list_code(word: &str) -> Option<(u16, Option<bool>)> {
    let (code, listed) = match (word.strip_suffix('+'), word.strip_suffix('-')) {
        (Some(c), _) => (c, true),
        (_, Some(c)) => (c, false),
        _ => return None,
    };
    Some((code.parse().ok()?, Some(listed)))
}
