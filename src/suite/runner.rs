//! The libtest-mimic runner: one trial per case, named `<operation>::<code>::<case>`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

use super::expect::{Expectations, Expected};
use super::record::{Record, Verdict};
use super::{Case, Driver, Suite, json, junit, report};
use crate::error::{RunError, chain};
use crate::target::Need;

/// How to run.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// libtest's options (filter, `--exact`, `--skip`, `--list`, `--format`, ...).
    pub args: Arguments,
    /// Write JUnit XML here.
    pub junit: Option<PathBuf>,
    /// Write one JSON record per case here.
    pub json: Option<PathBuf>,
    /// Write the traceability and drift report (`report.md`, `report.html`) into this folder.
    pub report: Option<PathBuf>,
    /// Known deviations: expected failures and skips.
    pub expectations: Expectations,
    /// An expected failure that passes fails the run.
    pub strict: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunSummary {
    /// libtest's counts.
    pub conclusion: Conclusion,
    /// Cases listed as expected failures that passed.
    pub unexpected_passes: Vec<String>,
}

impl RunSummary {
    /// 0 when everything passed (or failed as expected), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.conclusion.has_failed())
    }
}

/// Threads when `--test-threads` is not given: the work is waiting on the network.
const DEFAULT_THREADS: usize = 8;

/// Runs one case and decides its verdict, expectations applied.
fn judge(
    case: &Case,
    suite: &Suite,
    driver: &Driver,
    rt: &tokio::runtime::Handle,
    expected: Option<&super::Expectation>,
    strict: bool,
) -> (Record, Result<Completion, Failed>) {
    let start = Instant::now();
    let mut record = Record {
        name: case.name.clone(),
        id: case.file.id.clone(),
        operation: case.file.operation.clone(),
        code: case.file.code,
        duration: Default::default(),
        verdict: Verdict::Passed,
        observed: Vec::new(),
        exchanges: Vec::new(),
    };
    let skip = match (expected, driver.skip_reason(case)) {
        (Some(e), _) if e.expect == Expected::Skip => Some(format!("skipped: {}", e.reason)),
        (_, reason) => reason,
    };
    let result = match skip {
        Some(reason) => {
            record.verdict = Verdict::Ignored(reason.clone());
            Ok(Completion::ignored_with(reason))
        }
        None => {
            let run = rt.block_on(driver.run_case_recorded(case));
            // Each exchange counts for the operation it is an instance of; the request under
            // test counts for the cited operation even when it is an instance of none (a
            // method the path does not allow: that operation's 405).
            record.observed = run
                .exchanges
                .iter()
                .filter_map(|x| {
                    match suite.operation_of(&x.method, &x.path, Some(&case.file.operation)) {
                        Some(op) => Some((op.operation.clone(), x.status)),
                        None if x.stage == super::Stage::Request => {
                            Some((case.file.operation.clone(), x.status))
                        }
                        None => None,
                    }
                })
                .collect();
            record.exchanges = run.exchanges;
            let xfail = expected.filter(|e| e.expect == Expected::ExpectedFail);
            match (run.result, xfail) {
                (Ok(()), None) => Ok(Completion::Completed),
                (Ok(()), Some(e)) => {
                    record.verdict = Verdict::UnexpectedPass(e.reason.clone());
                    if strict {
                        Err(Failed::from(format!(
                            "unexpected pass: listed as an expected failure ({}), but it passed; remove it from the expectations",
                            e.reason
                        )))
                    } else {
                        Ok(Completion::Completed)
                    }
                }
                (Err(f), Some(e)) => {
                    record.verdict = Verdict::ExpectedFail(e.reason.clone(), chain(&f));
                    Ok(Completion::ignored_with(format!(
                        "expected failure: {}",
                        e.reason
                    )))
                }
                (Err(f), None) => {
                    let msg = format!("[{}] {}\n{}", case.file.id, case.file.purpose, chain(&f));
                    record.verdict = Verdict::Failed(msg.clone());
                    Err(Failed::from(msg))
                }
            }
        }
    };
    record.duration = start.elapsed();
    (record, result)
}

