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
//! Nothing here imports the mock: like the suite, the run speaks HTTP through a [`Session`].
//!
//! The parts: `generate` (request `i` of a run, one small generator per kind of request),
//! `check` (the properties, pure: an answer in, violations out), `send` (one worker's
//! connection), `drive` (workers, tallies, set-up and clean-up) and here the options, the report and [`run`].

mod check;
mod drive;
mod generate;
mod pieces;
mod request;
mod send;

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use crate::target::Session;

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
    /// The status is in `ALLOWED_STATUSES`, the ones the API gives.
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
    /// Why requests went through the general client, which normalises request targets
    /// (`None`: each went out exactly as generated).
    pub normalised: Option<String>,
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
        if let Some(why) = &self.normalised {
            writeln!(
                f,
                "sent through the general client ({why}): request targets were normalised"
            )?;
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

/// Runs the hostile phase through `session`: set-up, `opts.requests` requests, clean-up.
pub async fn run(session: &Session, opts: &HostileOptions) -> HostileReport {
    let mut report = HostileReport {
        seed: opts.seed,
        run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
        ..HostileReport::default()
    };
    let session = session.fork();
    let run_id = report.run_id.clone();
    let images = drive::set_up(&session, &run_id, &mut report).await;
    let ctx = request::Ctx::new(session.target(), opts, run_id, images);
    report.normalised = send::Sender::for_session(&session).1;

    let started = Instant::now();
    let (mut all, stopped) = drive::hostile_phase(&session, ctx, opts).await;
    report.elapsed = started.elapsed();
    report.housekeeping.extend(stopped);
    all.violations.sort_by_key(|v| v.request.index);
    all.violations.truncate(KEPT);
    report.requests = all.sent;
    report.unsendable = all.unsendable;
    report.statuses = all.statuses;
    report.transport_errors = all.transport_errors;
    report.by_property = all.by_property;
    report.violations = all.violations;
    for (persona, id) in &all.created {
        session.register_cleanup(id, persona);
    }
    drive::clean_up(&session, &mut report).await;
    report
}

/// A yardstick for [`run`]'s speed: `requests` plain `GET /v2/images` as the owner (or
/// without a token when the target has no owner), from `parallel` workers on senders like
/// [`run`]'s. Returns the answers received and the wall time.
pub async fn baseline(session: &Session, requests: usize, parallel: usize) -> (usize, Duration) {
    let target = session.target();
    let images = request::Images {
        shared: String::new(),
        private: String::new(),
        public: None,
    };
    let opts = HostileOptions::default();
    let ctx = request::Ctx::new(target, &opts, String::new(), images);
    let owner = target.personas.contains_key("owner").then_some("owner");
    let started = Instant::now();
    let answered = drive::plain_gets(session, ctx, owner, requests, parallel).await;
    (answered, started.elapsed())
}
