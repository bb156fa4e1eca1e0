//! The one table of operations: every route of the image API the mock serves, with its name
//! (the spec's `operation`), method, path template, success status, the model call that
//! answers it. The mock's router and `Allow` headers, the fuzzer's predictions, paths and
//! success codes, and the operation names of emitted cases all read [`OPERATIONS`]; a unit
//! test checks it against `specs/`.
//!
//! Adding an operation is its spec, its cases, one model method and one row here.

use serde_json::{Value, json};

use crate::model::{
    Identity, Model, Outcome, PATCH_MEDIA_TYPES, TASK_TYPES, check_data_type, declared_size,
    import_info, requested_span, stores_info,
};
pub(crate) use answer::Answer;
use calls::{
    DATA_BODIES, IMAGE_BODIES, IMPORT_BODIES, MOSTLY_NO_BODY, PATCH_BODIES, TASK_BODIES, download,
    image_page, receive, task_page,
};
use takes::{CREATE_FIELDS, field};
pub(crate) use takes::{Field, Kind, Takes};

/// A request as the table hands it to the model: who asks, the path parameters in template
/// order, the query pairs and the raw body.
pub(crate) struct Call<'a> {
    pub(crate) who: &'a Identity,
    pub(crate) params: &'a [&'a str],
    pub(crate) query: &'a [(String, String)],
    pub(crate) body: &'a [u8],
    /// The body's `Content-Type`, if the request has one.
    pub(crate) content_type: Option<&'a str>,
    /// The request's headers (the data rows read `Range` and the declared size).
    pub(crate) headers: &'a http::HeaderMap,
    /// The request's `x-openstack-request-id` (an import's task records it); may be empty.
    pub(crate) request_id: &'a str,
}

impl Call<'_> {
    /// The `i`th path parameter (the router only calls a row with all of them).
    fn param(&self, i: usize) -> &str {
        self.params.get(i).copied().unwrap_or("")
    }

    /// A header's value, if it is text.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a row reaches the model: under the read lock or the write lock, or not at all.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    Read(fn(&Model, &Call) -> Outcome<Answer>),
    Write(fn(&mut Model, &Call) -> Outcome<Answer>),
    /// A fixed document (a JSON schema, by name): any authenticated caller reads it.
    Document(&'static str),
}

/// What of a successful answer the fuzzer compares with the model's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compare {
    /// Only the status.
    Status,
    /// A new image: the fuzzer remembers which target id stands for the model's.
    Created,
    /// One member: `member_id` and `status`.
    Member,
    /// `members`: the set of (`member_id`, `status`).
    Members,
    /// `images`: whether there is a `next` page, and the ids in order.
    ImagePage,
}

/// What the fuzzer sends to a row and how it tells the story. Templates: `{image}` is the
/// image a step names, `{member}` the project it names, `{name}` the sequence's image name,
/// `{owner}` the owner's project (a create body naming it is sent by the admin, on the
/// owner's behalf).
#[derive(Clone, Copy)]
pub(crate) struct Fuzz {
    /// How often the generator picks this row, relative to the others (0: never).
    pub(crate) weight: u32,
    /// Request bodies to choose from; none means no body. A leading `!` marks a body sent
    /// as it is, not JSON; an empty one sends no body.
    pub(crate) bodies: &'static [&'static str],
    /// Query strings to choose from; none means no query.
    pub(crate) queries: &'static [&'static str],
    /// What to compare on success.
    pub(crate) compare: Compare,
    /// The step in words, after the caller: "adds {member} to image {image}"; the body
    /// follows when it is not the row's first.
    pub(crate) says: &'static str,
}

/// One operation.
#[derive(Clone, Copy)]
pub(crate) struct Operation {
    /// The spec's `operation`.
    pub(crate) name: &'static str,
    /// HTTP method, upper-case.
    pub(crate) method: &'static str,
    /// Path template; `{…}` segments are parameters, passed to the handler in order.
    pub(crate) path: &'static str,
    /// The status of a success.
    pub(crate) success: u16,
    /// The model call.
    pub(crate) handler: Handler,
    /// The request body the documentation describes.
    pub(crate) takes: Takes,
    /// What the fuzzer sends.
    pub(crate) fuzz: Fuzz,
}

