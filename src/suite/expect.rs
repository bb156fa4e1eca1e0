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

    /// Reads several expectations files in order; a later file's entry for a case replaces an
    /// earlier file's.
    pub fn load_all(
        paths: &[std::path::PathBuf],
        suite: &Suite,
    ) -> Result<Expectations, DataError> {
        let mut all = Expectations::default();
        for path in paths {
            all.by_name.extend(Expectations::load(path, suite)?.by_name);
        }
        Ok(all)
    }

    /// The expectation for a trial, if any.
    pub fn get(&self, name: &str) -> Option<&Expectation> {
        self.by_name.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_file_restates_an_earlier_files_entry() {
        let suite = Suite::bundled().expect("bundled suite loads");
        let case = &suite.cases[0];
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, expect: &str, reason: &str| {
            let path = dir.path().join(name);
            let text = format!(
                "expectations:\n  {}:\n    expect: {expect}\n    reason: {reason}\n",
                case.file.id
            );
            std::fs::write(&path, text).unwrap();
            path
        };
        let base = write("base.yaml", "expected-fail", "the reference's defect");
        let release = write("release.yaml", "skip", "this release has no such call");
        let both = Expectations::load_all(&[base.clone(), release.clone()], &suite).unwrap();
        let e = both.get(&case.name).unwrap();
        assert_eq!(
            (e.expect, e.reason.as_str()),
            (Expected::Skip, "this release has no such call")
        );
        let back = Expectations::load_all(&[release, base], &suite).unwrap();
        assert_eq!(back.get(&case.name).unwrap().expect, Expected::ExpectedFail);
        assert!(
            Expectations::load_all(&[], &suite)
                .unwrap()
                .get(&case.name)
                .is_none()
        );
    }
}
