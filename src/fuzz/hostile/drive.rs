//! Sending: set-up and clean-up of the images requests aim at, the hostile phase (workers
//! on kept-alive connections, each counting its own [`Tally`]), and a plain baseline.
//!
//! Speed: one client with an idle connection per worker, so every worker keeps its
//! connection; a connection the server closes on purpose (a request past its limits) costs
//! that worker one reconnect, nobody else. A request is handed to the client as built
//! (headers moved, bodies shared, not copied), and an answer is read once, up to
//! [`READ_CAP`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::header::{ALLOW, CONTENT_TYPE, HeaderMap};
use serde_json::Value;

use super::check::{Answer, check};
use super::generate::generate;
use super::request::{Body, Ctx, Images, Req, big_body};
use super::{HostileOptions, HostileReport, KEPT, Property, Violation};
use crate::error::RunError;
use crate::suite::Target;

/// How much of an answer's body is read; the rest is dropped with the connection.
pub(super) const READ_CAP: usize = 1 << 20;

/// The client of a run, from the target's TLS and network settings (it keeps 64 idle
/// connections per host: one per worker).
pub(super) fn client(target: &Target) -> Result<reqwest::Client, RunError> {
    crate::target::http_client(&target.tls, &target.network)
}

/// Sends `opts.requests` generated requests from `opts.parallel` workers. Request `i` is
/// generated from `(seed, i)`; one the client cannot send is replaced by the next index, so
/// `requests` requests are really sent (at most twice as many generated). Returns the tally
/// and the workers that stopped.
pub(super) async fn hostile_phase(
    client: &reqwest::Client,
    ctx: Arc<Ctx>,
    opts: &HostileOptions,
) -> (Tally, Vec<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..opts.parallel.max(1) {
        let ctx = Arc::clone(&ctx);
        let (next, sent) = (Arc::clone(&next), Arc::clone(&sent));
        let client = client.clone();
        let total = opts.requests;
        workers.spawn(async move {
            let mut tally = Tally::default();
            while sent.fetch_add(1, Ordering::Relaxed) < total {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total.saturating_mul(2) {
                    break;
                }
                let req = generate(&ctx, i);
                let before = tally.sent;
                one(&client, &ctx, req, &mut tally).await;
                if tally.sent == before {
                    sent.fetch_sub(1, Ordering::Relaxed);
                }
            }
            tally
        });
    }
    let mut all = Tally::default();
    let mut stopped = Vec::new();
    while let Some(done) = workers.join_next().await {
        match done {
            Ok(t) => all.merge(t),
            Err(e) => stopped.push(format!("a worker stopped: {e} (a bug in sharecheck)")),
        }
    }
    (all, stopped)
}

/// `requests` plain `GET /v2/images` (with `token`, if any) from `parallel` workers; the
/// number of 2xx answers read to the end.
pub(super) async fn plain_gets(
    client: &reqwest::Client,
    base: &str,
    token: Option<String>,
    requests: usize,
    parallel: usize,
) -> usize {
    let Ok(url) = reqwest::Url::parse(&format!("{base}/v2/images")) else {
        return 0;
    };
    let left = Arc::new(AtomicUsize::new(requests));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..parallel.max(1) {
        let (client, url, token, left) = (
            client.clone(),
            url.clone(),
            token.clone(),
            Arc::clone(&left),
        );
        workers.spawn(async move {
            let mut ok = 0;
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let mut b = client.get(url.clone()).header("accept", "application/json");
                if let Some(t) = &token {
                    b = b.header("x-auth-token", t);
                }
                if let Ok(r) = b.send().await
                    && r.status().is_success()
                    && r.bytes().await.is_ok()
                {
                    ok += 1;
                }
            }
            ok
        });
    }
    let mut ok = 0;
    while let Some(done) = workers.join_next().await {
        ok += done.unwrap_or(0);
    }
    ok
}

// ----- sending one request ------------------------------------------------------------------

