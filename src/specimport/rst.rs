//! Reading reStructuredText: the page's lines, which of them are code, and grid tables.

use std::path::Path;

use crate::error::DataError;

/// A grid table: header cells and rows of joined cell text.
#[derive(Debug)]
pub(super) struct Table {
    /// 0-based index of the top border.
    pub(super) start: usize,
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<Row>,
}

#[derive(Debug)]
pub(super) struct Row {
    /// 1-based line of the row's first line.
    pub(super) line: usize,
    pub(super) cells: Vec<String>,
}

pub(super) struct Reader<'a> {
    pub(super) file: &'a Path,
    pub(super) lines: Vec<&'a str>,
    /// Lines inside a code or literal block (or another directive's body).
    pub(super) code: Vec<bool>,
}

impl Reader<'_> {
    pub(super) fn err(&self, idx: usize, msg: impl Into<String>) -> DataError {
        DataError::invalid(self.file, Some(idx + 1), msg)
    }

    pub(super) fn last_line(&self) -> usize {
        self.lines.len().saturating_sub(1)
    }
}

pub(super) fn indent_of(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).count()
}

/// Marks the lines of directive bodies and literal blocks: after a line starting `.. ` with
/// `::`, or ending with `::`, every blank or more-indented line.
pub(super) fn code_mask(lines: &[&str]) -> Vec<bool> {
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

pub(super) fn is_underline(line: &str, ch: char) -> bool {
    let t = line.trim_end();
    t.len() >= 3 && t.chars().all(|c| c == ch)
}

pub(super) fn is_table_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('+') || t.starts_with('|')
}

/// Reads the grid table whose top border is line `start`; returns it and the index of the
/// first line after it.
pub(super) fn parse_table(r: &Reader<'_>, start: usize) -> Result<(Table, usize), DataError> {
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
pub(super) fn join_cell(lines: &[String]) -> String {
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

pub(super) fn header_is(table: &Table, names: &[&str]) -> bool {
    table.header.len() == names.len()
        && table
            .header
            .iter()
            .zip(names)
            .all(|(h, n)| h.eq_ignore_ascii_case(n))
}
