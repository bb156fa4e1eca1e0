//! `PATCH /v2/images/{image_id}`: a JSON-patch document of `add`, `remove` and `replace`
//! operations on one image, as the reference reads and applies it.
//!
//! Reading the document comes first, before the image is looked up: the media type (415),
//! the body (400: missing, not JSON, not an array of objects, an unknown `op`, a pointer
//! that is not one plain member, a missing `value`, a value the image schema refuses) and
//! the attributes no one may write (403: read-only, reserved, the `os_glance_` namespace).
//! Then, in order: the image visible (404), and for each operation the caller's policy
//! (403: owner or admin; only admins change `owner` or publish), and its effect (409 for a
//! property to replace or remove that is not there, 403 for removing a base attribute).
//! Nothing is kept unless every operation succeeds; a full image answers 413.

use serde_json::Value;

use super::image::{apply_attribute, is_base_attribute};
use super::{ApiError, ErrorKind, Identity, Image, Model, Result, Visibility};

/// The media types a patch document may come as, with the draft of the change format each
/// stands for (`v2.0`: `{"replace": "/name", ...}`, `v2.1`: `{"op": "replace", ...}`).
pub const PATCH_MEDIA_TYPES: &[(&str, Draft)] = &[
    ("application/openstack-images-v2.0-json-patch", Draft::Old),
    (
        "application/openstack-images-v2.1-json-patch",
        Draft::Current,
    ),
];

/// The change format of a patch document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draft {
    /// The operation is the key (`{"add": "/path", "value": ...}`); adding an attribute
    /// that exists is a conflict.
    Old,
    /// `{"op": "add", "path": "/path", "value": ...}`; adding sets.
    Current,
}

/// Attributes the server keeps: changing them is 403.
const READ_ONLY: &[&str] = &[
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
    "direct_url",
    "self",
    "file",
    "schema",
    "id",
    "os_hash_algo",
    "os_hash_value",
];
/// Attributes reserved to the server (403), and its namespace.
const RESERVED: &[&str] = &["location", "deleted", "deleted_at"];
const RESERVED_PREFIX: &str = "os_glance";

/// One operation of a patch document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Change {
    Add(String, Value),
    Replace(String, Value),
    Remove(String),
    /// An operation on `/locations`: `add`, `remove` or `replace`, the position written
    /// after `/locations/` (none for a replace), the value (none for a remove).
    Locations {
        op: &'static str,
        pos: Option<String>,
        value: Option<Value>,
    },
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

/// The location URLs a patch document adds or replaces with (none if it cannot be read):
/// those the mock reads the size of before the patch is applied.
pub(crate) fn patched_location_urls(content_type: Option<&str>, body: &[u8]) -> Vec<String> {
    let Ok(changes) = draft_of(content_type).and_then(|d| parse(d, body)) else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    for c in changes {
        if let Change::Locations { value: Some(v), .. } = c {
            let items = match v {
                Value::Array(items) => items,
                one => vec![one],
            };
            urls.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("url").and_then(Value::as_str).map(str::to_string)),
            );
        }
    }
    urls
}

/// The draft `content_type` names (parameters ignored), or 415.
pub(crate) fn draft_of(content_type: Option<&str>) -> Result<Draft> {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    PATCH_MEDIA_TYPES
        .iter()
        .find(|(t, _)| Some(*t) == essence.as_deref())
        .map(|(_, d)| *d)
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::UnsupportedMediaType,
                format!(
                    "Image PATCH expects Content-Type one of: {}",
                    PATCH_MEDIA_TYPES
                        .iter()
                        .map(|(t, _)| *t)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Reads a whole patch document (see the module documentation for the checks).
pub(crate) fn parse(draft: Draft, body: &[u8]) -> Result<Vec<Change>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("Body expected in request."));
    }
    let doc: Value =
        serde_json::from_slice(body).map_err(|_| bad("Malformed JSON in request body."))?;
    let Value::Array(items) = doc else {
        return Err(bad(
            "Request body must be a JSON array of operation objects.",
        ));
    };
    items.iter().map(|raw| change(draft, raw)).collect()
}

