//! Concurrency: N clients adding, updating and removing members of one image at the same
//! time; afterwards the target's member list must be what *some* serial order of the
//! acknowledged operations leaves behind (nothing acknowledged is lost, nothing unacknowledged
//! appears), and every answer must be the one the reference gives at that point of the order.
//!
//! [`run`] drives a target: the owner persona creates one shared image named
//! `sharecheck-<random>-concurrency` (so `sharecheck cleanup` finds leftovers), `clients`
//! tokio tasks each send a seeded random sequence of member operations on it, the owner reads
//! the final member list, the image is deleted (whatever happened before), and [`check`]
//! judges the recorded history.
//!
//! [`check`] is a pure function over (history, final member list), so tests can feed it
//! fabricated histories. It decides linearizability (Herlihy & Wing): is there a total order
//! of the operations that respects real time (an operation that completed before another was
//! sent comes first) in which every answer is the reference's answer and the last state is
//! the observed one?
//!
//! How the check stays cheap:
//! - **Per member.** Operations on different member ids commute, so each member id is checked
//!   on its own (P-compositionality). The member quota would couple them; [`run`] keeps the
//!   pool of member ids *below* the target's `member_quota` (when the target file states one;
//!   otherwise it assumes the quota is at least 9, Glance's default being 128), so no add can
//!   meet the quota. A 413 without `Retry-After` is therefore unexplained, which is what it
//!   should be if that assumption is wrong.
//! - **Search.** Per member, a depth-first search over the operations that may come next
//!   (those sent before the earliest completion among the operations not yet placed), with
//!   the Wing & Gong / Lowe memo of visited (placed set, member state) pairs. Refusals change
//!   nothing wherever they fit, so one that fits is placed at once without branching.
//! - **The rules come from [`Model`].** The per-member transition table (4 states × 5
//!   operations) is computed by running each operation on a fresh `Model` holding one shared
//!   image in the given state, so the rules have one source of truth. The quota is unlimited
//!   there (see above) and the member acts as a non-admin identity; an admin persona used as a
//!   member answers the same for its own row.
//!
//! What the answers mean to the check:
//! - 2xx: the operation took effect; the model must accept it in that state, and a body's
//!   `member_id` and `status`, when present, must match the model's row afterwards.
//! - 429, or 413 with `Retry-After`: throttled; no effect, no constraint (the client retries).
//! - any other 4xx: refused; the model must refuse it in that state with that same code.
//! - 5xx and transport errors: unknown; the operation may or may not have taken effect (at
//!   any point after it was sent, and before its answer for a 5xx). A transport error's
//!   request is assumed to have landed before the final read, which follows every answer.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::model::{Identities, Identity, MemberStatus, Model, Rules};
use crate::suite::Target;

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

/// What a member operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// The owner adds the member (`POST /v2/images/{id}/members`).
    Add,
    /// The owner removes the member (`DELETE /v2/images/{id}/members/{member}`).
    Remove,
    /// The member sets its own status (`PUT /v2/images/{id}/members/{member}`).
    SetStatus(MemberStatus),
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpKind::Add => f.write_str("add"),
            OpKind::Remove => f.write_str("remove"),
            OpKind::SetStatus(s) => write!(f, "set status {}", s.as_str()),
        }
    }
}

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP answer.
    Status {
        /// The status code.
        code: u16,
        /// The body, kept for 2xx answers.
        body: Option<String>,
        /// Whether the answer carried `Retry-After`.
        retry_after: bool,
    },
    /// No answer (connection error, timeout): the operation may or may not have taken effect.
    Transport(String),
}

impl Answer {
    /// A 2xx answer with its body.
    pub fn ok(code: u16, body: &str) -> Answer {
        Answer::Status {
            code,
            body: Some(body.to_string()),
            retry_after: false,
        }
    }

