//! The objects of a namespace (`…/namespaces/{namespace_name}/objects`): named groups of
//! property definitions, unique by name within their namespace, listed by name.

use serde_json::{Map, Value, json};

use super::{ApiError, ErrorKind, Identity, Model, NAME_MAX, READ_ONLY, Result, body, unprotected};

/// One object definition.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaObject {
    pub name: String,
    pub description: Option<String>,
    /// Names of the properties an instance must have.
    pub required: Vec<String>,
    /// Property name → its definition, as given.
    pub properties: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl MetaObject {
    /// The object as a show or list answers it, `required` and `properties` always there.
    pub fn to_json(&self, namespace: &str) -> Value {
        let mut v = self.as_given();
        v["required"] = json!(self.required);
        v["properties"] = Value::Object(self.properties.clone());
        self.linked(v, namespace)
    }

    /// The object as a create or update answers it: empty lists and maps left out.
    pub fn answered(&self, namespace: &str) -> Value {
        self.linked(self.as_given(), namespace)
    }

    fn linked(&self, mut v: Value, namespace: &str) -> Value {
        v["created_at"] = self.created_at.clone().into();
        v["updated_at"] = self.updated_at.clone().into();
        v["self"] = format!("/v2/metadefs/namespaces/{namespace}/objects/{}", self.name).into();
        v["schema"] = "/v2/schemas/metadefs/object".into();
        v
    }

    /// Name, description, and the required names and properties when there are any.
    pub(super) fn as_given(&self) -> Value {
        let mut v = json!({"name": self.name});
        if let Some(d) = &self.description {
            v["description"] = d.clone().into();
        }
        if !self.required.is_empty() {
            v["required"] = json!(self.required);
        }
        if !self.properties.is_empty() {
            v["properties"] = Value::Object(self.properties.clone());
        }
        v
    }
}

/// An object body, read as of `now`.
pub(super) fn from_value(v: &Value, now: &str) -> Result<MetaObject> {
    let Value::Object(o) = v else {
        return Err(body::schema(&format!("{v} is not of type 'object'")));
    };
    body::writable(o, READ_ONLY)?;
    body::known(o, &["name", "description", "required", "properties"])?;
    Ok(MetaObject {
        name: body::name(o, "name", NAME_MAX)?,
        description: body::text(o, "description", usize::MAX)?,
        required: body::texts(o, "required")?,
        properties: body::properties(o)?,
        created_at: now.to_string(),
        updated_at: now.to_string(),
    })
}

fn parse(raw: &[u8], now: &str) -> Result<MetaObject> {
    from_value(&Value::Object(body::object(raw)?), now)
}

fn duplicate(name: &str, namespace: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        format!(
            "A metadata definition object with name={name} already exists in namespace={namespace}."
        ),
    )
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Could not find metadata object {name}"))
}

impl Model {
    /// `GET …/objects`: the namespace's objects, by name. `limit`, `marker` and sorting
    /// are checked but, as on the reference, do not change the list.
    pub fn list_objects(
        &self,
        who: &Identity,
        namespace: &str,
        query: &[(String, String)],
    ) -> Result<Vec<&MetaObject>> {
        let ns = self.show_namespace(who, namespace)?;
        for (k, v) in query {
            match k.as_str() {
                "limit" => drop(super::listing::limit(Some(v), false)?),
                "sort_dir" => drop(super::listing::descending(Some(v))?),
                "visibility" if !["public", "private", "shared"].contains(&v.as_str()) => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid visibility value: {v}"
                    )));
                }
                _ => {}
            }
        }
        Ok(ns.objects_by_name().collect())
    }

    /// `POST …/objects`: admins only; the name is unique in the namespace.
    pub fn create_object(
        &mut self,
        who: &Identity,
        namespace: &str,
        raw: &[u8],
    ) -> Result<MetaObject> {
        let object = parse(raw, &(self.clock)())?;
        let ns = self.namespace_to_change(who, namespace, "add_metadef_object")?;
        if ns.objects.iter().any(|o| o.name == object.name) {
            return Err(duplicate(&object.name, namespace));
        }
        ns.objects.push(object.clone());
        Ok(object)
    }

    /// `GET …/objects/{object_name}`.
    pub fn show_object(
        &self,
        who: &Identity,
        namespace: &str,
        object: &str,
    ) -> Result<&MetaObject> {
        self.show_namespace(who, namespace)?
            .objects
            .iter()
            .find(|o| o.name == object)
            .ok_or_else(|| not_found(object))
    }

    /// `PUT …/objects/{object_name}`: admins only; replaces the object (it may be renamed;
    /// onto another object's name is a conflict, where the reference fails with 500).
    pub fn update_object(
        &mut self,
        who: &Identity,
        namespace: &str,
        object: &str,
        raw: &[u8],
    ) -> Result<MetaObject> {
        let new = parse(raw, &(self.clock)())?;
        let ns = self.namespace_to_change(who, namespace, "modify_metadef_object")?;
        let at = ns
            .objects
            .iter()
            .position(|o| o.name == object)
            .ok_or_else(|| not_found(object))?;
        if new.name != object && ns.objects.iter().any(|o| o.name == new.name) {
            return Err(duplicate(&new.name, namespace));
        }
        let o = &mut ns.objects[at];
        *o = MetaObject {
            created_at: o.created_at.clone(),
            ..new
        };
        Ok(o.clone())
    }

    /// `DELETE …/objects/{object_name}`: admins only, not in a protected namespace.
    pub fn delete_object(&mut self, who: &Identity, namespace: &str, object: &str) -> Result<()> {
        let ns = self.namespace_to_change(who, namespace, "delete_metadef_object")?;
        if !ns.objects.iter().any(|o| o.name == object) {
            return Err(not_found(object));
        }
        unprotected(ns, "object", object)?;
        ns.objects.retain(|o| o.name != object);
        Ok(())
    }

    /// `DELETE …/objects`: admins only (the reference names the namespace's delete policy),
    /// not in a protected namespace; every object goes.
    pub fn delete_objects(&mut self, who: &Identity, namespace: &str) -> Result<()> {
        let ns = self.namespace_to_change(who, namespace, "delete_metadef_namespace")?;
        unprotected(ns, "namespace", namespace)?;
        ns.objects.clear();
        Ok(())
    }
}
