//! Known defects of a target (`sharecheck fuzz --known-defects FILE`): answers that differ
//! from the model in a way already understood, each with its reason. A step whose answer
//! matches one (the operation, the status the model predicts, the status the target gives)
//! counts as that defect seen, not as a mismatch, and the sequence goes on (unless the target
//! succeeded where the model refused: then their states part and the sequence ends there);
//! the report says how often each was seen. A CI run against a reference with known bugs stays green this
//! way and still fails on any new difference.
//!
//! ```yaml
//! known_defects:
//!   refused-upload-then-500:
//!     operation: upload_image_data
//!     model: 415
//!     target: 500
//!     reason: Glance 33 keeps the location of data it refused; the next upload fails.
//! concurrency:
//!   member-adds-race:
//!     reason: Under several workers, two adds of one member may both succeed.
//! ```
//!
//! A `concurrency` entry says the target is known not to be serializable under concurrent
//! clients: a failed serial-order check is then printed in full but counted as that defect.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;

use crate::error::{DataError, line_of};

/// One known defect.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDefect {
    /// The row of the operation table (the spec's `operation`).
    pub operation: String,
    /// The status the model predicts.
    pub model: u16,
    /// The status the target answers instead.
    pub target: u16,
    /// Why, in words (printed whenever it is seen).
    pub reason: String,
}

/// A known failure of the concurrency check: no serial order explains the answers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownRace {
    /// Why, in words.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    known_defects: BTreeMap<String, KnownDefect>,
    #[serde(default)]
    concurrency: BTreeMap<String, KnownRace>,
}

