//! The whole state as one document: images with their members, and the tokens issued at run
//! time. `Model::snapshot` writes it, `Model::restore` reads it back (checking every field, so
//! a hand-written fixture gets a message that names the entry at fault).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::data::{ImageData, ImageStatus};
use super::identity::{Identity, IssuedToken};
use super::image::{Image, Visibility};
use super::member::{Member, MemberStatus};
use super::state::State;

/// What a snapshot document says it is.
pub const SNAPSHOT_FORMAT: &str = "sharecheck-snapshot";
/// The version of the snapshot layout this build reads and writes.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The state of a mock: `format` and `version` first, then images in creation order and the
/// tokens issued at run time, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// [`SNAPSHOT_VERSION`] when written by this build.
    pub version: u32,
    /// Every image.
    #[serde(default)]
    pub images: Vec<ImageRecord>,
    /// Tokens the mock's Keystone issued (static tokens come from the identities, not here).
    #[serde(default)]
    pub tokens: Vec<TokenRecord>,
}

/// One image as a snapshot keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    /// Its id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Owning project.
    pub owner: String,
    /// `private`, `shared`, `community` or `public`.
    #[serde(default = "shared")]
    pub visibility: String,
    /// Protected from deletion.
    #[serde(default)]
    pub protected: bool,
    /// Hidden from default lists.
    #[serde(default)]
    pub os_hidden: bool,
    /// Disk format.
    #[serde(default)]
    pub disk_format: Option<String>,
    /// Container format.
    #[serde(default)]
    pub container_format: Option<String>,
    /// Minimum RAM (MB).
    #[serde(default)]
    pub min_ram: u64,
    /// Minimum disk (GB).
    #[serde(default)]
    pub min_disk: u64,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Extra properties (string values).
    #[serde(default)]
    pub properties: Map<String, Value>,
    /// Creation time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Place in the order of changes when it was created (absent: its place in the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_order: Option<u64>,
    /// Place in the order of changes when it last changed (absent: as `created_order`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_order: Option<u64>,
    /// The uploaded data's size, digests and blob (an image with data is `active`, one
    /// without `queued`: an upload under way when the state was kept is lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<DataRecord>>,
    /// Deactivated: only admins may download its data (an image with data only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deactivated: bool,
    /// Staged: the data waits for an import (status `uploading`; an image with data only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
    /// Member rows, in the order they were added.
    #[serde(default)]
    pub members: Vec<MemberRecord>,
    /// Projects removed as members, with their first `created_at` (kept if added again).
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub former_members: HashMap<String, String>,
}

/// What an image records of its uploaded data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataRecord {
    /// Bytes.
    pub size: u64,
    /// The virtual size the format check found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<u64>,
    /// MD5, lower-case hex.
    pub checksum: String,
    /// SHA-512, lower-case hex.
    pub os_hash_value: String,
    /// The blob store's key for the bytes.
    pub blob: u64,
}

fn shared() -> String {
    "shared".into()
}

/// One member row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRecord {
    /// The member project.
    pub member_id: String,
    /// `pending`, `accepted` or `rejected`.
    #[serde(default = "pending")]
    pub status: String,
    /// When it was added.
    pub created_at: String,
    /// When its status last changed.
    pub updated_at: String,
    /// Its place in the order the image's members were added (absent: after the row
    /// before it). Snapshots leave it out, as the list is in that order; a persistent store
    /// keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_order: Option<u64>,
}

fn pending() -> String {
    "pending".into()
}

/// One token issued at run time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// The token itself.
    pub token: String,
    /// Whom it stands for.
    pub project_id: String,
    /// The user.
    pub user_id: String,
    /// Roles on the project.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The auth methods that produced it.
    #[serde(default)]
    pub methods: Vec<String>,
    /// When it was issued.
    pub issued_at: String,
    /// When it expires.
    pub expires_at: String,
}

/// A snapshot that cannot be loaded: which entry, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct SnapshotError {
    /// Where in the document, like `images[2].members[0].status`.
    pub at: String,
    /// What is wrong there.
    pub message: String,
}

fn refuse(at: impl Into<String>, message: impl Into<String>) -> SnapshotError {
    SnapshotError {
        at: at.into(),
        message: message.into(),
    }
}

impl Snapshot {
    /// A snapshot with nothing in it.
    pub fn empty() -> Snapshot {
        Snapshot {
            format: SNAPSHOT_FORMAT.into(),
            version: SNAPSHOT_VERSION,
            images: Vec::new(),
            tokens: Vec::new(),
        }
    }
}

