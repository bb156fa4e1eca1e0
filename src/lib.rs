//! sharecheck: a conformance suite and reference mock for the OpenStack Image v2 API.
//!
//! The modules are private; what a user of the library needs is re-exported here, at the
//! root, and two namespaces group what reads better under a module name:
//!
//! - **The suite.** [`Suite`] (specs and cases as data, [`Suite::bundled`]) is run by a
//!   [`Driver`] against any [`Target`] through a [`Session`]: [`run_suite`] with
//!   [`RunOptions`] (and [`Expectations`]) gives a [`RunSummary`]; [`diff`] runs the same
//!   cases on two targets; [`interrupt`] stops a run, and its images are named
//!   [`IMAGE_PREFIX`]….
//! - **The target.** [`TargetFile`] (a target file as written) resolves to a [`Target`];
//!   a [`Session`] sends each [`Req`] as its [`Caller`], logs it by [`Stage`] and may fail
//!   with a [`SendError`].
//! - **The mock.** [`MockServer::start`] serves the reference rules on a loopback port per
//!   [`MockConfig`] ([`Identities`], [`Rules`], an optional [`Mutant`]);
//!   [`embedded`] starts it with every capability on and the matching [`Target`].
//! - **The fuzzers.** [`fuzz()`] with [`FuzzOptions`] runs them all and gives a
//!   [`FuzzReport`]; each also runs on its own: [`run_stateful`] (model-based sequences,
//!   findings written as cases by [`emit_story`] and [`emit_case_file`]),
//!   [`run_security_probes`], [`run_hostile`] and [`run_concurrency`] (whose pure
//!   [`check_history`] judges any [`HistoryOp`] list).
//! - **Spec import.** [`specimport`]: API reference pages (RST) become spec YAML.
//! - **Errors.** [`DataError`] (file, line, column), [`LoadErrors`], [`MockError`],
//!   [`PreflightError`], [`RunError`], [`TlsError`].
//!
//! Inside, the model (the rules, no HTTP types) is the single source of truth; the suite
//! never imports the mock; see `ARCHITECTURE.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Two public namespaces, each justified in its own documentation; tests/architecture.rs
// allows no other `pub mod`.
pub mod embedded;
mod error;
mod fuzz;
mod mock;
mod model;
mod operations;
pub mod specimport;
mod suite;
mod target;

pub use error::{DataError, LoadErrors, MockError, PreflightError, RunError, StoreError, TlsError};
pub use fuzz::concurrency::{
    Answer as HistoryAnswer, ConcurrencyOptions, ConcurrencyReport, Op as HistoryOp,
    OpKind as HistoryOpKind, Verdict as HistoryVerdict, check as check_history,
    check_answers as check_history_answers, run as run_concurrency,
};
pub use fuzz::emit::{case_file as emit_case_file, describe as emit_story};
pub use fuzz::hostile::{
    HostileOptions, HostileReport, Property as HostileProperty, run as run_hostile,
};
pub use fuzz::security::{
    Property as SecurityProperty, SecurityReport, run as run_security_probes,
};
pub use fuzz::stateful::{StatefulError, StatefulOptions, StatefulReport, run as run_stateful};
pub use fuzz::{FuzzError, FuzzOptions, FuzzReport, KnownDefects, run as fuzz};
pub use mock::{
    CONTROL_PREFIX, LoadedDeployment, MAX_BODY_BYTES, MockConfig, MockServer, MockServerBuilder,
    Mutant, load_deployment, load_fixtures, load_glance_config, load_identities,
};
pub use model::{
    ApiVersion, DataRecord, Deployment, FormerMemberRecord, Identities, ImageRecord, ImportFilter,
    MemberRecord, MemberStatus, Rules, Snapshot, SnapshotError, Store, TokenRecord,
};
pub use suite::{
    Driver, Expectations, MATRIX_COLUMNS, PREFIX as IMAGE_PREFIX, RunOptions, RunSummary, Suite,
    case_schema, diff, interrupt, interrupted, run as run_suite,
};
pub use target::{Caller, Req, SendError, Session, Stage, Target, TargetFile};
