//! The stateful property run: random sequences of image and member operations by random
//! callers, each answer compared with the reference model's prediction. proptest generates
//! the sequences (proptest-state-machine) and shrinks a mismatch to a shortest story, which can
//! be written out as a case file.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;
use serde_json::{Value, json};

use crate::model::{Identities, Identity, Model, Rules};
use crate::operations::{self, Answer, Call, Handler, Operation};
use crate::suite::{PERSONAS, Target};

/// Who sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// A persona of the target.
    Persona(&'static str),
    /// No token.
    Anonymous,
    /// A token nobody issued.
    BadToken,
    /// The owner's token in `Authorization: Bearer` instead of `X-Auth-Token`.
    WrongHeader,
}

/// Which project a member call names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whom {
    /// A persona's project.
    Persona(&'static str),
    /// A project no persona has (a few distinct ones, so quotas fill).
    Ghost(u8),
}

/// The body of an add-member request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddBody {
    /// `{"member": "<project>"}`.
    Valid,
    /// `{"member": ""}`.
    Empty,
    /// Not JSON.
    Malformed,
}

/// The body of an update-member request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusArg {
    /// A valid status.
    Set(&'static str),
    /// A value outside the three.
    Bogus,
    /// No `status` key.
    Missing,
}

/// One operation of a generated sequence. `img` counts back from the newest image created so
/// far (0 = newest), which keeps a step meaning the same image when shrinking drops earlier
/// steps; counting past the oldest names an image that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `POST /v2/images` as the owner, or as the admin on the owner's behalf.
    CreateImage {
        /// private, shared, community or public.
        visibility: &'static str,
        /// Created by the admin with `owner` set to the owner's project.
        by_admin: bool,
    },
    /// `DELETE /v2/images/{img}`.
    DeleteImage {
        /// Image index.
        img: usize,
        /// Caller.
        by: Who,
    },
    /// `POST /v2/images/{img}/members`.
    AddMember {
        /// Image index.
        img: usize,
        /// The project to add.
        member: Whom,
        /// Caller.
        by: Who,
        /// Body kind.
        body: AddBody,
    },
    /// `GET /v2/images/{img}/members`.
    ListMembers {
        /// Image index.
        img: usize,
        /// Caller.
        by: Who,
    },
    /// `GET /v2/images/{img}/members/{member}`.
    ShowMember {
        /// Image index.
        img: usize,
        /// Member.
        member: Whom,
        /// Caller.
        by: Who,
    },
    /// `PUT /v2/images/{img}/members/{member}`.
    UpdateMember {
        /// Image index.
        img: usize,
        /// Member.
        member: Whom,
        /// Caller.
        by: Who,
        /// Body.
        status: StatusArg,
    },
    /// `DELETE /v2/images/{img}/members/{member}`.
    DeleteMember {
        /// Image index.
        img: usize,
        /// Member.
        member: Whom,
        /// Caller.
        by: Who,
        /// Send `{}` as a body.
        with_body: bool,
    },
    /// `GET /v2/images?name=<this sequence's name>[&member_status=…]`.
    ListImages {
        /// Caller.
        by: Who,
        /// `member_status` value, if any.
        member_status: Option<&'static str>,
    },
}

impl Step {
    /// The step's row of the operation table.
    pub(crate) fn op(&self) -> &'static Operation {
        let name = match self {
            Step::CreateImage { .. } => "create_image",
            Step::DeleteImage { .. } => "delete_image",
            Step::AddMember { .. } => "add_image_member",
            Step::ListMembers { .. } => "list_image_members",
            Step::ShowMember { .. } => "show_image_member",
            Step::UpdateMember { .. } => "update_image_member",
            Step::DeleteMember { .. } => "delete_image_member",
            Step::ListImages { .. } => "list_images",
        };
        operations::by_name(name).expect("every step has a row in the operation table")
    }
}

/// What the generator needs to know: how many images were created so far.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    images: usize,
}

/// The generator.
pub struct Sequences;

fn who() -> BoxedStrategy<Who> {
    prop_oneof![
        10 => prop::sample::select(PERSONAS.to_vec()).prop_map(Who::Persona),
        1 => Just(Who::Anonymous),
        1 => Just(Who::BadToken),
        1 => Just(Who::WrongHeader),
    ]
    .boxed()
}

