//! The `sharecheck` command: run the suite, or serve the mock.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sharecheck::mock::{MockConfig, MockServer, load_identities};
use sharecheck::model::{Identities, Mutant, Rules};
use sharecheck::suite::{Driver, RunOptions, Suite, Target};

/// Exit code for configuration and usage errors (failures of the suite exit with 1).
const USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "sharecheck",
    version,
    about = "Conformance suite and reference mock for the OpenStack Image v2 image-sharing (members) API",
    long_about = "Conformance suite and reference mock for the OpenStack Image v2 image-sharing \
(members) API.\n\n`sharecheck run` checks a server against the documented response codes; with no \
--target it starts the bundled mock in-process and checks that. `sharecheck mock` serves the mock.\n\n\
Exit codes: 0 all passed, 1 some case failed, 2 configuration or usage error."
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
    Run {
        /// Target file (YAML: endpoint, personas, member_quota, capabilities). Without it,
        /// the mock starts in-process on a free loopback port with every capability on.
        #[arg(long, value_name = "FILE")]
        target: Option<PathBuf>,
        /// Write a JUnit XML report of the trials that ran to PATH.
        #[arg(long, value_name = "PATH")]
        junit: Option<PathBuf>,
        /// Load specs/ and cases/ from DIR instead of the ones built into this binary.
        #[arg(long, value_name = "DIR")]
        suite: Option<PathBuf>,
        #[command(flatten)]
        libtest: libtest_mimic::Arguments,
    },
    /// Serve the mock image service (the reference behaviour) until Ctrl-C.
    ///
    /// Prints `listening on http://ADDR` when ready. Tokens come from --identities or the
    /// built-in set: owner-token, member-token, other-member-token, stranger-token and
    /// admin-token (projects proj-owner, proj-member, proj-other-member, proj-stranger,
    /// proj-admin; admin-token has the admin role).
    Mock {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9292", value_name = "ADDR")]
        listen: SocketAddr,
        /// Identities file: `tokens: {TOKEN: {project_id, user_id, roles}}`.
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
        /// Honour the `X-Sharecheck-Fault: 500|503` request header (capability
        /// `fault-injection`); 503 comes with `Retry-After`.
        #[arg(long)]
        faults: bool,
        /// Answer 413 "Over Limit" with `Retry-After` past N requests per second for one
        /// token, method and member path (`/v2/images/{id}/members[/{member}]`; capability
        /// `rate-limit`).
        #[arg(long, value_name = "N")]
        rate_limit: Option<u32>,
        /// Break one rule on purpose, to see the suite catch it (self-test). One of:
        /// member-can-delete-self, delete-body-ignored, hidden-image-forbidden,
        /// members-on-any-image, member-sees-all-entries, missing-allow,
        /// delete-answers-200.
        #[arg(long, value_name = "NAME")]
        mutant: Option<Mutant>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    match cli.command {
        Command::Run {
            target,
            junit,
            suite,
            libtest,
        } => run(&rt, target, junit, suite, libtest),
        Command::Mock {
            listen,
            identities,
            member_quota,
            faults,
            rate_limit,
            mutant,
        } => {
            let identities = match identities {
                Some(path) => match load_identities(&path) {
                    Ok(i) => i,
                    Err(e) => return fail(e),
                },
                None => Identities::builtin(),
            };
            let config = MockConfig {
                listen,
                identities,
                rules: Rules {
                    member_quota,
                    mutant,
                },
                faults,
                rate_limit,
            };
            rt.block_on(serve(config))
        }
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("sharecheck: error: {msg}");
    ExitCode::from(USAGE)
}

async fn serve(config: MockConfig) -> ExitCode {
    let server = match MockServer::start(config).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    println!("listening on {}", server.uri());
    if let Err(e) = tokio::signal::ctrl_c().await {
        return fail(format!("cannot wait for Ctrl-C: {e}"));
    }
    server.stop();
    eprintln!("sharecheck: mock stopped");
    ExitCode::SUCCESS
}

fn run(
    rt: &tokio::runtime::Runtime,
    target: Option<PathBuf>,
    junit: Option<PathBuf>,
    suite_dir: Option<PathBuf>,
    args: libtest_mimic::Arguments,
) -> ExitCode {
    let suite = match &suite_dir {
        Some(dir) => Suite::from_dir(dir),
        None => Suite::bundled(),
    };
    let suite = match suite {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    // The embedded mock lives until the run ends.
    let (_mock, target): (Option<MockServer>, Target) = match target {
        Some(path) => match Target::load(&path) {
            Ok(t) => (None, t),
            Err(e) => return fail(e),
        },
        None => match rt.block_on(sharecheck::embedded::start(None)) {
            Ok((server, t)) => (Some(server), t),
            Err(e) => return fail(e),
        },
    };
    let driver = match Driver::new(target, &suite) {
        Ok(d) => Arc::new(d),
        Err(e) => return fail(e),
    };
    let opts = RunOptions { args, junit };
    match sharecheck::suite::run(&Arc::new(suite), driver, rt.handle().clone(), opts) {
        Ok(conclusion) => {
            if conclusion.has_failed() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => fail(e),
    }
}
