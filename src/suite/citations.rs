//! The documentation pages specs cite (`docs/citations.yaml`, built into the binary): each
//! page's method, path and response codes, for the report's comparison of the two
//! documentation sets (the seed pages, `doc:`, and Glance's api-ref, `api-ref:`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

use super::spec::Operation;

/// One citable page.
#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    /// The response codes it lists.
    pub(crate) codes: Vec<u16>,
}

const INDEX: &str = include_str!("../../docs/citations.yaml");

/// Every citable page, by citation.
fn index() -> &'static BTreeMap<String, Page> {
    static PAGES: OnceLock<BTreeMap<String, Page>> = OnceLock::new();
    // tests/citations.rs reads the same file, so a malformed index fails there first
    PAGES.get_or_init(|| serde_yaml::from_str(INDEX).unwrap_or_default())
}

/// Where the documentation sets part on an operation's codes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Disagreement {
    /// Codes the seed pages list and the api-ref does not.
    pub(crate) seed_only: Vec<u16>,
    /// Codes the api-ref lists and the seed pages do not.
    pub(crate) api_ref_only: Vec<u16>,
    /// Codes the target gave that neither lists.
    pub(crate) neither: Vec<u16>,
}

impl Disagreement {
    /// Whether there is nothing to say.
    pub(crate) fn is_empty(&self) -> bool {
        self.seed_only.is_empty() && self.api_ref_only.is_empty() && self.neither.is_empty()
    }
}

/// The codes each documentation set lists for `op` (by the pages it cites), against the
/// codes the target gave; `None` when no page documents it.
pub(crate) fn disagreement(op: &Operation, observed: &BTreeSet<u16>) -> Option<Disagreement> {
    let codes = |prefix: &str| -> Option<BTreeSet<u16>> {
        let pages: Vec<&Page> = op
            .cites
            .iter()
            .filter(|c| c.starts_with(prefix))
            .filter_map(|c| index().get(c))
            .collect();
        (!pages.is_empty()).then(|| pages.iter().flat_map(|p| p.codes.iter().copied()).collect())
    };
    let (seed, api) = (codes("doc:"), codes("api-ref:"));
    if seed.is_none() && api.is_none() {
        return None;
    }
    let (seed, api) = (seed.unwrap_or_default(), api.unwrap_or_default());
    let both_say = !seed.is_empty() && !api.is_empty();
    Some(Disagreement {
        seed_only: if both_say {
            seed.difference(&api).copied().collect()
        } else {
            Vec::new()
        },
        api_ref_only: if both_say {
            api.difference(&seed).copied().collect()
        } else {
            Vec::new()
        },
        neither: observed
            .iter()
            .filter(|c| !seed.contains(c) && !api.contains(c))
            .copied()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Suite;

    #[test]
    fn the_sets_are_compared_by_the_pages_an_operation_cites() {
        let suite = Suite::bundled().unwrap();
        let op = suite
            .operations
            .iter()
            .find(|o| o.operation == "update_image")
            .unwrap();
        let seen: BTreeSet<u16> = [200, 400, 418].into_iter().collect();
        let d = disagreement(op, &seen).expect("update_image is documented twice");
        assert_eq!(d.neither, [418]);
        let seed = &index()["doc:patch-update-image-images-image-id"].codes;
        let api = &index()["api-ref:images-images-v2.inc#update-image"].codes;
        for c in &d.seed_only {
            assert!(seed.contains(c) && !api.contains(c));
        }
        for c in &d.api_ref_only {
            assert!(api.contains(c) && !seed.contains(c));
        }
        assert!(
            !d.seed_only.is_empty() || !d.api_ref_only.is_empty(),
            "{d:?}"
        );
        let probe = suite
            .operations
            .iter()
            .find(|o| o.cites.is_empty())
            .unwrap();
        assert!(disagreement(probe, &seen).is_none());
    }
}
