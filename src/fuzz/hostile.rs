//! Hostile inputs against any target, each answer held to a few properties.
//!
//! After a small set-up (images named `sharecheck-<run id>-hostile-…`, so `sharecheck cleanup`
//! finds leftovers: one shared with the `member` persona, one private, and one public when
//! the target has an `admin` persona), [`run`] sends `requests` generated requests from
//! `parallel` workers and deletes what it created. Request `i` is generated from its own
//! generator seeded with `(seed, i)`, so a seed always gives the same requests, whatever the
//! parallelism.
//!
//! What is generated: member ids (unicode, lengths 0–1000, `/`, `%2F`, `..`, percent-encoded
//! control characters, whitespace, injection strings), image ids (real, upper-case UUIDs of
//! real images, not UUIDs, overlong, empty), bodies (malformed JSON, non-object JSON, nesting
//! up to 100,000 deep, wrong types, duplicated keys, large strings, bodies just past 1 MiB and
//! — every 2,500th request, at most 40 times — a 10 MB body), wrong or missing
//! `Content-Type` and `Accept`, odd methods (`PATCH`, `OPTIONS`, `HEAD`, `TRACE`, `FROB`, …),
//! request targets of 4–64 KB (a client cannot send more than 64 KiB), a header of up to
//! 120 KB, 24 headers of 4 KB, up to 90 extra fields (110–200 only on requests without a
//! body: a server refusing the head closes, and a client still writing a body sees a reset),
//! and tokens missing, garbage, padded, doubled or in the wrong header (`Authorization:
//! Bearer`). Most requests carry a real persona's token so they reach the member logic. The
//! fault-injection header is never sent.
//!
//! The properties, per answer (see [`Property`]):
//! - an answer arrives: a dropped connection, reset or timeout is a violation;
//! - no 5xx (unless [`HostileOptions::faults_injected`] says the target fails on purpose);
//! - the status is one the API gives: [`ALLOWED_STATUSES`];
//! - an error answer (4xx, 5xx) to `Accept: application/json` is a JSON object with a string
//!   `message`, a string `code` starting with the status and a string `title`. Exempt: `HEAD`
//!   (no body by definition), and 413, 414 and 431 with an *empty* body — what an HTTP server
//!   library sends on its own when it refuses oversize input before any handler runs (hyper
//!   does so for a request head past ~400 KB or with more than 100 fields, and for a request
//!   target past 64 KiB). Under `/v3` (a Keystone), Keystone's own error document
//!   `{"error": {"code": <status>, "message", "title"}}` is accepted too;
//! - a body labelled `application/json` parses as JSON;
//! - a 405 carries `Allow`;
//! - a request under `/v2/images` without a valid `X-Auth-Token` (none, empty, garbage, or
//!   the token in `Authorization: Bearer`) never succeeds (2xx);
//! - nobody but the owner and an admin ever gets a 2xx on a path naming the private image.
//!
//! Nothing here imports the mock: like the suite, the run speaks HTTP to a [`Target`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::suite::Target;

/// The statuses the image API (and an HTTP server in front of it) may give.
pub const ALLOWED_STATUSES: &[u16] = &[
    200, 201, 204, 300, 400, 401, 403, 404, 405, 409, 413, 414, 415, 431,
];
/// Every `BIG_EVERY`-th request (offset by half) carries a 10 MB body …
const BIG_EVERY: usize = 2500;
/// … at most this many times in one run.
const MAX_BIG: usize = 40;
/// The size of that body.
const BIG_BODY: usize = 10 * 1024 * 1024;
/// How much of an answer's body is read; the rest is dropped with the connection.
const READ_CAP: usize = 1 << 20;
/// Violations kept in full (all are counted).
const KEPT: usize = 200;

/// How to run.
#[derive(Clone, Debug)]
pub struct HostileOptions {
    /// How many hostile requests to send (set-up and clean-up not counted).
    pub requests: usize,
    /// The seed: the same seed gives the same requests.
    pub seed: u64,
    /// Requests in flight at once.
    pub parallel: usize,
    /// The target fails on purpose now and then (a fault-injecting proxy, say): 500 and 503
    /// are then tolerated (still counted). The run itself never asks for faults.
    pub faults_injected: bool,
}

impl Default for HostileOptions {
    fn default() -> Self {
        HostileOptions {
            requests: 10_000,
            seed: 1,
            parallel: 8,
            faults_injected: false,
        }
    }
}

/// A property an answer must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// An answer arrived: no dropped connection, reset or timeout.
    Answered,
    /// No 5xx.
    No5xx,
    /// The status is in [`ALLOWED_STATUSES`].
    KnownStatus,
    /// An error to `Accept: application/json` is `{"message", "code", "title"}`.
    JsonError,
    /// A body labelled `application/json` parses.
    JsonParses,
    /// A 405 carries `Allow`.
    AllowOn405,
    /// A request without a valid token never succeeds under `/v2/images`.
    NoAnonymousSuccess,
    /// Only the owner and an admin get a 2xx on a path naming the private image.
    PrivateStaysPrivate,
}

impl Property {
    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Property::Answered => "answered",
            Property::No5xx => "no-5xx",
            Property::KnownStatus => "known-status",
            Property::JsonError => "json-error-body",
            Property::JsonParses => "json-parses",
            Property::AllowOn405 => "allow-on-405",
            Property::NoAnonymousSuccess => "no-anonymous-success",
            Property::PrivateStaysPrivate => "private-stays-private",
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What was sent, shortened for a report. Never holds a token.
#[derive(Clone, Debug)]
pub struct RequestSummary {
    /// The request's number in the run (its generator's seed is `(seed, index)`).
    pub index: usize,
    /// The method.
    pub method: String,
    /// Path and query as sent, shortened past 160 characters (the length is given).
    pub path: String,
    /// Who sent it: a persona's name, or `anonymous`, `garbage-token`, `empty-token`,
    /// `bearer:<persona>`, `padded:<persona>`, `doubled:<persona>`.
    pub persona: String,
    /// The start of the body and its length, or `(none)`.
    pub body: String,
    /// Other hostile features (long or many headers, content type, accept).
    pub note: String,
}

impl fmt::Display for RequestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {} as {}; body: {}",
            self.index, self.method, self.path, self.persona, self.body
        )?;
        if !self.note.is_empty() {
            write!(f, "; {}", self.note)?;
        }
        Ok(())
    }
}

