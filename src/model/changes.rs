//! What changed, for a persistent store to follow. The model notes the key of every image,
//! membership and token it changes (only while a store follows: `Model::follow_changes`);
//! `Model::take_writes` turns the keys into the records as they stand now, in the order they
//! were first changed, and a store writes them as one step.

use super::snapshot::{ImageRecord, MemberRecord, Snapshot, TokenRecord};

/// The key of something that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// An image (created, changed or deleted with its members).
    Image(String),
    /// A membership (image, project): added, changed, removed or revived.
    Member(String, String),
    /// An issued token: registered, revoked or dropped as the oldest.
    Token(String),
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

    /// Notes the key `key()` makes, if noting is on (the key is made only then).
    pub(crate) fn note(&mut self, key: impl FnOnce() -> Change) {
        if let Some(keys) = &mut self.0 {
            let key = key();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }

    /// The keys noted so far, oldest first; noting goes on.
    pub(crate) fn take(&mut self) -> Vec<Change> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// One record to write as it stands now; `None` deletes it. A store may keep these as they
/// are, in order (a log); replaying them gives the state back.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "write", rename_all = "snake_case", deny_unknown_fields)]
pub enum Write {
    /// An image without its members (`members` and `former_members` empty); deleting one
    /// deletes its members and former members too.
    Image {
        /// The image id.
        id: String,
        /// The image, if it still exists.
        record: Option<Box<ImageRecord>>,
    },
    /// A membership, and the former-member entry of the same project.
    Member {
        /// The image id.
        image: String,
        /// The member project.
        member: String,
        /// The row (with `added_order`), if the project is a member.
        row: Option<MemberRecord>,
        /// When it first became a member, if it was removed.
        former: Option<String>,
    },
    /// An issued token.
    Token {
        /// The token.
        token: String,
        /// Its record, if it is still kept.
        record: Option<TokenRecord>,
    },
    /// The whole state, replacing what was written.
    Replace {
        /// The new state.
        state: Box<Snapshot>,
    },
}
