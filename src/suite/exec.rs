//! Running one case against a target over HTTP: set-up, the request, the checks, the
//! follow-ups, and the clean-up that runs whatever happened. Every request goes through the
//! case's own fork of the driver's [`Session`], which records it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::case::checks::Vars;
use super::case::{Case, Expect, ImageSetup, Request, Step};
use super::schema::Schema;
use crate::target::{Answer, Caller, CleanupError, Facts, Req, SendError, Sent, Session, excerpt};
pub use crate::target::{Exchange, Stage};

mod namespaces;

/// Which part of a case a set-up style call belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Creating images and memberships.
    Setup,
    /// Deleting what the case created.
    Cleanup,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Setup => "set-up",
            Phase::Cleanup => "clean-up",
        })
    }
}

/// Why a case failed: what was sent, what came back, what was expected.
#[derive(Debug, thiserror::Error)]
pub enum CaseFailure {
    /// A request could not be sent or its answer not read.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The run was interrupted before this case created anything.
    #[error("interrupted before set-up")]
    Interrupted,
    /// A step (before, the request, follow-up) was not answered as expected.
    #[error("{}", step_text(.label, .sent, .repeat, .problems, .body))]
    Step {
        /// `the request`, `before step 1 of 2`, …
        label: String,
        /// What was sent (the last attempt when repeated).
        sent: Sent,
        /// (max, until) when the request was repeated.
        repeat: Option<(u32, u16)>,
        /// Every expectation that failed.
        problems: Vec<String>,
        /// The answer's body.
        body: Vec<u8>,
    },
    /// A set-up or clean-up call answered another status than it must.
    #[error("{phase} failed: {what}: {sent}\n  expected status {}, got {got}\n  body: {}", or_list(.want), excerpt(.body))]
    Status {
        /// Set-up or clean-up.
        phase: Phase,
        /// What the call was for.
        what: String,
        /// What was sent.
        sent: Sent,
        /// The statuses it must answer.
        want: Vec<u16>,
        /// The status it answered.
        got: u16,
        /// The answer's body.
        body: Vec<u8>,
    },
    /// An image was created without an id in the answer.
    #[error("set-up failed: {what}: the 201 answer has no `id`: {}", excerpt(.body))]
    NoId {
        /// What the call was for.
        what: String,
        /// The answer's body.
        body: Vec<u8>,
    },
    /// Images the case made could not be deleted (one line each).
    #[error("{}", .0.iter().map(cleanup_text).collect::<Vec<_>>().join("\n"))]
    Cleanup(Vec<CleanupError>),
}

fn or_list(want: &[u16]) -> String {
    want.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn step_text(
    label: &str,
    sent: &Sent,
    repeat: &Option<(u32, u16)>,
    problems: &[String],
    body: &[u8],
) -> String {
    let mut msg = format!("{label}: {sent}\n");
    if let Some((max, until)) = repeat {
        msg.push_str(&format!("  (sent up to {max} times, until {until})\n"));
    }
    for p in problems {
        msg.push_str(&format!("  {p}\n"));
    }
    msg.push_str(&format!("  body: {}", excerpt(body)));
    msg
}

fn cleanup_text(e: &CleanupError) -> String {
    match e {
        CleanupError::Send(e) => crate::error::chain(e),
        CleanupError::Refused { image, .. } => {
            format!("{} failed: cleaning up image {image}: {e}", Phase::Cleanup)
        }
    }
}

/// What one case run shares with every other: the session (client and target), the run id,
/// the response schemas.
#[derive(Debug)]
pub(crate) struct Env {
    pub(crate) session: Session,
    pub(crate) run_id: String,
    pub(crate) schemas: BTreeMap<String, Arc<Schema>>,
    /// What the target was learned to be, once preflight (or the first case) has asked it.
    pub(crate) facts: tokio::sync::OnceCell<Facts>,
    /// Cases run side by side, except those marked `alone` (they empty the image cache,
    /// which other cases rely on): those wait until no other case runs against the target
    /// and keep the others waiting while they run.
    pub(crate) turns: tokio::sync::RwLock<()>,
}

/// A case's turn to run against the target: shared, or the target's alone.
enum Turn<'a> {
    Shared(#[allow(dead_code)] tokio::sync::RwLockReadGuard<'a, ()>),
    Alone(#[allow(dead_code)] tokio::sync::RwLockWriteGuard<'a, ()>),
}

impl Env {
    async fn turn(&self, case: &Case) -> Turn<'_> {
        if case.file.alone {
            Turn::Alone(self.turns.write().await)
        } else {
            Turn::Shared(self.turns.read().await)
        }
    }
}

impl Env {
    /// The learned facts, or none known yet.
    pub(crate) fn facts(&self) -> &Facts {
        static NONE: std::sync::OnceLock<Facts> = std::sync::OnceLock::new();
        self.facts
            .get()
            .unwrap_or_else(|| NONE.get_or_init(Facts::default))
    }
}

/// The outcome of one case run, with every exchange it made.
#[derive(Debug)]
pub struct CaseRun {
    /// Passed, or why not.
    pub result: Result<(), CaseFailure>,
    /// Every request sent (set-up, steps, clean-up) and its status, in order.
    pub exchanges: Vec<Exchange>,
}

/// The state of one case run.
struct Run<'a> {
    env: &'a Env,
    session: Session,
    case: &'a Case,
    vars: HashMap<String, String>,
    stage: Stage,
}

