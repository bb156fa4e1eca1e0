//! Tasks (`/v2/tasks`): the reference's older, deprecated way to import an image, open to
//! admins only (its `tasks_api_access` policy). A task is created `pending` and runs on its
//! own; the mock fetches nothing from other servers, so every task it accepts ends in
//! `failure` with a message saying so, as a task whose source cannot be reached does on the
//! reference.

use serde_json::{Map, Value, json};

use super::{ApiError, Identity, ImportFilter, Model, Result};

/// The task types the reference's task schema allows.
pub const TASK_TYPES: &[&str] = &["import", "api_image_import", "location_import"];

/// Task statuses, in the order a task passes them.
pub const TASK_STATUSES: &[&str] = &["pending", "processing", "success", "failure"];

/// Keys tasks can be sorted by.
const SORT_KEYS: &[&str] = &["created_at", "updated_at", "id", "type", "status", "owner"];

/// Why every task the mock accepts fails.
pub const NO_FETCH: &str =
    "The task could not fetch its data: this server makes no requests to other servers.";

/// One task.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// UUID.
    pub id: String,
    /// One of [`TASK_TYPES`].
    #[serde(rename = "type")]
    pub kind: String,
    /// One of [`TASK_STATUSES`].
    #[serde(with = "status_name")]
    pub status: Status,
    /// The `input` object the task was created with.
    pub input: Value,
    /// The project that created it.
    pub owner: String,
    /// The user that created it.
    pub user_id: String,
    /// Why it failed (empty while it runs).
    pub message: String,
    /// What it produced (`null` until it succeeds).
    pub result: Value,
    /// The request that started it (an image import's), if any.
    pub request_id: Option<String>,
    /// When it was created and last changed.
    pub created_at: String,
    pub updated_at: String,
    /// Its place in the order tasks were created.
    #[serde(rename = "created_order", default)]
    pub(crate) seq: u64,
}

/// One of [`TASK_STATUSES`] (named, so serde does not take the field for text borrowed from
/// the input).
pub type Status = &'static str;

/// A task status as text, read back as one of [`TASK_STATUSES`].
mod status_name {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(status: &&'static str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(status)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
        let text = String::deserialize(d)?;
        super::TASK_STATUSES
            .iter()
            .find(|s| **s == text)
            .copied()
            .ok_or_else(|| serde::de::Error::custom(format!("unknown task status `{text}`")))
    }
}

/// The reference's default `task_time_to_live`, in hours.
pub const TASK_TIME_TO_LIVE_HOURS: u64 = 48;

impl Task {
    /// The task as `GET /v2/tasks/{id}` shows it.
    pub fn to_json(&self) -> Value {
        let mut v = self.stub();
        v["input"] = self.input.clone();
        v["message"] = self.message.clone().into();
        v["result"] = self.result.clone();
        v["user_id"] = self.user_id.clone().into();
        if let Some(id) = &self.request_id {
            v["request_id"] = id.clone().into();
        }
        if let Some(image) = self.input.get("image_id").filter(|i| i.is_string()) {
            v["image_id"] = image.clone();
        }
        v
    }

    /// The task as the list shows it: no input, message or result.
    pub fn stub(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "type": self.kind,
            "status": self.status,
            "owner": self.owner,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "self": format!("/v2/tasks/{}", self.id),
            "schema": "/v2/schemas/task",
        });
        if let Some(at) = self.expires_at() {
            v["expires_at"] = at.into();
        }
        v
    }

    /// When a finished task (success or failure) is removed: the reference's
    /// `task_time_to_live` after it finished (its last change); none while it runs.
    pub fn expires_at(&self) -> Option<String> {
        if !matches!(self.status, "success" | "failure") {
            return None;
        }
        let finished = humantime::parse_rfc3339_weak(&self.updated_at).ok()?;
        let at = finished + std::time::Duration::from_secs(TASK_TIME_TO_LIVE_HOURS * 3600);
        Some(humantime::format_rfc3339_seconds(at).to_string())
    }
}

/// One page of the task list.
#[derive(Debug)]
pub struct TaskPage<'a> {
    /// The tasks of this page.
    pub tasks: Vec<&'a Task>,
    /// The marker of the next page, when this one is full.
    pub next_marker: Option<&'a str>,
}

