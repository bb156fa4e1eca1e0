//! The data of the report: the matrix (operations × codes, the cases in each cell), the
//! drift (documented codes never seen, codes seen but not documented) and the totals.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::RunInfo;
use crate::suite::citations::{Disagreement, disagreement};
use crate::suite::record::{Record, Verdict};
use crate::suite::spec::{Operation, Response};
use crate::suite::{Case, Suite};

/// How one case ended, or that it did not run.
#[derive(Clone, Debug)]
pub(super) enum Outcome {
    Passed,
    Failed,
    Ignored(String),
    ExpectedFail(String),
    UnexpectedPass(String),
    NotRun,
}

impl Outcome {
    pub(super) fn from_verdict(v: &Verdict, redact: &dyn Fn(&str) -> String) -> Outcome {
        match v {
            Verdict::Passed => Outcome::Passed,
            Verdict::Failed(_) => Outcome::Failed,
            Verdict::Ignored(why) => Outcome::Ignored(redact(why)),
            Verdict::ExpectedFail(why, _) => Outcome::ExpectedFail(redact(why)),
            Verdict::UnexpectedPass(why) => Outcome::UnexpectedPass(redact(why)),
        }
    }

    /// CSS class and key of the totals.
    pub(super) fn class(&self) -> &'static str {
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
    pub(super) fn word(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Ignored(_) => "ignored",
            Outcome::ExpectedFail(_) => "expected failure",
            Outcome::UnexpectedPass(_) => "unexpected pass",
            Outcome::NotRun => "not run",
        }
    }

    pub(super) fn glyph(&self) -> &'static str {
        match self {
            Outcome::Passed => "✓",
            Outcome::Failed => "✗",
            Outcome::Ignored(_) => "⊘",
            Outcome::ExpectedFail(_) => "≈",
            Outcome::UnexpectedPass(_) => "!",
            Outcome::NotRun => "–",
        }
    }

    pub(super) fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Ignored(r) | Outcome::ExpectedFail(r) | Outcome::UnexpectedPass(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the case's request reached the target.
    pub(super) fn ran(&self) -> bool {
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
pub(super) const SEVERITY: &[&str] = &["failed", "xpass", "passed", "xfail", "ignored", "notrun"];

/// One case in a cell.
pub(super) struct CaseCell<'a> {
    pub(super) case: &'a Case,
    pub(super) outcome: Outcome,
    /// Footnote of the reason, for ignored and expected outcomes.
    pub(super) note: Option<usize>,
}

/// One (operation, code) cell.
pub(super) enum Cell<'a> {
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
    pub(super) fn class(&self) -> &'static str {
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
pub(super) struct Row<'a> {
    pub(super) op: &'a Operation,
    pub(super) cells: Vec<Cell<'a>>,
}

impl Row<'_> {
    /// (table rows whose cases reached the target, table rows, the rest by colour).
    pub(super) fn summary(&self) -> (usize, usize, Vec<(usize, &'static str)>) {
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
pub(super) struct Missing<'a> {
    pub(super) response: &'a Response,
    pub(super) why: String,
    /// Cases citing the row reached the target: real drift, not a gap of the run.
    pub(super) real: bool,
}

/// A code the target gave that the operation's documentation does not list.
pub(super) struct Extra<'a> {
    pub(super) code: u16,
    pub(super) count: usize,
    /// The table row, when the spec lists it as `documented: false`.
    pub(super) response: Option<&'a Response>,
    /// Ids of cases during which it was seen.
    pub(super) seen_in: Vec<&'a str>,
}

pub(super) struct Drift<'a> {
    pub(super) op: &'a Operation,
    pub(super) missing: Vec<Missing<'a>>,
    pub(super) extra: Vec<Extra<'a>>,
    /// Where the seed pages and the api-ref part, and codes the target gave that neither lists.
    pub(super) docs: Option<Disagreement>,
}

/// The documentation sets' disagreement on an operation, in words (`None` when they agree
/// and the target gave nothing neither lists).
pub(super) fn docs_text(d: &Drift<'_>) -> Option<String> {
    let d = d.docs.as_ref().filter(|d| !d.is_empty())?;
    let list = |codes: &[u16]| {
        codes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parts: Vec<String> = [
        ("seed pages only", &d.seed_only),
        ("api-ref only", &d.api_ref_only),
        ("given, listed by neither", &d.neither),
    ]
    .into_iter()
    .filter(|(_, c)| !c.is_empty())
    .map(|(what, c)| format!("{what}: {}", list(c)))
    .collect();
    Some(parts.join("; "))
}

/// Numbered, de-duplicated footnotes.
#[derive(Default)]
pub(super) struct Notes(pub(super) Vec<String>);

impl Notes {
    pub(super) fn add(&mut self, text: String) -> usize {
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
pub(super) struct Totals {
    pub(super) by: BTreeMap<&'static str, usize>,
}

impl Totals {
    pub(super) fn get(&self, class: &str) -> usize {
        self.by.get(class).copied().unwrap_or(0)
    }
}

pub(super) struct Failure<'a> {
    pub(super) case: &'a Case,
    pub(super) message: String,
}

pub(super) struct Report<'a> {
    pub(super) endpoint: String,
    pub(super) run_id: String,
    pub(super) started: String,
    pub(super) wall: Duration,
    pub(super) codes: Vec<u16>,
    pub(super) rows: Vec<Row<'a>>,
    pub(super) notes: Notes,
    pub(super) drift: Vec<Drift<'a>>,
    pub(super) totals: Totals,
    pub(super) cases: usize,
    pub(super) failures: Vec<Failure<'a>>,
}

/// The endpoint without user-info (`http://user:secret@host` → `http://host`).
pub(super) fn public_endpoint(endpoint: &str) -> String {
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
    pub(super) fn build(suite: &'a Suite, records: &'a [Record], info: &RunInfo<'_>) -> Report<'a> {
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
            let seen: BTreeSet<u16> = observed
                .keys()
                .filter(|(o, _)| *o == op.operation)
                .map(|(_, code)| *code)
                .collect();
            drift.push(Drift {
                docs: disagreement(op, &seen),
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

    pub(super) fn wall(&self) -> String {
        format!("{:.2} s", self.wall.as_secs_f64())
    }

    /// (class, word, count) of the totals, the zero ones of the rare kinds left out.
    pub(super) fn totals(&self) -> Vec<(&'static str, &'static str, usize)> {
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

    pub(super) fn drift_counts(&self) -> (usize, usize) {
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
pub(super) fn missing<'a>(
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

/// One unexpected code, as text: how often, what the table says, where it was seen.
pub(super) fn extra_text(e: &Extra<'_>) -> String {
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
