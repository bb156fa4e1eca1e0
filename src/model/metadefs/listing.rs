//! The namespace list's query: visibility filter, sort key and direction, pages by name.

use std::cmp::Ordering;

use super::{ApiError, Identity, Model, Namespace, Result};
use crate::model::{DEFAULT_LIMIT, MAX_LIMIT};

/// One page of namespaces, and the name to pass as `marker` for the next one.
#[derive(Debug)]
pub struct NamespacePage<'a> {
    pub namespaces: Vec<&'a Namespace>,
    pub next_marker: Option<&'a str>,
}

/// Keys the list sorts by (columns of the reference's table).
const SORT_KEYS: &[&str] = &[
    "namespace",
    "display_name",
    "description",
    "visibility",
    "protected",
    "owner",
    "created_at",
    "updated_at",
];

/// A page size: a whole number from 0, at most [`MAX_LIMIT`].
pub(crate) fn limit(v: Option<&str>, zero_ok: bool) -> Result<Option<usize>> {
    let Some(v) = v else { return Ok(None) };
    let n: i64 = v
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request("limit param must be an integer"))?;
    if n < 0 || (n == 0 && !zero_ok) {
        return Err(ApiError::bad_request("limit param must be positive"));
    }
    Ok(Some((n as usize).min(MAX_LIMIT)))
}

/// `asc` or `desc` (the default).
pub(crate) fn descending(v: Option<&str>) -> Result<bool> {
    match v {
        None | Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid sort direction: {other}"
        ))),
    }
}

fn key(ns: &Namespace, key: &str) -> String {
    match key {
        "namespace" => ns.name.clone(),
        "display_name" => ns.display_name.clone().unwrap_or_default(),
        "description" => ns.description.clone().unwrap_or_default(),
        "visibility" => ns.visibility.clone(),
        "protected" => ns.protected.to_string(),
        "owner" => ns.owner.clone(),
        "updated_at" => ns.updated_at.clone(),
        _ => ns.created_at.clone(),
    }
}

impl Model {
    /// `GET /v2/metadefs/namespaces`: the namespaces the caller may see, newest first unless
    /// `sort_key`/`sort_dir` say otherwise (ties by creation, in the same direction),
    /// filtered by `visibility` and `resource_types` (any of those associated), a page
    /// of `limit` after `marker` (a name).
    pub fn list_namespaces<'a>(
        &'a self,
        who: &Identity,
        query: &[(String, String)],
    ) -> Result<NamespacePage<'a>> {
        let get = |k: &str| {
            query
                .iter()
                .rev()
                .find(|(q, _)| q == k)
                .map(|(_, v)| v.as_str())
        };
        let limit = limit(get("limit"), true)?.unwrap_or(DEFAULT_LIMIT);
        let sort_key = get("sort_key").unwrap_or("created_at");
        if !SORT_KEYS.contains(&sort_key) {
            return Err(ApiError::bad_request(format!(
                "Invalid sort key: {sort_key}"
            )));
        }
        let desc = descending(get("sort_dir"))?;
        let visibility = get("visibility");
        if let Some(v) = visibility.filter(|v| !["public", "private", ""].contains(v)) {
            return Err(ApiError::bad_request(format!(
                "Invalid visibility value: {v}"
            )));
        }
        let mut seen: Vec<&Namespace> = self
            .state
            .namespaces()
            .iter()
            .filter(|n| n.visible_to(who))
            .filter(|n| visibility.is_none_or(|v| n.visibility == v))
            .filter(|n| {
                get("resource_types").is_none_or(|list| {
                    list.split(',')
                        .any(|t| n.associations.iter().any(|a| a.name == t.trim()))
                })
            })
            .collect();
        let order = |a: &&Namespace, b: &&Namespace| -> Ordering {
            let o = key(a, sort_key)
                .cmp(&key(b, sort_key))
                .then(a.seq.cmp(&b.seq));
            if desc { o.reverse() } else { o }
        };
        seen.sort_by(order);
        let start = match get("marker") {
            None => 0,
            Some(m) => {
                let marker = self.state.namespace(m).ok_or_else(|| {
                    ApiError::not_found(format!("Metadata definition namespace={m} was not found."))
                })?;
                if !marker.visible_to(who) {
                    return Err(ApiError::forbidden(format!(
                        "Forbidding request, metadata definition namespace={m} is not visible."
                    )));
                }
                seen.iter()
                    .position(|n| order(n, &marker) == Ordering::Greater)
                    .unwrap_or(seen.len())
            }
        };
        let end = start.saturating_add(limit).min(seen.len());
        let page: Vec<&Namespace> = seen[start..end].to_vec();
        let next_marker =
            (limit > 0 && page.len() == limit).then(|| page[page.len() - 1].name.as_str());
        Ok(NamespacePage {
            namespaces: page,
            next_marker,
        })
    }
}