fn access(who: &Identity) -> Result<()> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "You are not authorized to complete tasks_api_access action.",
        ))
    }
}

/// The body of a task create, checked in the reference's order: an object with `type` and
/// `input`, a known type, an object input.
fn parse_create(body: &[u8]) -> Result<(String, Map<String, Value>)> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(ApiError::bad_request("Malformed JSON in request body."));
    };
    for key in ["type", "input"] {
        if !obj.contains_key(key) {
            return Err(ApiError::bad_request(format!("Task '{key}' is required")));
        }
    }
    let kind = match obj.remove("type") {
        Some(Value::String(t)) if TASK_TYPES.contains(&t.as_str()) => t,
        other => {
            return Err(ApiError::bad_request(format!(
                "The task type {} is not one of {}.",
                other.unwrap_or(Value::Null),
                TASK_TYPES.join(", ")
            )));
        }
    };
    match obj.remove("input") {
        Some(Value::Object(input)) => Ok((kind, input)),
        Some(Value::Null) => Ok((kind, Map::new())),
        _ => Err(ApiError::bad_request(
            "The task input must be a JSON object or null.",
        )),
    }
}

/// Whether a source URL passes the import filter, as the reference reads it: the scheme,
/// then the host (an address in its usual form, a name as written; a host of digits and
/// dots that is no full address, such as `127.1` or `2130706433`, never passes), then the
/// port written in the URL, if any.
pub(crate) fn uri_passes(filter: &ImportFilter, uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if !filter.scheme_passes(url.scheme()) {
        return false;
    }
    let Some((host, port)) = authority(uri) else {
        return false;
    };
    let Some(host) = normalized_host(&host) else {
        return false;
    };
    filter.host_passes(&host) && filter.port_passes(port)
}

/// The host and the port as written in `uri` (the url crate drops a scheme's default port,
/// the reference does not).
pub(super) fn authority(uri: &str) -> Option<(String, Option<u16>)> {
    let rest = uri.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let (host, port) = match auth.strip_prefix('[') {
        Some(inner) => {
            let (h, after) = inner.split_once(']')?;
            (format!("[{h}]"), after.strip_prefix(':'))
        }
        None => match auth.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (auth.to_string(), None),
        },
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(p.parse().ok()?),
    };
    Some((host, port))
}

pub(super) fn normalized_host(host: &str) -> Option<String> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().ok().map(|a| a.to_string());
    }
    if let Ok(a) = host.parse::<std::net::Ipv4Addr>() {
        return Some(a.to_string());
    }
    if host.is_empty() || host.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

/// The legacy import's `import_from`: an http(s) URL that passes the import filter and
/// whose host may be fetched from (not loopback or link-local).
fn check_import_from(input: &Map<String, Value>, filter: &ImportFilter) -> Result<()> {
    let from = input
        .get("import_from")
        .and_then(Value::as_str)
        .unwrap_or("");
    if from.is_empty() {
        return Err(ApiError::bad_request(format!("Invalid location: {from}")));
    }
    if from.starts_with("file:///") || from.starts_with("filesystem:///") {
        return Err(ApiError::bad_request(
            "File based imports are not allowed. Give a source of image data on another server.",
        ));
    }
    let Ok(url) = url::Url::parse(from) else {
        return Err(ApiError::bad_request(format!(
            "The URL {from} is not valid."
        )));
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(
            "The URL is not valid: only http and https sources are supported.",
        ));
    }
    let refused = || {
        ApiError::bad_request(format!(
            "URI for legacy import task does not pass filtering: {from}"
        ))
    };
    // A loopback or link-local host passes only when `allowed_hosts` names it, as for
    // web-download (a cloud may admit a local source on purpose).
    let listed = url.host_str().is_some_and(|h| {
        filter
            .allowed_hosts
            .iter()
            .any(|a| a == h.trim_matches(['[', ']']))
    });
    let host_ok = listed
        || match url.host() {
            Some(url::Host::Ipv4(ip)) => !(ip.is_loopback() || ip.is_link_local()),
            Some(url::Host::Ipv6(ip)) => {
                !(ip.is_loopback() || (ip.segments()[0] & 0xffc0) == 0xfe80)
            }
            // Numeric hosts (`127.1`, `2130706433`) were parsed as IPv4 addresses above.
            Some(url::Host::Domain(_)) => true,
            None => false,
        };
    if host_ok && uri_passes(filter, from) {
        Ok(())
    } else {
        Err(refused())
    }
}