/// Runs `case` against the target; cleans up whatever it created, also when it fails.
pub(crate) async fn run_case(env: &Env, case: &Case) -> CaseRun {
    let _turn = env.turn(case).await;
    let mut vars = HashMap::new();
    for (name, p) in &env.session.target().personas {
        vars.insert(name.clone(), p.project_id.clone());
    }
    vars.insert("random_uuid".into(), uuid::Uuid::new_v4().to_string());
    // Ids that sort in a known order: one random stem, the last digit 1, 2, 3.
    let stem = uuid::Uuid::new_v4().to_string();
    for n in 1..=3 {
        vars.insert(
            format!("uuid_{n}"),
            format!("{}{n}", &stem[..stem.len() - 1]),
        );
    }
    vars.insert(
        "random_project".into(),
        format!("sharecheck-{}", uuid::Uuid::new_v4().simple()),
    );
    vars.insert("run_id".into(), env.run_id.clone());
    let facts = env.facts();
    for (name, value) in [
        ("default_store", facts.default_store()),
        ("other_store", facts.other_store()),
        ("read_only_store", facts.read_only_store()),
    ] {
        if let Some(v) = value {
            vars.insert(name.into(), v.to_string());
        }
    }
    vars.insert("import_source".into(), facts.import_source().to_string());
    let mut run = Run {
        env,
        session: env.session.fork(),
        case,
        vars,
        stage: Stage::Setup,
    };
    let result = run.body().await;
    let failed = run.session.cleanup().await;
    let result = match result {
        Err(e) => Err(e),
        Ok(()) if failed.is_empty() => Ok(()),
        Ok(()) => Err(CaseFailure::Cleanup(failed)),
    };
    CaseRun {
        result,
        exchanges: run.session.take_exchanges(),
    }
}

