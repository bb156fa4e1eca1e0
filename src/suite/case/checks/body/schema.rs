//! `schema`: the body validates against a response schema of `specs/schemas/`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BodyCheck, BodyKind, Got};
use crate::suite::case::checks::Vars;
use crate::suite::case::locate::Node;
use crate::suite::case::validate::Validation;

/// The name of a schema, `specs/schemas/<name>.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct SchemaRef(pub Option<String>);

impl BodyCheck for SchemaRef {
    fn absent(&self) -> bool {
        self.0.is_none()
    }

    fn kinds(&self) -> &'static [BodyKind] {
        &[BodyKind::Json, BodyKind::JsonList, BodyKind::Error]
    }

    fn validate(&self, v: &mut Validation, at: &Node) {
        if let Some(s) = &self.0
            && !v.schemas.contains(s)
        {
            let known = v.schemas.join(", ");
            v.bad(at, format!("unknown schema `{s}`; known: {known}"));
        }
    }

    fn eval(&self, vars: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>) {
        let (Some(name), Some(json)) = (&self.0, got.json) else {
            return;
        };
        match vars.schema(name) {
            Some(schema) => problems.extend(
                schema
                    .violations(json, 5)
                    .into_iter()
                    .map(|v| format!("body does not match schema `{name}`: {v}")),
            ),
            None => problems.push(format!("schema `{name}` is not loaded")),
        }
    }
}
