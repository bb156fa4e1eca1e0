//! The authorization matrix as the report shows it: per operation, one row per visibility and
//! one column per persona; each cell the expected code and how its case ended, or `n/p` for a
//! cell that cannot be provoked.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::build::Outcome;
use super::html::esc;
use crate::suite::Suite;
use crate::suite::matrix::COLUMNS;
use crate::suite::record::Record;

/// One cell as text: `404 ✓`, `n/p`, or `404 –` when its case did not run.
fn cell_text(cell: &crate::suite::Cell, records: &BTreeMap<&str, &Record>) -> String {
    match (cell.code, &cell.case) {
        (Some(code), Some(case)) => {
            let outcome = records.get(case.as_str()).map_or(Outcome::NotRun, |r| {
                Outcome::from_verdict(&r.verdict, &|s| s.to_string())
            });
            format!("{code} {}", outcome.glyph())
        }
        _ => "n/p".to_string(),
    }
}

/// Operation → visibility → persona → cell text, in the matrix file's order of columns.
fn tables(suite: &Suite, records: &[Record]) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let by_name: BTreeMap<&str, &Record> = records.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for cell in &suite.matrix {
        let row = out
            .entry(cell.operation.clone())
            .or_default()
            .entry(cell.visibility.clone())
            .or_insert_with(|| vec![String::new(); COLUMNS.len()]);
        if let Some(i) = COLUMNS.iter().position(|c| *c == cell.persona) {
            row[i] = cell_text(cell, &by_name);
        }
    }
    out
}

/// The section in Markdown (empty when the suite has no matrix).
pub(super) fn markdown(suite: &Suite, records: &[Record]) -> String {
    let tables = tables(suite, records);
    if tables.is_empty() {
        return String::new();
    }
    let mut o = String::from(
        "\n## Authorization matrix\n\nExpected code per persona and visibility, and how its \
case ended (✓ passed, ✗ failed, ⊘ ignored, – not run); n/p: cannot be provoked (the reason is \
in cases/matrix.yaml).\n",
    );
    for (op, rows) in &tables {
        let _ = writeln!(
            o,
            "\n### `{op}`\n\n| visibility | {} |",
            COLUMNS.join(" | ")
        );
        let _ = writeln!(o, "|---|{}", "---|".repeat(COLUMNS.len()));
        for (vis, cells) in rows {
            let _ = writeln!(o, "| {vis} | {} |", cells.join(" | "));
        }
    }
    o
}

/// The section in HTML (empty when the suite has no matrix).
pub(super) fn html(suite: &Suite, records: &[Record]) -> String {
    let tables = tables(suite, records);
    if tables.is_empty() {
        return String::new();
    }
    let mut o = String::from("<h2>Authorization matrix</h2>\n");
    for (op, rows) in &tables {
        let _ = write!(
            o,
            "<h3><code>{}</code></h3>\n<table><tr><th>visibility</th>",
            esc(op)
        );
        for c in COLUMNS {
            let _ = write!(o, "<th>{}</th>", esc(c));
        }
        o.push_str("</tr>\n");
        for (vis, cells) in rows {
            let _ = write!(o, "<tr><td>{}</td>", esc(vis));
            for c in cells {
                let _ = write!(o, "<td>{}</td>", esc(c));
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
    }
    o
}