fn whom() -> BoxedStrategy<Whom> {
    prop_oneof![
        6 => Just(Whom::Persona("member")),
        5 => Just(Whom::Persona("other_member")),
        2 => Just(Whom::Persona("stranger")),
        1 => Just(Whom::Persona("admin")),
        1 => Just(Whom::Persona("owner")),
        5 => (0u8..4).prop_map(Whom::Ghost),
    ]
    .boxed()
}

/// A caller for a call about `member`: mostly the owner or the member itself, so that the
/// rules about who may do what are exercised, sometimes anyone else.
fn who_about(member: Whom) -> BoxedStrategy<Who> {
    let own = match member {
        Whom::Persona(p) => p,
        Whom::Ghost(_) => "owner",
    };
    prop_oneof![
        8 => Just(Who::Persona("owner")),
        6 => Just(Who::Persona(own)),
        2 => Just(Who::Persona("admin")),
        3 => who(),
    ]
    .boxed()
}

/// A member and a caller about it.
fn member_and_caller() -> BoxedStrategy<(Whom, Who)> {
    whom().prop_flat_map(|m| (Just(m), who_about(m))).boxed()
}

impl ReferenceStateMachine for Sequences {
    type State = Shape;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Shape> {
        Just(Shape::default()).boxed()
    }

    fn transitions(state: &Shape) -> BoxedStrategy<Step> {
        // Mostly the newest image, sometimes an older one, sometimes none that exists.
        let img = prop_oneof![
            14 => Just(0usize),
            5 => 0..state.images.max(1),
            1 => Just(state.images),
        ];
        let create = (
            prop::sample::select(vec![
                "shared",
                "shared",
                "shared",
                "private",
                "community",
                "public",
            ]),
            any::<bool>(),
        )
            .prop_map(|(visibility, by_admin)| Step::CreateImage {
                visibility,
                by_admin,
            });
        let status = prop_oneof![
            6 => prop::sample::select(vec!["accepted", "rejected", "pending"]).prop_map(StatusArg::Set),
            1 => Just(StatusArg::Bogus),
            1 => Just(StatusArg::Missing),
        ];
        let add_body = prop_oneof![8 => Just(AddBody::Valid), 1 => Just(AddBody::Empty), 1 => Just(AddBody::Malformed)];
        let create_weight = if state.images < 3 { 6 } else { 1 };
        prop_oneof![
            create_weight => create,
            1 => (img.clone(), who()).prop_map(|(img, by)| Step::DeleteImage { img, by }),
            8 => (img.clone(), member_and_caller(), add_body)
                .prop_map(|(img, (member, by), body)| Step::AddMember { img, member, by, body }),
            2 => (img.clone(), whom().prop_flat_map(who_about))
                .prop_map(|(img, by)| Step::ListMembers { img, by }),
            2 => (img.clone(), member_and_caller())
                .prop_map(|(img, (member, by))| Step::ShowMember { img, member, by }),
            4 => (img.clone(), member_and_caller(), status)
                .prop_map(|(img, (member, by), status)| Step::UpdateMember { img, member, by, status }),
            3 => (img, member_and_caller(), prop::bool::weighted(0.1))
                .prop_map(|(img, (member, by), with_body)| Step::DeleteMember { img, member, by, with_body }),
            2 => (whom().prop_flat_map(who_about), prop::option::of(prop::sample::select(vec!["pending", "accepted", "rejected", "all", "bogus"])))
                .prop_map(|(by, member_status)| Step::ListImages { by, member_status }),
        ]
        .boxed()
    }

