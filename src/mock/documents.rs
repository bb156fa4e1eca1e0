//! Fixed documents: version discovery and the JSON schemas clients fetch (the metadef ones in
//! `metadef_schemas.rs`). Written in our own words from the objects the reference returns;
//! serialized once.

use serde_json::{Value, json};

use crate::model::{ApiVersion, CONTAINER_FORMATS, DISK_FORMATS};

pub(crate) struct Documents {
    /// The version list of the deployment, as JSON bytes.
    versions: Vec<u8>,
    member: Vec<u8>,
    members: Vec<u8>,
    image: Vec<u8>,
    images: Vec<u8>,
    task: Vec<u8>,
    tasks: Vec<u8>,
    /// The metadef schemas, by name under `/v2/schemas/` (`metadefs/namespace`, …).
    metadefs: Vec<(&'static str, Vec<u8>)>,
}

fn task_schema() -> Value {
    let text = |d: &str| json!({"type": "string", "description": d});
    let nullable = |d: &str| json!({"type": ["null", "object"], "description": d});
    json!({
        "name": "task",
        "properties": {
            "id": text("The task's UUID."),
            "type": {"type": "string", "description": "What the task does.",
                "enum": crate::model::TASK_TYPES},
            "status": {"type": "string", "description": "Where the task stands.",
                "enum": crate::model::TASK_STATUSES},
            "input": nullable("What the task was asked to do."),
            "result": nullable("What the task produced."),
            "owner": text("The project that created the task."),
            "message": text("Why the task failed, if it did."),
            "image_id": text("The image the task works on."),
            "request_id": text("The request that created the task."),
            "user_id": text("The user that created the task."),
            "expires_at": {"type": ["null", "string"], "description": "When the task will be removed."},
            "created_at": text("When the task was created."),
            "updated_at": text("When the task last changed."),
            "self": {"type": "string", "readOnly": true},
            "schema": {"type": "string", "readOnly": true}
        }
    })
}

fn member_schema() -> Value {
    json!({
        "name": "member",
        "properties": {
            "created_at": {"description": "When the membership was created.", "type": "string"},
            "image_id": {"description": "The shared image.", "type": "string",
                "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
            "member_id": {"description": "The project the image is shared with.", "type": "string"},
            "schema": {"readOnly": true, "type": "string"},
            "status": {"description": "Where the member stands on the image.", "type": "string",
                "enum": ["pending", "accepted", "rejected"]},
            "updated_at": {"description": "When the status last changed.", "type": "string"}
        }
    })
}

fn image_schema() -> Value {
    // Types, formats, limits and read-only flags as the reference's schema has them (clients
    // validate against them); descriptions in our words.
    let with_null = |values: &[&str]| {
        let mut v = vec![Value::Null];
        v.extend(values.iter().map(|s| Value::from(*s)));
        v
    };
    let read_only = |ty: Value, max: Option<u32>, d: &str| {
        let mut p = json!({"type": ty, "readOnly": true, "description": d});
        if let Some(m) = max {
            p["maxLength"] = m.into();
        }
        p
    };
    let locations = json!({
        "type": "array",
        "description": "Where the data is kept (when the operator shows it).",
        "items": {
            "type": "object",
            "required": ["url", "metadata"],
            "properties": {
                "url": {"type": "string", "maxLength": 255},
                "metadata": {"type": "object"},
                "validation_data": {
                    "type": "object",
                    "writeOnly": true,
                    "additionalProperties": false,
                    "required": ["os_hash_algo", "os_hash_value"],
                    "description": "Hash values to set with a location; checked against the image's own once it has data.",
                    "properties": {
                        "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
                        "os_hash_algo": {"type": "string", "maxLength": 64},
                        "os_hash_value": {"type": "string", "maxLength": 128}
                    }
                }
            }
        }
    });
    json!({
        "name": "image",
        "additionalProperties": {"type": "string"},
        "links": [
            {"href": "{self}", "rel": "self"},
            {"href": "{file}", "rel": "enclosure"},
            {"href": "{schema}", "rel": "describedby"}
        ],
        "properties": {
            "id": {"type": "string", "description": "Image UUID.",
                "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
            "name": {"type": ["null", "string"], "maxLength": 255, "description": "Display name."},
            "status": {"type": "string", "readOnly": true, "description": "Life-cycle state.",
                "enum": ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"]},
            "visibility": {"type": "string", "description": "Who may see the image.",
                "enum": ["community", "public", "private", "shared"]},
            "owner": {"type": ["null", "string"], "maxLength": 255, "description": "Owning project."},
            "protected": {"type": "boolean", "description": "Protected images cannot be deleted."},
            "os_hidden": {"type": "boolean", "description": "Hidden from default lists."},
            "disk_format": {"type": ["null", "string"], "description": "Disk format.",
                "enum": with_null(DISK_FORMATS)},
            "container_format": {"type": ["null", "string"], "description": "Container format.",
                "enum": with_null(CONTAINER_FORMATS)},
            "size": read_only(json!(["null", "integer"]), None, "Bytes of data."),
            "virtual_size": read_only(json!(["null", "integer"]), None, "Virtual size."),
            "checksum": read_only(json!(["null", "string"]), Some(32), "MD5 of the data."),
            "os_hash_algo": read_only(json!(["null", "string"]), Some(64), "Hash algorithm."),
            "os_hash_value": read_only(json!(["null", "string"]), Some(128), "Hash of the data."),
            "min_ram": {"type": "integer", "description": "Minimum RAM (MB)."},
            "min_disk": {"type": "integer", "description": "Minimum disk (GB)."},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}, "description": "Tags."},
            "created_at": read_only(json!("string"), None, "Creation time."),
            "updated_at": read_only(json!("string"), None, "Last change."),
            "self": read_only(json!("string"), None, "This image's URL."),
            "file": read_only(json!("string"), None, "The data's URL."),
            "schema": read_only(json!("string"), None, "This schema's URL."),
            "direct_url": read_only(json!("string"), None, "Where a store keeps the data (when the operator shows it)."),
            "stores": read_only(json!("string"), None, "The stores holding the data, comma-separated (with several stores configured)."),
            "locations": locations
        }
    })
}

impl Documents {
    /// The documents of a server at `base` that lists `versions`.
    pub(crate) fn new(base: &str, versions: &[ApiVersion]) -> Self {
        let member = member_schema();
        let members = json!({
            "name": "members",
            "links": [{"href": "{schema}", "rel": "describedby"}],
            "properties": {
                "members": {"type": "array", "items": member},
                "schema": {"type": "string"}
            }
        });
        let image = image_schema();
        let images = json!({
            "name": "images",
            "links": [
                {"href": "{first}", "rel": "first"},
                {"href": "{next}", "rel": "next"},
                {"href": "{schema}", "rel": "describedby"}
            ],
            "properties": {
                "images": {"type": "array", "items": image},
                "first": {"type": "string"},
                "next": {"type": "string"},
                "schema": {"type": "string"}
            }
        });
        let mut stub = task_schema();
        if let Some(props) = stub["properties"].as_object_mut() {
            for k in ["input", "result", "message"] {
                props.remove(k);
            }
        }
        let tasks = json!({
            "name": "tasks",
            "links": [{"href": "{schema}", "rel": "describedby"}],
            "properties": {
                "tasks": {"type": "array", "items": stub},
                "schema": {"type": "string"}
            }
        });
        let versions: Vec<Value> = versions
            .iter()
            .map(|v| json!({"id": v.id, "status": v.status, "links": [{"rel": "self", "href": format!("{base}/v2/")}]}))
            .collect();
        let versions = json!({ "versions": versions });
        let bytes = |v: &Value| serde_json::to_vec(v).expect("static document");
        Documents {
            member: bytes(&member),
            members: bytes(&members),
            image: bytes(&image),
            images: bytes(&images),
            task: bytes(&task_schema()),
            tasks: bytes(&tasks),
            metadefs: super::metadef_schemas::all()
                .iter()
                .map(|(name, doc)| (*name, bytes(doc)))
                .collect(),
            versions: bytes(&versions),
        }
    }

    pub(crate) fn versions(&self) -> &[u8] {
        &self.versions
    }

    pub(crate) fn schema(&self, name: &str) -> Option<&[u8]> {
        match name {
            "member" => Some(&self.member),
            "members" => Some(&self.members),
            "image" => Some(&self.image),
            "images" => Some(&self.images),
            "task" => Some(&self.task),
            "tasks" => Some(&self.tasks),
            _ => self
                .metadefs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, doc)| doc.as_slice()),
        }
    }
}
