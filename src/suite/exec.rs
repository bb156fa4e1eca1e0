//! Running one case against a target over HTTP: set-up, the request, the checks, the
//! follow-ups, and the clean-up that runs whatever happened.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::case::{BodyExpect, BodyKind, Case, Expect, ImageSetup, Request};
use super::schema::Schema;
use super::target::Target;

/// Why a case failed: what was sent, what came back, what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CaseFailure(pub String);

/// What one case run shares with every other: the HTTP client, the target, the run id, the
/// response schemas.
#[derive(Debug)]
pub(crate) struct Env {
    pub(crate) client: reqwest::Client,
    pub(crate) target: Target,
    pub(crate) run_id: String,
    pub(crate) schemas: BTreeMap<String, Arc<Schema>>,
}

/// Which part of a case a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Creating images and memberships.
    Setup,
    /// A `before` step.
    Before,
    /// The request under test.
    Request,
    /// A `then` step.
    Then,
    /// Deleting what the case created.
    Cleanup,
}

impl Stage {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Setup => "setup",
            Stage::Before => "before",
            Stage::Request => "request",
            Stage::Then => "then",
            Stage::Cleanup => "cleanup",
        }
    }
}

/// One request of a case run and what came back, without headers or tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Part of the case.
    pub stage: Stage,
    /// HTTP method.
    pub method: String,
    /// Path as sent (placeholders expanded).
    pub path: String,
    /// Status of the answer.
    pub status: u16,
    /// The answer's body shape: `empty`, `json{sorted,top,keys}`, `json` (not an object) or
    /// `text`.
    pub shape: String,
}

/// A body's shape, for comparing servers without comparing values.
fn shape(body: &[u8]) -> String {
    if body.is_empty() {
        return "empty".into();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => {
            let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
            keys.sort_unstable();
            format!("json{{{}}}", keys.join(","))
        }
        Ok(_) => "json".into(),
        Err(_) => "text".into(),
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

/// An answer, fully read.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A request after placeholder expansion, kept for failure messages.
struct Sent {
    caller: String,
    method: String,
    path: String,
}

impl std::fmt::Display for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} as {}", self.method, self.path, self.caller)
    }
}

const EXCERPT: usize = 300;

fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty)".into();
    }
    let s = String::from_utf8_lossy(body);
    let mut out: String = s.chars().take(EXCERPT).collect();
    if s.chars().count() > EXCERPT {
        out.push('…');
    }
    out
}

/// Images created for one case, deleted at the end by whoever created them.
struct Created {
    id: String,
    creator: String,
}

/// The state of one case run.
struct Run<'a> {
    env: &'a Env,
    case: &'a Case,
    vars: HashMap<String, String>,
    created: Vec<Created>,
    exchanges: Mutex<Vec<Exchange>>,
    stage: Mutex<Stage>,
}

/// Runs `case` against the target; cleans up whatever it created, also when it fails.
pub(crate) async fn run_case(env: &Env, case: &Case) -> CaseRun {
    let mut vars = HashMap::new();
    for (name, p) in &env.target.personas {
        vars.insert(name.clone(), p.project_id.clone());
    }
    vars.insert("random_uuid".into(), uuid::Uuid::new_v4().to_string());
    vars.insert(
        "random_project".into(),
        format!("sharecheck-{}", uuid::Uuid::new_v4().simple()),
    );
    vars.insert("run_id".into(), env.run_id.clone());
    let mut run = Run {
        env,
        case,
        vars,
        created: Vec::new(),
        exchanges: Mutex::default(),
        stage: Mutex::new(Stage::Setup),
    };
    let result = run.body().await;
    run.set_stage(Stage::Cleanup);
    let cleanup = run.cleanup().await;
    let result = match (result, cleanup) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    };
    CaseRun {
        result,
        exchanges: run.exchanges.into_inner().unwrap_or_default(),
    }
}

