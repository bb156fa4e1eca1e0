//! `equals`: image data, byte for byte.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BodyCheck, BodyKind, Got};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::Text;
use crate::target::excerpt;

/// The exact bytes of the body, as text (placeholders allowed).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Equals(pub Option<String>);

impl BodyCheck for Equals {
    fn absent(&self) -> bool {
        self.0.is_none()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Data]
    }

    fn texts(&self, at: &Node, out: &mut Vec<Text>) {
        if let Some(s) = &self.0 {
            out.push(Text::new(at.clone(), s));
        }
    }

    fn eval(&self, vars: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let Some(want) = &self.0 else { return };
        let want = vars.expand(want);
        let body = &got.answer.body;
        if *body != want.as_bytes() {
            problems.push(format!(
                "expected the {} bytes {}, got {} bytes: {}",
                want.len(),
                excerpt(want.as_bytes()),
                body.len(),
                excerpt(body)
            ));
        }
    }
}
