//! `--report DIR`: the traceability and drift report, `DIR/report.md` and a self-contained
//! `DIR/report.html` (inline CSS, no scripts, nothing fetched).
//!
//! The matrix has one row per operation and one column per status code: every code of any
//! response-code table, plus every code a target produced that no table lists. A cell names
//! the cases citing that (operation, code) row and how each ended; cases filtered out by
//! libtest's options left no record and show as "not run". The drift section compares the
//! tables with what the target answered during the run (set-up, steps and clean-up included).
//! Never a token: the endpoint loses any user-info, and free text is redacted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::record::{Record, Verdict};
use super::spec::{Operation, Response};
use super::{Case, Suite};
use crate::error::RunError;

/// What the report says about the run besides the records.
pub(crate) struct RunInfo<'a> {
    /// The target's root URL.
    pub(crate) endpoint: &'a str,
    /// The run id (`sharecheck-<run id>-...` names).
    pub(crate) run_id: &'a str,
    /// When the trials started.
    pub(crate) started: SystemTime,
    /// Wall time of the trials.
    pub(crate) wall: Duration,
    /// Strings never to print (the personas' tokens).
    pub(crate) secrets: Vec<&'a str>,
}

/// Writes `dir/report.md` and `dir/report.html`.
pub(crate) fn write(
    dir: &Path,
    suite: &Suite,
    records: &[Record],
    info: &RunInfo<'_>,
) -> Result<(), RunError> {
    let report = Report::build(suite, records, info);
    std::fs::create_dir_all(dir).map_err(|source| RunError::Report {
        path: dir.to_path_buf(),
        source,
    })?;
    for (name, text) in [
        ("report.md", report.markdown()),
        ("report.html", report.html()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| RunError::Report { path, source })?;
    }
    Ok(())
}

/// How one case ended, or that it did not run.
#[derive(Clone, Debug)]
enum Outcome {
    Passed,
    Failed,
    Ignored(String),
    ExpectedFail(String),
    UnexpectedPass(String),
    NotRun,
}

impl Outcome {
    fn from_verdict(v: &Verdict, redact: &dyn Fn(&str) -> String) -> Outcome {
        match v {
            Verdict::Passed => Outcome::Passed,
            Verdict::Failed(_) => Outcome::Failed,
            Verdict::Ignored(why) => Outcome::Ignored(redact(why)),
            Verdict::ExpectedFail(why, _) => Outcome::ExpectedFail(redact(why)),
            Verdict::UnexpectedPass(why) => Outcome::UnexpectedPass(redact(why)),
        }
    }

    /// CSS class and key of the totals.
    fn class(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Ignored(_) => "ignored",
            Outcome::ExpectedFail(_) => "xfail",
            Outcome::UnexpectedPass(_) => "xpass",
            Outcome::NotRun => "notrun",
        }
    }

    /// The word in the cells.
    fn word(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Ignored(_) => "ignored",
            Outcome::ExpectedFail(_) => "expected failure",
            Outcome::UnexpectedPass(_) => "unexpected pass",
            Outcome::NotRun => "not run",
        }
    }

    fn glyph(&self) -> &'static str {
        match self {
            Outcome::Passed => "✓",
            Outcome::Failed => "✗",
            Outcome::Ignored(_) => "⊘",
            Outcome::ExpectedFail(_) => "≈",
            Outcome::UnexpectedPass(_) => "!",
            Outcome::NotRun => "–",
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Ignored(r) | Outcome::ExpectedFail(r) | Outcome::UnexpectedPass(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the case's request reached the target.
    fn ran(&self) -> bool {
        matches!(
            self,
            Outcome::Passed
                | Outcome::Failed
                | Outcome::ExpectedFail(_)
                | Outcome::UnexpectedPass(_)
        )
    }
}

/// Order of the cell colours: the worst outcome of a cell's cases wins.
const SEVERITY: &[&str] = &["failed", "xpass", "passed", "xfail", "ignored", "notrun"];

/// One case in a cell.
struct CaseCell<'a> {
    case: &'a Case,
    outcome: Outcome,
    /// Footnote of the reason, for ignored and expected outcomes.
    note: Option<usize>,
}

