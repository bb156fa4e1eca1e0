//! The tags of a namespace (`…/namespaces/{namespace_name}/tags`): names of up to 80
//! characters, unique within their namespace, defined one at a time or as a whole list,
//! listed newest first.

use serde_json::{Value, json};

use super::{ApiError, ErrorKind, Identity, Model, NAME_MAX, Result, body, unprotected};

/// One tag definition.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaTag {
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

impl MetaTag {
    /// The tag as the one-tag calls answer it.
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// Attributes of a tag that a body may not set.
const TAG_READ_ONLY: &[&str] = &["created_at", "updated_at"];

fn duplicate(name: &str, namespace: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        format!("A metadata tag with name={name} already exists in namespace={namespace}."),
    )
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Could not find metadata tag {name}"))
}

/// The names of a list of `{"name": …}` objects.
pub(super) fn names(v: &Value) -> Result<Vec<String>> {
    let Value::Array(list) = v else {
        return Err(body::schema(&format!("{v} is not of type 'array'")));
    };
    list.iter()
        .map(|t| match t {
            Value::Object(t) => {
                body::known(t, &["name", "created_at", "updated_at"])?;
                body::name(t, "name", NAME_MAX)
            }
            _ => Err(body::schema(&format!("{t} is not of type 'object'"))),
        })
        .collect()
}

/// Tags for `names`, made `now`; a name given twice is a conflict.
pub(super) fn fresh(names: &[String], namespace: &str, now: &str) -> Result<Vec<MetaTag>> {
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(duplicate(n, namespace));
        }
    }
    Ok(names
        .iter()
        .map(|n| MetaTag {
            name: n.clone(),
            created_at: now.to_string(),
            updated_at: now.to_string(),
        })
        .collect())
}

/// A `{"tags": [...]}` body's names.
fn parse_list(raw: &[u8]) -> Result<Vec<String>> {
    let o = body::object(raw)?;
    body::writable(&o, TAG_READ_ONLY)?;
    body::known(&o, &["tags"])?;
    names(
        o.get("tags")
            .ok_or_else(|| body::schema("'tags' is a required property"))?,
    )
}

/// A one-tag body's `name` (an update).
fn parse_one(raw: &[u8]) -> Result<String> {
    let o = body::object(raw)?;
    body::writable(&o, TAG_READ_ONLY)?;
    body::known(&o, &["name"])?;
    body::name(&o, "name", NAME_MAX)
}

impl Model {
    /// `GET …/tags`: the namespace's tags, newest first unless sorted by `sort_key` and
    /// `sort_dir`; a page of `limit` after `marker` (a name).
    pub fn list_meta_tags(
        &self,
        who: &Identity,
        namespace: &str,
        query: &[(String, String)],
    ) -> Result<Vec<&MetaTag>> {
        let get = |k: &str| {
            query
                .iter()
                .rev()
                .find(|(q, _)| q == k)
                .map(|(_, v)| v.as_str())
        };
        let ns = self.show_namespace(who, namespace)?;
        let limit = super::listing::limit(get("limit"), true)?;
        let desc = super::listing::descending(get("sort_dir"))?;
        let mut all: Vec<(usize, &MetaTag)> = ns.tags.iter().enumerate().collect();
        let by_name = get("sort_key") == Some("name");
        all.sort_by(|(i, a), (j, b)| {
            let o = if by_name {
                a.name.cmp(&b.name)
            } else {
                i.cmp(j)
            };
            if desc { o.reverse() } else { o }
        });
        let start = match get("marker") {
            None => 0,
            Some(m) => {
                1 + all
                    .iter()
                    .position(|(_, t)| t.name == m)
                    .ok_or_else(|| not_found(m))?
            }
        };
        let rest = all.into_iter().skip(start).map(|(_, t)| t);
        Ok(match limit {
            Some(n) => rest.take(n).collect(),
            None => rest.collect(),
        })
    }

