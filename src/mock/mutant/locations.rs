//! Mutants of the locations API rows: who may list an image's locations, and who may add a
//! location no http store serves.

use super::Mutant;
use super::ctx::{Ctx, refused};
use crate::model::{ErrorKind, Model, Outcome};
use crate::operations::Answer;

/// The answer of a locations row under `m`.
pub(super) fn answer(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    match m {
        Mutant::LocationsOpenToAll if ctx.op.name == "get_image_locations" => {
            let out = ctx.honest(model);
            if refused(&out, ErrorKind::Forbidden) {
                return ctx.honest_as(model, &ctx.caller_with("admin"));
            }
            out
        }
        Mutant::LocationStoreUnchecked if ctx.op.name == "add_image_location" => {
            // Served as the service role, which the http store check lets through.
            let out = ctx.honest(model);
            if refused(&out, ErrorKind::Forbidden) {
                return ctx.honest_as(model, &ctx.caller_with("service"));
            }
            out
        }
        _ => ctx.honest(model),
    }
}