/// Sends one request, checks the answer, counts.
async fn one(client: &reqwest::Client, ctx: &Ctx, mut req: Req, tally: &mut Tally) {
    let url = match req.url.take() {
        Some(u) => u,
        None => match reqwest::Url::parse(&format!("{}{}", ctx.base, req.path)) {
            Ok(u) => u,
            Err(_) => {
                tally.unsendable += 1;
                return;
            }
        },
    };
    let mut built = reqwest::Request::new(req.method.clone(), url);
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    for (k, v) in std::mem::take(&mut req.headers) {
        headers.append(k, v);
    }
    *built.headers_mut() = headers;
    *built.body_mut() = match &req.body {
        Body::None => None,
        Body::Bytes(b) => Some(b.clone().into()),
        Body::Big => Some(big_body().into()),
    };
    tally.sent += 1;
    let answer = match client.execute(built).await {
        Ok(resp) => read(resp).await,
        Err(e) if e.is_builder() => {
            tally.sent -= 1;
            tally.unsendable += 1;
            return;
        }
        Err(e) => Err(chain(&e)),
    };
    match answer {
        Ok(a) => {
            *tally.statuses.entry(a.status).or_default() += 1;
            if req.creates_image && a.status == 201 {
                note_created(ctx, &req, &a, tally);
            }
            for (p, m) in check(&req, &a, ctx.faults_injected) {
                tally.violate(p, m, &req);
            }
        }
        Err(e) => {
            tally.transport_errors += 1;
            tally.violate(Property::Answered, format!("no answer: {e}"), &req);
        }
    }
}

/// Remembers an image a hostile request created, to delete it at the end.
fn note_created(ctx: &Ctx, req: &Req, a: &Answer, tally: &mut Tally) {
    if let Some(id) = serde_json::from_slice::<Value>(&a.body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        && let Some(p) = req.auth.persona().and_then(|p| ctx.persona(p))
    {
        tally.created.push((p.token.clone(), id));
    }
}

/// Status, the headers the checks need, and the body up to [`READ_CAP`].
async fn read(mut resp: reqwest::Response) -> Result<Answer, String> {
    let status = resp.status().as_u16();
    let json_labelled = resp.headers().get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.len() >= 16 && v[..16].eq_ignore_ascii_case(b"application/json")
    });
    let allow = resp.headers().contains_key(ALLOW);
    let mut body: Vec<u8> = Vec::new();
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                let room = READ_CAP.saturating_sub(body.len());
                body.extend_from_slice(&c[..c.len().min(room)]);
                if c.len() > room {
                    truncated = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                return Err(format!(
                    "the answer's body broke off after {} bytes (status {status}): {}",
                    body.len(),
                    chain(&e)
                ));
            }
        }
    }
    Ok(Answer {
        status,
        json_labelled,
        allow,
        body,
        truncated,
    })
}

// ----- set-up and clean-up ------------------------------------------------------------------

pub(super) async fn set_up(
    client: &reqwest::Client,
    target: &Target,
    run_id: &str,
    created: &mut Vec<(String, String)>,
    report: &mut HostileReport,
) -> Images {
    let base = target.base();
    let fallback = || uuid::Uuid::new_v4().to_string();
    let mut images = Images {
        shared: fallback(),
        private: fallback(),
        public: None,
    };
    let Some(owner) = target.personas.get("owner") else {
        report
            .housekeeping
            .push("the target has no `owner` persona; aiming at random image ids".into());
        return images;
    };
    for (visibility, slot) in [("shared", 0), ("private", 1)] {
        let name = format!("sharecheck-{run_id}-hostile-{visibility}");
        match create_image(client, base, &owner.token, &name, visibility).await {
            Ok(id) => {
                created.push((owner.token.clone(), id.clone()));
                if slot == 0 {
                    images.shared = id;
                } else {
                    images.private = id;
                }
            }
            Err(e) => report
                .housekeeping
                .push(format!("set-up: creating the {visibility} image: {e}")),
        }
    }
    if let Some(member) = target.personas.get("member") {
        let url = format!("{base}/v2/images/{}/members", images.shared);
        let r = client
            .post(url)
            .header("x-auth-token", &owner.token)
            .header("accept", "application/json")
            .json(&serde_json::json!({ "member": member.project_id }))
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => report.housekeeping.push(format!(
                "set-up: sharing with the member persona answered {}",
                r.status()
            )),
            Err(e) => report.housekeeping.push(format!(
                "set-up: sharing with the member persona: {}",
                chain(&e)
            )),
        }
    }
    if let Some(admin) = target.personas.get("admin") {
        let name = format!("sharecheck-{run_id}-hostile-public");
        match create_image(client, base, &admin.token, &name, "public").await {
            Ok(id) => {
                created.push((admin.token.clone(), id.clone()));
                images.public = Some(id);
            }
            Err(e) => report
                .housekeeping
                .push(format!("set-up: creating the public image: {e}")),
        }
    }
    images
}

