//! The image locations API (Image API v2.17): `GET /v2/images/{image_id}/locations` lists
//! where an image's data is kept, for admins and the service role only;
//! `POST /v2/images/{image_id}/locations` adds a location to a `queued` image through a
//! `location_import` task. The add is asynchronous: the model checks the request in the
//! reference's order and hands the mock a [`Fetch`] (the web-download's job, with
//! [`LocationJob`] saying it is a location's), the mock reads the URL through the http store
//! and ends the job with [`Model::finish_location`]: the location is the image's, the digests
//! computed and checked against the `validation_data`, and the image `active`; or the task
//! fails.

use serde_json::{Map, Value, json};

use super::data::ImageStatus;
use super::fetch::{Fetch, IMPORT_FAILED, source_of};
use super::locations::{Link, LinkData};
use super::tasks::Task;
use super::{ApiError, ErrorKind, Identity, Model, Result};

/// The hash algorithms `validation_data` may name, with their digest sizes in bytes.
pub(crate) const HASH_ALGOS: &[(&str, usize)] =
    &[("sha1", 20), ("sha256", 32), ("sha512", 64), ("md5", 16)];

/// What a location's job asks beyond a web-download's: the digest to compute and the one the
/// client expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationJob {
    /// The algorithm of `os_hash_value` (`sha512` unless `validation_data` names one).
    pub hash_algo: String,
    /// The `os_hash_value` the client gave, if any (lower-case hex).
    pub expected: Option<String>,
}

/// What the fetch of a location found: the size, the MD5 checksum and the digest in the
/// job's algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// Bytes.
    pub size: u64,
    /// MD5, hex.
    pub checksum: String,
    /// The digest in [`LocationJob::hash_algo`], hex.
    pub hash: String,
}

/// The body of an add, read as the reference's `location` schema reads it (400).
struct AddBody {
    url: String,
    algo: Option<String>,
    value: Option<String>,
    validation: Value,
}

fn schema_error(why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "Provided object does not match schema 'location': {why}"
    ))
}

fn parse_add(body: &[u8]) -> Result<AddBody> {
    if body.is_empty() {
        return Err(ApiError::bad_request("Body expected in request."));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("Malformed JSON in request body."))?;
    let Value::Object(obj) = v else {
        return Err(schema_error(format!("{v} is not of type 'object'")));
    };
    let url = match obj.get("url") {
        Some(Value::String(u)) => u.clone(),
        Some(other) => return Err(schema_error(format!("{other} is not of type 'string'"))),
        None => return Err(schema_error("'url' is a required property")),
    };
    let validation = obj
        .get("validation_data")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let Value::Object(vd) = &validation else {
        return Err(schema_error(format!(
            "{validation} is not of type 'object'"
        )));
    };
    for key in vd.keys() {
        if key != "os_hash_algo" && key != "os_hash_value" {
            return Err(schema_error(format!(
                "Additional properties are not allowed ('{key}' was unexpected)"
            )));
        }
    }
    let text = |k: &str, max: usize| -> Result<Option<String>> {
        match vd.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
            Some(Value::String(s)) => Err(schema_error(format!("'{s}' is too long"))),
            Some(other) => Err(schema_error(format!("{other} is not of type 'string'"))),
        }
    };
    let algo = text("os_hash_algo", 64)?;
    let value = text("os_hash_value", 128)?;
    if let Some(a) = &algo
        && !HASH_ALGOS.iter().any(|(n, _)| n == a)
    {
        return Err(schema_error(format!(
            "'{a}' is not one of ['sha1', 'sha256', 'sha512', 'md5']"
        )));
    }
    match (&algo, &value) {
        (Some(_), None) => Err(schema_error(
            "'os_hash_value' is a dependency of 'os_hash_algo'",
        )),
        (None, Some(_)) => Err(schema_error(
            "'os_hash_algo' is a dependency of 'os_hash_value'",
        )),
        _ => Ok(AddBody {
            url,
            algo,
            value,
            validation,
        }),
    }
}

/// Whether the caller holds the service role (the service API's policy: it or admin).
fn is_service(who: &Identity) -> bool {
    who.roles.iter().any(|r| r == "service")
}

