//! What load-time validation collects: the problems of a case file, each at the line and
//! column of its YAML node, and what the case needs from a target. The case's own checks
//! (`validate.rs`) and those of each check kind (`checks/`) report through it.

use std::collections::BTreeSet;
use std::path::Path;

use super::locate::{Node, locate};
use crate::error::DataError;
use crate::target::Need;

/// The problems found so far, and what the case needs from a target.
pub(crate) struct Validation<'a> {
    pub(super) path: &'a Path,
    pub(super) src: &'a str,
    /// The names of the response schemas (`specs/schemas/`).
    pub(crate) schemas: &'a [String],
    pub(super) errs: Vec<DataError>,
    pub(super) needs: BTreeSet<Need>,
}

/// A string of the case that may hold placeholders, and where it is.
pub(crate) struct Text {
    pub(super) node: Node,
    pub(super) text: String,
}

impl Text {
    pub(crate) fn new(node: Node, text: &str) -> Text {
        Text {
            node,
            text: text.to_string(),
        }
    }
}

impl<'a> Validation<'a> {
    pub(super) fn new(path: &'a Path, src: &'a str, schemas: &'a [String]) -> Self {
        Validation {
            path,
            src,
            schemas,
            errs: Vec::new(),
            needs: BTreeSet::new(),
        }
    }

    /// A problem at `node` (line and column of the node, or of its nearest ancestor).
    pub(crate) fn bad(&mut self, node: &Node, msg: String) {
        let (line, column) = match locate(self.src, node) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        self.errs.push(DataError::Parse {
            path: self.path.to_path_buf(),
            line,
            column,
            message: msg,
        });
    }
}

/// Every string inside a JSON value (keys included), with its node.
pub(crate) fn json_texts(v: &serde_json::Value, node: &Node, out: &mut Vec<Text>) {
    match v {
        serde_json::Value::String(s) => out.push(Text {
            node: node.clone(),
            text: s.clone(),
        }),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_texts(x, &node.item(i), out);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.push(Text {
                    node: node.key(k),
                    text: k.clone(),
                });
                json_texts(x, &node.at(k), out);
            }
        }
        _ => {}
    }
}