    fn apply(mut state: Shape, t: &Step) -> Shape {
        if matches!(t, Step::CreateImage { .. }) {
            state.images += 1;
        }
        state
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct StatefulOptions {
    /// Sequences to generate.
    pub cases: u32,
    /// Seed of the generator; the same seed replays the same sequences.
    pub seed: u64,
    /// Longest sequence.
    pub max_steps: usize,
}

/// A mismatch, shrunk.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The shortest sequence that still shows it.
    pub steps: Vec<Step>,
    /// What differed, at the last step.
    pub message: String,
    /// The seed that found it.
    pub seed: u64,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct StatefulReport {
    /// Sequences run (shrinking included).
    pub sequences: usize,
    /// Requests sent.
    pub requests: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// The shrunk mismatch, if one was found.
    pub finding: Option<Finding>,
}

/// Everything a sequence needs, kept per thread for the proptest closure.
struct Ctx {
    rt: tokio::runtime::Handle,
    client: reqwest::Client,
    target: Target,
    identities: Identities,
    rules: Rules,
    prefix: String,
    sequences: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Ctx {
    /// The context for `target`; it needs all five personas and the member quota.
    fn new(rt: tokio::runtime::Handle, target: &Target, prefix: String) -> Result<Ctx, String> {
        let missing: Vec<&str> = PERSONAS
            .iter()
            .copied()
            .filter(|p| !target.personas.contains_key(*p))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "fuzzing needs every persona; the target lacks {}",
                missing.join(", ")
            ));
        }
        let Some(quota) = target.member_quota else {
            return Err("fuzzing needs the target's member_quota to predict 413".into());
        };
        let client = crate::suite::target::http_client(&target.tls, &target.network)
            .map_err(|e| e.to_string())?;
        Ok(Ctx {
            rt,
            client,
            target: target.clone(),
            identities: identities_of(target),
            rules: Rules {
                member_quota: i64::from(quota),
                mutant: None,
            },
            prefix,
            sequences: Arc::default(),
            requests: Arc::default(),
        })
    }
}

thread_local! {
    static CTX: RefCell<Option<Ctx>> = const { RefCell::new(None) };
}

/// The model's view of the target's personas: each token is its persona's identity; the
/// `admin` persona holds the admin role.
fn identities_of(target: &Target) -> Identities {
    let mut ids = Identities::default();
    for (name, p) in &target.personas {
        let mut roles = vec!["member".to_string(), "reader".to_string()];
        if name == "admin" {
            roles.insert(0, "admin".to_string());
        }
        ids.tokens.insert(
            p.token.clone(),
            Identity {
                project_id: p.project_id.clone(),
                user_id: format!("user-{name}"),
                roles,
            },
        );
    }
    ids
}

/// Runs `opts.cases` generated sequences against `target`; stops at the first mismatch and
/// shrinks it. Blocks on `rt`; call it from outside the runtime.
pub fn run(
    rt: &tokio::runtime::Handle,
    target: &Target,
    opts: &StatefulOptions,
) -> Result<StatefulReport, String> {
    let ctx = Ctx::new(
        rt.clone(),
        target,
        format!(
            "sharecheck-{}-fuzz",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
    )?;
    let (sequences, requests) = (ctx.sequences.clone(), ctx.requests.clone());
    CTX.with(|c| *c.borrow_mut() = Some(ctx));
    let config = Config {
        cases: opts.cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        verbose: 0,
        ..Config::default()
    };
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&opts.seed.to_le_bytes());
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let start = Instant::now();
    let strategy = Sequences::sequential_strategy(1..=opts.max_steps.max(1));
    let result = runner.run(&strategy, |(_, steps, seen)| run_sequence(&steps, seen));
    CTX.with(|c| c.borrow_mut().take());
    let finding = match result {
        Ok(()) => None,
        Err(TestError::Fail(reason, (_, steps, _))) => Some(Finding {
            steps,
            message: reason.message().to_string(),
            seed: opts.seed,
        }),
        Err(TestError::Abort(why)) => return Err(format!("fuzz aborted: {why}")),
    };
    Ok(StatefulReport {
        sequences: sequences.load(Ordering::SeqCst),
        requests: requests.load(Ordering::SeqCst),
        elapsed: start.elapsed(),
        finding,
    })
}

fn run_sequence(steps: &[Step], seen: Option<Arc<AtomicUsize>>) -> Result<(), TestCaseError> {
    CTX.with(|c| {
        let c = c.borrow();
        let ctx = c.as_ref().expect("fuzz context set by run()");
        ctx.sequences.fetch_add(1, Ordering::SeqCst);
        let n = ctx.sequences.load(Ordering::SeqCst);
        let name = format!("{}-{n}", ctx.prefix);
        ctx.rt.block_on(async {
            let mut seq = Sequence {
                target: &ctx.target,
                ctx: Some(ctx),
                model: Model::new(ctx.identities.clone(), ctx.rules.clone()),
                images: Vec::new(),
                created: Vec::new(),
                name,
            };
            let mut outcome = Ok(());
            for (i, step) in steps.iter().enumerate() {
                if let Some(s) = &seen {
                    s.fetch_add(1, Ordering::SeqCst);
                }
                if let Err(msg) = seq.step(step).await {
                    outcome = Err(TestCaseError::fail(format!(
                        "step {}: {step:?}: {msg}",
                        i + 1
                    )));
                    break;
                }
            }
            seq.teardown().await;
            outcome
        })
    })
}