/// One operation object.
fn change(draft: Draft, raw: &Value) -> Result<Change> {
    let Value::Object(obj) = raw else {
        return Err(bad("Operations must be JSON objects."));
    };
    let (op, path) = match draft {
        Draft::Current => {
            let op = obj.get("op").and_then(Value::as_str).unwrap_or_default();
            if !["add", "remove", "replace"].contains(&op) {
                return Err(bad(format!(
                    "Invalid operation: `{op}`. It must be one of the following: add, remove, replace."
                )));
            }
            let path = obj
                .get("path")
                .ok_or_else(|| bad("Unable to find 'path' in JSON Schema change"))?;
            (op, path)
        }
        Draft::Old => {
            let ops: Vec<&str> = ["add", "remove", "replace"]
                .into_iter()
                .filter(|k| obj.contains_key(*k))
                .collect();
            let [op] = ops[..] else {
                return Err(bad(
                    "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".",
                ));
            };
            (op, &obj[op])
        }
    };
    let path = path
        .as_str()
        .ok_or_else(|| bad("The path must be a string."))?;
    let parts = pointer(path)?;
    if parts[0] == "locations" {
        let depth = if op == "replace" { 1 } else { 2 };
        if parts.len() != depth {
            return Err(bad(format!(
                "Invalid JSON pointer for this resource: '{path}'"
            )));
        }
        if op != "remove" {
            check_locations(op, obj.get("value"))?;
        }
        let op = match op {
            "add" => "add",
            "remove" => "remove",
            _ => "replace",
        };
        return Ok(Change::Locations {
            op,
            pos: parts.get(1).cloned(),
            value: obj.get("value").cloned(),
        });
    }
    let [attr] = &parts[..] else {
        return Err(bad(format!(
            "Invalid JSON pointer for this resource: '{path}'"
        )));
    };
    writable(attr)?;
    if op == "remove" {
        return Ok(Change::Remove(attr.clone()));
    }
    let value = obj.get("value").cloned().ok_or_else(|| {
        bad(format!(
            "Operation \"{op}\" requires a member named \"value\"."
        ))
    })?;
    // The value as the image schema would take it (a scratch image, thrown away).
    apply_attribute(&mut Image::scratch(), attr, value.clone())?;
    Ok(match op {
        "add" => Change::Add(attr.clone(), value),
        _ => Change::Replace(attr.clone(), value),
    })
}

/// A location value as the image schema takes it (an object with a string `url` and an
/// object `metadata`; a list of them to replace all), checked before the policy refuses.
fn check_locations(op: &str, value: Option<&Value>) -> Result<()> {
    let one = |v: &Value| v["url"].is_string() && v["metadata"].is_object();
    let fits = match value {
        None => {
            return Err(bad(format!(
                "Operation \"{op}\" requires a member named \"value\"."
            )));
        }
        Some(Value::Array(items)) if op == "replace" => items.iter().all(one),
        Some(v) => op == "add" && one(v),
    };
    if fits {
        Ok(())
    } else {
        Err(bad(
            "Provided object does not match schema 'image': a location is an object with a string url and an object metadata.",
        ))
    }
}

/// The members of a restricted JSON pointer: it starts with `/`, has no empty member and no
/// `~` outside `~0` and `~1`.
fn pointer(path: &str) -> Result<Vec<String>> {
    let invalid = || {
        bad(format!(
            "Pointer `{path}` is not a valid restricted JSON pointer."
        ))
    };
    let rest = path.strip_prefix('/').ok_or_else(invalid)?;
    // As the reference checks: no two `/` with only blanks between, no `/` at the end, and
    // `~` only in `~0` or `~1`; a lone blank segment names the property "".
    let adjacent = rest
        .match_indices('/')
        .any(|(i, _)| rest[i + 1..].trim_start().starts_with('/'));
    let bad_tilde = rest
        .match_indices('~')
        .any(|(i, _)| !matches!(rest.as_bytes().get(i + 1), Some(b'0' | b'1')));
    if adjacent || (!rest.is_empty() && rest.ends_with('/')) || rest.trim() == "/" || bad_tilde {
        return Err(invalid());
    }
    // The reference drops every leading `/` before it splits: `//name` names `name`.
    Ok(rest
        .trim_start_matches('/')
        .split('/')
        .map(|part| {
            part.replace("~1", "/")
                .replace("~0", "~")
                .trim()
                .to_string()
        })
        .collect())
}

