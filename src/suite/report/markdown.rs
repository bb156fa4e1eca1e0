//! `report.md`: the report as Markdown.

use std::fmt::Write as _;

use super::build::{Cell, Report, docs_text, extra_text};

/// Text safe inside a Markdown table cell or paragraph.
pub(super) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
    {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

pub(super) const MD_LEGEND: &str = "\
- **passed**, **failed**, **ignored** (footnote: why), **expected failure** / **unexpected pass** \
(per `--expect`), **not run** (filtered out by the test options): how each case citing that \
(operation, code) row ended.
- **not provokable**: the row has no case on purpose; the footnote says why.
- **no case**: the row has neither a case nor a `not_provokable` reason.
- *undoc.* (italic): the documentation's table does not list this code (`documented: false`, \
observed on the reference implementation).
- **observed ×N, not in table**: the target answered with a code the operation's table does not \
have.
- `·`: the operation's table has no row for this code.
- *exercised*: table rows with at least one case that reached the target, of all rows.
";

impl Report<'_> {
    pub(super) fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# sharecheck traceability and drift report\n");
        let _ = writeln!(o, "- Target: `{}`", self.endpoint);
        let _ = writeln!(o, "- Run: `{}`, started {}", self.run_id, self.started);
        let _ = writeln!(o, "- Wall time: {}", self.wall());
        let totals: Vec<String> = self
            .totals()
            .iter()
            .map(|(_, w, n)| format!("{n} {w}"))
            .collect();
        let _ = writeln!(o, "- Cases: {} — {}", self.cases, totals.join(", "));
        let (missing, extra) = self.drift_counts();
        let _ = writeln!(
            o,
            "- Drift: {missing} documented code(s) never produced although their cases ran; \
{extra} undocumented code(s) produced"
        );
        let _ = writeln!(o, "\n## Legend\n\n{MD_LEGEND}");

        let _ = writeln!(o, "## Matrix\n");
        let head: Vec<String> = self.codes.iter().map(u16::to_string).collect();
        let _ = writeln!(o, "| operation | {} | exercised |", head.join(" | "));
        let _ = writeln!(o, "|---|{}---|", "---|".repeat(self.codes.len()));
        for row in &self.rows {
            let cells: Vec<String> = row.cells.iter().map(md_cell).collect();
            let (exercised, rows, rest) = row.summary();
            let rest: Vec<String> = rest.iter().map(|(n, w)| format!("{n} {w}")).collect();
            let rest = if rest.is_empty() {
                String::new()
            } else {
                format!("<br>{}", rest.join(", "))
            };
            let _ = writeln!(
                o,
                "| `{}`<br>{} `{}` | {} | {exercised}/{rows}{rest} |",
                row.op.operation,
                row.op.method,
                md(&row.op.path),
                cells.join(" | ")
            );
        }
        if !self.notes.0.is_empty() {
            o.push('\n');
            for (i, n) in self.notes.0.iter().enumerate() {
                let _ = writeln!(o, "[^{}]: {}", i + 1, md(n));
            }
        }

        let _ = writeln!(
            o,
            "\n## Drift\n\nAgainst what the target answered during this run (set-up, steps and \
clean-up included).\n"
        );
        let _ = writeln!(
            o,
            "| operation | documented, never produced | produced, not documented | the documentation sets disagree |"
        );
        let _ = writeln!(o, "|---|---|---|---|");
        for d in &self.drift {
            let missing: Vec<String> = d
                .missing
                .iter()
                .map(|m| {
                    let code = if m.real {
                        format!("**{}**", m.response.code)
                    } else {
                        m.response.code.to_string()
                    };
                    format!("{code} {} ({})", md(&m.response.name), md(&m.why))
                })
                .collect();
            let extra: Vec<String> = d.extra.iter().map(|e| md(&extra_text(e))).collect();
            let docs: Vec<String> = docs_text(d).map(|t| md(&t)).into_iter().collect();
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} |",
                d.op.operation,
                or_none(&missing),
                or_none(&extra),
                or_none(&docs)
            );
        }
        let _ = writeln!(
            o,
            "\nBold: the cases citing the code reached the target, yet it never answered with it. \
The last column compares the codes the seed pages and the api-ref list for the operation, \
and names codes the target gave that neither lists."
        );

        if !self.failures.is_empty() {
            let _ = writeln!(o, "\n## Failures\n");
            for f in &self.failures {
                let fence = "~".repeat(longest_run(&f.message, '~').max(3) + 1);
                let _ = writeln!(
                    o,
                    "### `{}`\n\n{fence}text\n{}\n{fence}\n",
                    f.case.name,
                    f.message.trim_end()
                );
            }
        }
        o
    }
}

pub(super) fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join("<br>")
    }
}

pub(super) fn longest_run(text: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == ch { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

pub(super) fn md_cell(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Absent { observed: 0 } => "·".into(),
        Cell::Absent { observed } => format!("**observed ×{observed}, not in table**"),
        Cell::Row {
            response,
            cases,
            not_provokable,
            ..
        } => {
            let mut lines = Vec::new();
            if !response.documented {
                lines.push("*undoc.*".to_string());
            }
            if let Some(n) = not_provokable {
                lines.push(format!("**not provokable**[^{n}]"));
            }
            for c in cases {
                let note = c.note.map(|n| format!("[^{n}]")).unwrap_or_default();
                let word = c.outcome.word();
                let line = format!("`{}` {word}{note}", c.case.file.id);
                lines.push(if response.documented {
                    line
                } else {
                    format!("*{line}*")
                });
            }
            if cases.is_empty() && not_provokable.is_none() {
                lines.push("**no case**".into());
            }
            lines.join("<br>")
        }
    }
}
