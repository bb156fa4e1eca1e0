//! What a response must look like (`expect:`), one module per check kind. Each module holds
//! the kind's YAML type, its load-time validation, its evaluation against an answer and the
//! words of its failures; this module only registers them and walks them in order.
//!
//! Adding a check of the whole response is a module here and a field of [`Expect`]; adding a
//! body check is a module in `body/` and a line of the `body_checks!` list there.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::locate::Node;
use super::validate::{Text, Validation};
use crate::suite::schema::Schema;
use crate::target::Answer;

pub(crate) mod body;
mod headers;
mod status;

pub use body::{BodyExpect, BodyKind};
pub use headers::HeaderExpect;

/// What a response must look like.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The exact status code.
    #[schemars(range(min = 100, max = 599))]
    pub status: u16,
    /// Checks of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "BodyExpect")]
    pub body: Option<BodyExpect>,
    /// Checks of headers, by case-insensitive name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, HeaderExpect>,
}

/// What a check needs from the case run that evaluates it.
pub(crate) trait Vars {
    /// A string with its placeholders replaced.
    fn expand(&self, s: &str) -> String;
    /// A JSON value with the placeholders of its strings replaced.
    fn expand_json(&self, v: &Value) -> Value;
    /// A response schema of `specs/schemas/`, by name.
    fn schema(&self, name: &str) -> Option<&Schema>;
}

/// One check of a response: validated when the case loads, evaluated on each answer.
pub(crate) trait Check {
    /// Reports what is wrong with the check itself; `at` is its node in the file.
    fn validate(&self, _v: &mut Validation, _at: &Node) {}
    /// The strings of the check that may hold placeholders, each with its node.
    fn texts(&self, _at: &Node, _out: &mut Vec<Text>) {}
    /// Every way `answer` fails the check, in words.
    fn eval(&self, vars: &dyn Vars, answer: &Answer, problems: &mut Vec<String>);
}

impl Expect {
    /// An expectation of `status` alone.
    pub fn status(status: u16) -> Expect {
        Expect {
            status,
            body: None,
            headers: BTreeMap::new(),
        }
    }

    /// Every check with its node (`at` is the `expect` node), in the order they run.
    fn each(&self, at: &Node, mut f: impl FnMut(Node, &dyn Check)) {
        f(at.at("status"), &status::Status(self.status));
        for (name, h) in &self.headers {
            f(
                at.at("headers").at(name),
                &headers::Header { name, expect: h },
            );
        }
        if let Some(b) = &self.body {
            f(at.at("body"), b);
        }
    }

    /// Load-time validation of every check; `at` is the `expect` node.
    pub(crate) fn validate(&self, v: &mut Validation, at: &Node) {
        self.each(at, |node, c| c.validate(v, &node));
    }

    /// The strings of every check that may hold placeholders.
    pub(crate) fn texts(&self, at: &Node) -> Vec<Text> {
        let mut out = Vec::new();
        self.each(at, |node, c| c.texts(&node, &mut out));
        out
    }

    /// Every way `answer` fails the expectation (empty when it holds).
    pub(crate) fn problems(&self, vars: &dyn Vars, answer: &Answer) -> Vec<String> {
        let mut problems = Vec::new();
        self.each(&Node::root(), |_, c| c.eval(vars, answer, &mut problems));
        problems
    }
}

#[cfg(test)]
mod tests;
