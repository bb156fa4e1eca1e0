//! The collections the model keeps, declared once each: what a record is, its key, how to read
//! one or all of them from [`State`] and how to put them back. The declaration is all a
//! collection needs to be persisted by a store, written to and read from snapshots, reset and
//! compacted: those walk [`COLLECTIONS`] and never name a collection.
//!
//! A collection may be filed under a parent collection (members under images): its keys are
//! the parent's key, `/`, and its own part, and deleting the parent record deletes them.

mod cache;
mod images;
mod metadefs;
mod tasks;
mod tokens;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use super::changes::filed;
use super::state::State;

pub use images::{DataRecord, FormerMemberRecord, ImageRecord, MemberRecord};
pub use tokens::TokenRecord;

/// One collection of the model's state.
pub(crate) trait Collection {
    /// Its name, in a store's log and as a snapshot's key.
    const NAME: &'static str;
    /// The collection its records are filed under, if any.
    const PARENT: Option<&'static str> = None;
    /// One record, as stored and as a snapshot lists it.
    type Record: Serialize + DeserializeOwned;
    /// The record `key`, as it stands now.
    fn get(state: &State, key: &str) -> Option<Self::Record>;
    /// Every record with its key, in the collection's order.
    fn all(state: &State) -> Vec<(String, Self::Record)>;
    /// Puts `records` back into `state`, which already holds the collections declared
    /// before this one; `at(i)` names the `i`th record in an error.
    fn load(
        state: &mut State,
        records: Vec<Self::Record>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError>;
}

/// A snapshot or stored record that cannot be loaded: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct SnapshotError {
    /// Where, like `members[2].status`.
    pub at: String,
    /// What is wrong there.
    pub message: String,
}

/// A [`SnapshotError`] at `at`.
pub(crate) fn refuse(at: impl Into<String>, message: impl Into<String>) -> SnapshotError {
    SnapshotError {
        at: at.into(),
        message: message.into(),
    }
}

/// A record as a store keeps it: its key and its JSON text.
pub(crate) type Text = (String, String);

/// A collection with its type erased: what stores and snapshots call.
pub(crate) struct Declared {
    pub(crate) name: &'static str,
    pub(crate) parent: Option<&'static str>,
    /// The record `key` as JSON text, if it exists.
    pub(crate) get: fn(&State, &str) -> Option<String>,
    /// Every record as (key, JSON text), in order.
    pub(crate) texts: fn(&State) -> Vec<(String, String)>,
    /// Every record as a JSON value, in order.
    pub(crate) values: fn(&State) -> Vec<Value>,
    /// Loads records given as JSON values (a snapshot).
    pub(crate) load_values: fn(&mut State, &[Value]) -> Result<(), SnapshotError>,
    /// Loads records given as (key, JSON text) (a store).
    pub(crate) load_texts: fn(&mut State, &[Text]) -> Result<(), SnapshotError>,
}

const fn declare<C: Collection>() -> Declared {
    Declared {
        name: C::NAME,
        parent: C::PARENT,
        get: get_text::<C>,
        texts: all_texts::<C>,
        values: all_values::<C>,
        load_values: load_values::<C>,
        load_texts: load_texts::<C>,
    }
}

/// Every collection, parents before what is filed under them.
pub(crate) const COLLECTIONS: &[Declared] = &[
    declare::<images::Images>(),
    declare::<images::Members>(),
    declare::<images::FormerMembers>(),
    declare::<tokens::Tokens>(),
    declare::<tasks::Tasks>(),
    declare::<metadefs::Namespaces>(),
    declare::<metadefs::ResourceTypes>(),
    declare::<cache::CachedImages>(),
];

/// The declaration of collection `name`.
pub(crate) fn declared(name: &str) -> Option<&'static Declared> {
    COLLECTIONS.iter().find(|d| d.name == name)
}

fn text<T: Serialize>(record: &T) -> String {
    // Records are plain data (strings, numbers, maps with string keys): always serializable.
    serde_json::to_string(record).unwrap_or_default()
}

fn get_text<C: Collection>(state: &State, key: &str) -> Option<String> {
    C::get(state, key).map(|r| text(&r))
}

fn all_texts<C: Collection>(state: &State) -> Vec<(String, String)> {
    C::all(state)
        .into_iter()
        .map(|(k, r)| (k, text(&r)))
        .collect()
}

fn all_values<C: Collection>(state: &State) -> Vec<Value> {
    C::all(state)
        .into_iter()
        .map(|(_, r)| serde_json::to_value(&r).unwrap_or_default())
        .collect()
}

fn at_of(name: &'static str) -> impl Fn(usize) -> String {
    move |i| format!("{name}[{i}]")
}

fn load_values<C: Collection>(state: &mut State, values: &[Value]) -> Result<(), SnapshotError> {
    let at = at_of(C::NAME);
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| C::Record::deserialize(v).map_err(|e| refuse(at(i), e.to_string())))
        .collect::<Result<Vec<C::Record>, _>>()?;
    C::load(state, records, &at)
}

fn load_texts<C: Collection>(state: &mut State, texts: &[Text]) -> Result<(), SnapshotError> {
    let at = at_of(C::NAME);
    let records = texts
        .iter()
        .enumerate()
        .map(|(i, (_, t))| serde_json::from_str(t).map_err(|e| refuse(at(i), e.to_string())))
        .collect::<Result<Vec<C::Record>, _>>()?;
    C::load(state, records, &at)
}
