//! Metadata definitions (`/v2/metadefs`): namespaces, which group the objects and tags that
//! describe what image properties may say. Only admins change them (the reference's
//! `metadef_admin` policy), whoever owns the namespace; a namespace is seen by everyone when
//! public, else by its owner's project and admins, and an unseen one is "not found" for
//! every call beneath it.
//!
//! Checks run in the reference's order: the body is read (403 for a read-only attribute,
//! 400 against the schema), the namespace is found (404), the policy (403), the thing named
//! beneath it is found (404), the name is unique in its scope (409).

use serde_json::{Map, Value, json};

use super::{ApiError, ErrorKind, Identity, Model, Result};

pub(crate) mod body;
mod listing;
mod objects;
mod properties;
mod resource_types;
mod tags;

pub use objects::MetaObject;
pub use properties::MetaProperty;
pub use resource_types::{Association, ResourceType};
pub use tags::MetaTag;

/// The longest namespace, object, tag or display name the reference stores.
const NAME_MAX: usize = 80;

/// Attributes of a namespace or object that a body may not set.
const READ_ONLY: &[&str] = &["self", "schema", "created_at", "updated_at"];

/// One namespace and everything defined in it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    /// Its unique name, the `{namespace_name}` of every path beneath it.
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// `public` or `private`.
    pub visibility: String,
    /// A protected namespace, and what it defines, cannot be deleted.
    pub protected: bool,
    /// The owning project.
    pub owner: String,
    pub created_at: String,
    pub updated_at: String,
    /// Objects (listed by name).
    pub objects: Vec<MetaObject>,
    /// Tags, in the order they were defined (listed newest first).
    pub tags: Vec<MetaTag>,
    /// Properties (listed by name).
    pub properties: Vec<MetaProperty>,
    /// Associations with resource types, oldest first.
    pub associations: Vec<Association>,
    /// Its place in the order namespaces were created.
    #[serde(rename = "created_order", default)]
    pub(crate) seq: u64,
}

impl Namespace {
    /// The namespace as the list shows it: its own fields and its resource type
    /// associations, when it has any.
    pub fn to_json(&self) -> Value {
        let mut v = self.own_json();
        if !self.associations.is_empty() {
            v["resource_type_associations"] =
                self.associations.iter().map(Association::to_json).collect();
        }
        v
    }

    /// The namespace's own fields, as an update answers them; unset texts are left out.
    pub fn own_json(&self) -> Value {
        let mut v = json!({
            "namespace": self.name,
            "visibility": self.visibility,
            "protected": self.protected,
            "owner": self.owner,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "self": format!("/v2/metadefs/namespaces/{}", self.name),
            "schema": "/v2/schemas/metadefs/namespace",
        });
        if let Some(d) = &self.display_name {
            v["display_name"] = d.clone().into();
        }
        if let Some(d) = &self.description {
            v["description"] = d.clone().into();
        }
        v
    }

    /// The namespace as a show answers it: what it defines embedded, when there is any.
    pub fn shown(&self) -> Value {
        let mut v = self.to_json();
        if !self.properties.is_empty() {
            v["properties"] = self.property_map();
        }
        if !self.objects.is_empty() {
            v["objects"] = self
                .objects_by_name()
                .map(|o| o.to_json(&self.name))
                .collect();
        }
        if !self.tags.is_empty() {
            v["tags"] = self
                .tags_newest_first()
                .map(|t| json!({"name": t.name}))
                .collect();
        }
        v
    }

    /// The namespace as a create answers it: what the body defined, as it was given.
    pub fn created(&self) -> Value {
        let mut v = self.own_json();
        if !self.associations.is_empty() {
            v["resource_type_associations"] = self
                .associations
                .iter()
                .map(Association::as_given)
                .collect();
        }
        if !self.properties.is_empty() {
            v["properties"] = self.property_map();
        }
        if !self.objects.is_empty() {
            v["objects"] = self.objects.iter().map(MetaObject::as_given).collect();
        }
        if !self.tags.is_empty() {
            v["tags"] = self.tags.iter().map(|t| json!({"name": t.name})).collect();
        }
        v
    }

