//! The stores as an admin sees them, and taking an image's data out of one store: the
//! details of `/v2/info/stores/detail` (each store's type, weight and driver properties,
//! admins only) and `DELETE /v2/stores/{store_id}/{image_id}`, which removes the data from
//! one of the stores holding it (the `stores` of its data, as imports and copies fill them,
//! `import.rs`), never from the last one.

use serde_json::{Map, Value, json};

use super::data::ImageStatus;
use super::deployment::{LOCATION_ROOT, Store};
use super::{ApiError, ErrorKind, Identity, Model, Result};

/// The stores Glance adds to `enabled_backends` for its own use: a delete naming one passes
/// the check of the store and finds no data there.
const RESERVED_STORES: &[&str] = &["os_glance_staging_store", "os_glance_tasks_store"];

/// The driver properties Glance 33 shows of a store of this type, with the drivers' default
/// settings; a file store's directory is a made-up path (as the mock's locations are).
fn properties(store: &Store) -> Value {
    const MIB: u64 = 1 << 20;
    match store.kind() {
        "file" => json!({
            "data_dir": format!("{}/{}/", LOCATION_ROOT.trim_start_matches("file://"), store.id),
            "chunk_size": 65536,
            "thin_provisioning": false,
        }),
        "rbd" => json!({
            "chunk_size": 8 * MIB,
            "pool": "images",
            "thin_provisioning": false,
            "fsid": null,
        }),
        "cinder" => json!({"volume_type": null, "use_multipath": false}),
        "swift" => json!({
            "container": "glance",
            "large_object_size": 5120 * MIB,
            "large_object_chunk_size": 200 * MIB,
        }),
        "s3" => json!({
            "s3_store_large_object_size": 100 * MIB,
            "s3_store_large_object_chunk_size": 10 * MIB,
            "s3_store_thread_pools": 10,
        }),
        _ => json!({}),
    }
}

impl Model {
    /// `GET /v2/info/stores/detail`: what `/v2/info/stores` lists (404 without stores, first),
    /// for admins only (403), each store with its `type`, driver `properties` and `weight`.
    pub fn stores_detail(&self, who: &Identity) -> Result<Value> {
        let listed = self.stores_info()?;
        if !who.is_admin() {
            return Err(ApiError::forbidden(
                "You are not authorized to complete stores_info_detail action.",
            ));
        }
        let d = &self.rules.deployment;
        let stores: Vec<Value> = listed["stores"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(&d.stores)
            .map(|(entry, store)| {
                let mut o: Map<String, Value> = entry.as_object().cloned().unwrap_or_default();
                o.insert("type".into(), store.kind().into());
                o.insert("properties".into(), properties(store));
                o.insert("weight".into(), store.weight.into());
                Value::Object(o)
            })
            .collect();
        Ok(json!({ "stores": stores }))
    }

    /// `DELETE /v2/stores/{store_id}/{image_id}`, in the reference's order: no body (400);
    /// stores configured (404); a configured store (409; Glance's own staging and tasks stores
    /// count); a visible image (404); the caller may see its locations (the owning project or
    /// an admin, else 403) and delete them (admins, 403); an `active` image (409); data in
    /// more than one store (403: never the last); data in that store (404). The store then no
    /// longer holds the data.
    pub fn delete_from_store(
        &mut self,
        who: &Identity,
        store_id: &str,
        image_id: &str,
        body: &[u8],
    ) -> Result<()> {
        super::member::no_body(body)?;
        let d = &self.rules.deployment;
        if d.stores.is_empty() {
            return Err(ApiError::not_found("The resource could not be found."));
        }
        if d.store(store_id).is_none() && !RESERVED_STORES.contains(&store_id) {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("The selected store {store_id} is not available on this node."),
            ));
        }
        let image = self.state.image(image_id).filter(|i| self.can_see(who, i));
        let Some(image) = image else {
            return Err(ApiError::not_found(format!(
                "Failed to find image {image_id}"
            )));
        };
        if !self.is_owner_or_admin(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete get_image_location action.",
            ));
        }
        if !who.is_admin() {
            return Err(ApiError::forbidden(
                "You are not authorized to complete delete_image_location action.",
            ));
        }
        if image.status != ImageStatus::Active {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                "It's not allowed to remove image data from store if image status is not 'active'",
            ));
        }
        let held: &[String] = image.data.as_ref().map_or(&[], |data| &data.stores);
        if held.len() == 1 {
            return Err(ApiError::forbidden(
                "Cannot delete image data from the only store containing it. Consider deleting the image instead.",
            ));
        }
        let Some(at) = held.iter().position(|s| s == store_id) else {
            return Err(ApiError::not_found(format!(
                "Image {image_id} is not stored in store {store_id}."
            )));
        };
        let id = image.id.clone();
        let now = (self.clock)();
        if let Some(img) = self.state.image_mut(&id) {
            if let Some(data) = img.data.as_mut() {
                data.stores.remove(at);
            }
            img.updated_at = now;
        }
        self.state.touch(&id);
        Ok(())
    }
}