/// One broken property, with the request that broke it.
#[derive(Clone, Debug)]
pub struct Violation {
    /// Which property.
    pub property: Property,
    /// What came back instead.
    pub message: String,
    /// What was sent.
    pub request: RequestSummary,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}\n    request {}",
            self.property, self.message, self.request
        )
    }
}

/// The outcome of a hostile run.
#[derive(Clone, Debug, Default)]
pub struct HostileReport {
    /// The seed (re-run with it to get the same requests).
    pub seed: u64,
    /// The run id in the names of the images created (`sharecheck-<run id>-hostile-…`).
    pub run_id: String,
    /// Hostile requests sent (set-up and clean-up not counted).
    pub requests: usize,
    /// Generated requests that could not be built into a URL (not sent, not counted above).
    pub unsendable: usize,
    /// Wall time of the hostile phase.
    pub elapsed: Duration,
    /// Answers by status.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests that got no answer (dropped connection, reset, timeout).
    pub transport_errors: usize,
    /// Violations counted, by property.
    pub by_property: BTreeMap<Property, usize>,
    /// The first violations in request order, in full (at most 200).
    pub violations: Vec<Violation>,
    /// Set-up and clean-up problems (images not created or not deleted).
    pub housekeeping: Vec<String>,
}

impl HostileReport {
    /// How many violations in all.
    pub fn violation_count(&self) -> usize {
        self.by_property.values().sum()
    }

    /// No violation.
    pub fn passed(&self) -> bool {
        self.violation_count() == 0
    }

    /// Hostile requests per second of the hostile phase.
    pub fn requests_per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }
}

impl fmt::Display for HostileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "hostile: {} requests in {:.1} s ({:.0} requests/s), seed {}, run id {}",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.requests_per_second(),
            self.seed,
            self.run_id
        )?;
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        writeln!(f, "statuses: {}", statuses.join(", "))?;
        if self.transport_errors > 0 {
            writeln!(f, "no answer: {}", self.transport_errors)?;
        }
        if self.unsendable > 0 {
            writeln!(f, "not sendable (skipped): {}", self.unsendable)?;
        }
        for h in &self.housekeeping {
            writeln!(f, "set-up/clean-up: {h}")?;
        }
        if self.passed() {
            return writeln!(f, "violations: none");
        }
        let by: Vec<String> = self
            .by_property
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        writeln!(
            f,
            "violations: {} ({})",
            self.violation_count(),
            by.join(", ")
        )?;
        for v in &self.violations {
            writeln!(f, "  {v}")?;
        }
        if self.violations.len() < self.violation_count() {
            writeln!(
                f,
                "  … {} more",
                self.violation_count() - self.violations.len()
            )?;
        }
        Ok(())
    }
}

/// Runs the hostile phase against `target`: set-up, `opts.requests` requests, clean-up.
pub async fn run(target: &Target, opts: &HostileOptions) -> HostileReport {
    let mut report = HostileReport {
        seed: opts.seed,
        run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
        ..HostileReport::default()
    };
    let client = match crate::suite::target::http_client(&target.tls, &target.network) {
        Ok(c) => c,
        Err(e) => {
            report.housekeeping.push(format!("no HTTP client: {e}"));
            return report;
        }
    };
    let personas: Vec<(String, String, String)> = target
        .personas
        .iter()
        .map(|(n, p)| (n.clone(), p.token.clone(), p.project_id.clone()))
        .collect();
    let mut created: Vec<(String, String)> = Vec::new();
    let run_id = report.run_id.clone();
    let images = set_up(&client, target, &run_id, &mut created, &mut report).await;
    let ctx = Arc::new(Ctx {
        base: target.base().to_string(),
        seed: opts.seed,
        run_id: report.run_id.clone(),
        personas,
        images,
        faults_injected: opts.faults_injected,
    });

    let started = Instant::now();
    // Request `i` is generated from (seed, i); one the client cannot send is replaced by the
    // next index, so `requests` requests are really sent (at most twice as many generated).
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
    while let Some(done) = workers.join_next().await {
        match done {
            Ok(t) => all.merge(t),
            Err(e) => report
                .housekeeping
                .push(format!("a worker stopped: {e} (a bug in sharecheck)")),
        }
    }
    report.elapsed = started.elapsed();
    all.violations.sort_by_key(|v| v.request.index);
    all.violations.truncate(KEPT);
    report.requests = all.sent;
    report.unsendable = all.unsendable;
    report.statuses = all.statuses;
    report.transport_errors = all.transport_errors;
    report.by_property = all.by_property;
    report.violations = all.violations;
    created.extend(all.created);

    clean_up(&client, &ctx.base, &created, &mut report).await;
    report
}

// ----- set-up and clean-up ------------------------------------------------------------------

/// The real images requests aim at (random UUIDs when set-up could not create them).
struct Images {
    shared: String,
    private: String,
    public: Option<String>,
}

