//! The `sharecheck` command: run the suite, or serve the mock.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sharecheck::{
    Driver, Expectations, Identities, MockConfig, MockServer, Mutant, Rules, RunOptions, Session,
    Suite, TargetFile, load_identities,
};

/// Exit code for configuration and usage errors (failures of the suite exit with 1).
const USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "sharecheck",
    version,
    about = "Conformance suite and reference mock for the OpenStack Image v2 API",
    long_about = "Conformance suite and reference mock for the OpenStack Image v2 API: images, \
image data and import, members, tags, tasks, metadata definitions and the schemas.\n\n`sharecheck run` checks a server against the documented response codes; with no \
--target it starts the bundled mock in-process and checks that. `sharecheck mock` serves the mock.\n\n\
Exit codes: 0 all passed, 1 some case failed (or fuzz/diff found something), 2 configuration \
or usage error, 130 interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance cases against a target (default: the embedded mock).
    ///
    /// Each case is a test named `<operation>::<code>::<case>`; libtest's options work as
    /// under `cargo test` (a FILTER, --exact, --skip, --list, --format, --test-threads,
    /// --ignored). Cases the target cannot run (a missing persona or capability) are
    /// reported ignored with the reason.
    #[command(
        override_usage = "sharecheck run [OPTIONS] [FILTER]",
        help_template = "{about-with-newline}\nUsage: {usage}\n\n{all-args}{after-help}"
    )]
    Run {
        /// Target file (YAML: endpoint, personas, member_quota, capabilities). Without it,
        /// the mock starts in-process on a free loopback port with every capability on.
        #[arg(long, value_name = "FILE")]
        target: Option<PathBuf>,
        /// Write a JUnit XML report of the trials that ran to PATH.
        #[arg(long, value_name = "PATH")]
        junit: Option<PathBuf>,
        /// Write one JSON record per case (id, operation, code, result, duration, the
        /// requests' method, path and status; never tokens) to PATH.
        #[arg(long, value_name = "PATH")]
        json: Option<PathBuf>,
        /// Write a traceability and drift report into DIR: `report.md` and a self-contained
        /// `report.html`. A matrix of operations × status codes with the cases citing each
        /// table row and how they ended (not run when filtered out), and, per operation, the
        /// documented codes the target never gave and the undocumented ones it gave.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Known deviations: YAML `expectations: {CASE: {expect: expected-fail|skip,
        /// reason: ...}}` keyed by case id or trial name. Expected failures do not fail the run.
        #[arg(long, value_name = "FILE")]
        expect: Option<PathBuf>,
        /// With --expect: a case listed as expected-fail that passes fails the run.
        #[arg(long)]
        strict: bool,
        /// Load specs/ and cases/ from DIR instead of the ones built into this binary.
        #[arg(long, value_name = "DIR")]
        suite: Option<PathBuf>,
        /// Also run the cases under DIR (laid out `<operation>/<code>/<name>.yaml`, e.g. the
        /// regression cases `sharecheck fuzz --emit DIR` writes).
        #[arg(long, value_name = "DIR")]
        cases: Option<PathBuf>,
        #[command(flatten)]
        libtest: libtest_mimic::Arguments,
    },
    /// Serve the mock image service (the reference behaviour) until Ctrl-C.
    ///
    /// Prints `listening on http://ADDR` when ready. Tokens come from --identities or the
    /// built-in set: owner-token, member-token, other-member-token, stranger-token and
    /// admin-token (projects proj-owner, proj-member, proj-other-member, proj-stranger,
    /// proj-admin; admin-token has the admin role).
    ///
    /// Beside the image API: `GET /healthz`, and the control API under /_sharecheck/ (for
    /// loopback callers and admin tokens): `POST reset`, `GET|PUT snapshot`,
    /// `GET|DELETE requests` (the request journal) and `GET|POST|DELETE faults` (fault
    /// rules). See README.
    Mock {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9292", value_name = "ADDR")]
        listen: SocketAddr,
        /// Identities file: static `tokens: {TOKEN: {project_id, user_id, roles}}`, and the
        /// `projects`, `users` (with passwords) and `domains` the built-in Keystone
        /// (`/v3`) issues tokens for. See README.
        #[arg(long, value_name = "FILE")]
        identities: Option<PathBuf>,
        /// Most members an image may have (negative: unlimited).
        #[arg(
            long,
            default_value_t = 128,
            allow_negative_numbers = true,
            value_name = "N"
        )]
        member_quota: i64,
        /// Most tags an image may have (negative: unlimited).
        #[arg(
            long,
            default_value_t = 128,
            allow_negative_numbers = true,
            value_name = "N"
        )]
        tag_quota: i64,
        /// Honour the `X-Sharecheck-Fault: 500|503` request header (capability
        /// `fault-injection`); 503 comes with `Retry-After`.
        #[arg(long)]
        faults: bool,
        /// Answer 413 "Over Limit" with `Retry-After` past N requests per second for one
        /// token, method and member path (`/v2/images/{id}/members[/{member}]`; capability
        /// `rate-limit`).
        #[arg(long, value_name = "N")]
        rate_limit: Option<u32>,
        /// Break one rule on purpose, to see the suite catch it (self-test).
        #[arg(long, value_name = "NAME", value_parser = mutant_names())]
        mutant: Option<Mutant>,
        /// How long a token the built-in Keystone issues stays valid, in seconds (static
        /// tokens of the identities never expire).
        #[arg(long, default_value_t = 3600, value_name = "SECONDS",
              value_parser = clap::value_parser!(u64).range(1..))]
        token_lifetime: u64,
        /// Start from this snapshot (YAML or JSON, as `GET /_sharecheck/snapshot` writes
        /// it); `POST /_sharecheck/reset` returns to it.
        #[arg(long, value_name = "FILE")]
        fixtures: Option<PathBuf>,
        /// Keep images, members and issued tokens in directory DIR (created if missing; a
        /// SQLite database, `DIR/state.sqlite3`): a restart on DIR serves exactly what was
        /// acknowledged, even after `kill -9`. Without it the state lives in memory. With
        /// `--fixtures`, a new DIR starts from the fixtures; a DIR with state keeps its own.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// Log every request to stderr: `json` writes one JSON object per line (method,
        /// path, caller, operation, status, time; never a token).
        #[arg(long, value_name = "FORMAT", value_parser = ["json"])]
        log: Option<String>,
    },
    /// Delete what earlier runs left on a target: every image named `sharecheck-…` (or
    /// `sharecheck-<RUN ID>-…`) that a persona of the target owns.
    Cleanup {
        /// Target file.
        #[arg(long, value_name = "FILE")]
        target: PathBuf,
        /// Only the leftovers of this run (the id in `sharecheck-<run id>-…` names).
        #[arg(long, value_name = "ID")]
        run_id: Option<String>,
    },
    /// Run the cases on two targets and print those whose result, statuses or body shape
    /// differ (e.g. a vendor's cloud against the bundled mock). Exit 0 when none differ, 1
    /// when some do.
    Diff {
        /// Two target files; `embedded` stands for the bundled mock in-process.
        #[arg(long, value_name = "FILE", num_args = 1, required = true)]
        target: Vec<PathBuf>,
        /// Only cases whose name contains FILTER.
        #[arg(value_name = "FILTER")]
        filter: Option<String>,
        /// Cases run at the same time.
        #[arg(long, default_value_t = 8, value_name = "N")]
        parallel: usize,
    },
    /// Model-based testing: random sequences of image and member operations by random
    /// callers, every answer compared with the reference model. A mismatch is shrunk to a
    /// shortest sequence, printed with the seed that replays it, and (with --emit) written as
    /// a case file that `sharecheck run --cases DIR` executes. Exit 0 when nothing was found,
    /// 1 when something was.
    Fuzz {
        /// Target file; without it, the bundled mock in-process.
        #[arg(long, value_name = "FILE")]
        target: Option<PathBuf>,
        /// Sequences to generate.
        #[arg(long = "cases", default_value_t = 1000, value_name = "N")]
        sequences: u32,
        /// Seed (default: random, printed so the run can be replayed).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Longest sequence.
        #[arg(long, default_value_t = 12, value_name = "K")]
        max_steps: usize,
        /// Write a finding as a case file under DIR (`<operation>/<code>/fuzz_….yaml`).
        #[arg(long, value_name = "DIR")]
        emit: Option<PathBuf>,
        /// Known defects of the target (YAML `known_defects: {ID: {operation, model,
        /// target, reason}}`): a step whose answer has the target status where the model
        /// predicts the model status on that operation is counted as the defect, not as a
        /// mismatch. See scripts/glance-known-defects.yaml.
        #[arg(long, value_name = "FILE")]
        known_defects: Option<PathBuf>,
        /// Without --target: break one rule of the bundled mock, to watch fuzzing find it.
        #[arg(long, value_name = "NAME", value_parser = mutant_names())]
        mutant: Option<Mutant>,
        /// Hostile requests to send (odd ids, bodies, methods, headers, tokens): never a
        /// 5xx, never a dropped connection, every error well-formed. 0 skips them.
        #[arg(long, default_value_t = 100_000, value_name = "N")]
        hostile: usize,
        /// Also send as many plain `GET /v2/images` on the same client set-up and print both
        /// rates (a benchmark: scripts/bench-hostile.sh).
        #[arg(long, hide = true)]
        hostile_baseline: bool,
        /// Concurrent clients adding, updating and removing members of one image; the result
        /// must match some serial order of what was acknowledged. 0 skips it.
        #[arg(long, default_value_t = 32, value_name = "N")]
        clients: usize,
    },
    /// Work with spec files: `spec import PAGE.rst... [--out DIR]` turns documentation
    /// pages into spec YAML drafts.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
}