impl Operation {
    /// The path parameters of `path` if it matches this row's template.
    pub(crate) fn matches<'p>(&self, segments: &[&'p str]) -> Option<Vec<&'p str>> {
        template_matches(self.path, segments)
    }

    /// Whether the template has a `{member_id}` parameter.
    pub(crate) fn names_member(&self) -> bool {
        self.path.contains("{member_id}")
    }

    /// The row's answer to `call`: the one entry every caller of a row goes through (the
    /// mock, its mutants, the fuzzer's predictions).
    pub(crate) fn answer(&self, model: &mut Model, call: &Call) -> Outcome<Answer> {
        match self.handler {
            Handler::Write(f) => f(model, call),
            Handler::Read(f) => f(model, call),
            Handler::Document(name) => Ok(Answer::Schema(name)),
        }
    }

    /// The answer of a row that only reads, which needs no write lock; `None` for a row
    /// that writes.
    pub(crate) fn answer_read(&self, model: &Model, call: &Call) -> Option<Outcome<Answer>> {
        match self.handler {
            Handler::Read(f) => Some(f(model, call)),
            Handler::Document(name) => Some(Ok(Answer::Schema(name))),
            Handler::Write(_) => None,
        }
    }
}

/// The parameters of `segments` under `template`, or `None` when it does not match.
fn template_matches<'p>(template: &str, segments: &[&'p str]) -> Option<Vec<&'p str>> {
    parts_match(&template_parts(template), segments)
}

fn template_parts(template: &str) -> Vec<&str> {
    template.trim_start_matches('/').split('/').collect()
}

/// The parameters of `segments` under a template split into `parts`.
fn parts_match<'p>(parts: &[&str], segments: &[&'p str]) -> Option<Vec<&'p str>> {
    // No allocation for a template that does not match: the router tries every row.
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, seg) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            params.push(*seg);
        } else if part != seg {
            return None;
        }
    }
    Some(params)
}

/// The rows whose template matches `segments`, with their parameters. The templates of
/// [`table()`] are split once, not on every request.
pub(crate) fn matching<'p>(
    table: &'static [Operation],
    segments: &[&'p str],
) -> Vec<(&'static Operation, Vec<&'p str>)> {
    static SPLIT: std::sync::LazyLock<Vec<Vec<&'static str>>> = std::sync::LazyLock::new(|| {
        self::table()
            .iter()
            .map(|op| template_parts(op.path))
            .collect()
    });
    if std::ptr::eq(table, self::table()) {
        return table
            .iter()
            .zip(SPLIT.iter())
            .filter_map(|(op, parts)| parts_match(parts, segments).map(|p| (op, p)))
            .collect();
    }
    table
        .iter()
        .filter_map(|op| op.matches(segments).map(|p| (op, p)))
        .collect()
}

/// The `Allow` value for a set of matching rows: their methods, in table order, once each.
pub(crate) fn allow(rows: &[(&'static Operation, Vec<&str>)]) -> String {
    let mut methods: Vec<&str> = Vec::new();
    for (op, _) in rows {
        if !methods.contains(&op.method) {
            methods.push(op.method);
        }
    }
    methods.join(", ")
}

/// The row named `name`.
pub(crate) fn by_name(name: &str) -> Option<&'static Operation> {
    table().iter().find(|o| o.name == name)
}

/// The table every consumer reads: [`OPERATIONS`], and in unit tests one more row that
/// exists only to show that a row alone reaches the router, `Allow`, the fuzzer and emit.
#[cfg(not(test))]
pub(crate) fn table() -> &'static [Operation] {
    OPERATIONS
}

/// The table every consumer reads: [`OPERATIONS`] and the test-only `probe_image` row.
#[cfg(test)]
pub(crate) fn table() -> &'static [Operation] {
    static WITH_PROBE: std::sync::LazyLock<Vec<Operation>> = std::sync::LazyLock::new(|| {
        let mut rows = OPERATIONS.to_vec();
        rows.push(tests::PROBE);
        rows
    });
    &WITH_PROBE
}

