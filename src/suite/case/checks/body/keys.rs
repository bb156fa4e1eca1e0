//! `keys`: top-level keys the JSON body must have.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BodyCheck, BodyKind, Got};
use crate::suite::case::checks::Vars;

/// Top-level keys of the body.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Keys(pub Vec<String>);

impl BodyCheck for Keys {
    fn absent(&self) -> bool {
        self.0.is_empty()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json]
    }

    fn eval(&self, _: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let Some(json) = got.json else { return };
        for k in &self.0 {
            if json.get(k).is_none() {
                problems.push(format!("body lacks key `{k}`"));
            }
        }
    }
}
