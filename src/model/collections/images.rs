//! Images, their member rows, and the memberships removed since (kept for the first
//! `created_at`, which the reference gives back when a project is added again).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Collection, SnapshotError, filed, refuse};
use crate::model::data::{ImageData, ImageStatus};
use crate::model::image::{Image, Visibility, is_base_attribute};
use crate::model::member::{Member, MemberStatus};
use crate::model::state::State;

/// One image, without its members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    /// Its id (a UUID).
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
    /// Place in the order of changes when it was created (absent: its place in the list).
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
    /// A web-download was fetching its data (no data yet).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub importing: bool,
    /// Locations clients gave (an http store reads the data there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<crate::model::locations::Link>,
    /// What an image whose data is only at its links records of it (such an image is
    /// `active`, or `deactivated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_data: Option<crate::model::locations::LinkData>,
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
    /// The stores holding the data (absent: `fs`, the one store of the mock before stores
    /// were configurable; written only when it differs).
    #[serde(default = "first_stores", skip_serializing_if = "is_first_stores")]
    pub stores: Vec<String>,
}

fn first_stores() -> Vec<String> {
    vec!["fs".into()]
}

fn is_first_stores(stores: &Vec<String>) -> bool {
    *stores == first_stores()
}

fn shared() -> String {
    "shared".into()
}

/// One member row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRecord {
    /// The shared image.
    pub image_id: String,
    /// The member project.
    pub member_id: String,
    /// `pending`, `accepted` or `rejected`.
    #[serde(default = "pending")]
    pub status: String,
    /// When it was added.
    pub created_at: String,
    /// When its status last changed.
    pub updated_at: String,
    /// Its place in the order the image's members were added (absent: after the image's
    /// row before it in the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_order: Option<u64>,
}

fn pending() -> String {
    "pending".into()
}

/// A project removed from an image's members, and when it first became one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormerMemberRecord {
    /// The image.
    pub image_id: String,
    /// The project.
    pub member_id: String,
    /// When it first became a member.
    pub created_at: String,
}

pub(crate) struct Images;

impl Collection for Images {
    const NAME: &'static str = crate::model::changes::IMAGES;
    type Record = ImageRecord;

    fn get(state: &State, key: &str) -> Option<ImageRecord> {
        state.image(key).map(image_record)
    }

    fn all(state: &State) -> Vec<(String, ImageRecord)> {
        let mut images: Vec<&Image> = state.images().collect();
        images.sort_by(|a, b| a.created_seq.cmp(&b.created_seq).then(a.id.cmp(&b.id)));
        images
            .into_iter()
            .map(|i| (i.id.clone(), image_record(i)))
            .collect()
    }

    fn load(
        state: &mut State,
        records: Vec<ImageRecord>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        for (i, rec) in records.into_iter().enumerate() {
            if state.image(&rec.id).is_some() {
                return Err(refuse(
                    at(i),
                    format!("image id `{}` appears twice", rec.id),
                ));
            }
            state.restore_image(image_of(&at(i), rec, i as u64 + 1)?);
        }
        Ok(())
    }
}

/// `img` as a record.
fn image_record(img: &Image) -> ImageRecord {
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
                stores: d.stores.clone(),
            })
        }),
        deactivated: img.status == ImageStatus::Deactivated,
        staged: img.status == ImageStatus::Uploading,
        importing: img.status == ImageStatus::Importing,
        links: img.links.clone(),
        link_data: img.link_data.clone(),
    }
}

fn image_of(at: &str, rec: ImageRecord, seq: u64) -> Result<Image, SnapshotError> {
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
        if !v.is_string() || is_base_attribute(k) {
            return Err(refuse(
                format!("{at}.properties.{k}"),
                "an extra property is a string, named unlike a base attribute",
            ));
        }
    }
    let created_seq = rec.created_order.unwrap_or(seq);
    let mut data = rec.data.as_deref().map(|d| data_of(at, d)).transpose()?;
    if let Some(d) = data.as_mut().filter(|_| rec.staged) {
        // Staged data is in no store (a record older than stores reads as `fs`).
        d.stores.clear();
    }
    Ok(Image {
        status: match status_of(
            at,
            data.is_some() || rec.link_data.is_some(),
            rec.deactivated,
            rec.staged,
        )? {
            ImageStatus::Queued if rec.importing => ImageStatus::Importing,
            _ if rec.importing => {
                return Err(refuse(
                    format!("{at}.importing"),
                    "only an image without data, not deactivated or staged, is importing",
                ));
            }
            status => status,
        },
        data,
        links: rec.links,
        link_data: rec.link_data,
        id: rec.id,
        name: rec.name,
        owner: rec.owner,
        visibility,
        protected: rec.protected,
        os_hidden: rec.os_hidden,
        disk_format: rec.disk_format,
        container_format: rec.container_format,
        min_ram: rec.min_ram,
        min_disk: rec.min_disk,
        tags: rec.tags,
        extra: rec.properties,
        created_at: rec.created_at,
        updated_at: rec.updated_at,
        created_seq,
        updated_seq: rec.updated_order.unwrap_or(created_seq),
    })
}

