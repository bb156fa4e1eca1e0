//! The `sharecheck` command: run the suite, or serve the mock.

mod args;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use args::{Cli, Command, SpecCommand};
use clap::Parser;
use sharecheck::{
    Driver, Expectations, Identities, MockConfig, MockServer, Mutant, Rules, RunOptions, Session,
    Suite, TargetFile, load_identities,
};

/// Exit code for configuration and usage errors (failures of the suite exit with 1).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(&While {
                doing: "cannot start the async runtime".into(),
                source: e,
            });
        }
    };
    match cli.command {
        Command::Run {
            target,
            junit,
            json,
            report,
            expect,
            strict,
            suite,
            cases,
            libtest,
        } => run(
            &rt,
            target,
            suite,
            cases,
            Outputs {
                junit,
                json,
                report,
                expect,
                strict,
            },
            libtest,
        ),
        Command::Mock {
            listen,
            identities,
            member_quota,
            tag_quota,
            config,
            glance_config,
            policy,
            faults,
            rate_limit,
            mutant,
            token_lifetime,
            fixtures,
            state,
            log,
        } => {
            let deployment = match (config, glance_config) {
                (Some(path), _) => sharecheck::load_deployment(&path).map(Some),
                (None, Some(path)) => {
                    sharecheck::load_glance_config(&path, policy.as_deref()).map(Some)
                }
                (None, None) => Ok(None),
            };
            let deployment = match deployment {
                Ok(d) => d,
                Err(e) => return fail(&e),
            };
            let fixtures = match fixtures.map(|p| sharecheck::load_fixtures(&p)).transpose() {
                Ok(f) => f,
                Err(e) => return fail(&e),
            };
            let identities = match identities {
                Some(path) => match load_identities(&path) {
                    Ok(i) => i,
                    Err(e) => return fail(&e),
                },
                None => Identities::builtin(),
            };
            let config = MockConfig {
                listen,
                identities,
                rules: mock_rules(deployment.as_ref(), member_quota, tag_quota, token_lifetime),
                mutant,
                faults,
                rate_limit,
                fixtures,
                log_json: log.is_some(),
                state,
            };
            // One thread serves best here: no cross-thread wake-ups per request, and the other
            // core stays free for the clients (SHARECHECK_MOCK_THREADS=N for a thread pool).
            let threads: usize = std::env::var("SHARECHECK_MOCK_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let built = if threads <= 1 {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .enable_all()
                    .build()
            };
            match built {
                Ok(mock_rt) => mock_rt.block_on(serve(config)),
                Err(e) => fail(&While {
                    doing: "cannot start the async runtime".into(),
                    source: e,
                }),
            }
        }
        Command::Spec { command } => spec(command),
        Command::Fuzz {
            target,
            sequences,
            seed,
            max_steps,
            emit,
            known_defects,
            mutant,
            hostile,
            hostile_baseline,
            clients,
        } => {
            let known = match sharecheck::KnownDefects::load_all(&known_defects) {
                Ok(k) => k,
                Err(e) => return fail(&e),
            };
            fuzz(
                &rt,
                target.as_deref(),
                sharecheck::StatefulOptions {
                    cases: sequences,
                    seed: seed.unwrap_or_else(rand::random),
                    max_steps,
                    known,
                },
                FuzzExtras {
                    emit,
                    mutant,
                    hostile,
                    hostile_baseline,
                    clients,
                },
            )
        }
        Command::Cleanup { target, run_id } => cleanup(&rt, &target, run_id.as_deref()),
        Command::Diff {
            target,
            filter,
            parallel,
        } => diff(&rt, &target, filter.as_deref(), parallel),
    }
}

