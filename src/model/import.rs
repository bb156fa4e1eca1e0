//! Interoperable image import, as the reference serves it: data staged with `PUT …/stage`
//! (the image becomes `uploading`), then `POST …/import` naming a method. `glance-direct`
//! makes the staged data the image's at once (the reference does it in a task moments later)
//! and records a successful `api_image_import` task for the image; `web-download` is refused,
//! since the mock fetches nothing from other servers; `copy-image` (admins) has only the one
//! store to copy to, which holds the data already. `/v2/info/import` and `/v2/info/stores`
//! say so.

use serde_json::{Map, Value, json};

use super::data::{ImageStatus, STORE_NAME, Upload};
use super::tasks::Task;
use super::{ApiError, ErrorKind, Identity, Model, Result};

/// The import methods `/v2/info/import` lists, as the reference's defaults.
pub const IMPORT_METHODS: &[&str] = &["glance-direct", "web-download", "copy-image"];

/// `GET /v2/info/import`.
pub fn import_info() -> Value {
    json!({"import-methods": {
        "description": "Import methods available.",
        "type": "array",
        "value": IMPORT_METHODS,
    }})
}

/// `GET /v2/info/stores`: the one store, the default.
pub fn stores_info() -> Value {
    json!({"stores": [{"id": STORE_NAME, "default": "true"}]})
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Conflict, message)
}

/// An import request's body, checked before the image is looked up (as the reference's
/// deserializer does): a JSON object whose `method` names a known method; `stores`, when
/// present, a list of store ids.
struct ImportRequest {
    method: String,
    uri: Option<String>,
    stores: Vec<String>,
    body: Map<String, Value>,
}

impl ImportRequest {
    fn parse(body: &[u8]) -> Result<ImportRequest> {
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
            return Err(ApiError::bad_request("Malformed JSON in request body."));
        };
        let Some(method) = obj.get("method") else {
            return Err(ApiError::bad_request(
                "Import request requires a 'method' field.",
            ));
        };
        let name = method.get("name").and_then(Value::as_str).unwrap_or("");
        if !IMPORT_METHODS.contains(&name) {
            return Err(ApiError::bad_request(format!(
                "Unknown import method name '{name}'."
            )));
        }
        let stores = match obj.get("stores") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ids)) if ids.iter().all(Value::is_string) => ids
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "'stores' must be a list of store ids.",
                ));
            }
        };
        Ok(ImportRequest {
            method: name.to_string(),
            uri: method
                .get("uri")
                .and_then(Value::as_str)
                .map(str::to_string),
            stores,
            body: obj,
        })
    }
}

impl Model {
    /// `PUT /v2/images/{image_id}/stage`, before the bytes: a visible image (404) that `who`
    /// may change (403) and that is `queued` (409); it becomes `uploading`. Formats may still
    /// be unset (the import needs them).
    pub fn begin_stage(
        &mut self,
        who: &Identity,
        image_id: &str,
        declared: Option<u64>,
    ) -> Result<Upload> {
        let image = self.visible_image(who, image_id)?;
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete modify_image action.",
            ));
        }
        if image.status != ImageStatus::Queued {
            return Err(conflict(format!(
                "Image status transition from {} to uploading is not allowed",
                image.status.as_str()
            )));
        }
        let id = image.id.clone();
        let blob = self.state.new_blob();
        self.set_status(&id, ImageStatus::Uploading);
        Ok(Upload {
            image_id: id,
            blob,
            declared,
            staging: true,
        })
    }

    /// `POST /v2/images/{image_id}/import` (202), checked in the reference's order: the body,
    /// a visible image (404), then per method its state and who may run it (see the module).
    pub fn import_image(
        &mut self,
        who: &Identity,
        image_id: &str,
        body: &[u8],
        request_id: &str,
    ) -> Result<()> {
        let req = ImportRequest::parse(body)?;
        let image = self.visible_image(who, image_id)?;
        if req.method == "copy-image" {
            if !who.is_admin() {
                return Err(ApiError::forbidden(
                    "You are not authorized to complete copy_image action.",
                ));
            }
            if image.status != ImageStatus::Active {
                return Err(conflict(
                    "Only images with status active can be targeted for copying",
                ));
            }
            return Err(ApiError::bad_request(format!(
                "Image is already present at store '{STORE_NAME}'"
            )));
        }
        if !matches!(image.status, ImageStatus::Queued | ImageStatus::Uploading) {
            return Err(conflict(format!(
                "Image with status {} cannot be target for import",
                image.status.as_str()
            )));
        }
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete modify_image action.",
            ));
        }
        for (key, unset) in [
            ("container_format", image.container_format.is_none()),
            ("disk_format", image.disk_format.is_none()),
        ] {
            if unset {
                return Err(conflict(format!("'{key}' needs to be set before import")));
            }
        }
        if req.method == "web-download" {
            return Err(ApiError::bad_request(format!(
                "URI for web-download does not pass filtering: {} (this server fetches nothing from other servers)",
                req.uri.as_deref().unwrap_or("None")
            )));
        }
        if image.status != ImageStatus::Uploading || image.data.is_none() {
            return Err(conflict(
                "Image needs to be staged before 'glance-direct' method can be used",
            ));
        }
        if let Some(other) = req.stores.iter().find(|s| *s != STORE_NAME) {
            return Err(conflict(format!("Store for identifier {other} not found")));
        }
        let id = image.id.clone();
        self.finish_import(who, &id, req.body, request_id);
        Ok(())
    }

    /// The staged data becomes the image's: `active`, in the store, with the reference's
    /// import bookkeeping properties, and a successful task for the image.
    fn finish_import(
        &mut self,
        who: &Identity,
        image_id: &str,
        import_req: Map<String, Value>,
        request_id: &str,
    ) {
        self.set_status(image_id, ImageStatus::Active);
        if let Some(img) = self.state.image_mut(image_id) {
            for key in ["os_glance_importing_to_stores", "os_glance_failed_import"] {
                img.extra.insert(key.into(), "".into());
            }
        }
        let now = (self.clock)();
        self.state.insert_task(Task {
            id: uuid::Uuid::new_v4().to_string(),
            kind: "api_image_import".into(),
            status: "success",
            input: json!({
                "image_id": image_id,
                "import_req": import_req,
                "backend": [STORE_NAME],
            }),
            owner: who.project_id.clone(),
            user_id: who.user_id.clone(),
            message: String::new(),
            result: json!({"image_id": image_id}),
            request_id: Some(request_id.to_string()).filter(|r| !r.is_empty()),
            created_at: now.clone(),
            updated_at: now,
            seq: 0,
        });
    }

    /// `GET /v2/images/{image_id}/tasks`: the import tasks of a visible image (404), oldest
    /// first; readers too may list them.
    pub fn image_tasks(&self, who: &Identity, image_id: &str) -> Result<Vec<&Task>> {
        let image = self.visible_image(who, image_id)?;
        let mut tasks: Vec<&Task> = self
            .state
            .tasks()
            .filter(|t| t.input.get("image_id").and_then(Value::as_str) == Some(&image.id))
            .filter(|t| t.kind == "api_image_import")
            .collect();
        tasks.sort_by_key(|t| t.seq);
        Ok(tasks)
    }
}