    /// An answer without body or `Retry-After`.
    pub fn status(code: u16) -> Answer {
        Answer::Status {
            code,
            body: None,
            retry_after: false,
        }
    }

    fn class(&self) -> Class {
        match self {
            Answer::Transport(_) => Class::Unknown,
            Answer::Status { code, .. } if (200..300).contains(code) => Class::Acknowledged,
            Answer::Status {
                code, retry_after, ..
            } if *code == 429 || (*code == 413 && *retry_after) => Class::Throttled,
            Answer::Status { code, .. } if *code >= 500 => Class::Unknown,
            Answer::Status { .. } => Class::Refused,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Status { code, .. } => write!(f, "{code}"),
            Answer::Transport(e) => write!(f, "no answer ({e})"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Acknowledged,
    Refused,
    Throttled,
    Unknown,
}

/// One operation as sent and answered.
#[derive(Clone, Debug)]
pub struct Op {
    /// Which client sent it (0-based).
    pub client: usize,
    /// What it does.
    pub kind: OpKind,
    /// The member (project id) it is about.
    pub member: String,
    /// The persona that sent it (`owner`, or the member's persona for a status change).
    pub persona: String,
    /// When the request was sent.
    pub invoked: Instant,
    /// When the answer (or the transport error) arrived.
    pub completed: Instant,
    /// The answer.
    pub answer: Answer,
}

/// The judgement on a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A serial order explains every answer and the final member list.
    Explained,
    /// No serial order does; one explanation per member id that cannot be explained.
    Unexplained(Vec<String>),
    /// Nothing could be decided (set-up failed, the final list could not be read, or the
    /// search gave up).
    Undecided(String),
}

impl Verdict {
    /// Whether a serial order was found.
    pub fn explained(&self) -> bool {
        matches!(self, Verdict::Explained)
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

// ----- the check ---------------------------------------------------------------------------

/// A member id's state on the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Row {
    Absent,
    Present(MemberStatus),
}

impl Row {
    const ALL: [Row; 4] = [
        Row::Absent,
        Row::Present(MemberStatus::Pending),
        Row::Present(MemberStatus::Accepted),
        Row::Present(MemberStatus::Rejected),
    ];
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Row::Absent => f.write_str("absent"),
            Row::Present(s) => write!(f, "present ({})", s.as_str()),
        }
    }
}

const OP_KINDS: [OpKind; 5] = [
    OpKind::Add,
    OpKind::Remove,
    OpKind::SetStatus(MemberStatus::Pending),
    OpKind::SetStatus(MemberStatus::Accepted),
    OpKind::SetStatus(MemberStatus::Rejected),
];

/// The reference's answer to an operation in a state: accepted (`Ok`) or refused with a code,
/// and the state afterwards.
#[derive(Clone, Copy, Debug)]
struct Step {
    answer: Result<(), u16>,
    after: Row,
}

/// The per-member transition table, computed from [`Model`].
struct Rules1 {
    table: HashMap<(Row, OpKind), Step>,
}

impl Rules1 {
    fn from_model() -> Rules1 {
        let mut table = HashMap::new();
        for row in Row::ALL {
            for kind in OP_KINDS {
                table.insert((row, kind), model_step(row, kind));
            }
        }
        Rules1 { table }
    }

