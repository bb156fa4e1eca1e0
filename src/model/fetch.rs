//! The web-download import, the model's side: the source checked as the reference checks it
//! (the import filter, then where the host leads), the import started (the image
//! `importing`, its `api_image_import` task `processing`) and handed to the mock as a
//! [`Fetch`], a job: the model has no HTTP, so the mock fetches the bytes into the blob store
//! and ends the job with [`Model::finish_fetch`], which makes the image `active` in the
//! stores asked for, or fails the task and puts the image back to `queued`.
//!
//! The mock resolves no names: a source's host is an address, or `localhost` (the loopback
//! addresses); any other name counts as one that does not resolve, which the reference
//! refuses like a filtered source. As the reference does, loopback and link-local addresses
//! are refused unless `allowed_hosts` lists the host, and addresses `disallowed_hosts` lists
//! are left out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value, json};

use super::data::{ImageData, ImageStatus, Received};
use super::deployment::ImportFilter;
use super::landing::Landing;
use super::tasks::{Task, authority, normalized_host};
use super::{Identity, Model};

/// The message of a failed import task, whatever went wrong (the reference gives no more).
pub const IMPORT_FAILED: &str = "Task failed due to Internal Error";

/// A web-download the mock has to fetch: the source, where it may connect, the blob the
/// bytes go to and the bounds on them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetch {
    /// The image being imported.
    pub image_id: String,
    /// Its `api_image_import` task.
    pub task_id: String,
    /// The source, as the client gave it.
    pub url: String,
    /// The source's host (a name, or an address without brackets).
    pub host: String,
    /// The port to connect to (the URL's, else the scheme's).
    pub port: u16,
    /// The addresses the host may be reached at (connections go to these only).
    pub addresses: Vec<IpAddr>,
    /// The blob key the bytes go to.
    pub blob: u64,
    /// The most bytes the data may have (`image_size_cap`).
    pub limit: u64,
    /// How long the fetch may take, in seconds.
    pub timeout_secs: u64,
    /// A location's job (`POST /v2/images/{id}/locations`) rather than a web-download's.
    pub location: Option<super::location_api::LocationJob>,
}

/// Where a web-download source may be fetched from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Source {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) addresses: Vec<IpAddr>,
}

/// The addresses a name stands for without asking DNS: `localhost` is loopback, any other
/// name resolves to nothing.
fn resolve(name: &str) -> Vec<IpAddr> {
    match name.trim_end_matches('.') {
        "localhost" => vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ],
        _ => Vec::new(),
    }
}

/// Loopback or link-local (an IPv4 address mapped into IPv6 counts as itself).
fn internal(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.is_loopback() || v4.is_link_local(),
            None => a.is_loopback() || (a.segments()[0] & 0xffc0) == 0xfe80,
        },
    }
}

/// Where a web-download from `uri` may connect, as the reference decides it: the scheme,
/// the host (an address in its usual form; a name must resolve), the port written in the
/// URL against the filter; then the host's addresses, loopback and link-local ones left out
/// unless `allowed_hosts` names the host, and those `disallowed_hosts` lists left out; none
/// left refuses the source.
pub(crate) fn source_of(filter: &ImportFilter, uri: &str) -> Option<Source> {
    let url = url::Url::parse(uri).ok()?;
    if !filter.scheme_passes(url.scheme()) {
        return None;
    }
    let (written, port) = authority(uri)?;
    let host = normalized_host(&written)?;
    let addresses = match host.parse::<IpAddr>() {
        Ok(a) => vec![a],
        Err(_) => resolve(&host),
    };
    if addresses.is_empty() || !filter.host_passes(&host) || !filter.port_passes(port) {
        return None;
    }
    let listed = filter.allowed_hosts.contains(&host);
    let disallowed: &[String] = if filter.allowed_hosts.is_empty() {
        &filter.disallowed_hosts
    } else {
        &[]
    };
    let blocked = |a: &IpAddr| {
        disallowed
            .iter()
            .any(|b| *b != host && (b.parse::<IpAddr>().ok() == Some(*a) || *b == a.to_string()))
    };
    let addresses: Vec<IpAddr> = addresses
        .into_iter()
        .filter(|a| listed || (!internal(a) && !blocked(a)))
        .collect();
    if addresses.is_empty() {
        return None;
    }
    let port = port.unwrap_or(if url.scheme() == "https" { 443 } else { 80 });
    Some(Source {
        host,
        port,
        addresses,
    })
}

