//! `unique`: every item of the array at a JSON pointer has a key, and no two items share its
//! value (ids in a list).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BodyCheck, BodyKind, Got, pointers};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::Validation;

/// JSON pointer → the key whose values differ from item to item.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = {"pattern": "^(/|$)"}))]
pub struct Unique(pub BTreeMap<String, String>);

impl BodyCheck for Unique {
    fn absent(&self) -> bool {
        self.0.is_empty()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json, BodyKind::JsonList]
    }

    fn validate(&self, v: &mut Validation, at: &Node) {
        pointers(self.0.keys(), v, at);
        for (p, key) in &self.0 {
            if key.is_empty() {
                v.bad(
                    &at.at(p),
                    format!("unique `{p}`: name the key of each item"),
                );
            }
        }
    }

    fn eval(&self, _: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let Some(json) = got.json else { return };
        for (ptr, key) in &self.0 {
            let Some(items) = json.pointer(ptr).and_then(Value::as_array) else {
                problems.push(format!(
                    "body {ptr}: expected a list of items with distinct `{key}`, got none"
                ));
                continue;
            };
            let mut seen: Vec<&Value> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.get(key.as_str()) {
                    None => problems.push(format!("body {ptr}/{i}: no `{key}`")),
                    Some(v) => match seen.iter().position(|s| *s == v) {
                        Some(j) => problems
                            .push(format!("body {ptr}: items {j} and {i} share `{key}` {v}")),
                        None => seen.push(v),
                    },
                }
            }
        }
    }
}
