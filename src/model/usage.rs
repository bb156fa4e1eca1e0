//! `GET /v2/info/usage`: the caller's project's usage against Keystone's unified limits, as
//! Glance 33 counts it. Without unified limits (`use_keystone_limits = False`, the default)
//! the document is `{"usage": {}}` for every caller; with them, each resource of
//! [`LIMITED_RESOURCES`] with its `limit` and the project's `usage`.

use serde_json::{Map, Value, json};

use super::data::ImageStatus;
use super::deployment::LIMITED_RESOURCES;
use super::{Identity, Image, Model};

const MIB: u64 = 1 << 20;

/// How many locations an image's data has, as Glance counts them for the storage usage: one
/// per store holding it (one without stores configured), none before it has data in a store.
fn locations(image: &Image, stores_configured: bool) -> u64 {
    let Some(data) = image.data.as_ref() else {
        return 0;
    };
    match image.status {
        ImageStatus::Active | ImageStatus::Deactivated if stores_configured => {
            data.stores.len() as u64
        }
        ImageStatus::Active | ImageStatus::Deactivated => 1,
        _ => 0,
    }
}

impl Model {
    /// The usage document for `who`: see the module.
    pub fn usage(&self, who: &Identity) -> Value {
        let Some(limits) = &self.rules.deployment.unified_limits else {
            return json!({"usage": {}});
        };
        let stores_configured = !self.rules.deployment.stores.is_empty();
        let owned: Vec<&Image> = self
            .state
            .images()
            .filter(|i| i.owner == who.project_id)
            .collect();
        let size = |i: &Image| i.data.as_ref().map_or(0, |d| d.size);
        // The data in the stores: each image's size once per location (MiB, rounded down).
        let stored: u64 = owned
            .iter()
            .map(|i| size(i) * locations(i, stores_configured))
            .sum();
        // Staged data: images uploading or importing (the mock copies among stores at once,
        // so no active image is being copied).
        let staged: u64 = owned
            .iter()
            .filter(|i| matches!(i.status, ImageStatus::Uploading | ImageStatus::Importing))
            .map(|i| size(i))
            .sum();
        let uploading = owned
            .iter()
            .filter(|i| {
                matches!(
                    i.status,
                    ImageStatus::Saving | ImageStatus::Uploading | ImageStatus::Importing
                )
            })
            .count() as u64;
        let counts = [stored / MIB, staged / MIB, owned.len() as u64, uploading];
        let mut usage = Map::new();
        for (resource, used) in LIMITED_RESOURCES.iter().zip(counts) {
            usage.insert(
                resource.to_string(),
                json!({"limit": limits.limit(&who.project_id, resource), "usage": used}),
            );
        }
        json!({ "usage": usage })
    }
}
