//! Where the stores keep an image's data, as the reference shows it when the operator asks
//! (`show_multiple_locations`, `show_image_direct_url`): `locations`, one entry per store
//! holding the data (`url`, and `metadata` naming the store), and `direct_url`, the first of
//! them. The mock keeps no real paths: a location is a made-up file path per store
//! ([`Deployment::location_of`]). Hidden (the default), neither key appears and a patch of
//! `/locations` is 403.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::data::{HASH_ALGO, ImageStatus};
use super::deployment::{Deployment, LOCATION_ROOT};
use super::{ApiError, ErrorKind, Identity, Image, Model, Result};

/// A location a client gave: data the http store reads at `url`, with the metadata given
/// (the store's id added, as the reference adds it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The URL.
    pub url: String,
    /// Its metadata.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl Link {
    /// The store the metadata names.
    pub(crate) fn store(&self) -> Option<&str> {
        self.metadata.get("store").and_then(Value::as_str)
    }

    fn to_json(&self) -> Value {
        json!({"url": self.url, "metadata": self.metadata})
    }
}

/// What an image whose data is only at its links records of it: the size the store gave
/// and the digests the client gave or the location's task computed (each may be unset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkData {
    /// Bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// MD5, hex.
    #[serde(default)]
    pub checksum: Option<String>,
    /// The algorithm of `os_hash_value`.
    #[serde(default)]
    pub os_hash_algo: Option<String>,
    /// The digest, hex.
    #[serde(default)]
    pub os_hash_value: Option<String>,
}

/// The sizes the http store found at URLs (a `HEAD` the mock made before a patch; only
/// sizes above zero): a URL not in it cannot be read.
pub type Heads = BTreeMap<String, u64>;

impl Deployment {
    /// The made-up location of image `image_id`'s data in store `store` (`None`: no stores
    /// configured): `file:///var/lib/glance/<store>/<image id>`.
    pub fn location_of(&self, store: Option<&str>, image_id: &str) -> String {
        format!("{LOCATION_ROOT}/{}/{image_id}", store.unwrap_or("images"))
    }

    /// The locations of `image`, in the order its data reached the stores: none before it
    /// has data in a store (queued, staged, importing), and none of a deactivated image but
    /// for admins (`admin`).
    pub(crate) fn locations(&self, image: &Image, admin: bool) -> Vec<Value> {
        let shown = match image.status {
            ImageStatus::Active => true,
            ImageStatus::Deactivated => admin,
            _ => false,
        };
        let Some(data) = image.data.as_ref().filter(|_| shown) else {
            return Vec::new();
        };
        if self.stores.is_empty() {
            return vec![json!({"url": self.location_of(None, &image.id), "metadata": {}})];
        }
        data.stores
            .iter()
            .map(|s| json!({"url": self.location_of(Some(s), &image.id), "metadata": {"store": s}}))
            .collect()
    }
}

impl Model {
    /// The image object as this deployment shows it to `who`: [`Image::to_json`], plus
    /// `locations` when they are shown and `direct_url` when it is shown and the image has a
    /// location (a deactivated image's only for admins, as the reference shows them).
    pub fn image_json(&self, who: &Identity, image: &Image) -> Value {
        let mut v = image.to_json();
        let d = &self.rules.deployment;
        if !(d.show_multiple_locations || d.show_image_direct_url) {
            return v;
        }
        let locations = self.all_locations(image, who.is_admin());
        if d.show_image_direct_url
            && let Some(url) = locations.first().map(|l| l["url"].clone())
        {
            v["direct_url"] = url;
        }
        if d.show_multiple_locations {
            v["locations"] = Value::Array(locations);
        }
        v
    }

    /// Every location of `image`: the stores' (see [`Deployment::locations`]), then the
    /// links clients gave (none of a deactivated image but for admins).
    pub(crate) fn all_locations(&self, image: &Image, admin: bool) -> Vec<Value> {
        let mut out = self.rules.deployment.locations(image, admin);
        if image.status != ImageStatus::Deactivated || admin {
            out.extend(image.links.iter().map(Link::to_json));
        }
        out
    }

    /// `location` as the reference stores it: its metadata with the store its URL belongs
    /// to (an http URL: the http store; a store's own location: that store), with stores
    /// configured.
    fn with_store(&self, image: &Image, url: &str, metadata: &Map<String, Value>) -> Link {
        let mut metadata = metadata.clone();
        let d = &self.rules.deployment;
        let store = if url.starts_with("http") {
            self.http_store_id()
        } else {
            d.stores
                .iter()
                .find(|s| url == d.location_of(Some(&s.id), &image.id))
                .map(|s| s.id.clone())
        };
        if let Some(s) = store {
            metadata.insert("store".into(), s.into());
        }
        Link {
            url: url.to_string(),
            metadata,
        }
    }

