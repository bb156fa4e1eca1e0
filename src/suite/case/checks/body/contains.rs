//! `contains`: some item of the array at a JSON pointer has all of some keys and values (or,
//! given a list of such objects, each has an item holding it), for lists that other users of
//! a shared server also fill, or whose order the API does not promise.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BodyCheck, BodyKind, Got, holds, json_texts, pointers};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::{Text, Validation};

/// JSON pointer → the keys and values an item must have, or a list of such objects, each
/// held by some item (strings may hold placeholders).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = {"pattern": "^(/|$)"}))]
pub struct Contains(#[schemars(with = "BTreeMap<String, Wanted>")] pub BTreeMap<String, Value>);

/// What `contains` looks for at one pointer (for the schema only).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Wanted {
    /// Keys and values one item has.
    One(serde_json::Map<String, Value>),
    /// Several such objects, each held by some item.
    Each(Vec<serde_json::Map<String, Value>>),
}

/// The objects wanted at one pointer: the one given, or each of a list.
fn wanted(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    }
}

impl BodyCheck for Contains {
    fn absent(&self) -> bool {
        self.0.is_empty()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json, BodyKind::JsonList]
    }

    fn validate(&self, v: &mut Validation, at: &Node) {
        pointers(self.0.keys(), v, at);
        for (p, want) in &self.0 {
            let list = wanted(want);
            if list.is_empty() || !list.iter().all(|w| w.is_object()) {
                v.bad(
                    &at.key(p),
                    format!(
                        "contains `{p}`: expected an object of keys and values an item has, or a list of them"
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
            let Some(items) = json.pointer(ptr).and_then(Value::as_array) else {
                problems.push(format!(
                    "body {ptr}: expected a list holding {want}, got none"
                ));
                continue;
            };
            for w in wanted(&want) {
                if !items.iter().any(|item| holds(item, w)) {
                    problems.push(format!("body {ptr}: no item of {} has {w}", items.len()));
                }
            }
        }
    }
}
