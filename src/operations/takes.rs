//! What a row takes as its request body, as the documentation describes it: nothing, a JSON
//! object of documented fields, a patch document or image data. The mock's journal says
//! where a client's request departs from it; a unit test checks it against the specs.

use crate::model::{CONTAINER_FORMATS, DISK_FORMATS};

/// The request body the documentation describes for a row (the mock's journal says where a
/// client's request departs from it).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Takes {
    /// No body.
    Nothing,
    /// A JSON object (`application/json`) with these fields; `open`: other keys may carry
    /// string values (an image's extra properties).
    Object {
        fields: &'static [Field],
        open: bool,
    },
    /// A JSON-patch document, in one of the patch media types.
    Patch,
    /// Image data (`application/octet-stream`), streamed, of any size.
    Data,
}

/// A documented field of a request body.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) required: bool,
    pub(crate) kind: Kind,
}

/// The JSON a documented field holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// A string.
    Text,
    /// A string or `null`.
    TextOrNull,
    /// `true` or `false`.
    Bool,
    /// A whole number from 0.
    Count,
    /// A list of strings.
    Texts,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A JSON object (or `null`).
    Object,
    /// A list of JSON objects.
    Objects,
    /// A number.
    Number,
    /// Any JSON value.
    Any,
}

pub(super) const fn field(name: &'static str, required: bool, kind: Kind) -> Field {
    Field {
        name,
        required,
        kind,
    }
}

/// What a create body may hold: the image schema's writable attributes, and extra string
/// properties.
pub(super) const CREATE_FIELDS: &[Field] = &[
    field("id", false, Kind::Text),
    field("name", false, Kind::TextOrNull),
    field(
        "visibility",
        false,
        Kind::OneOf(&["private", "shared", "community", "public"]),
    ),
    field("owner", false, Kind::TextOrNull),
    field("protected", false, Kind::Bool),
    field("os_hidden", false, Kind::Bool),
    field("disk_format", false, Kind::OneOf(DISK_FORMATS)),
    field("container_format", false, Kind::OneOf(CONTAINER_FORMATS)),
    field("min_ram", false, Kind::Count),
    field("min_disk", false, Kind::Count),
    field("tags", false, Kind::Texts),
];
