//! `lacks`: no item of the array at a JSON pointer has all of some keys and values (an image
//! gone from the cache's list).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BodyCheck, BodyKind, Got, holds, json_texts, pointers};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::{Text, Validation};

/// JSON pointer → the keys and values no item may have (strings may hold placeholders).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = {"pattern": "^(/|$)"}))]
pub struct Lacks(
    #[schemars(with = "BTreeMap<String, serde_json::Map<String, Value>>")]
    pub  BTreeMap<String, Value>,
);

impl BodyCheck for Lacks {
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
                    format!("lacks `{p}`: expected an object of keys and values no item has"),
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
            match json.pointer(ptr).and_then(Value::as_array) {
                Some(items) => {
                    if let Some(i) = items.iter().position(|item| holds(item, &want)) {
                        problems.push(format!(
                            "body {ptr}/{i}: has {want}, expected no item to have it"
                        ));
                    }
                }
                None => problems.push(format!(
                    "body {ptr}: expected a list with no item holding {want}, got none"
                )),
            }
        }
    }
}
