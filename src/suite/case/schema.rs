//! The JSON schema of case files, generated from the types of `case/` (schemars), and the
//! parts of it that the derive cannot know: the loader's lists of names.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::Value;

use super::{
    CaseFile, METHODS, PERSONAS, PSEUDO_CALLERS, SPECIAL_PLACEHOLDERS, STATUSES, VISIBILITIES,
};
use crate::target::Need;

/// What `docs/case.schema.json` holds: the schema of a case file (draft 2020-12).
pub fn case_schema() -> Value {
    let mut schema = schemars::schema_for!(CaseFile);
    schema.insert(
        "description".into(),
        "One conformance case, cases/<operation>/<code>/<name>.yaml (docs/cases.md). \
         Generated from the case types: do not edit, run \
         `SHARECHECK_BLESS=1 cargo test --test loading` instead. The loader checks more: \
         that operation and code are in specs/ and match the folders, that expect.status \
         equals code, that every placeholder is known."
            .into(),
    );
    schema.to_value()
}

/// A string that is one of `names`.
fn one_of(names: &[&str]) -> Schema {
    json_schema!({"type": "string", "enum": names})
}

/// A snake_case name (`propertyNames` of set-up maps).
pub(super) fn snake() -> Value {
    serde_json::json!({"pattern": "^[a-z][a-z0-9_]*$"})
}

/// The names a set-up image may take: snake_case, neither a persona nor a special
/// placeholder.
pub(super) fn image_names() -> Value {
    let taken: Vec<&str> = PERSONAS
        .iter()
        .chain(SPECIAL_PLACEHOLDERS)
        .copied()
        .collect();
    serde_json::json!({"pattern": "^[a-z][a-z0-9_]*$", "not": {"enum": taken}})
}

/// The words of `requires:`: the fixed ones, or `api:2.N`.
pub(super) fn needs(_: &mut SchemaGenerator) -> Schema {
    let words = Need::words();
    json_schema!({
        "type": "array",
        "items": {"anyOf": [
            {"type": "string", "enum": words},
            {"type": "string", "pattern": "^api:2\\.[0-9]{1,3}$"},
        ]},
    })
}

pub(super) fn callers(_: &mut SchemaGenerator) -> Schema {
    let all: Vec<&str> = PERSONAS.iter().chain(PSEUDO_CALLERS).copied().collect();
    one_of(&all)
}

pub(super) fn methods(_: &mut SchemaGenerator) -> Schema {
    one_of(METHODS)
}

pub(super) fn image_visibility(_: &mut SchemaGenerator) -> Schema {
    let mut s = one_of(VISIBILITIES);
    s.insert("default".into(), "shared".into());
    s
}

pub(super) fn namespace_visibility(_: &mut SchemaGenerator) -> Schema {
    let mut s = one_of(&["public", "private"]);
    s.insert("default".into(), "public".into());
    s
}

/// Persona (not the owner) → the status its membership reaches.
pub(super) fn members(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": one_of(&PERSONAS[1..]),
        "additionalProperties": one_of(STATUSES),
    })
}