impl Model {
    /// `POST /v2/tasks`: an admin creates a task; the answer shows it `pending` (its place
    /// in the order of tasks is set where it is stored), and the mock then fails it at once
    /// ([`NO_FETCH`]).
    /// `request_id` is the request's `x-openstack-request-id` (empty: none), which the task
    /// records, as the reference's do.
    pub fn create_task(&mut self, who: &Identity, body: &[u8], request_id: &str) -> Result<Task> {
        access(who)?;
        let (kind, input) = parse_create(body)?;
        if kind == "import" {
            check_import_from(&input, &self.rules.deployment.import_filter)?;
        }
        let now = (self.clock)();
        let task = Task {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            status: "pending",
            input: Value::Object(input),
            owner: who.project_id.clone(),
            user_id: who.user_id.clone(),
            message: String::new(),
            result: Value::Null,
            request_id: Some(request_id.to_string()).filter(|r| !r.is_empty()),
            created_at: now.clone(),
            updated_at: now,
            seq: 0,
        };
        let stored = Task {
            status: "failure",
            message: NO_FETCH.into(),
            ..task.clone()
        };
        self.state.insert_task(stored);
        Ok(task)
    }

    /// `GET /v2/tasks/{task_id}`: for admins, any task.
    pub fn show_task(&self, who: &Identity, task_id: &str) -> Result<&Task> {
        access(who)?;
        self.state
            .task(task_id)
            .ok_or_else(|| ApiError::not_found(format!("Could not find task {task_id}")))
    }

    /// `GET /v2/tasks`: one page of tasks, newest first unless `sort_key`/`sort_dir` say
    /// otherwise, filtered by `status` and `type`; `limit` and `marker` as for images.
    pub fn list_tasks<'a>(
        &'a self,
        who: &Identity,
        query: &[(String, String)],
    ) -> Result<TaskPage<'a>> {
        access(who)?;
        let q = TaskQuery::parse(query)?;
        let mut all: Vec<&Task> = self
            .state
            .tasks()
            .filter(|t| q.status.as_ref().is_none_or(|s| t.status == s))
            .filter(|t| q.kind.as_ref().is_none_or(|k| &t.kind == k))
            .collect();
        all.sort_by(|a, b| q.cmp(a, b));
        let start = match &q.marker {
            None => 0,
            Some(m) => {
                let Some(marker) = self.state.task(m) else {
                    return Err(ApiError::bad_request(format!(
                        "Task with the given id {m} was not found"
                    )));
                };
                all.iter()
                    .position(|t| q.cmp(t, marker) == std::cmp::Ordering::Greater)
                    .unwrap_or(all.len())
            }
        };
        let limit = q
            .limit
            .unwrap_or(super::DEFAULT_LIMIT)
            .min(super::MAX_LIMIT);
        let end = start.saturating_add(limit).min(all.len());
        let full = end > start && end - start == limit;
        Ok(TaskPage {
            next_marker: full.then(|| all[end - 1].id.as_str()),
            tasks: all[start..end].to_vec(),
        })
    }
}

/// The task list's query, checked as the reference does.
struct TaskQuery {
    status: Option<String>,
    kind: Option<String>,
    sort_key: String,
    descending: bool,
    marker: Option<String>,
    limit: Option<usize>,
}

