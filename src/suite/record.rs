//! What the runner keeps of each trial, for the reports (JUnit, JSON, traceability).

use std::time::Duration;

use super::exec::Exchange;

/// How one trial ended.
#[derive(Clone, Debug)]
pub(crate) enum Verdict {
    Passed,
    Failed(String),
    Ignored(String),
    /// Failed, as the expectations file says it would: (reason, failure).
    ExpectedFail(String, String),
    /// Passed although expected to fail: (reason).
    UnexpectedPass(String),
}

impl Verdict {
    /// The word used in reports.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed(_) => "failed",
            Verdict::Ignored(_) => "ignored",
            Verdict::ExpectedFail(..) => "expected-fail",
            Verdict::UnexpectedPass(_) => "unexpected-pass",
        }
    }
}

/// One trial that ran.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    /// Trial name, `<operation>::<code>::<case>`.
    pub(crate) name: String,
    /// The case's stable id.
    pub(crate) id: String,
    /// The operation and table code the case cites.
    pub(crate) operation: String,
    pub(crate) code: u16,
    pub(crate) duration: Duration,
    pub(crate) verdict: Verdict,
    /// (operation, status) for every exchange of the run that matched a spec'd operation.
    pub(crate) observed: Vec<(String, u16)>,
    /// Every exchange (method, path, status): the redacted summary of what was sent.
    pub(crate) exchanges: Vec<Exchange>,
}