    fn step(&self, row: Row, kind: OpKind) -> Step {
        self.table[&(row, kind)]
    }
}

/// Runs `kind` on a fresh model whose one shared image has the member in state `before`.
fn model_step(before: Row, kind: OpKind) -> Step {
    const MEMBER: &str = "sharecheck-model-member";
    let roles = vec!["member".to_string(), "reader".to_string()];
    let owner = Identity {
        project_id: "sharecheck-model-owner".into(),
        user_id: "sharecheck-model-owner-user".into(),
        roles: roles.clone(),
    };
    let member = Identity {
        project_id: MEMBER.into(),
        user_id: "sharecheck-model-member-user".into(),
        roles,
    };
    let mut model = Model::new(
        Identities::default(),
        Rules {
            member_quota: -1,
            mutant: None,
        },
    );
    let image = model
        .create_image(
            &owner,
            br#"{"name": "concurrency", "visibility": "shared"}"#,
        )
        .expect("the model creates a shared image")
        .id;
    let add = json!({ "member": MEMBER }).to_string();
    let status = |s: MemberStatus| json!({ "status": s.as_str() }).to_string();
    if let Row::Present(s) = before {
        model
            .add_member(&owner, &image, add.as_bytes())
            .expect("the model adds a member");
        if s != MemberStatus::Pending {
            model
                .update_member(&member, &image, MEMBER, status(s).as_bytes())
                .expect("the model sets a status");
        }
    }
    let answer = match kind {
        OpKind::Add => model.add_member(&owner, &image, add.as_bytes()).map(drop),
        OpKind::Remove => model.delete_member(&owner, &image, MEMBER, b""),
        OpKind::SetStatus(s) => model
            .update_member(&member, &image, MEMBER, status(s).as_bytes())
            .map(drop),
    }
    .map_err(|e| e.kind.status());
    let after = match model.show_member(&owner, &image, MEMBER) {
        Ok(m) => Row::Present(m.status),
        Err(_) => Row::Absent,
    };
    Step { answer, after }
}

/// One operation of one member's history, as the search sees it.
struct Event<'a> {
    op: &'a Op,
    /// Index in the whole history (for messages).
    index: usize,
    class: Class,
    /// Until when it may take effect; `None`: no bound (no answer came).
    deadline: Option<Instant>,
}

impl Event<'_> {
    /// Why the answer does not fit the step the reference takes, if it does not.
    fn misfit(&self, step: &Step) -> Option<String> {
        let Answer::Status { code, body, .. } = &self.op.answer else {
            return None;
        };
        match (self.class, step.answer) {
            (Class::Acknowledged, Ok(())) => {
                let doc: Value = body
                    .as_deref()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .unwrap_or(Value::Null);
                if let Some(id) = doc.get("member_id").and_then(Value::as_str)
                    && id != self.op.member
                {
                    return Some(format!("its body names member `{id}`"));
                }
                if let (Some(s), Row::Present(want)) =
                    (doc.get("status").and_then(Value::as_str), step.after)
                    && s != want.as_str()
                {
                    return Some(format!(
                        "its body says status `{s}`, but the row would be {}",
                        step.after
                    ));
                }
                None
            }
            (Class::Acknowledged, Err(want)) => Some(format!(
                "answered {code}, but the reference refuses it there with {want}"
            )),
            (Class::Refused, Ok(())) => Some(format!(
                "answered {code}, but the reference accepts it there"
            )),
            (Class::Refused, Err(want)) if want != *code => Some(format!(
                "answered {code}, but the reference refuses it there with {want}"
            )),
            _ => None,
        }
    }
}

/// Most (placed set, state) pairs visited per member before the search gives up.
const BUDGET: usize = 2_000_000;

/// Decides whether some serial order of `history`, consistent with real time, explains every
/// answer and leaves `final_members` (member id → status as the target lists it). The empty
/// state is the start. Pure: no I/O.
pub fn check(history: &[Op], final_members: &BTreeMap<String, String>) -> Verdict {
    check_with(history, Some(final_members))
}

/// [`check`] when the final member list is unknown (`None`): only the answers must be
/// explained, and any end state will do.
pub fn check_answers(history: &[Op]) -> Verdict {
    check_with(history, None)
}