/// The known defects of a run, and how often each was seen.
#[derive(Clone, Debug, Default)]
pub struct KnownDefects {
    by_id: BTreeMap<String, KnownDefect>,
    races: BTreeMap<String, KnownRace>,
    seen: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl KnownDefects {
    /// Reads a known-defects file; every entry names an operation of the table, two status
    /// codes that differ, and a reason.
    pub fn load(path: &Path) -> Result<KnownDefects, DataError> {
        let src = std::fs::read_to_string(path).map_err(|source| DataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: File = serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?;
        for (id, d) in &file.known_defects {
            let bad = |what: String| DataError::invalid(path, line_of(&src, id), what);
            if crate::operations::by_name(&d.operation).is_none() {
                return Err(bad(format!(
                    "`{id}`: `{}` is not an operation of the table",
                    d.operation
                )));
            }
            if !(100..=599).contains(&d.model) || !(100..=599).contains(&d.target) {
                return Err(bad(format!(
                    "`{id}`: model and target must be HTTP status codes"
                )));
            }
            if d.model == d.target {
                return Err(bad(format!(
                    "`{id}`: model and target are both {}; a defect is a difference",
                    d.model
                )));
            }
            if d.reason.trim().is_empty() {
                return Err(bad(format!("`{id}`: a reason is required")));
            }
        }
        for (id, r) in &file.concurrency {
            if r.reason.trim().is_empty() {
                let at = line_of(&src, id);
                return Err(DataError::invalid(
                    path,
                    at,
                    format!("`{id}`: a reason is required"),
                ));
            }
        }
        Ok(KnownDefects {
            by_id: file.known_defects,
            races: file.concurrency,
            seen: Arc::default(),
        })
    }

    /// Reads several known-defects files into one; an id given twice is refused.
    pub fn load_all(paths: &[std::path::PathBuf]) -> Result<KnownDefects, DataError> {
        let mut all = KnownDefects::default();
        for path in paths {
            let one = KnownDefects::load(path)?;
            let ids = one.by_id.keys().chain(one.races.keys());
            if let Some(id) = ids
                .into_iter()
                .find(|id| all.by_id.contains_key(*id) || all.races.contains_key(*id))
            {
                return Err(DataError::invalid(
                    path,
                    None,
                    format!("`{id}` is declared by an earlier known-defects file too"),
                ));
            }
            all.by_id.extend(one.by_id);
            all.races.extend(one.races);
        }
        Ok(all)
    }

    /// The defect an answer of `target` where the model says `model` on `operation` is, if
    /// it is a known one; it is counted as seen.
    pub(crate) fn matching(&self, operation: &str, model: u16, target: u16) -> Option<String> {
        let (id, _) = self
            .by_id
            .iter()
            .find(|(_, d)| d.operation == operation && d.model == model && d.target == target)?;
        *self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id.clone())
            .or_default() += 1;
        Some(id.clone())
    }

    /// The known failure of the concurrency check, if one is declared: its id and reason.
    pub fn race(&self) -> Option<(&str, &str)> {
        self.races
            .iter()
            .next()
            .map(|(id, r)| (id.as_str(), r.reason.as_str()))
    }

    /// Each known defect with its reason and how often it was seen, by id.
    pub fn tally(&self) -> Vec<(String, String, usize)> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        self.by_id
            .iter()
            .map(|(id, d)| {
                (
                    id.clone(),
                    d.reason.clone(),
                    seen.get(id).copied().unwrap_or(0),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<KnownDefects, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known.yaml");
        std::fs::write(&path, text).unwrap();
        KnownDefects::load(&path).map_err(|e| crate::error::chain(&e))
    }

    #[test]
    fn a_known_defect_matches_only_its_operation_and_statuses_and_is_counted() {
        let k = load(
            "known_defects:\n  d:\n    operation: upload_image_data\n    model: 415\n    target: 500\n    reason: why\n",
        )
        .unwrap();
        assert_eq!(
            k.matching("upload_image_data", 415, 500).as_deref(),
            Some("d")
        );
        assert_eq!(
            k.matching("upload_image_data", 415, 500).as_deref(),
            Some("d")
        );
        assert!(k.matching("upload_image_data", 400, 500).is_none());
        assert!(k.matching("show_image", 415, 500).is_none());
        assert_eq!(k.tally(), [("d".into(), "why".into(), 2)]);
    }

    #[test]
    fn bad_entries_name_the_entry_and_the_fault() {
        let e = load("known_defects:\n  d:\n    operation: frob\n    model: 415\n    target: 500\n    reason: x\n")
            .unwrap_err();
        assert!(
            e.contains("`d`") && e.contains("frob") && e.contains(":2"),
            "{e}"
        );
        let e = load("known_defects:\n  same:\n    operation: show_image\n    model: 404\n    target: 404\n    reason: x\n")
            .unwrap_err();
        assert!(e.contains("a defect is a difference"), "{e}");
        let e = load("known_defects:\n  r:\n    operation: show_image\n    model: 404\n    target: 500\n    reason: ' '\n")
            .unwrap_err();
        assert!(e.contains("a reason is required"), "{e}");
        let e = load("known_defects:\n  u:\n    operation: show_image\n    model: 404\n    target: 500\n    reason: x\n    extra: 1\n")
            .unwrap_err();
        assert!(e.contains("extra"), "{e}");
    }

    #[test]
    fn a_known_race_is_read_with_its_reason() {
        let k = load("concurrency:\n  r:\n    reason: adds race\n").unwrap();
        assert_eq!(k.race(), Some(("r", "adds race")));
        assert!(load("known_defects: {}\n").unwrap().race().is_none());
        let e = load("concurrency:\n  r:\n    reason: \" \"\n").unwrap_err();
        assert!(e.contains("2: `r`: a reason is required"), "{e}");
    }

    #[test]
    fn several_files_add_up_and_an_id_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
        let defect = "known_defects:\n  d:\n    operation: upload_image_data\n    model: 415\n    target: 500\n    reason: why\n";
        std::fs::write(&a, defect).unwrap();
        std::fs::write(&b, "concurrency:\n  r:\n    reason: adds race\n").unwrap();
        let k = KnownDefects::load_all(&[a.clone(), b]).unwrap();
        assert_eq!(k.race(), Some(("r", "adds race")));
        assert_eq!(k.tally().len(), 1);
        let e = KnownDefects::load_all(&[a.clone(), a]).unwrap_err();
        assert!(
            crate::error::chain(&e).contains("`d` is declared by an earlier"),
            "{e}"
        );
    }
}
