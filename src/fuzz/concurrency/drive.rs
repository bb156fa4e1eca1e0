//! The driver: one shared image, `clients` concurrent tasks sending member operations through
//! one [`Session`], the final read, the clean-up, and the verdict of [`check`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::check::{Answer, Class, Op, OpKind, Verdict, check, check_answers};
use crate::error::chain;
use crate::model::MemberStatus;
use crate::target::{CleanupError, Req, SendError, Session, Stage, Target};

/// How many clients, how many operations each, and the seed of their choices.
#[derive(Clone, Debug)]
pub struct ConcurrencyOptions {
    /// Concurrent clients (tokio tasks); at least 1.
    pub clients: usize,
    /// Operations each client sends (throttled retries not counted).
    pub ops_per_client: usize,
    /// Seed of every client's random sequence.
    pub seed: u64,
}

impl Default for ConcurrencyOptions {
    fn default() -> Self {
        ConcurrencyOptions {
            clients: 32,
            ops_per_client: 16,
            seed: 1,
        }
    }
}

/// What a concurrency run did and found.
#[derive(Clone, Debug)]
pub struct ConcurrencyReport {
    /// The options of the run.
    pub clients: usize,
    /// Operations per client.
    pub ops_per_client: usize,
    /// The seed.
    pub seed: u64,
    /// The shared image, once created.
    pub image_id: Option<String>,
    /// The member ids the clients chose from.
    pub pool: Vec<String>,
    /// Requests sent by the clients (throttled retries included).
    pub sent: usize,
    /// Answered 2xx.
    pub acknowledged: usize,
    /// Answered 4xx, by status (throttled answers included).
    pub refused: BTreeMap<u16, usize>,
    /// Of those, throttled (429, or 413 with `Retry-After`) and retried.
    pub throttled: usize,
    /// Answered 5xx, by status.
    pub server_errors: BTreeMap<u16, usize>,
    /// No answer.
    pub transport_errors: usize,
    /// The final member list as the owner read it: member id → status.
    pub final_members: Option<BTreeMap<String, String>>,
    /// Whether, and why not, a serial order explains the history.
    pub verdict: Verdict,
    /// Why the image could not be deleted, if it could not.
    pub cleanup_error: Option<String>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Every operation sent, in order of sending.
    pub history: Vec<Op>,
}

impl ConcurrencyReport {
    fn new(opts: &ConcurrencyOptions) -> Self {
        ConcurrencyReport {
            clients: opts.clients,
            ops_per_client: opts.ops_per_client,
            seed: opts.seed,
            image_id: None,
            pool: Vec::new(),
            sent: 0,
            acknowledged: 0,
            refused: BTreeMap::new(),
            throttled: 0,
            server_errors: BTreeMap::new(),
            transport_errors: 0,
            final_members: None,
            verdict: Verdict::Undecided("not run".into()),
            cleanup_error: None,
            elapsed: Duration::ZERO,
            history: Vec::new(),
        }
    }

    /// Whether a serial order was found and the image was deleted.
    pub fn passed(&self) -> bool {
        self.verdict.explained() && self.cleanup_error.is_none()
    }
}

