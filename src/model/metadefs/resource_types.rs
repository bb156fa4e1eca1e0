//! Resource types and a namespace's associations with them (`/v2/metadefs/resource_types`,
//! `…/namespaces/{namespace_name}/resource_types`). A resource type comes into being with
//! its first association and stays when every association has gone, as on the reference.

use serde_json::{Map, Value, json};

use super::{ApiError, ErrorKind, Identity, Model, NAME_MAX, Result, body, unprotected};

/// A resource type: a kind of resource the namespace's properties apply to.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceType {
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

impl ResourceType {
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// A namespace's association with a resource type.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Association {
    pub name: String,
    /// What property names carry for this resource type (`hw_`).
    pub prefix: Option<String>,
    /// Where in the resource the properties go.
    pub properties_target: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Association {
    /// The association as it was given: its name and what it sets.
    pub(super) fn as_given(&self) -> Value {
        let mut v = Map::new();
        v.insert("name".into(), self.name.clone().into());
        if let Some(p) = &self.prefix {
            v.insert("prefix".into(), p.clone().into());
        }
        if let Some(t) = &self.properties_target {
            v.insert("properties_target".into(), t.clone().into());
        }
        Value::Object(v)
    }

    /// The association as the calls answer it, with its times.
    pub fn to_json(&self) -> Value {
        let mut v = self.as_given();
        v["created_at"] = self.created_at.clone().into();
        v["updated_at"] = self.updated_at.clone().into();
        v
    }
}

/// An association body (or an item of a namespace's `resource_type_associations`).
pub(super) fn association(o: &Map<String, Value>, now: &str) -> Result<Association> {
    body::writable(o, &["created_at", "updated_at"])?;
    body::known(o, &["name", "prefix", "properties_target"])?;
    Ok(Association {
        name: body::name(o, "name", NAME_MAX)?,
        prefix: body::text(o, "prefix", NAME_MAX)?,
        properties_target: body::text(o, "properties_target", NAME_MAX)?,
        created_at: now.to_string(),
        updated_at: now.to_string(),
    })
}

fn duplicate(name: &str, namespace: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        format!(
            "The metadata definition resource-type association of resource-type={name} to namespace={namespace} already exists."
        ),
    )
}

impl Model {
    /// `GET /v2/metadefs/resource_types`: every resource type ever associated, oldest first.
    pub fn list_resource_types(&self) -> &[ResourceType] {
        self.state.resource_types()
    }

    /// `GET …/resource_types`: the namespace's associations, oldest first.
    pub fn list_associations(&self, who: &Identity, namespace: &str) -> Result<&[Association]> {
        Ok(&self.show_namespace(who, namespace)?.associations)
    }

    /// `POST …/resource_types`: admins only; one association per resource type.
    pub fn create_association(
        &mut self,
        who: &Identity,
        namespace: &str,
        raw: &[u8],
    ) -> Result<Association> {
        let now = (self.clock)();
        let a = association(&body::object(raw)?, &now)?;
        let ns =
            self.namespace_to_change(who, namespace, "add_metadef_resource_type_association")?;
        if ns.associations.iter().any(|x| x.name == a.name) {
            return Err(duplicate(&a.name, namespace));
        }
        ns.associations.push(a.clone());
        self.state.note_resource_type(&a.name, &now);
        Ok(a)
    }

    /// `DELETE …/resource_types/{resource_type_name}`: admins only, not in a protected
    /// namespace; the resource type itself stays.
    pub fn delete_association(
        &mut self,
        who: &Identity,
        namespace: &str,
        name: &str,
    ) -> Result<()> {
        let ns =
            self.namespace_to_change(who, namespace, "remove_metadef_resource_type_association")?;
        if !ns.associations.iter().any(|a| a.name == name) {
            return Err(ApiError::not_found(format!(
                "Failed to find resource type {name} to delete"
            )));
        }
        unprotected(ns, "resource-type-association", name)?;
        ns.associations.retain(|a| a.name != name);
        Ok(())
    }
}
