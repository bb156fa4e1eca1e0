//! The image cache (`/v2/cache`, Image API v2.14 and v2.18): an admin queues an active image
//! and the node keeps a copy of its data; admins list, delete, clear, clean and prune the
//! copies. The reference's worker fills the cache moments after a queue; the model fills it
//! within the call, so nothing is ever left queued. Downloads do not fill it: the reference
//! caches on download only with its caching middleware, which the profile the mock follows
//! leaves out. A copy outlives its image, as it does on the reference, until it is deleted,
//! cleared or pruned.
//!
//! Every call checks the policy (admins only) before it looks at the cache: on a deployment
//! without one (`image_cache_dir` unset) an admin gets 404.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::data::ImageStatus;
use super::identity::Identity;
use super::{ApiError, ErrorKind, Model, Result};

/// Glance 33's default `image_cache_max_size`: 10 GiB.
pub const DEFAULT_CACHE_MAX_SIZE: u64 = 10 << 30;

/// How the deployment's cache is set up, beyond whether there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheSettings {
    /// `image_cache_max_size`: a prune removes copies until the cache holds no more bytes.
    pub max_size: u64,
    /// `image_cache_driver = centralized_db` (the reference's default): the nodes holding
    /// an image are known (`/v2/cache/nodes/{image_id}`); other drivers answer 409 there.
    pub centralized: bool,
    /// `worker_self_reference_url`: the node's URL, as the list of nodes names it. The mock
    /// sets its own address when the configuration gives none.
    pub node_url: Option<String>,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            max_size: DEFAULT_CACHE_MAX_SIZE,
            centralized: true,
            node_url: None,
        }
    }
}

/// A cached copy of an image's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CachedImage {
    /// The image the copy is of.
    pub image_id: String,
    /// Its size in bytes.
    pub size: u64,
    /// How often it was served (downloads do not reach the cache: see the module).
    pub hits: u64,
    /// When it was cached, in the model's clock format.
    pub cached_at: String,
    /// Its place in the order of caching: the list's order, and the oldest goes first in a
    /// prune.
    pub seq: u64,
}

impl CachedImage {
    /// As the cache list shows it: times in seconds since the epoch, as the reference's are.
    fn to_json(&self) -> Value {
        let at = epoch_seconds(&self.cached_at);
        json!({
            "id": self.seq,
            "image_id": self.image_id,
            "last_accessed": at,
            "last_modified": at,
            "size": self.size,
            "hits": self.hits,
            "checksum": null,
        })
    }
}

