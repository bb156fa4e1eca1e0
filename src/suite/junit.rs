//! JUnit XML from the trials that ran (quick-junit).

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::record::{Record, Verdict};
use crate::error::RunError;

/// Writes one testcase per record, grouped in one suite per operation.
pub(crate) fn write(path: &Path, records: &[Record], total: Duration) -> Result<(), RunError> {
    let mut report = Report::new("sharecheck");
    report.set_time(total);
    let mut suites: Vec<TestSuite> = Vec::new();
    let mut sorted = records.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for r in sorted {
        let (op, rest) = r.name.split_once("::").unwrap_or(("sharecheck", &r.name));
        if suites.last().is_none_or(|s| s.name.as_str() != op) {
            suites.push(TestSuite::new(op.to_string()));
        }
        let status = match &r.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Failed(msg) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first = msg.lines().next().unwrap_or("failed").to_string();
                s.set_message(first).set_description(msg.clone());
                s
            }
            Verdict::Ignored(reason) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(reason.clone());
                s
            }
            Verdict::ExpectedFail(reason, msg) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!("expected failure: {reason}"))
                    .set_description(msg.clone());
                s
            }
            Verdict::UnexpectedPass(_) => TestCaseStatus::success(),
        };
        let mut tc = TestCase::new(rest.to_string(), status);
        tc.set_classname(op.to_string()).set_time(r.duration);
        suites.last_mut().expect("pushed above").add_test_case(tc);
    }
    report.add_test_suites(suites);
    let io = |source| RunError::Report {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let xml = report
        .to_string()
        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    std::fs::write(path, xml).map_err(io)
}