    /// The objects, by name (bytewise), as the reference lists them.
    pub(crate) fn objects_by_name(&self) -> impl Iterator<Item = &MetaObject> {
        let mut all: Vec<&MetaObject> = self.objects.iter().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.into_iter()
    }

    /// The properties, by name.
    pub(crate) fn properties_by_name(&self) -> impl Iterator<Item = &MetaProperty> {
        let mut all: Vec<&MetaProperty> = self.properties.iter().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.into_iter()
    }

    /// Property name → definition, as the list and a show embed them.
    pub fn property_map(&self) -> Value {
        let map: Map<String, Value> = self
            .properties_by_name()
            .map(|p| (p.name.clone(), p.embedded()))
            .collect();
        Value::Object(map)
    }

    /// The tags, newest first (the reference's default order).
    pub(crate) fn tags_newest_first(&self) -> impl Iterator<Item = &MetaTag> {
        self.tags.iter().rev()
    }

    fn visible_to(&self, who: &Identity) -> bool {
        who.is_admin() || self.visibility == "public" || self.owner == who.project_id
    }
}

/// A namespace create or update body.
struct NamespaceBody {
    name: String,
    display_name: Option<String>,
    description: Option<String>,
    visibility: Option<String>,
    protected: Option<bool>,
    owner: Option<String>,
    /// Defined with it (a create only; an update ignores them).
    objects: Vec<MetaObject>,
    tags: Vec<String>,
    properties: Vec<MetaProperty>,
    associations: Vec<Association>,
}

const NAMESPACE_KEYS: &[&str] = &[
    "namespace",
    "display_name",
    "description",
    "visibility",
    "protected",
    "owner",
    "objects",
    "tags",
    "properties",
    "resource_type_associations",
];

fn parse_namespace(raw: &[u8], now: &str) -> Result<NamespaceBody> {
    let o = body::object(raw)?;
    body::writable(&o, READ_ONLY)?;
    body::known(&o, NAMESPACE_KEYS)?;
    let visibility = body::text(&o, "visibility", NAME_MAX)?;
    if let Some(v) = visibility
        .as_deref()
        .filter(|v| !["public", "private"].contains(v))
    {
        return Err(body::schema(&format!(
            "'{v}' is not one of ['public', 'private']"
        )));
    }
    let protected = match o.get("protected") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => return Err(body::schema(&format!("{v} is not of type 'boolean'"))),
    };
    let properties = match o.get("properties") {
        None => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, def)| match def {
                Value::Object(def) => Ok(MetaProperty {
                    name: name.clone(),
                    definition: properties::definition(def)?,
                    named: false,
                }),
                _ => Err(body::schema(&format!("{def} is not of type 'object'"))),
            })
            .collect::<Result<_>>()?,
        Some(v) => return Err(body::schema(&format!("{v} is not of type 'object'"))),
    };
    let associations = match o.get("resource_type_associations") {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|a| match a {
                Value::Object(a) => resource_types::association(a, now),
                _ => Err(body::schema(&format!("{a} is not of type 'object'"))),
            })
            .collect::<Result<_>>()?,
        Some(v) => return Err(body::schema(&format!("{v} is not of type 'array'"))),
    };
    let objects = match o.get("objects") {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|x| objects::from_value(x, now))
            .collect::<Result<_>>()?,
        Some(v) => return Err(body::schema(&format!("{v} is not of type 'array'"))),
    };
    let tags = match o.get("tags") {
        None => Vec::new(),
        Some(v) => tags::names(v)?,
    };
    Ok(NamespaceBody {
        name: body::name(&o, "namespace", NAME_MAX)?,
        display_name: body::text(&o, "display_name", NAME_MAX)?,
        description: body::text(&o, "description", 500)?,
        visibility,
        protected,
        owner: body::text(&o, "owner", 255)?,
        objects,
        tags,
        properties,
        associations,
    })
}

/// The reference's refusal of a change to metadata definitions by a non-admin.
pub(crate) fn admin_only(who: &Identity, action: &str) -> Result<()> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "You are not authorized to complete {action} action."
        )))
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Namespace {name} not found"))
}

