//! What the runner keeps of each trial, for the reports.

use std::time::Duration;

/// How one trial ended.
#[derive(Clone, Debug)]
pub(crate) enum Verdict {
    Passed,
    Failed(String),
    Ignored(String),
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
}
