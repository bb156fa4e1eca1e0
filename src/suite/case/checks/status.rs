//! `status`: the exact status code of the answer.

use super::{Check, Vars};
use crate::suite::case::locate::Node;
use crate::suite::case::validate::Validation;
use crate::target::Answer;

/// The expected status code (`Expect::status`).
pub(super) struct Status(pub(super) u16);

impl Check for Status {
    fn validate(&self, v: &mut Validation, at: &Node) {
        if !(100..=599).contains(&self.0) {
            v.bad(
                at,
                format!("status {} is not an HTTP status (100..=599)", self.0),
            );
        }
    }

    fn eval(&self, _: &dyn Vars, answer: &Answer, problems: &mut Vec<String>) {
        if answer.status != self.0 {
            problems.push(format!("expected status {}, got {}", self.0, answer.status));
        }
    }
}