/// One (operation, code) cell.
enum Cell<'a> {
    /// The operation's table has no row for this code; `observed` answers had it anyway.
    Absent { observed: usize },
    /// A table row, its cases and how often the target gave the code.
    Row {
        response: &'a Response,
        cases: Vec<CaseCell<'a>>,
        /// Footnote of the `not_provokable` reason.
        not_provokable: Option<usize>,
        observed: usize,
    },
}

impl Cell<'_> {
    /// CSS class: the colour of the cell.
    fn class(&self) -> &'static str {
        match self {
            Cell::Absent { observed: 0 } => "na",
            Cell::Absent { .. } => "drift",
            Cell::Row {
                cases,
                not_provokable,
                ..
            } => {
                let worst = SEVERITY
                    .iter()
                    .find(|s| cases.iter().any(|c| c.outcome.class() == **s))
                    .copied();
                match (worst, not_provokable) {
                    (Some(s), _) => s,
                    (None, Some(_)) => "np",
                    (None, None) => "nocase",
                }
            }
        }
    }
}

/// One operation's row of the matrix.
struct Row<'a> {
    op: &'a Operation,
    cells: Vec<Cell<'a>>,
}

impl Row<'_> {
    /// (table rows whose cases reached the target, table rows, the rest by colour).
    fn summary(&self) -> (usize, usize, Vec<(usize, &'static str)>) {
        let mut exercised = 0;
        let mut rows = 0;
        let mut by: BTreeMap<&'static str, usize> = BTreeMap::new();
        for c in &self.cells {
            if let Cell::Row { cases, .. } = c {
                rows += 1;
                if cases.iter().any(|c| c.outcome.ran()) {
                    exercised += 1;
                }
                *by.entry(c.class()).or_default() += 1;
            }
        }
        let order = [
            ("failed", "failed"),
            ("xpass", "unexpected pass"),
            ("xfail", "expected failure"),
            ("np", "not provokable"),
            ("ignored", "ignored"),
            ("notrun", "not run"),
            ("nocase", "without a case"),
        ];
        let rest = order
            .iter()
            .filter_map(|(k, w)| by.get(k).map(|n| (*n, *w)))
            .collect();
        (exercised, rows, rest)
    }
}

/// A documented code the target never gave during the run, and the likely why.
struct Missing<'a> {
    response: &'a Response,
    why: String,
    /// Cases citing the row reached the target: real drift, not a gap of the run.
    real: bool,
}

/// A code the target gave that the operation's documentation does not list.
struct Extra<'a> {
    code: u16,
    count: usize,
    /// The table row, when the spec lists it as `documented: false`.
    response: Option<&'a Response>,
    /// Ids of cases during which it was seen.
    seen_in: Vec<&'a str>,
}

struct Drift<'a> {
    op: &'a Operation,
    missing: Vec<Missing<'a>>,
    extra: Vec<Extra<'a>>,
}

/// Numbered, de-duplicated footnotes.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn add(&mut self, text: String) -> usize {
        match self.0.iter().position(|t| *t == text) {
            Some(i) => i + 1,
            None => {
                self.0.push(text);
                self.0.len()
            }
        }
    }
}

#[derive(Default)]
struct Totals {
    by: BTreeMap<&'static str, usize>,
}

impl Totals {
    fn get(&self, class: &str) -> usize {
        self.by.get(class).copied().unwrap_or(0)
    }
}

struct Failure<'a> {
    case: &'a Case,
    message: String,
}

struct Report<'a> {
    endpoint: String,
    run_id: String,
    started: String,
    wall: Duration,
    codes: Vec<u16>,
    rows: Vec<Row<'a>>,
    notes: Notes,
    drift: Vec<Drift<'a>>,
    totals: Totals,
    cases: usize,
    failures: Vec<Failure<'a>>,
}

/// The endpoint without user-info (`http://user:secret@host` → `http://host`).
fn public_endpoint(endpoint: &str) -> String {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return endpoint.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => endpoint.to_string(),
    }
}

