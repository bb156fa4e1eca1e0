//! Mutants of the image rows, and those that break a rule every row shares (who is admin, who
//! may write, who sees what).

use serde_json::Value;

use super::Mutant;
use super::ctx::{Ctx, quota_plus_one, refused};
use crate::model::{ApiError, ErrorKind, Model, Outcome, PATCH_MEDIA_TYPES, Visibility};
use crate::operations::Answer;

/// The mutants that apply to any row, or `None` when `m` leaves this call alone.
pub(super) fn any_row(m: Mutant, ctx: &Ctx, model: &mut Model) -> Option<Outcome<Answer>> {
    let who = ctx.call.who;
    let private = ctx
        .image
        .as_ref()
        .is_some_and(|i| i.visibility == Visibility::Private);
    Some(match m {
        Mutant::AdminIsOrdinary if who.is_admin() => {
            let mut ordinary = who.clone();
            ordinary.roles.retain(|r| r != "admin");
            ordinary.roles.push("member".into());
            ctx.honest_as(model, &ordinary)
        }
        Mutant::ReaderCanWrite if !who.can_write() && ctx.op.name != "create_image" => {
            ctx.honest_as(model, &ctx.caller_with("member"))
        }
        Mutant::StrangerSeesPrivate if private && !ctx.sees => {
            ctx.honest_as(model, &ctx.owner_as("reader"))
        }
        Mutant::HiddenImageForbidden if ctx.image.is_some() && !ctx.sees => {
            let out = ctx.honest(model);
            if refused(&out, ErrorKind::NotFound) {
                return Some(Err(ApiError::forbidden(
                    "You are not authorized to access this image.",
                )));
            }
            out
        }
        Mutant::OwnerCheckIsVisibility => as_owner_when_refused(ctx, model),
        _ => return None,
    })
}

/// The honest answer; if it is 403 on an image the caller sees, the owner's answer instead.
pub(super) fn as_owner_when_refused(ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let out = ctx.honest(model);
    if ctx.sees && refused(&out, ErrorKind::Forbidden) {
        return ctx.honest_as(model, &ctx.owner_as("member"));
    }
    out
}

/// The answer of an image row under `m`.
pub(super) fn answer(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    match (m, ctx.op.name) {
        (Mutant::MemberCanTag, "add_image_tag" | "delete_image_tag")
        | (Mutant::MemberCanUpdate, "update_image") => as_owner_when_refused(ctx, model),
        (Mutant::ProtectedDeleted, "delete_image") => {
            if let Some(img) = ctx
                .image
                .as_ref()
                .filter(|i| model.may_write(ctx.call.who, i))
                && let Some(stored) = model.state_mut().image_mut(&img.id)
            {
                stored.protected = false;
            }
            ctx.honest(model)
        }
        (Mutant::PatchMediaTypeIgnored, "update_image") => {
            let out = ctx.honest(model);
            if refused(&out, ErrorKind::UnsupportedMediaType) {
                let call = crate::operations::Call {
                    content_type: Some(PATCH_MEDIA_TYPES[1].0),
                    ..*ctx.call
                };
                return ctx.honest_to(model, &call);
            }
            out
        }
        (Mutant::TagQuotaOffByOne, "add_image_tag") => {
            quota_plus_one(model, |r| &mut r.tag_quota, |model| ctx.honest(model))
        }
        (Mutant::MissingTagDeleted, "delete_image_tag") => {
            let out = ctx.honest(model);
            let writable = ctx
                .image
                .as_ref()
                .is_some_and(|i| model.may_write(ctx.call.who, i));
            if ctx.sees && writable && refused(&out, ErrorKind::NotFound) {
                return Ok(Answer::Empty);
            }
            out
        }
        (_, "list_images") => list(m, ctx, model),
        _ => ctx.honest(model),
    }
}

/// The mutants of the image list: they bend the honest page.
fn list(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let query = ctx.call.query;
    let any_status: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| match k.as_str() {
            "member_status" => (k.clone(), "all".to_string()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let out = ctx.honest(model)?;
    let bend: fn(&mut Vec<Value>, &str) = match m {
        Mutant::ImageListIgnoresMemberStatus if query.iter().any(|(k, _)| k == "member_status") => {
            let call = crate::operations::Call {
                query: &any_status,
                ..*ctx.call
            };
            return ctx.honest_to(model, &call);
        }
        Mutant::PublicUnlistedForOthers => |images, caller| {
            images.retain(|i| i["visibility"] != "public" || i["owner"] == caller);
        },
        Mutant::ListOldestFirst => |images, _| images.reverse(),
        Mutant::ListTiesById if !query.iter().any(|(k, _)| k.starts_with("sort")) => |images, _| {
            let key = |i: &Value| (i["created_at"].to_string(), i["id"].to_string());
            images.sort_by_key(|i| std::cmp::Reverse(key(i)));
        },
        _ => return Ok(out),
    };
    let mut page = out.value();
    if let Some(images) = page.get_mut("images").and_then(Value::as_array_mut) {
        bend(images, &ctx.call.who.project_id);
    }
    Ok(Answer::Json {
        body: serde_json::to_vec(&page).unwrap_or_default(),
        location: None,
    })
}
