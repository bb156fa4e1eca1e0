//! `order`: the relative order of named items of a list, where some items have no value for
//! the sort key. Where the reference's order depends on its database (an unset value sorts
//! first on one, last on another), a case names those items `unset`: they must stand together
//! at one end, before or after every item of `set`, which keep their order.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BodyCheck, BodyKind, Got, pointers};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::{Text, Validation};

/// JSON pointer of a list → the order its named items take.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = {"pattern": "^(/|$)"}))]
pub struct Order(pub BTreeMap<String, ListOrder>);

/// The order of some items of one list, each named by the string at `by` within it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListOrder {
    /// JSON pointer, within an item, of the string naming it (`/id`, `/name`).
    pub by: String,
    /// Items in the order they must appear (others may stand between them).
    pub set: Vec<String>,
    /// Items whose sort key is unset: together, and before or after all of `set`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
}

impl BodyCheck for Order {
    fn absent(&self) -> bool {
        self.0.is_empty()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json, BodyKind::JsonList]
    }

    fn validate(&self, v: &mut Validation, at: &Node) {
        pointers(self.0.keys(), v, at);
        for (p, o) in &self.0 {
            if !o.by.starts_with('/') {
                v.bad(
                    &at.at(p).key("by"),
                    format!("order `{p}`: `by` must be a JSON pointer (start with /)"),
                );
            }
            if o.set.len() + o.unset.len() < 2 {
                v.bad(
                    &at.at(p).key("set"),
                    format!("order `{p}`: name at least two items in `set` and `unset`"),
                );
            }
        }
    }

    fn texts(&self, at: &Node, out: &mut Vec<Text>) {
        for (p, o) in &self.0 {
            for (i, s) in o.set.iter().enumerate() {
                out.push(Text::new(at.at(p).at("set").item(i), s));
            }
            for (i, s) in o.unset.iter().enumerate() {
                out.push(Text::new(at.at(p).at("unset").item(i), s));
            }
        }
    }

    fn eval(&self, vars: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let Some(json) = got.json else { return };
        for (ptr, o) in &self.0 {
            let Some(items) = json.pointer(ptr).and_then(Value::as_array) else {
                problems.push(format!("body {ptr}: expected a list to order, got none"));
                continue;
            };
            let names: Vec<&str> = items
                .iter()
                .map(|it| it.pointer(&o.by).and_then(Value::as_str).unwrap_or(""))
                .collect();
            if let Err(why) = o.holds(vars, &names) {
                problems.push(format!("body {ptr}: {why}; got {}", names.join(", ")));
            }
        }
    }
}

impl ListOrder {
    /// Whether the list, given by its items' names, keeps the order.
    fn holds(&self, vars: &dyn Vars, names: &[&str]) -> Result<(), String> {
        let place = |want: &String| -> Result<usize, String> {
            let want = vars.expand(want);
            names
                .iter()
                .position(|n| *n == want)
                .ok_or_else(|| format!("`{want}` is not in the list"))
        };
        let set = self.set.iter().map(place).collect::<Result<Vec<_>, _>>()?;
        let unset = self
            .unset
            .iter()
            .map(place)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(w) = set.windows(2).position(|w| w[0] > w[1]) {
            return Err(format!(
                "expected `{}` before `{}`",
                vars.expand(&self.set[w]),
                vars.expand(&self.set[w + 1])
            ));
        }
        let (Some(first), Some(last)) = (set.iter().min(), set.iter().max()) else {
            return Ok(());
        };
        let before = unset.iter().all(|u| u < first);
        let after = unset.iter().all(|u| u > last);
        if unset.is_empty() || before || after {
            Ok(())
        } else {
            Err(format!(
                "expected the items without a value ({}) together before or after the others",
                self.unset
                    .iter()
                    .map(|u| vars.expand(u))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}
