//! Mutants of the member rows: who sees which row, who sets the status, the order of the
//! checks, the quota and the lifecycle of a membership.

use serde_json::Value;

use super::Mutant;
use super::ctx::{Ctx, body_field, body_with, quota_plus_one, refused};
use super::images::as_owner_when_refused;
use crate::model::{ApiError, ErrorKind, MemberStatus, Model, Outcome, Visibility};
use crate::operations::{Answer, Call};

/// The answer of a member row under `m`.
pub(super) fn answer(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let shared = ctx
        .image
        .as_ref()
        .is_some_and(|i| i.visibility == Visibility::Shared);
    match (m, ctx.op.name) {
        (Mutant::MembersOnAnyImage, _) if ctx.image.is_some() && !shared => on_shared(ctx, model),
        (Mutant::MemberListsAllEntries, "list_image_members") => {
            let out = ctx.honest(model);
            if out.is_ok() {
                return ctx.honest_as(model, &ctx.owner_as("reader"));
            }
            out
        }
        (Mutant::MemberSeesOtherEntries | Mutant::MemberLookupIgnoresImage, _)
            if ctx.member_param().is_some() && shared && ctx.sees =>
        {
            other_rows(m, ctx, model)
        }
        (Mutant::ShowMemberForbidden, "show_image_member") => {
            let out = ctx.honest(model);
            if ctx.sees && !shared && refused(&out, ErrorKind::NotFound) {
                return Err(ApiError::forbidden("Only shared images have members."));
            }
            out
        }
        (_, "add_image_member") => add(m, ctx, model),
        (_, "update_image_member") => update(m, ctx, model, shared),
        (_, "delete_image_member") => delete(m, ctx, model),
        _ => ctx.honest(model),
    }
}

/// `members-on-any-image`: the call runs as if the image were shared.
fn on_shared(ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let Some(img) = &ctx.image else {
        return ctx.honest(model);
    };
    let set = |model: &mut Model, v| {
        if let Some(stored) = model.state_mut().image_mut(&img.id) {
            stored.visibility = v;
        }
    };
    set(model, Visibility::Shared);
    let out = ctx.honest(model);
    set(model, img.visibility);
    out
}

/// A member asking for a row it may not see: `member-sees-other-entries` finds it anyway
/// (as a reader of the owner's project would), `member-lookup-ignores-image` takes the row of
/// that project on any image.
fn other_rows(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let out = ctx.honest(model);
    if !refused(&out, ErrorKind::NotFound) {
        return out;
    }
    let (image_id, member_id) = (ctx.call.params[0], ctx.member_param().unwrap_or(""));
    if m == Mutant::MemberSeesOtherEntries {
        if model.state().member(image_id, member_id).is_some() {
            return ctx.honest_as(model, &ctx.owner_as("reader"));
        }
        return out;
    }
    let elsewhere = model.state().images().find_map(|i| {
        model
            .state()
            .member(&i.id, member_id)
            .map(|row| row.image_id.clone())
    });
    match elsewhere {
        Some(other) if model.state().member(image_id, member_id).is_none() => {
            let params = [other.as_str(), member_id];
            ctx.honest_to(
                model,
                &Call {
                    params: &params,
                    ..*ctx.call
                },
            )
        }
        _ => out,
    }
}