/// `sharecheck spec ...`: work with spec files.
#[derive(Subcommand)]
enum SpecCommand {
    /// Import API reference pages (reStructuredText) as spec YAML drafts.
    ///
    /// Each page becomes `<operation>.yaml` in --out DIR, or, without --out, one YAML
    /// document per page on stdout, separated by `---`. Nothing is written when any page
    /// has a problem; each problem is reported as FILE:LINE: MESSAGE and the exit code is 2.
    Import {
        /// The pages to import.
        #[arg(required = true, value_name = "PAGE.rst")]
        pages: Vec<PathBuf>,
        /// Write `<operation>.yaml` files into DIR (created if missing) instead of printing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Name the operation NAME instead of the title in snake_case (one page only).
        #[arg(long, value_name = "NAME")]
        operation: Option<String>,
        /// Overwrite files that already exist in --out DIR.
        #[arg(long)]
        force: bool,
    },
}

/// `--mutant` accepts the mutants' names, and `--help` lists them.
fn mutant_names() -> impl clap::builder::TypedValueParser<Value = Mutant> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Mutant::ALL.iter().map(|m| m.name()))
        .map(|s| s.parse::<Mutant>().expect("only listed names get here"))
}

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
            faults,
            rate_limit,
            mutant,
            token_lifetime,
            fixtures,
            state,
            log,
        } => {
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
                rules: Rules {
                    member_quota,
                    tag_quota,
                    property_quota: 128,
                    token_lifetime: std::time::Duration::from_secs(token_lifetime),
                },
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
            let known = match known_defects.as_deref().map(sharecheck::KnownDefects::load) {
                None => sharecheck::KnownDefects::default(),
                Some(Ok(k)) => k,
                Some(Err(e)) => return fail(&e),
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
    } = command;
    let imported = match sharecheck::specimport::import_pages(&pages, operation.as_deref()) {
        Ok(i) => i,
        Err(e) => return fail_each(&e),
    };
    match out {
        None => {
            let text = sharecheck::specimport::yaml_stream(&imported);
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
    expect: Option<PathBuf>,
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
    let expectations = match &out.expect {
        Some(path) => match Expectations::load(path, &suite) {
            Ok(e) => e,
            Err(e) => return fail(&e),
        },
        None => Expectations::default(),
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