/// The snapshot of `state` and the issued tokens (`order` oldest first).
pub(crate) fn write(
    state: &State,
    issued: &HashMap<String, IssuedToken>,
    order: &std::collections::VecDeque<String>,
) -> Snapshot {
    let mut images: Vec<&Image> = state.images().collect();
    images.sort_by(|a, b| a.created_seq.cmp(&b.created_seq).then(a.id.cmp(&b.id)));
    let images = images
        .into_iter()
        .map(|img| image_record(state, img))
        .collect();
    let tokens = order
        .iter()
        .filter_map(|t| issued.get(t).map(|i| token_record(t, i)))
        .collect();
    Snapshot {
        format: SNAPSHOT_FORMAT.into(),
        version: SNAPSHOT_VERSION,
        images,
        tokens,
    }
}

fn image_record(state: &State, img: &Image) -> ImageRecord {
    ImageRecord {
        members: state
            .members(&img.id)
            .iter()
            .map(|m| member_record(m, None))
            .collect(),
        former_members: state.former_of(&img.id),
        ..image_row(img)
    }
}

/// `img` as a record, without its members.
pub(crate) fn image_row(img: &Image) -> ImageRecord {
    ImageRecord {
        id: img.id.clone(),
        name: img.name.clone(),
        owner: img.owner.clone(),
        visibility: img.visibility.as_str().into(),
        protected: img.protected,
        os_hidden: img.os_hidden,
        disk_format: img.disk_format.clone(),
        container_format: img.container_format.clone(),
        min_ram: img.min_ram,
        min_disk: img.min_disk,
        tags: img.tags.clone(),
        properties: img.extra.clone(),
        created_at: img.created_at.clone(),
        updated_at: img.updated_at.clone(),
        created_order: Some(img.created_seq),
        updated_order: Some(img.updated_seq),
        data: img.data.as_ref().map(|d| {
            Box::new(DataRecord {
                size: d.size,
                virtual_size: d.virtual_size,
                checksum: d.checksum.clone(),
                os_hash_value: d.os_hash_value.clone(),
                blob: d.blob,
            })
        }),
        deactivated: img.status == ImageStatus::Deactivated,
        staged: img.status == ImageStatus::Uploading,
        members: Vec::new(),
        former_members: HashMap::new(),
    }
}

/// A member row as a record, with its place in the order of adds when given.
pub(crate) fn member_record(m: &Member, added_order: Option<u64>) -> MemberRecord {
    MemberRecord {
        member_id: m.member_id.clone(),
        status: m.status.as_str().into(),
        created_at: m.created_at.clone(),
        updated_at: m.updated_at.clone(),
        added_order,
    }
}

/// An issued token as a record.
pub(crate) fn token_record(token: &str, i: &IssuedToken) -> TokenRecord {
    TokenRecord {
        token: token.to_string(),
        project_id: i.identity.project_id.clone(),
        user_id: i.identity.user_id.clone(),
        roles: i.identity.roles.clone(),
        methods: i.methods.clone(),
        issued_at: i.issued_at.clone(),
        expires_at: i.expires_at.clone(),
    }
}

/// What a snapshot restores: the state, and the issued tokens oldest first.
pub(crate) struct Restored {
    pub(crate) state: State,
    pub(crate) tokens: Vec<(String, IssuedToken)>,
}

/// Reads `snap` back, checking every entry; nothing is kept unless all of it is sound.
pub(crate) fn read(snap: &Snapshot) -> Result<Restored, SnapshotError> {
    if snap.format != SNAPSHOT_FORMAT {
        return Err(refuse(
            "format",
            format!("expected `{SNAPSHOT_FORMAT}`, found `{}`", snap.format),
        ));
    }
    if snap.version != SNAPSHOT_VERSION {
        return Err(refuse(
            "version",
            format!(
                "this build reads version {SNAPSHOT_VERSION}, the document is version {}",
                snap.version
            ),
        ));
    }
    let mut state = State::default();
    for (i, rec) in snap.images.iter().enumerate() {
        let at = format!("images[{i}]");
        if state.image(&rec.id).is_some() {
            return Err(refuse(&at, format!("image id `{}` appears twice", rec.id)));
        }
        let seq = i as u64 + 1;
        let (image, members) = image_of(&at, rec, seq)?;
        state.restore_image(image, members, &rec.former_members);
    }
    let mut tokens = Vec::with_capacity(snap.tokens.len());
    for (i, t) in snap.tokens.iter().enumerate() {
        if t.token.is_empty() || t.project_id.is_empty() || t.user_id.is_empty() {
            return Err(refuse(
                format!("tokens[{i}]"),
                "token, project_id and user_id must be non-empty",
            ));
        }
        for (field, value) in [("issued_at", &t.issued_at), ("expires_at", &t.expires_at)] {
            if humantime::parse_rfc3339_weak(value).is_err() {
                return Err(refuse(
                    format!("tokens[{i}].{field}"),
                    format!("`{value}` is not an RFC 3339 time"),
                ));
            }
        }
        tokens.push((
            t.token.clone(),
            IssuedToken {
                identity: Identity {
                    project_id: t.project_id.clone(),
                    user_id: t.user_id.clone(),
                    roles: t.roles.clone(),
                },
                methods: t.methods.clone(),
                issued_at: t.issued_at.clone(),
                expires_at: t.expires_at.clone(),
            },
        ));
    }
    Ok(Restored { state, tokens })
}

