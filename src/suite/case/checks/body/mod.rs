//! `body`: the kind of body (`kind.rs`), then any of the checks of the `body_checks!` list,
//! one module each. A check applies to some kinds of body only; the loader refuses it on
//! another kind, so its evaluation may rely on the kind's own check having passed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Check, Vars};
use crate::suite::case::locate::Node;
pub(super) use crate::suite::case::validate::json_texts;
use crate::suite::case::validate::{Text, Validation};
use crate::target::Answer;

mod contains;
mod contains_one;
mod equals;
mod keys;
mod kind;
mod lacks;
mod lengths;
mod only_keys;
mod order;
mod schema;
mod unique;
mod values;

pub use contains::Contains;
pub use contains_one::ContainsOne;
pub use equals::Equals;
pub use keys::Keys;
pub use kind::BodyKind;
pub use lacks::Lacks;
pub use lengths::Lengths;
pub use only_keys::OnlyKeys;
pub use order::Order;
pub use schema::SchemaRef;
pub use unique::Unique;
pub use values::Values;

/// One check of a body, beside its kind.
pub(crate) trait BodyCheck {
    /// Whether the file leaves the check out (then it is neither written nor run).
    fn absent(&self) -> bool;
    /// The kinds of body the check applies to.
    fn kinds(&self) -> &'static [BodyKind];
    /// Reports what is wrong with the check itself; `at` is its node in the file.
    fn validate(&self, _v: &mut Validation, _at: &Node) {}
    /// The strings of the check that may hold placeholders, each with its node.
    fn texts(&self, _at: &Node, _out: &mut Vec<Text>) {}
    /// Every way the body fails the check, in words.
    fn eval(&self, vars: &dyn Vars, got: &Got<'_>, problems: &mut Vec<String>);
}

/// A body under check.
pub(crate) struct Got<'a> {
    /// The whole answer.
    pub(crate) answer: &'a Answer,
    /// The body as a JSON object, for kinds `json` and `error` when it is one.
    pub(crate) json: Option<&'a Value>,
    /// The expectation the check belongs to (for checks that read another, like `only_keys`).
    pub(crate) expect: &'a BodyExpect,
}

/// Declares [`BodyExpect`]: `kind`, then one field per check kind, each field's type a
/// [`BodyCheck`]. This list is the one place a body check kind is registered.
macro_rules! body_checks {
    ($($(#[$doc:meta])* $field:ident: $ty:ty,)*) => {
        /// Checks of a body: its kind, then any of the checks that kind takes.
        #[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[schemars(transform = kinds_in_schema)]
        pub struct BodyExpect {
            /// The kind of body.
            pub kind: BodyKind,
            $($(#[$doc])*
            #[serde(default, skip_serializing_if = "BodyCheck::absent")]
            pub $field: $ty,)*
        }

        impl BodyExpect {
            /// A body of `kind` and no other check.
            pub fn new(kind: BodyKind) -> BodyExpect {
                BodyExpect { kind, $($field: <$ty>::default(),)* }
            }

            /// Every check with its key, in the order they run.
            fn all(&self) -> Vec<(&'static str, &dyn BodyCheck)> {
                vec![$((stringify!($field), &self.$field),)*]
            }
        }
    };
}

body_checks! {
    /// The exact bytes of the body, as text (kind `data`; placeholders allowed).
    equals: Equals,
    /// The body validates against `specs/schemas/<schema>.yaml` (kinds `json`, `error`).
    schema: SchemaRef,
    /// Top-level keys the body must have (kind `json`).
    keys: Keys,
    /// No top-level keys other than `keys` (kind `json`).
    only_keys: OnlyKeys,
    /// JSON pointer → the exact value there (kind `json`; strings may hold placeholders).
    values: Values,
    /// JSON pointer → an object whose keys and values some item of the array there has
    /// (kind `json`; placeholders allowed): for lists a shared server also fills.
    contains: Contains,
    /// JSON pointer → an object whose keys and values exactly one item of the array there
    /// has (kind `json`; placeholders allowed).
    contains_one: ContainsOne,
    /// JSON pointer → an object whose keys and values no item of the array there has (kind
    /// `json`; placeholders allowed).
    lacks: Lacks,
    /// JSON pointer → a key every item of the array there has, with a value no other item
    /// shares (kind `json`).
    unique: Unique,
    /// JSON pointer → the length of the array there (kind `json`).
    lengths: Lengths,
    /// JSON pointer of a list → the relative order of named items, those without a sort value
    /// together at either end (kind `json`; placeholders allowed).
    order: Order,
}

impl BodyExpect {
    /// Every check the file gives, with its key, in the order they run.
    fn given(&self) -> Vec<(&'static str, &dyn BodyCheck)> {
        let mut all = self.all();
        all.retain(|(_, c)| !c.absent());
        all
    }
}

/// Tells the schema of a body which kinds each check applies to (what the loader refuses).
fn kinds_in_schema(schema: &mut schemars::Schema) {
    let mut rules = BodyKind::schema_rules();
    for (key, c) in BodyExpect::new(BodyKind::Json).all() {
        let kinds: Vec<&str> = c.kinds().iter().map(|k| k.name()).collect();
        rules.push(serde_json::json!({
            "if": {"properties": {"kind": {"not": {"enum": kinds}}}},
            "then": {"not": {"required": [key]}},
        }));
    }
    schema.insert("allOf".into(), rules.into());
}

impl Check for BodyExpect {
    fn validate(&self, v: &mut Validation, at: &Node) {
        self.kind.validate(self, v, at);
        for (key, c) in self.given() {
            if !c.kinds().contains(&self.kind) {
                let kinds: Vec<&str> = c.kinds().iter().map(|k| k.name()).collect();
                v.bad(
                    &at.key(key),
                    format!(
                        "`{key}` needs kind: {}, not {}",
                        kinds.join(" or "),
                        self.kind.name()
                    ),
                );
            }
            c.validate(v, &at.at(key));
        }
    }

    fn texts(&self, at: &Node, out: &mut Vec<Text>) {
        for (key, c) in self.given() {
            c.texts(&at.at(key), out);
        }
    }

    fn eval(&self, vars: &dyn Vars, answer: &Answer, problems: &mut Vec<String>) {
        let Ok(json) = self.kind.eval(answer, problems) else {
            return;
        };
        let got = Got {
            answer,
            json: json.as_ref(),
            expect: self,
        };
        for (_, c) in self.given() {
            c.eval(vars, &got, problems);
        }
    }
}

/// Whether `item` has every key of the object `want` with the same value (other keys are
/// allowed); `want` not an object holds nowhere.
fn holds(item: &Value, want: &Value) -> bool {
    want.as_object()
        .is_some_and(|w| w.iter().all(|(k, v)| item.get(k) == Some(v)))
}

/// Refuses the keys of a map of checks that are not JSON pointers (`""` is the whole body).
fn pointers<'a>(keys: impl Iterator<Item = &'a String>, v: &mut Validation, at: &Node) {
    for p in keys {
        if !(p.is_empty() || p.starts_with('/')) {
            v.bad(
                &at.key(p),
                format!("`{p}` is not a JSON pointer (it must start with /)"),
            );
        }
    }
}
