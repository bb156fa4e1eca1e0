//! The one entry point: [`run`] does all four kinds of fuzzing against a target, in a fixed
//! order (security probes, hostile input, concurrency, stateful sequences), and gives back one
//! [`FuzzReport`] that prints itself as the CLI shows it.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::concurrency::{self, ConcurrencyOptions, ConcurrencyReport};
use super::emit;
use super::hostile::{self, HostileOptions, HostileReport};
use super::security::{self, SecurityReport};
use super::stateful::{self, StatefulError, StatefulOptions, StatefulReport};
use crate::error::RunError;
use crate::target::{Session, Target};

/// What to run.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// The stateful run (its seed seeds the other parts too).
    pub stateful: StatefulOptions,
    /// Hostile requests to send (0: none).
    pub hostile: usize,
    /// Also send as many plain `GET /v2/images` on the same client, for comparison.
    pub hostile_baseline: bool,
    /// Concurrent clients (0: no concurrency check).
    pub clients: usize,
    /// Where to write a finding as a case file.
    pub emit: Option<PathBuf>,
}

/// Why a fuzz run could not be carried out (findings are not errors: see [`FuzzReport`]).
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    /// The target file lacks what predictions need.
    #[error("fuzz needs `member_quota` in the target file to predict 413")]
    NoQuota,
    /// No session with the target (its TLS or network settings).
    #[error("cannot open a session with the target")]
    Session(#[source] RunError),
    /// The security probes could not start.
    #[error("the security probes cannot start")]
    Security(#[source] StatefulError),
    /// The stateful sequences could not start.
    #[error("the stateful sequences cannot start")]
    Stateful(#[source] StatefulError),
    /// The finding could not be written.
    #[error("cannot write {}", path.display())]
    Emit {
        /// The case file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Everything one run found.
#[derive(Debug)]
pub struct FuzzReport {
    /// The target's image endpoint.
    pub endpoint: String,
    /// The options the run used.
    pub options: FuzzOptions,
    /// Security probes.
    pub security: SecurityReport,
    /// Hostile input, if asked for.
    pub hostile: Option<HostileReport>,
    /// Plain GETs sent and their time, if asked for.
    pub baseline: Option<(usize, Duration)>,
    /// Concurrency, if asked for.
    pub concurrency: Option<ConcurrencyReport>,
    /// Stateful sequences.
    pub stateful: StatefulReport,
    /// The finding as a story, if there is one.
    pub story: Option<String>,
    /// Where the finding was written as a case file.
    pub written: Option<PathBuf>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl FuzzReport {
    /// Whether the concurrency check ran and found no serial order.
    fn concurrency_failed(&self) -> bool {
        self.concurrency.as_ref().is_some_and(|c| !c.passed())
    }

    /// How many parts found something (each security violation counts once).
    pub fn problems(&self) -> usize {
        self.security.violations.len()
            + usize::from(self.hostile.as_ref().is_some_and(|h| !h.passed()))
            + usize::from(self.concurrency_failed() && self.options.stateful.known.race().is_none())
            + usize::from(self.stateful.finding.is_some())
    }
}

/// Runs every part against `target`. Blocks on `rt`; call it from outside the runtime.
pub fn run(
    rt: &tokio::runtime::Handle,
    target: &Target,
    opts: &FuzzOptions,
) -> Result<FuzzReport, FuzzError> {
    let quota = i64::from(target.member_quota.ok_or(FuzzError::NoQuota)?);
    let start = Instant::now();
    let seed = opts.stateful.seed;
    let security = rt
        .block_on(security::run(target))
        .map_err(FuzzError::Security)?;
    let hostile_opts = HostileOptions {
        requests: opts.hostile,
        seed,
        ..Default::default()
    };
    let session = Session::new(target.clone()).map_err(FuzzError::Session)?;
    let hostile = (opts.hostile > 0).then(|| rt.block_on(hostile::run(&session, &hostile_opts)));
    let baseline = (opts.hostile > 0 && opts.hostile_baseline).then(|| {
        rt.block_on(hostile::baseline(
            &session,
            opts.hostile,
            hostile_opts.parallel,
        ))
    });
    let concurrency = (opts.clients > 0).then(|| {
        let c = ConcurrencyOptions {
            clients: opts.clients,
            seed,
            ..Default::default()
        };
        rt.block_on(concurrency::run_in(&session, &c))
    });
    let stateful = stateful::run(rt, target, &opts.stateful).map_err(FuzzError::Stateful)?;
    let story = stateful
        .finding
        .as_ref()
        .map(|f| emit::describe(target, quota, &f.steps));
    let written = match (&stateful.finding, &opts.emit) {
        (Some(finding), Some(dir)) => {
            let (rel, text) = emit::case_file(target, quota, finding);
            let path = dir.join(rel);
            path.parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, text))
                .map_err(|source| FuzzError::Emit {
                    path: path.clone(),
                    source,
                })?;
            Some(path)
        }
        _ => None,
    };
    Ok(FuzzReport {
        endpoint: target.base().to_string(),
        options: opts.clone(),
        security,
        hostile,
        baseline,
        concurrency,
        stateful,
        story,
        written,
        elapsed: start.elapsed(),
    })
}

impl fmt::Display for FuzzReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sec = &self.security;
        let probes: Vec<String> = sec
            .probes
            .iter()
            .map(|(p, n)| format!("{p:?} {n}"))
            .collect();
        writeln!(
            f,
            "security: {} probe request(s) ({}); {} violation(s)",
            sec.requests,
            probes.join(", "),
            sec.violations.len()
        )?;
        for (p, v) in &sec.violations {
            writeln!(f, "  {p:?}: {v}")?;
        }
        for note in &sec.notes {
            writeln!(f, "  note: {note}")?;
        }
        if let Some(h) = &self.hostile {
            writeln!(f, "{h}")?;
            if let Some((ok, took)) = self.baseline {
                let rate = ok as f64 / took.as_secs_f64().max(1e-9);
                writeln!(
                    f,
                    "baseline: {ok} plain GET /v2/images in {:.1} s ({rate:.0} requests/s); hostile at {:.0}% of that",
                    took.as_secs_f64(),
                    100.0 * h.requests_per_second() / rate.max(1e-9)
                )?;
            }
        }
        if let Some(c) = &self.concurrency {
            writeln!(f, "{c}")?;
            if let Some((id, reason)) = self.options.stateful.known.race() {
                let verdict = if self.concurrency_failed() {
                    "seen"
                } else {
                    "not seen"
                };
                writeln!(f, "concurrency: known defect `{id}` {verdict}: {reason}")?;
            }
        }
        self.fmt_stateful(f)?;
        write!(
            f,
            "fuzz: done in {:.1} s; {} problem(s)",
            self.elapsed.as_secs_f64(),
            self.problems()
        )
    }
}

impl FuzzReport {
    fn fmt_stateful(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options.stateful;
        let s = &self.stateful;
        writeln!(
            f,
            "fuzz: {} sequence(s) of up to {} steps against {}, seed {}",
            o.cases, o.max_steps, self.endpoint, o.seed
        )?;
        let secs = s.elapsed.as_secs_f64();
        writeln!(
            f,
            "fuzz: {} sequence(s), {} request(s) in {secs:.1} s ({:.0} requests/s); {} mismatch(es)",
            s.sequences,
            s.requests,
            s.requests as f64 / secs.max(1e-9),
            usize::from(s.finding.is_some())
        )?;
        for (id, reason, seen) in o.known.tally() {
            writeln!(f, "fuzz: known defect `{id}` seen {seen} time(s): {reason}")?;
        }
        let Some(finding) = &s.finding else {
            return Ok(());
        };
        writeln!(
            f,
            "fuzz: MISMATCH, shrunk to {} step(s) (replay: sharecheck fuzz --seed {} --cases {} --max-steps {}):",
            finding.steps.len(),
            finding.seed,
            o.cases,
            o.max_steps
        )?;
        write!(f, "{}", self.story.as_deref().unwrap_or(""))?;
        writeln!(f, "  mismatch: {}", finding.message)?;
        if let (Some(path), Some(dir)) = (&self.written, &self.options.emit) {
            writeln!(
                f,
                "fuzz: wrote {} (run it: sharecheck run --cases {})",
                path.display(),
                dir.display()
            )?;
        }
        Ok(())
    }
}