/// One sequence in flight: the model, and which target image each model image is.
struct Sequence<'a> {
    target: &'a Target,
    /// HTTP client and counters; `None` when only predicting.
    ctx: Option<&'a Ctx>,
    model: Model,
    /// (model id, target id) in creation order.
    images: Vec<(String, String)>,
    /// Target images to delete at the end, with the persona that may delete them.
    created: Vec<String>,
    name: String,
}

/// A fixed id that names no image on either side.
const UNKNOWN_IMAGE: &str = "00000000-0000-4000-8000-00000000f022";

impl Sequence<'_> {
    fn token(&self, who: Who) -> Option<String> {
        match who {
            Who::Persona(p) => self.target.personas.get(p).map(|p| p.token.clone()),
            Who::Anonymous | Who::WrongHeader => None,
            Who::BadToken => Some("sharecheck-not-a-token".into()),
        }
    }

    fn project(&self, whom: Whom) -> String {
        match whom {
            Whom::Persona(p) => self.target.personas[p].project_id.clone(),
            Whom::Ghost(n) => format!("sharecheck-ghost-{n}"),
        }
    }

    /// The (model, target) ids of the image `back` steps from the newest.
    fn ids(&self, back: usize) -> (String, String) {
        self.images
            .len()
            .checked_sub(back + 1)
            .and_then(|i| self.images.get(i))
            .cloned()
            .unwrap_or_else(|| (UNKNOWN_IMAGE.into(), UNKNOWN_IMAGE.into()))
    }

    /// The model's answer through the step's row of the operation table (the same call the
    /// mock makes): Ok(the JSON body, `Null` for none) on success, Err(status) otherwise.
    fn predict(&mut self, step: &Step) -> Result<Value, u16> {
        let op = step.op();
        let http = http_of(
            step,
            &|back| self.ids(back).0,
            &|w| self.project(w),
            &self.name,
            &self.target.personas["owner"].project_id,
        );
        let token = self.token(http.by);
        let who = match self.model.authenticate(token.as_deref()) {
            Ok(w) => w.clone(),
            Err(e) => return Err(e.kind.status()),
        };
        let (path, query) = http.path.split_once('?').unwrap_or((&http.path, ""));
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let params = op.matches(&segments).unwrap_or_default();
        let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let body = http.body.map(Payload::into_bytes).unwrap_or_default();
        let call = Call {
            who: &who,
            params: &params,
            query: &query,
            body: &body,
        };
        let answer = match op.handler {
            Handler::Read(f) => f(&self.model, &call),
            Handler::Write(f) => f(&mut self.model, &call),
            Handler::Document(name) => Ok(Answer::Schema(name)),
        };
        answer.map(|a| a.value()).map_err(|e| e.kind.status())
    }

    /// The step as this sequence sends it: real image ids and project ids.
    fn http(&self, step: &Step) -> Http {
        http_of(
            step,
            &|back| self.ids(back).1,
            &|w| self.project(w),
            &self.name,
            &self.target.personas["owner"].project_id,
        )
    }

    /// Sends one step and compares the answer with the model's prediction.
    async fn step(&mut self, step: &Step) -> Result<(), String> {
        let ctx = self.ctx.expect("sending needs the HTTP context");
        let predicted = self.predict(step);
        let Http {
            method,
            path,
            body,
            by: who,
        } = self.http(step);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a known method");
        let body = body.map(Payload::into_bytes);
        let url = format!("{}{}", self.target.base(), path);
        let mut rb = ctx
            .client
            .request(method.clone(), &url)
            .header("accept", "application/json");
        match who {
            Who::WrongHeader => {
                let t = &self.target.personas["owner"].token;
                rb = rb.header("authorization", format!("Bearer {t}"));
            }
            w => {
                if let Some(t) = self.token(w) {
                    rb = rb.header("x-auth-token", t);
                }
            }
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b);
        }
        ctx.requests.fetch_add(1, Ordering::SeqCst);
        let resp = rb
            .send()
            .await
            .map_err(|e| format!("{method} {path}: no answer: {e}"))?;
        let status = resp.status().as_u16();
        let raw = resp
            .bytes()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let got: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        let excerpt: String = String::from_utf8_lossy(&raw).chars().take(200).collect();
        // Whatever the prediction, an image the target created is ours to delete.
        if matches!(step, Step::CreateImage { .. })
            && status == 201
            && let Some(id) = got.get("id").and_then(Value::as_str)
        {
            self.created.push(id.to_string());
        }
        let want = match &predicted {
            Ok(_) => step.op().success,
            Err(s) => *s,
        };
        if status != want {
            return Err(format!(
                "{method} {path} as {who:?}: the model says {want}, the target answered {status}: {excerpt}"
            ));
        }
        let Ok(expected) = predicted else {
            if status >= 400
                && !["message", "code", "title"]
                    .iter()
                    .all(|k| got.get(k).is_some())
            {
                return Err(format!(
                    "{method} {path}: error {status} is not JSON with message, code, title: {excerpt}"
                ));
            }
            return Ok(());
        };
        self.compare(step, &expected, &got)
            .map_err(|m| format!("{method} {path} as {who:?}: {m}: {excerpt}"))
    }

    fn compare(&mut self, step: &Step, expected: &Value, got: &Value) -> Result<(), String> {
        let pick = |v: &Value| -> (String, String) {
            (
                v.get("member_id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                v.get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        };
        match step {
            Step::CreateImage { .. } => {
                let (Some(model_id), Some(target_id)) = (
                    expected.get("id").and_then(Value::as_str),
                    got.get("id").and_then(Value::as_str),
                ) else {
                    return Err("201 without an image id".into());
                };
                self.images
                    .push((model_id.to_string(), target_id.to_string()));
                Ok(())
            }
            Step::AddMember { .. } | Step::ShowMember { .. } | Step::UpdateMember { .. } => {
                if pick(expected) != pick(got) {
                    return Err(format!(
                        "expected member {:?}, got {:?}",
                        pick(expected),
                        pick(got)
                    ));
                }
                Ok(())
            }
            Step::ListMembers { .. } => {
                let want: BTreeSet<_> = expected
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(pick)
                    .collect();
                let have: BTreeSet<_> = got
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(pick)
                    .collect();
                if want != have {
                    return Err(format!("expected members {want:?}, got {have:?}"));
                }
                Ok(())
            }
            Step::ListImages { .. } => {
                let to_target: BTreeMap<&str, &str> = self
                    .images
                    .iter()
                    .map(|(m, t)| (m.as_str(), t.as_str()))
                    .collect();
                let want: BTreeSet<String> = expected
                    .get("images")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.get("id").and_then(Value::as_str))
                    .map(|m| to_target.get(m).copied().unwrap_or(m).to_string())
                    .collect();
                let have: BTreeSet<String> = got
                    .get("images")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.get("id").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect();
                if want != have {
                    return Err(format!("expected images {want:?}, got {have:?}"));
                }
                Ok(())
            }
            Step::DeleteImage { .. } | Step::DeleteMember { .. } => Ok(()),
        }
    }

    async fn teardown(&mut self) {
        let Some(ctx) = self.ctx else { return };
        let owner = self.target.personas["owner"].token.clone();
        for id in std::mem::take(&mut self.created) {
            let _ = ctx
                .client
                .delete(format!("{}/v2/images/{id}", self.target.base()))
                .header("x-auth-token", &owner)
                .send()
                .await;
        }
    }
}

/// A request body: JSON, or bytes that are not JSON on purpose.
pub(crate) enum Payload {
    /// A JSON value.
    Json(Value),
    /// Raw text (malformed input).
    Raw(&'static str),
}

impl Payload {
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Payload::Json(v) => v.to_string().into_bytes(),
            Payload::Raw(s) => s.as_bytes().to_vec(),
        }
    }
}

