//! Fixed documents: version discovery and the JSON schemas clients fetch. Written in our own
//! words from the member and image objects the reference returns; serialized once.

use serde_json::{Value, json};

pub(crate) struct Documents {
    versions: Value,
    member: Vec<u8>,
    members: Vec<u8>,
    image: Vec<u8>,
    images: Vec<u8>,
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
    let s = |d: &str| json!({"type": ["null", "string"], "description": d});
    json!({
        "name": "image",
        "additionalProperties": {"type": "string"},
        "links": [
            {"href": "{self}", "rel": "self"},
            {"href": "{file}", "rel": "enclosure"},
            {"href": "{schema}", "rel": "describedby"}
        ],
        "properties": {
            "id": {"type": "string", "description": "Image UUID."},
            "name": {"type": ["null", "string"], "maxLength": 255, "description": "Display name."},
            "status": {"type": "string", "readOnly": true, "description": "Life-cycle state.",
                "enum": ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"]},
            "visibility": {"type": "string", "description": "Who may see the image.",
                "enum": ["community", "public", "private", "shared"]},
            "owner": {"type": ["null", "string"], "maxLength": 255, "description": "Owning project."},
            "protected": {"type": "boolean", "description": "Protected images cannot be deleted."},
            "os_hidden": {"type": "boolean", "description": "Hidden from default lists."},
            "disk_format": s("Disk format."),
            "container_format": s("Container format."),
            "size": {"type": ["null", "integer"], "readOnly": true, "description": "Bytes of data."},
            "virtual_size": {"type": ["null", "integer"], "readOnly": true, "description": "Virtual size."},
            "checksum": s("MD5 of the data."),
            "os_hash_algo": s("Hash algorithm."),
            "os_hash_value": s("Hash of the data."),
            "min_ram": {"type": "integer", "description": "Minimum RAM (MB)."},
            "min_disk": {"type": "integer", "description": "Minimum disk (GB)."},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}, "description": "Tags."},
            "created_at": {"type": "string", "readOnly": true, "description": "Creation time."},
            "updated_at": {"type": "string", "readOnly": true, "description": "Last change."},
            "self": {"type": "string", "readOnly": true, "description": "This image's URL."},
            "file": {"type": "string", "readOnly": true, "description": "The data's URL."},
            "schema": {"type": "string", "readOnly": true, "description": "This schema's URL."}
        }
    })
}

impl Documents {
    pub(crate) fn new(base: &str) -> Self {
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
        let version = |id: &str, status: &str| json!({"id": id, "status": status, "links": [{"rel": "self", "href": format!("{base}/v2/")}]});
        let versions = json!({"versions": [
            version("v2.18", "CURRENT"),
            version("v2.17", "SUPPORTED"),
            version("v2.16", "SUPPORTED"),
            version("v2.15", "SUPPORTED"),
            version("v2.0", "SUPPORTED"),
        ]});
        let bytes = |v: &Value| serde_json::to_vec(v).expect("static document");
        Documents {
            member: bytes(&member),
            members: bytes(&members),
            image: bytes(&image),
            images: bytes(&images),
            versions,
        }
    }

    pub(crate) fn versions(&self) -> &Value {
        &self.versions
    }

    pub(crate) fn schema(&self, name: &str) -> Option<&[u8]> {
        match name {
            "member" => Some(&self.member),
            "members" => Some(&self.members),
            "image" => Some(&self.image),
            "images" => Some(&self.images),
            _ => None,
        }
    }
}