    /// `POST …/tags`: admins only; the body's tags replace the namespace's, or with `append`
    /// (the `X-Openstack-Append` header) join them; an empty list changes nothing. A name
    /// given twice, or (appending) one already there, is a conflict and nothing changes.
    pub fn create_meta_tags(
        &mut self,
        who: &Identity,
        namespace: &str,
        raw: &[u8],
        append: bool,
    ) -> Result<Vec<MetaTag>> {
        let names = parse_list(raw)?;
        let now = (self.clock)();
        let ns = self.namespace_to_change(who, namespace, "add_metadef_tags")?;
        let made = fresh(&names, namespace, &now)?;
        if append
            && let Some(t) = made
                .iter()
                .find(|t| ns.tags.iter().any(|o| o.name == t.name))
        {
            return Err(duplicate(&t.name, namespace));
        }
        if !made.is_empty() {
            if !append {
                ns.tags.clear();
            }
            ns.tags.extend(made.iter().cloned());
        }
        Ok(made)
    }

    /// `DELETE …/tags`: admins only, not in a protected namespace; every tag goes.
    pub fn delete_meta_tags(&mut self, who: &Identity, namespace: &str) -> Result<()> {
        let ns = self.namespace_to_change(who, namespace, "delete_metadef_namespace")?;
        unprotected(ns, "namespace", namespace)?;
        ns.tags.clear();
        Ok(())
    }

    /// `POST …/tags/{tag_name}`: admins only; defines one tag.
    pub fn create_meta_tag(
        &mut self,
        who: &Identity,
        namespace: &str,
        tag: &str,
    ) -> Result<MetaTag> {
        let now = (self.clock)();
        self.show_namespace(who, namespace)?;
        if tag.chars().count() > NAME_MAX {
            return Err(body::schema(&format!("'{tag}' is too long")));
        }
        let ns = self.namespace_to_change(who, namespace, "add_metadef_tag")?;
        if ns.tags.iter().any(|t| t.name == tag) {
            return Err(duplicate(tag, namespace));
        }
        let made = fresh(&[tag.to_string()], namespace, &now)?.remove(0);
        ns.tags.push(made.clone());
        Ok(made)
    }

    /// `GET …/tags/{tag_name}`.
    pub fn show_meta_tag(&self, who: &Identity, namespace: &str, tag: &str) -> Result<&MetaTag> {
        self.show_namespace(who, namespace)?
            .tags
            .iter()
            .find(|t| t.name == tag)
            .ok_or_else(|| not_found(tag))
    }

    /// `PUT …/tags/{tag_name}`: admins only; renames the tag.
    pub fn update_meta_tag(
        &mut self,
        who: &Identity,
        namespace: &str,
        tag: &str,
        raw: &[u8],
    ) -> Result<MetaTag> {
        let new = parse_one(raw)?;
        let now = (self.clock)();
        let ns = self.namespace_to_change(who, namespace, "modify_metadef_tag")?;
        let at = ns
            .tags
            .iter()
            .position(|t| t.name == tag)
            .ok_or_else(|| not_found(tag))?;
        if new != tag && ns.tags.iter().any(|t| t.name == new) {
            return Err(duplicate(&new, namespace));
        }
        let t = &mut ns.tags[at];
        t.name = new;
        t.updated_at = now;
        Ok(t.clone())
    }

    /// `DELETE …/tags/{tag_name}`: admins only, not in a protected namespace.
    pub fn delete_meta_tag(&mut self, who: &Identity, namespace: &str, tag: &str) -> Result<()> {
        let ns = self.namespace_to_change(who, namespace, "delete_metadef_tag")?;
        if !ns.tags.iter().any(|t| t.name == tag) {
            return Err(not_found(tag));
        }
        unprotected(ns, "tag", tag)?;
        ns.tags.retain(|t| t.name != tag);
        Ok(())
    }
}
