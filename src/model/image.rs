//! Images: visibility, the image object, the create body and the list filters.

use serde_json::{Map, Value, json};

use super::data::{HASH_ALGO, ImageData, ImageStatus};
use super::member::json_object;
use super::{ApiError, Result};

/// Who may see an image. Only `shared` images have members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// The owner only.
    Private,
    /// The owner and member projects (the default on create).
    Shared,
    /// Everyone, but not listed by default.
    Community,
    /// Everyone; only admins may create such images.
    Public,
}

impl Visibility {
    /// Every visibility.
    pub const ALL: [Visibility; 4] = [
        Visibility::Private,
        Visibility::Shared,
        Visibility::Community,
        Visibility::Public,
    ];

    /// Parses the wire value.
    pub fn parse(s: &str) -> Option<Self> {
        Visibility::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Shared => "shared",
            Visibility::Community => "community",
            Visibility::Public => "public",
        }
    }
}

/// An image record: metadata, its status, and what it records of its data once uploaded.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// UUID, lower-case.
    pub id: String,
    /// Display name, may be unset.
    pub name: Option<String>,
    /// Owning project id.
    pub owner: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// Protected images cannot be deleted.
    pub protected: bool,
    /// Hidden from default lists.
    pub os_hidden: bool,
    /// Disk format, may be unset.
    pub disk_format: Option<String>,
    /// Container format, may be unset.
    pub container_format: Option<String>,
    /// Minimum RAM (MB).
    pub min_ram: u64,
    /// Minimum disk (GB).
    pub min_disk: u64,
    /// Tags.
    pub tags: Vec<String>,
    /// Properties the creator sent beyond the known ones (returned as top-level keys).
    pub extra: Map<String, Value>,
    /// Creation time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// `queued`, `saving` or `active`.
    pub status: ImageStatus,
    /// Size, digests and blob of the data, once uploaded.
    pub data: Option<ImageData>,
    /// Locations clients gave (data an http store reads at a URL), after the stores' own.
    pub links: Vec<super::locations::Link>,
    /// What the image records of data it has only at `links` (no `data`): `active` then.
    pub link_data: Option<super::locations::LinkData>,
    /// Place in the order images were created: the reference keeps times to the microsecond,
    /// so images of one second are listed in the order they were made.
    pub(crate) created_seq: u64,
    /// Place in the order images were last changed (as `created_seq`).
    pub(crate) updated_seq: u64,
}

impl Image {
    /// The size the image shows: its data's, else the one found at its links (a location
    /// given by URL); none without either. Lists sort and filter on it too.
    pub fn size(&self) -> Option<u64> {
        let linked = self.link_data.as_ref().filter(|_| self.data.is_none());
        self.data
            .as_ref()
            .map(|d| d.size)
            .or(linked.and_then(|l| l.size))
    }

    /// The image object as the reference returns it; unset values are `null`.
    pub fn to_json(&self) -> Value {
        let mut obj = self.extra.clone();
        // Staged data counts only by its size until an import makes it the image's.
        let data = self
            .data
            .as_ref()
            .filter(|_| self.status != ImageStatus::Uploading);
        let linked = self.link_data.as_ref().filter(|_| self.data.is_none());
        let fixed = json!({
            "id": self.id,
            "name": self.name,
            "status": self.status.as_str(),
            "visibility": self.visibility.as_str(),
            "owner": self.owner,
            "protected": self.protected,
            "os_hidden": self.os_hidden,
            "disk_format": self.disk_format,
            "container_format": self.container_format,
            "size": self.size(),
            "virtual_size": data.and_then(|d| d.virtual_size),
            "checksum": data.map(|d| d.checksum.clone()).or(linked.and_then(|l| l.checksum.clone())),
            "os_hash_algo": data.map(|_| HASH_ALGO.to_string()).or(linked.and_then(|l| l.os_hash_algo.clone())),
            "os_hash_value": data.map(|d| d.os_hash_value.clone()).or(linked.and_then(|l| l.os_hash_value.clone())),
            "min_ram": self.min_ram,
            "min_disk": self.min_disk,
            "tags": self.tags,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "self": format!("/v2/images/{}", self.id),
            "file": format!("/v2/images/{}/file", self.id),
            "schema": "/v2/schemas/image",
        });
        if let Value::Object(fixed) = fixed {
            obj.extend(fixed);
        }
        let mut stores: Vec<&str> = data
            .map(|d| d.stores.iter().map(String::as_str).collect())
            .unwrap_or_default();
        stores.extend(self.links.iter().filter_map(|l| l.store()));
        if !stores.is_empty() {
            obj.insert("stores".into(), stores.join(",").into());
        }
        Value::Object(obj)
    }
}

