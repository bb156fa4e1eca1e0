//! `--json PATH`: one record per case that ran, machine-readable. No tokens: the exchanges
//! carry method, path and status only.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::record::{Record, Verdict};
use crate::error::RunError;

/// Writes the records, sorted by trial name, with the run's totals and what the preflight
/// learned of the target (`facts`, with the needs it leaves unmet).
pub(crate) fn write(
    path: &Path,
    records: &[Record],
    endpoint: &str,
    run_id: &str,
    wall: Duration,
    facts: Value,
) -> Result<(), RunError> {
    let mut sorted = records.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let count = |w: &str| sorted.iter().filter(|r| r.verdict.word() == w).count();
    let cases: Vec<Value> = sorted
        .iter()
        .map(|r| {
            let (reason, message) = match &r.verdict {
                Verdict::Passed => (None, None),
                Verdict::Failed(m) => (None, Some(m.clone())),
                Verdict::Ignored(why) => (Some(why.clone()), None),
                Verdict::ExpectedFail(why, m) => (Some(why.clone()), Some(m.clone())),
                Verdict::UnexpectedPass(why) => (Some(why.clone()), None),
            };
            json!({
                "id": r.id,
                "name": r.name,
                "operation": r.operation,
                "code": r.code,
                "result": r.verdict.word(),
                "duration_ms": (r.duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
                "reason": reason,
                "message": message,
                "exchanges": r.exchanges.iter().map(|x| json!({
                    "stage": x.stage.name(), "method": x.method, "path": x.path,
                    "status": x.status, "body": x.shape,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "target": endpoint,
        "run_id": run_id,
        "wall_ms": (wall.as_secs_f64() * 1000.0).round(),
        "facts": facts,
        "totals": {
            "passed": count("passed"),
            "failed": count("failed"),
            "ignored": count("ignored"),
            "expected_fail": count("expected-fail"),
            "unexpected_pass": count("unexpected-pass"),
        },
        "cases": cases,
    });
    let io = |source| RunError::Report {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    std::fs::write(path, text + "\n").map_err(io)
}
