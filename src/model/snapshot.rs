//! The whole state as one document: `format`, `version`, then every collection the model
//! keeps (`collections/`) as a list of its records, in the collection's order.
//! `Model::snapshot` writes it, `Model::restore` reads it back (checking every record, so a
//! hand-written fixture gets a message that names the entry at fault).
//!
//! For hand-written fixtures an image may carry its `members` (rows without `image_id`) and
//! `former_members` (project → first `created_at`) inline, as version 1 documents do; they
//! are read as records of the `members` and `former_members` collections.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::collections::{COLLECTIONS, SnapshotError, refuse};
use super::state::State;

/// What a snapshot document says it is.
pub const SNAPSHOT_FORMAT: &str = "sharecheck-snapshot";
/// The version of the snapshot layout this build writes. Version 1 documents (images with
/// their members inline, and tokens) are read too.
pub const SNAPSHOT_VERSION: u32 = 2;

/// The state of a mock: each collection by name, a list of records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// [`SNAPSHOT_VERSION`] when written by this build.
    pub version: u32,
    /// The records of each collection (`images`, `members`, `former_members`, `tokens`,
    /// `tasks`, `namespaces`, `resource_types`); an absent collection is empty.
    #[serde(flatten)]
    pub collections: BTreeMap<String, Vec<Value>>,
}

impl Snapshot {
    /// A snapshot with nothing in it.
    pub fn empty() -> Snapshot {
        Snapshot {
            format: SNAPSHOT_FORMAT.into(),
            version: SNAPSHOT_VERSION,
            collections: BTreeMap::new(),
        }
    }

    /// The records of collection `name` (none when it is absent).
    pub fn records(&self, name: &str) -> &[Value] {
        self.collections.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The snapshot of `state`: every collection, empty ones too.
pub(crate) fn write(state: &State) -> Snapshot {
    let mut snap = Snapshot::empty();
    for d in COLLECTIONS {
        snap.collections
            .insert(d.name.to_string(), (d.values)(state));
    }
    snap
}

/// Reads `snap` back into a new state, checking every record; nothing is kept unless all of
/// it is sound.
pub(crate) fn read(snap: &Snapshot) -> Result<State, SnapshotError> {
    if snap.format != SNAPSHOT_FORMAT {
        return Err(refuse(
            "format",
            format!("expected `{SNAPSHOT_FORMAT}`, found `{}`", snap.format),
        ));
    }
    if !(1..=SNAPSHOT_VERSION).contains(&snap.version) {
        return Err(refuse(
            "version",
            format!(
                "this build reads versions 1 to {SNAPSHOT_VERSION}, the document is version {}",
                snap.version
            ),
        ));
    }
    if let Some(name) = snap
        .collections
        .keys()
        .find(|k| !COLLECTIONS.iter().any(|d| d.name == k.as_str()))
    {
        let known: Vec<&str> = COLLECTIONS.iter().map(|d| d.name).collect();
        return Err(refuse(
            name.as_str(),
            format!("not a collection; expected one of {}", known.join(", ")),
        ));
    }
    // Only a document with members written inline is copied, to move them out.
    let inline_rows = snap
        .records("images")
        .iter()
        .any(|i| i.get("members").is_some() || i.get("former_members").is_some());
    let (collections, inline) = if inline_rows {
        let mut owned = snap.collections.clone();
        let inline = hoist_members(&mut owned)?;
        (std::borrow::Cow::Owned(owned), inline)
    } else {
        (
            std::borrow::Cow::Borrowed(&snap.collections),
            Inline::default(),
        )
    };
    let mut state = State::default();
    for d in COLLECTIONS {
        let records = collections.get(d.name).map_or(&[][..], Vec::as_slice);
        (d.load_values)(&mut state, records).map_err(|e| inline.name(e))?;
    }
    Ok(state)
}

/// Where the rows moved out of images were written: by collection, the path of each.
#[derive(Default)]
struct Inline(BTreeMap<&'static str, Vec<String>>);

impl Inline {
    /// `e` naming the row where it was written (`images[0].members[1]`, not `members[1]`).
    fn name(&self, mut e: SnapshotError) -> SnapshotError {
        for (name, paths) in &self.0 {
            let Some(rest) = e.at.strip_prefix(name).and_then(|r| r.strip_prefix('[')) else {
                continue;
            };
            let Some((i, tail)) = rest.split_once(']') else {
                continue;
            };
            if let Some(path) = i.parse::<usize>().ok().and_then(|i| paths.get(i)) {
                e.at = format!("{path}{tail}");
            }
        }
        e
    }
}

/// Moves members written inline in images (`members`, `former_members`) to their own
/// collections, each row naming its image.
fn hoist_members(collections: &mut BTreeMap<String, Vec<Value>>) -> Result<Inline, SnapshotError> {
    let (mut rows, mut former) = (Vec::new(), Vec::new());
    let mut inline = Inline::default();
    for (i, image) in collections
        .entry("images".into())
        .or_default()
        .iter_mut()
        .enumerate()
    {
        let Some(image) = image.as_object_mut() else {
            continue; // the images collection refuses it, naming it
        };
        let id = image.get("id").cloned().unwrap_or(Value::Null);
        match image.remove("members") {
            Some(Value::Array(members)) => {
                for (j, mut m) in members.into_iter().enumerate() {
                    if let Some(m) = m.as_object_mut() {
                        m.insert("image_id".into(), id.clone());
                    }
                    rows.push(m);
                    let paths = inline.0.entry("members").or_default();
                    paths.push(format!("images[{i}].members[{j}]"));
                }
            }
            Some(_) => return Err(refuse(format!("images[{i}].members"), "expected a list")),
            None => {}
        }
        match image.remove("former_members") {
            Some(Value::Object(gone)) => {
                for (member, at) in gone {
                    let paths = inline.0.entry("former_members").or_default();
                    paths.push(format!("images[{i}].former_members.{member}"));
                    former.push(serde_json::json!({
                        "image_id": id, "member_id": member, "created_at": at,
                    }));
                }
            }
            Some(_) => {
                return Err(refuse(
                    format!("images[{i}].former_members"),
                    "expected a map of project to created_at",
                ));
            }
            None => {}
        }
    }
    // Inline rows come before listed ones: an image's rows keep their order either way.
    rows.extend(collections.remove("members").unwrap_or_default());
    former.extend(collections.remove("former_members").unwrap_or_default());
    collections.insert("members".into(), rows);
    collections.insert("former_members".into(), former);
    Ok(inline)
}
