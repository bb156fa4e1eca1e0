//! Where the stores keep an image's data, as the reference shows it when the operator asks
//! (`show_multiple_locations`, `show_image_direct_url`): `locations`, one entry per store
//! holding the data (`url`, and `metadata` naming the store), and `direct_url`, the first of
//! them. The mock keeps no real paths: a location is a made-up file path per store
//! ([`Deployment::location_of`]). Hidden (the default), neither key appears and a patch of
//! `/locations` is 403.

use serde_json::{Value, json};

use super::data::ImageStatus;
use super::deployment::{Deployment, LOCATION_ROOT};
use super::{ApiError, ErrorKind, Identity, Image, Model, Result};

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
        let locations = d.locations(image, who.is_admin());
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

    /// One patch operation on `/locations` of `image` (a copy), checked as the reference
    /// does: hidden locations are 403; an add or replace needs an `active` or `queued` image
    /// (409), an empty list replacing them is 403, and any location given is refused (400:
    /// the mock reaches no store but its own, so no location a client names is valid); a
    /// removal is for admins (403), of an `active` image (409), never of its last location
    /// (403), at a position it has (400), and takes the data out of that store.
    pub(crate) fn change_locations(
        &self,
        who: &Identity,
        image: &mut Image,
        op: &str,
        pos: Option<&str>,
        value: Option<&Value>,
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
            let count = d.locations(image, true).len();
            if count == 1 {
                return Err(ApiError::forbidden(
                    "Cannot remove last location in the image.",
                ));
            }
            let at = pos
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|p| *p < count)
                .ok_or_else(|| {
                    ApiError::bad_request("Invalid position for removing a location.")
                })?;
            if let Some(data) = image.data.as_mut() {
                data.stores.remove(at);
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
        if op == "replace" && value.and_then(Value::as_array).is_some_and(Vec::is_empty) {
            return Err(ApiError::forbidden("Cannot set locations to empty list."));
        }
        Err(ApiError::bad_request("Invalid location"))
    }
}
