//! The stateful property run: random sequences of operations of the operation table by
//! random callers, each answer compared with the reference model's prediction. proptest
//! generates the sequences (proptest-state-machine) and shrinks a mismatch to a shortest
//! story, which can be written out as a case file.
//!
//! - `step`: what a step is and how sequences are generated, from the table's rows;
//! - `sequence`: rendering, predicting, sending and comparing one step.

mod sequence;
mod step;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;
use serde_json::Value;

use sequence::Sequence;
pub(crate) use sequence::{FUZZ_TAG, Fill, Http, Payload, http_of};
pub use step::{Sequences, Step, Who, Whom};

use crate::error::{RunError, chain};
use crate::model::{Identities, Identity, Model, Rules};
use crate::target::{PERSONAS, Session, Target};

/// A caller in words.
pub(crate) fn describe_caller(w: Who) -> String {
    match w {
        Who::Persona(p) => p.to_string(),
        Who::Anonymous => "a caller without a token".into(),
        Who::BadToken => "a caller with an unknown token".into(),
        Who::WrongHeader => "the owner, with its token in `Authorization: Bearer`".into(),
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct StatefulOptions {
    /// Sequences to generate.
    pub cases: u32,
    /// Seed of the generator; the same seed replays the same sequences.
    pub seed: u64,
    /// Longest sequence.
    pub max_steps: usize,
    /// Differences already understood: seen and counted, not mismatches.
    pub known: crate::fuzz::KnownDefects,
}

/// A mismatch, shrunk.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The shortest sequence that still shows it.
    pub steps: Vec<Step>,
    /// What differed, at the last step.
    pub message: String,
    /// The seed that found it.
    pub seed: u64,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct StatefulReport {
    /// Sequences run (shrinking included).
    pub sequences: usize,
    /// Requests sent.
    pub requests: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// The shrunk mismatch, if one was found.
    pub finding: Option<Finding>,
}

/// Why sequences cannot be sent to a target (a mismatch is a [`Finding`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum StatefulError {
    /// The target file lacks personas the sequences use.
    #[error("fuzzing needs every persona; the target lacks {}", .0.join(", "))]
    Personas(Vec<String>),
    /// The target file has no member quota, so 413 cannot be predicted.
    #[error("fuzzing needs the target's member_quota to predict 413")]
    NoQuota,
    /// No session with the target (its TLS or network settings).
    #[error("cannot open a session with the target")]
    Session(#[source] RunError),
    /// proptest gave up (too many rejected sequences), with its reason.
    #[error("fuzz aborted: {0}")]
    Aborted(String),
}

/// Everything a sequence needs.
struct Ctx {
    rt: tokio::runtime::Handle,
    session: Session,
    target: Target,
    identities: Identities,
    rules: Rules,
    prefix: String,
    sequences: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    /// The target's known defects.
    known: crate::fuzz::KnownDefects,
}

impl Ctx {
    /// The context for `target`; it needs all five personas and the member quota.
    fn new(
        rt: tokio::runtime::Handle,
        target: &Target,
        prefix: String,
    ) -> Result<Ctx, StatefulError> {
        let missing: Vec<String> = PERSONAS
            .iter()
            .filter(|p| !target.personas.contains_key(**p))
            .map(|p| p.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(StatefulError::Personas(missing));
        }
        let quota = target.member_quota.ok_or(StatefulError::NoQuota)?;
        let session = Session::new(target.clone()).map_err(StatefulError::Session)?;
        Ok(Ctx {
            rt,
            session,
            target: target.clone(),
            identities: identities_of(target),
            rules: Rules {
                member_quota: i64::from(quota),
                tag_quota: target.tag_quota.map_or(128, i64::from),
                property_quota: 128,
                deployment: deployment_of(target),
                ..Rules::default()
            },
            prefix,
            sequences: Arc::default(),
            requests: Arc::default(),
            known: crate::fuzz::KnownDefects::default(),
        })
    }
}

/// The model's view of the target's personas: each token is its persona's identity; the
/// `admin` persona holds the admin role.
fn identities_of(target: &Target) -> Identities {
    let mut ids = Identities::default();
    for (name, p) in &target.personas {
        let mut roles = vec!["member".to_string(), "reader".to_string()];
        match name.as_str() {
            "admin" => roles.insert(0, "admin".to_string()),
            "reader" => roles.retain(|r| r == "reader"),
            _ => {}
        }
        ids.tokens.insert(
            p.token.clone(),
            Identity {
                project_id: p.project_id.clone(),
                user_id: format!("user-{name}"),
                roles,
            },
        );
    }
    ids
}

/// Runs `opts.cases` generated sequences against `target`; stops at the first mismatch and
/// shrinks it. Blocks on `rt`; call it from outside the runtime.
pub fn run(
    rt: &tokio::runtime::Handle,
    target: &Target,
    opts: &StatefulOptions,
) -> Result<StatefulReport, StatefulError> {
    let mut ctx = Ctx::new(
        rt.clone(),
        target,
        format!(
            "sharecheck-{}-fuzz",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
    )?;
    ctx.known = opts.known.clone();
    let (sequences, requests) = (ctx.sequences.clone(), ctx.requests.clone());
    let config = Config {
        cases: opts.cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        verbose: 0,
        ..Config::default()
    };
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&opts.seed.to_le_bytes());
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let start = Instant::now();
    let strategy = Sequences::sequential_strategy(1..=opts.max_steps.max(1));
    let result = runner.run(&strategy, |(_, steps, seen)| {
        run_sequence(&ctx, &steps, seen)
    });
    let finding = match result {
        Ok(()) => None,
        Err(TestError::Fail(reason, (_, steps, _))) => Some(Finding {
            steps,
            message: reason.message().to_string(),
            seed: opts.seed,
        }),
        Err(TestError::Abort(why)) => return Err(StatefulError::Aborted(why.to_string())),
    };
    Ok(StatefulReport {
        sequences: sequences.load(Ordering::SeqCst),
        requests: requests.load(Ordering::SeqCst),
        elapsed: start.elapsed(),
        finding,
    })
}

fn run_sequence(
    ctx: &Ctx,
    steps: &[Step],
    seen: Option<Arc<AtomicUsize>>,
) -> Result<(), TestCaseError> {
    let n = ctx.sequences.fetch_add(1, Ordering::SeqCst) + 1;
    let name = format!("{}-{n}", ctx.prefix);
    ctx.rt.block_on(async {
        let mut seq = Sequence::new(ctx, name);
        let mut outcome = Ok(());
        for (i, step) in steps.iter().enumerate() {
            if let Some(s) = &seen {
                s.fetch_add(1, Ordering::SeqCst);
            }
            if let Err(e) = seq.step(step).await {
                outcome = Err(TestCaseError::fail(format!(
                    "step {} ({}): {}",
                    i + 1,
                    step.op.name,
                    chain(&e)
                )));
                break;
            }
        }
        seq.teardown().await;
        outcome
    })
}

/// The model's answer to every step of a sequence on `target`: the status, and the value the
/// comparison uses on success (the model's JSON body). No HTTP.
pub fn predictions(
    target: &Target,
    member_quota: i64,
    name: &str,
    steps: &[Step],
) -> Vec<(u16, Value)> {
    let mut seq = Sequence {
        target,
        ctx: None,
        model: Model::new(
            identities_of(target),
            Rules {
                member_quota,
                tag_quota: target.tag_quota.map_or(128, i64::from),
                property_quota: 128,
                deployment: deployment_of(target),
                ..Rules::default()
            },
        ),
        images: Vec::new(),
        session: None,
        name: name.to_string(),
        diverged: false,
    };
    steps
        .iter()
        .map(|step| match seq.predict(step) {
            Ok(v) => v,
            Err(status) => (status, Value::Null),
        })
        .collect()
}

/// Runs a fixed list of steps against `target`, comparing every answer with the model, and
/// returns the requests sent and the mismatches as (step index, message). The model keeps
/// going after a mismatch, so later steps may differ in consequence. Used by the security
/// checkers.
pub async fn run_script(
    target: &Target,
    steps: &[Step],
) -> Result<(usize, Vec<(usize, String)>), StatefulError> {
    let ctx = Ctx::new(tokio::runtime::Handle::current(), target, String::new())?;
    let name = format!(
        "sharecheck-{}-security",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut seq = Sequence::new(&ctx, name);
    let mut mismatches = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = seq.step(step).await {
            mismatches.push((i, chain(&e)));
        }
    }
    seq.teardown().await;
    Ok((ctx.requests.load(Ordering::SeqCst), mismatches))
}

/// The deployment the model plays for `target`: the mock's default, without the image cache
/// when the target file's `deployment:` section says there is none (the predictions of the
/// cache rows follow it).
fn deployment_of(target: &Target) -> crate::model::Deployment {
    let mut d = crate::model::Deployment::default();
    if let Some(declared) = &target.deployment {
        d.image_cache = declared.cache;
    }
    d
}
