//! `only_keys`: the JSON body has no top-level key beside those of `keys`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BodyCheck, BodyKind, Got};
use crate::suite::case::checks::Vars;

/// Whether keys other than `keys` are refused.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct OnlyKeys(pub bool);

impl BodyCheck for OnlyKeys {
    fn absent(&self) -> bool {
        !self.0
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json]
    }

    fn eval(&self, _: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let Some(json) = got.json.and_then(|j| j.as_object()) else {
            return;
        };
        let allowed = &got.expect.keys.0;
        let extra: Vec<&str> = json
            .keys()
            .filter(|k| !allowed.contains(k))
            .map(String::as_str)
            .collect();
        if self.0 && !extra.is_empty() {
            problems.push(format!("body has unexpected keys: {}", extra.join(", ")));
        }
    }
}