/// 403 for deleting from a protected namespace.
pub(crate) fn unprotected(ns: &Namespace, what: &str, name: &str) -> Result<()> {
    if ns.protected {
        Err(ApiError::forbidden(format!(
            "Metadata definition {what} {name} is protected and cannot be deleted."
        )))
    } else {
        Ok(())
    }
}

impl Model {
    /// `POST /v2/metadefs/namespaces`: admins only; the name is unique. Objects and tags may
    /// be defined with it.
    pub fn create_namespace(&mut self, who: &Identity, body: &[u8]) -> Result<Namespace> {
        let now = (self.clock)();
        let b = parse_namespace(body, &now)?;
        admin_only(who, "add_metadef_namespace")?;
        if self.state.namespace(&b.name).is_some() {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!(
                    "The metadata definition namespace={} already exists.",
                    b.name
                ),
            ));
        }
        let tags = tags::fresh(&b.tags, &b.name, &now)?;
        let ns = Namespace {
            name: b.name,
            display_name: b.display_name,
            description: b.description,
            visibility: b.visibility.unwrap_or_else(|| "private".into()),
            protected: b.protected.unwrap_or(false),
            owner: b.owner.unwrap_or_else(|| who.project_id.clone()),
            created_at: now.clone(),
            updated_at: now,
            objects: b.objects,
            tags,
            properties: b.properties,
            associations: b.associations,
            seq: 0,
        };
        for a in &ns.associations {
            self.state.note_resource_type(&a.name, &ns.created_at);
        }
        Ok(self.state.insert_namespace(ns).clone())
    }

    /// `GET /v2/metadefs/namespaces/{namespace_name}`.
    pub fn show_namespace(&self, who: &Identity, name: &str) -> Result<&Namespace> {
        self.state
            .namespace(name)
            .filter(|n| n.visible_to(who))
            .ok_or_else(|| not_found(name))
    }

    /// The namespace `name`, for a change by an admin (`action` names the policy): 404 when
    /// the caller cannot see it, then 403 for a non-admin.
    pub(crate) fn namespace_to_change(
        &mut self,
        who: &Identity,
        name: &str,
        action: &str,
    ) -> Result<&mut Namespace> {
        self.show_namespace(who, name)?;
        admin_only(who, action)?;
        self.state
            .namespace_mut(name)
            .ok_or_else(|| not_found(name))
    }

    /// `PUT /v2/metadefs/namespaces/{namespace_name}`: admins only; replaces the namespace's
    /// own fields (absent ones return to their defaults, the owner to the caller's project)
    /// and may rename it; what it defines stays.
    pub fn update_namespace(
        &mut self,
        who: &Identity,
        name: &str,
        body: &[u8],
    ) -> Result<Namespace> {
        let now = (self.clock)();
        let b = parse_namespace(body, &now)?;
        self.namespace_to_change(who, name, "modify_metadef_namespace")?;
        if b.name != name && self.state.namespace(&b.name).is_some() {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!(
                    "Invalid update. It would result in a duplicate metadata definition namespace with the same name of {}",
                    b.name
                ),
            ));
        }
        let ns = self
            .state
            .namespace_mut(name)
            .ok_or_else(|| not_found(name))?;
        ns.name = b.name;
        ns.display_name = b.display_name;
        ns.description = b.description;
        ns.visibility = b.visibility.unwrap_or_else(|| "private".into());
        ns.protected = b.protected.unwrap_or(false);
        ns.owner = b.owner.unwrap_or_else(|| who.project_id.clone());
        ns.updated_at = now;
        Ok(ns.clone())
    }

    /// `DELETE /v2/metadefs/namespaces/{namespace_name}`: admins only, not a protected one;
    /// what it defines goes with it.
    pub fn delete_namespace(&mut self, who: &Identity, name: &str) -> Result<()> {
        let ns = self.namespace_to_change(who, name, "delete_metadef_namespace")?;
        unprotected(ns, "namespace", name)?;
        self.state.remove_namespace(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
