//! The server under test: its root URL, the personas' credentials, and what it can do.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::case::{PERSONAS, REQUIRED_PERSONAS};
use super::spec::CAPABILITIES;
use crate::error::{DataError, line_of};

/// A persona's credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// A token accepted by the target (`X-Auth-Token`).
    pub token: String,
    /// The project the token is scoped to (member ids are project ids).
    pub project_id: String,
}

/// A target, as read from a target file or built for the embedded mock.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Image service root, e.g. `http://127.0.0.1:9292`; the suite adds `/v2/...`.
    pub endpoint: String,
    /// Persona name → credentials. `owner`, `member` and `stranger` are required.
    pub personas: BTreeMap<String, Persona>,
    /// The target's member quota, when known; quota cases are ignored without it.
    #[serde(default)]
    pub member_quota: Option<u32>,
    /// Capabilities the target offers (`fault-injection`, `rate-limit`).
    #[serde(default)]
    pub capabilities: Vec<String>,
}

impl Target {
    /// Reads and validates a target file.
    pub fn load(path: &Path) -> Result<Target, DataError> {
        let src = std::fs::read_to_string(path).map_err(|source| DataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let t: Target = serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?;
        t.validate()
            .map_err(|(key, msg)| DataError::invalid(path, line_of(&src, key), msg))?;
        Ok(t)
    }

    /// Checks the invariants a target must hold; on failure the YAML key to point at and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let ep = self.endpoint.trim_end_matches('/');
        if !(ep.starts_with("http://") || ep.starts_with("https://"))
            || reqwest::Url::parse(ep).is_err()
        {
            return Err((
                "endpoint",
                format!(
                    "endpoint `{}` is not an http:// or https:// URL",
                    self.endpoint
                ),
            ));
        }
        for p in REQUIRED_PERSONAS {
            if !self.personas.contains_key(*p) {
                return Err(("personas", format!("persona `{p}` is required")));
            }
        }
        let mut projects = BTreeSet::new();
        for (name, p) in &self.personas {
            if !PERSONAS.contains(&name.as_str()) {
                return Err((
                    "personas",
                    format!("unknown persona `{name}`; known: {}", PERSONAS.join(", ")),
                ));
            }
            if p.token.is_empty() || p.project_id.is_empty() {
                return Err((
                    "personas",
                    format!("persona `{name}` needs a token and a project_id"),
                ));
            }
            if !projects.insert(p.project_id.as_str()) {
                return Err((
                    "personas",
                    format!(
                        "persona `{name}`: project `{}` is used by another persona; personas must be distinct projects",
                        p.project_id
                    ),
                ));
            }
        }
        for c in &self.capabilities {
            if !CAPABILITIES.contains(&c.as_str()) {
                return Err((
                    "capabilities",
                    format!(
                        "unknown capability `{c}`; known: {}",
                        CAPABILITIES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Why the target cannot run a case needing `need`, or `None` when it can.
    pub(crate) fn lacks(&self, need: &str) -> Option<String> {
        if PERSONAS.contains(&need) {
            return (!self.personas.contains_key(need))
                .then(|| format!("target has no `{need}` persona"));
        }
        if need == "member-quota" {
            return self
                .member_quota
                .is_none()
                .then(|| "target declares no member_quota".to_string());
        }
        (!self.capabilities.iter().any(|c| c == need))
            .then(|| format!("target lacks capability `{need}`"))
    }

    /// The root URL without a trailing slash.
    pub(crate) fn base(&self) -> &str {
        self.endpoint.trim_end_matches('/')
    }
}