fn check_with(history: &[Op], final_members: Option<&BTreeMap<String, String>>) -> Verdict {
    let rules = Rules1::from_model();
    let t0 = history.iter().map(|o| o.invoked).min();
    let mut ids: BTreeSet<&str> = history.iter().map(|o| o.member.as_str()).collect();
    ids.extend(
        final_members
            .into_iter()
            .flat_map(|f| f.keys().map(String::as_str)),
    );
    let mut unexplained = Vec::new();
    let mut undecided = Vec::new();
    for id in ids {
        let final_row = match final_members.map(|f| f.get(id)) {
            None => None,
            Some(None) => Some(Row::Absent),
            Some(Some(s)) => match MemberStatus::parse(s) {
                Some(s) => Some(Row::Present(s)),
                None => {
                    unexplained.push(format!(
                        "member `{id}`: the target lists it with status `{s}`, which is no member status"
                    ));
                    continue;
                }
            },
        };
        let events: Vec<Event> = history
            .iter()
            .enumerate()
            .filter(|(_, o)| o.member == id)
            .filter_map(|(index, op)| {
                let class = op.answer.class();
                let deadline = match op.answer {
                    Answer::Transport(_) => None,
                    Answer::Status { .. } => Some(op.completed),
                };
                (class != Class::Throttled).then_some(Event {
                    op,
                    index,
                    class,
                    deadline,
                })
            })
            .collect();
        match search(&rules, id, events, final_row, t0) {
            Search::Found => {}
            Search::NotFound(why) => unexplained.push(why),
            Search::GaveUp(why) => undecided.push(why),
        }
    }
    if !unexplained.is_empty() {
        Verdict::Unexplained(unexplained)
    } else if !undecided.is_empty() {
        Verdict::Undecided(undecided.join("; "))
    } else {
        Verdict::Explained
    }
}

enum Search {
    Found,
    NotFound(String),
    GaveUp(String),
}

/// A node of the search: the placed set, how many are placed, the member's state.
type Node = (Vec<u64>, usize, Row);

/// The furthest the search got: how many operations were placed, in which state, and why
/// each candidate for the next place did not fit.
struct Furthest {
    seen: bool,
    placed: usize,
    row: Row,
    misfits: Vec<String>,
    ends: BTreeSet<String>,
}

