//! The libtest-mimic runner: one trial per case, named `<operation>::<code>::<case>`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

use super::junit;
use super::record::{Record, Verdict};
use super::{Driver, Suite};
use crate::error::RunError;

/// How to run.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// libtest's options (filter, `--exact`, `--skip`, `--list`, `--format`, ...).
    pub args: Arguments,
    /// Write JUnit XML here.
    pub junit: Option<PathBuf>,
}

/// Threads when `--test-threads` is not given: the work is waiting on the network.
const DEFAULT_THREADS: usize = 8;

/// Runs every case of `suite` through `driver` as libtest trials. Cases the target cannot
/// run are reported ignored with the reason. Blocks on `rt` for the HTTP work.
pub fn run(
    suite: &Arc<Suite>,
    driver: Arc<Driver>,
    rt: tokio::runtime::Handle,
    mut opts: RunOptions,
) -> Result<Conclusion, RunError> {
    if opts.args.test_threads.is_none() {
        opts.args.test_threads = Some(DEFAULT_THREADS);
    }
    let records: Arc<Mutex<Vec<Record>>> = Arc::default();
    let trials = suite
        .cases
        .iter()
        .map(|case| {
            let (case, driver, rt, records, suite) = (
                case.clone(),
                driver.clone(),
                rt.clone(),
                records.clone(),
                suite.clone(),
            );
            Trial::ignorable_test(case.name.clone(), move || {
                let start = Instant::now();
                let mut observed = Vec::new();
                let (verdict, result) = match driver.skip_reason(&case) {
                    Some(reason) => (
                        Verdict::Ignored(reason.clone()),
                        Ok(Completion::ignored_with(reason)),
                    ),
                    None => {
                        let run = rt.block_on(driver.run_case_recorded(&case));
                        observed = run
                            .exchanges
                            .iter()
                            .filter_map(|x| {
                                suite
                                    .operation_for(&x.method, &x.path)
                                    .map(|op| (op.operation.clone(), x.status))
                            })
                            .collect();
                        match run.result {
                            Ok(()) => (Verdict::Passed, Ok(Completion::Completed)),
                            Err(e) => {
                                let msg =
                                    format!("[{}] {}\n{}", case.file.id, case.file.purpose, e);
                                (Verdict::Failed(msg.clone()), Err(Failed::from(msg)))
                            }
                        }
                    }
                };
                records.lock().expect("records lock").push(Record {
                    name: case.name.clone(),
                    id: case.file.id.clone(),
                    operation: case.file.operation.clone(),
                    code: case.file.code,
                    duration: start.elapsed(),
                    verdict,
                    observed,
                });
                result
            })
        })
        .collect();
    let start = Instant::now();
    let conclusion = libtest_mimic::run(&opts.args, trials);
    let wall = start.elapsed();
    if !opts.args.list {
        println!(
            "sharecheck: {} trials ran in {:.0} ms wall time (target {})",
            conclusion.num_passed + conclusion.num_failed,
            wall.as_secs_f64() * 1000.0,
            driver.target().base()
        );
    }
    if let Some(path) = &opts.junit {
        let records = records.lock().expect("records lock");
        junit::write(path, &records, wall)?;
    }
    Ok(conclusion)
}
