//! What changed, for a persistent store to follow. The model notes the collection and key of
//! every record it changes (only while a store follows: `Model::follow_changes`);
//! `Model::take_writes` turns the keys into the records as they stand now, in the order they
//! were first changed, and a store writes them as one step.

/// The names of the collections (`collections/` declares each).
pub(crate) const IMAGES: &str = "images";
pub(crate) const MEMBERS: &str = "members";
pub(crate) const FORMER_MEMBERS: &str = "former_members";
pub(crate) const TOKENS: &str = "tokens";
pub(crate) const TASKS: &str = "tasks";
pub(crate) const NAMESPACES: &str = "namespaces";
pub(crate) const RESOURCE_TYPES: &str = "resource_types";
pub(crate) const CACHED_IMAGES: &str = "cached_images";

/// The key of a record filed under the record `parent` of another collection.
pub(crate) fn filed(parent: &str, own: &str) -> String {
    format!("{parent}/{own}")
}

/// The key of something that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// One record of a collection: created, changed or removed.
    Record(&'static str, String),
    /// Everything (a restore).
    All,
}

/// The keys noted since the last `take`, when noting is on.
#[derive(Debug, Default)]
pub(crate) struct Changes(Option<Vec<Change>>);

impl Changes {
    /// Notes from now on.
    pub(crate) fn follow(&mut self) {
        self.0.get_or_insert_with(Vec::new);
    }

    /// Notes record `key()` of `collection`, if noting is on (the key is made only then).
    pub(crate) fn note(&mut self, collection: &'static str, key: impl FnOnce() -> String) {
        if let Some(keys) = &mut self.0 {
            let key = Change::Record(collection, key());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }

    /// Notes that everything changed, if noting is on.
    pub(crate) fn note_all(&mut self) {
        if let Some(keys) = &mut self.0 {
            keys.push(Change::All);
        }
    }

    /// The keys noted so far, oldest first; noting goes on.
    pub(crate) fn take(&mut self) -> Vec<Change> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// One record to write as it stands now, as JSON text; `None` deletes it (and what is filed
/// under it). A store may keep these as they are, in order (a log); replaying them gives the
/// state back.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// A record of a collection.
    Put {
        /// The collection's name.
        collection: &'static str,
        /// The record's key.
        key: String,
        /// The record, if it still exists.
        value: Option<String>,
    },
    /// The whole state, replacing what was written: every record, parents first.
    Replace {
        /// (collection, key, record) of every record.
        records: Vec<(&'static str, String, String)>,
    },
}
