//! `contains_one`: exactly one item of the array at a JSON pointer has all of some keys and
//! values (one default store among several).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BodyCheck, BodyKind, Got, holds, json_texts, pointers};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::{Text, Validation};

/// JSON pointer → the keys and values exactly one item must have (strings may hold
/// placeholders).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = {"pattern": "^(/|$)"}))]
pub struct ContainsOne(
    #[schemars(with = "BTreeMap<String, serde_json::Map<String, Value>>")]
    pub  BTreeMap<String, Value>,
);

impl BodyCheck for ContainsOne {
    fn absent(&self) -> bool {
        self.0.is_empty()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json, BodyKind::JsonList]
    }

    fn validate(&self, v: &mut Validation, at: &Node) {
        pointers(self.0.keys(), v, at);
        for (p, want) in &self.0 {
            if !want.is_object() {
                v.bad(
                    &at.key(p),
                    format!(
                        "contains_one `{p}`: expected an object of keys and values one item has"
                    ),
                );
            }
        }
    }

    fn texts(&self, at: &Node, out: &mut Vec<Text>) {
        for (p, want) in &self.0 {
            json_texts(want, &at.at(p), out);
        }
    }

    fn eval(&self, vars: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let Some(json) = got.json else { return };
        for (ptr, want) in &self.0 {
            let want = vars.expand_json(want);
            let has = |item: &&Value| holds(item, &want);
            match json.pointer(ptr).and_then(Value::as_array) {
                Some(items) => match items.iter().filter(has).count() {
                    1 => {}
                    0 => problems.push(format!(
                        "body {ptr}: no item of {} has {want}, expected exactly one",
                        items.len()
                    )),
                    n => problems.push(format!(
                        "body {ptr}: {n} items of {} have {want}, expected exactly one",
                        items.len()
                    )),
                },
                None => problems.push(format!(
                    "body {ptr}: expected a list with exactly one item holding {want}, got none"
                )),
            }
        }
    }
}
