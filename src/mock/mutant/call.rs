//! The seam of the rules mutants: `route` asks here instead of the row's handler, and the
//! call goes to the wrappers of its kind of row (`images`, `members`, `metadefs`). A mutant
//! changes what one call of the table sees (who asks, the body, the query, a quota, the
//! image) or what it answers; the model knows nothing of mutants, so its rules read as the
//! reference's alone.

use std::sync::LazyLock;

use super::ctx::Ctx;
use super::{Mutant, cache, images, locations, members, metadefs};
use crate::model::{Identity, Model, Outcome};
use crate::operations::{Answer, Call, Operation};

/// Who a request without a token is taken for under `anonymous-is-stranger`.
static ANONYMOUS: LazyLock<Identity> = LazyLock::new(|| Identity {
    project_id: "anonymous".into(),
    user_id: "anonymous".into(),
    roles: Vec::new(),
});

/// The identity a request is served as: the token's, or under `anonymous-is-stranger` a
/// stranger for a missing token.
pub(crate) fn authenticate<'m>(
    mutant: Option<Mutant>,
    model: &'m Model,
    token: Option<&str>,
) -> Outcome<&'m Identity> {
    match model.authenticate(token) {
        Err(_) if mutant == Some(Mutant::AnonymousIsStranger) && token.unwrap_or("").is_empty() => {
            Ok(&ANONYMOUS)
        }
        honest => honest,
    }
}

/// The answer of `op` to `call` under the rule-breaking mutant `m`.
pub(crate) fn answer(m: Mutant, op: &Operation, model: &mut Model, call: &Call) -> Outcome<Answer> {
    let ctx = Ctx::new(op, model, call);
    if m == Mutant::GetBodyIgnored && op.method == "GET" {
        return ctx.honest_to(model, &Call { body: &[], ..*call });
    }
    if let Some(out) = images::any_row(m, &ctx, model) {
        return out;
    }
    match op.name {
        "add_image_member"
        | "list_image_members"
        | "show_image_member"
        | "update_image_member"
        | "delete_image_member" => members::answer(m, &ctx, model),
        _ if op.path.starts_with("/v2/metadefs/") => metadefs::answer(m, &ctx, model),
        _ if op.path.starts_with("/v2/cache") => cache::answer(m, &ctx, model),
        "get_image_locations" | "add_image_location" => locations::answer(m, &ctx, model),
        _ => images::answer(m, &ctx, model),
    }
}