impl Model {
    /// Whether an http store is configured for `url`, as the reference decides it: the URL
    /// starts `http`, and a store of type http is among the stores (without stores, the
    /// default store list has one).
    pub(crate) fn http_store_for(&self, url: &str) -> bool {
        let d = &self.rules.deployment;
        url.starts_with("http") && (d.stores.is_empty() || d.stores.iter().any(|s| s.read_only))
    }

    /// The id of the store an http location belongs to (the first http store), if stores
    /// are configured.
    pub(crate) fn http_store_id(&self) -> Option<String> {
        let d = &self.rules.deployment;
        d.stores.iter().find(|s| s.read_only).map(|s| s.id.clone())
    }

    /// `GET /v2/images/{image_id}/locations`: an image the caller sees (404), for the
    /// service role or admins (403), its locations as `url` and `metadata`.
    pub fn image_locations(&self, who: &Identity, image_id: &str) -> Result<Value> {
        let image = self.visible_image(who, image_id)?;
        if !(who.is_admin() || is_service(who)) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete fetch_image_location action.",
            ));
        }
        Ok(Value::Array(self.all_locations(image, true)))
    }

    /// `POST /v2/images/{image_id}/locations`, checked in the reference's order: the body
    /// (400), the image seen (404), `queued` (409), the policy (the service role, an admin,
    /// or a member of the owning project: 403), an http store for the URL unless the caller
    /// has the service role (403), the `os_hash_value`'s form (400), the import filter for
    /// an http(s) URL (400), the image's import lock (409). Then a `location_import` task,
    /// `processing`, holds the lock: the job to fetch (none when the URL cannot be fetched,
    /// and the task has failed already).
    pub fn add_location(
        &mut self,
        who: &Identity,
        image_id: &str,
        body: &[u8],
        request_id: &str,
    ) -> Result<Option<Fetch>> {
        let req = parse_add(body)?;
        let image = self.visible_image(who, image_id)?;
        if image.status != ImageStatus::Queued {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!(
                    "It's not allowed to add locations if image status is {}.",
                    image.status.as_str()
                ),
            ));
        }
        let member_of_owner =
            who.roles.iter().any(|r| r == "member") && who.project_id == image.owner;
        if !(who.is_admin() || is_service(who) || member_of_owner) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete add_image_location action.",
            ));
        }
        if !is_service(who) && !self.http_store_for(&req.url) {
            return Err(ApiError::forbidden(
                "http store must be enabled to use location API by normal user.",
            ));
        }
        if let Some(value) = &req.value {
            let algo = req.algo.as_deref().unwrap_or("sha512");
            let Ok(bytes) = hex::decode(value) else {
                return Err(ApiError::bad_request(format!(
                    "os_hash_value ({value}) is not a valid hexadecimal value"
                )));
            };
            let want = HASH_ALGOS
                .iter()
                .find(|(n, _)| *n == algo)
                .map_or(64, |a| a.1);
            if bytes.len() != want {
                return Err(ApiError::bad_request(format!(
                    "os_hash_value: ({value}) is not the correct size for ({algo}) (should be ({want}) bytes)"
                )));
            }
        }
        let scheme = url::Url::parse(&req.url)
            .map(|u| u.scheme().to_string())
            .unwrap_or_default();
        let web = scheme == "http" || scheme == "https";
        let source = source_of(&self.rules.deployment.import_filter, &req.url);
        if web && source.is_none() {
            return Err(ApiError::bad_request(format!(
                "URI for add location does not pass filtering: {}",
                req.url
            )));
        }
        if image.extra.contains_key("os_glance_import_task") {
            return Err(ApiError::new(ErrorKind::Conflict, "Image has active task"));
        }
        let id = image.id.clone();
        let now = (self.clock)();
        let task_id = uuid::Uuid::new_v4().to_string();
        let fetchable = source.filter(|_| web && self.http_store_for(&req.url));
        self.state.insert_task(Task {
            id: task_id.clone(),
            kind: "location_import".into(),
            status: if fetchable.is_some() {
                "processing"
            } else {
                "failure"
            },
            input: json!({"image_id": id, "loc_url": req.url, "validation_data": req.validation}),
            owner: who.project_id.clone(),
            user_id: who.user_id.clone(),
            message: if fetchable.is_some() {
                String::new()
            } else {
                IMPORT_FAILED.into()
            },
            result: Value::Null,
            request_id: Some(request_id.to_string()).filter(|r| !r.is_empty()),
            created_at: now.clone(),
            updated_at: now.clone(),
            seq: 0,
        });
        let Some(source) = fetchable else {
            return Ok(None);
        };
        if let Some(img) = self.state.image_mut(&id) {
            img.extra
                .insert("os_glance_import_task".into(), task_id.clone().into());
            img.updated_at = now;
        }
        self.state.touch(&id);
        let d = &self.rules.deployment;
        Ok(Some(Fetch {
            image_id: id,
            task_id,
            url: req.url,
            host: source.host,
            port: source.port,
            addresses: source.addresses,
            blob: self.state.new_blob(),
            limit: d.image_size_cap,
            timeout_secs: d.web_download_timeout,
            location: Some(LocationJob {
                hash_algo: req.algo.unwrap_or_else(|| "sha512".into()),
                expected: req.value.map(|v| v.to_ascii_lowercase()),
            }),
        }))
    }

    /// The fetch of a location's job ended: `Ok` with what the data showed, or `Err` (why:
    /// the URL could not be read). Read, the location is the image's (it stays even if the
    /// hash then does not match: the http store cannot delete it, as in the reference); a
    /// hash matching the `validation_data` (or none given) makes the image `active` with the
    /// size and digests, and the task succeeds; otherwise the task fails and the image stays
    /// `queued`. The lock goes either way. The mock keeps no copy of the data.
    pub fn finish_location(&mut self, job: &Fetch, got: std::result::Result<Fetched, String>) {
        let Some(loc) = job.location.as_ref() else {
            return;
        };
        let Some(mut task) = self.state.task(&job.task_id).cloned() else {
            return;
        };
        if task.status != "processing" {
            return;
        }
        let now = (self.clock)();
        task.updated_at = now.clone();
        let store = self.http_store_id();
        let owns_lock = self.state.image(&job.image_id).is_some_and(|i| {
            i.status == ImageStatus::Queued
                && i.extra.get("os_glance_import_task") == Some(&json!(job.task_id))
        });
        let mut succeeded = false;
        if owns_lock && let Some(img) = self.state.image_mut(&job.image_id) {
            img.extra.remove("os_glance_import_task");
            if let Some(f) = got.as_ref().ok().filter(|f| f.size > 0) {
                let mut metadata = Map::new();
                if let Some(s) = store {
                    metadata.insert("store".into(), s.into());
                }
                let link = Link {
                    url: job.url.clone(),
                    metadata,
                };
                if !img.links.contains(&link) {
                    img.links.push(link);
                }
                if loc.expected.as_ref().is_none_or(|e| *e == f.hash) {
                    img.status = ImageStatus::Active;
                    img.link_data = Some(LinkData {
                        size: Some(f.size),
                        checksum: Some(f.checksum.clone()),
                        os_hash_algo: Some(loc.hash_algo.clone()),
                        os_hash_value: Some(f.hash.clone()),
                    });
                    succeeded = true;
                }
            }
            img.updated_at = now;
        }
        if owns_lock {
            self.state.touch(&job.image_id);
        }
        if succeeded {
            task.status = "success";
            task.result = json!({"image_id": job.image_id});
        } else {
            task.status = "failure";
            task.message = IMPORT_FAILED.into();
        }
        self.state.update_task(task);
    }
}

/// Where the mock may read a location URL of a patch: the URL, host, port and addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadTarget {
    /// The URL.
    pub url: String,
    /// Its host (a name, or an address without brackets).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The addresses the host may be reached at.
    pub addresses: Vec<std::net::IpAddr>,
}

impl Model {
    /// The location URLs of a patch document the http store would read (http or https,
    /// an http store configured, passing the import filter): the mock asks their size
    /// (`HEAD`) before the patch is answered, and hands the sizes back as [`super::Heads`].
    pub fn head_targets(&self, content_type: Option<&str>, body: &[u8]) -> Vec<HeadTarget> {
        if !self.rules.deployment.show_multiple_locations {
            return Vec::new();
        }
        super::patch::patched_location_urls(content_type, body)
            .into_iter()
            .filter(|u| {
                self.http_store_for(u) && (u.starts_with("http:") || u.starts_with("https:"))
            })
            .filter_map(|url| {
                let s = source_of(&self.rules.deployment.import_filter, &url)?;
                Some(HeadTarget {
                    url,
                    host: s.host,
                    port: s.port,
                    addresses: s.addresses,
                })
            })
            .collect()
    }
}