    /// Whether the http store can read `url`, and its size: the URL's scheme is one the
    /// stores know (http and https with an http store; `file` and the like are never taken
    /// from clients), it passes the import filter, and the mock's `HEAD` found data there.
    fn readable(&self, url: &str, heads: &Heads) -> Option<u64> {
        let scheme = url::Url::parse(url).ok()?.scheme().to_string();
        if !(scheme == "http" || scheme == "https") || !self.http_store_for_patch() {
            return None;
        }
        super::fetch::source_of(&self.rules.deployment.import_filter, url)?;
        heads.get(url).copied().filter(|n| *n > 0)
    }

    fn http_store_for_patch(&self) -> bool {
        let d = &self.rules.deployment;
        d.stores.is_empty() || d.stores.iter().any(|s| s.read_only)
    }

    /// The values of `validation_data` that are new to `image` (409 for a conflict among
    /// them, a value set already to another, new values on an image not `queued`, or
    /// values of the wrong form), as the reference checks them.
    fn validation_of(&self, image: &Image, locations: &[&Value]) -> Result<Map<String, Value>> {
        let conflict = |m: String| ApiError::new(ErrorKind::Conflict, m);
        let mut given = Map::new();
        for loc in locations {
            if let Some(Value::Object(vd)) = loc.get("validation_data") {
                for (k, v) in vd {
                    if given.get(k).is_some_and(|g| g != v) {
                        return Err(conflict(format!("Conflicting values for {k}")));
                    }
                    given.insert(k.clone(), v.clone());
                }
            }
        }
        let current = image.to_json();
        let mut new = Map::new();
        for (k, v) in given {
            let now = current.get(&k).cloned().unwrap_or(Value::Null);
            if v == now {
                continue;
            }
            if !now.is_null() {
                return Err(conflict(format!(
                    "{k} is already set with a different value"
                )));
            }
            new.insert(k, v);
        }
        if new.is_empty() {
            return Ok(new);
        }
        if image.status != ImageStatus::Queued {
            let keys: Vec<&str> = new.keys().map(String::as_str).collect();
            return Err(conflict(format!(
                "New value(s) for {} may only be provided when image status is 'queued'",
                keys.join(", ")
            )));
        }
        if let Some(c) = new.get("checksum").and_then(Value::as_str)
            && hex::decode(c).map(|b| b.len()) != Ok(16)
        {
            return Err(conflict(format!(
                "checksum ({c}) is not a valid hexadecimal value of 16 bytes"
            )));
        }
        let algo = new
            .get("os_hash_algo")
            .and_then(Value::as_str)
            .unwrap_or("None");
        if algo != HASH_ALGO {
            return Err(conflict(format!(
                "os_hash_algo must be {HASH_ALGO}, not {algo}"
            )));
        }
        let value = new
            .get("os_hash_value")
            .and_then(Value::as_str)
            .unwrap_or("");
        if hex::decode(value).map(|b| b.len()) != Ok(64) {
            return Err(conflict(format!(
                "os_hash_value ({value}) is not the correct size for {HASH_ALGO} (should be 64 bytes)"
            )));
        }
        Ok(new)
    }

    /// A queued image whose data is now at its links turns `active`, with the size found
    /// and the digests given.
    fn activate_linked(image: &mut Image, size: Option<u64>, given: &Map<String, Value>) {
        let text = |k: &str| given.get(k).and_then(Value::as_str).map(str::to_string);
        if image.data.is_none() {
            let mut d = image.link_data.clone().unwrap_or_default();
            if d.size.is_none() {
                d.size = size;
            }
            if image.status == ImageStatus::Queued {
                d.checksum = text("checksum").or(d.checksum);
                d.os_hash_algo = text("os_hash_algo").or(d.os_hash_algo);
                d.os_hash_value = text("os_hash_value").or(d.os_hash_value);
            }
            image.link_data = Some(d);
        }
        if image.status == ImageStatus::Queued {
            image.status = ImageStatus::Active;
        }
    }

