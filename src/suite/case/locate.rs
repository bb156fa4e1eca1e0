//! Where a node of a YAML file is: its line and column.
//!
//! The YAML parser knows every node's position but keeps it to itself, except in errors. So
//! [`locate`] deserializes the file once more with a seed that walks down to the node and
//! fails there: the error carries the node's line and column.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step down a YAML document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// The value under a mapping key.
    Key(String),
    /// An item of a sequence.
    Index(usize),
}

/// A node: the steps from the root, and whether the last key itself is meant (not its value).
#[derive(Clone, Debug, Default)]
pub(crate) struct Node {
    pub(crate) segs: Vec<Seg>,
    pub(crate) key: bool,
}

impl Node {
    /// The root.
    pub(crate) fn root() -> Node {
        Node::default()
    }

    /// The value under `key`.
    pub(crate) fn at(&self, key: &str) -> Node {
        let mut n = self.clone();
        n.segs.push(Seg::Key(key.to_string()));
        n.key = false;
        n
    }

    /// Item `i` of the sequence here.
    pub(crate) fn item(&self, i: usize) -> Node {
        let mut n = self.clone();
        n.segs.push(Seg::Index(i));
        n.key = false;
        n
    }

    /// The key of this node itself, not its value.
    pub(crate) fn key_itself(&self) -> Node {
        let mut n = self.clone();
        n.key = matches!(n.segs.last(), Some(Seg::Key(_)));
        n
    }

    /// The key `key` itself (in the mapping here).
    pub(crate) fn key(&self, key: &str) -> Node {
        let mut n = self.at(key);
        n.key = true;
        n
    }
}

/// The 1-based line and column of `node` in `src`; when it is not there (a default value),
/// those of its nearest ancestor that is.
pub(crate) fn locate(src: &str, node: &Node) -> Option<(usize, usize)> {
    let mut segs = node.segs.clone();
    let mut key = node.key;
    loop {
        if let Some(found) = find(src, &segs, key) {
            return Some(found);
        }
        segs.pop()?;
        key = false;
    }
}

/// The position of the node, or `None` when the document has no such node.
fn find(src: &str, segs: &[Seg], key: bool) -> Option<(usize, usize)> {
    let de = serde_yaml::Deserializer::from_str(src);
    match (Walk { segs, key }).deserialize(de) {
        Err(e) if e.to_string().contains(HERE) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

/// The message of the error raised at the node.
const HERE: &str = "sharecheck: the node is here";

fn here<E: de::Error>() -> E {
    E::custom(HERE)
}

/// Walks `segs` down from the node it deserializes; fails at the end of the walk.
struct Walk<'a> {
    segs: &'a [Seg],
    key: bool,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.leaf()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.leaf()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.leaf()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (want, rest) = match self.segs.split_first() {
            None => return Err(here()),
            Some((Seg::Index(i), rest)) => (*i, rest),
            Some((Seg::Key(_), _)) => return Ok(()),
        };
        for _ in 0..want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        let walk = Walk {
            segs: rest,
            key: self.key,
        };
        seq.next_element_seed(walk)?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (want, rest) = match self.segs.split_first() {
            None => return Err(here()),
            Some((Seg::Key(k), rest)) => (k.as_str(), rest),
            Some((Seg::Index(_), _)) => return Ok(()),
        };
        let last = rest.is_empty() && self.key;
        while let Some(matched) = map.next_key_seed(KeyIs { want, fail: last })? {
            if matched {
                map.next_value_seed(Walk {
                    segs: rest,
                    key: self.key,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl Walk<'_> {
    /// A scalar: the node when the walk ends here, else not found.
    fn leaf<E: de::Error>(&self) -> Result<(), E> {
        if self.segs.is_empty() {
            Err(here())
        } else {
            Ok(())
        }
    }
}

/// Reads a key: whether it is `want` (compared as text); fails on it when `fail`.
struct KeyIs<'a> {
    want: &'a str,
    fail: bool,
}

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.is(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.is(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.is(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.is(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

impl KeyIs<'_> {
    fn is<E: de::Error>(&self, v: &str) -> Result<bool, E> {
        match (v == self.want, self.fail) {
            (true, true) => Err(here()),
            (matched, _) => Ok(matched),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
a:
  b: 1
  c:
    - x: 2
    - x: 3
x: 4
";

    #[test]
    fn nodes_and_keys_are_found_where_they_are() {
        let root = Node::root();
        assert_eq!(locate(SRC, &root.at("a").at("b")), Some((2, 6)));
        assert_eq!(locate(SRC, &root.at("a").key("b")), Some((2, 3)));
        assert_eq!(locate(SRC, &root.key("x")), Some((6, 1)));
        let second = root.at("a").at("c").item(1);
        assert_eq!(locate(SRC, &second.key("x")), Some((5, 7)));
        assert_eq!(locate(SRC, &second.at("x")), Some((5, 10)));
        // Absent: the nearest ancestor that is there.
        assert_eq!(locate(SRC, &second.at("y")), Some((5, 7)));
    }
}