async fn set_up(
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

async fn clean_up(
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

// ----- the hostile phase ----------------------------------------------------------------------

struct Ctx {
    base: String,
    seed: u64,
    run_id: String,
    /// (name, token, project id) of every persona.
    personas: Vec<(String, String, String)>,
    images: Images,
    faults_injected: bool,
}

impl Ctx {
    fn persona(&self, name: &str) -> Option<&(String, String, String)> {
        self.personas.iter().find(|(n, _, _)| n == name)
    }
}

#[derive(Default)]
struct Tally {
    sent: usize,
    unsendable: usize,
    statuses: BTreeMap<u16, usize>,
    transport_errors: usize,
    by_property: BTreeMap<Property, usize>,
    violations: Vec<Violation>,
    /// (token, image id) of images a hostile request created (a 201 on `POST /v2/images`).
    created: Vec<(String, String)>,
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

/// How a request authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Auth {
    /// `X-Auth-Token` of a persona.
    Persona(String),
    /// The persona's token with spaces around it.
    Padded(String),
    /// The persona's token and a garbage one, two `X-Auth-Token` headers.
    Doubled(String),
    /// No token.
    Anonymous,
    /// `X-Auth-Token:` empty.
    Empty,
    /// A token nobody issued.
    Garbage,
    /// The persona's token as `Authorization: Bearer`, no `X-Auth-Token`.
    Bearer(String),
}

impl Auth {
    fn label(&self) -> String {
        match self {
            Auth::Persona(p) => p.clone(),
            Auth::Padded(p) => format!("padded:{p}"),
            Auth::Doubled(p) => format!("doubled:{p}"),
            Auth::Anonymous => "anonymous".into(),
            Auth::Empty => "empty-token".into(),
            Auth::Garbage => "garbage-token".into(),
            Auth::Bearer(p) => format!("bearer:{p}"),
        }
    }

    /// Certainly without a valid `X-Auth-Token`.
    fn unauthenticated(&self) -> bool {
        matches!(
            self,
            Auth::Anonymous | Auth::Empty | Auth::Garbage | Auth::Bearer(_)
        )
    }

    /// The persona whose identity the request may carry.
    fn persona(&self) -> Option<&str> {
        match self {
            Auth::Persona(p) | Auth::Padded(p) | Auth::Doubled(p) => Some(p),
            _ => None,
        }
    }
}

enum Body {
    None,
    Bytes(Vec<u8>),
    /// The shared 10 MB body.
    Big,
}

struct Req {
    index: usize,
    method: Method,
    /// Path and query, after the endpoint.
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Body,
    auth: Auth,
    accept_json: bool,
    /// The path names the private set-up image.
    names_private: bool,
    /// `POST /v2/images`.
    creates_image: bool,
    note: Vec<String>,
}

impl Req {
    fn summary(&self) -> RequestSummary {
        let body = match &self.body {
            Body::None => "(none)".to_string(),
            Body::Big => format!("{} ({} bytes)", excerpt(big_body(), 60), BIG_BODY),
            Body::Bytes(b) if b.is_empty() => "(empty)".to_string(),
            Body::Bytes(b) => format!("{} ({} bytes)", excerpt(b, 80), b.len()),
        };
        RequestSummary {
            index: self.index,
            method: shorten(self.method.as_str(), 40),
            path: shorten(&self.path, 160),
            persona: self.auth.label(),
            body,
            note: self.note.join(", "),
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…({} bytes)", &s[..end], s.len())
}

fn excerpt(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    let text = String::from_utf8_lossy(cut);
    let mut s: String = text.escape_debug().collect();
    if b.len() > max {
        s.push('…');
    }
    format!("\"{s}\"")
}

fn big_body() -> &'static [u8] {
    static BIG: OnceLock<Vec<u8>> = OnceLock::new();
    BIG.get_or_init(|| {
        let mut b = b"{\"member\": \"".to_vec();
        b.resize(BIG_BODY - 2, b'a');
        b.extend_from_slice(b"\"}");
        b
    })
}

/// Sends one request, checks the answer, counts.
async fn one(client: &reqwest::Client, ctx: &Ctx, req: Req, tally: &mut Tally) {
    let url = match reqwest::Url::parse(&format!("{}{}", ctx.base, req.path)) {
        Ok(u) => u,
        Err(_) => {
            tally.unsendable += 1;
            return;
        }
    };
    let mut b = client.request(req.method.clone(), url);
    for (k, v) in &req.headers {
        b = b.header(k.clone(), v.clone());
    }
    b = match &req.body {
        Body::None => b,
        Body::Bytes(v) => b.body(v.clone()),
        Body::Big => b.body(big_body()),
    };
    let built = match b.build() {
        Ok(r) => r,
        Err(_) => {
            tally.unsendable += 1;
            return;
        }
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
            if req.creates_image
                && a.status == 201
                && let Some(id) = serde_json::from_slice::<Value>(&a.body)
                    .ok()
                    .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
                && let Some(p) = req.auth.persona().and_then(|p| ctx.persona(p))
            {
                tally.created.push((p.1.clone(), id));
            }
            for (p, m) in check(ctx, &req, &a) {
                tally.violate(p, m, &req);
            }
        }
        Err(e) => {
            tally.transport_errors += 1;
            tally.violate(Property::Answered, format!("no answer: {e}"), &req);
        }
    }
}

struct Answer {
    status: u16,
    content_type: Option<String>,
    allow: bool,
    body: Vec<u8>,
    truncated: bool,
}

async fn read(mut resp: reqwest::Response) -> Result<Answer, String> {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let allow = resp.headers().contains_key(reqwest::header::ALLOW);
    let mut body = Vec::new();
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
        content_type,
        allow,
        body,
        truncated,
    })
}

/// The properties of one answer.
fn check(ctx: &Ctx, req: &Req, a: &Answer) -> Vec<(Property, String)> {
    let mut v = Vec::new();
    let s = a.status;
    let shown = || {
        if a.body.is_empty() {
            "(empty body)".to_string()
        } else {
            excerpt(&a.body, 160)
        }
    };
    if s >= 500 && !(ctx.faults_injected && (s == 500 || s == 503)) {
        v.push((Property::No5xx, format!("status {s}: {}", shown())));
    }
    if !ALLOWED_STATUSES.contains(&s) && !(ctx.faults_injected && (s == 500 || s == 503)) {
        v.push((
            Property::KnownStatus,
            format!("status {s} is not one the image API gives"),
        ));
    }
    let head = req.method == Method::HEAD;
    let is_json = a
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    if !head
        && is_json
        && !a.body.is_empty()
        && !a.truncated
        && let Err(e) = serde_json::from_slice::<Value>(&a.body)
    {
        v.push((
            Property::JsonParses,
            format!(
                "status {s}, labelled application/json, does not parse ({e}): {}",
                shown()
            ),
        ));
    }
    let early_refusal = matches!(s, 413 | 414 | 431) && a.body.is_empty();
    if req.accept_json && s >= 400 && !head && !early_refusal && !a.truncated {
        let keystone = req.path.starts_with("/v3");
        if let Some(why) = error_shape(s, &a.body, keystone) {
            v.push((
                Property::JsonError,
                format!("status {s} to Accept: application/json: {why}: {}", shown()),
            ));
        }
    }
    if s == 405 && !a.allow {
        v.push((Property::AllowOn405, "405 without Allow".into()));
    }
    let under_images = req.path.starts_with("/v2/images");
    let options = req.method == Method::OPTIONS;
    if (200..300).contains(&s) && under_images && !options {
        if req.auth.unauthenticated() {
            v.push((
                Property::NoAnonymousSuccess,
                format!("status {s} without a valid X-Auth-Token"),
            ));
        }
        if req.names_private
            && let Some(p) = req.auth.persona()
            && p != "owner"
            && p != "admin"
        {
            v.push((
                Property::PrivateStaysPrivate,
                format!("status {s} for `{p}` on the private image"),
            ));
        }
    }
    v
}