impl TaskQuery {
    fn parse(query: &[(String, String)]) -> Result<TaskQuery> {
        let get = |k: &str| query.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v);
        let dir = get("sort_dir").map_or("desc", String::as_str);
        if !matches!(dir, "asc" | "desc") {
            return Err(ApiError::bad_request(format!(
                "Invalid sort direction: {dir}"
            )));
        }
        let sort_key = get("sort_key").map_or("created_at", String::as_str);
        if !SORT_KEYS.contains(&sort_key) {
            return Err(ApiError::bad_request("Sort key supplied was not valid."));
        }
        let marker = get("marker").cloned();
        if marker
            .as_deref()
            .is_some_and(|m| uuid::Uuid::parse_str(m).is_err())
        {
            return Err(ApiError::bad_request("Invalid marker format"));
        }
        let limit = match get("limit") {
            None => None,
            Some(l) => match l.parse::<i64>() {
                Err(_) => return Err(ApiError::bad_request("limit param must be an integer")),
                Ok(n) if n < 0 => {
                    return Err(ApiError::bad_request("limit param must be positive"));
                }
                Ok(n) => Some(n as usize),
            },
        };
        let status = get("status").cloned();
        if let Some(s) = &status
            && !TASK_STATUSES.contains(&s.as_str())
        {
            return Err(ApiError::bad_request(format!("Invalid status value: {s}")));
        }
        let kind = get("type").cloned();
        if let Some(k) = &kind
            && k != "import"
        {
            return Err(ApiError::bad_request(format!("Invalid type value: {k}")));
        }
        Ok(TaskQuery {
            status,
            kind,
            sort_key: sort_key.to_string(),
            descending: dir == "desc",
            marker,
            limit,
        })
    }

    /// The list order: the sort key, then creation order, reversed when descending.
    fn cmp(&self, a: &Task, b: &Task) -> std::cmp::Ordering {
        let key = |t: &Task| -> (String, u64) {
            let k = match self.sort_key.as_str() {
                "updated_at" => t.updated_at.clone(),
                "id" => t.id.clone(),
                "type" => t.kind.clone(),
                "status" => t.status.to_string(),
                "owner" => t.owner.clone(),
                _ => String::new(),
            };
            (k, t.seq)
        };
        let order = key(a).cmp(&key(b));
        if self.descending {
            order.reverse()
        } else {
            order
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(url: &str) -> std::result::Result<(), u16> {
        let mut input = Map::new();
        input.insert("import_from".into(), url.into());
        check_import_from(&input, &ImportFilter::default()).map_err(|e| e.kind.status())
    }

    #[test]
    fn the_import_filter_passes_remote_http_on_80_and_443_only() {
        for ok in [
            "http://192.0.2.1/x.img",
            "https://192.0.2.1:443/x",
            "http://10.0.0.1:80/x",
            "http://images.example.org/x",
            "http://[2001:db8::1]/x",
        ] {
            assert_eq!(from(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "file:///etc/passwd",
            "ftp://192.0.2.1/x",
            "http://127.0.0.1/x",
            "http://127.1/x",
            "http://2130706433/x",
            "http://169.254.169.254/latest",
            "http://[::1]/x",
            "http://[fe80::1]/x",
            "http://192.0.2.1:8080/x",
            "not a url",
        ] {
            assert_eq!(from(bad), Err(400), "{bad}");
        }
    }

    #[test]
    fn task_bodies_are_read_in_the_reference_order() {
        let status = |b: &str| parse_create(b.as_bytes()).unwrap_err().kind.status();
        assert_eq!(status("[]"), 400);
        assert_eq!(status(r#"{"input": {}}"#), 400);
        assert_eq!(status(r#"{"type": "import"}"#), 400);
        assert_eq!(status(r#"{"type": "export", "input": {}}"#), 400);
        assert_eq!(status(r#"{"type": "import", "input": "x"}"#), 400);
        let (kind, input) = parse_create(br#"{"type": "location_import", "input": null}"#).unwrap();
        assert_eq!((kind.as_str(), input.len()), ("location_import", 0));
    }

    #[test]
    fn a_task_records_its_request_and_expires_once_finished() {
        let (mut m, admin) = admin_model();
        m.set_clock(|| "2026-01-01T10:00:00Z".into());
        let body = br#"{"type": "import", "input": {"import_from": "http://192.0.2.1/x", "import_from_format": "raw"}}"#;
        let created = m.create_task(&admin, body, "req-abc").unwrap();
        let answer = created.to_json();
        assert_eq!(answer["request_id"], "req-abc");
        assert_eq!(answer["user_id"], admin.user_id.as_str());
        // Pending when answered: no expiry yet.
        assert!(answer.get("expires_at").is_none());
        // Failed at once: it expires two days after it finished, in the show and the list.
        let shown = m.show_task(&admin, &created.id).unwrap().to_json();
        assert_eq!(shown["status"], "failure");
        assert_eq!(shown["expires_at"], "2026-01-03T10:00:00Z");
        let stub = m.show_task(&admin, &created.id).unwrap().stub();
        assert_eq!(stub["expires_at"], "2026-01-03T10:00:00Z");
        let none = m.create_task(&admin, body, "").unwrap();
        assert!(none.to_json().get("request_id").is_none());
    }

    fn admin_model() -> (Model, Identity) {
        let m = Model::new(
            super::super::Identities::builtin(),
            super::super::Rules::default(),
        );
        let admin = m.authenticate(Some("admin-token")).unwrap().clone();
        (m, admin)
    }

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tasks_are_answered_pending_then_kept_failed_and_listed_in_pages() {
        let (mut m, admin) = admin_model();
        let body = br#"{"type": "import", "input": {"import_from": "http://192.0.2.1/x"}}"#;
        let made: Vec<Task> = (0..3)
            .map(|_| m.create_task(&admin, body, "").unwrap())
            .collect();
        assert!(
            made.iter()
                .all(|t| t.status == "pending" && t.message.is_empty())
        );
        let shown = m.show_task(&admin, &made[0].id).unwrap();
        assert_eq!(
            (shown.status, shown.message.as_str()),
            ("failure", NO_FETCH)
        );
        let owner = m.authenticate(Some("owner-token")).unwrap().clone();
        assert_eq!(
            m.show_task(&owner, &made[0].id).unwrap_err().kind.status(),
            403
        );
        assert_eq!(m.show_task(&admin, "nope").unwrap_err().kind.status(), 404);

        let ids = |p: TaskPage| p.tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
        let newest_first: Vec<String> = made.iter().rev().map(|t| t.id.clone()).collect();
        assert_eq!(ids(m.list_tasks(&admin, &[]).unwrap()), newest_first);
        // Pages of two: the second starts after the marker and is not full.
        let first = m.list_tasks(&admin, &query(&[("limit", "2")])).unwrap();
        let marker = first.next_marker.unwrap().to_string();
        assert_eq!(marker, newest_first[1]);
        let second = m
            .list_tasks(&admin, &query(&[("limit", "2"), ("marker", &marker)]))
            .unwrap();
        assert_eq!(second.next_marker, None);
        assert_eq!(ids(second), [newest_first[2].clone()]);
        let rest = m
            .list_tasks(
                &admin,
                &query(&[("limit", "1"), ("marker", &newest_first[1])]),
            )
            .unwrap();
        assert_eq!(rest.next_marker, Some(newest_first[2].as_str()));
        let none = m.list_tasks(&admin, &query(&[("limit", "0")])).unwrap();
        assert!(none.tasks.is_empty() && none.next_marker.is_none());
        // Filters and sort keys.
        assert_eq!(
            m.list_tasks(&admin, &query(&[("type", "import")]))
                .unwrap()
                .tasks
                .len(),
            3
        );
        assert!(
            m.list_tasks(&admin, &query(&[("status", "pending")]))
                .unwrap()
                .tasks
                .is_empty()
        );
        assert_eq!(
            m.list_tasks(&admin, &query(&[("status", "failure")]))
                .unwrap()
                .tasks
                .len(),
            3
        );
        let mut by_id: Vec<String> = made.iter().map(|t| t.id.clone()).collect();
        by_id.sort();
        let sorted = m
            .list_tasks(&admin, &query(&[("sort_key", "id"), ("sort_dir", "asc")]))
            .unwrap();
        assert_eq!(ids(sorted), by_id);
        let status =
            |q: &[(&str, &str)]| m.list_tasks(&admin, &query(q)).unwrap_err().kind.status();
        assert_eq!(status(&[("limit", "-1")]), 400);
        assert_eq!(
            status(&[("marker", "00000000-0000-4000-8000-000000000000")]),
            400
        );
        assert_eq!(m.list_tasks(&owner, &[]).unwrap_err().kind.status(), 403);
    }
}
