//! Model-based and hostile testing against any target: generated sequences of operations
//! compared with the reference model's predictions, hostile inputs, security properties and
//! concurrency. Like the suite, it speaks HTTP to a [`Target`](crate::target::Target) and never
//! imports the mock; unlike the suite, it asks the model what every answer should be.
//! [`run`] is the one entry point; the stateful fuzzer and the concurrency driver send
//! through a [`Session`](crate::target::Session), the hostile fuzzer keeps its own pool of
//! connections (its requests are malformed on purpose).

pub mod concurrency;
pub mod emit;
pub mod hostile;
mod known;
mod run;
pub mod security;
pub mod stateful;
mod tokens;

pub use known::KnownDefects;
pub use run::{FuzzError, FuzzOptions, FuzzReport, run};