/// Why `body` is not the error document for `status`, or `None` when it is. Under `/v3`
/// (`keystone`), Keystone's `{"error": {"code": <status>, "message", "title"}}` also does.
fn error_shape(status: u16, body: &[u8], keystone: bool) -> Option<String> {
    let doc: Value = match serde_json::from_slice(body) {
        Ok(d) => d,
        Err(_) => return Some("not JSON".into()),
    };
    let Some(obj) = doc.as_object() else {
        return Some("not a JSON object".into());
    };
    if keystone && let Some(err) = obj.get("error").and_then(Value::as_object) {
        let strings = ["message", "title"]
            .iter()
            .all(|k| err.get(*k).is_some_and(Value::is_string));
        return match err.get("code").and_then(Value::as_u64) {
            Some(c) if c == u64::from(status) && strings => None,
            _ => Some(format!(
                "Keystone error without `code` {status} and string `message` and `title`"
            )),
        };
    }
    for key in ["message", "code", "title"] {
        if !obj.get(key).is_some_and(Value::is_string) {
            return Some(format!("no string `{key}`"));
        }
    }
    let code = obj["code"].as_str().unwrap_or_default();
    if !code.starts_with(&status.to_string()) {
        return Some(format!("`code` {code:?} does not start with {status}"));
    }
    None
}

// ----- generation -----------------------------------------------------------------------------

/// Characters of hostile strings: ASCII, delimiters, controls, whitespace, combining marks,
/// bidi overrides, astral planes.
const ODD: &[&str] = &[
    "a",
    "Z",
    "0",
    "-",
    "_",
    ".",
    "~",
    " ",
    "\t",
    "\n",
    "\r",
    "\0",
    "\u{7f}",
    "\u{1b}",
    "é",
    "e\u{301}",
    "ß",
    "İ",
    "ǅ",
    "中",
    "文",
    "𝔘",
    "😀",
    "👩‍👩‍👧",
    "\u{202e}",
    "\u{200b}",
    "\u{feff}",
    "\u{a0}",
    "\u{2028}",
    "\u{fffd}",
    "\u{10ffff}",
    "/",
    "\\",
    "%",
    "?",
    "#",
    "&",
    "=",
    ";",
    ":",
    "@",
    "+",
    "'",
    "\"",
    "<",
    ">",
    "{",
    "}",
    "|",
    "^",
    "`",
    "[",
    "]",
    "*",
    "$",
    "!",
];

/// Strings written into a path segment as they are: literal escapes and separators.
const RAW_SEGMENTS: &[&str] = &[
    "a/b",
    "../..",
    "..",
    ".",
    "%2F",
    "a%2Fb",
    "%2e%2e",
    "%2E%2E%2F%2E%2E",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%",
    "%zz",
    "%C0%AF",
    "%FF",
    "%u002F",
    "%252F",
    "//",
    "",
    "x;y=1",
    "x?limit=1",
    "x#frag",
    "%20",
    "%09",
    "%0D%0AX-Injected:%201",
];

/// Strings that are odd as values.
const ODD_VALUES: &[&str] = &[
    "",
    " ",
    "  proj-member  ",
    "\t",
    "\u{a0}",
    "'; DROP TABLE image_members; --",
    "<script>alert(1)</script>",
    "${jndi:ldap://example.invalid/a}",
    "{{7*7}}",
    "%s%s%s%n",
    "null",
    "undefined",
    "0",
    "-1",
    "true",
    "ACCEPTED",
    "Accepted",
    "accepted ",
    "all",
    "\u{202e}rebmem-jorp",
    "proj-member\0",
    "\u{0}",
    "\r\nX-Injected: 1",
];

/// What `/` becomes in an encoded segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']')
    .add(b'/');

const QUERY: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+');

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A hostile string of up to `max` characters.
fn odd_string(rng: &mut StdRng, max: usize) -> String {
    let len = match rng.random_range(0..10) {
        0 => 0,
        1..=5 => rng.random_range(1..=16.min(max.max(1))),
        6..=8 => rng.random_range(1..=max.max(1)),
        _ => max,
    };
    let mut s = String::new();
    for _ in 0..len {
        s.push_str(pick::<&str>(rng, ODD));
    }
    s
}

