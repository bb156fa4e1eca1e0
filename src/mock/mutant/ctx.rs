//! What the wrappers of the rules mutants share: `Ctx`, one call with the image it names,
//! and its honest answers, and small helpers to bend a body or a quota.

use serde_json::Value;

use crate::model::{ErrorKind, Identity, Image, Model, Outcome, Rules};
use crate::operations::{Answer, Call, Operation};

/// One call under a mutant: the row, the request, and the image it names as the model has it
/// before the call (and whether the caller can see it).
pub(super) struct Ctx<'a> {
    pub(super) op: &'a Operation,
    pub(super) call: &'a Call<'a>,
    pub(super) image: Option<Image>,
    pub(super) sees: bool,
}

impl<'a> Ctx<'a> {
    /// The context of `call` to `op`, with the image as `model` has it now.
    pub(super) fn new(op: &'a Operation, model: &Model, call: &'a Call<'a>) -> Ctx<'a> {
        let image = image_of(op, model, call);
        let sees = image.as_ref().is_some_and(|i| model.can_see(call.who, i));
        Ctx {
            op,
            call,
            image,
            sees,
        }
    }

    /// The row's honest answer to the request.
    pub(super) fn honest(&self, model: &mut Model) -> Outcome<Answer> {
        self.honest_to(model, self.call)
    }

    /// The row's honest answer to another request.
    pub(super) fn honest_to(&self, model: &mut Model, call: &Call) -> Outcome<Answer> {
        self.op.answer(model, call)
    }

    /// The honest answer to the request sent by `who`.
    pub(super) fn honest_as(&self, model: &mut Model, who: &Identity) -> Outcome<Answer> {
        self.honest_to(model, &Call { who, ..*self.call })
    }

    /// The honest answer to the request with `body`.
    pub(super) fn honest_with(&self, model: &mut Model, body: &[u8]) -> Outcome<Answer> {
        self.honest_to(model, &Call { body, ..*self.call })
    }

    /// Someone of the image's owning project with `role` (the caller when there is no image).
    pub(super) fn owner_as(&self, role: &str) -> Identity {
        Identity {
            project_id: self
                .image
                .as_ref()
                .map_or_else(|| self.call.who.project_id.clone(), |i| i.owner.clone()),
            user_id: self.call.who.user_id.clone(),
            roles: vec![role.into()],
        }
    }

    /// The caller with `role` besides its own.
    pub(super) fn caller_with(&self, role: &str) -> Identity {
        let mut who = self.call.who.clone();
        who.roles.push(role.into());
        who
    }

    /// The `{member_id}` of the path, if the row has one.
    pub(super) fn member_param(&self) -> Option<&str> {
        self.op
            .names_member()
            .then(|| self.call.params.get(1).copied())
            .flatten()
    }
}

/// The image the path names, if the row has an `{image_id}` and the image exists.
fn image_of(op: &Operation, model: &Model, call: &Call) -> Option<Image> {
    if !op.path.starts_with("/v2/images/{image_id}") {
        return None;
    }
    model.state().image(call.params.first()?).cloned()
}

/// Whether `outcome` is a refusal of `kind`.
pub(super) fn refused(outcome: &Outcome<Answer>, kind: ErrorKind) -> bool {
    matches!(outcome, Err(e) if e.kind == kind)
}

/// A JSON object body with `key` set to the string `value` (other bodies unchanged).
pub(super) fn body_with(body: &[u8], key: &str, value: &str) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            map.insert(key.into(), Value::String(value.into()));
            serde_json::to_vec(&map).unwrap_or_default()
        }
        _ => body.to_vec(),
    }
}

/// The field `key` of a JSON object body.
pub(super) fn body_field(body: &[u8], key: &str) -> Option<Value> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get(key)
        .cloned()
}

/// Runs `f` with the quota `which` one higher (when it limits at all), then restores it.
pub(super) fn quota_plus_one(
    model: &mut Model,
    which: fn(&mut Rules) -> &mut i64,
    f: impl FnOnce(&mut Model) -> Outcome<Answer>,
) -> Outcome<Answer> {
    let quota = *which(model.rules_mut());
    if quota >= 0 {
        *which(model.rules_mut()) = quota + 1;
    }
    let out = f(model);
    *which(model.rules_mut()) = quota;
    out
}
