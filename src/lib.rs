//! sharecheck: a conformance suite and reference mock for the OpenStack Image v2
//! image-sharing (members) API.
//!
//! - [`model`]: the reference rules, pure (no HTTP types). The single source of truth.
//! - [`mock`]: a warp server over the model ([`mock::MockServer`]).
//! - [`suite`]: specs and cases as data, run against any [`suite::Target`] by a
//!   libtest-mimic runner ([`suite::run`]).
//! - [`target`]: the server under test and one [`target::Session`] with it, used by the
//!   suite and the fuzzers.
//! - [`embedded`]: the one place that wires the suite to an in-process mock.
//!
//! The suite never imports the mock; the model never imports HTTP types.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod embedded;
mod error;
pub mod fuzz;
pub mod mock;
pub mod model;
mod operations;
pub mod specimport;
pub mod suite;
pub mod target;

pub use error::{DataError, LoadErrors, MockError, PreflightError, RunError, TlsError};