fn search(
    rules: &Rules1,
    id: &str,
    mut ev: Vec<Event>,
    final_row: Option<Row>,
    t0: Option<Instant>,
) -> Search {
    ev.sort_by_key(|e| (e.op.invoked, e.index));
    let n = ev.len();
    let words = n.div_ceil(64).max(1);
    let at = |t: Instant| {
        t0.map_or(0.0, |t0| {
            t.saturating_duration_since(t0).as_secs_f64() * 1000.0
        })
    };
    let describe = |e: &Event| {
        format!(
            "#{} client {} {} ({}, {:.1}–{:.1} ms)",
            e.index,
            e.op.client,
            e.op.kind,
            e.op.answer,
            at(e.op.invoked),
            at(e.op.completed)
        )
    };
    let mut visited: HashSet<(Vec<u64>, Row)> = HashSet::new();
    let mut furthest = Furthest {
        seen: false,
        placed: 0,
        row: Row::Absent,
        misfits: Vec::new(),
        ends: BTreeSet::new(),
    };
    let is_placed = |p: &[u64], i: usize| p[i / 64] & (1 << (i % 64)) != 0;
    let place = |p: &mut [u64], i: usize| p[i / 64] |= 1 << (i % 64);

    // Expands a node not visited before: places fitting refusals greedily, then lists the
    // branches (the earliest sent last, so that it is tried first). `None`: a success.
    let expand = |mut placed: Vec<u64>,
                  mut count: usize,
                  row: Row,
                  visited: &mut HashSet<(Vec<u64>, Row)>,
                  furthest: &mut Furthest|
     -> Option<Vec<Node>> {
        loop {
            // The earliest deadline among the operations not yet placed: nothing sent after
            // it may come next.
            let horizon = (0..n)
                .filter(|&i| !is_placed(&placed, i))
                .filter_map(|i| ev[i].deadline)
                .min();
            let mut greedy = None;
            let mut choices = Vec::new();
            let mut misfits = Vec::new();
            for (i, e) in ev.iter().enumerate() {
                if is_placed(&placed, i) {
                    continue;
                }
                if horizon.is_some_and(|h| e.op.invoked > h) {
                    break; // sorted by invocation: none further may come next either
                }
                let step = rules.step(row, e.op.kind);
                let mut next = placed.clone();
                place(&mut next, i);
                match e.class {
                    Class::Unknown => {
                        // It took effect here, or it never did.
                        choices.push((next.clone(), count + 1, step.after));
                        choices.push((next, count + 1, row));
                    }
                    _ => match e.misfit(&step) {
                        Some(why) => misfits.push(format!("{}: {why}", describe(e))),
                        None if e.class == Class::Refused && step.after == row => {
                            // A refusal changes nothing wherever it fits (the model refuses
                            // before it acts): place it now, no other order is needed.
                            greedy = Some(next);
                            break;
                        }
                        None => choices.push((next, count + 1, step.after)),
                    },
                }
            }
            if let Some(next) = greedy {
                placed = next;
                count += 1;
                if !visited.insert((placed.clone(), row)) {
                    return Some(Vec::new());
                }
                continue;
            }
            if count == n {
                if final_row.is_none_or(|f| f == row) {
                    return None;
                }
                furthest.ends.insert(row.to_string());
            }
            if !furthest.seen || count > furthest.placed {
                furthest.seen = true;
                furthest.placed = count;
                furthest.row = row;
                furthest.misfits = misfits;
            }
            choices.reverse();
            return Some(choices);
        }
    };

    visited.insert((vec![0; words], Row::Absent));
    let mut stack = match expand(vec![0; words], 0, Row::Absent, &mut visited, &mut furthest) {
        None => return Search::Found,
        Some(choices) => vec![choices],
    };
    while let Some(top) = stack.last_mut() {
        let Some((placed, count, row)) = top.pop() else {
            stack.pop();
            continue;
        };
        if !visited.insert((placed.clone(), row)) {
            continue;
        }
        if visited.len() > BUDGET {
            return Search::GaveUp(format!(
                "member `{id}`: the search gave up after {BUDGET} states ({n} operations)"
            ));
        }
        match expand(placed, count, row, &mut visited, &mut furthest) {
            None => return Search::Found,
            Some(choices) => stack.push(choices),
        }
    }

    let acked = ev.iter().filter(|e| e.class == Class::Acknowledged).count();
    let ends = match final_row {
        Some(f) => format!("; the target ends with it {f}"),
        None => String::new(),
    };
    let ops = if n == 1 { "operation" } else { "operations" };
    let mut why = format!(
        "member `{id}` ({n} {ops}, {acked} acknowledged{ends}): no serial order explains it."
    );
    if furthest.placed == n {
        why.push_str(&format!(
            "\n  every order that explains the answers leaves it {}",
            furthest
                .ends
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    } else {
        why.push_str(&format!(
            "\n  the longest explainable order places {} of {n} {ops}, leaving it {}; none of the operations that may come next fits:",
            furthest.placed, furthest.row
        ));
        const SHOWN: usize = 6;
        for m in furthest.misfits.iter().take(SHOWN) {
            why.push_str(&format!("\n  - {m}"));
        }
        if furthest.misfits.len() > SHOWN {
            why.push_str(&format!(
                "\n  - … and {} more",
                furthest.misfits.len() - SHOWN
            ));
        }
    }
    Search::NotFound(why)
}

// ----- the run -----------------------------------------------------------------------------

/// The pool's size when the member quota allows it: small, so that operations collide.
const POOL: usize = 8;
/// Most attempts of one operation while the target throttles it.
const MAX_ATTEMPTS: usize = 10;
/// Longest wait honoured from `Retry-After`.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// A member id the clients choose from; persona members also set their own status.
#[derive(Clone, Debug)]
struct PoolMember {
    id: String,
    /// (persona name, token) when the id is a persona's project.
    persona: Option<(String, String)>,
}

/// The member ids: the personas' projects (not the owner's), then `sharecheck-cc-<n>`, at most
/// `member_quota - 1` of them so that no add meets the quota (which would couple the ids).
fn pool(target: &Target, owner_project: &str) -> Result<Vec<PoolMember>, String> {
    let size = match target.member_quota {
        Some(q) if (q as usize) <= POOL => (q as usize).saturating_sub(1),
        _ => POOL,
    };
    if size == 0 {
        return Err(format!(
            "the member quota {:?} leaves no room for members that never meet it",
            target.member_quota
        ));
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
                persona: Some((name.clone(), p.token.clone())),
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
    http: reqwest::Client,
    members_url: String,
    owner_token: String,
}

/// Sends one operation; the op as recorded, and how long the target asks to wait.
async fn send(ctx: &Ctx, client: usize, kind: OpKind, member: &PoolMember) -> (Op, Option<u64>) {
    let one = format!(
        "{}/{}",
        ctx.members_url,
        percent_encoding::utf8_percent_encode(&member.id, percent_encoding::NON_ALPHANUMERIC)
    );
    let (persona, req) = match kind {
        OpKind::Add => (
            "owner".to_string(),
            ctx.http
                .post(&ctx.members_url)
                .header("x-auth-token", &ctx.owner_token)
                .json(&json!({ "member": member.id })),
        ),
        OpKind::Remove => (
            "owner".to_string(),
            ctx.http
                .delete(one)
                .header("x-auth-token", &ctx.owner_token),
        ),
        OpKind::SetStatus(s) => {
            let (name, token) = member
                .persona
                .clone()
                .expect("status changes are planned for persona members only");
            (
                name,
                ctx.http
                    .put(one)
                    .header("x-auth-token", token)
                    .json(&json!({ "status": s.as_str() })),
            )
        }
    };
    let req = req.header("accept", "application/json");
    let invoked = Instant::now();
    let (answer, wait) = match req.send().await {
        Ok(r) => {
            let code = r.status().as_u16();
            let retry = r.headers().get("retry-after");
            let retry_after = retry.is_some();
            let wait = retry
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = r.text().await.ok();
            (
                Answer::Status {
                    code,
                    body: body.filter(|_| (200..300).contains(&code)),
                    retry_after,
                },
                wait,
            )
        }
        Err(e) => (Answer::Transport(e.to_string()), None),
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
    ctx: std::sync::Arc<Ctx>,
    pool: std::sync::Arc<Vec<PoolMember>>,
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

/// Deletes the image if the run is dropped before it could (cancellation, panic).
struct DeleteOnDrop {
    http: reqwest::Client,
    url: String,
    token: String,
    armed: bool,
}

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        if self.armed
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let req = self
                .http
                .delete(std::mem::take(&mut self.url))
                .header("x-auth-token", std::mem::take(&mut self.token));
            rt.spawn(async move {
                let _ = req.send().await;
            });
        }
    }
}

/// Runs the concurrency check against `target`: set-up, `opts.clients` concurrent clients,
/// the final read, clean-up, and [`check`]. Never panics on the target's behaviour; every
/// problem ends up in the report.
pub async fn run(target: &Target, opts: &ConcurrencyOptions) -> ConcurrencyReport {
    let started = Instant::now();
    let mut report = ConcurrencyReport::new(opts);
    if let Err(why) = drive(target, opts, &mut report).await {
        report.verdict = Verdict::Undecided(why);
    }
    report.elapsed = started.elapsed();
    report
}

async fn drive(
    target: &Target,
    opts: &ConcurrencyOptions,
    report: &mut ConcurrencyReport,
) -> Result<(), String> {
    let owner = target
        .personas
        .get("owner")
        .ok_or("the target has no `owner` persona")?;
    let http = crate::suite::target::http_client(&target.tls, &target.network)
        .map_err(|e| e.to_string())?;
    let pool = pool(target, &owner.project_id)?;
    report.pool = pool.iter().map(|m| m.id.clone()).collect();
    let base = target.base();

    // Set-up: one shared image, deleted at the end whatever happens.
    let name = format!(
        "sharecheck-{}-concurrency",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let created = http
        .post(format!("{base}/v2/images"))
        .header("x-auth-token", &owner.token)
        .header("accept", "application/json")
        .json(&json!({ "name": name, "visibility": "shared" }))
        .send()
        .await
        .map_err(|e| format!("set-up: creating the image: {e}"))?;
    let code = created.status();
    let doc: Value = created.json().await.unwrap_or_default();
    let image = match doc.get("id").and_then(Value::as_str) {
        Some(id) if code.is_success() => id.to_string(),
        _ => return Err(format!("set-up: creating the image answered {code}")),
    };
    report.image_id = Some(image.clone());
    let image_url = format!("{base}/v2/images/{image}");
    let mut guard = DeleteOnDrop {
        http: http.clone(),
        url: image_url.clone(),
        token: owner.token.clone(),
        armed: true,
    };

    // The workload.
    let ctx = std::sync::Arc::new(Ctx {
        http: http.clone(),
        members_url: format!("{image_url}/members"),
        owner_token: owner.token.clone(),
    });
    let shared_pool = std::sync::Arc::new(pool);
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
    let final_members = read_members(&http, &ctx, target.network.retries).await;

    // Clean-up.
    let mut cleanup = Err("not tried".to_string());
    for _ in 0..=target.network.retries {
        cleanup = match http
            .delete(&image_url)
            .header("x-auth-token", &owner.token)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 404 => Ok(()),
            Ok(r) => Err(format!("deleting image {image} answered {}", r.status())),
            Err(e) => Err(format!("deleting image {image}: {e}")),
        };
        if cleanup.is_ok() {
            break;
        }
    }
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
        (None, Err(why)) => match check_answers(&report.history) {
            Verdict::Unexplained(mut lines) => {
                lines.push(format!("(the final member list was not read: {why})"));
                Verdict::Unexplained(lines)
            }
            _ => Verdict::Undecided(format!(
                "{why}; the answers alone are explained by a serial order"
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
async fn read_members(http: &reqwest::Client, ctx: &Ctx, retries: u32) -> Result<Listed, String> {
    let mut failures = 0;
    let mut throttled = 0;
    loop {
        let r = http
            .get(&ctx.members_url)
            .header("x-auth-token", &ctx.owner_token)
            .header("accept", "application/json")
            .send()
            .await;
        let why = match r {
            Ok(r) if r.status().is_success() => {
                let doc: Value = r
                    .json()
                    .await
                    .map_err(|e| format!("the final member list is no JSON: {e}"))?;
                let mut out = Listed {
                    members: BTreeMap::new(),
                    duplicates: Vec::new(),
                };
                for m in doc
                    .get("members")
                    .and_then(Value::as_array)
                    .ok_or("the final member list has no `members` array")?
                {
                    let id = m.get("member_id").and_then(Value::as_str);
                    let status = m.get("status").and_then(Value::as_str);
                    let (Some(id), Some(status)) = (id, status) else {
                        return Err(format!(
                            "a final member entry lacks member_id or status: {m}"
                        ));
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
            Ok(r)
                if (r.status().as_u16() == 429 || r.status().as_u16() == 413)
                    && throttled < MAX_ATTEMPTS =>
            {
                throttled += 1;
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait).min(MAX_WAIT)).await;
                continue;
            }
            Ok(r) => {
                return Err(format!(
                    "reading the final member list answered {}",
                    r.status()
                ));
            }
            Err(e) => format!("reading the final member list: {e}"),
        };
        failures += 1;
        if failures > retries {
            return Err(why);
        }
    }
}
