//! JSON schemas that responses are validated against (`specs/schemas/<name>.yaml`).

use std::path::Path;

use crate::error::DataError;

/// A compiled schema, named by its file stem.
pub struct Schema {
    /// The name cases use (`body: {schema: member}`).
    pub name: String,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").field("name", &self.name).finish()
    }
}

impl Schema {
    /// Parses a YAML rendition of a JSON schema and compiles it.
    pub(crate) fn parse(path: &Path, src: &str) -> Result<Schema, DataError> {
        let doc: serde_json::Value =
            serde_yaml::from_str(src).map_err(|e| DataError::yaml(path, &e))?;
        let validator = jsonschema::validator_for(&doc)
            .map_err(|e| DataError::invalid(path, None, format!("not a valid JSON schema: {e}")))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Schema { name, validator })
    }

    /// Every way `value` violates the schema (empty when it conforms), at most `limit`.
    pub(crate) fn violations(&self, value: &serde_json::Value, limit: usize) -> Vec<String> {
        self.validator
            .iter_errors(value)
            .take(limit)
            .map(|e| {
                let at = e.instance_path().to_string();
                let at = if at.is_empty() { "/".to_string() } else { at };
                format!("{at}: {e}")
            })
            .collect()
    }
}
