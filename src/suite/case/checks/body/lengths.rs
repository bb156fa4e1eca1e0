//! `lengths`: the number of items of the array at each of some JSON pointers.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BodyCheck, BodyKind, Got, pointers};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::Validation;

/// JSON pointer → the length of the array there.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = {"pattern": "^(/|$)"}))]
pub struct Lengths(pub BTreeMap<String, usize>);

impl BodyCheck for Lengths {
    fn absent(&self) -> bool {
        self.0.is_empty()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json, BodyKind::JsonList]
    }

    fn validate(&self, v: &mut Validation, at: &Node) {
        pointers(self.0.keys(), v, at);
    }

    fn eval(&self, _: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let Some(json) = got.json else { return };
        for (ptr, want) in &self.0 {
            match json.pointer(ptr).and_then(Value::as_array) {
                Some(a) if a.len() == *want => {}
                Some(a) => problems.push(format!(
                    "body {ptr}: expected {want} items, got {}",
                    a.len()
                )),
                None => problems.push(format!(
                    "body {ptr}: expected a list of {want} items, got none"
                )),
            }
        }
    }
}
