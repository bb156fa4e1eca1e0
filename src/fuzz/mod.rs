//! Model-based and hostile testing against any target: generated sequences of operations
//! compared with the reference model's predictions, hostile inputs, security properties and
//! concurrency. Like the suite, it speaks HTTP to a [`Target`](crate::suite::Target) and never
//! imports the mock; unlike the suite, it asks the model what every answer should be.

pub mod concurrency;
pub mod emit;
pub mod hostile;
pub mod security;
pub mod stateful;
