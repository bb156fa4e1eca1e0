//! `headers`: checks of one response header, by case-insensitive name: present or absent,
//! an exact value, a value's start, or a comma-separated list of tokens.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Check, Vars};
use crate::suite::case::locate::Node;
use crate::suite::case::validate::{Text, Validation};
use crate::target::Answer;

/// A header check: exactly one of its fields.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
pub struct HeaderExpect {
    /// Must be present (`true`) or absent (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// The exact value (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// A comma-separated list holding exactly these tokens, in any order and any case
    /// (e.g. `Allow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    /// The value starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<String>,
}

/// A header check with the header's name.
pub(super) struct Header<'a> {
    pub(super) name: &'a str,
    pub(super) expect: &'a HeaderExpect,
}

impl Check for Header<'_> {
    fn validate(&self, v: &mut Validation, at: &Node) {
        let h = self.expect;
        let given = [
            h.present.is_some(),
            h.equals.is_some(),
            h.tokens.is_some(),
            h.starts_with.is_some(),
        ];
        if given.iter().filter(|x| **x).count() != 1 {
            v.bad(
                &at.key_itself(),
                format!(
                    "header check `{}` needs exactly one of present, equals, tokens, starts_with",
                    self.name
                ),
            );
        }
    }

    fn texts(&self, at: &Node, out: &mut Vec<Text>) {
        if let Some(v) = &self.expect.equals {
            out.push(Text::new(at.at("equals"), v));
        }
    }

    fn eval(&self, vars: &dyn Vars, answer: &Answer, problems: &mut Vec<String>) {
        let (name, h) = (self.name, self.expect);
        let got = answer
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let shown = got.clone().unwrap_or_else(|| "(absent)".into());
        if let Some(want) = h.present
            && got.is_some() != want
        {
            let w = if want { "present" } else { "absent" };
            problems.push(format!("header {name}: expected {w}, got {shown}"));
        }
        if let Some(want) = &h.equals {
            let want = vars.expand(want);
            if got.as_deref() != Some(want.as_str()) {
                problems.push(format!("header {name}: expected `{want}`, got {shown}"));
            }
        }
        if let Some(prefix) = &h.starts_with
            && !got
                .as_deref()
                .is_some_and(|g| g.starts_with(prefix.as_str()))
        {
            problems.push(format!(
                "header {name}: expected a value starting with `{prefix}`, got {shown}"
            ));
        }
        if let Some(want) = &h.tokens
            && tokens(want.iter().map(String::as_str))
                != tokens(got.as_deref().unwrap_or("").split(','))
        {
            problems.push(format!(
                "header {name}: expected exactly [{}], got {shown}",
                want.join(", ")
            ));
        }
    }
}

/// Tokens compared without case, order or blanks.
fn tokens<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut t: Vec<String> = items
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| !t.is_empty())
        .collect();
    t.sort();
    t
}
