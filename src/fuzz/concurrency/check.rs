//! The linearizability check, pure: no HTTP, no clock of its own. Given the recorded
//! operations (and the final member list, when read), is there a serial order that explains
//! every answer? See the module documentation of `concurrency`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::time::Instant;

use serde_json::{Value, json};

use crate::model::{Identities, Identity, MemberStatus, Model, Rules};

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

    pub(super) fn class(&self) -> Class {
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
pub(super) enum Class {
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
            tag_quota: -1,
            property_quota: 128,
            ..Rules::default()
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
