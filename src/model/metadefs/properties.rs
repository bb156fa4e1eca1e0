//! The properties of a namespace (`…/namespaces/{namespace_name}/properties`): JSON-schema
//! style definitions (a `title` and a `type`, and the limits that type allows), unique by
//! name within their namespace, listed as a map by name.

use serde_json::{Map, Value};

use super::{ApiError, ErrorKind, Identity, Model, NAME_MAX, Result, body, unprotected};

/// One property definition.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaProperty {
    pub name: String,
    /// The definition as given (without its name), `default` kept as text.
    pub definition: Map<String, Value>,
    /// Whether it was defined through the properties call (then its definitions show the
    /// name; those defined with their namespace do not).
    pub named: bool,
}

impl MetaProperty {
    /// The property as its own calls answer it: the name, then the definition.
    pub fn to_json(&self) -> Value {
        let mut v = Map::new();
        v.insert("name".into(), self.name.clone().into());
        v.extend(self.definition.clone());
        Value::Object(v)
    }

    /// The property as a namespace or the list embeds it.
    pub fn embedded(&self) -> Value {
        if self.named {
            self.to_json()
        } else {
            Value::Object(self.definition.clone())
        }
    }
}

/// The keys a property definition may hold besides its name.
const DEFINITION_KEYS: &[&str] = &[
    "title",
    "type",
    "description",
    "operators",
    "default",
    "readonly",
    "minimum",
    "maximum",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "items",
    "uniqueItems",
    "minItems",
    "maxItems",
    "additionalItems",
];

/// A definition (without its name) read as the reference's property schema does.
pub(super) fn definition(o: &Map<String, Value>) -> Result<Map<String, Value>> {
    body::known(o, DEFINITION_KEYS)?;
    body::name(o, "title", usize::MAX)?;
    let kind = body::name(o, "type", usize::MAX)?;
    if !body::PROPERTY_TYPES.contains(&kind.as_str()) {
        return Err(body::schema(&format!(
            "'{kind}' is not one of {:?}",
            body::PROPERTY_TYPES
        )));
    }
    let mut def = o.clone();
    if let Some(d) = def.get_mut("default")
        && !d.is_string()
    {
        *d = Value::String(d.to_string());
    }
    Ok(def)
}

/// A property body: its name and definition.
fn parse(raw: &[u8]) -> Result<MetaProperty> {
    let mut o = body::object(raw)?;
    body::writable(&o, &["created_at", "updated_at"])?;
    let name = body::name(&o, "name", NAME_MAX)?;
    o.remove("name");
    Ok(MetaProperty {
        name,
        definition: definition(&o)?,
        named: true,
    })
}

fn duplicate(name: &str, namespace: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        format!(
            "A metadata definition property with name={name} already exists in namespace={namespace}."
        ),
    )
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Could not find property {name}"))
}

impl Model {
    /// `GET …/properties`: the namespace's properties, by name.
    pub fn list_meta_properties(
        &self,
        who: &Identity,
        namespace: &str,
    ) -> Result<Vec<&MetaProperty>> {
        Ok(self
            .show_namespace(who, namespace)?
            .properties_by_name()
            .collect())
    }

    /// `POST …/properties`: admins only; the name is unique in the namespace.
    pub fn create_meta_property(
        &mut self,
        who: &Identity,
        namespace: &str,
        raw: &[u8],
    ) -> Result<MetaProperty> {
        let property = parse(raw)?;
        let ns = self.namespace_to_change(who, namespace, "add_metadef_property")?;
        if ns.properties.iter().any(|p| p.name == property.name) {
            return Err(duplicate(&property.name, namespace));
        }
        ns.properties.push(property.clone());
        Ok(property)
    }

    /// `GET …/properties/{property_name}`.
    pub fn show_meta_property(
        &self,
        who: &Identity,
        namespace: &str,
        property: &str,
    ) -> Result<&MetaProperty> {
        self.show_namespace(who, namespace)?
            .properties
            .iter()
            .find(|p| p.name == property)
            .ok_or_else(|| not_found(property))
    }

    /// `PUT …/properties/{property_name}`: admins only; replaces the definition (it may be
    /// renamed; onto another property's name is a conflict, where the reference fails with
    /// 500).
    pub fn update_meta_property(
        &mut self,
        who: &Identity,
        namespace: &str,
        property: &str,
        raw: &[u8],
    ) -> Result<MetaProperty> {
        let new = parse(raw)?;
        let ns = self.namespace_to_change(who, namespace, "modify_metadef_property")?;
        let at = ns
            .properties
            .iter()
            .position(|p| p.name == property)
            .ok_or_else(|| not_found(property))?;
        if new.name != property && ns.properties.iter().any(|p| p.name == new.name) {
            return Err(duplicate(&new.name, namespace));
        }
        ns.properties[at] = new.clone();
        Ok(new)
    }

    /// `DELETE …/properties/{property_name}`: admins only, not in a protected namespace.
    pub fn delete_meta_property(
        &mut self,
        who: &Identity,
        namespace: &str,
        property: &str,
    ) -> Result<()> {
        let ns = self.namespace_to_change(who, namespace, "remove_metadef_property")?;
        if !ns.properties.iter().any(|p| p.name == property) {
            return Err(not_found(property));
        }
        unprotected(ns, "property", property)?;
        ns.properties.retain(|p| p.name != property);
        Ok(())
    }

    /// `DELETE …/properties`: admins only, not in a protected namespace; every property goes.
    pub fn delete_meta_properties(&mut self, who: &Identity, namespace: &str) -> Result<()> {
        let ns = self.namespace_to_change(who, namespace, "delete_metadef_namespace")?;
        unprotected(ns, "namespace", namespace)?;
        ns.properties.clear();
        Ok(())
    }
}