impl fmt::Display for ConcurrencyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = |m: &BTreeMap<u16, usize>| {
            m.iter()
                .map(|(c, n)| format!("{c}×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "concurrency: {} clients × {} operations (seed {}) on image {}",
            self.clients,
            self.ops_per_client,
            self.seed,
            self.image_id.as_deref().unwrap_or("(none)")
        )?;
        writeln!(f, "  member pool: {}", self.pool.join(", "))?;
        writeln!(
            f,
            "  sent {}, acknowledged {}, refused {} [{}] (throttled {}), server errors {} [{}], transport errors {}",
            self.sent,
            self.acknowledged,
            self.refused.values().sum::<usize>(),
            counts(&self.refused),
            self.throttled,
            self.server_errors.values().sum::<usize>(),
            counts(&self.server_errors),
            self.transport_errors
        )?;
        match &self.final_members {
            Some(m) if m.is_empty() => writeln!(f, "  final members: none")?,
            Some(m) => writeln!(
                f,
                "  final members: {}",
                m.iter()
                    .map(|(id, s)| format!("{id} ({s})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
            None => writeln!(f, "  final members: not read")?,
        }
        match &self.verdict {
            Verdict::Explained => writeln!(f, "  a serial order explains every answer: yes")?,
            Verdict::Unexplained(why) => {
                writeln!(f, "  a serial order explains every answer: NO")?;
                for w in why {
                    for line in w.lines() {
                        writeln!(f, "    {line}")?;
                    }
                }
            }
            Verdict::Undecided(why) => writeln!(f, "  undecided: {why}")?,
        }
        if let Some(e) = &self.cleanup_error {
            writeln!(f, "  clean-up failed: {e}")?;
        }
        write!(f, "  elapsed {:.2} s", self.elapsed.as_secs_f64())
    }
}

// ----- the run -----------------------------------------------------------------------------

/// The pool's size when the member quota allows it: small, so that operations collide.
const POOL: usize = 8;
/// Most attempts of one operation while the target throttles it.
const MAX_ATTEMPTS: usize = 10;
/// Longest wait honoured from `Retry-After`.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Why the workload could not run: the report says so as undecided.
#[derive(Debug, thiserror::Error)]
enum SetupError {
    #[error("the target has no `owner` persona")]
    NoOwner,
    #[error("the member quota {0:?} leaves no room for members that never meet it")]
    Quota(Option<u32>),
    #[error("set-up: creating the image")]
    Create(#[source] SendError),
    #[error("set-up: creating the image answered {0}")]
    Created(u16),
}

/// Why the final member list was not read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("reading the final member list")]
    Send(#[source] SendError),
    #[error("reading the final member list answered {0}")]
    Status(u16),
    #[error("the final member list is no JSON")]
    Json(#[source] serde_json::Error),
    #[error("the final member list has no `members` array")]
    NoArray,
    #[error("a final member entry lacks member_id or status: {0}")]
    Entry(Value),
}

/// A member id the clients choose from; persona members also set their own status.
#[derive(Clone, Debug)]
struct PoolMember {
    id: String,
    /// The persona's name when the id is a persona's project.
    persona: Option<String>,
}

/// The member ids: the personas' projects (not the owner's), then `sharecheck-cc-<n>`, at most
/// `member_quota - 1` of them so that no add meets the quota (which would couple the ids).
fn pool(target: &Target, owner_project: &str) -> Result<Vec<PoolMember>, SetupError> {
    let size = match target.member_quota {
        Some(q) if (q as usize) <= POOL => (q as usize).saturating_sub(1),
        _ => POOL,
    };
    if size == 0 {
        return Err(SetupError::Quota(target.member_quota));
    }
    const ORDER: [&str; 4] = ["member", "other_member", "stranger", "admin"];
    let mut personas: Vec<_> = target
        .personas
        .iter()
        .filter(|(name, p)| {
            name.as_str() != "owner" && !p.project_id.is_empty() && p.project_id != owner_project
        })
        .collect();
    personas.sort_by_key(|(name, _)| ORDER.iter().position(|o| o == name).unwrap_or(ORDER.len()));
    // Leave at least one synthetic id when there is room for two.
    let take = if size >= 2 { size - 1 } else { size };
    let mut out: Vec<PoolMember> = Vec::new();
    for (name, p) in personas {
        if out.len() == take {
            break;
        }
        if out.iter().all(|m| m.id != p.project_id) {
            out.push(PoolMember {
                id: p.project_id.clone(),
                persona: Some(name.clone()),
            });
        }
    }
    let mut n = 0;
    while out.len() < size {
        out.push(PoolMember {
            id: format!("sharecheck-cc-{n}"),
            persona: None,
        });
        n += 1;
    }
    Ok(out)
}

fn rng_for(seed: u64, client: usize, stream: u64) -> StdRng {
    let mix = (client as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.rotate_left(32);
    StdRng::seed_from_u64(seed ^ mix)
}

/// A client's operations: (what, index in the pool). Persona members also get status
/// changes; synthetic ids are only added and removed.
fn plan(pool: &[PoolMember], client: usize, opts: &ConcurrencyOptions) -> Vec<(OpKind, usize)> {
    let mut rng = rng_for(opts.seed, client, 0);
    (0..opts.ops_per_client)
        .map(|_| {
            let m = rng.random_range(0..pool.len());
            let kind = if pool[m].persona.is_some() {
                match rng.random_range(0..20) {
                    0..7 => OpKind::Add,
                    7..13 => OpKind::Remove,
                    k => OpKind::SetStatus(MemberStatus::ALL[k % 3]),
                }
            } else if rng.random_bool(0.55) {
                OpKind::Add
            } else {
                OpKind::Remove
            };
            (kind, m)
        })
        .collect()
}

/// What every client needs to send requests.
struct Ctx {
    session: Session,
    members_path: String,
}

/// Sends one operation; the op as recorded, and how long the target asks to wait.
async fn send(ctx: &Ctx, client: usize, kind: OpKind, member: &PoolMember) -> (Op, Option<u64>) {
    let one = format!(
        "{}/{}",
        ctx.members_path,
        percent_encoding::utf8_percent_encode(&member.id, percent_encoding::NON_ALPHANUMERIC)
    );
    let (persona, req) = match kind {
        OpKind::Add => (
            "owner".to_string(),
            Req::by("owner", "POST", ctx.members_path.clone())
                .json(&json!({ "member": member.id })),
        ),
        OpKind::Remove => ("owner".to_string(), Req::by("owner", "DELETE", one)),
        OpKind::SetStatus(s) => {
            let name = member
                .persona
                .clone()
                .expect("status changes are planned for persona members only");
            let req = Req::by(&name, "PUT", one).json(&json!({ "status": s.as_str() }));
            (name, req)
        }
    };
    let invoked = Instant::now();
    let (answer, wait) = match ctx.session.send(req).await {
        Ok(r) => {
            let code = r.status;
            let retry = r.headers.get("retry-after");
            let retry_after = retry.is_some();
            let wait = retry
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = String::from_utf8(r.body).ok();
            (
                Answer::Status {
                    code,
                    body: body.filter(|_| (200..300).contains(&code)),
                    retry_after,
                },
                wait,
            )
        }
        Err(e) => (Answer::Transport(chain(&e)), None),
    };
    let op = Op {
        client,
        kind,
        member: member.id.clone(),
        persona,
        invoked,
        completed: Instant::now(),
        answer,
    };
    (op, wait)
}

/// One client: its planned operations in order, each retried while throttled.
async fn client_task(
    ctx: Arc<Ctx>,
    pool: Arc<Vec<PoolMember>>,
    client: usize,
    opts: ConcurrencyOptions,
) -> Vec<Op> {
    let mut jitter = rng_for(opts.seed, client, 1);
    let mut ops = Vec::new();
    for (kind, m) in plan(&pool, client, &opts) {
        for attempt in 1..=MAX_ATTEMPTS {
            let (op, wait) = send(&ctx, client, kind, &pool[m]).await;
            let throttled = op.answer.class() == Class::Throttled;
            ops.push(op);
            if !throttled || attempt == MAX_ATTEMPTS {
                break;
            }
            let wait = Duration::from_secs(wait.unwrap_or(1)).min(MAX_WAIT)
                + Duration::from_millis(jitter.random_range(0..50));
            tokio::time::sleep(wait).await;
        }
    }
    ops
}

/// Deletes the registered image if the run is dropped before it could (cancellation, panic).
struct DeleteOnDrop {
    session: Arc<Session>,
    armed: bool,
}

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        if self.armed
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let session = self.session.clone();
            rt.spawn(async move {
                let _ = session.cleanup().await;
            });
        }
    }
}

/// Runs the concurrency check against `target`: set-up, `opts.clients` concurrent clients,
/// the final read, clean-up, and [`check`]. Never panics on the target's behaviour; every
/// problem ends up in the report.
pub async fn run(target: &Target, opts: &ConcurrencyOptions) -> ConcurrencyReport {
    match Session::new(target.clone()) {
        Ok(session) => run_in(&session, opts).await,
        Err(e) => {
            let mut report = ConcurrencyReport::new(opts);
            report.verdict = Verdict::Undecided(chain(&e));
            report
        }
    }
}

/// [`run`] through a fork of `session` (its client and target).
pub async fn run_in(session: &Session, opts: &ConcurrencyOptions) -> ConcurrencyReport {
    let started = Instant::now();
    let mut report = ConcurrencyReport::new(opts);
    if let Err(e) = drive(Arc::new(session.fork()), opts, &mut report).await {
        report.verdict = Verdict::Undecided(chain(&e));
    }
    report.elapsed = started.elapsed();
    report
}

async fn drive(
    session: Arc<Session>,
    opts: &ConcurrencyOptions,
    report: &mut ConcurrencyReport,
) -> Result<(), SetupError> {
    let target = session.target();
    let owner = target.personas.get("owner").ok_or(SetupError::NoOwner)?;
    let pool = pool(target, &owner.project_id)?;
    report.pool = pool.iter().map(|m| m.id.clone()).collect();

    // Set-up: one shared image, deleted at the end whatever happens.
    let name = format!(
        "sharecheck-{}-concurrency",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let created = session
        .send(
            Req::by("owner", "POST", "/v2/images")
                .json(&json!({ "name": name, "visibility": "shared" }))
                .stage(Stage::Setup),
        )
        .await
        .map_err(SetupError::Create)?;
    let doc: Value = created.json().unwrap_or_default();
    let image = match doc.get("id").and_then(Value::as_str) {
        Some(id) if (200..300).contains(&created.status) => id.to_string(),
        _ => return Err(SetupError::Created(created.status)),
    };
    report.image_id = Some(image.clone());
    session.register_cleanup(&image, "owner");
    let mut guard = DeleteOnDrop {
        session: session.clone(),
        armed: true,
    };

    // The workload.
    let ctx = Arc::new(Ctx {
        session: session.fork(),
        members_path: format!("/v2/images/{image}/members"),
    });
    let shared_pool = Arc::new(pool);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..opts.clients {
        tasks.spawn(client_task(
            ctx.clone(),
            shared_pool.clone(),
            client,
            opts.clone(),
        ));
    }
    let mut history = Vec::new();
    let mut lost = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(ops) => history.extend(ops),
            Err(e) => lost = Some(format!("a client failed: {e}")),
        }
    }
    history.sort_by_key(|o| o.invoked);

    // The final state, as the owner lists it.
    let final_members = read_members(&ctx, target.network.retries).await;

    // Clean-up.
    let mut cleanup = Err("not tried".to_string());
    for _ in 0..=target.network.retries {
        cleanup = match session.delete_image(&image, "owner").await {
            Ok(()) => Ok(()),
            Err(CleanupError::Refused { status, .. }) => {
                Err(format!("deleting image {image} answered {status}"))
            }
            Err(CleanupError::Send(e)) => Err(format!("deleting image {image}: {}", chain(&e))),
        };
        if cleanup.is_ok() {
            break;
        }
    }
    session.forget_cleanup(&image);
    guard.armed = false;
    report.cleanup_error = cleanup.err();

    // Counts and the verdict.
    for op in &history {
        report.sent += 1;
        match &op.answer {
            Answer::Transport(_) => report.transport_errors += 1,
            Answer::Status { code, .. } => {
                match code {
                    200..=299 => report.acknowledged += 1,
                    400..=499 => *report.refused.entry(*code).or_default() += 1,
                    _ => *report.server_errors.entry(*code).or_default() += 1,
                }
                if op.answer.class() == Class::Throttled {
                    report.throttled += 1;
                }
            }
        }
    }
    report.history = history;
    report.verdict = match (lost, final_members) {
        (Some(why), _) => Verdict::Undecided(why),
        (None, Ok(listed)) => {
            let dups: Vec<String> = listed
                .duplicates
                .iter()
                .map(|id| format!("member `{id}`: the target lists it more than once"))
                .collect();
            let verdict = match check(&report.history, &listed.members) {
                v if dups.is_empty() => v,
                Verdict::Unexplained(why) => {
                    Verdict::Unexplained(dups.into_iter().chain(why).collect())
                }
                _ => Verdict::Unexplained(dups),
            };
            report.final_members = Some(listed.members);
            verdict
        }
        (None, Err(e)) => match check_answers(&report.history) {
            Verdict::Unexplained(mut lines) => {
                let why = chain(&e);
                lines.push(format!("(the final member list was not read: {why})"));
                Verdict::Unexplained(lines)
            }
            _ => Verdict::Undecided(format!(
                "{}; the answers alone are explained by a serial order",
                chain(&e)
            )),
        },
    };
    Ok(())
}

/// The final member list: member id → status, and the ids listed more than once.
struct Listed {
    members: BTreeMap<String, String>,
    duplicates: Vec<String>,
}

/// `GET …/members` as the owner: member id → status. Retried while throttled, and on
/// transport errors up to `retries` times.
async fn read_members(ctx: &Ctx, retries: u32) -> Result<Listed, ReadError> {
    let mut failures = 0;
    let mut throttled = 0;
    loop {
        let r = ctx
            .session
            .send(Req::by("owner", "GET", ctx.members_path.clone()).stage(Stage::Then))
            .await;
        let why = match r {
            Ok(r) if (200..300).contains(&r.status) => {
                let doc: Value = serde_json::from_slice(&r.body).map_err(ReadError::Json)?;
                let mut out = Listed {
                    members: BTreeMap::new(),
                    duplicates: Vec::new(),
                };
                for m in doc
                    .get("members")
                    .and_then(Value::as_array)
                    .ok_or(ReadError::NoArray)?
                {
                    let id = m.get("member_id").and_then(Value::as_str);
                    let status = m.get("status").and_then(Value::as_str);
                    let (Some(id), Some(status)) = (id, status) else {
                        return Err(ReadError::Entry(m.clone()));
                    };
                    if out
                        .members
                        .insert(id.to_string(), status.to_string())
                        .is_some()
                    {
                        out.duplicates.push(id.to_string());
                    }
                }
                return Ok(out);
            }
            Ok(r) if (r.status == 429 || r.status == 413) && throttled < MAX_ATTEMPTS => {
                throttled += 1;
                let wait = r
                    .headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait).min(MAX_WAIT)).await;
                continue;
            }
            Ok(r) => return Err(ReadError::Status(r.status)),
            Err(e) => ReadError::Send(e),
        };
        failures += 1;
        if failures > retries {
            return Err(why);
        }
    }
}
