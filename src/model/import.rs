//! Interoperable image import, as the reference serves it: data staged with `PUT …/stage`
//! (the image becomes `uploading`), then `POST …/import` naming a method the deployment
//! enables. `glance-direct` makes the staged data the image's at once (the reference does it
//! in a task moments later), in the stores asked for (the default store unless the body
//! names stores or `all_stores`), and records an `api_image_import` task for the image;
//! `copy-image` (admins) copies an active image's data to stores it is not in yet, at once
//! too; `web-download` is started and handed to the mock to fetch (`fetch.rs`);
//! `glance-download` is refused (the mock reaches no other Glance). A read-only store takes
//! no data: an import or copy to one fails in its task, as the reference's does.
//! `/v2/info/import` and `/v2/info/stores` list what the deployment configures.

use serde_json::{Map, Value, json};

use super::data::{ImageStatus, Upload};
use super::fetch::Fetch;
use super::landing::Landing;
use super::tasks::Task;
use super::{ApiError, ErrorKind, Identity, Model, Result};

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Conflict, message)
}

/// An import request's body, checked before the image is looked up (as the reference's
/// deserializer does): a JSON object whose `method` has a `name` the deployment enables,
/// `all_stores` and `all_stores_must_succeed` booleans; `stores`, when present, a list of
/// store ids.
struct ImportRequest {
    method: String,
    uri: Option<String>,
    /// `stores` as sent (`None`: absent).
    stores: Option<Vec<String>>,
    all_stores: bool,
    all_must_succeed: bool,
    body: Map<String, Value>,
}