fn add(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let member = body_field(ctx.call.body, "member");
    let member = member.as_ref().and_then(Value::as_str);
    let image_id = ctx.call.params[0];
    match m {
        Mutant::MemberCanAdd => as_owner_when_refused(ctx, model),
        Mutant::EmptyMemberAllowed if member == Some("") => {
            ctx.honest_with(model, &body_with(ctx.call.body, "member", " "))
        }
        Mutant::BodyParsedLate => {
            let out = ctx.honest(model);
            if !ctx.sees && refused(&out, ErrorKind::BadRequest) {
                return Err(ApiError::not_found(format!(
                    "No image found with ID {image_id}"
                )));
            }
            out
        }
        Mutant::DuplicateAllowed => {
            let out = ctx.honest(model);
            match member {
                Some(id) if refused(&out, ErrorKind::Conflict) => {
                    model.state_mut().remove_member(image_id, id);
                    ctx.honest(model)
                }
                _ => out,
            }
        }
        Mutant::QuotaOffByOne => {
            quota_plus_one(model, |r| &mut r.member_quota, |model| ctx.honest(model))
        }
        Mutant::DuplicateBeforeQuota => {
            let out = ctx.honest(model);
            match member {
                Some(id)
                    if refused(&out, ErrorKind::OverLimit)
                        && model.state().member(image_id, id).is_some() =>
                {
                    Err(ApiError::already_member(id, image_id))
                }
                _ => out,
            }
        }
        Mutant::NewMemberAccepted => {
            let out = ctx.honest(model)?;
            let mut row = out.value();
            if let Some(id) = row["member_id"].as_str() {
                let now = row["updated_at"].as_str().unwrap_or_default().to_string();
                let id = id.to_string();
                model
                    .state_mut()
                    .update_member(image_id, &id, MemberStatus::Accepted, now);
                row["status"] = Value::from("accepted");
            }
            Ok(Answer::Json {
                body: serde_json::to_vec(&row).unwrap_or_default(),
                location: None,
            })
        }
        _ => ctx.honest(model),
    }
}

fn update(m: Mutant, ctx: &Ctx, model: &mut Model, shared: bool) -> Outcome<Answer> {
    let (image_id, member_id) = (ctx.call.params[0], ctx.member_param().unwrap_or(""));
    let before = model.state().member(image_id, member_id);
    let status = body_field(ctx.call.body, "status");
    let valid = status
        .as_ref()
        .and_then(Value::as_str)
        .and_then(MemberStatus::parse);
    let is_object = matches!(
        serde_json::from_slice::<Value>(ctx.call.body),
        Ok(Value::Object(_))
    );
    match m {
        Mutant::OwnerSetsStatus => {
            let out = ctx.honest(model);
            let owner = ctx
                .image
                .as_ref()
                .is_some_and(|i| i.owner == ctx.call.who.project_id);
            if owner && refused(&out, ErrorKind::Forbidden) {
                return ctx.honest_as(model, &ctx.caller_with("admin"));
            }
            out
        }
        Mutant::StatusValueCheckedFirst => {
            let out = ctx.honest(model);
            if shared && status.is_some() && valid.is_none() && refused(&out, ErrorKind::Forbidden)
            {
                return Err(ApiError::bad_request("Invalid status value"));
            }
            out
        }
        Mutant::MissingStatusAllowed if is_object && status.is_none() => {
            let current = before.map_or(MemberStatus::Pending, |r| r.status);
            ctx.honest_with(model, &body_with(ctx.call.body, "status", current.as_str()))
        }
        Mutant::InvalidStatusAccepted if status.is_some() && valid.is_none() => {
            ctx.honest_with(model, &body_with(ctx.call.body, "status", "pending"))
        }
        Mutant::StatusOneWay => {
            let out = ctx.honest(model);
            match before {
                Some(row)
                    if out.is_ok()
                        && valid == Some(MemberStatus::Pending)
                        && row.status != MemberStatus::Pending =>
                {
                    model.state_mut().update_member(
                        image_id,
                        member_id,
                        row.status,
                        row.updated_at,
                    );
                    Err(ApiError::forbidden(
                        "An answered membership cannot become pending again.",
                    ))
                }
                _ => out,
            }
        }
        _ => ctx.honest(model),
    }
}

fn delete(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let (image_id, member_id) = (ctx.call.params[0], ctx.member_param().unwrap_or(""));
    match m {
        Mutant::MemberCanDeleteSelf => {
            let out = ctx.honest(model);
            if member_id == ctx.call.who.project_id && refused(&out, ErrorKind::Forbidden) {
                return ctx.honest_as(model, &ctx.caller_with("admin"));
            }
            out
        }
        Mutant::DeleteBodyIgnored => ctx.honest_with(model, b""),
        Mutant::DeleteMemberNoop => {
            let before = model.state().member(image_id, member_id);
            let out = ctx.honest(model);
            if let (Ok(_), Some(row)) = (&out, before) {
                let state = model.state_mut();
                state.take_former(image_id, member_id);
                state.insert_member(row);
            }
            out
        }
        _ => ctx.honest(model),
    }
}
