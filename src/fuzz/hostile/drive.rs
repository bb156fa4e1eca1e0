//! Sending: the hostile phase (workers on kept-alive connections, each counting its own
//! [`Tally`]), a plain baseline, and set-up and clean-up of the images requests aim at
//! (through the [`Session`], which deletes what it registered).
//!
//! Speed: each worker owns one [`Sender`], so it keeps its connection; a connection the
//! server closes on purpose (a request past its limits) costs that worker one reconnect,
//! nobody else. A request is handed over as built (headers moved, bodies shared, long
//! targets parsed once per run), and an answer is read once, up to a cap.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::check::{Answer, check};
use super::generate::generate;
use super::request::{Ctx, Images, Req};
use super::send::{Failure, Sender};
use super::{HostileOptions, HostileReport, KEPT, Property, Violation};
use crate::error::chain;
use crate::target::{Req as SessionReq, SendError, Session, Stage};

/// Sends `opts.requests` generated requests from `opts.parallel` workers. Request `i` is
/// generated from `(seed, i)`; one that cannot be sent is replaced by the next index, so
/// `requests` requests are really sent (at most twice as many generated). Returns the tally
/// and the workers that stopped.
pub(super) async fn hostile_phase(
    session: &Session,
    ctx: Arc<Ctx>,
    opts: &HostileOptions,
) -> (Tally, Vec<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..opts.parallel.max(1) {
        let ctx = Arc::clone(&ctx);
        let (next, sent) = (Arc::clone(&next), Arc::clone(&sent));
        let (mut sender, _) = Sender::for_session(session);
        let total = opts.requests;
        workers.spawn(async move {
            let mut tally = Tally::default();
            let mut kept = 0;
            while sent.fetch_add(1, Ordering::Relaxed) < total {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total.saturating_mul(2) {
                    break;
                }
                let req = generate(&ctx, i);
                let before = tally.sent;
                one(&mut sender, &ctx, req, &mut tally).await;
                if tally.sent == before {
                    sent.fetch_sub(1, Ordering::Relaxed);
                }
                if tally.created.len() > kept {
                    delete_created(&mut sender, &ctx, &mut tally.created, kept).await;
                    kept = tally.created.len();
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

/// `requests` plain `GET /v2/images` (as `persona`, if any) from `parallel` workers, each on
/// a sender like the hostile phase's; the number of 2xx answers.
pub(super) async fn plain_gets(
    session: &Session,
    ctx: Arc<Ctx>,
    persona: Option<&str>,
    requests: usize,
    parallel: usize,
) -> usize {
    let left = Arc::new(AtomicUsize::new(requests));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..parallel.max(1) {
        let (ctx, left) = (Arc::clone(&ctx), Arc::clone(&left));
        let (mut sender, _) = Sender::for_session(session);
        let persona = persona.map(str::to_string);
        workers.spawn(async move {
            let mut ok = 0;
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let mut req = Req::plain_get(&ctx, persona.as_deref());
                if sender
                    .send(&mut req)
                    .await
                    .is_ok_and(|a| (200..300).contains(&a.status))
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
async fn one(sender: &mut Sender, ctx: &Ctx, mut req: Req, tally: &mut Tally) {
    tally.sent += 1;
    match sender.send(&mut req).await {
        Ok(a) => {
            *tally.statuses.entry(a.status).or_default() += 1;
            if req.creates_image && a.status == 201 {
                note_created(&req, &a, tally);
            }
            for (p, m) in check(&req, &a, ctx.faults_injected) {
                tally.violate(p, m, &req);
            }
        }
        Err(Failure::Unsendable) => {
            tally.sent -= 1;
            tally.unsendable += 1;
        }
        Err(Failure::NoAnswer(e)) => {
            tally.transport_errors += 1;
            tally.violate(Property::Answered, format!("no answer: {e}"), &req);
        }
    }
}

/// Deletes the images created since `created[kept..]` at once, so the target's lists stay
/// as small as set-up made them; one not deleted stays in `created` for the clean-up.
async fn delete_created(
    sender: &mut Sender,
    ctx: &Ctx,
    created: &mut Vec<(String, String)>,
    kept: usize,
) {
    let fresh: Vec<(String, String)> = created.drain(kept..).collect();
    for (persona, id) in fresh {
        let mut req = Req::delete_image(ctx, &persona, &id);
        let gone = sender
            .send(&mut req)
            .await
            .is_ok_and(|a| a.status == 204 || a.status == 404);
        if !gone {
            created.push((persona, id));
        }
    }
}

/// Remembers an image a hostile request created, to delete it (see [`delete_created`]).
fn note_created(req: &Req, a: &Answer, tally: &mut Tally) {
    if let Some(id) = serde_json::from_slice::<Value>(&a.body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        && let Some(p) = req.auth.persona()
    {
        tally.created.push((p.to_string(), id));
    }
}

// ----- set-up and clean-up ------------------------------------------------------------------

/// Creates the images requests aim at, each registered with `session` for clean-up: one
/// shared with `member`, one private, one public (as `admin`, when there is one).
pub(super) async fn set_up(session: &Session, run_id: &str, report: &mut HostileReport) -> Images {
    let fallback = || uuid::Uuid::new_v4().to_string();
    let mut images = Images {
        shared: fallback(),
        private: fallback(),
        public: None,
    };
    let personas = &session.target().personas;
    if !personas.contains_key("owner") {
        report
            .housekeeping
            .push("the target has no `owner` persona; aiming at random image ids".into());
        return images;
    }
    for visibility in ["shared", "private"] {
        match create_image(session, "owner", run_id, visibility).await {
            Ok(id) if visibility == "shared" => images.shared = id,
            Ok(id) => images.private = id,
            Err(e) => report.housekeeping.push(chain(&e)),
        }
    }
    if let Some(member) = personas.get("member") {
        let req = SessionReq::by(
            "owner",
            "POST",
            format!("/v2/images/{}/members", images.shared),
        )
        .json(&serde_json::json!({ "member": member.project_id }))
        .stage(Stage::Setup);
        match session.send(req).await {
            Ok(a) if (200..300).contains(&a.status) => {}
            Ok(a) => report.housekeeping.push(format!(
                "set-up: sharing with the member persona answered {}",
                a.status
            )),
            Err(e) => report.housekeeping.push(format!(
                "set-up: sharing with the member persona: {}",
                chain(&e)
            )),
        }
    }
    if personas.contains_key("admin") {
        match create_image(session, "admin", run_id, "public").await {
            Ok(id) => images.public = Some(id),
            Err(e) => report.housekeeping.push(chain(&e)),
        }
    }
    images
}

/// Why a set-up image was not created.
#[derive(Debug, thiserror::Error)]
enum CreateError {
    #[error("set-up: creating the {visibility} image")]
    Send {
        visibility: String,
        #[source]
        source: SendError,
    },
    #[error("set-up: creating the {visibility} image answered {status}")]
    Status { visibility: String, status: u16 },
}

/// `POST /v2/images` as `persona`, named `sharecheck-<run id>-hostile-<visibility>`.
async fn create_image(
    session: &Session,
    persona: &str,
    run_id: &str,
    visibility: &str,
) -> Result<String, CreateError> {
    let name = format!("sharecheck-{run_id}-hostile-{visibility}");
    let req = SessionReq::by(persona, "POST", "/v2/images")
        .json(&serde_json::json!({ "name": name, "visibility": visibility }))
        .stage(Stage::Setup);
    let a = session
        .send(req)
        .await
        .map_err(|source| CreateError::Send {
            visibility: visibility.to_string(),
            source,
        })?;
    match a
        .json()
        .as_ref()
        .and_then(|d| d.get("id"))
        .and_then(Value::as_str)
    {
        Some(id) if (200..300).contains(&a.status) => {
            session.register_cleanup(id, persona);
            Ok(id.to_string())
        }
        _ => Err(CreateError::Status {
            visibility: visibility.to_string(),
            status: a.status,
        }),
    }
}

/// Deletes what set-up and the run created; what could not be deleted is housekeeping.
pub(super) async fn clean_up(session: &Session, report: &mut HostileReport) {
    for e in session.cleanup().await {
        report.housekeeping.push(format!(
            "clean-up: {} (`sharecheck cleanup --run-id {}` retries)",
            chain(&e),
            report.run_id
        ));
    }
}

#[derive(Default)]
pub(super) struct Tally {
    pub sent: usize,
    pub unsendable: usize,
    pub statuses: BTreeMap<u16, usize>,
    pub transport_errors: usize,
    pub by_property: BTreeMap<Property, usize>,
    pub violations: Vec<Violation>,
    /// (persona, image id) of images a hostile request created (a 201 on `POST /v2/images`).
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