impl ImportRequest {
    fn parse(body: &[u8], enabled: &[String]) -> Result<ImportRequest> {
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
            return Err(ApiError::bad_request("Malformed JSON in request body."));
        };
        let Some(method) = obj.get("method") else {
            return Err(ApiError::bad_request(
                "Import request requires a 'method' field.",
            ));
        };
        let Some(name) = method.get("name") else {
            return Err(ApiError::bad_request(
                "Import request requires a 'name' field.",
            ));
        };
        let name = name.as_str().unwrap_or("");
        if !enabled.iter().any(|m| m == name) {
            return Err(ApiError::bad_request(format!(
                "Unknown import method name '{name}'."
            )));
        }
        let flag = |key: &str, default: bool| match obj.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::bad_request(format!(
                "'{key}' must be boolean value only"
            ))),
        };
        let all_must_succeed = flag("all_stores_must_succeed", true)?;
        let all_stores = flag("all_stores", false)?;
        let stores = match obj.get("stores") {
            None => None,
            Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(ids)) if ids.iter().all(Value::is_string) => Some(
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            ),
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
            all_stores,
            all_must_succeed,
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
            store: None,
            project: who.project_id.clone(),
        })
    }

    /// `POST /v2/images/{image_id}/import` (202), checked in the reference's order: the body
    /// (400), a visible image (404), the image's status for the method (409), its formats
    /// (409), who may run the method (403: admins copy, writers import), the stores (409 for
    /// an unknown one, 400 for `stores` beside `all_stores`), for a copy the stores it is in
    /// already (400; with `all_stores` those are left out, and nothing left is a 202 that does
    /// nothing), then the source of a download (400). A web-download that passes is only
    /// started: the job it gives back is the mock's to fetch ([`Model::finish_fetch`]).
    pub fn import_image(
        &mut self,
        who: &Identity,
        image_id: &str,
        body: &[u8],
        store_header: Option<&str>,
        request_id: &str,
    ) -> Result<Option<Fetch>> {
        let deployment = &self.rules.deployment;
        let req = ImportRequest::parse(body, &deployment.import_methods)?;
        let image = self.visible_image(who, image_id)?;
        let method = req.method.as_str();
        let copy = method == "copy-image";
        let status = image.status;
        if status == ImageStatus::Active && !copy {
            return Err(conflict(
                "Image with status active cannot be target for import",
            ));
        }
        if status != ImageStatus::Active && copy {
            return Err(conflict(
                "Only images with status active can be targeted for copying",
            ));
        }
        if status != ImageStatus::Queued && matches!(method, "web-download" | "glance-download") {
            return Err(conflict(format!(
                "Image needs to be in 'queued' state to use '{method}' method"
            )));
        }
        // Staging still under way (no data yet) counts as not staged.
        let staged = status == ImageStatus::Uploading && image.data.is_some();
        if !staged && method == "glance-direct" {
            return Err(conflict(
                "Image needs to be staged before 'glance-direct' method can be used",
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
        if copy && !who.is_admin() {
            return Err(ApiError::forbidden(
                "You are not authorized to complete copy_image action.",
            ));
        }
        if !copy && !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete modify_image action.",
            ));
        }
        let mut targets = self.import_targets(&req, store_header)?;
        let held: Vec<String> = image
            .data
            .as_ref()
            .map(|d| d.stores.clone())
            .unwrap_or_default();
        if let (true, Some(t)) = (copy, targets.as_mut()) {
            if req.all_stores {
                t.retain(|s| !held.contains(s));
                if t.is_empty() {
                    return Ok(None);
                }
            } else if let Some(there) = held.iter().find(|s| t.contains(s)) {
                return Err(ApiError::bad_request(format!(
                    "Image is already present at store '{there}'"
                )));
            }
        }
        if copy && targets.is_none() {
            // The reference fails here with a server error; the mock says why instead.
            return Err(ApiError::bad_request(
                "copy-image needs stores (enabled_backends); this deployment declares none",
            ));
        }
        if !req.all_must_succeed && targets.is_none() {
            return Err(ApiError::bad_request(format!(
                "All_stores_must_succeed can only be set with enabled_backends {}",
                req.uri.as_deref().unwrap_or("None")
            )));
        }
        if method == "glance-download" {
            return Err(ApiError::bad_request(
                "glance-download refused: this server fetches nothing from other servers",
            ));
        }
        if method == "web-download" {
            let uri = req.uri.clone().unwrap_or_else(|| "None".into());
            let Some(source) = super::fetch::source_of(&deployment.import_filter, &uri) else {
                return Err(ApiError::bad_request(format!(
                    "URI for web-download does not pass filtering: {uri}"
                )));
            };
            let id = image.id.clone();
            return Ok(Some(self.start_fetch(
                who, &id, req.body, request_id, targets, source, uri,
            )));
        }
        let landing = Landing::of(deployment, targets, req.all_must_succeed);
        let id = image.id.clone();
        self.finish_import(who, &id, req.body, request_id, landing);
        Ok(None)
    }

    /// The stores an import goes to, as the reference reads them from the body and the
    /// `X-Image-Meta-Store` header: `None` without stores configured (the one store); with
    /// `all_stores` every writable store (`stores` or the header beside it is 400); else
    /// `stores` as sent, or the header's store (both is 400), or the default store; each
    /// must be configured (409).
    fn import_targets(
        &self,
        req: &ImportRequest,
        header: Option<&str>,
    ) -> Result<Option<Vec<String>>> {
        let deployment = &self.rules.deployment;
        if deployment.stores.is_empty() {
            return Ok(None);
        }
        let targets = if req.all_stores {
            if req.stores.is_some() || header.is_some() {
                return Err(ApiError::bad_request(
                    "All_stores parameter can't be used with x-image-meta-store header or stores parameter",
                ));
            }
            deployment.writable_stores()
        } else {
            match (&req.stores, header) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::bad_request(
                        "Stores parameter and x-image-meta-store header can't be both specified",
                    ));
                }
                (Some(s), None) => s.clone(),
                (None, Some(h)) => vec![h.to_string()],
                (None, None) => deployment.default_store.iter().cloned().collect(),
            }
        };
        if let Some(other) = targets.iter().find(|s| deployment.store(s).is_none()) {
            return Err(conflict(format!("Store for identifier {other} not found")));
        }
        Ok(Some(targets))
    }

    /// The import is done: the data is in the stores written (a staged image becomes
    /// `active` if any took it), the reference's import bookkeeping properties say which
    /// stores refused it, and a task for the image records the outcome.
    fn finish_import(
        &mut self,
        who: &Identity,
        image_id: &str,
        import_req: Map<String, Value>,
        request_id: &str,
        landing: Landing,
    ) {
        let staged = self
            .state
            .image(image_id)
            .is_some_and(|i| i.status == ImageStatus::Uploading);
        // Without stores configured the data is simply the image's.
        let lands = !landing.written.is_empty() || landing.backend == json!([null]);
        if staged && lands {
            self.set_status(image_id, ImageStatus::Active);
        }
        let now = (self.clock)();
        if let Some(img) = self.state.image_mut(image_id) {
            if let Some(data) = img.data.as_mut() {
                for s in &landing.written {
                    if !data.stores.contains(s) {
                        data.stores.push(s.clone());
                    }
                }
            }
            img.extra
                .insert("os_glance_importing_to_stores".into(), "".into());
            img.extra.insert(
                "os_glance_failed_import".into(),
                landing.failed.join(",").into(),
            );
            img.updated_at = now.clone();
        }
        self.state.touch(image_id);
        let size = self
            .state
            .image(image_id)
            .and_then(|i| i.data.as_ref())
            .map_or(0, |d| d.size);
        let (status, message, result) = if landing.task_failed {
            (
                "failure",
                super::fetch::IMPORT_FAILED.to_string(),
                Value::Null,
            )
        } else {
            // As the reference reports a finished import: the whole MiB it wrote.
            (
                "success",
                super::landing::copied(size),
                json!({"image_id": image_id}),
            )
        };
        self.state.insert_task(Task {
            id: uuid::Uuid::new_v4().to_string(),
            kind: "api_image_import".into(),
            status,
            input: json!({
                "image_id": image_id,
                "import_req": import_req,
                "backend": landing.backend,
            }),
            owner: who.project_id.clone(),
            user_id: who.user_id.clone(),
            message,
            result,
            request_id: Some(request_id.to_string()).filter(|r| !r.is_empty()),
            created_at: now.clone(),
            updated_at: now,
            seq: 0,
        });
    }

    /// `GET /v2/info/import`: the enabled import methods.
    pub fn import_info(&self) -> Value {
        json!({"import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": self.rules.deployment.import_methods,
        }})
    }

    /// `GET /v2/info/stores`: the configured stores in their order, each with its
    /// description, the default marked, read-only ones marked; 404 without stores.
    pub fn stores_info(&self) -> Result<Value> {
        let d = &self.rules.deployment;
        if d.stores.is_empty() {
            return Err(ApiError::not_found(
                "Multi backend is not supported at this site.",
            ));
        }
        let stores: Vec<Value> = d
            .stores
            .iter()
            .map(|s| {
                let mut o = Map::new();
                o.insert("id".into(), s.id.clone().into());
                if let Some(text) = s.description.as_deref().filter(|t| !t.is_empty()) {
                    o.insert("description".into(), text.into());
                }
                if d.default_store.as_deref() == Some(s.id.as_str()) {
                    o.insert("default".into(), "true".into());
                }
                if s.read_only {
                    o.insert("read-only".into(), "true".into());
                }
                Value::Object(o)
            })
            .collect();
        Ok(json!({"stores": stores}))
    }

    /// `GET /v2/images/{image_id}/tasks`: the import and location-import tasks of a visible
    /// image (404), oldest first; readers too may list them.
    pub fn image_tasks(&self, who: &Identity, image_id: &str) -> Result<Vec<&Task>> {
        let image = self.visible_image(who, image_id)?;
        let mut tasks: Vec<&Task> = self
            .state
            .tasks()
            .filter(|t| t.input.get("image_id").and_then(Value::as_str) == Some(&image.id))
            .filter(|t| {
                t.kind == "api_image_import"
                    || (t.kind == "location_import" && t.input.get("loc_url").is_some())
            })
            .collect();
        tasks.sort_by_key(|t| t.seq);
        Ok(tasks)
    }
}