/// The stores a task's input names in `backend` (`None`: `[null]`, no stores configured).
fn backend_of(task: &Task) -> Option<Vec<String>> {
    let ids = task.input.get("backend")?.as_array()?;
    ids.iter().map(|s| s.as_str().map(str::to_string)).collect()
}

impl Model {
    /// The web-download is accepted: its task, `processing`, is stored; the image turns
    /// `importing` toward `targets`, holding the task's id in `os_glance_import_task`
    /// (the reference's lock); the job says what to fetch into which blob.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_fetch(
        &mut self,
        who: &Identity,
        image_id: &str,
        import_req: Map<String, Value>,
        request_id: &str,
        targets: Option<Vec<String>>,
        source: Source,
        url: String,
    ) -> Fetch {
        let now = (self.clock)();
        let task_id = uuid::Uuid::new_v4().to_string();
        let backend = match &targets {
            Some(t) => json!(t),
            None => json!([null]),
        };
        self.state.insert_task(Task {
            id: task_id.clone(),
            kind: "api_image_import".into(),
            status: "processing",
            input: json!({"image_id": image_id, "import_req": import_req, "backend": backend}),
            owner: who.project_id.clone(),
            user_id: who.user_id.clone(),
            message: String::new(),
            result: Value::Null,
            request_id: Some(request_id.to_string()).filter(|r| !r.is_empty()),
            created_at: now.clone(),
            updated_at: now.clone(),
            seq: 0,
        });
        if let Some(img) = self.state.image_mut(image_id) {
            img.status = ImageStatus::Importing;
            img.extra
                .insert("os_glance_import_task".into(), task_id.clone().into());
            img.extra.insert(
                "os_glance_importing_to_stores".into(),
                targets.unwrap_or_default().join(",").into(),
            );
            img.extra
                .insert("os_glance_failed_import".into(), "".into());
            img.updated_at = now;
        }
        self.state.touch(image_id);
        let d = &self.rules.deployment;
        Fetch {
            image_id: image_id.to_string(),
            task_id,
            url,
            host: source.host,
            port: source.port,
            addresses: source.addresses,
            blob: self.state.new_blob(),
            limit: d.image_size_cap,
            timeout_secs: d.web_download_timeout,
            location: None,
        }
    }

    /// The fetch of `job` ended: with the bytes in its blob, digested (`Ok`), or not
    /// (`Err`, why). Data within `image_size_cap` that passes the format check lands in the
    /// task's stores (read-only ones refuse it, as for any import) and the image turns
    /// `active`; otherwise the task fails and the image goes back to `queued`, every store
    /// asked for listed in `os_glance_failed_import`. Whether the blob is now the image's:
    /// if not, the caller drops it. A job whose task is no longer running (the image was
    /// deleted, the server restarted) changes nothing but its task.
    pub fn finish_fetch(&mut self, job: &Fetch, got: Result<Received, String>) -> bool {
        let Some(mut task) = self.state.task(&job.task_id).cloned() else {
            return false;
        };
        if task.status != "processing" {
            return false;
        }
        let running = self.state.image(&job.image_id).is_some_and(|i| {
            i.status == ImageStatus::Importing
                && i.extra.get("os_glance_import_task") == Some(&json!(job.task_id))
        });
        let now = (self.clock)();
        task.updated_at = now.clone();
        if !running {
            task.status = "failure";
            task.message = IMPORT_FAILED.into();
            self.state.update_task(task);
            return false;
        }
        let targets = backend_of(&task);
        let all_must = task.input["import_req"]
            .get("all_stores_must_succeed")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let landing = Landing::of(&self.rules.deployment, targets.clone(), all_must);
        let (disk, container) = self
            .state
            .image(&job.image_id)
            .map(|i| (i.disk_format.clone(), i.container_format.clone()))
            .unwrap_or_default();
        let required = self.rules.deployment.require_image_format_match;
        let judged = got.ok().filter(|r| r.size <= job.limit).and_then(|r| {
            let virtual_size =
                super::format::judge(disk.as_deref(), container.as_deref(), &r, required).ok()?;
            Some((r, virtual_size))
        });
        let lands = !landing.task_failed && (targets.is_none() || !landing.written.is_empty());
        let kept = match judged.filter(|_| lands) {
            Some((r, virtual_size)) => {
                let data = ImageData {
                    size: r.size,
                    virtual_size,
                    checksum: r.checksum,
                    os_hash_value: r.os_hash_value,
                    blob: job.blob,
                    stores: landing.written.clone(),
                };
                task.status = "success";
                task.message = super::landing::copied(r.size);
                task.result = json!({"image_id": job.image_id});
                self.end_import(&job.image_id, Some(data), &landing.failed, &now);
                true
            }
            None => {
                let mut failed = if landing.task_failed {
                    landing.failed.clone()
                } else {
                    targets.unwrap_or_default()
                };
                failed.sort();
                task.status = "failure";
                task.message = IMPORT_FAILED.into();
                self.end_import(&job.image_id, None, &failed, &now);
                false
            }
        };
        self.state.update_task(task);
        kept
    }

    /// The import of `image_id` ends: with `data` the image turns `active`, without it back
    /// to `queued`; the lock goes, `os_glance_importing_to_stores` empties and
    /// `os_glance_failed_import` lists `failed`.
    fn end_import(
        &mut self,
        image_id: &str,
        data: Option<ImageData>,
        failed: &[String],
        now: &str,
    ) {
        if let Some(img) = self.state.image_mut(image_id) {
            img.status = if data.is_some() {
                ImageStatus::Active
            } else {
                ImageStatus::Queued
            };
            img.data = data;
            img.extra.remove("os_glance_import_task");
            img.extra
                .insert("os_glance_importing_to_stores".into(), "".into());
            img.extra
                .insert("os_glance_failed_import".into(), failed.join(",").into());
            img.updated_at = now.to_string();
        }
        self.state.touch(image_id);
    }

    /// After a restart: every web-download that was fetching when the server stopped fails,
    /// as one whose source broke off does (nothing resumes it; the reference would leave
    /// the image `importing` until its lock is taken over). How many there were.
    pub fn fail_interrupted_imports(&mut self) -> usize {
        let running: Vec<(String, Option<String>)> = self
            .state
            .images()
            .filter(|i| i.status == ImageStatus::Importing)
            .map(|i| {
                let task = i
                    .extra
                    .get("os_glance_import_task")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                (i.id.clone(), task)
            })
            .collect();
        for (image_id, task_id) in &running {
            let job = Fetch {
                image_id: image_id.clone(),
                task_id: task_id.clone().unwrap_or_default(),
                url: String::new(),
                host: String::new(),
                port: 0,
                addresses: Vec::new(),
                blob: 0,
                limit: 0,
                timeout_secs: 0,
                location: None,
            };
            self.finish_fetch(&job, Err("the server restarted".into()));
            // A lock naming no running task: the image goes back all the same.
            if self
                .state
                .image(image_id)
                .is_some_and(|i| i.status == ImageStatus::Importing)
            {
                let now = (self.clock)();
                self.end_import(image_id, None, &[], &now);
            }
        }
        let locating: Vec<(String, String)> = self
            .state
            .tasks()
            .filter(|t| t.kind == "location_import" && t.status == "processing")
            .filter_map(|t| Some((t.id.clone(), t.input.get("image_id")?.as_str()?.to_string())))
            .collect();
        for (task_id, image_id) in &locating {
            let job = Fetch {
                image_id: image_id.clone(),
                task_id: task_id.clone(),
                url: String::new(),
                host: String::new(),
                port: 0,
                addresses: Vec::new(),
                blob: 0,
                limit: 0,
                timeout_secs: 0,
                location: Some(super::location_api::LocationJob {
                    hash_algo: String::new(),
                    expected: None,
                }),
            };
            self.finish_location(&job, Err("the server restarted".into()));
        }
        running.len() + locating.len()
    }
}