/// `sharecheck spec ...`: 0, or 2 on any problem (nothing is written then).
fn spec(command: SpecCommand) -> ExitCode {
    use std::io::Write as _;
    let SpecCommand::Import {
        pages,
        out,
        operation,
        force,
        sources,
    } = command;
    let imported = match sharecheck::specimport::import_pages(&pages, operation.as_deref()) {
        Ok(i) => i,
        Err(e) => return fail_each(&e),
    };
    match out {
        None => {
            let text = if sources {
                sharecheck::specimport::sources_index(&imported)
            } else {
                sharecheck::specimport::yaml_stream(&imported)
            };
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&While {
                    doing: "cannot write to stdout".into(),
                    source: e,
                }),
            }
        }
        Some(dir) => {
            let wrote = |path: &std::path::Path| {
                let _ = writeln!(std::io::stdout(), "wrote {}", path.display());
            };
            match sharecheck::specimport::write_specs(&imported, &dir, force, wrote) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail_each(&e),
            }
        }
    }
}

/// Reports each problem on its own line; exit code 2.
fn fail_each(e: &sharecheck::specimport::SpecImportError) -> ExitCode {
    for p in &e.problems {
        eprintln!("sharecheck: error: {p}");
    }
    ExitCode::from(USAGE)
}

/// Prints an error and each of its causes once, one per line; exit code 2.
fn fail(e: &dyn std::error::Error) -> ExitCode {
    eprintln!("sharecheck: error: {e}");
    let mut cause = e.source();
    while let Some(c) = cause {
        eprintln!("  caused by: {c}");
        cause = c.source();
    }
    ExitCode::from(USAGE)
}

/// Prints a usage problem found by the CLI itself; exit code 2.
fn fail_usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("sharecheck: error: {msg}");
    ExitCode::from(USAGE)
}

/// An error with what was being done when it happened (`targets/a.yaml: preflight`).
#[derive(Debug, thiserror::Error)]
#[error("{doing}")]
struct While<E: std::error::Error + 'static> {
    doing: String,
    #[source]
    source: E,
}