impl Run<'_> {
    fn set_stage(&mut self, s: Stage) {
        self.stage = s;
    }

    async fn body(&mut self) -> Result<(), CaseFailure> {
        for (name, img) in &self.case.file.setup.images {
            self.setup_image(name, img).await?;
        }
        for (name, body) in &self.case.file.setup.tasks {
            self.setup_task(name, body).await?;
        }
        for (name, ns) in &self.case.file.setup.namespaces {
            self.setup_namespace(name, ns).await?;
        }
        let f = &self.case.file;
        self.set_stage(Stage::Before);
        for (i, s) in f.before.iter().enumerate() {
            let label = format!("before step {} of {}", i + 1, f.before.len());
            self.saving_step(&label, s).await?;
        }
        self.set_stage(Stage::Request);
        self.step("the request", &f.request, &f.expect).await?;
        self.set_stage(Stage::Then);
        for (i, s) in f.then.iter().enumerate() {
            let label = format!("follow-up {} of {}", i + 1, f.then.len());
            self.saving_step(&label, s).await?;
        }
        Ok(())
    }

    /// A `before` or `then` step, then the placeholders it saves from its answer.
    async fn saving_step(&mut self, label: &str, s: &Step) -> Result<(), CaseFailure> {
        let (sent, answer) = self.step(label, &s.request, &s.expect).await?;
        let json: Option<Value> = answer.json();
        let mut problems = Vec::new();
        for (name, ptr) in &s.save {
            match json.as_ref().and_then(|j| j.pointer(ptr)) {
                Some(Value::String(v)) => drop(self.vars.insert(name.clone(), v.clone())),
                Some(v @ Value::Number(_)) => drop(self.vars.insert(name.clone(), v.to_string())),
                Some(v) => problems.push(format!(
                    "save `{name}`: body {ptr} is {v}, not a string or number"
                )),
                None => problems.push(format!("save `{name}`: body {ptr} is not there")),
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(CaseFailure::Step {
            label: label.to_string(),
            sent,
            repeat: None,
            problems,
            body: answer.body,
        })
    }

    async fn step(
        &mut self,
        label: &str,
        req: &Request,
        exp: &Expect,
    ) -> Result<(Sent, Answer), CaseFailure> {
        let (sent, answer) = match &req.repeat {
            None => self.send(req).await?,
            Some(r) => {
                let mut last = self.send(req).await?;
                let mut tries = 1;
                while last.1.status != r.until && tries < r.max {
                    last = self.send(req).await?;
                    tries += 1;
                }
                last
            }
        };
        self.track_created(req, &answer);
        let mut problems = exp.problems(self, &answer);
        let (mut sent, mut answer) = (sent, answer);
        if let Some(p) = &req.poll {
            let mut tries = 1;
            while !problems.is_empty() && tries < p.max {
                tokio::time::sleep(std::time::Duration::from_millis(p.pause_ms)).await;
                (sent, answer) = self.send(req).await?;
                problems = exp.problems(self, &answer);
                tries += 1;
            }
        }
        if problems.is_empty() {
            return Ok((sent, answer));
        }
        Err(CaseFailure::Step {
            label: label.to_string(),
            sent,
            repeat: req.repeat.as_ref().map(|r| (r.max, r.until)),
            problems,
            body: answer.body,
        })
    }

    /// An image or namespace made by a case's own request is cleaned up like a set-up one.
    fn track_created(&mut self, req: &Request, a: &Answer) {
        if a.status != 201 || req.method != "POST" {
            return;
        }
        let path = req.path.trim_end_matches('/');
        if path == "/v2/metadefs/namespaces" {
            let name = a.json().and_then(|v| {
                v.get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            if let Some(name) = name {
                self.session.register_namespace_cleanup(&name, &req.caller);
            }
            return;
        }
        if path != "/v2/images" {
            return;
        }
        let id = a
            .json()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string));
        if let Some(id) = id {
            self.session.register_cleanup(&id, &req.caller);
        }
    }

    fn expand(&self, s: &str) -> String {
        if !s.contains('{') {
            return s.to_string();
        }
        let mut out = s.to_string();
        for (k, v) in &self.vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }

    fn expand_json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) if s == "{import_methods}" => self
                .env
                .facts()
                .import_methods
                .iter()
                .flatten()
                .map(|m| Value::String(m.clone()))
                .collect(),
            Value::String(s) if s == "{tags_past_quota}" => {
                let quota = self.session.target().tag_quota.unwrap_or(0) as usize;
                (0..=quota)
                    .map(|i| Value::String(format!("sharecheck-filler-{i}")))
                    .collect()
            }
            Value::String(s) => Value::String(self.expand(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.expand_json(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.expand_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    async fn send(&self, req: &Request) -> Result<(Sent, Answer), CaseFailure> {
        let caller = match &req.token_in {
            Some(t) => Caller::Header {
                name: t.header.clone(),
                prefix: t.prefix.clone(),
                persona: req.caller.clone(),
            },
            None => Caller::named(&req.caller),
        };
        let mut r = Req::new(caller, &req.method, self.expand(&req.path)).stage(self.stage);
        r.body = match (&req.body, &req.raw_body) {
            (Some(b), _) => Some(self.expand_json(b).to_string().into_bytes()),
            (None, Some(raw)) => Some(raw.clone().into_bytes()),
            (None, None) => None,
        };
        for (k, v) in &req.headers {
            r = r.header(k, &self.expand(v));
        }
        let sent = r.sent();
        Ok((sent, self.session.send(r).await?))
    }

    /// A set-up call as a persona with a JSON body; must answer `want`.
    async fn call(
        &self,
        what: &str,
        caller: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: &[u16],
    ) -> Result<Answer, CaseFailure> {
        let mut req = Req::by(caller, method, path).stage(self.stage);
        if let Some(b) = &body {
            req = req.json(b);
        }
        self.expecting(what, req, want).await
    }

    /// Sends a set-up call; it must answer `want`.
    async fn expecting(
        &self,
        what: &str,
        mut req: Req,
        want: &[u16],
    ) -> Result<Answer, CaseFailure> {
        if matches!(req.method.as_str(), "GET" | "PUT" | "DELETE") {
            req = req.retries(self.session.target().network.retries);
        }
        let sent = req.sent();
        let answer = self.session.send(req).await?;
        if want.contains(&answer.status) {
            Ok(answer)
        } else {
            Err(CaseFailure::Status {
                phase: Phase::Setup,
                what: what.to_string(),
                sent,
                want: want.to_vec(),
                got: answer.status,
                body: answer.body,
            })
        }
    }

    /// The tags an image is created with: its `tags`, then fillers up to the tag quota when
    /// it is to be full.
    fn setup_tags(&self, img: &ImageSetup) -> Vec<String> {
        let mut tags: Vec<String> = img.tags.iter().map(|t| self.expand(t)).collect();
        if img.fill_tags_to_quota {
            let quota = self.session.target().tag_quota.unwrap_or(0) as usize;
            tags.extend((tags.len()..quota).map(|i| format!("sharecheck-filler-{i}")));
        }
        tags
    }

    async fn setup_task(&mut self, name: &str, body: &Value) -> Result<(), CaseFailure> {
        let what = format!("creating task `{name}`");
        let body = self.expand_json(body);
        let answer = self
            .call(&what, "admin", "POST", "/v2/tasks", Some(body), &[201])
            .await?;
        let Some(id) = answer
            .json()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        else {
            return Err(CaseFailure::NoId {
                what,
                body: answer.body,
            });
        };
        self.vars.insert(name.to_string(), id);
        Ok(())
    }

    async fn setup_image(&mut self, name: &str, img: &ImageSetup) -> Result<(), CaseFailure> {
        if super::interrupted() {
            return Err(CaseFailure::Interrupted);
        }
        let image_name = match &img.name {
            Some(n) => self.expand(n),
            None => format!(
                "sharecheck-{}-{}-{name}",
                self.env.run_id, self.case.file.id
            ),
        };
        let mut body = serde_json::json!({"name": image_name, "visibility": img.visibility});
        let formats = [
            ("disk_format", &img.disk_format, "raw"),
            ("container_format", &img.container_format, "bare"),
        ];
        for (key, given, for_data) in formats {
            match given {
                Some(v) => body[key] = v.as_str().into(),
                // Data can only be uploaded to an image with both formats.
                None if img.data.is_some() => body[key] = for_data.into(),
                None => {}
            }
        }
        if img.protected {
            body["protected"] = true.into();
        }
        let tags = self.setup_tags(img);
        if !tags.is_empty() {
            body["tags"] = tags.into();
        }
        let creator = if img.visibility == "public" {
            body["owner"] = Value::String(self.vars["owner"].clone());
            "admin"
        } else {
            "owner"
        };
        let what = format!("creating image `{name}`");
        let answer = self
            .call(&what, creator, "POST", "/v2/images", Some(body), &[201])
            .await?;
        let Some(id) = answer
            .json()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        else {
            return Err(CaseFailure::NoId {
                what,
                body: answer.body,
            });
        };
        self.session.register_cleanup(&id, creator);
        self.vars.insert(name.to_string(), id.clone());
        let members_path = format!("/v2/images/{id}/members");
        for (persona, status) in &img.members {
            let project = self.vars[persona.as_str()].clone();
            self.call(
                &format!("adding `{persona}` to `{name}`"),
                "owner",
                "POST",
                &members_path,
                Some(serde_json::json!({"member": project})),
                &[200],
            )
            .await?;
            if status != "pending" {
                self.call(
                    &format!("`{persona}` setting its status on `{name}` to {status}"),
                    persona,
                    "PUT",
                    &format!("{members_path}/{project}"),
                    Some(serde_json::json!({"status": status})),
                    &[200],
                )
                .await?;
            }
        }
        if let Some(data) = &img.data {
            let mut req = Req::by(creator, "PUT", format!("/v2/images/{id}/file"))
                .stage(self.stage)
                .header("content-type", "application/octet-stream");
            req.body = Some(self.expand(data).into_bytes());
            self.expecting(&format!("uploading data to `{name}`"), req, &[204])
                .await?;
        }
        if img.deactivated {
            let path = format!("/v2/images/{id}/actions/deactivate");
            self.call(
                &format!("deactivating `{name}`"),
                creator,
                "POST",
                &path,
                None,
                &[204],
            )
            .await?;
        }
        if img.fill_to_quota {
            let quota = self.session.target().member_quota.unwrap_or(0) as usize;
            for i in img.members.len()..quota {
                self.call(
                    &format!("filling `{name}` to the member quota ({quota})"),
                    "owner",
                    "POST",
                    &members_path,
                    Some(serde_json::json!({"member": format!("sharecheck-filler-{i}")})),
                    &[200],
                )
                .await?;
            }
        }
        if img.deleted {
            self.call(
                &format!("deleting `{name}`"),
                creator,
                "DELETE",
                &format!("/v2/images/{id}"),
                None,
                &[204],
            )
            .await?;
            self.session.forget_cleanup(&id);
        }
        Ok(())
    }
}

impl Vars for Run<'_> {
    fn expand(&self, s: &str) -> String {
        Run::expand(self, s)
    }

    fn expand_json(&self, v: &Value) -> Value {
        Run::expand_json(self, v)
    }

    fn schema(&self, name: &str) -> Option<&Schema> {
        self.env.schemas.get(name).map(|s| &**s)
    }
}
