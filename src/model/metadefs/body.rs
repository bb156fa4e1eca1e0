//! Reading metadata definition bodies as the reference's schemas do: a JSON object, the
//! read-only attributes refused (403) before the schema is checked (400).

use serde_json::{Map, Value};

use super::{ApiError, Result};

/// The body as a JSON object: none is "expected", not JSON is malformed.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>> {
    if body.is_empty() {
        return Err(ApiError::bad_request("Body expected in request."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(schema("the body is not an object")),
        Err(_) => Err(ApiError::bad_request("Malformed JSON in request body.")),
    }
}

/// A row that takes no body refuses one.
pub(crate) fn none(body: &[u8]) -> Result<()> {
    if body.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "A body is not expected with this request.",
        ))
    }
}

/// 403 for the first of `read_only` the body sets.
pub(crate) fn writable(o: &Map<String, Value>, read_only: &[&str]) -> Result<()> {
    match read_only.iter().find(|k| o.contains_key(**k)) {
        Some(k) => Err(ApiError::forbidden(format!(
            "Attribute '{k}' is read-only."
        ))),
        None => Ok(()),
    }
}

/// 400 for the first key not in `known`.
pub(crate) fn known(o: &Map<String, Value>, known: &[&str]) -> Result<()> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(schema(&format!(
            "Additional properties are not allowed ('{k}' was unexpected)"
        ))),
        None => Ok(()),
    }
}

/// A schema violation, as the reference words its first line.
pub(crate) fn schema(what: &str) -> ApiError {
    ApiError::bad_request(format!("Provided object does not match schema: {what}"))
}

/// An optional text of at most `max` characters (`null` is not a text).
pub(crate) fn text(o: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(schema(&format!("'{s}' is too long"))),
        Some(v) => Err(schema(&format!("{v} is not of type 'string'"))),
    }
}

/// The required text `key`, of at most `max` characters.
pub(crate) fn name(o: &Map<String, Value>, key: &str, max: usize) -> Result<String> {
    text(o, key, max)?.ok_or_else(|| schema(&format!("'{key}' is a required property")))
}

/// An optional list of distinct texts.
pub(crate) fn texts(o: &Map<String, Value>, key: &str) -> Result<Vec<String>> {
    let Some(v) = o.get(key) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .and_then(|a| {
            a.iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| schema(&format!("{v} is not an array of strings")))?;
    for (i, t) in list.iter().enumerate() {
        if list[..i].contains(t) {
            return Err(schema(&format!("{v} has non-unique elements")));
        }
    }
    Ok(list)
}

/// The JSON types a property definition may have.
pub(crate) const PROPERTY_TYPES: &[&str] =
    &["array", "boolean", "integer", "number", "object", "string"];

/// An optional map of property definitions, each with a `title` and a known `type`.
pub(crate) fn properties(o: &Map<String, Value>) -> Result<Map<String, Value>> {
    let Some(v) = o.get("properties") else {
        return Ok(Map::new());
    };
    let Value::Object(props) = v else {
        return Err(schema(&format!("{v} is not of type 'object'")));
    };
    for def in props.values() {
        let Value::Object(def) = def else {
            return Err(schema(&format!("{def} is not of type 'object'")));
        };
        name(def, "title", usize::MAX)?;
        let kind = name(def, "type", usize::MAX)?;
        if !PROPERTY_TYPES.contains(&kind.as_str()) {
            return Err(schema(&format!(
                "'{kind}' is not one of {PROPERTY_TYPES:?}"
            )));
        }
    }
    Ok(props.clone())
}