/// The status a record's flags give: only an image with data is deactivated or staged.
fn status_of(
    at: &str,
    data: bool,
    deactivated: bool,
    staged: bool,
) -> Result<ImageStatus, SnapshotError> {
    match (data, deactivated, staged) {
        (true, true, false) => Ok(ImageStatus::Deactivated),
        (true, false, true) => Ok(ImageStatus::Uploading),
        (true, false, false) => Ok(ImageStatus::Active),
        (false, false, false) => Ok(ImageStatus::Queued),
        (true, true, true) => Err(refuse(
            format!("{at}.staged"),
            "a staged image cannot be deactivated",
        )),
        (false, ..) => {
            let key = if deactivated { "deactivated" } else { "staged" };
            Err(refuse(
                format!("{at}.{key}"),
                "only an image with data can be deactivated or staged",
            ))
        }
    }
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
        stores: d.stores.clone(),
    })
}

pub(crate) struct Members;

impl Collection for Members {
    const NAME: &'static str = crate::model::changes::MEMBERS;
    const PARENT: Option<&'static str> = Some(Images::NAME);
    type Record = MemberRecord;

    fn get(state: &State, key: &str) -> Option<MemberRecord> {
        let (image, member) = key.split_once('/')?;
        let (order, m) = state.ordered_member(image, member)?;
        Some(member_record(&m, order))
    }

    fn all(state: &State) -> Vec<(String, MemberRecord)> {
        Images::all(state)
            .into_iter()
            .flat_map(|(id, _)| state.ordered(&id))
            .map(|(order, m)| (filed(&m.image_id, &m.member_id), member_record(&m, order)))
            .collect()
    }

    fn load(
        state: &mut State,
        records: Vec<MemberRecord>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        // By image: the rows, and the members seen.
        let mut rows: HashMap<String, ImageRows> = HashMap::new();
        for (i, m) in records.into_iter().enumerate() {
            let status = MemberStatus::parse(&m.status).ok_or_else(|| {
                refuse(
                    format!("{}.status", at(i)),
                    format!("`{}`: expected pending, accepted or rejected", m.status),
                )
            })?;
            let (image_rows, seen) = match rows.get_mut(&m.image_id) {
                Some(found) => found,
                None if state.image(&m.image_id).is_some() => {
                    rows.entry(m.image_id.clone()).or_default()
                }
                None => {
                    return Err(refuse(
                        format!("{}.image_id", at(i)),
                        format!("no image `{}`", m.image_id),
                    ));
                }
            };
            if m.member_id.is_empty() || !seen.insert(m.member_id.clone()) {
                return Err(refuse(
                    format!("{}.member_id", at(i)),
                    format!("`{}` is empty or appears twice", m.member_id),
                ));
            }
            let next = image_rows.last().map_or(0, |(o, _)| o + 1);
            let order = m.added_order.unwrap_or(next);
            if order < next {
                return Err(refuse(
                    format!("{}.added_order", at(i)),
                    format!(
                        "{order} is not after the image's row before it ({})",
                        next - 1
                    ),
                ));
            }
            let member = Member {
                member_id: m.member_id,
                image_id: m.image_id,
                status,
                created_at: m.created_at,
                updated_at: m.updated_at,
            };
            image_rows.push((order, member));
        }
        for (image, (image_rows, _)) in rows {
            state.restore_members(&image, image_rows);
        }
        Ok(())
    }
}

/// One image's member rows with their places in the order of adds, and the members seen.
type ImageRows = (Vec<(u64, Member)>, HashSet<String>);

fn member_record(m: &Member, order: u64) -> MemberRecord {
    MemberRecord {
        image_id: m.image_id.clone(),
        member_id: m.member_id.clone(),
        status: m.status.as_str().into(),
        created_at: m.created_at.clone(),
        updated_at: m.updated_at.clone(),
        added_order: Some(order),
    }
}

pub(crate) struct FormerMembers;

impl Collection for FormerMembers {
    const NAME: &'static str = crate::model::changes::FORMER_MEMBERS;
    const PARENT: Option<&'static str> = Some(Images::NAME);
    type Record = FormerMemberRecord;

    fn get(state: &State, key: &str) -> Option<FormerMemberRecord> {
        let (image, member) = key.split_once('/')?;
        Some(FormerMemberRecord {
            created_at: state.former_member(image, member)?,
            image_id: image.into(),
            member_id: member.into(),
        })
    }

    fn all(state: &State) -> Vec<(String, FormerMemberRecord)> {
        let mut all = Vec::new();
        for (image_id, _) in Images::all(state) {
            let mut former: Vec<(String, String)> =
                state.former_of(&image_id).into_iter().collect();
            former.sort();
            for (member_id, created_at) in former {
                let key = filed(&image_id, &member_id);
                let record = FormerMemberRecord {
                    image_id: image_id.clone(),
                    member_id,
                    created_at,
                };
                all.push((key, record));
            }
        }
        all
    }

    fn load(
        state: &mut State,
        records: Vec<FormerMemberRecord>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        for (i, f) in records.into_iter().enumerate() {
            if state.image(&f.image_id).is_none() {
                return Err(refuse(
                    format!("{}.image_id", at(i)),
                    format!("no image `{}`", f.image_id),
                ));
            }
            if state.member_status(&f.image_id, &f.member_id).is_some() {
                return Err(refuse(
                    format!("{}.member_id", at(i)),
                    format!("`{}` is a member of the image too", f.member_id),
                ));
            }
            state.restore_former(&f.image_id, f.member_id, f.created_at);
        }
        Ok(())
    }
}