async fn create_image(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    visibility: &str,
) -> Result<String, String> {
    let r = client
        .post(format!("{base}/v2/images"))
        .header("x-auth-token", token)
        .header("accept", "application/json")
        .json(&serde_json::json!({ "name": name, "visibility": visibility }))
        .send()
        .await
        .map_err(|e| chain(&e))?;
    let status = r.status();
    let doc: Value = r.json().await.unwrap_or_default();
    match doc.get("id").and_then(Value::as_str) {
        Some(id) if status.is_success() => Ok(id.to_string()),
        _ => Err(format!("answered {status}")),
    }
}

pub(super) async fn clean_up(
    client: &reqwest::Client,
    base: &str,
    created: &[(String, String)],
    report: &mut HostileReport,
) {
    for (token, id) in created {
        let r = client
            .delete(format!("{base}/v2/images/{id}"))
            .header("x-auth-token", token)
            .header("accept", "application/json")
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 404 => {}
            Ok(r) => report.housekeeping.push(format!(
                "clean-up: deleting image {id} answered {} (`sharecheck cleanup --run-id {}` retries)",
                r.status(),
                report.run_id
            )),
            Err(e) => report.housekeeping.push(format!(
                "clean-up: deleting image {id}: {} (`sharecheck cleanup --run-id {}` retries)",
                chain(&e),
                report.run_id
            )),
        }
    }
}

/// An error with its causes, without the URL (which may be 70 KB long).
fn chain(e: &reqwest::Error) -> String {
    let mut s = String::new();
    let mut kind = Vec::new();
    if e.is_timeout() {
        kind.push("timeout");
    }
    if e.is_connect() {
        kind.push("connect");
    }
    if e.is_body() {
        kind.push("body");
    }
    if e.is_request() {
        kind.push("request");
    }
    if !kind.is_empty() {
        s.push_str(&format!("[{}] ", kind.join(",")));
    }
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    let mut first = true;
    while let Some(err) = cur {
        let text = if first {
            // reqwest's own text names the URL; say what happened instead.
            first = false;
            "request failed".to_string()
        } else {
            err.to_string()
        };
        if !s.ends_with(&text) {
            if !s.is_empty() && !s.ends_with("] ") {
                s.push_str(": ");
            }
            s.push_str(&text);
        }
        cur = err.source();
    }
    s
}

#[derive(Default)]
pub(super) struct Tally {
    pub sent: usize,
    pub unsendable: usize,
    pub statuses: BTreeMap<u16, usize>,
    pub transport_errors: usize,
    pub by_property: BTreeMap<Property, usize>,
    pub violations: Vec<Violation>,
    /// (token, image id) of images a hostile request created (a 201 on `POST /v2/images`).
    pub created: Vec<(String, String)>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.sent += o.sent;
        self.unsendable += o.unsendable;
        for (s, n) in o.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.transport_errors += o.transport_errors;
        for (p, n) in o.by_property {
            *self.by_property.entry(p).or_default() += n;
        }
        self.violations.extend(o.violations);
        self.created.extend(o.created);
    }

    fn violate(&mut self, property: Property, message: String, req: &Req) {
        *self.by_property.entry(property).or_default() += 1;
        // Keep the earliest requests' violations (the list is sorted and cut at the end).
        if self.violations.len() < KEPT
            || self.violations.iter().any(|v| v.request.index > req.index)
        {
            self.violations.push(Violation {
                property,
                message,
                request: req.summary(),
            });
            if self.violations.len() > 2 * KEPT {
                self.violations.sort_by_key(|v| v.request.index);
                self.violations.truncate(KEPT);
            }
        }
    }
}