impl<'a> Report<'a> {
    fn build(suite: &'a Suite, records: &'a [Record], info: &RunInfo<'_>) -> Report<'a> {
        let secrets: Vec<&str> = info
            .secrets
            .iter()
            .copied()
            .filter(|s| s.len() >= 4)
            .collect();
        let redact = |text: &str| {
            secrets
                .iter()
                .fold(text.to_string(), |t, s| t.replace(s, "<redacted>"))
        };
        let by_name: BTreeMap<&str, &Record> =
            records.iter().map(|r| (r.name.as_str(), r)).collect();

        // What the target answered, per (operation, code), and during which cases (the runner
        // attributes every exchange to its operation).
        let mut observed: BTreeMap<(&str, u16), (usize, BTreeSet<&str>)> = BTreeMap::new();
        for r in records {
            for key in r.observed.iter().map(|(op, code)| (op.as_str(), *code)) {
                let e = observed.entry(key).or_default();
                e.0 += 1;
                e.1.insert(r.id.as_str());
            }
        }
        let count = |op: &str, code: u16| observed.get(&(op, code)).map_or(0, |e| e.0);

        let mut codes: BTreeSet<u16> = suite
            .operations
            .iter()
            .flat_map(|o| o.responses.iter().map(|r| r.code))
            .collect();
        for (op, code) in observed.keys() {
            if suite.operations.iter().any(|o| o.operation == *op) {
                codes.insert(*code);
            }
        }
        let codes: Vec<u16> = codes.into_iter().collect();

        let mut notes = Notes::default();
        let mut totals = Totals::default();
        let mut failures = Vec::new();
        let mut rows = Vec::new();
        let mut drift = Vec::new();
        for op in &suite.operations {
            let mut cells = Vec::new();
            for &code in &codes {
                let observed = count(&op.operation, code);
                let Some(response) = op.response(code) else {
                    cells.push(Cell::Absent { observed });
                    continue;
                };
                let cases = suite
                    .cases
                    .iter()
                    .filter(|c| c.file.operation == op.operation && c.file.code == code)
                    .map(|case| {
                        let outcome = match by_name.get(case.name.as_str()) {
                            Some(r) => Outcome::from_verdict(&r.verdict, &redact),
                            None => Outcome::NotRun,
                        };
                        let note = outcome
                            .reason()
                            .map(|why| notes.add(format!("{}: {why}", outcome.word())));
                        CaseCell {
                            case,
                            outcome,
                            note,
                        }
                    })
                    .collect::<Vec<_>>();
                let not_provokable = response
                    .not_provokable
                    .as_ref()
                    .map(|why| notes.add(format!("not provokable: {}", why.trim())));
                cells.push(Cell::Row {
                    response,
                    cases,
                    not_provokable,
                    observed,
                });
            }
            rows.push(Row { op, cells });
            drift.push(Drift {
                op,
                missing: missing(op, suite, &by_name, &count),
                extra: observed
                    .iter()
                    .filter(|((o, code), _)| {
                        *o == op.operation && op.response(*code).is_none_or(|r| !r.documented)
                    })
                    .map(|((_, code), (n, seen))| Extra {
                        code: *code,
                        count: *n,
                        response: op.response(*code),
                        seen_in: seen.iter().copied().collect(),
                    })
                    .collect(),
            });
        }
        for case in &suite.cases {
            let class = match by_name.get(case.name.as_str()) {
                Some(r) => {
                    if let Verdict::Failed(msg) = &r.verdict {
                        failures.push(Failure {
                            case,
                            message: redact(msg),
                        });
                    }
                    Outcome::from_verdict(&r.verdict, &redact).class()
                }
                None => "notrun",
            };
            *totals.by.entry(class).or_default() += 1;
        }
        Report {
            endpoint: redact(&public_endpoint(info.endpoint)),
            run_id: info.run_id.to_string(),
            started: humantime::format_rfc3339_seconds(info.started).to_string(),
            wall: info.wall,
            codes,
            rows,
            notes,
            drift,
            totals,
            cases: suite.cases.len(),
            failures,
        }
    }

    fn wall(&self) -> String {
        format!("{:.2} s", self.wall.as_secs_f64())
    }

    /// (class, word, count) of the totals, the zero ones of the rare kinds left out.
    fn totals(&self) -> Vec<(&'static str, &'static str, usize)> {
        [
            ("passed", "passed", true),
            ("failed", "failed", true),
            ("ignored", "ignored", true),
            ("xfail", "expected failures", false),
            ("xpass", "unexpected passes", false),
            ("notrun", "not run", false),
        ]
        .into_iter()
        .map(|(c, w, always)| (c, w, self.totals.get(c), always))
        .filter(|(_, _, n, always)| *always || *n > 0)
        .map(|(c, w, n, _)| (c, w, n))
        .collect()
    }

    fn drift_counts(&self) -> (usize, usize) {
        let missing = self
            .drift
            .iter()
            .flat_map(|d| &d.missing)
            .filter(|m| m.real)
            .count();
        let extra = self.drift.iter().map(|d| d.extra.len()).sum();
        (missing, extra)
    }
}

/// The documented rows of `op` the target never answered, with why.
fn missing<'a>(
    op: &'a Operation,
    suite: &Suite,
    by_name: &BTreeMap<&str, &Record>,
    count: &dyn Fn(&str, u16) -> usize,
) -> Vec<Missing<'a>> {
    op.responses
        .iter()
        .filter(|r| r.documented && count(&op.operation, r.code) == 0)
        .map(|response| {
            let outcomes: Vec<Option<&Verdict>> = suite
                .cases
                .iter()
                .filter(|c| c.file.operation == op.operation && c.file.code == response.code)
                .map(|c| by_name.get(c.name.as_str()).map(|r| &r.verdict))
                .collect();
            let ran = outcomes
                .iter()
                .flatten()
                .any(|v| !matches!(v, Verdict::Ignored(_)));
            let why = if ran {
                "its cases ran, the target never answered it".to_string()
            } else if response.not_provokable.is_some() {
                "not provokable".to_string()
            } else if outcomes.is_empty() {
                "no case cites it".to_string()
            } else if outcomes.iter().all(Option::is_none) {
                "its cases did not run".to_string()
            } else {
                "its cases were ignored".to_string()
            };
            Missing {
                response,
                why,
                real: ran,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Markdown

/// Text safe inside a Markdown table cell or paragraph.
fn md(text: &str) -> String {
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

const MD_LEGEND: &str = "\
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
    fn markdown(&self) -> String {
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
            "| operation | documented, never produced | produced, not documented |"
        );
        let _ = writeln!(o, "|---|---|---|");
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
            let _ = writeln!(
                o,
                "| `{}` | {} | {} |",
                d.op.operation,
                or_none(&missing),
                or_none(&extra)
            );
        }
        let _ = writeln!(
            o,
            "\nBold: the cases citing the code reached the target, yet it never answered with it."
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

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join("<br>")
    }
}

fn longest_run(text: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == ch { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fn extra_text(e: &Extra<'_>) -> String {
    let what = match e.response {
        Some(r) => format!("{}, documented: false", r.name),
        None => "not in the table".to_string(),
    };
    let shown: Vec<&str> = e.seen_in.iter().take(3).copied().collect();
    let more = e.seen_in.len().saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{} ×{} ({what}; seen in {}{more})",
        e.code,
        e.count,
        shown.join(", ")
    )
}

fn md_cell(cell: &Cell<'_>) -> String {
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

// ---------------------------------------------------------------------------------------
// HTML

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

const CSS: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--passed:#1a7f37;--passed-bg:#dcf5e3;--failed:#cf222e;--failed-bg:#ffe1de;
--ignored:#8a5a00;--ignored-bg:#fff3c4;--np:#6e40c9;--np-bg:#efe7ff;
--notrun:#59636e;--notrun-bg:#f3f5f7;--xfail:#0b6e99;--xfail-bg:#ddf1fa;
--xpass:#b3261e;--xpass-bg:#ffeccc;--drift:#b54708;--drift-bg:#ffe8d1;--nocase:#9a1d5d;--nocase-bg:#fde4f0}
*{box-sizing:border-box}
body{margin:0;padding:20px 24px 40px;color:var(--fg);background:#fff;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px}
.meta{display:flex;flex-wrap:wrap;gap:4px 22px;margin:6px 0 10px;color:var(--muted)}
.meta b{color:var(--fg);font-weight:600}
.totals{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.badge{display:inline-block;border-radius:999px;padding:3px 12px;font-weight:600;font-size:13px}
.badge.passed{background:var(--passed-bg);color:var(--passed)}
.badge.failed{background:var(--failed-bg);color:var(--failed)}
.badge.ignored{background:var(--ignored-bg);color:var(--ignored)}
.badge.notrun{background:var(--notrun-bg);color:var(--notrun);border:1px dashed #afb8c1}
.badge.xfail{background:var(--xfail-bg);color:var(--xfail)}
.badge.xpass{background:var(--xpass-bg);color:var(--xpass)}
.badge.drift{background:var(--drift-bg);color:var(--drift)}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;font-size:12.5px;color:var(--muted);margin:10px 0 4px}
.legend span.sw{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:-2px;margin-right:5px;border:1px solid var(--line)}
.wrap{overflow:auto;max-height:92vh;border:1px solid var(--line);border-radius:6px}
table.matrix{border-collapse:separate;border-spacing:0;font-size:12px}
.matrix th,.matrix td{border-right:1px solid var(--line);border-bottom:1px solid var(--line);padding:4px 5px;vertical-align:top}
.matrix thead th{position:sticky;top:0;z-index:2;background:#f6f8fa;font-size:13px;text-align:center;padding:6px 4px}
.matrix thead th.opcol{left:0;z-index:3;text-align:left}
.matrix th.op{position:sticky;left:0;z-index:1;background:#fff;text-align:left;font-weight:400;min-width:190px;max-width:210px}
.op .name{font-weight:600;font-size:12.5px;font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.op .path{color:var(--muted);font-size:11px;overflow-wrap:anywhere}
.op .path b{color:var(--fg);font-weight:600}
td.cell{min-width:70px;max-width:112px}
.op .sum{margin-top:5px;font-size:11px;color:var(--muted)}
.op .sum b{font-size:13px;color:var(--fg)}
.bar{height:5px;border-radius:3px;background:#e6e9ec;margin:3px 0 4px;overflow:hidden}
.bar i{display:block;height:100%;background:var(--passed)}
td.na{background:repeating-linear-gradient(135deg,#f2f4f6 0 5px,#e8ebee 5px 10px)}
td.passed{background:var(--passed-bg)} td.failed{background:var(--failed-bg);box-shadow:inset 0 0 0 2px var(--failed)}
td.ignored{background:var(--ignored-bg)} td.np{background:var(--np-bg)} td.notrun{background:var(--notrun-bg)}
td.xfail{background:var(--xfail-bg)} td.xpass{background:var(--xpass-bg)}
td.drift{background:var(--drift-bg);box-shadow:inset 0 0 0 2px var(--drift);color:var(--drift);font-weight:600}
td.nocase{background:var(--nocase-bg);color:var(--nocase);font-weight:600}
td.undoc{font-style:italic;background-image:repeating-linear-gradient(135deg,transparent 0 6px,rgba(0,0,0,.045) 6px 8px)}
.undoc-tag{display:inline-block;font-size:10px;font-style:italic;color:var(--muted);border:1px dashed #8c959f;border-radius:3px;padding:0 3px;margin-bottom:2px}
.c{display:block;line-height:1.22;margin:1px 0 3px;padding-left:12px;text-indent:-12px;color:var(--fg);
font-family:"Arial Narrow","Roboto Condensed","DejaVu Sans Condensed","Liberation Sans Narrow",system-ui,sans-serif;font-stretch:condensed;font-size:11.5px}
.c .g{display:inline-block;width:12px;text-indent:0;font-weight:700;font-style:normal}
.c.passed .g{color:var(--passed)} .c.failed .g,.c.failed{color:var(--failed)} .c.failed{font-weight:600}
.c.ignored .g{color:var(--ignored)} .c.notrun{color:var(--notrun)} .c.notrun .g{color:var(--notrun)}
.c.xfail .g{color:var(--xfail)} .c.xpass .g{color:var(--xpass)}
.c .w{font-size:10.5px;color:var(--muted);white-space:nowrap;font-style:normal}
.c.passed .w{display:none}
.c.failed .w{color:var(--failed)}
.np-tag{display:block;color:var(--np);font-weight:600;font-size:11.5px;margin-bottom:2px}
.obs{display:block;font-size:10.5px;color:var(--muted);margin-top:2px}
a.fn{color:inherit;text-decoration:none;font-size:10px;vertical-align:super;font-weight:700;padding:0 1px}
a.fn:hover{text-decoration:underline}
a{color:#0969da}
ol.notes{font-size:12.5px;color:var(--muted);padding-left:26px;columns:2 420px;column-gap:36px}
ol.notes li{margin:2px 0;break-inside:avoid}
ol.notes li:target{background:#fff8c5}
table.drift{border-collapse:collapse;font-size:13px;width:100%}
table.drift th,table.drift td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
table.drift thead th{background:#f6f8fa}
table.drift td:first-child{width:17%}
table.drift td:nth-child(2){width:36%}
.chip{display:inline-block;border-radius:4px;padding:1px 6px;margin:1px 4px 2px 0;font-weight:600;font-size:12px}
.chip.missing{background:var(--notrun-bg);color:var(--fg);border:1px solid var(--line)}
.chip.real{background:var(--failed-bg);color:var(--failed);border:1px solid var(--failed)}
.chip.extra{background:var(--drift-bg);color:var(--drift);border:1px solid var(--drift)}
.chip.undocrow{background:#fff;color:var(--drift);border:1px dashed var(--drift);font-style:italic}
.why{color:var(--muted);font-size:12px}
.none{color:var(--muted)}
details.failure{border:1px solid var(--failed);border-radius:6px;margin:8px 0;background:#fffafa}
details.failure summary{cursor:pointer;padding:6px 10px;font-weight:600;color:var(--failed)}
details.failure pre{margin:0;padding:8px 12px;border-top:1px solid #ffd1cc;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
.foot{margin-top:28px;color:var(--muted);font-size:12px}
"#;

const LEGEND: &[(&str, &str)] = &[
    ("passed", "passed"),
    ("failed", "failed"),
    ("ignored", "ignored (footnote: why)"),
    ("np", "not provokable (footnote: why)"),
    ("notrun", "not run (filtered out)"),
    ("xfail", "expected failure"),
    ("xpass", "unexpected pass"),
    ("nocase", "row without a case"),
    ("drift", "observed, not in the table"),
    ("na", "no such row in the table"),
];

impl Report<'_> {
    fn html(&self) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>sharecheck report — {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            esc(&self.endpoint)
        );
        let _ = writeln!(
            o,
            "<h1>sharecheck traceability and drift report</h1>\n<div class=\"meta\">\
<span>target <b class=\"mono\">{}</b></span><span>run <b class=\"mono\">{}</b></span>\
<span>started <b>{}</b></span><span>wall time <b>{}</b></span>\
<span><b>{}</b> cases, <b>{}</b> operations</span></div>",
            esc(&self.endpoint),
            esc(&self.run_id),
            esc(&self.started),
            esc(&self.wall()),
            self.cases,
            self.rows.len()
        );
        o.push_str("<div class=\"totals\">");
        for (class, word, n) in self.totals() {
            let _ = write!(o, "<span class=\"badge {class}\">{n} {word}</span>");
        }
        let (missing, extra) = self.drift_counts();
        let _ = write!(
            o,
            "<a class=\"badge drift\" href=\"#drift\" title=\"documented codes whose cases ran \
but that the target never answered; codes the target answered that the documentation does not \
list\">drift: {missing} documented code(s) not produced, {extra} undocumented produced</a>"
        );
        o.push_str("</div>\n<div class=\"legend\">");
        for (class, word) in LEGEND {
            let _ = write!(
                o,
                "<span><span class=\"sw {class}\" style=\"{}\"></span>{word}</span>",
                swatch(class)
            );
        }
        o.push_str(
            "<span><span class=\"undoc-tag\">undoc.</span> italic: code not in the \
documentation's table (documented: false)</span></div>\n",
        );

        o.push_str("<h2>Matrix: operations × status codes</h2>\n<div class=\"wrap\">\n<table class=\"matrix\">\n<thead><tr><th class=\"opcol\">operation</th>");
        for code in &self.codes {
            let _ = write!(o, "<th>{code}</th>");
        }
        o.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            let op = row.op;
            let (exercised, rows, rest) = row.summary();
            let pct = (exercised * 100).checked_div(rows).unwrap_or(0);
            let _ = write!(
                o,
                "<tr id=\"op-{name}\"><th class=\"op\" scope=\"row\"><div class=\"name\">{name}</div>\
<div class=\"path\"><b>{}</b> {}</div><div class=\"sum\" title=\"table rows with a case that \
reached the target, of all rows\"><b>{exercised}/{rows}</b> codes exercised\
<div class=\"bar\"><i style=\"width:{pct}%\"></i></div>",
                esc(&op.method),
                esc(&op.path),
                name = esc(&op.operation)
            );
            let rest: Vec<String> = rest.iter().map(|(n, w)| format!("{n} {w}")).collect();
            if !rest.is_empty() {
                let _ = write!(o, "<div>{}</div>", esc(&rest.join(" · ")));
            }
            o.push_str("</div></th>");
            for (code, cell) in self.codes.iter().zip(&row.cells) {
                html_cell(&mut o, op, *code, cell, &self.notes);
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody></table></div>\n");

        if !self.notes.0.is_empty() {
            o.push_str("<h2>Notes</h2>\n<ol class=\"notes\">");
            for (i, n) in self.notes.0.iter().enumerate() {
                let _ = write!(o, "<li id=\"n{}\">{}</li>", i + 1, esc(n));
            }
            o.push_str("</ol>\n");
        }

        o.push_str(
            "<h2 id=\"drift\">Drift</h2>\n<p class=\"why\">Against what the target answered \
during this run (set-up, steps and clean-up included). Red: the cases citing the code reached \
the target, yet it never answered with it. Orange: the target answered with a code the \
documentation does not list (dashed: listed in the spec as documented: false, observed on the \
reference).</p>\n<table class=\"drift\"><thead><tr><th>operation</th>\
<th>documented, never produced</th><th>produced, not documented</th></tr></thead><tbody>\n",
        );
        for d in &self.drift {
            let _ = write!(
                o,
                "<tr id=\"drift-{0}\"><td><code>{0}</code></td><td>",
                esc(&d.op.operation)
            );
            if d.missing.is_empty() {
                o.push_str("<span class=\"none\">none</span>");
            }
            for m in &d.missing {
                let _ = write!(
                    o,
                    "<div><span class=\"chip {}\">{}</span>{} <span class=\"why\">— {}</span></div>",
                    if m.real { "real" } else { "missing" },
                    m.response.code,
                    esc(&m.response.name),
                    esc(&m.why)
                );
            }
            o.push_str("</td><td>");
            if d.extra.is_empty() {
                o.push_str("<span class=\"none\">none</span>");
            }
            for e in &d.extra {
                let _ = write!(
                    o,
                    "<div><span class=\"chip {}\">{} ×{}</span><span class=\"why\">{}</span></div>",
                    if e.response.is_some() {
                        "undocrow"
                    } else {
                        "extra"
                    },
                    e.code,
                    e.count,
                    esc(extra_text(e)
                        .split_once(" (")
                        .map_or("", |(_, r)| r.trim_end_matches(')')))
                );
            }
            o.push_str("</td></tr>\n");
        }
        o.push_str("</tbody></table>\n");

        if !self.failures.is_empty() {
            o.push_str("<h2 id=\"failures\">Failures</h2>\n");
            for f in &self.failures {
                let _ = writeln!(
                    o,
                    "<details class=\"failure\" id=\"fail-{id}\" open><summary>{name}</summary><pre>{}</pre></details>",
                    esc(f.message.trim_end()),
                    id = esc(&f.case.file.id),
                    name = esc(&f.case.name)
                );
            }
        }
        let _ = write!(
            o,
            "<p class=\"foot\">Generated by sharecheck {} — specs and cases: {} operations, {} \
cases.</p>\n</body>\n</html>\n",
            env!("CARGO_PKG_VERSION"),
            self.rows.len(),
            self.cases
        );
        o
    }
}

/// Inline style of a legend swatch (the cell colours).
fn swatch(class: &str) -> &'static str {
    match class {
        "passed" => "background:var(--passed-bg)",
        "failed" => "background:var(--failed-bg);border-color:var(--failed)",
        "ignored" => "background:var(--ignored-bg)",
        "np" => "background:var(--np-bg)",
        "notrun" => "background:var(--notrun-bg);border-style:dashed",
        "xfail" => "background:var(--xfail-bg)",
        "xpass" => "background:var(--xpass-bg)",
        "nocase" => "background:var(--nocase-bg)",
        "drift" => "background:var(--drift-bg);border-color:var(--drift)",
        _ => "background:repeating-linear-gradient(135deg,#f2f4f6 0 3px,#dfe3e7 3px 6px)",
    }
}

fn html_cell(o: &mut String, op: &Operation, code: u16, cell: &Cell<'_>, notes: &Notes) {
    let fn_link = |n: usize| {
        format!(
            "<a class=\"fn\" href=\"#n{n}\" title=\"{}\">{n}</a>",
            esc(&notes.0[n - 1])
        )
    };
    match cell {
        Cell::Absent { observed: 0 } => {
            let _ = write!(
                o,
                "<td class=\"cell na\" data-code=\"{code}\" title=\"{} has no {code} row\"></td>",
                esc(&op.operation)
            );
        }
        Cell::Absent { observed } => {
            let _ = write!(
                o,
                "<td class=\"cell drift\" data-code=\"{code}\" title=\"the target answered {code} \
{observed} time(s); the table has no such row\">observed ×{observed}<br>not in table</td>"
            );
        }
        Cell::Row {
            response,
            cases,
            not_provokable,
            observed,
        } => {
            let undoc = if response.documented { "" } else { " undoc" };
            let mut title = format!("{code} {}: {}", response.name, response.meaning.trim());
            if let Some(note) = &response.note {
                let _ = write!(title, "\nNote: {}", note.trim());
            }
            let _ = write!(
                o,
                "<td class=\"cell {}{undoc}\" data-code=\"{code}\" title=\"{}\">",
                cell.class(),
                esc(&title)
            );
            if !response.documented {
                o.push_str("<span class=\"undoc-tag\">undoc.</span>");
            }
            if let Some(n) = not_provokable {
                let why = notes.0[n - 1].trim_start_matches("not provokable: ");
                let _ = write!(
                    o,
                    "<span class=\"np-tag\" title=\"{}\">not provokable{}</span>",
                    esc(why),
                    fn_link(*n)
                );
            }
            for c in cases {
                let title = match c.outcome.reason() {
                    Some(why) => format!("{}: {} — {why}", c.case.name, c.outcome.word()),
                    None => format!("{}: {}", c.case.name, c.outcome.word()),
                };
                let id = esc(&c.case.file.id);
                let label = match c.outcome {
                    Outcome::Failed => {
                        format!("<a href=\"#fail-{id}\" style=\"color:inherit\">{id}</a>")
                    }
                    _ => id.clone(),
                };
                let _ = write!(
                    o,
                    "<span class=\"c {}\" title=\"{}\"><span class=\"g\">{}</span>{label} \
<span class=\"w\">{}</span>{}</span>",
                    c.outcome.class(),
                    esc(&title),
                    c.outcome.glyph(),
                    c.outcome.word(),
                    c.note.map(fn_link).unwrap_or_default()
                );
            }
            if cases.is_empty() && not_provokable.is_none() {
                o.push_str("no case");
            }
            if *observed > 0 && cases.iter().all(|c| !c.outcome.ran()) {
                let _ = write!(o, "<span class=\"obs\">observed ×{observed}</span>");
            }
            o.push_str("</td>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_loses_its_user_info() {
        assert_eq!(
            public_endpoint("https://user:s3cret@glance.example:9292/image"),
            "https://glance.example:9292/image"
        );
        assert_eq!(
            public_endpoint("http://127.0.0.1:9292"),
            "http://127.0.0.1:9292"
        );
        assert_eq!(public_endpoint("http://host/path@x"), "http://host/path@x");
    }

    #[test]
    fn text_is_escaped_for_markdown_and_html() {
        assert_eq!(md("a|b `c` <d>\n e"), "a\\|b \\`c\\` \\<d\\> e");
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