/// A clock time (`YYYY-MM-DDTHH:MM:SSZ`) in seconds since the epoch, 0 if unreadable.
fn epoch_seconds(time: &str) -> f64 {
    humantime::parse_rfc3339(time)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What `DELETE /v2/cache` empties (its `x-image-cache-clear-target` header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClearTarget {
    /// Cached copies and the queue (no header, or an empty one).
    Both,
    /// Cached copies only.
    Cache,
    /// The queue only.
    Queue,
}

impl ClearTarget {
    /// The header's value read as the reference reads it (without case); 400 for another.
    pub fn parse(header: Option<&str>) -> Result<Self> {
        match header.map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Ok(ClearTarget::Both),
            Some("cache") => Ok(ClearTarget::Cache),
            Some("queue") => Ok(ClearTarget::Queue),
            Some(_) => Err(ApiError::bad_request(
                "The x-image-cache-clear-target header must be cache, queue or empty.",
            )),
        }
    }
}

/// The policy check every cache call starts with: admins only (the reference's `policy`
/// names the action), then 404 where the deployment has no cache.
fn manage(model: &Model, who: &Identity, action: &str) -> Result<()> {
    if !who.is_admin() {
        return Err(ApiError::forbidden(format!(
            "You are not authorized to complete {action} action."
        )));
    }
    if !model.deployment().image_cache {
        return Err(ApiError::not_found(
            "This deployment has no image cache to manage.",
        ));
    }
    Ok(())
}

fn image_not_found(image_id: &str) -> ApiError {
    ApiError::not_found(format!("Image {image_id} not found."))
}

impl Model {
    /// `GET /v2/cache`: the cached copies in the order they were made, and the queue (always
    /// empty: see the module).
    pub fn cache_state(&self, who: &Identity) -> Result<Value> {
        manage(self, who, "cache_list")?;
        let cached: Vec<Value> = self.state.cached().map(CachedImage::to_json).collect();
        Ok(json!({"cached_images": cached, "queued_images": []}))
    }

    /// `PUT /v2/cache/{image_id}`: a visible image (404), an admin (403), a cache (404), an
    /// active image (400); cached at once, and queuing a cached image again changes nothing.
    pub fn queue_image(&mut self, who: &Identity, image_id: &str) -> Result<()> {
        let image = self
            .visible_image(who, image_id)
            .map_err(|_| image_not_found(image_id))?;
        let size = image.data.as_ref().map_or(0, |d| d.size);
        let active = image.status == ImageStatus::Active;
        manage(self, who, "cache_image")?;
        if !active {
            return Err(ApiError::bad_request(
                "Only an active image can be queued for caching.",
            ));
        }
        if self.state.cached_image(image_id).is_none() {
            let at = (self.clock)();
            self.state.insert_cached(CachedImage {
                image_id: image_id.into(),
                size,
                hits: 0,
                cached_at: at,
                seq: 0,
            });
        }
        Ok(())
    }

    /// `DELETE /v2/cache/{image_id}`: the copy of an image the caller sees, or of one it
    /// does not (deleted since) that the cache holds (404 for neither); admins only (403);
    /// deleting what is not cached is no error.
    pub fn delete_cached_image(&mut self, who: &Identity, image_id: &str) -> Result<()> {
        if self.visible_image(who, image_id).is_err() && self.state.cached_image(image_id).is_none()
        {
            return Err(image_not_found(image_id));
        }
        manage(self, who, "cache_delete")?;
        self.state.remove_cached(image_id);
        Ok(())
    }

    /// `DELETE /v2/cache`: admins only (403), a cache (404), the header's target (400).
    pub fn clear_cache(&mut self, who: &Identity, target: Option<&str>) -> Result<()> {
        manage(self, who, "cache_delete")?;
        match ClearTarget::parse(target)? {
            ClearTarget::Both | ClearTarget::Cache => self.state.clear_cached(),
            // Nothing is ever queued: see the module.
            ClearTarget::Queue => {}
        }
        Ok(())
    }

    /// `POST /v2/cache/clean`: admins only (403), a cache (404). It removes broken and
    /// stalled copies; the model's copies are never either, so none goes.
    pub fn clean_cache(&self, who: &Identity) -> Result<()> {
        manage(self, who, "cache_clean")
    }

    /// `POST /v2/cache/prune`: admins only (403), a cache (404); while the cache holds more
    /// than `image_cache_max_size` bytes, the least recently used copy goes. Returns how
    /// many copies and bytes went.
    pub fn prune_cache(&mut self, who: &Identity) -> Result<Value> {
        manage(self, who, "cache_prune")?;
        let max = self.deployment().cache.max_size;
        let mut total: u64 = self.state.cached().map(|c| c.size).sum();
        let (mut files, mut bytes) = (0u64, 0u64);
        if total > max {
            let oldest: Vec<(String, u64)> = self
                .state
                .cached()
                .map(|c| (c.image_id.clone(), c.size))
                .collect();
            for (id, size) in oldest {
                if total <= max {
                    break;
                }
                self.state.remove_cached(&id);
                (total, files, bytes) = (total - size, files + 1, bytes + size);
            }
        }
        Ok(json!({"total_files_pruned": files, "total_bytes_pruned": bytes}))
    }

    /// `GET /v2/cache/nodes/{image_id}`: admins only (403), a cache (404), the centralized
    /// driver (409), a visible image (404); the nodes holding a copy (this one, or none).
    pub fn cached_nodes(&self, who: &Identity, image_id: &str) -> Result<Value> {
        manage(self, who, "list_cached_nodes")?;
        let settings = &self.deployment().cache;
        if !settings.centralized {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                "The cache driver keeps no list of nodes (centralized_db is not in use).",
            ));
        }
        self.visible_image(who, image_id)
            .map_err(|_| image_not_found(image_id))?;
        let nodes: Vec<&str> = match (self.state.cached_image(image_id), &settings.node_url) {
            (Some(_), Some(url)) => vec![url.as_str()],
            _ => Vec::new(),
        };
        Ok(json!(nodes))
    }
}