type Rows = Vec<(u64, Member)>;

fn image_of(at: &str, rec: &ImageRecord, seq: u64) -> Result<(Image, Rows), SnapshotError> {
    if uuid::Uuid::parse_str(&rec.id).is_err() {
        return Err(refuse(
            format!("{at}.id"),
            format!("`{}` is not a UUID", rec.id),
        ));
    }
    let visibility = Visibility::parse(&rec.visibility).ok_or_else(|| {
        refuse(
            format!("{at}.visibility"),
            format!(
                "`{}`: expected private, shared, community or public",
                rec.visibility
            ),
        )
    })?;
    for (k, v) in &rec.properties {
        if !v.is_string() || super::image::is_base_attribute(k) {
            return Err(refuse(
                format!("{at}.properties.{k}"),
                "an extra property is a string, named unlike a base attribute",
            ));
        }
    }
    let created_seq = rec.created_order.unwrap_or(seq);
    let data = rec.data.as_deref().map(|d| data_of(at, d)).transpose()?;
    let image = Image {
        status: match (&data, rec.deactivated, rec.staged) {
            (Some(_), true, false) => ImageStatus::Deactivated,
            (Some(_), false, true) => ImageStatus::Uploading,
            (Some(_), false, false) => ImageStatus::Active,
            (None, false, false) => ImageStatus::Queued,
            (Some(_), true, true) => {
                return Err(refuse(
                    format!("{at}.staged"),
                    "a staged image cannot be deactivated",
                ));
            }
            (None, true, _) | (None, _, true) => {
                let key = if rec.deactivated {
                    "deactivated"
                } else {
                    "staged"
                };
                return Err(refuse(
                    format!("{at}.{key}"),
                    "only an image with data can be deactivated or staged",
                ));
            }
        },
        data,
        id: rec.id.clone(),
        name: rec.name.clone(),
        owner: rec.owner.clone(),
        visibility,
        protected: rec.protected,
        os_hidden: rec.os_hidden,
        disk_format: rec.disk_format.clone(),
        container_format: rec.container_format.clone(),
        min_ram: rec.min_ram,
        min_disk: rec.min_disk,
        tags: rec.tags.clone(),
        extra: rec.properties.clone(),
        created_at: rec.created_at.clone(),
        updated_at: rec.updated_at.clone(),
        created_seq,
        updated_seq: rec.updated_order.unwrap_or(created_seq),
    };
    Ok((image, members_of(at, rec)?))
}

/// A data record, its digests checked for shape.
fn data_of(at: &str, d: &DataRecord) -> Result<ImageData, SnapshotError> {
    let hex_of = |s: &str, n: usize| s.len() == n && s.bytes().all(|c| c.is_ascii_hexdigit());
    if !hex_of(&d.checksum, 32) {
        return Err(refuse(format!("{at}.data.checksum"), "32 hex digits (MD5)"));
    }
    if !hex_of(&d.os_hash_value, 128) {
        return Err(refuse(
            format!("{at}.data.os_hash_value"),
            "128 hex digits (SHA-512)",
        ));
    }
    Ok(ImageData {
        size: d.size,
        virtual_size: d.virtual_size,
        checksum: d.checksum.to_ascii_lowercase(),
        os_hash_value: d.os_hash_value.to_ascii_lowercase(),
        blob: d.blob,
    })
}

/// The member rows of `rec` with their places in the order of adds, which must grow along
/// the list.
fn members_of(at: &str, rec: &ImageRecord) -> Result<Rows, SnapshotError> {
    let mut members: Rows = Vec::with_capacity(rec.members.len());
    let mut seen = std::collections::HashSet::with_capacity(rec.members.len());
    for (j, m) in rec.members.iter().enumerate() {
        let at = format!("{at}.members[{j}]");
        let status = MemberStatus::parse(&m.status).ok_or_else(|| {
            refuse(
                format!("{at}.status"),
                format!("`{}`: expected pending, accepted or rejected", m.status),
            )
        })?;
        if m.member_id.is_empty() || !seen.insert(m.member_id.as_str()) {
            return Err(refuse(
                format!("{at}.member_id"),
                format!("`{}` is empty or appears twice", m.member_id),
            ));
        }
        let next = members.last().map_or(0, |(o, _)| o + 1);
        let order = m.added_order.unwrap_or(next);
        if order < next {
            return Err(refuse(
                format!("{at}.added_order"),
                format!("{order} is not after the row before it ({})", next - 1),
            ));
        }
        members.push((
            order,
            Member {
                member_id: m.member_id.clone(),
                image_id: rec.id.clone(),
                status,
                created_at: m.created_at.clone(),
                updated_at: m.updated_at.clone(),
            },
        ));
    }
    Ok(members)
}