impl Run<'_> {
    fn set_stage(&self, s: Stage) {
        if let Ok(mut stage) = self.stage.lock() {
            *stage = s;
        }
    }

    async fn body(&mut self) -> Result<(), CaseFailure> {
        for (name, img) in &self.case.file.setup.images {
            self.setup_image(name, img).await?;
        }
        let f = &self.case.file;
        self.set_stage(Stage::Before);
        for (i, s) in f.before.iter().enumerate() {
            let label = format!("before step {} of {}", i + 1, f.before.len());
            self.step(&label, &s.request, &s.expect).await?;
        }
        self.set_stage(Stage::Request);
        self.step("the request", &f.request, &f.expect).await?;
        self.set_stage(Stage::Then);
        for (i, s) in f.then.iter().enumerate() {
            let label = format!("follow-up {} of {}", i + 1, f.then.len());
            self.step(&label, &s.request, &s.expect).await?;
        }
        Ok(())
    }

    async fn step(&mut self, label: &str, req: &Request, exp: &Expect) -> Result<(), CaseFailure> {
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
        let problems = self.check(exp, &answer);
        if problems.is_empty() {
            return Ok(());
        }
        let mut msg = format!("{label}: {sent}\n");
        if let Some(r) = &req.repeat {
            let _ = writeln!(msg, "  (sent up to {} times, until {})", r.max, r.until);
        }
        for p in problems {
            let _ = writeln!(msg, "  {p}");
        }
        let _ = write!(msg, "  body: {}", excerpt(&answer.body));
        Err(CaseFailure(msg))
    }

    /// An image made by a case's own request is cleaned up like a set-up one.
    fn track_created(&mut self, req: &Request, a: &Answer) {
        if a.status != 201 || req.method != "POST" || req.path.trim_end_matches('/') != "/v2/images"
        {
            return;
        }
        let id = serde_json::from_slice::<Value>(&a.body)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string));
        if let Some(id) = id {
            self.created.push(Created {
                id,
                creator: req.caller.clone(),
            });
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

    fn token(&self, caller: &str) -> Option<String> {
        match caller {
            "anonymous" => None,
            "empty_token" => Some(String::new()),
            "bad_token" => Some(format!(
                "sharecheck-invalid-{}",
                uuid::Uuid::new_v4().simple()
            )),
            p => self.env.target.personas.get(p).map(|p| p.token.clone()),
        }
    }

    async fn send(&self, req: &Request) -> Result<(Sent, Answer), CaseFailure> {
        let path = self.expand(&req.path);
        let body = match (&req.body, &req.raw_body) {
            (Some(b), _) => Some(self.expand_json(b).to_string().into_bytes()),
            (None, Some(raw)) => Some(raw.clone().into_bytes()),
            (None, None) => None,
        };
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("application/json"));
        if body.is_some() {
            headers.insert("content-type", HeaderValue::from_static("application/json"));
        }
        if let Some(t) = self.token(&req.caller) {
            let v = HeaderValue::from_str(&t).map_err(|_| {
                CaseFailure(format!(
                    "token of `{}` is not a valid header value",
                    req.caller
                ))
            })?;
            headers.insert("x-auth-token", v);
        }
        for (k, v) in &req.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| CaseFailure(format!("header name `{k}` is invalid")))?;
            let value = HeaderValue::from_str(&self.expand(v))
                .map_err(|_| CaseFailure(format!("header `{k}` has an invalid value")))?;
            headers.insert(name, value);
        }
        self.raw(&req.caller, &req.method, &path, headers, body, 0)
            .await
    }

    async fn raw(
        &self,
        caller: &str,
        method: &str,
        path: &str,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
        retries: u32,
    ) -> Result<(Sent, Answer), CaseFailure> {
        let sent = Sent {
            caller: caller.to_string(),
            method: method.to_string(),
            path: path.to_string(),
        };
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| CaseFailure(format!("{sent}: invalid method")))?;
        let url = format!("{}{}", self.env.target.base(), path);
        let mut attempt = 0;
        let resp = loop {
            let mut rb = self
                .env
                .client
                .request(m.clone(), &url)
                .headers(headers.clone());
            if let Some(b) = &body {
                rb = rb.body(b.clone());
            }
            match rb.send().await {
                Ok(r) => break r,
                // Only calls that are safe to repeat, and only when no connection was made.
                Err(e) if e.is_connect() && attempt < retries => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                        .await;
                }
                Err(e) => {
                    return Err(CaseFailure(format!(
                        "{sent}: no answer: {}",
                        error_chain(&e)
                    )));
                }
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| CaseFailure(format!("{sent}: answer cut short: {}", error_chain(&e))))?
            .to_vec();
        let stage = self.stage.lock().map(|s| *s).unwrap_or(Stage::Setup);
        if let Ok(mut x) = self.exchanges.lock() {
            x.push(Exchange {
                stage,
                method: method.to_string(),
                path: path.to_string(),
                status,
                shape: shape(&body),
            });
        }
        Ok((
            sent,
            Answer {
                status,
                headers,
                body,
            },
        ))
    }

    /// A set-up or clean-up call with a JSON body; must answer `want`.
    async fn call(
        &self,
        what: &str,
        caller: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: &[u16],
    ) -> Result<Answer, CaseFailure> {
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("application/json"));
        let token = self.token(caller).unwrap_or_default();
        let token = HeaderValue::from_str(&token)
            .map_err(|_| CaseFailure(format!("token of `{caller}` is not a valid header value")))?;
        headers.insert("x-auth-token", token);
        let bytes = body.map(|b| {
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            b.to_string().into_bytes()
        });
        let retries = if matches!(method, "GET" | "PUT" | "DELETE") {
            self.env.target.network.retries
        } else {
            0
        };
        let (sent, answer) = self
            .raw(caller, method, path, headers, bytes, retries)
            .await?;
        if want.contains(&answer.status) {
            Ok(answer)
        } else {
            Err(CaseFailure(format!(
                "set-up failed: {what}: {sent}\n  expected status {}, got {}\n  body: {}",
                want.iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                answer.status,
                excerpt(&answer.body)
            )))
        }
    }

    async fn setup_image(&mut self, name: &str, img: &ImageSetup) -> Result<(), CaseFailure> {
        if super::interrupted() {
            return Err(CaseFailure("interrupted before set-up".into()));
        }
        let image_name = match &img.name {
            Some(n) => self.expand(n),
            None => format!(
                "sharecheck-{}-{}-{name}",
                self.env.run_id, self.case.file.id
            ),
        };
        let mut body = serde_json::json!({"name": image_name, "visibility": img.visibility});
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
        let id = serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                CaseFailure(format!(
                    "set-up failed: {what}: the 201 answer has no `id`: {}",
                    excerpt(&answer.body)
                ))
            })?;
        self.created.push(Created {
            id: id.clone(),
            creator: creator.to_string(),
        });
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
        if img.fill_to_quota {
            let quota = self.env.target.member_quota.unwrap_or(0) as usize;
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
            self.created.pop();
        }
        Ok(())
    }

    async fn cleanup(&mut self) -> Result<(), CaseFailure> {
        let mut problems = Vec::new();
        for c in std::mem::take(&mut self.created).into_iter().rev() {
            let r = self
                .call(
                    &format!("cleaning up image {}", c.id),
                    &c.creator,
                    "DELETE",
                    &format!("/v2/images/{}", c.id),
                    None,
                    &[204, 404],
                )
                .await;
            if let Err(e) = r {
                problems.push(e.0.replacen("set-up failed", "clean-up failed", 1));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CaseFailure(problems.join("\n")))
        }
    }

    fn check(&self, exp: &Expect, a: &Answer) -> Vec<String> {
        let mut problems = Vec::new();
        if a.status != exp.status {
            problems.push(format!("expected status {}, got {}", exp.status, a.status));
        }
        for (name, h) in &exp.headers {
            let got = a
                .headers
                .get(name.as_str())
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let shown = got.clone().unwrap_or_else(|| "(absent)".into());
            if let Some(want) = h.present
                && got.is_some() != want
            {
                let w = if want { "present" } else { "absent" };
                problems.push(format!("header {name}: expected {w}, got {shown}"));
            }
            if let Some(want) = &h.equals {
                let want = self.expand(want);
                if got.as_deref() != Some(want.as_str()) {
                    problems.push(format!("header {name}: expected `{want}`, got {shown}"));
                }
            }
            if let Some(prefix) = &h.starts_with
                && !got
                    .as_deref()
                    .is_some_and(|g| g.starts_with(prefix.as_str()))
            {
                problems.push(format!(
                    "header {name}: expected a value starting with `{prefix}`, got {shown}"
                ));
            }
            if let Some(want) = &h.tokens {
                let mut w: Vec<String> =
                    want.iter().map(|t| t.trim().to_ascii_uppercase()).collect();
                w.sort();
                let mut g: Vec<String> = got
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .map(|t| t.trim().to_ascii_uppercase())
                    .filter(|t| !t.is_empty())
                    .collect();
                g.sort();
                if g != w {
                    problems.push(format!(
                        "header {name}: expected exactly [{}], got {shown}",
                        want.join(", ")
                    ));
                }
            }
        }
        if let Some(b) = &exp.body {
            self.check_body(b, a, &mut problems);
        }
        problems
    }

    fn check_body(&self, b: &BodyExpect, a: &Answer, problems: &mut Vec<String>) {
        if b.kind == BodyKind::Empty {
            if !a.body.is_empty() {
                problems.push(format!(
                    "expected an empty body, got {} bytes",
                    a.body.len()
                ));
            }
            return;
        }
        let json = match serde_json::from_slice::<Value>(&a.body) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return problems.push("expected a JSON object body, got other JSON".into()),
            Err(_) => {
                return problems.push("expected a JSON object body, got something else".into());
            }
        };
        if let Some(name) = &b.schema {
            match self.env.schemas.get(name) {
                Some(schema) => {
                    let doc = Value::Object(json.clone());
                    for v in schema.violations(&doc, 5) {
                        problems.push(format!("body does not match schema `{name}`: {v}"));
                    }
                }
                None => problems.push(format!("schema `{name}` is not loaded")),
            }
        }
        if b.kind == BodyKind::Error {
            for k in ["message", "code", "title"] {
                if !json.contains_key(k) {
                    problems.push(format!("error body lacks `{k}`"));
                }
            }
            let code = json.get("code").and_then(Value::as_str).unwrap_or("");
            if json.contains_key("code") && !code.starts_with(&a.status.to_string()) {
                problems.push(format!(
                    "error `code` is `{code}`, which does not start with the status {}",
                    a.status
                ));
            }
            return;
        }
        for k in &b.keys {
            if !json.contains_key(k) {
                problems.push(format!("body lacks key `{k}`"));
            }
        }
        if b.only_keys {
            let extra: Vec<&String> = json.keys().filter(|k| !b.keys.contains(k)).collect();
            if !extra.is_empty() {
                problems.push(format!(
                    "body has unexpected keys: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        let root = Value::Object(json);
        for (ptr, want) in &b.values {
            let want = self.expand_json(want);
            match root.pointer(ptr) {
                Some(got) if *got == want => {}
                Some(got) => problems.push(format!("body {ptr}: expected {want}, got {got}")),
                None => problems.push(format!("body {ptr}: expected {want}, got nothing")),
            }
        }
        for (ptr, want) in &b.lengths {
            match root.pointer(ptr).and_then(Value::as_array) {
                Some(a) if a.len() == *want => {}
                Some(a) => problems.push(format!(
                    "body {ptr}: expected {want} items, got {}",
                    a.len()
                )),
                None => problems.push(format!(
                    "body {ptr}: expected a list of {want} items, got none"
                )),
            }
        }
    }
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let _ = write!(s, ": {c}");
        cur = c.source();
    }
    s
}