    /// One patch operation on `/locations` of `image` (a copy), checked as the reference
    /// does: hidden locations are 403; an add or replace needs an `active` or `queued` image
    /// (409), an empty list replacing them is 403, the `validation_data` must agree with
    /// the image (409); an added location must be one the http store reads (`heads`, else
    /// 400 "Invalid location") and not there already (400); a replace may change the
    /// metadata of the locations there, or set them where there are none; a removal is for
    /// admins (403), of an `active` image (409), never of its last location (403), at a
    /// position it has (400), and takes the data out of that store.
    pub(crate) fn change_locations(
        &self,
        who: &Identity,
        image: &mut Image,
        op: &str,
        pos: Option<&str>,
        value: Option<&Value>,
        heads: &Heads,
    ) -> Result<()> {
        let d = &self.rules.deployment;
        let verb = match op {
            "add" => "add",
            "remove" => "remove",
            _ => "update",
        };
        if !d.show_multiple_locations {
            return Err(ApiError::forbidden(format!(
                "It's not allowed to {verb} locations if locations are invisible."
            )));
        }
        let status = image.status.as_str();
        let stored = d.locations(image, true).len();
        let count = stored + image.links.len();
        if op == "remove" {
            if !who.is_admin() {
                return Err(ApiError::forbidden(
                    "You are not authorized to complete delete_image_location action.",
                ));
            }
            if image.status != ImageStatus::Active {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("It's not allowed to remove locations if image status is {status}."),
                ));
            }
            if count == 1 {
                return Err(ApiError::forbidden(
                    "Cannot remove last location in the image.",
                ));
            }
            let at = match pos {
                Some("-") => Some(count - 1),
                Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<usize>().ok(),
                _ => None,
            }
            .filter(|p| *p < count)
            .ok_or_else(|| ApiError::bad_request("Invalid position for removing a location."))?;
            if at < stored {
                if let Some(data) = image.data.as_mut() {
                    data.stores.remove(at);
                }
            } else {
                image.links.remove(at - stored);
            }
            return Ok(());
        }
        if !matches!(image.status, ImageStatus::Active | ImageStatus::Queued) {
            let verb = if op == "add" { "add" } else { "replace" };
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("It's not allowed to {verb} locations if image status is {status}."),
            ));
        }
        let empty = Map::new();
        let meta = |v: &Value| {
            v.get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let url_of = |v: &Value| {
            v.get("url")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if op == "replace" {
            let items: Vec<&Value> = match value {
                Some(Value::Array(items)) => items.iter().collect(),
                _ => Vec::new(),
            };
            if items.is_empty() {
                return Err(ApiError::forbidden("Cannot set locations to empty list."));
            }
            let given = self.validation_of(image, &items)?;
            let new: Vec<Link> = items
                .iter()
                .map(|v| self.with_store(image, &url_of(v), &meta(v)))
                .collect();
            let current: Vec<Link> = self
                .all_locations(image, true)
                .iter()
                .map(|v| Link {
                    url: url_of(v),
                    metadata: meta(v),
                })
                .collect();
            if new == current {
                return Ok(());
            }
            let mut new_urls: Vec<&str> = new.iter().map(|l| l.url.as_str()).collect();
            let mut old_urls: Vec<&str> = current.iter().map(|l| l.url.as_str()).collect();
            new_urls.sort_unstable();
            old_urls.sort_unstable();
            if !current.is_empty() && new_urls != old_urls {
                return Err(ApiError::bad_request(format!(
                    "Original locations is not empty: {}",
                    Value::Array(self.all_locations(image, true))
                )));
            }
            if !current.is_empty() {
                // Only metadata changes: the links take theirs (the stores' own locations
                // keep theirs: the mock shows a fixed location per store).
                for link in image.links.iter_mut() {
                    if let Some(n) = new.iter().find(|n| n.url == link.url) {
                        link.metadata = n.metadata.clone();
                    }
                }
                return Ok(());
            }
            let mut size = None;
            for (i, link) in new.iter().enumerate() {
                let found = self
                    .readable(&link.url, heads)
                    .ok_or_else(|| ApiError::bad_request("Invalid location"))?;
                if new[..i].iter().any(|o| o == link) {
                    return Err(ApiError::bad_request(format!(
                        "The location {} already exists",
                        link.url
                    )));
                }
                size = size.or(Some(found));
            }
            image.links = new;
            Self::activate_linked(image, size, &given);
            return Ok(());
        }
        let Some(v) = value else {
            return Err(ApiError::bad_request("Invalid location"));
        };
        let given = self.validation_of(image, &[v])?;
        let link = self.with_store(
            image,
            &url_of(v),
            v.get("metadata")
                .and_then(Value::as_object)
                .unwrap_or(&empty),
        );
        let at = match pos {
            Some("-") => Some(count),
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<usize>().ok(),
            _ => None,
        }
        .ok_or_else(|| ApiError::bad_request("Invalid position for adding a location."))?;
        let size = self
            .readable(&link.url, heads)
            .ok_or_else(|| ApiError::bad_request("Invalid location"))?;
        let current = self.all_locations(image, true);
        if current
            .iter()
            .any(|c| url_of(c) == link.url && meta(c) == link.metadata)
        {
            return Err(ApiError::bad_request(format!(
                "The location {} already exists",
                link.url
            )));
        }
        // The mock keeps the stores' locations first: a link goes among the links.
        let among = at.saturating_sub(stored).min(image.links.len());
        image.links.insert(among, link);
        Self::activate_linked(image, Some(size), &given);
        Ok(())
    }
}
