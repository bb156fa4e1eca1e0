//! The log replayed: per collection, the records its writes leave, in the order each key was
//! first written (a key deleted and written again goes last), with deleting a record also
//! deleting what is filed under it.

use std::collections::HashMap as StdMap;

use crate::model::Model;

/// The replay's maps: a million keys are hashed here on a restart, so a fast hasher (the
/// keys come from the mock's own log, not from clients).
type HashMap<K, V> = StdMap<K, V, foldhash::fast::RandomState>;

/// A record as the log left it: when its key was first written, and its text.
type Kept = (u64, String);

/// Per collection, its records as (key, JSON text) in order.
pub(crate) type Stored = StdMap<String, Vec<(String, String)>>;

/// One collection's records: by key, or for a collection filed under another, by the
/// parent's key and then by key.
#[derive(Default)]
struct Records {
    by_key: HashMap<String, Kept>,
    by_parent: HashMap<String, HashMap<String, Kept>>,
}

/// The state as the log builds it up.
pub(super) struct Replay {
    records: HashMap<&'static str, Records>,
    /// (child, parent) for each collection filed under another.
    filed: Vec<(&'static str, &'static str)>,
    seq: u64,
}

/// A log entry naming a collection this build does not keep.
#[derive(Debug)]
pub(super) struct Unknown(pub(super) String);

impl Replay {
    pub(super) fn new() -> Replay {
        let mut records = HashMap::default();
        let mut filed = Vec::new();
        for (name, parent) in Model::collections() {
            records.insert(name, Records::default());
            if let Some(parent) = parent {
                filed.push((name, parent));
            }
        }
        Replay {
            records,
            filed,
            seq: 0,
        }
    }

    /// Applies one entry: `value` is the record, `None` deletes it.
    pub(super) fn apply(
        &mut self,
        collection: &str,
        key: String,
        value: Option<String>,
    ) -> Result<(), Unknown> {
        let (name, parent) = self.kind(collection)?;
        self.seq += 1;
        let seq = self.seq;
        let records = self.records.get_mut(name).ok_or(Unknown(name.into()))?;
        let map = match parent {
            Some(_) => {
                let owner = key.split_once('/').map_or(key.as_str(), |(p, _)| p);
                if !records.by_parent.contains_key(owner) {
                    records
                        .by_parent
                        .insert(owner.to_string(), HashMap::default());
                }
                records
                    .by_parent
                    .get_mut(owner)
                    .ok_or(Unknown(name.into()))?
            }
            None => &mut records.by_key,
        };
        match value {
            Some(text) => match map.get_mut(&key) {
                Some(kept) => kept.1 = text,
                None => {
                    map.insert(key, (seq, text));
                }
            },
            None => {
                map.remove(&key);
                if parent.is_none() {
                    self.drop_filed_under(name, &key);
                }
            }
        }
        Ok(())
    }

    /// The declared name of `collection` and its parent.
    fn kind(&self, collection: &str) -> Result<(&'static str, Option<&'static str>), Unknown> {
        let (&name, _) = self
            .records
            .get_key_value(collection)
            .ok_or_else(|| Unknown(collection.into()))?;
        let parent = self.filed.iter().find(|(c, _)| *c == name).map(|(_, p)| *p);
        Ok((name, parent))
    }

    /// Deletes the records filed under record `key` of `parent`.
    fn drop_filed_under(&mut self, parent: &str, key: &str) {
        for (child, _) in self.filed.iter().filter(|(_, p)| *p == parent) {
            if let Some(r) = self.records.get_mut(child) {
                r.by_parent.remove(key);
            }
        }
    }

    /// How many records are live (what a rewritten log would hold).
    pub(super) fn live(&self) -> usize {
        let filed = |r: &Records| r.by_parent.values().map(HashMap::len).sum::<usize>();
        self.records
            .values()
            .map(|r| r.by_key.len() + filed(r))
            .sum()
    }

    /// The records of each collection, in the order their keys were first written.
    pub(super) fn finish(self) -> Stored {
        let mut out = StdMap::new();
        for (name, r) in self.records {
            let mut all: Vec<(String, Kept)> = r.by_key.into_iter().collect();
            all.extend(r.by_parent.into_values().flatten());
            all.sort_unstable_by_key(|(_, (seq, _))| *seq);
            let records = all.into_iter().map(|(k, (_, t))| (k, t)).collect();
            out.insert(name.to_string(), records);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(r: &mut Replay, c: &str, k: &str, v: Option<&str>) {
        r.apply(c, k.into(), v.map(String::from)).unwrap();
    }

    #[test]
    fn records_keep_the_order_of_first_writes_and_go_with_their_parent() {
        let mut r = Replay::new();
        put(&mut r, "images", "i1", Some("1"));
        put(&mut r, "members", "i1/a", Some("a"));
        put(&mut r, "members", "i1/b", Some("b"));
        put(&mut r, "members", "i1/a", Some("a2")); // changed in place
        put(&mut r, "images", "i2", Some("2"));
        put(&mut r, "members", "i2/a", Some("c"));
        put(&mut r, "former_members", "i1/x", Some("x"));
        put(&mut r, "images", "i1", None); // takes its members and former members
        put(&mut r, "images", "i1", Some("1b")); // made again: last
        put(&mut r, "members", "i1/b", Some("b2"));
        assert_eq!(r.live(), 4);
        let out = r.finish();
        let texts = |c: &str| out[c].iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>();
        assert_eq!(texts("images"), ["2", "1b"]);
        assert_eq!(texts("members"), ["c", "b2"]);
        assert!(texts("former_members").is_empty());
    }

    #[test]
    fn an_unknown_collection_is_named() {
        let mut r = Replay::new();
        let Err(Unknown(name)) = r.apply("widgets", "k".into(), None) else {
            panic!("accepted");
        };
        assert_eq!(name, "widgets");
    }
}