/// Create bodies: mostly shared images, some of every other visibility.
/// The media type the fuzzer and the suite send a row's bodies as: a patch media type for
/// `PATCH`, octet-stream for image data, else JSON.
pub(crate) fn media_type(op: &Operation) -> &'static str {
    match op.takes {
        Takes::Patch => PATCH_MEDIA_TYPES[1].0,
        Takes::Data => "application/octet-stream",
        _ => "application/json",
    }
}

/// Every operation the mock serves, in the order `Allow` lists methods.
pub(crate) static OPERATIONS: &[Operation] = &[
    Operation {
        name: "list_images",
        method: "GET",
        path: "/v2/images",
        success: 200,
        handler: Handler::Read(image_page),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 2,
            bodies: &[],
            queries: &[
                "name={name}",
                "name={name}&member_status=pending",
                "name={name}&member_status=accepted",
                "name={name}&member_status=rejected",
                "name={name}&member_status=all",
                "name={name}&member_status=bogus",
                "name={name}&visibility=shared",
                "name={name}&limit=1",
                "name={name}&limit=2",
                "name={name}&limit=0",
                "name={name}&limit=1&marker={image}",
                "name={name}&sort_key=name&sort_dir=asc&limit=2",
                "name={name}&sort=created_at:asc,name&limit=1&marker={image}",
                "name={name}&sort_key=size&sort_key=name&sort_dir=asc&sort_dir=desc",
                "name={name}&sort_key=visibility",
                "name={name}&protected=false&os_hidden=false&status=queued",
            ],
            compare: Compare::ImagePage,
            says: "lists the sequence's images",
        },
    },
    Operation {
        name: "create_image",
        method: "POST",
        path: "/v2/images",
        success: 201,
        handler: Handler::Write(|m, c| {
            let image = m.create_image(c.who, c.body)?;
            Ok(Answer::Json {
                body: serde_json::to_vec(&image.to_json()).unwrap_or_default(),
                location: Some(format!("/v2/images/{}", image.id)),
            })
        }),
        takes: Takes::Object {
            fields: CREATE_FIELDS,
            open: true,
        },
        fuzz: Fuzz {
            weight: 2,
            bodies: IMAGE_BODIES,
            queries: &[],
            compare: Compare::Created,
            says: "creates an image",
        },
    },
    Operation {
        name: "show_image",
        method: "GET",
        path: "/v2/images/{image_id}",
        success: 200,
        handler: Handler::Read(|m, c| {
            Ok(Answer::json(&m.show_image(c.who, c.param(0))?.to_json()))
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: &[],
            queries: &[],
            compare: Compare::Status,
            says: "shows image {image}",
        },
    },
    Operation {
        name: "update_image",
        method: "PATCH",
        path: "/v2/images/{image_id}",
        success: 200,
        handler: Handler::Write(|m, c| {
            let image = m.update_image(c.who, c.param(0), c.content_type, c.body)?;
            Ok(Answer::json(&image.to_json()))
        }),
        takes: Takes::Patch,
        fuzz: Fuzz {
            weight: 2,
            bodies: PATCH_BODIES,
            queries: &[],
            compare: Compare::Status,
            says: "changes image {image}",
        },
    },
    Operation {
        name: "delete_image",
        method: "DELETE",
        path: "/v2/images/{image_id}",
        success: 204,
        handler: Handler::Write(|m, c| {
            m.delete_image(c.who, c.param(0), c.body)?;
            Ok(Answer::Empty)
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: &[],
            queries: &[],
            compare: Compare::Status,
            says: "deletes image {image}",
        },
    },
    Operation {
        name: "upload_image_data",
        method: "PUT",
        path: "/v2/images/{image_id}/file",
        success: 204,
        handler: Handler::Write(|m, c| receive(m, c, false)),
        takes: Takes::Data,
        fuzz: Fuzz {
            weight: 2,
            bodies: DATA_BODIES,
            queries: &[],
            compare: Compare::Status,
            says: "uploads data to image {image}",
        },
    },
    Operation {
        name: "download_image_data",
        method: "GET",
        path: "/v2/images/{image_id}/file",
        success: 200,
        handler: Handler::Read(download),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: &[],
            queries: &[],
            compare: Compare::Status,
            says: "downloads the data of image {image}",
        },
    },
    Operation {
        name: "stage_image_data",
        method: "PUT",
        path: "/v2/images/{image_id}/stage",
        success: 204,
        handler: Handler::Write(|m, c| receive(m, c, true)),
        takes: Takes::Data,
        fuzz: Fuzz {
            weight: 1,
            bodies: DATA_BODIES,
            queries: &[],
            compare: Compare::Status,
            says: "stages data for image {image}",
        },
    },
    Operation {
        name: "import_image",
        method: "POST",
        path: "/v2/images/{image_id}/import",
        success: 202,
        handler: Handler::Write(|m, c| {
            m.import_image(c.who, c.param(0), c.body, c.request_id)?;
            Ok(Answer::Empty)
        }),
        takes: Takes::Object {
            fields: &[
                field("method", true, Kind::Object),
                field("stores", false, Kind::Texts),
                field("all_stores", false, Kind::Bool),
                field("all_stores_must_succeed", false, Kind::Bool),
            ],
            open: false,
        },
        // Not fuzzed: the reference imports in a task after answering 202, so what a step
        // after it finds depends on timing the model cannot predict (the cases check it).
        fuzz: Fuzz {
            weight: 0,
            bodies: IMPORT_BODIES,
            queries: &[],
            compare: Compare::Status,
            says: "imports the staged data of image {image}",
        },
    },
    Operation {
        name: "list_image_tasks",
        method: "GET",
        path: "/v2/images/{image_id}/tasks",
        success: 200,
        handler: Handler::Read(|m, c| {
            let tasks: Vec<Value> = m
                .image_tasks(c.who, c.param(0))?
                .iter()
                .map(|t| t.to_json())
                .collect();
            Ok(Answer::json(&json!({ "tasks": tasks })))
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: &[],
            queries: &[],
            compare: Compare::Status,
            says: "lists the import tasks of image {image}",
        },
    },
    Operation {
        name: "deactivate_image",
        method: "POST",
        path: "/v2/images/{image_id}/actions/deactivate",
        success: 204,
        handler: Handler::Write(|m, c| {
            m.set_activation(c.who, c.param(0), c.body, false)?;
            Ok(Answer::Empty)
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: MOSTLY_NO_BODY,
            queries: &[],
            compare: Compare::Status,
            says: "deactivates image {image}",
        },
    },
    Operation {
        name: "reactivate_image",
        method: "POST",
        path: "/v2/images/{image_id}/actions/reactivate",
        success: 204,
        handler: Handler::Write(|m, c| {
            m.set_activation(c.who, c.param(0), c.body, true)?;
            Ok(Answer::Empty)
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: MOSTLY_NO_BODY,
            queries: &[],
            compare: Compare::Status,
            says: "reactivates image {image}",
        },
    },
    Operation {
        name: "list_image_members",
        method: "GET",
        path: "/v2/images/{image_id}/members",
        success: 200,
        handler: Handler::Read(|m, c| {
            let members = m.list_members(c.who, c.param(0))?;
            Ok(Answer::json(
                &json!({"members": members, "schema": "/v2/schemas/members"}),
            ))
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 2,
            bodies: &[],
            queries: &[],
            compare: Compare::Members,
            says: "lists the members of image {image}",
        },
    },
    Operation {
        name: "add_image_member",
        method: "POST",
        path: "/v2/images/{image_id}/members",
        success: 200,
        handler: Handler::Write(|m, c| {
            Ok(Answer::json(&m.add_member(c.who, c.param(0), c.body)?))
        }),
        takes: Takes::Object {
            fields: &[field("member", true, Kind::Text)],
            open: false,
        },
        fuzz: Fuzz {
            weight: 8,
            bodies: &[
                r#"{"member": "{member}"}"#,
                r#"{"member": "{member}"}"#,
                r#"{"member": "{member}"}"#,
                r#"{"member": "{member}"}"#,
                r#"{"member": "{member}"}"#,
                r#"{"member": "{member}"}"#,
                r#"{"member": ""}"#,
                r#"!{"member": "#,
            ],
            queries: &[],
            compare: Compare::Member,
            says: "adds {member} to image {image}",
        },
    },
    Operation {
        name: "show_image_member",
        method: "GET",
        path: "/v2/images/{image_id}/members/{member_id}",
        success: 200,
        handler: Handler::Read(|m, c| {
            Ok(Answer::json(&m.show_member(
                c.who,
                c.param(0),
                c.param(1),
            )?))
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 2,
            bodies: &[],
            queries: &[],
            compare: Compare::Member,
            says: "shows {member} on image {image}",
        },
    },
    Operation {
        name: "update_image_member",
        method: "PUT",
        path: "/v2/images/{image_id}/members/{member_id}",
        success: 200,
        handler: Handler::Write(|m, c| {
            Ok(Answer::json(&m.update_member(
                c.who,
                c.param(0),
                c.param(1),
                c.body,
            )?))
        }),
        takes: Takes::Object {
            fields: &[field(
                "status",
                true,
                Kind::OneOf(&["pending", "accepted", "rejected"]),
            )],
            open: false,
        },
        fuzz: Fuzz {
            weight: 4,
            bodies: &[
                r#"{"status": "accepted"}"#,
                r#"{"status": "accepted"}"#,
                r#"{"status": "rejected"}"#,
                r#"{"status": "rejected"}"#,
                r#"{"status": "pending"}"#,
                r#"{"status": "pending"}"#,
                r#"{"status": "maybe"}"#,
                r#"{"state": "accepted"}"#,
            ],
            queries: &[],
            compare: Compare::Member,
            says: "sets the status of {member} on image {image}",
        },
    },
    Operation {
        name: "delete_image_member",
        method: "DELETE",
        path: "/v2/images/{image_id}/members/{member_id}",
        success: 204,
        handler: Handler::Write(|m, c| {
            m.delete_member(c.who, c.param(0), c.param(1), c.body)?;
            Ok(Answer::Empty)
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 3,
            bodies: MOSTLY_NO_BODY,
            queries: &[],
            compare: Compare::Status,
            says: "removes {member} from image {image}",
        },
    },
    Operation {
        name: "add_image_tag",
        method: "PUT",
        path: "/v2/images/{image_id}/tags/{tag}",
        success: 204,
        handler: Handler::Write(|m, c| {
            m.add_tag(c.who, c.param(0), c.param(1), c.body)?;
            Ok(Answer::Empty)
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 2,
            bodies: MOSTLY_NO_BODY,
            queries: &[],
            compare: Compare::Status,
            says: "tags image {image} with {tag}",
        },
    },
    Operation {
        name: "delete_image_tag",
        method: "DELETE",
        path: "/v2/images/{image_id}/tags/{tag}",
        success: 204,
        handler: Handler::Write(|m, c| {
            m.delete_tag(c.who, c.param(0), c.param(1), c.body)?;
            Ok(Answer::Empty)
        }),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: MOSTLY_NO_BODY,
            queries: &[],
            compare: Compare::Status,
            says: "removes tag {tag} from image {image}",
        },
    },
    Operation {
        name: "list_tasks",
        method: "GET",
        path: "/v2/tasks",
        success: 200,
        handler: Handler::Read(task_page),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 1,
            bodies: &[],
            queries: &[
                "",
                "limit=1",
                "status=failure",
                "type=import",
                "sort_dir=up",
            ],
            compare: Compare::Status,
            says: "lists tasks",
        },
    },
    Operation {
        name: "task_to_import_image",
        method: "POST",
        path: "/v2/tasks",
        success: 201,
        handler: Handler::Write(|m, c| {
            let task = m.create_task(c.who, c.body)?;
            Ok(Answer::Json {
                body: serde_json::to_vec(&task.to_json()).unwrap_or_default(),
                location: Some(format!("/v2/tasks/{}", task.id)),
            })
        }),
        takes: Takes::Object {
            fields: TASK_FIELDS,
            open: false,
        },
        fuzz: Fuzz {
            weight: 1,
            bodies: TASK_BODIES,
            queries: &[],
            compare: Compare::Status,
            says: "creates a task",
        },
    },
    Operation {
        name: "show_task",
        method: "GET",
        path: "/v2/tasks/{task_id}",
        success: 200,
        handler: Handler::Read(|m, c| Ok(Answer::json(&m.show_task(c.who, c.param(0))?.to_json()))),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 0,
            bodies: &[],
            queries: &[],
            compare: Compare::Status,
            says: "shows a task",
        },
    },
    metadefs::LIST_NAMESPACES,
    metadefs::CREATE_NAMESPACE,
    metadefs::SHOW_NAMESPACE,
    metadefs::UPDATE_NAMESPACE,
    metadefs::DELETE_NAMESPACE,
    metadefs::LIST_OBJECTS,
    metadefs::CREATE_OBJECT,
    metadefs::DELETE_OBJECTS,
    metadefs::SHOW_OBJECT,
    metadefs::UPDATE_OBJECT,
    metadefs::DELETE_OBJECT,
    metadefs::LIST_TAGS,
    metadefs::CREATE_TAGS,
    metadefs::DELETE_TAGS,
    metadefs::CREATE_TAG,
    metadefs::SHOW_TAG,
    metadefs::UPDATE_TAG,
    metadefs::DELETE_TAG,
    metadefs::LIST_PROPERTIES,
    metadefs::CREATE_PROPERTY,
    metadefs::DELETE_PROPERTIES,
    metadefs::SHOW_PROPERTY,
    metadefs::UPDATE_PROPERTY,
    metadefs::DELETE_PROPERTY,
    metadefs::LIST_RESOURCE_TYPES,
    metadefs::LIST_ASSOCIATIONS,
    metadefs::CREATE_ASSOCIATION,
    metadefs::DELETE_ASSOCIATION,
    info_row("get_import_info", "/v2/info/import", |_, _| {
        Ok(Answer::json(&import_info()))
    }),
    info_row("get_stores_info", "/v2/info/stores", |_, _| {
        Ok(Answer::json(&stores_info()))
    }),
    schema_row("get_image_member_schema", "/v2/schemas/member", "member"),
    schema_row("get_image_members_schema", "/v2/schemas/members", "members"),
    schema_row("get_image_schema", "/v2/schemas/image", "image"),
    schema_row("get_images_schema", "/v2/schemas/images", "images"),
    schema_row("get_task_schema", "/v2/schemas/task", "task"),
    schema_row("get_tasks_schema", "/v2/schemas/tasks", "tasks"),
    metadefs::NAMESPACE_SCHEMA,
    metadefs::NAMESPACES_SCHEMA,
    metadefs::OBJECT_SCHEMA,
    metadefs::OBJECTS_SCHEMA,
    metadefs::PROPERTY_SCHEMA,
    metadefs::PROPERTIES_SCHEMA,
    metadefs::RESOURCE_TYPE_SCHEMA,
    metadefs::RESOURCE_TYPES_SCHEMA,
    metadefs::TAG_SCHEMA,
    metadefs::TAGS_SCHEMA,
];

/// What a task create body holds.
const TASK_FIELDS: &[Field] = &[
    field("type", true, Kind::OneOf(TASK_TYPES)),
    field("input", true, Kind::Object),
];

/// A discovery document of `/v2/info`: anyone with a valid token may read it.
const fn info_row(
    name: &'static str,
    path: &'static str,
    doc: fn(&Model, &Call) -> Outcome<Answer>,
) -> Operation {
    let mut row = schema_row(name, path, "");
    row.handler = Handler::Read(doc);
    row.fuzz.says = "reads what the service offers";
    row
}

/// A fixed schema document: anyone with a valid token may read it.
pub(super) const fn schema_row(
    name: &'static str,
    path: &'static str,
    doc: &'static str,
) -> Operation {
    Operation {
        name,
        method: "GET",
        path,
        success: 200,
        handler: Handler::Document(doc),
        takes: Takes::Nothing,
        fuzz: Fuzz {
            weight: 0,
            bodies: &[],
            queries: &[],
            compare: Compare::Status,
            says: "reads the schema",
        },
    }
}

mod answer;
mod calls;
mod metadefs;
mod takes;
#[cfg(test)]
mod tests;
