//! Mutants of the image cache rows: who may manage the cache, and what a delete or a clear
//! leaves behind.

use super::Mutant;
use super::ctx::{Ctx, refused};
use crate::model::{ErrorKind, Model, Outcome};
use crate::operations::{Answer, Call};

/// The answer of a cache row under `m`.
pub(super) fn answer(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    match m {
        Mutant::CacheOpenToAll => {
            let out = ctx.honest(model);
            if refused(&out, ErrorKind::Forbidden) {
                return ctx.honest_as(model, &ctx.caller_with("admin"));
            }
            out
        }
        Mutant::CacheDeleteNoop if ctx.op.name == "delete_image_from_cache" => {
            let before = model.snapshot();
            let out = ctx.honest(model);
            if out.is_ok() {
                model.restore(&before).ok();
            }
            out
        }
        Mutant::ClearIgnoresTarget if ctx.op.name == "clear_images_from_cache" => {
            let mut headers = ctx.call.headers.clone();
            headers.remove("x-image-cache-clear-target");
            ctx.honest_to(
                model,
                &Call {
                    headers: &headers,
                    ..*ctx.call
                },
            )
        }
        _ => ctx.honest(model),
    }
}