/// A step as an HTTP request.
pub(crate) struct Http {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) body: Option<Payload>,
    pub(crate) by: Who,
}

/// The one mapping of steps to requests, shared by the fuzzer (real ids) and the emitted case
/// files (placeholders): `image` renders an image counted back from the newest, `project` a
/// member, `name` the sequence's image name, `owner` the owner's project.
pub(crate) fn http_of(
    step: &Step,
    image: &dyn Fn(usize) -> String,
    project: &dyn Fn(Whom) -> String,
    name: &str,
    owner: &str,
) -> Http {
    let op = step.op();
    let (img, member) = match step {
        Step::DeleteImage { img, .. }
        | Step::AddMember { img, .. }
        | Step::ListMembers { img, .. } => (Some(*img), None),
        Step::ShowMember { img, member, .. }
        | Step::UpdateMember { img, member, .. }
        | Step::DeleteMember { img, member, .. } => (Some(*img), Some(*member)),
        Step::CreateImage { .. } | Step::ListImages { .. } => (None, None),
    };
    let mut path = op.path.to_string();
    if let Some(img) = img {
        path = path.replace("{image_id}", &image(img));
    }
    if let Some(m) = member {
        path = path.replace("{member_id}", &project(m));
    }
    let (body, by) = match step {
        Step::CreateImage {
            visibility,
            by_admin,
        } => {
            let mut b = json!({"name": name, "visibility": visibility});
            if *by_admin {
                b["owner"] = Value::String(owner.to_string());
            }
            let by = Who::Persona(if *by_admin { "admin" } else { "owner" });
            (Some(Payload::Json(b)), by)
        }
        Step::AddMember {
            member, by, body, ..
        } => {
            let b = match body {
                AddBody::Valid => Payload::Json(json!({"member": project(*member)})),
                AddBody::Empty => Payload::Json(json!({"member": ""})),
                AddBody::Malformed => Payload::Raw(r#"{"member": "#),
            };
            (Some(b), *by)
        }
        Step::UpdateMember { by, status, .. } => {
            let b = match status {
                StatusArg::Set(v) => json!({"status": v}),
                StatusArg::Bogus => json!({"status": "maybe"}),
                StatusArg::Missing => json!({"state": "accepted"}),
            };
            (Some(Payload::Json(b)), *by)
        }
        Step::DeleteMember { by, with_body, .. } => {
            (with_body.then(|| Payload::Json(json!({}))), *by)
        }
        Step::DeleteImage { by, .. }
        | Step::ListMembers { by, .. }
        | Step::ShowMember { by, .. } => (None, *by),
        Step::ListImages { by, member_status } => {
            let _ = write!(path, "?limit=1000&name={name}");
            if let Some(st) = member_status {
                let _ = write!(path, "&member_status={st}");
            }
            (None, *by)
        }
    };
    Http {
        method: op.method,
        path,
        body,
        by,
    }
}

/// The model's answer to every step of a sequence on `target`: the status, and the value the
/// comparison uses on success (member id and status, member lists, image ids). No HTTP.
pub fn predictions(
    target: &Target,
    member_quota: i64,
    name: &str,
    steps: &[Step],
) -> Vec<(u16, Value)> {
    let mut seq = Sequence {
        target,
        ctx: None,
        model: Model::new(
            identities_of(target),
            Rules {
                member_quota,
                mutant: None,
            },
        ),
        images: Vec::new(),
        created: Vec::new(),
        name: name.to_string(),
    };
    steps
        .iter()
        .map(|step| match seq.predict(step) {
            Ok(v) => {
                if let (Step::CreateImage { .. }, Some(id)) =
                    (step, v.get("id").and_then(Value::as_str))
                {
                    seq.images.push((id.to_string(), id.to_string()));
                }
                (step.op().success, v)
            }
            Err(status) => (status, Value::Null),
        })
        .collect()
}

/// Runs a fixed list of steps against `target`, comparing every answer with the model, and
/// returns the requests sent and the mismatches as (step index, message). The model keeps
/// going after a mismatch, so later steps may differ in consequence. Used by the security
/// checkers.
pub async fn run_script(
    target: &Target,
    steps: &[Step],
) -> Result<(usize, Vec<(usize, String)>), String> {
    let ctx = Ctx::new(tokio::runtime::Handle::current(), target, String::new())?;
    let mut seq = Sequence {
        target: &ctx.target,
        ctx: Some(&ctx),
        model: Model::new(ctx.identities.clone(), ctx.rules.clone()),
        images: Vec::new(),
        created: Vec::new(),
        name: format!(
            "sharecheck-{}-security",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
    };
    let mut mismatches = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if let Err(m) = seq.step(step).await {
            mismatches.push((i, m));
        }
    }
    seq.teardown().await;
    Ok((ctx.requests.load(Ordering::SeqCst), mismatches))
}
