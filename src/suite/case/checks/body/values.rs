//! `values`: the exact JSON value at each of some JSON pointers.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BodyCheck, BodyKind, Got, json_texts, pointers};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::{Text, Validation};

/// JSON pointer → the value there (strings may hold placeholders).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = {"pattern": "^(/|$)"}))]
pub struct Values(pub BTreeMap<String, Value>);

impl BodyCheck for Values {
    fn absent(&self) -> bool {
        self.0.is_empty()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json]
    }

    fn validate(&self, v: &mut Validation, at: &Node) {
        pointers(self.0.keys(), v, at);
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
            match json.pointer(ptr) {
                Some(got) if *got == want => {}
                Some(got) => problems.push(format!("body {ptr}: expected {want}, got {got}")),
                None => problems.push(format!("body {ptr}: expected {want}, got nothing")),
            }
        }
    }
}
