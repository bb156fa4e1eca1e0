//! The JSON schemas of metadata definitions (`/v2/schemas/metadefs/…`): namespaces, the
//! objects, properties, tags and resource-type associations inside them, and their lists.
//! Property names and types are those the reference's documents give; the descriptions are
//! ours.

use serde_json::{Value, json};

fn text(d: &str) -> Value {
    json!({"type": "string", "description": d})
}

fn stamps() -> [(&'static str, Value); 2] {
    [
        (
            "created_at",
            json!({"type": "string", "format": "date-time", "readOnly": true, "description": "When it was created."}),
        ),
        (
            "updated_at",
            json!({"type": "string", "format": "date-time", "readOnly": true, "description": "When it last changed."}),
        ),
    ]
}

/// Helper definitions shared by the documents that describe properties.
fn definitions() -> Value {
    json!({
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]},
        "stringArray": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
        "property": {"type": "object", "additionalProperties": property_fields()},
    })
}

/// What one property definition may say: a JSON-schema subset plus a title and operators.
fn property_fields() -> Value {
    json!({
        "type": "object",
        "required": ["title", "type"],
        "properties": {
            "name": text("The property's name."),
            "title": text("A short human-readable title."),
            "description": text("What the property means."),
            "operators": {"type": "array", "items": {"type": "string"}, "description": "Operators a value may use, such as <or>."},
            "type": {"type": "string", "enum": ["array", "boolean", "integer", "number", "object", "string", null]},
            "required": {"$ref": "#/definitions/stringArray"},
            "minimum": {"type": "number"},
            "maximum": {"type": "number"},
            "maxLength": {"$ref": "#/definitions/positiveInteger"},
            "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
            "pattern": {"type": "string", "format": "regex"},
            "enum": {"type": "array"},
            "readonly": {"type": "boolean", "description": "Whether the value may not be changed."},
            "default": {},
            "items": {"type": "object", "properties": {"type": {"type": "string"}, "enum": {"type": "array"}}},
            "maxItems": {"$ref": "#/definitions/positiveInteger"},
            "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
            "uniqueItems": {"type": "boolean", "default": false},
            "additionalItems": {"type": "boolean"},
        }
    })
}

/// An object schema: `name`, `required`, its `properties` and the time stamps.
fn document(name: &str, required: &[&str], props: Vec<(&str, Value)>, defs: bool) -> Value {
    let mut properties = serde_json::Map::new();
    for (k, v) in props.into_iter().chain(stamps()) {
        properties.insert(k.to_string(), v);
    }
    let mut doc = json!({
        "name": name,
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    });
    if defs {
        doc["definitions"] = definitions();
    }
    doc
}

/// A list schema: the items under `key`, with `first`, `next` and `schema` links.
fn list(name: &str, key: &str, items: Value, defs: bool) -> Value {
    let mut doc = json!({
        "name": name,
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
        "properties": {
            key: items,
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
    });
    if defs {
        doc["definitions"] = definitions();
    }
    doc
}

fn namespace() -> Value {
    document(
        "namespace",
        &["namespace"],
        vec![
            (
                "namespace",
                json!({"type": "string", "maxLength": 80, "description": "The namespace's unique name."}),
            ),
            ("display_name", text("A name for people to read.")),
            ("description", text("What the namespace holds.")),
            (
                "visibility",
                json!({"type": "string", "enum": ["public", "private"], "description": "Who may see it."}),
            ),
            (
                "protected",
                json!({"type": "boolean", "description": "Whether it may be deleted."}),
            ),
            ("owner", text("The project that owns it.")),
            ("schema", json!({"type": "string", "readOnly": true})),
            ("self", json!({"type": "string", "readOnly": true})),
            (
                "resource_type_associations",
                json!({"type": "array", "items": {"type": "object", "properties": resource_type()["properties"].clone()}}),
            ),
            ("properties", json!({"$ref": "#/definitions/property"})),
            (
                "objects",
                json!({"type": "array", "items": {"type": "object", "properties": object()["properties"].clone()}}),
            ),
            (
                "tags",
                json!({"type": "array", "items": {"type": "object", "properties": tag()["properties"].clone()}}),
            ),
        ],
        true,
    )
}

fn object() -> Value {
    document(
        "object",
        &["name"],
        vec![
            (
                "name",
                json!({"type": "string", "maxLength": 80, "description": "The object's name in its namespace."}),
            ),
            ("description", text("What the object describes.")),
            ("required", json!({"$ref": "#/definitions/stringArray"})),
            ("properties", json!({"$ref": "#/definitions/property"})),
            ("schema", json!({"type": "string", "readOnly": true})),
            ("self", json!({"type": "string", "readOnly": true})),
        ],
        true,
    )
}

fn property() -> Value {
    let mut doc = property_fields();
    doc["name"] = "property".into();
    doc["required"] = json!(["type", "title", "name"]);
    doc["additionalProperties"] = false.into();
    doc["definitions"] = definitions();
    if let Some(defs) = doc["definitions"].as_object_mut() {
        defs.remove("property");
    }
    doc
}

fn resource_type() -> Value {
    document(
        "resource_type_association",
        &["name"],
        vec![
            (
                "name",
                json!({"type": "string", "maxLength": 80, "description": "The resource type, such as OS::Glance::Image."}),
            ),
            (
                "prefix",
                text("The prefix the namespace's properties take on that resource type."),
            ),
            (
                "properties_target",
                text("Where on the resource the properties go, when it has several places."),
            ),
        ],
        false,
    )
}

fn tag() -> Value {
    document(
        "tag",
        &["name"],
        vec![(
            "name",
            json!({"type": "string", "maxLength": 255, "description": "The tag."}),
        )],
        false,
    )
}

/// Every metadef schema document, by the name under `/v2/schemas/`.
pub(super) fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("metadefs/namespace", namespace()),
        (
            "metadefs/namespaces",
            list(
                "namespaces",
                "namespaces",
                json!({"type": "array", "items": namespace()}),
                true,
            ),
        ),
        ("metadefs/object", object()),
        (
            "metadefs/objects",
            list(
                "objects",
                "objects",
                json!({"type": "array", "items": object()}),
                true,
            ),
        ),
        ("metadefs/property", property()),
        (
            "metadefs/properties",
            list(
                "properties",
                "properties",
                json!({"type": "object", "additionalProperties": property()}),
                true,
            ),
        ),
        ("metadefs/resource_type", resource_type()),
        (
            "metadefs/resource_types",
            list(
                "resource_type_associations",
                "resource_type_associations",
                json!({"type": "array", "items": resource_type()}),
                false,
            ),
        ),
        ("metadefs/tag", tag()),
        (
            "metadefs/tags",
            list(
                "tags",
                "tags",
                json!({"type": "array", "items": tag()}),
                false,
            ),
        ),
    ]
}