/// Why a target file gave no session.
#[derive(Debug, thiserror::Error)]
enum OpenError {
    #[error(transparent)]
    File(#[from] sharecheck::DataError),
    #[error("target file {}", path.display())]
    Session {
        path: PathBuf,
        #[source]
        source: Box<sharecheck::RunError>,
    },
}

/// The mock's rules: the defaults, then what the deployment file sets, then the quotas
/// given on the command line. Prints what the deployment does not model.
fn mock_rules(
    deployment: Option<&sharecheck::LoadedDeployment>,
    member_quota: Option<i64>,
    tag_quota: Option<i64>,
    token_lifetime: u64,
) -> Rules {
    let mut rules = Rules {
        token_lifetime: std::time::Duration::from_secs(token_lifetime),
        ..Rules::default()
    };
    if let Some(d) = deployment {
        d.apply(&mut rules);
        for line in &d.unmodelled {
            eprintln!("sharecheck: not modelled: {line}");
        }
    }
    if let Some(q) = member_quota {
        rules.member_quota = q;
    }
    if let Some(q) = tag_quota {
        rules.tag_quota = q;
    }
    rules
}

async fn serve(config: MockConfig) -> ExitCode {
    let server = match MockServer::start(config).await {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    println!("listening on {}", server.uri());
    if let Err(e) = tokio::signal::ctrl_c().await {
        return fail(&While {
            doing: "cannot wait for Ctrl-C".into(),
            source: e,
        });
    }
    server.stop();
    eprintln!("sharecheck: mock stopped");
    ExitCode::SUCCESS
}

/// What `fuzz` does besides the stateful run.
struct FuzzExtras {
    emit: Option<PathBuf>,
    mutant: Option<Mutant>,
    hostile: usize,
    hostile_baseline: bool,
    clients: usize,
}

fn fuzz(
    rt: &tokio::runtime::Runtime,
    target: Option<&std::path::Path>,
    opts: sharecheck::StatefulOptions,
    extras: FuzzExtras,
) -> ExitCode {
    let FuzzExtras {
        emit,
        mutant,
        hostile,
        hostile_baseline,
        clients,
    } = extras;
    if mutant.is_some() && target.is_some() {
        return fail_usage("--mutant applies to the bundled mock only (no --target)");
    }
    let (_mock, target) = match target {
        Some(path) => match open_target(rt, path) {
            Ok(session) => (None, session.target().clone()),
            Err(e) => return fail(&e),
        },
        None => {
            // Fuzzing compares every answer with the model: no rate limit in the way.
            let mut config = sharecheck::embedded::config(mutant);
            config.rate_limit = None;
            match rt.block_on(sharecheck::embedded::start_with(config)) {
                Ok((server, t)) => (Some(server), t),
                Err(e) => return fail(&e),
            }
        }
    };
    let options = sharecheck::FuzzOptions {
        stateful: opts,
        hostile,
        hostile_baseline,
        clients,
        emit,
    };
    match sharecheck::fuzz(rt.handle(), &target, &options) {
        Ok(report) => {
            println!("{report}");
            if report.problems() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e),
    }
}

fn diff(
    rt: &tokio::runtime::Runtime,
    targets: &[PathBuf],
    filter: Option<&str>,
    parallel: usize,
) -> ExitCode {
    let [a, b] = targets else {
        return fail_usage(format!(
            "diff needs exactly two --target, got {}",
            targets.len()
        ));
    };
    let suite = match Suite::bundled() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let mut mocks = Vec::new();
    let mut drivers = Vec::new();
    for path in [a, b] {
        let session = if path.as_os_str() == "embedded" {
            match rt.block_on(sharecheck::embedded::start(None)) {
                Ok((server, t)) => {
                    mocks.push(server);
                    match Session::new(t) {
                        Ok(s) => s,
                        Err(e) => return fail(&e),
                    }
                }
                Err(e) => return fail(&e),
            }
        } else {
            match open_target(rt, path) {
                Ok(s) => s,
                Err(e) => return fail(&e),
            }
        };
        let driver = Arc::new(Driver::with_session(session, &suite));
        if let Err(e) = rt.block_on(driver.preflight()) {
            return fail(&While {
                doing: format!("{}: preflight", path.display()),
                source: e,
            });
        }
        drivers.push(driver);
    }
    let (total, diffs) = rt.block_on(sharecheck::diff(
        &suite,
        drivers[0].clone(),
        drivers[1].clone(),
        filter,
        parallel,
    ));
    let width = diffs.iter().map(|d| d.case.len()).max().unwrap_or(4).max(4);
    let col = diffs
        .iter()
        .map(|d| d.a.describe().len())
        .max()
        .unwrap_or(1)
        .max(a.display().to_string().len());
    if !diffs.is_empty() {
        println!("{:width$}  {:col$}  {}", "case", a.display(), b.display());
        for d in &diffs {
            println!(
                "{:width$}  {:col$}  {}",
                d.case,
                d.a.describe(),
                d.b.describe()
            );
        }
    }
    println!("diff: {} of {total} case(s) differ", diffs.len());
    drop(mocks);
    if diffs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn cleanup(rt: &tokio::runtime::Runtime, path: &std::path::Path, run_id: Option<&str>) -> ExitCode {
    let suite = match Suite::bundled() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let driver = match open_target(rt, path) {
        Ok(session) => Driver::with_session(session, &suite),
        Err(e) => return fail(&e),
    };
    let prefix = match run_id {
        Some(id) => format!("{}{id}-", sharecheck::IMAGE_PREFIX),
        None => sharecheck::IMAGE_PREFIX.to_string(),
    };
    let done = rt.block_on(driver.delete_leftovers(&prefix));
    for (persona, id, name) in &done.deleted {
        println!("deleted {id} {name} (as {persona})");
    }
    for (what, why) in &done.failed {
        eprintln!("sharecheck: could not clean up {what}: {why}");
    }
    println!(
        "cleanup: {} image(s) named {prefix}… deleted, {} failure(s)",
        done.deleted.len(),
        done.failed.len()
    );
    if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Set by whichever of the run and the signal handler first does the final clean-up.
static CLEANING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Deletes what this run still left and exits 130 (once, whoever calls first).
async fn finish_interrupted(driver: &Driver) {
    if CLEANING.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return std::future::pending().await;
    }
    let prefix = format!("{}{}-", sharecheck::IMAGE_PREFIX, driver.run_id());
    let done = driver.delete_leftovers(&prefix).await;
    eprintln!(
        "sharecheck: deleted {} leftover image(s) of run {}, {} failure(s)",
        done.deleted.len(),
        driver.run_id(),
        done.failed.len()
    );
    std::process::exit(130);
}

/// On Ctrl-C or SIGTERM: stop creating, let running cases clean up (the run then ends and
/// cleans up the rest), or after 10 s clean up from here; exit 130.
fn on_interrupt(rt: &tokio::runtime::Runtime, driver: Arc<Driver>) {
    rt.spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        sharecheck::interrupt();
        eprintln!("sharecheck: interrupted; cleaning up");
        // Running cases notice, fail fast and clean up their own images; the run then ends.
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        finish_interrupted(&driver).await;
    });
}

/// Reads a target file and resolves its personas (Keystone, clouds.yaml) into tokens.
/// One client serves Keystone and then the whole session.
fn open_target(rt: &tokio::runtime::Runtime, path: &std::path::Path) -> Result<Session, OpenError> {
    let file = TargetFile::load(path)?;
    rt.block_on(Session::open(&file))
        .map_err(|source| OpenError::Session {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
}

/// What `run` writes and how it judges, besides libtest's options.
struct Outputs {
    junit: Option<PathBuf>,
    json: Option<PathBuf>,
    report: Option<PathBuf>,
    expect: Vec<PathBuf>,
    strict: bool,
}

fn run(
    rt: &tokio::runtime::Runtime,
    target: Option<PathBuf>,
    suite_dir: Option<PathBuf>,
    cases_dir: Option<PathBuf>,
    out: Outputs,
    args: libtest_mimic::Arguments,
) -> ExitCode {
    let suite = match &suite_dir {
        Some(dir) => Suite::from_dir(dir),
        None => Suite::bundled(),
    };
    let suite = match suite.and_then(|s| match &cases_dir {
        Some(dir) => s.with_cases_dir(dir),
        None => Ok(s),
    }) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    // The embedded mock lives until the run ends.
    let (_mock, session): (Option<MockServer>, Session) = match target {
        Some(path) => match open_target(rt, &path) {
            Ok(s) => (None, s),
            Err(e) => return fail(&e),
        },
        None => match rt.block_on(sharecheck::embedded::start(None)) {
            Ok((server, t)) => match Session::new(t) {
                Ok(s) => (Some(server), s),
                Err(e) => return fail(&e),
            },
            Err(e) => return fail(&e),
        },
    };
    let driver = Arc::new(Driver::with_session(session, &suite));
    if !args.list
        && let Err(e) = rt.block_on(driver.preflight())
    {
        return fail(&While {
            doing: "preflight".into(),
            source: e,
        });
    }
    on_interrupt(rt, driver.clone());
    let expectations = match Expectations::load_all(&out.expect, &suite) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let opts = RunOptions {
        args,
        junit: out.junit,
        json: out.json,
        report: out.report,
        expectations,
        strict: out.strict,
    };
    let result = sharecheck::run_suite(&Arc::new(suite), driver.clone(), rt.handle().clone(), opts);
    if sharecheck::interrupted() {
        rt.block_on(finish_interrupted(&driver));
    }
    match result {
        Ok(summary) => ExitCode::from(summary.exit_code()),
        Err(e) => fail(&e),
    }
}