/// Keys the server sets; a create that sends them is refused (403, as the reference does).
const READ_ONLY: &[&str] = &[
    "status",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "created_at",
    "updated_at",
    "self",
    "file",
    "schema",
    "direct_url",
    "locations",
];

/// The disk formats an image may declare.
pub const DISK_FORMATS: &[&str] = &[
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
];
/// The container formats an image may declare.
pub const CONTAINER_FORMATS: &[&str] = &[
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
];

/// A validated create request.
#[derive(Debug)]
pub(crate) struct CreateRequest {
    pub(crate) id: Option<String>,
    pub(crate) owner: Option<String>,
    pub(crate) visibility: Visibility,
    name: Option<String>,
    protected: bool,
    os_hidden: bool,
    disk_format: Option<String>,
    container_format: Option<String>,
    min_ram: u64,
    min_disk: u64,
    tags: Vec<String>,
    extra: Map<String, Value>,
}

fn bad(key: &str, what: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid value for '{key}': {what}"))
}

fn opt_string(key: &str, v: Value) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(bad(key, "expected a string or null")),
    }
}

fn enum_string(key: &str, v: Value, allowed: &[&str]) -> Result<Option<String>> {
    let s = opt_string(key, v)?;
    match &s {
        Some(x) if !allowed.contains(&x.as_str()) => {
            Err(bad(key, &format!("expected one of {}", allowed.join(", "))))
        }
        _ => Ok(s),
    }
}

fn boolean(key: &str, v: Value) -> Result<bool> {
    v.as_bool().ok_or_else(|| bad(key, "expected a boolean"))
}

fn count(key: &str, v: Value) -> Result<u64> {
    v.as_u64()
        .ok_or_else(|| bad(key, "expected a non-negative integer"))
}

impl CreateRequest {
    /// How many tags the body lists, repeats counted (as the reference's quota counts them).
    pub(crate) fn tag_count(&self) -> usize {
        self.tags.len()
    }

    pub(crate) fn parse(body: &[u8]) -> Result<Self> {
        let map = json_object(body)?;
        let mut req = CreateRequest {
            id: None,
            owner: None,
            visibility: Visibility::Shared,
            name: None,
            protected: false,
            os_hidden: false,
            disk_format: None,
            container_format: None,
            min_ram: 0,
            min_disk: 0,
            tags: Vec::new(),
            extra: Map::new(),
        };
        for (key, v) in map {
            if READ_ONLY.contains(&key.as_str()) {
                return Err(ApiError::forbidden(format!(
                    "Attribute '{key}' is read-only."
                )));
            }
            super::patch::unreserved(&key)?;
            match key.as_str() {
                "id" => {
                    let id = opt_string(&key, v)?.ok_or_else(|| bad("id", "expected a UUID"))?;
                    let parsed =
                        uuid::Uuid::parse_str(&id).map_err(|_| bad("id", "expected a UUID"))?;
                    req.id = Some(parsed.hyphenated().to_string());
                }
                "owner" => req.owner = opt_string(&key, v)?,
                "visibility" => {
                    let s = opt_string(&key, v)?.unwrap_or_default();
                    req.visibility = Visibility::parse(&s).ok_or_else(|| {
                        bad(
                            "visibility",
                            "expected private, shared, community or public",
                        )
                    })?;
                }
                "name" => {
                    req.name = opt_string(&key, v)?;
                    if req.name.as_ref().is_some_and(|n| n.chars().count() > 255) {
                        return Err(bad("name", "longer than 255 characters"));
                    }
                }
                "protected" => req.protected = boolean(&key, v)?,
                "os_hidden" => req.os_hidden = boolean(&key, v)?,
                "disk_format" => req.disk_format = enum_string(&key, v, DISK_FORMATS)?,
                "container_format" => {
                    req.container_format = enum_string(&key, v, CONTAINER_FORMATS)?
                }
                "min_ram" => req.min_ram = count(&key, v)?,
                "min_disk" => req.min_disk = count(&key, v)?,
                "tags" => {
                    let Value::Array(items) = v else {
                        return Err(bad("tags", "expected a list of strings"));
                    };
                    req.tags = items
                        .into_iter()
                        .map(|t| match t {
                            Value::String(s) => super::tags::check_tag(&s).map(|()| s),
                            _ => Err(bad("tags", "expected a list of strings")),
                        })
                        .collect::<Result<_>>()?;
                }
                _ => match v {
                    Value::String(_) => {
                        req.extra.insert(key, v);
                    }
                    _ => return Err(bad(&key, "extra properties must be strings")),
                },
            }
        }
        Ok(req)
    }

