//! The JSON documents the mock's Keystone answers with: tokens (with the catalog), projects,
//! users, domains, collections and the version document.

use serde_json::{Value, json};

use super::{REGION, VERSION};
use crate::model::{Identities, IssuedToken, Project, User};

pub(super) fn domain_json(ids: &Identities, id: &str) -> Value {
    json!({"id": id, "name": ids.domain_name(id).unwrap_or(id)})
}

pub(super) fn user_json_brief(ids: &Identities, user_id: &str) -> Value {
    match ids.user_by_id(user_id) {
        Some((name, u)) => json!({
            "id": u.id, "name": name, "domain": domain_json(ids, &u.domain_id),
            "password_expires_at": null,
        }),
        None => json!({
            "id": user_id, "name": user_id, "domain": domain_json(ids, crate::model::DEFAULT_DOMAIN),
            "password_expires_at": null,
        }),
    }
}

pub(super) fn project_of<'a>(ids: &'a Identities, id: &str) -> (String, &'a str) {
    match ids.projects.get(id) {
        Some(p) => (p.name.clone(), p.domain_id.as_str()),
        None => (id.to_string(), crate::model::DEFAULT_DOMAIN),
    }
}

/// The catalog: the image service (`image` when given, else the mock at `base`) and this
/// Keystone.
pub(super) fn catalog(base: &str, image: Option<&str>) -> Value {
    let endpoints = |service: &str, url: &str| -> Value {
        ["public", "internal", "admin"]
            .iter()
            .map(|iface| {
                json!({
                    "id": format!("{service}-{iface}"),
                    "interface": iface,
                    "region": REGION,
                    "region_id": REGION,
                    "url": url,
                })
            })
            .collect()
    };
    json!([
        {"type": "image", "name": "glance", "id": "image",
         "endpoints": endpoints("image", image.unwrap_or(base))},
        {"type": "identity", "name": "keystone", "id": "identity",
         "endpoints": endpoints("identity", &format!("{base}/v3"))},
    ])
}

/// The body Keystone returns for a token, with the catalog pointing at `base`.
pub(crate) fn token_body(ids: &Identities, t: &IssuedToken, base: &str) -> Value {
    let (name, domain) = project_of(ids, &t.identity.project_id);
    let roles: Vec<Value> = t
        .identity
        .roles
        .iter()
        .map(|r| json!({"id": format!("role-{r}"), "name": r}))
        .collect();
    json!({"token": {
        "methods": t.methods,
        "user": user_json_brief(ids, &t.identity.user_id),
        "project": {"id": t.identity.project_id, "name": name, "domain": domain_json(ids, domain)},
        "is_domain": false,
        "roles": roles,
        "catalog": catalog(base, ids.image_endpoint.as_deref()),
        "expires_at": t.expires_at,
        "issued_at": t.issued_at,
    }})
}

pub(super) fn project_json(base: &str, id: &str, p: &Project) -> Value {
    json!({
        "id": id, "name": p.name, "domain_id": p.domain_id, "enabled": true,
        "description": p.description, "is_domain": false, "parent_id": p.domain_id,
        "tags": [], "options": {},
        "links": {"self": format!("{base}/v3/projects/{id}")},
    })
}

pub(super) fn user_json(base: &str, name: &str, u: &User) -> Value {
    json!({
        "id": u.id, "name": name, "domain_id": u.domain_id, "enabled": true,
        "default_project_id": u.project_id, "password_expires_at": null, "options": {},
        "links": {"self": format!("{base}/v3/users/{}", u.id)},
    })
}

pub(super) fn domain_full_json(ids: &Identities, base: &str, id: &str) -> Value {
    json!({
        "id": id, "name": ids.domain_name(id).unwrap_or(id), "enabled": true,
        "description": "", "tags": [], "options": {},
        "links": {"self": format!("{base}/v3/domains/{id}")},
    })
}

/// Every domain id: `default` and the declared ones.
pub(super) fn domain_ids(ids: &Identities) -> Vec<String> {
    let mut out: Vec<String> = ids.domains.keys().cloned().collect();
    if !out.iter().any(|d| d == crate::model::DEFAULT_DOMAIN) {
        out.insert(0, crate::model::DEFAULT_DOMAIN.to_string());
    }
    out
}

pub(super) fn collection(base: &str, path: &str, key: &str, items: Vec<Value>) -> Value {
    json!({
        key: items,
        "links": {"self": format!("{base}/v3/{path}"), "previous": null, "next": null},
    })
}

/// `GET /v3` and `/v3/`: the version document keystoneauth discovers.
pub(super) fn version_document(base: &str) -> Value {
    json!({"version": {
        "id": VERSION,
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }})
}
