//! Model-based and hostile testing against any target: generated sequences of operations
//! compared with the reference model's predictions, hostile inputs, security properties and
//! concurrency. Like the suite, it speaks HTTP to a [`Target`](crate::target::Target) and never
//! imports the mock; unlike the suite, it asks the model what every answer should be. The
//! concurrency driver sends through a [`Session`](crate::target::Session); the stateful and
//! hostile fuzzers still build their own requests on
//! [`http_client`](crate::target::http_client).

pub mod concurrency;
pub mod emit;
pub mod hostile;
pub mod security;
pub mod stateful;