/// A segment for a member id, ready for the path, and the id it means.
fn member_segment(rng: &mut StdRng, ctx: &Ctx) -> String {
    match rng.random_range(0..100) {
        0..=39 => {
            let (_, _, project) = pick(rng, &ctx.personas);
            encode(project)
        }
        40..=54 => (*pick(rng, RAW_SEGMENTS)).to_string(),
        55..=64 => encode(pick::<&str>(rng, ODD_VALUES)),
        65..=69 => "a".repeat(rng.random_range(256..=1000)),
        70..=74 => {
            // A real project in upper case, or with a prefix.
            let (_, _, project) = pick(rng, &ctx.personas);
            if rng.random_bool(0.5) {
                encode(&project.to_uppercase())
            } else {
                encode(&format!("../{project}"))
            }
        }
        _ => encode(&odd_string(rng, 1000)),
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// An image id segment; `true` when it names the private image.
fn image_segment(rng: &mut StdRng, ctx: &Ctx) -> (String, bool) {
    let im = &ctx.images;
    match rng.random_range(0..100) {
        0..=44 => (im.shared.clone(), false),
        45..=59 => (im.private.clone(), true),
        60..=67 => (
            im.public.clone().unwrap_or_else(|| im.shared.clone()),
            false,
        ),
        68..=72 => (im.shared.to_uppercase(), false),
        73..=75 => (im.private.to_uppercase(), true),
        76..=80 => (
            uuid::Uuid::from_u128(rng.random::<u128>())
                .hyphenated()
                .to_string(),
            false,
        ),
        81..=84 => (encode(&odd_string(rng, 200)), false),
        85..=87 => ("f".repeat(rng.random_range(37..=10_000)), false),
        88..=89 => (format!("%7B{}%7D", im.shared), false),
        90..=91 => (format!("urn:uuid:{}", im.shared), false),
        92..=93 => (im.shared.replace('-', ""), false),
        94..=95 => (format!("{} ", im.shared).replace(' ', "%20"), false),
        96..=97 => ((*pick(rng, RAW_SEGMENTS)).to_string(), false),
        _ => ("00000000-0000-0000-0000-000000000000".into(), false),
    }
}

/// A JSON string literal for `s` (escapes what JSON needs).
fn lit(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A body for `POST …/members` (`key` = `member`) or `PUT …/members/{m}` (`status`).
fn member_body(rng: &mut StdRng, ctx: &Ctx, key: &str) -> Vec<u8> {
    let value = |rng: &mut StdRng| -> String {
        if key == "member" {
            match rng.random_range(0..10) {
                0..=4 => pick(rng, &ctx.personas).2.clone(),
                5..=6 => (*pick(rng, ODD_VALUES)).to_string(),
                _ => odd_string(rng, 1000),
            }
        } else {
            match rng.random_range(0..10) {
                0..=5 => (*pick(rng, &["accepted", "rejected", "pending"])).to_string(),
                6..=7 => (*pick(rng, ODD_VALUES)).to_string(),
                _ => odd_string(rng, 300),
            }
        }
    };
    match rng.random_range(0..100) {
        0..=34 => format!("{{{}: {}}}", lit(key), lit(&value(rng))).into_bytes(),
        35..=49 => malformed(rng),
        50..=54 => non_object(rng),
        55..=59 => deep(rng),
        60..=69 => {
            let wrong = pick(
                rng,
                &[
                    "1",
                    "-1",
                    "1.5",
                    "1e999",
                    "123456789012345678901234567890",
                    "null",
                    "true",
                    "[]",
                    "[\"accepted\"]",
                    "{}",
                    "{\"id\": \"proj-member\"}",
                    "\"\\ud800\"",
                    "\"\\u0000\"",
                ],
            );
            format!("{{{}: {wrong}}}", lit(key)).into_bytes()
        }
        70..=74 => format!(
            "{{{k}: {a}, {k}: {b}}}",
            k = lit(key),
            a = lit(&value(rng)),
            b = lit(&value(rng))
        )
        .into_bytes(),
        75..=79 => format!(
            "{{{}: {}, \"status\": \"accepted\", \"member\": \"proj-stranger\", \"created_at\": 0, \"extra\": {{\"a\": [1, 2, {{}}]}}}}",
            lit(key),
            lit(&value(rng))
        )
        .into_bytes(),
        80..=84 => {
            // A large string value, sometimes just past 1 MiB in all.
            let n: usize = if rng.random_bool(0.3) {
                (1 << 20) + rng.random_range(1..4096)
            } else {
                rng.random_range(10_000..200_000)
            };
            let mut b = format!("{{{}: \"", lit(key)).into_bytes();
            b.resize(n.saturating_sub(2).max(b.len()), b'x');
            b.extend_from_slice(b"\"}");
            b
        }
        85..=89 => pick(rng, &[&b""[..], b" ", b"\n\n", b"\t \r\n"]).to_vec(),
        _ => {
            // Random bytes.
            let n = rng.random_range(1..512);
            (0..n).map(|_| rng.random::<u8>()).collect()
        }
    }
}

fn malformed(rng: &mut StdRng) -> Vec<u8> {
    pick(
        rng,
        &[
            &b"{"[..],
            b"}",
            b"{\"member\":",
            b"{\"member\": \"proj-member\"",
            b"{\"member\": \"proj-member\"} trailing",
            b"{\"member\": \"proj-member\",}",
            b"{'member': 'proj-member'}",
            b"{member: \"proj-member\"}",
            b"/* comment */ {\"member\": \"proj-member\"}",
            b"\xef\xbb\xbf{\"member\": \"proj-member\"}",
            b"\xff\xfe{\x00}\x00",
            b"{\"member\": \"\xc3\x28\"}",
            b"{\"status\": \"\xed\xa0\x80\"}",
            b"{\"member\": NaN}",
            b"{\"status\": Infinity}",
            b"nul",
            b"\x00",
            b"{\"a\":1}{\"b\":2}",
            b"member=proj-member",
            b"<member>proj-member</member>",
            b"\"unterminated",
            b"{\"member\": \"\\x41\"}",
            b"{\"member\": \"\\u12\"}",
        ],
    )
    .to_vec()
}

fn non_object(rng: &mut StdRng) -> Vec<u8> {
    pick(
        rng,
        &[
            &b"[]"[..],
            b"[{\"member\": \"proj-member\"}]",
            b"\"proj-member\"",
            b"42",
            b"-0",
            b"null",
            b"true",
            b"\"\"",
        ],
    )
    .to_vec()
}

/// Deep nesting: unbalanced `[`/`{"a":`, or balanced past any sane depth.
fn deep(rng: &mut StdRng) -> Vec<u8> {
    let n = *pick(rng, &[129usize, 1000, 10_000, 100_000]);
    match rng.random_range(0..3) {
        0 => "[".repeat(n).into_bytes(),
        1 => "{\"a\":".repeat(n).into_bytes(),
        _ => format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes(),
    }
}

/// A body for `POST /v2/images`: never a plain valid request except now and then (the image
/// it creates is named `sharecheck-<run id>-hostile-…` and deleted at the end).
fn image_body(rng: &mut StdRng, ctx: &Ctx) -> Vec<u8> {
    let name = lit(&format!("sharecheck-{}-hostile-created", ctx.run_id));
    match rng.random_range(0..12) {
        0 => malformed(rng),
        1 => non_object(rng),
        2 => deep(rng),
        3 => b"{\"name\": 5}".to_vec(),
        4 => format!(
            "{{\"name\": {name}, \"visibility\": {}}}",
            lit(&odd_string(rng, 40))
        )
        .into_bytes(),
        5 => format!("{{\"name\": {name}, \"min_ram\": -1}}").into_bytes(),
        6 => format!(
            "{{\"name\": {name}, \"id\": {}}}",
            lit(&odd_string(rng, 60))
        )
        .into_bytes(),
        7 => format!("{{\"name\": {name}, \"tags\": \"x\", \"protected\": \"yes\"}}").into_bytes(),
        8 => format!(
            "{{\"name\": {}}}",
            lit(&format!(
                "sharecheck-{}-hostile-{}",
                ctx.run_id,
                "n".repeat(300)
            ))
        )
        .into_bytes(),
        9 => format!("{{\"name\": {name}, \"x_odd\": {{\"deep\": [1]}}}}").into_bytes(),
        10 => format!("{{\"name\": {name}, \"status\": \"active\"}}").into_bytes(),
        _ => format!("{{\"name\": {name}, \"visibility\": \"private\"}}").into_bytes(),
    }
}

fn hostile_query(rng: &mut StdRng) -> String {
    let value = |rng: &mut StdRng| utf8_percent_encode(&odd_string(rng, 300), QUERY).to_string();
    match rng.random_range(0..14) {
        0 => "?limit=0".into(),
        1 => "?limit=-1".into(),
        2 => "?limit=abc".into(),
        3 => "?limit=99999999999999999999999".into(),
        4 => format!("?marker={}", value(rng)),
        5 => format!("?member_status={}", value(rng)),
        6 => format!("?visibility={}", value(rng)),
        7 => format!("?name={}", value(rng)),
        8 => "?limit=1&limit=2&marker=&marker=x".into(),
        9 => "?%zz=%zz&&&=&".into(),
        10 => "?member_status=all&visibility=shared&limit=1".into(),
        11 => format!("?{}", "a=1&".repeat(rng.random_range(100..2000))),
        12 => "?sort_key=../../etc&sort_dir=sideways".into(),
        _ => String::new(),
    }
}

/// Odd methods, and sometimes the one an operation uses.
fn odd_method(rng: &mut StdRng) -> Method {
    let name = pick(
        rng,
        &[
            "PATCH", "OPTIONS", "HEAD", "TRACE", "FROB", "PROPFIND", "M-SEARCH", "get", "Delete",
            "PUT", "POST", "DELETE", "GET",
        ],
    );
    if rng.random_bool(0.03) {
        let long = "X".repeat(rng.random_range(100..2000));
        return Method::from_bytes(long.as_bytes()).unwrap_or(Method::GET);
    }
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}

/// Request number `i` of the run.
fn generate(ctx: &Ctx, i: usize) -> Req {
    let mut rng = StdRng::seed_from_u64(splitmix(ctx.seed ^ splitmix(i as u64).rotate_left(17)));
    let rng = &mut rng;
    let mut note = Vec::new();
    let (img, img_private) = image_segment(rng, ctx);
    let members = format!("/v2/images/{img}/members");
    let mut names_private = img_private;
    let mut creates_image = false;
    let (method, path, mut body) = match rng.random_range(0..100) {
        0..=15 => (
            Method::POST,
            members.clone(),
            Body::Bytes(member_body(rng, ctx, "member")),
        ),
        16..=29 => (
            Method::PUT,
            format!("{members}/{}", member_segment(rng, ctx)),
            Body::Bytes(member_body(rng, ctx, "status")),
        ),
        30..=40 => (
            Method::GET,
            format!("{members}/{}", member_segment(rng, ctx)),
            Body::None,
        ),
        41..=47 => (Method::GET, members.clone(), Body::None),
        48..=55 => {
            let b = if rng.random_bool(0.2) {
                Body::Bytes(member_body(rng, ctx, "member"))
            } else {
                Body::None
            };
            (
                Method::DELETE,
                format!("{members}/{}", member_segment(rng, ctx)),
                b,
            )
        }
        56..=63 => {
            let m = odd_method(rng);
            let path = match rng.random_range(0..4) {
                0 => members.clone(),
                1 => format!("{members}/{}", member_segment(rng, ctx)),
                2 => format!("/v2/images/{img}"),
                _ => "/v2/images".to_string(),
            };
            let b = if rng.random_bool(0.4) {
                Body::Bytes(member_body(rng, ctx, "status"))
            } else {
                Body::None
            };
            // Creating or deleting images is left to the branches that track it.
            let m = if (m == Method::POST && path == "/v2/images") || m == Method::DELETE {
                Method::from_bytes(b"FROB").expect("token")
            } else {
                m
            };
            (m, path, b)
        }
        64..=67 => {
            let m = if rng.random_bool(0.5) {
                Method::GET
            } else {
                // Deleting images is for non-owners only (below).
                Method::DELETE
            };
            (m, format!("/v2/images/{img}"), Body::None)
        }
        68..=71 => (
            Method::GET,
            format!("/v2/images{}", hostile_query(rng)),
            Body::None,
        ),
        72..=76 => {
            creates_image = true;
            names_private = false;
            (
                Method::POST,
                "/v2/images".to_string(),
                Body::Bytes(image_body(rng, ctx)),
            )
        }
        77..=82 => {
            // Long paths: past the 8 KiB limit, now and then past 64 KiB.
            // (An HTTP client cannot send a target past 64 KiB, so neither does this.)
            let n = if rng.random_bool(0.05) {
                rng.random_range(40_000..64_000)
            } else {
                rng.random_range(4_000..30_000)
            };
            let m = pick(rng, &[Method::GET, Method::PUT, Method::POST]).clone();
            let tail = "a".repeat(n);
            let path = match rng.random_range(0..3) {
                0 => format!("{members}/{tail}"),
                1 => format!("/v2/images/{tail}/members"),
                _ => format!("/v2/images?name={tail}"),
            };
            names_private = false;
            let b = if m == Method::GET {
                Body::None
            } else {
                Body::Bytes(member_body(rng, ctx, "member"))
            };
            if m == Method::POST && path.starts_with("/v2/images?") {
                creates_image = true;
            }
            (m, path, b)
        }
        83..=88 => {
            names_private = false;
            let path = pick(
                rng,
                &[
                    "/",
                    "/versions",
                    "//v2//images",
                    "/v2/images/",
                    "/v2/",
                    "/v2",
                    "/v1/images",
                    "/v2/schemas/member",
                    "/v2/schemas/..%2F..%2Fetc%2Fpasswd",
                    "/v2/schemas/%00",
                    "/../../etc/passwd",
                    "/%2e%2e/%2e%2e/etc/passwd",
                    "/v2/images/%2F/members",
                    "/v3",
                    "/v3/auth/tokens",
                    "/v3/projects/%00",
                    "/favicon.ico",
                    "/v2/images/x/members/y/z",
                    "/v2/images/x/members/y/z/w/v",
                ],
            )
            .to_string();
            let m = if rng.random_bool(0.5) {
                Method::GET
            } else {
                odd_method(rng)
            };
            let m = if m == Method::DELETE { Method::GET } else { m };
            (m, path, Body::None)
        }
        _ => {
            // Keystone token requests with garbage bodies (none can succeed: no real password).
            names_private = false;
            let b = match rng.random_range(0..4) {
                0 => malformed(rng),
                1 => deep(rng),
                2 => format!(
                    "{{\"auth\": {{\"identity\": {{\"methods\": [\"password\"], \"password\": {{\"user\": {{\"name\": {}, \"password\": {}}}}}}}}}}}",
                    lit(&odd_string(rng, 100)),
                    lit(&odd_string(rng, 100))
                )
                .into_bytes(),
                _ => member_body(rng, ctx, "auth"),
            };
            (Method::POST, "/v3/auth/tokens".to_string(), Body::Bytes(b))
        }
    };
    if !path.contains(&ctx.images.private) && !path.contains(&ctx.images.private.to_uppercase()) {
        names_private = false;
    }

    // Who sends it.
    let persona = |rng: &mut StdRng| -> String {
        let roll = rng.random_range(0..100);
        let want = match roll {
            0..=39 => "owner",
            40..=64 => "member",
            65..=79 => "stranger",
            80..=89 => "admin",
            _ => "other_member",
        };
        ctx.persona(want)
            .or_else(|| ctx.personas.first())
            .map(|p| p.0.clone())
            .unwrap_or_default()
    };
    let mut auth = match rng.random_range(0..100) {
        0..=77 => Auth::Persona(persona(rng)),
        78..=82 => Auth::Anonymous,
        83..=87 => Auth::Garbage,
        88..=91 => Auth::Bearer(persona(rng)),
        92..=94 => Auth::Empty,
        95..=97 => Auth::Padded(persona(rng)),
        _ => Auth::Doubled(persona(rng)),
    };
    if ctx.personas.is_empty() {
        auth = Auth::Anonymous;
    }
    // The owner and the admin never delete an image here (the set-up images must live).
    if path.starts_with("/v2/images/")
        && method == Method::DELETE
        && !path.contains("/members")
        && matches!(auth.persona(), Some("owner" | "admin") | None)
        && !auth.unauthenticated()
    {
        auth = match ctx.persona("stranger").or_else(|| ctx.persona("member")) {
            Some(p) => Auth::Persona(p.0.clone()),
            None => Auth::Anonymous,
        };
    }

    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let token_of = |name: &str| ctx.persona(name).map(|p| p.1.clone()).unwrap_or_default();
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("x"));
    let x_auth = HeaderName::from_static("x-auth-token");
    match &auth {
        Auth::Persona(p) => headers.push((x_auth, hv(&token_of(p)))),
        Auth::Padded(p) => headers.push((x_auth, hv(&format!("  {}  ", token_of(p))))),
        Auth::Doubled(p) => {
            headers.push((x_auth.clone(), hv(&token_of(p))));
            headers.push((x_auth, HeaderValue::from_static("not-a-token")));
        }
        Auth::Anonymous => {}
        Auth::Empty => headers.push((x_auth, HeaderValue::from_static(""))),
        Auth::Garbage => {
            let v: Vec<u8> = match rng.random_range(0..4) {
                0 => b"gAAAAA-not-a-token".to_vec(),
                1 => "t".repeat(rng.random_range(1000..10_000)).into_bytes(),
                2 => (0..rng.random_range(1..64))
                    .map(|_| rng.random_range(0x80u8..=0xff))
                    .collect(),
                _ => format!("owner-token{}", rng.random::<u32>()).into_bytes(),
            };
            let v = HeaderValue::from_bytes(&v).unwrap_or_else(|_| HeaderValue::from_static("g"));
            headers.push((x_auth, v));
        }
        Auth::Bearer(p) => headers.push((
            reqwest::header::AUTHORIZATION,
            hv(&format!("Bearer {}", token_of(p))),
        )),
    }

    // Accept.
    let accept_json = match rng.random_range(0..100) {
        0..=79 => {
            headers.push((
                reqwest::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            ));
            true
        }
        80..=87 => false,
        88..=91 => {
            headers.push((
                reqwest::header::ACCEPT,
                HeaderValue::from_static("text/html"),
            ));
            note.push("accept text/html".to_string());
            false
        }
        92..=95 => {
            headers.push((
                reqwest::header::ACCEPT,
                HeaderValue::from_static("text/plain"),
            ));
            note.push("accept text/plain".to_string());
            false
        }
        _ => {
            let v = *pick(
                rng,
                &[
                    "application/xml",
                    "application/json;q=0, */*;q=0.1",
                    "*/*;q=abc",
                    "\u{ff}",
                ],
            );
            let v = HeaderValue::from_bytes(v.as_bytes())
                .unwrap_or_else(|_| HeaderValue::from_static("x"));
            note.push(format!("accept {}", String::from_utf8_lossy(v.as_bytes())));
            false
        }
    };
    if matches!(auth, Auth::Doubled(_)) {
        note.push("two X-Auth-Token headers".into());
    }

    // Content-Type (only with a body).
    if !matches!(body, Body::None) {
        let ct = match rng.random_range(0..100) {
            0..=69 => Some("application/json"),
            70..=77 => None,
            _ => Some(*pick(
                rng,
                &[
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                    "application/json; charset=utf-16",
                    "application/openstack-images-v2.1-json-patch",
                    "application/octet-stream",
                    ";;;",
                    "application/json, text/html",
                ],
            )),
        };
        match ct {
            Some(ct) => {
                if ct != "application/json" {
                    note.push(format!("content-type {ct}"));
                }
                headers.push((reqwest::header::CONTENT_TYPE, hv(ct)));
            }
            None => note.push("no content-type".into()),
        }
    }

    // Now and then, a 10 MB body.
    if i % BIG_EVERY == BIG_EVERY / 2 && i / BIG_EVERY < MAX_BIG && method != Method::GET {
        body = Body::Big;
        note.push("10 MB body".into());
    }

    // Header hostility.
    match rng.random_range(0..1000) {
        0..=29 => {
            let n = rng.random_range(8_000..120_000);
            headers.push((
                HeaderName::from_static("x-hostile"),
                HeaderValue::from_str(&"h".repeat(n)).expect("ascii"),
            ));
            note.push(format!("one header of {n} bytes"));
        }
        30..=49 => {
            let n = rng.random_range(20..90);
            for k in 0..n {
                headers.push((
                    HeaderName::from_bytes(format!("x-h-{k}").as_bytes()).expect("token"),
                    HeaderValue::from_static("1"),
                ));
            }
            note.push(format!("{n} extra headers"));
        }
        // More fields than HTTP servers parse (hyper: 100) only without a body: the server
        // refuses the head and closes, and a client still writing a body then sees a reset
        // however well the server answers (RFC 9112, section 9.6).
        50..=54 if matches!(body, Body::None) => {
            let n = rng.random_range(110..200);
            for k in 0..n {
                headers.push((
                    HeaderName::from_bytes(format!("x-h-{k}").as_bytes()).expect("token"),
                    HeaderValue::from_static("1"),
                ));
            }
            note.push(format!("{n} extra headers"));
        }
        55..=64 => {
            for k in 0..24 {
                headers.push((
                    HeaderName::from_bytes(format!("x-wide-{k}").as_bytes()).expect("token"),
                    HeaderValue::from_str(&"w".repeat(4000)).expect("ascii"),
                ));
            }
            note.push("24 headers of 4000 bytes".into());
        }
        65..=79 => {
            let v: Vec<u8> = (0..rng.random_range(1..300))
                .map(|_| rng.random_range(0x80u8..=0xff))
                .collect();
            if let Ok(v) = HeaderValue::from_bytes(&v) {
                headers.push((HeaderName::from_static("x-openstack-request-id"), v));
                note.push("non-ASCII x-openstack-request-id".into());
            }
        }
        80..=89 => {
            headers.push((
                HeaderName::from_static("x-openstack-request-id"),
                HeaderValue::from_str(&"r".repeat(rng.random_range(100..5000))).expect("ascii"),
            ));
            note.push("long x-openstack-request-id".into());
        }
        _ => {}
    }

    Req {
        index: i,
        method,
        path,
        headers,
        body,
        auth,
        accept_json,
        names_private,
        creates_image,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            base: "http://127.0.0.1:1".into(),
            seed: 7,
            run_id: "abcd1234".into(),
            personas: ["owner", "member", "stranger", "admin"]
                .iter()
                .map(|n| (n.to_string(), format!("{n}-token"), format!("proj-{n}")))
                .collect(),
            images: Images {
                shared: "11111111-1111-4111-8111-111111111111".into(),
                private: "22222222-2222-4222-8222-222222222222".into(),
                public: None,
            },
            faults_injected: false,
        }
    }

    #[test]
    fn a_seed_gives_the_same_requests() {
        let c = ctx();
        for i in [0, 1, 17, 1250, 9999] {
            let (a, b) = (generate(&c, i), generate(&c, i));
            assert_eq!(a.method, b.method);
            assert_eq!(a.path, b.path);
            assert_eq!(a.summary().body, b.summary().body);
            assert_eq!(a.auth, b.auth);
        }
        let other = Ctx { seed: 8, ..ctx() };
        let differ = (0..50).any(|i| generate(&c, i).path != generate(&other, i).path);
        assert!(differ, "another seed gives other requests");
    }

    #[test]
    fn owners_never_delete_images_and_big_bodies_are_bounded() {
        let c = ctx();
        for i in 0..20_000 {
            let r = generate(&c, i);
            if r.method == Method::DELETE
                && r.path.starts_with("/v2/images/")
                && !r.path.contains("/members")
            {
                assert!(!matches!(r.auth.persona(), Some("owner" | "admin")), "#{i}");
            }
            assert!(!matches!(r.body, Body::Big) || i % BIG_EVERY == BIG_EVERY / 2);
        }
        let big = (0..4 * MAX_BIG)
            .map(|k| generate(&c, k * BIG_EVERY + BIG_EVERY / 2))
            .filter(|r| matches!(r.body, Body::Big))
            .count();
        assert!(big > 0 && big <= MAX_BIG, "{big}");
    }

    #[test]
    fn error_shape_wants_message_code_and_title() {
        let ok = br#"{"message": "m", "code": "404 Not Found", "title": "Not Found"}"#;
        assert_eq!(error_shape(404, ok, false), None);
        assert!(error_shape(400, ok, false).is_some());
        assert!(error_shape(404, b"[]", false).is_some());
        assert!(error_shape(404, b"", false).is_some());
        assert!(
            error_shape(
                404,
                br#"{"message": "m", "code": 404, "title": "t"}"#,
                false
            )
            .is_some()
        );
        let ks = br#"{"error": {"code": 400, "message": "m", "title": "Bad Request"}}"#;
        assert_eq!(error_shape(400, ks, true), None);
        assert!(error_shape(400, ks, false).is_some());
        assert!(error_shape(401, ks, true).is_some());
    }

    #[test]
    fn summaries_are_short_and_hold_no_token() {
        let c = ctx();
        for i in 0..3000 {
            let s = generate(&c, i).summary().to_string();
            assert!(s.len() < 1200, "{s}");
            assert!(!s.contains("-token "), "{s}");
        }
    }
}
