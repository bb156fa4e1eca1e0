//! The command line of `sharecheck`: its subcommands and their options (clap).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sharecheck::Mutant;

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
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        /// Repeatable: a later file's entry for a case replaces an earlier file's (a release's
        /// own file restating the reference's, say).
        #[arg(long, value_name = "FILE")]
        expect: Vec<PathBuf>,
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
        /// Most members an image may have (negative: unlimited; default 128, or the
        /// deployment file's `image_member_quota`).
        #[arg(long, allow_negative_numbers = true, value_name = "N")]
        member_quota: Option<i64>,
        /// Most tags an image may have (negative: unlimited; default 128, or the deployment
        /// file's `image_tag_quota`).
        #[arg(long, allow_negative_numbers = true, value_name = "N")]
        tag_quota: Option<i64>,
        /// The deployment the mock plays (YAML: stores, default store, import methods and
        /// filter, quotas, …; see docs/mock-config.md). Settings it does not model are
        /// printed at start.
        #[arg(long, value_name = "FILE", conflicts_with = "glance_config")]
        config: Option<PathBuf>,
        /// Play the deployment a real Glance `glance-api.conf` describes (enabled_backends,
        /// default_backend, enabled_import_methods, import filter, quotas, image cache, …);
        /// every option the mock does not model is printed at start.
        #[arg(long, value_name = "FILE")]
        glance_config: Option<PathBuf>,
        /// With --glance-config: a Glance policy file (YAML or JSON); its rules are read and
        /// printed at start as not modelled (the mock applies Glance's default policy).
        #[arg(long, value_name = "FILE", requires = "glance_config")]
        policy: Option<PathBuf>,
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
        /// mismatch; `concurrency: {ID: {reason}}` declares the target not serializable
        /// under concurrent clients. Repeatable; the files' entries add up. See
        /// scripts/glance-known-defects*.yaml.
        #[arg(long, value_name = "FILE")]
        known_defects: Vec<PathBuf>,
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
pub(crate) enum SpecCommand {
    /// Import API reference pages (reStructuredText) as spec YAML drafts.
    ///
    /// Two formats: a seed documentation page (`*.rst`, one operation), or a section file of
    /// Glance's api-ref (`*.inc`, one operation per `.. rest_method::` section, parameters
    /// resolved in the `*-parameters.yaml` files beside it; cited `api-ref:FILE#SLUG`, with
    /// `since` from its "Since Image API v2.N" note). Each operation becomes
    /// `<operation>.yaml` in --out DIR, or, without --out, one YAML document per operation
    /// on stdout, separated by `---`. Nothing is written when any page
    /// has a problem; each problem is reported as FILE:LINE: MESSAGE and the exit code is 2.
    Import {
        /// The pages (`.rst`) and api-ref section files (`.inc`) to import.
        #[arg(required = true, value_name = "PAGE")]
        pages: Vec<PathBuf>,
        /// Print the citation index of the pages instead of specs: one line per operation,
        /// its citation with its method and path (the format of `specs/sources.yaml`).
        #[arg(long, conflicts_with_all = ["out", "operation", "force"])]
        sources: bool,
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