/// What the preflight learned of the target (API versions, stores, import methods, the
/// deployment, quotas), then each unmet need with how many cases it
/// turns off among the `selected` trials and why, one line each.
fn learned(
    suite: &Suite,
    driver: &Driver,
    selected: &BTreeSet<&str>,
) -> (Vec<String>, Vec<serde_json::Value>) {
    let target = driver.target();
    let mut lines: Vec<String> = driver
        .facts()
        .describe(target)
        .into_iter()
        .map(|l| format!("preflight: {l}"))
        .collect();
    let mut unmet: BTreeMap<Need, (usize, String)> = BTreeMap::new();
    for case in suite
        .cases
        .iter()
        .filter(|c| selected.contains(c.name.as_str()))
    {
        for need in &case.needs {
            if let Some(why) = driver.lacks(need) {
                unmet.entry(*need).or_insert((0, why)).0 += 1;
            }
        }
    }
    if unmet.is_empty() {
        lines.push("preflight: every need of the selected cases is met".into());
    }
    let mut json = Vec::new();
    for (need, (count, why)) in unmet {
        lines.push(format!(
            "preflight: {count} case(s) need {need} and are ignored: {why}"
        ));
        json.push(serde_json::json!({"need": need.to_string(), "cases": count, "reason": why}));
    }
    (lines, json)
}

/// Runs every case of `suite` through `driver` as libtest trials. Cases the target cannot
/// run, or that the expectations skip, are reported ignored with the reason. Blocks on `rt`
/// for the HTTP work.
pub fn run(
    suite: &Arc<Suite>,
    driver: Arc<Driver>,
    rt: tokio::runtime::Handle,
    mut opts: RunOptions,
) -> Result<RunSummary, RunError> {
    if opts.args.test_threads.is_none() {
        opts.args.test_threads = Some(DEFAULT_THREADS);
    }
    let records: Arc<Mutex<Vec<Record>>> = Arc::default();
    let expectations = Arc::new(std::mem::take(&mut opts.expectations));
    let strict = opts.strict;
    let trials = suite
        .cases
        .iter()
        .map(|case| {
            let (case, driver, rt, records, suite, expectations) = (
                case.clone(),
                driver.clone(),
                rt.clone(),
                records.clone(),
                suite.clone(),
                expectations.clone(),
            );
            Trial::ignorable_test(case.name.clone(), move || {
                let expected = expectations.get(&case.name);
                let (record, result) = judge(&case, &suite, &driver, &rt, expected, strict);
                records.lock().expect("records lock").push(record);
                result
            })
        })
        .collect::<Vec<Trial>>();
    let mut unmet_needs = Vec::new();
    if !opts.args.list {
        rt.block_on(driver.learn());
        let selected: BTreeSet<&str> = trials
            .iter()
            .filter(|t| !opts.args.is_filtered_out(t))
            .map(Trial::name)
            .collect();
        let (lines, unmet) = learned(suite, &driver, &selected);
        unmet_needs = unmet;
        // Under `--format json` stdout carries libtest's JSON lines only.
        let json = matches!(opts.args.format, Some(libtest_mimic::FormatSetting::Json));
        for line in lines {
            if json {
                eprintln!("sharecheck: {line}");
            } else {
                println!("sharecheck: {line}");
            }
        }
    }
    let started = SystemTime::now();
    let start = Instant::now();
    let conclusion = libtest_mimic::run(&opts.args, trials);
    let wall = start.elapsed();
    let records = records.lock().expect("records lock");
    let unexpected_passes: Vec<String> = records
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::UnexpectedPass(_)))
        .map(|r| r.name.clone())
        .collect();
    if !opts.args.list {
        println!(
            "sharecheck: {} trials ran in {:.0} ms wall time (target {})",
            conclusion.num_passed + conclusion.num_failed,
            wall.as_secs_f64() * 1000.0,
            driver.target().base()
        );
        let xfail = records
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::ExpectedFail(..)))
            .count();
        if xfail > 0 {
            println!("sharecheck: {xfail} expected failure(s) failed as expected");
        }
        if !unexpected_passes.is_empty() {
            println!(
                "sharecheck: {} unexpected pass(es){}: {}",
                unexpected_passes.len(),
                if strict {
                    ""
                } else {
                    " (--strict fails the run on them)"
                },
                unexpected_passes.join(", ")
            );
        }
    }
    if let Some(path) = &opts.junit {
        junit::write(path, &records, wall)?;
    }
    if let Some(path) = &opts.json {
        json::write(
            path,
            &records,
            driver.target().base(),
            driver.run_id(),
            wall,
            {
                let mut facts = driver.facts().to_json();
                facts["unmet_needs"] = unmet_needs.into();
                facts
            },
        )?;
    }
    if let Some(dir) = &opts.report {
        let target = driver.target();
        let info = report::RunInfo {
            endpoint: target.base(),
            run_id: driver.run_id(),
            started,
            wall,
            secrets: target.personas.values().map(|p| p.token.as_str()).collect(),
        };
        report::write(dir, suite, &records, &info)?;
    }
    Ok(RunSummary {
        conclusion,
        unexpected_passes,
    })
}