/// 403 for an attribute nobody may write.
fn writable(attr: &str) -> Result<()> {
    if READ_ONLY.contains(&attr) {
        return Err(ApiError::forbidden(format!(
            "Attribute '{attr}' is read-only."
        )));
    }
    unreserved(attr)
}

/// An attribute the server keeps to itself (`location`, `deleted`, `deleted_at`, the
/// `os_glance` namespace) is refused (403), on create as on update.
pub(super) fn unreserved(attr: &str) -> Result<()> {
    if RESERVED.contains(&attr) || attr.starts_with(RESERVED_PREFIX) {
        return Err(ApiError::forbidden(format!(
            "Attribute '{attr}' is reserved."
        )));
    }
    Ok(())
}

impl Model {
    /// `PATCH /v2/images/{image_id}` with `body` sent as `content_type`.
    pub fn update_image(
        &mut self,
        who: &Identity,
        image_id: &str,
        content_type: Option<&str>,
        body: &[u8],
        heads: &super::locations::Heads,
    ) -> Result<Image> {
        let draft = draft_of(content_type)?;
        let changes = parse(draft, body)?;
        let mut image = self.visible_image(who, image_id)?.clone();
        for c in &changes {
            self.apply(who, &mut image, draft, c, heads)?;
        }
        super::tags::check_tag_quota(image.tags.len(), self.rules.tag_quota)?;
        if self.rules.property_quota >= 0 && image.extra.len() as i64 > self.rules.property_quota {
            return Err(ApiError::new(
                ErrorKind::OverLimit,
                format!(
                    "The limit has been exceeded on the number of allowed image properties. \
                     Attempted: {}, Maximum: {}",
                    image.extra.len(),
                    self.rules.property_quota
                ),
            ));
        }
        if !changes.is_empty() {
            image.updated_at = (self.clock)();
        }
        self.state.insert_image(image.clone());
        if !changes.is_empty() {
            self.state.touch(&image.id);
        }
        Ok(image)
    }

    /// One operation on `image` (a copy: kept only if all succeed).
    fn apply(
        &self,
        who: &Identity,
        image: &mut Image,
        draft: Draft,
        c: &Change,
        heads: &super::locations::Heads,
    ) -> Result<()> {
        let attr = match c {
            Change::Add(a, _) | Change::Replace(a, _) | Change::Remove(a) => a.as_str(),
            Change::Locations { .. } => "locations",
        };
        self.may_change(who, image, attr, c)?;
        let exists = is_base_attribute(attr) || image.extra.contains_key(attr);
        match c {
            Change::Locations { op, pos, value } => {
                self.change_locations(who, image, op, pos.as_deref(), value.as_ref(), heads)
            }
            Change::Add(..) if exists && draft == Draft::Old => Err(ApiError::new(
                ErrorKind::Conflict,
                format!("Property {attr} already present."),
            )),
            Change::Replace(..) | Change::Remove(_) if !exists => Err(ApiError::new(
                ErrorKind::Conflict,
                format!("Property {attr} does not exist."),
            )),
            Change::Add(_, v) | Change::Replace(_, v) => apply_attribute(image, attr, v.clone()),
            Change::Remove(_) if is_base_attribute(attr) => Err(ApiError::forbidden(format!(
                "Property {attr} may not be removed."
            ))),
            Change::Remove(_) => {
                image.extra.remove(attr);
                Ok(())
            }
        }
    }

    /// The caller's policy for one change: the owner or an admin (403 otherwise); only
    /// admins publish an image or give it to another project.
    fn may_change(&self, who: &Identity, image: &Image, attr: &str, c: &Change) -> Result<()> {
        let value = match c {
            Change::Add(_, v) | Change::Replace(_, v) => Some(v),
            _ => None,
        };
        let publishes = attr == "visibility"
            && value.and_then(Value::as_str).and_then(Visibility::parse)
                == Some(Visibility::Public);
        if publishes && !who.is_admin() {
            return Err(ApiError::forbidden(
                "You are not authorized to complete publicize_image action.",
            ));
        }
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete modify_image action.",
            ));
        }
        if attr == "owner" && matches!(c, Change::Replace(..)) && !who.is_admin() {
            return Err(ApiError::forbidden("Owner can't be updated by non admin."));
        }
        Ok(())
    }
}
