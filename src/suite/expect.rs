//! Known deviations (`--expect FILE`): cases a target is known to fail, or that must not run
//! on it, each with a reason. A vendor gates CI on "no new deviations" with them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Suite;
use crate::error::{DataError, line_of};

/// What is expected of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expected {
    /// The case is known to fail; its failure does not fail the run.
    ExpectedFail,
    /// The case is not run.
    Skip,
}

/// One entry of an expectations file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Expected fail or skip.
    pub expect: Expected,
    /// Why (shown in every report).
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    expectations: BTreeMap<String, Expectation>,
}

/// Expectations by trial name.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    by_name: BTreeMap<String, Expectation>,
}

impl Expectations {
    /// Reads an expectations file; keys are case ids or trial names, and every key must name a
    /// case of `suite`.
    pub fn load(path: &Path, suite: &Suite) -> Result<Expectations, DataError> {
        let src = std::fs::read_to_string(path).map_err(|source| DataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: File = serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?;
        let mut by_name = BTreeMap::new();
        for (key, e) in file.expectations {
            let case = suite
                .cases
                .iter()
                .find(|c| c.file.id == key || c.name == key)
                .ok_or_else(|| {
                    DataError::invalid(
                        path,
                        line_of(&src, &key),
                        format!("`{key}` is neither a case id nor a trial name of the suite"),
                    )
                })?;
            if e.reason.trim().is_empty() {
                return Err(DataError::invalid(
                    path,
                    line_of(&src, &key),
                    format!("`{key}`: a reason is required"),
                ));
            }
            if by_name.insert(case.name.clone(), e).is_some() {
                return Err(DataError::invalid(
                    path,
                    line_of(&src, &key),
                    format!("`{key}`: {} is listed twice", case.name),
                ));
            }
        }
        Ok(Expectations { by_name })
    }

    /// The expectation for a trial, if any.
    pub fn get(&self, name: &str) -> Option<&Expectation> {
        self.by_name.get(name)
    }
}
