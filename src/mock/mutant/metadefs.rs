//! Mutants of the metadata definition rows: who sees a namespace, who may change one, what
//! protection guards, how tags are defined and how the namespace list is ordered.

use super::Mutant;
use super::ctx::{Ctx, refused};
use crate::model::{ErrorKind, Identity, Model, Outcome};
use crate::operations::{Answer, Call};

/// The answer of a metadef row under `m`.
pub(super) fn answer(m: Mutant, ctx: &Ctx, model: &mut Model) -> Outcome<Answer> {
    let who = ctx.call.who;
    let ns = ctx
        .call
        .params
        .first()
        .and_then(|n| model.state().namespace(n))
        .cloned();
    match m {
        Mutant::PrivateNamespaceSeen if ctx.op.method == "GET" => {
            let out = ctx.honest(model);
            match ns {
                Some(ns) if refused(&out, ErrorKind::NotFound) => {
                    let insider = Identity {
                        project_id: ns.owner.clone(),
                        ..who.clone()
                    };
                    ctx.honest_as(model, &insider)
                }
                _ => out,
            }
        }
        Mutant::NamespaceOwnerCanChange if ctx.op.method != "GET" => {
            let out = ctx.honest(model);
            if refused(&out, ErrorKind::Forbidden) && ns.is_some_and(|n| n.owner == who.project_id)
            {
                return ctx.honest_as(model, &ctx.caller_with("admin"));
            }
            out
        }
        Mutant::ProtectedNamespaceDeleted if ctx.op.method == "DELETE" && who.is_admin() => {
            if let Some(stored) = ns.and_then(|n| model.state_mut().namespace_mut(&n.name)) {
                stored.protected = false;
            }
            ctx.honest(model)
        }
        Mutant::TagsAlwaysAppended if ctx.op.name == "create_metadef_tags" => {
            let mut headers = ctx.call.headers.clone();
            headers.insert("x-openstack-append", http::HeaderValue::from_static("true"));
            ctx.honest_to(
                model,
                &Call {
                    headers: &headers,
                    ..*ctx.call
                },
            )
        }
        Mutant::NamespaceSortDirIgnored if ctx.op.name == "list_metadef_namespaces" => {
            let query: Vec<(String, String)> = ctx
                .call
                .query
                .iter()
                .filter(|(k, _)| k != "sort_dir")
                .cloned()
                .collect();
            ctx.honest_to(
                model,
                &Call {
                    query: &query,
                    ..*ctx.call
                },
            )
        }
        _ => ctx.honest(model),
    }
}
