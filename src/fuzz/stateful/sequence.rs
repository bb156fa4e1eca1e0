//! One sequence in flight: each step rendered as a request (model ids for the model, target
//! ids for the target), answered by the model through the step's row of the operation table,
//! sent to the target, and the two answers compared as the row says.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use serde_json::Value;

use super::Ctx;
use super::step::{Step, Who, Whom};
use crate::model::Model;
use crate::operations::{Call, Compare};
use crate::target::{Caller, Req, SendError, Session, Target};

/// A fixed id that names no image on either side.
pub(crate) const UNKNOWN_IMAGE: &str = "00000000-0000-4000-8000-00000000f022";

/// Why a step failed: no answer, or an answer other than the model's (a mismatch).
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// The request was not sent or not answered.
    #[error(transparent)]
    Send(#[from] SendError),
    /// Another status than the model's.
    #[error("{request}: the model says {want}, the target answered {got}: {excerpt}")]
    Status {
        request: String,
        want: u16,
        got: u16,
        excerpt: String,
    },
    /// An error answer without the fields every error has.
    #[error("{request}: error {status} is not JSON with message, code, title: {excerpt}")]
    ErrorBody {
        request: String,
        status: u16,
        excerpt: String,
    },
    /// The status agrees, the body does not.
    #[error("{request}: {difference}: {excerpt}")]
    Body {
        request: String,
        difference: Difference,
        excerpt: String,
    },
}

/// How a successful answer's body differs from the model's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Difference {
    /// A create answered without the new image's id.
    #[error("201 without an image id")]
    NoId,
    /// A compared value differs.
    #[error("expected {what} {want}, got {have}")]
    Value {
        what: &'static str,
        want: String,
        have: String,
    },
}

/// A request body: JSON text, or bytes that are not JSON on purpose.
pub(crate) enum Payload {
    /// JSON text.
    Json(String),
    /// Raw text (malformed input).
    Raw(String),
}

impl Payload {
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Payload::Json(s) | Payload::Raw(s) => s.into_bytes(),
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

/// The one tag the fuzzer adds and removes (so adds, repeats and removals meet).
pub(crate) const FUZZ_TAG: &str = "sharecheck-tag";

/// How a step's templates are filled: `image` renders an image counted back from the newest,
/// `project` a member, `name` the sequence's image name, `owner` the owner's project,
/// `store` the default store (`{store_id}`).
pub(crate) struct Fill<'a> {
    pub(crate) image: &'a dyn Fn(usize) -> String,
    pub(crate) project: &'a dyn Fn(Whom) -> String,
    pub(crate) name: &'a str,
    pub(crate) owner: &'a str,
    pub(crate) store: &'a str,
}

impl Fill<'_> {
    fn text(&self, template: &str, step: &Step) -> String {
        let mut out = template.to_string();
        if out.contains("{image") {
            let id = (self.image)(step.img);
            out = out.replace("{image_id}", &id).replace("{image}", &id);
        }
        if out.contains("{member") {
            let p = (self.project)(step.member);
            out = out.replace("{member_id}", &p).replace("{member}", &p);
        }
        out.replace("{name}", self.name)
            .replace("{owner}", self.owner)
            .replace("{tag}", FUZZ_TAG)
            .replace("{store_id}", self.store)
    }
}

/// The one mapping of steps to requests, shared by the fuzzer (real ids) and the emitted
/// case files (placeholders).
pub(crate) fn http_of(step: &Step, fill: &Fill) -> Http {
    let mut path = fill.text(step.op.path, step);
    if let Some(q) = step.query {
        path.push('?');
        path.push_str(&fill.text(q, step));
    }
    let body = step
        .body
        .filter(|b| !b.is_empty())
        .map(|b| match b.strip_prefix('!') {
            Some(raw) => Payload::Raw(fill.text(raw, step)),
            None => Payload::Json(fill.text(b, step)),
        });
    Http {
        method: step.op.method,
        path,
        body,
        by: step.by,
    }
}