    pub(crate) fn into_image(self, id: String, owner: String, now: String) -> Image {
        Image {
            id,
            name: self.name,
            owner,
            visibility: self.visibility,
            protected: self.protected,
            os_hidden: self.os_hidden,
            disk_format: self.disk_format,
            container_format: self.container_format,
            min_ram: self.min_ram,
            min_disk: self.min_disk,
            tags: first_of_each(self.tags),
            extra: self.extra,
            status: ImageStatus::Queued,
            data: None,
            links: Vec::new(),
            link_data: None,
            created_at: now.clone(),
            updated_at: now,
            created_seq: 0,
            updated_seq: 0,
        }
    }
}

/// The attributes every image has (`PATCH` may set them, never remove them).
const BASE_ATTRIBUTES: &[&str] = &[
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "disk_format",
    "container_format",
    "min_ram",
    "min_disk",
    "tags",
    "owner",
];

/// Whether `attr` is one of [`BASE_ATTRIBUTES`].
pub(crate) fn is_base_attribute(attr: &str) -> bool {
    BASE_ATTRIBUTES.contains(&attr)
}

/// Sets `attr` of `image` to `v` as the image schema allows (400 otherwise): a base
/// attribute, or an extra property (a string of a name up to 255 characters).
pub(crate) fn apply_attribute(image: &mut Image, attr: &str, v: Value) -> Result<()> {
    match attr {
        "name" => {
            let name = opt_string(attr, v)?;
            if name.as_ref().is_some_and(|n| n.chars().count() > 255) {
                return Err(bad(attr, "longer than 255 characters"));
            }
            image.name = name;
        }
        "visibility" => {
            image.visibility = v
                .as_str()
                .and_then(Visibility::parse)
                .ok_or_else(|| bad(attr, "expected private, shared, community or public"))?;
        }
        "protected" => image.protected = boolean(attr, v)?,
        "os_hidden" => image.os_hidden = boolean(attr, v)?,
        "disk_format" => image.disk_format = enum_string(attr, v, DISK_FORMATS)?,
        "container_format" => image.container_format = enum_string(attr, v, CONTAINER_FORMATS)?,
        "min_ram" => image.min_ram = count(attr, v)?,
        "min_disk" => image.min_disk = count(attr, v)?,
        "owner" => match opt_string(attr, v)? {
            Some(o) if o.chars().count() <= 255 => image.owner = o,
            _ => return Err(bad(attr, "expected a string of at most 255 characters")),
        },
        "tags" => {
            let Value::Array(items) = v else {
                return Err(bad("tags", "expected a list of strings"));
            };
            let tags = items
                .into_iter()
                .map(|t| match t {
                    Value::String(s) => super::tags::check_tag(&s).map(|()| s),
                    _ => Err(bad("tags", "expected a list of strings")),
                })
                .collect::<Result<Vec<_>>>()?;
            image.tags = first_of_each(tags);
        }
        _ => {
            if !v.is_string() {
                return Err(bad(attr, "extra properties must be strings"));
            }
            image.extra.insert(attr.to_string(), v);
        }
    }
    Ok(())
}

impl Image {
    /// An image with every attribute at its default, for checking values.
    pub(crate) fn scratch() -> Image {
        CreateRequest::parse(b"{}")
            .expect("an empty object is a valid create body")
            .into_image(String::new(), String::new(), String::new())
    }
}

/// `tags` without repeats, each where it first appears.
fn first_of_each(tags: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    tags.into_iter()
        .filter(|t| seen.insert(t.clone()))
        .collect()
}
