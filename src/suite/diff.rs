//! Differential runs: the same cases on two targets, and where their answers part.

use std::sync::Arc;

use super::exec::CaseRun;
use super::{Case, Driver, Suite};
use crate::target::Stage;

/// How one case went on one target, reduced to what is compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// passed, failed or ignored.
    pub result: &'static str,
    /// Status of every request of the case's own steps (before, request, then), in order.
    pub statuses: Vec<u16>,
    /// Body shape of the request under test (last attempt when repeated).
    pub shape: String,
}

impl Outcome {
    fn of(run: Option<CaseRun>) -> Outcome {
        let Some(run) = run else {
            return Outcome {
                result: "ignored",
                statuses: Vec::new(),
                shape: String::new(),
            };
        };
        let steps = run
            .exchanges
            .iter()
            .filter(|x| matches!(x.stage, Stage::Before | Stage::Request | Stage::Then));
        Outcome {
            result: if run.result.is_ok() {
                "passed"
            } else {
                "failed"
            },
            statuses: steps.map(|x| x.status).collect(),
            shape: run
                .exchanges
                .iter()
                .rev()
                .find(|x| x.stage == Stage::Request)
                .map(|x| x.shape.clone())
                .unwrap_or_default(),
        }
    }

    /// One line: `failed 204,404 empty`.
    pub fn describe(&self) -> String {
        let statuses: Vec<String> = self.statuses.iter().map(u16::to_string).collect();
        format!("{} {} {}", self.result, statuses.join(","), self.shape)
            .trim_end()
            .to_string()
    }
}

/// One case whose outcome differs between the targets.
#[derive(Clone, Debug)]
pub struct Difference {
    /// Trial name.
    pub case: String,
    /// On the first target.
    pub a: Outcome,
    /// On the second.
    pub b: Outcome,
}

async fn run_one(driver: &Driver, case: &Case) -> Option<CaseRun> {
    driver.learn().await;
    if driver.skip_reason(case).is_some() {
        return None;
    }
    Some(driver.run_case_recorded(case).await)
}

/// Runs every case (matching `filter`, when given) on both targets, up to `parallel` at a
/// time, and returns the cases whose result, statuses or body shape differ, in name order.
pub async fn diff(
    suite: &Suite,
    a: Arc<Driver>,
    b: Arc<Driver>,
    filter: Option<&str>,
    parallel: usize,
) -> (usize, Vec<Difference>) {
    let cases: Vec<Case> = suite
        .cases
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .cloned()
        .collect();
    let total = cases.len();
    let limit = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for case in cases {
        let (a, b, limit) = (a.clone(), b.clone(), limit.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await.ok();
            let (ra, rb) = tokio::join!(run_one(&a, &case), run_one(&b, &case));
            (case.name, Outcome::of(ra), Outcome::of(rb))
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((case, a, b)) = joined
            && a != b
        {
            out.push(Difference { case, a, b });
        }
    }
    out.sort_by(|x, y| x.case.cmp(&y.case));
    (total, out)
}
