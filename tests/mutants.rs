//! The suite's checks can fail: every mutant of the reference rules, served by the embedded
//! mock, must be caught by at least one case. A libtest-mimic program (harness = false) with
//! one trial for the unmutated mock (`reference::passes_every_case`), one per mutant
//! (`mutant::<name>`) and one for a failure message's clarity; the trials run in parallel
//! and filter as usual (`cargo test --test mutants -- --exact mutant::member-can-delete-self`).
//! After them it prints which case killed which mutant, and the mutation score.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};
use sharecheck::{Driver, MockServer, Mutant, Suite};
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Cases in flight at once over every trial. A flooded mock takes seconds per request, and
/// the case that tells images made within one second apart (`list-ties-by-id`) needs its
/// three creates to fall within about one; that mutant survived once with 16 in flight on one
/// mock, so several mocks in parallel share this bound rather than each having their own.
const SLOTS: usize = 16;
/// Cases in flight at once for one mutant, so that several mutants share the slots.
const WINDOW: usize = 6;
/// Trials at once when `--test-threads` is not given: most of a mutant's time is waiting.
const THREADS: usize = 4;
/// Passes over every case, each on a fresh mock, before a mutant counts as surviving: some
/// kills hang on timing or on the order of random ids.
const PASSES: usize = 2;

/// A case that failed: its name and what the failure said.
type Failure = (String, String);

/// What every trial shares: the suite, one runtime, the slots, and the kills seen.
struct Harness {
    suite: Arc<Suite>,
    rt: Runtime,
    slots: Arc<Semaphore>,
    /// Per mutant that ran: the case that killed it and how many cases were started, or `None`
    /// when it survived.
    kills: Mutex<BTreeMap<&'static str, Option<(String, usize)>>>,
}

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = Some(THREADS);
    }
    let suite = match Suite::bundled() {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let h = Arc::new(Harness {
        suite,
        rt,
        slots: Arc::new(Semaphore::new(SLOTS)),
        kills: Mutex::default(),
    });
    let conclusion = libtest_mimic::run(&args, trials(&h));
    if !args.list {
        print_kills(&h.kills.lock().expect("kills lock"));
    }
    conclusion.exit_code()
}

/// The reference trial, the clarity trial and one trial per mutant.
fn trials(h: &Arc<Harness>) -> Vec<Trial> {
    let mut trials = Vec::new();
    let r = h.clone();
    trials.push(Trial::test("reference::passes_every_case", move || {
        reference(&r)
    }));
    let c = h.clone();
    trials.push(Trial::test(
        "clarity::a_member_deleting_itself_is_reported_clearly",
        move || clarity(&c),
    ));
    for &m in Mutant::ALL {
        let h = h.clone();
        trials.push(Trial::test(format!("mutant::{m}"), move || mutant(&h, m)));
    }
    trials
}

/// The unmutated mock passes every case.
fn reference(h: &Harness) -> Result<(), Failed> {
    let all: Vec<usize> = (0..h.suite.cases.len()).collect();
    let failures = h.rt.block_on(async {
        let (_mock, driver) = start(h, None).await?;
        Ok::<_, Failed>(run_cases(h, driver, &all, SLOTS, false).await.0)
    })?;
    if failures.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = failures
        .iter()
        .map(|(name, msg)| format!("--- {name}\n{msg}"))
        .collect();
    Err(format!(
        "the unmutated mock fails {} of {} cases:\n{}",
        failures.len(),
        all.len(),
        listed.join("\n")
    )
    .into())
}

/// Some case fails against the mock with `m`. Stops at the first failing case; a mutant that
/// meets every case `PASSES` times without a failure survives and fails the trial.
fn mutant(h: &Harness, m: Mutant) -> Result<(), Failed> {
    let order = kill_order(&h.suite, m);
    let killed = h.rt.block_on(async {
        let mut started = 0;
        for _ in 0..PASSES {
            let (_mock, driver) = start(h, Some(m)).await?;
            let (failures, ran) = run_cases(h, driver, &order, WINDOW, true).await;
            started += ran;
            if let Some((case, _)) = failures.into_iter().next() {
                return Ok::<_, Failed>(Some((case, started)));
            }
        }
        Ok(None)
    })?;
    let survived = killed.is_none();
    h.kills.lock().expect("kills lock").insert(m.name(), killed);
    if survived {
        return Err(format!(
            "mutant {m} survived: none of the {} cases failed against the mock with it, in \
             {PASSES} passes each on a fresh mock; add a case that catches it",
            order.len()
        )
        .into());
    }
    Ok(())
}