/// One sequence: the model, and which target image each model image is.
pub(crate) struct Sequence<'a> {
    pub(crate) target: &'a Target,
    /// HTTP client and counters; `None` when only predicting.
    pub(crate) ctx: Option<&'a Ctx>,
    pub(crate) model: Model,
    /// (model id, target id) in creation order.
    pub(crate) images: Vec<(String, String)>,
    /// Where requests go (a fork of the run's session: its own log and clean-up list).
    pub(crate) session: Option<Session>,
    pub(crate) name: String,
    /// A known defect let the target do what the model refused: their states part, so the
    /// rest of the sequence is not sent.
    pub(crate) diverged: bool,
}

impl<'a> Sequence<'a> {
    /// A fresh sequence on `ctx`'s target, its images named `name`.
    pub(crate) fn new(ctx: &'a Ctx, name: String) -> Sequence<'a> {
        Sequence {
            target: &ctx.target,
            session: Some(ctx.session.fork()),
            ctx: Some(ctx),
            model: Model::new(ctx.identities.clone(), ctx.rules.clone()),
            images: Vec::new(),
            diverged: false,
            name,
        }
    }

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

    /// The step as the model (`model: true`) or the target sees it.
    fn http(&self, step: &Step, model: bool) -> Http {
        let image = |back| {
            let (m, t) = self.ids(back);
            if model { m } else { t }
        };
        let fill = Fill {
            image: &image,
            project: &|w| self.project(w),
            name: &self.name,
            owner: &self.target.personas["owner"].project_id,
            store: self
                .model
                .deployment()
                .default_store
                .as_deref()
                .unwrap_or(""),
        };
        http_of(step, &fill)
    }

    /// The model's answer through the step's row (the same call the mock makes): Ok(the JSON
    /// body, `Null` for none) on success, Err(status) otherwise.
    pub(crate) fn predict(&mut self, step: &Step) -> Result<(u16, Value), u16> {
        let http = self.http(step, true);
        let token = self.token(http.by);
        let who = match self.model.authenticate(token.as_deref()) {
            Ok(w) => w.clone(),
            Err(e) => return Err(e.kind.status()),
        };
        let (path, query) = http.path.split_once('?').unwrap_or((&http.path, ""));
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let params = step.op.matches(&segments).unwrap_or_default();
        let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let sends_body = http.body.is_some();
        let body = http.body.map(Payload::into_bytes).unwrap_or_default();
        let call = Call {
            who: &who,
            params: &params,
            query: &query,
            body: &body,
            // As the session sends it: a content type with a body (even an empty one) only.
            content_type: sends_body.then(|| crate::operations::media_type(step.op)),
            headers: &http::HeaderMap::new(),
            request_id: "",
            heads: &crate::operations::NO_HEADS,
        };
        // An upload's data is all there at once: the model ends it (other answers stay).
        let answer = step
            .op
            .answer(&mut self.model, &call)
            .and_then(|a| a.ended(&mut self.model, &body));
        let (status, answer) = answer
            .map(|a| (a.status(step.op), a.value()))
            .map_err(|e| e.kind.status())?;
        if step.creates()
            && let Some(id) = answer.get("id").and_then(Value::as_str)
            && self.ctx.is_none()
        {
            // Predicting only: the model's ids stand for themselves.
            self.images.push((id.to_string(), id.to_string()));
        }
        Ok((status, answer))
    }

    /// Sends one step and compares the answer with the model's prediction.
    pub(crate) async fn step(&mut self, step: &Step) -> Result<(), StepError> {
        if self.diverged {
            return Ok(());
        }
        let ctx = self.ctx.expect("sending needs the HTTP context");
        let predicted = self.predict(step);
        let Http {
            method,
            path,
            body,
            by: who,
        } = self.http(step, false);
        let session = self.session.as_ref().expect("sending needs a session");
        let caller = match who {
            Who::Persona(p) => Caller::Persona(p.to_string()),
            Who::Anonymous => Caller::Anonymous,
            Who::BadToken => Caller::BadToken,
            Who::WrongHeader => Caller::bearer("owner"),
        };
        let mut req = Req::new(caller, method, path.clone());
        req.body = body.map(Payload::into_bytes);
        if req.body.is_some() {
            req = req.header("content-type", crate::operations::media_type(step.op));
        }
        ctx.requests.fetch_add(1, Ordering::SeqCst);
        let answer = session.send(req).await?;
        let (status, raw) = (answer.status, answer.body);
        let got: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        let excerpt: String = String::from_utf8_lossy(&raw).chars().take(200).collect();
        // Whatever the prediction, an image the target created is ours to delete.
        if step.creates()
            && status == 201
            && let Some(id) = got.get("id").and_then(Value::as_str)
        {
            // The admin may delete every image a sequence made, whoever owns it.
            session.register_cleanup(id, "admin");
        }
        let caller = super::describe_caller(who);
        let want = match &predicted {
            Ok((s, _)) | Err(s) => *s,
        };
        if status != want
            && self
                .ctx
                .and_then(|c| c.known.matching(step.op.name, want, status))
                .is_some()
        {
            // A known defect of the target: the model's state stands when the answer was a
            // refusal or a fault; when the target did what the model refused, the two part.
            self.diverged = (200..300).contains(&status);
            return Ok(());
        }
        if status != want {
            return Err(StepError::Status {
                request: format!("{method} {path} as {caller}"),
                want,
                got: status,
                excerpt,
            });
        }
        let Ok((_, expected)) = predicted else {
            if status >= 400
                && !["message", "code", "title"]
                    .iter()
                    .all(|k| got.get(k).is_some())
            {
                return Err(StepError::ErrorBody {
                    request: format!("{method} {path}"),
                    status,
                    excerpt,
                });
            }
            return Ok(());
        };
        self.compare(step, &expected, &got)
            .map_err(|difference| StepError::Body {
                request: format!("{method} {path} as {caller}"),
                difference,
                excerpt,
            })
    }

    fn compare(&mut self, step: &Step, expected: &Value, got: &Value) -> Result<(), Difference> {
        match step.op.fuzz.compare {
            Compare::Status => Ok(()),
            Compare::Created => {
                let (Some(model_id), Some(target_id)) = (
                    expected.get("id").and_then(Value::as_str),
                    got.get("id").and_then(Value::as_str),
                ) else {
                    return Err(Difference::NoId);
                };
                self.images
                    .push((model_id.to_string(), target_id.to_string()));
                Ok(())
            }
            Compare::Member => same(&member_of(expected), &member_of(got), "member"),
            Compare::Members => {
                let set = |v: &Value| -> BTreeSet<(String, String)> {
                    items(v, "members").iter().map(member_of).collect()
                };
                same(&set(expected), &set(got), "members")
            }
            Compare::ImagePage => self.compare_page(expected, got),
        }
    }

    fn compare_page(&self, expected: &Value, got: &Value) -> Result<(), Difference> {
        let to_target: BTreeMap<&str, &str> = self
            .images
            .iter()
            .map(|(m, t)| (m.as_str(), t.as_str()))
            .collect();
        // In order: the model keeps the order images were made in, as the reference does.
        let ids = |v: &Value, map: bool| -> Vec<String> {
            items(v, "images")
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str))
                .map(|id| match map {
                    true => to_target.get(id).copied().unwrap_or(id).to_string(),
                    false => id.to_string(),
                })
                .collect()
        };
        let (want, have) = (ids(expected, true), ids(got, false));
        let next = |v: &Value| v.get("next").is_some();
        same(&want.len(), &have.len(), "page length")?;
        same(&next(expected), &next(got), "a next page")?;
        same(&want, &have, "images, in order")
    }

    pub(crate) async fn teardown(&mut self) {
        if let Some(session) = &self.session {
            // Best effort: a leftover is named `sharecheck-…` and `sharecheck cleanup` finds it.
            let _ = session.cleanup().await;
        }
    }
}

fn items<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn member_of(v: &Value) -> (String, String) {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    (s("member_id"), s("status"))
}

fn same<T: PartialEq + std::fmt::Debug>(
    want: &T,
    have: &T,
    what: &'static str,
) -> Result<(), Difference> {
    if want == have {
        Ok(())
    } else {
        Err(Difference::Value {
            what,
            want: format!("{want:?}"),
            have: format!("{have:?}"),
        })
    }
}