/// A member removing itself, caught, is reported with the request, the persona and the body.
fn clarity(h: &Harness) -> Result<(), Failed> {
    let name = "delete_image_member::403::member_cannot_remove_itself";
    let case = h.suite.case(name).ok_or(format!("no case {name}"))?;
    let msg = h.rt.block_on(async {
        let (_mock, driver) = start(h, Some(Mutant::MemberCanDeleteSelf)).await?;
        match driver.run_case(case).await {
            Ok(()) => Err(Failed::from("member-can-delete-self was not caught")),
            Err(e) => Ok(e.to_string()),
        }
    })?;
    for want in [
        "DELETE /v2/images/",
        "/members/proj-member as member",
        "expected status 403, got 204",
        "body: (empty)",
    ] {
        if !msg.contains(want) {
            return Err(format!("missing {want:?} in:\n{msg}").into());
        }
    }
    Ok(())
}

/// Starts the embedded mock with `mutant` on the shared runtime, and a driver for it; the
/// mock stops when dropped.
async fn start(h: &Harness, mutant: Option<Mutant>) -> Result<(MockServer, Arc<Driver>), Failed> {
    let (mock, target) = sharecheck::embedded::start(mutant)
        .await
        .map_err(|e| format!("the embedded mock does not start: {e}"))?;
    let driver = Driver::new(target, &h.suite).map_err(|e| format!("HTTP client: {e}"))?;
    Ok((mock, Arc::new(driver)))
}

/// Runs the cases at `order` (indices into the suite) against `driver`, at most `window` at
/// once and each holding one of the shared slots; with `first_only`, stops at the first
/// failure. Returns the failures sorted by case name, and how many cases were started.
async fn run_cases(
    h: &Harness,
    driver: Arc<Driver>,
    order: &[usize],
    window: usize,
    first_only: bool,
) -> (Vec<Failure>, usize) {
    let mut pending = order.iter().copied();
    let mut set = JoinSet::new();
    let (mut failures, mut started) = (Vec::new(), 0);
    loop {
        while set.len() < window {
            let Some(i) = pending.next() else { break };
            let (suite, driver, slots) = (h.suite.clone(), driver.clone(), h.slots.clone());
            started += 1;
            set.spawn(async move {
                let _slot = slots.acquire_owned().await.expect("semaphore open");
                let case = &suite.cases[i];
                // A case the embedded mock's deployment cannot run (a copy among stores)
                // is left out, as a run reports it ignored.
                if driver.unmet_needs(case).await.is_some() {
                    return (case.name.clone(), None);
                }
                let r = driver.run_case(case).await;
                (case.name.clone(), r.err().map(|e| e.to_string()))
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (name, failure) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        if let Some(msg) = failure {
            failures.push((name, msg));
            if first_only {
                break;
            }
        }
    }
    // Dropping the set aborts the cases still running.
    failures.sort();
    (failures, started)
}

/// The order a mutant meets the cases in: first those whose names share the most words with
/// the mutant's name, then round-robin over the rows (operation and status code), so that each
/// row is tried early. Only speed hangs on it; a surviving mutant meets every case.
fn kill_order(suite: &Suite, m: Mutant) -> Vec<usize> {
    let words: Vec<&str> = m.name().split('-').filter(|w| w.len() > 2).collect();
    let mut seen: HashMap<(&str, u16), usize> = HashMap::new();
    let mut keyed: Vec<(usize, usize, usize)> = Vec::new();
    for (i, case) in suite.cases.iter().enumerate() {
        let shared = case
            .name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| words.contains(w))
            .count();
        let rank = seen
            .entry((case.file.operation.as_str(), case.file.code))
            .or_default();
        keyed.push((usize::MAX - shared, *rank, i));
        *rank += 1;
    }
    keyed.sort();
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

/// The kills table and the mutation score of the mutants that ran.
fn print_kills(kills: &BTreeMap<&'static str, Option<(String, usize)>>) {
    if kills.is_empty() {
        return;
    }
    println!("mutant → killed by (cases started)");
    for (m, kill) in kills {
        match kill {
            Some((case, started)) => println!("  {m}: {case} ({started})"),
            None => println!("  {m}: SURVIVED"),
        }
    }
    let killed = kills.values().filter(|k| k.is_some()).count();
    println!(
        "mutation score: {killed}/{} killed ({:.0}%)",
        kills.len(),
        100.0 * killed as f64 / kills.len() as f64
    );
}
