//! The authorization matrix (`cases/matrix.yaml`): per operation, image visibility and persona
//! the expected status code, or the key of a reason why the cell cannot be provoked. Each code
//! becomes an ordinary [`Case`] named `<operation>::<code>::matrix_<persona>_<visibility>`,
//! citing that row of the operation's table.
//!
//! The same file is also where the image-list cases that need ids in a known order live
//! (`ordered_lists`): their ids are drawn fresh at load time, so their order is known.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::case::Case;
use super::spec::Operation;
use crate::error::DataError;

/// Where the matrix lives, under `cases/`.
pub(crate) const FILE: &str = "matrix.yaml";

/// The persona columns of every row, in order.
pub const COLUMNS: &[&str] = &[
    "owner",
    "pending",
    "accepted",
    "rejected",
    "other_member",
    "stranger",
    "admin",
    "reader",
    "anonymous",
    "bad_token",
];

/// Rows of operations that act on an existing image, one per visibility.
pub const VISIBILITIES: &[&str] = &["private", "shared", "community", "public"];

/// Operations that involve no existing image have one row, `any`.
/// The import task the matrix creates and asks for (no image properties, so the reference
/// creates no image as the task runs).
const IMPORT_TASK: &str = "{type: import, input: {import_from: \"http://192.0.2.1/sharecheck.img\", import_from_format: raw}}";

const NO_IMAGE_OPS: &[&str] = &[
    "get_image_member_schema",
    "get_image_members_schema",
    "get_image_schema",
    "get_images_schema",
    "get_task_schema",
    "get_tasks_schema",
    "list_tasks",
    "show_task",
    "task_to_import_image",
    "task_to_export_image",
    "get_import_info",
    "get_stores_info",
    "get_metadef_namespace_schema",
    "get_metadef_namespaces_schema",
    "get_metadef_object_schema",
    "get_metadef_objects_schema",
    "get_metadef_property_schema",
    "get_metadef_properties_schema",
    "get_metadef_resource_type_schema",
    "get_metadef_resource_types_schema",
    "get_metadef_tag_schema",
    "get_metadef_tags_schema",
];

/// One cell of the matrix.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The operation (a spec).
    pub operation: String,
    /// A persona column.
    pub persona: String,
    /// A visibility, or `any`.
    pub visibility: String,
    /// The expected code, when the cell is a case.
    pub code: Option<u16>,
    /// The trial name of the cell's case.
    pub case: Option<String>,
    /// Why the cell cannot be provoked.
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    columns: Vec<String>,
    reasons: BTreeMap<String, String>,
    operations: BTreeMap<String, BTreeMap<String, Vec<Value>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Value {
    Code(u16),
    Word(String),
}

/// The 1-based line of `key:` at or after line `from` (1-based), or `from` itself.
fn line_after(src: &str, from: usize, key: &str) -> usize {
    src.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.starts_with(':'))
        })
        .map_or(from, |(i, _)| i + 1)
}

/// Who sends the request, and the member status of the `member` persona on a shared image.
fn caller(persona: &str) -> (&str, &str) {
    match persona {
        "pending" | "accepted" | "rejected" => ("member", persona),
        p => (p, "pending"),
    }
}

fn kebab(s: &str) -> String {
    s.replace('_', "-")
}

/// The case text of one cell. `listed` is for image lists: whether the image is in it.
/// `None` for an operation the matrix has no request for.
fn cell_yaml(
    op: &str,
    vis: &str,
    persona: &str,
    code: u16,
    listed: Option<bool>,
) -> Option<String> {
    let (who, status) = caller(persona);
    let mut y = format!(
        "id: mx-{}-{}-{vis}\noperation: {op}\ncode: {code}\n\
         purpose: \"Authorization matrix: {op} as {persona} on a {vis} image answers {code}.\"\n",
        kebab(op),
        kebab(persona)
    );
    if !NO_IMAGE_OPS.contains(&op) && op != "create_image" {
        let mut members = String::new();
        if vis == "shared" {
            members = format!(", members: {{member: {status}");
            if persona == "other_member" {
                members.push_str(", other_member: accepted");
            }
            members.push('}');
        }
        let tags = match op {
            "delete_image_tag" => ", tags: [sharecheck-tag]",
            "upload_image_data" | "stage_image_data" | "import_image" => {
                ", disk_format: raw, container_format: bare"
            }
            "download_image_data" | "deactivate_image" => ", data: matrix data",
            "reactivate_image" => ", data: matrix data, deactivated: true",
            _ => "",
        };
        y += &format!(
            "setup:\n  images:\n    img: {{visibility: {vis}, \
             name: \"sharecheck-{{run_id}}-{{random_uuid}}\"{tags}{members}}}\n"
        );
    }
    if op == "show_task" {
        y += &format!("setup:\n  tasks:\n    t: {IMPORT_TASK}\n");
    }
    if op == "import_image" {
        y += "before:\n  - request: {as: owner, method: PUT, path: \"/v2/images/{img}/stage\", \
              headers: {Content-Type: application/octet-stream}, raw_body: matrix data}\n    \
              expect: {status: 204}\n";
    }
    let ok = code < 300;
    let metadef_path = format!(
        "/v2/schemas/metadefs/{}",
        op.trim_start_matches("get_metadef_")
            .trim_end_matches("_schema")
    );
    let (method, path, body, check): (&str, &str, &str, String) = match op {
        "list_tasks" => (
            "GET",
            "/v2/tasks",
            "",
            "{kind: json, keys: [tasks, first, schema]}".into(),
        ),
        "show_task" => (
            "GET",
            "/v2/tasks/{t}",
            "",
            "{kind: json, values: {/id: \"{t}\"}}".into(),
        ),
        "task_to_import_image" => (
            "POST",
            "/v2/tasks",
            IMPORT_TASK,
            "{kind: json, values: {/type: import, /status: pending}}".into(),
        ),
        "task_to_export_image" => (
            "POST",
            "/v2/tasks",
            "{type: export, input: {image_uuid: \"{random_uuid}\", receiving_swift_container: sharecheck}}",
            String::new(),
        ),
        "get_task_schema" => (
            "GET",
            "/v2/schemas/task",
            "",
            "{kind: json, values: {/name: task}}".into(),
        ),
        "get_tasks_schema" => (
            "GET",
            "/v2/schemas/tasks",
            "",
            "{kind: json, values: {/name: tasks}}".into(),
        ),
        "create_image" => (
            "POST",
            "/v2/images",
            "{name: \"sharecheck-{run_id}-{random_uuid}\", visibility: VIS}",
            format!("{{kind: json, values: {{/visibility: {vis}}}}}"),
        ),
        "show_image" => (
            "GET",
            "/v2/images/{img}",
            "",
            "{kind: json, values: {/id: \"{img}\"}}".into(),
        ),
        "list_images" => (
            "GET",
            "/v2/images?name=sharecheck-{run_id}-{random_uuid}",
            "",
            if listed == Some(true) {
                "{kind: json, lengths: {/images: 1}, values: {/images/0/id: \"{img}\"}}".into()
            } else {
                "{kind: json, lengths: {/images: 0}}".into()
            },
        ),
        "delete_image" => ("DELETE", "/v2/images/{img}", "", "{kind: empty}".into()),
        "add_image_member" => (
            "POST",
            "/v2/images/{img}/members",
            "{member: \"{random_project}\"}",
            "{kind: json, values: {/member_id: \"{random_project}\", /status: pending}}".into(),
        ),
        "list_image_members" => {
            let own = if persona == "other_member" {
                "{other_member}"
            } else {
                "{member}"
            };
            (
                "GET",
                "/v2/images/{img}/members",
                "",
                format!(
                    "{{kind: json, lengths: {{/members: 1}}, values: {{/members/0/member_id: \"{own}\"}}}}"
                ),
            )
        }
        "show_image_member" => (
            "GET",
            "/v2/images/{img}/members/{member}",
            "",
            format!("{{kind: json, values: {{/member_id: \"{{member}}\", /status: {status}}}}}"),
        ),
        "update_image_member" => (
            "PUT",
            "/v2/images/{img}/members/{member}",
            "{status: accepted}",
            "{kind: json, values: {/member_id: \"{member}\", /status: accepted}}".into(),
        ),
        "delete_image_member" => (
            "DELETE",
            "/v2/images/{img}/members/{member}",
            "",
            "{kind: empty}".into(),
        ),
        "update_image" => (
            "PATCH",
            "/v2/images/{img}",
            "[{op: replace, path: /min_ram, value: 7}]",
            "{kind: json, values: {/min_ram: 7}}".into(),
        ),
        "upload_image_data" => ("PUT", "/v2/images/{img}/file", "", "{kind: empty}".into()),
        "stage_image_data" => ("PUT", "/v2/images/{img}/stage", "", "{kind: empty}".into()),
        "import_image" => (
            "POST",
            "/v2/images/{img}/import",
            "{method: {name: glance-direct}}",
            String::new(),
        ),
        "list_image_tasks" => (
            "GET",
            "/v2/images/{img}/tasks",
            "",
            "{kind: json, lengths: {/tasks: 0}}".into(),
        ),
        "get_import_info" => (
            "GET",
            "/v2/info/import",
            "",
            "{kind: json, values: {/import-methods/type: array}}".into(),
        ),
        "get_stores_info" => (
            "GET",
            "/v2/info/stores",
            "",
            "{kind: json, values: {/stores/0/id: fs}}".into(),
        ),
        meta if meta.starts_with("get_metadef_") => (
            "GET",
            &metadef_path,
            "",
            "{kind: json, keys: [name, properties]}".into(),
        ),
        "download_image_data" => (
            "GET",
            "/v2/images/{img}/file",
            "",
            "{kind: data, equals: matrix data}".into(),
        ),
        "deactivate_image" => (
            "POST",
            "/v2/images/{img}/actions/deactivate",
            "",
            "{kind: empty}".into(),
        ),
        "reactivate_image" => (
            "POST",
            "/v2/images/{img}/actions/reactivate",
            "",
            "{kind: empty}".into(),
        ),
        "add_image_tag" => (
            "PUT",
            "/v2/images/{img}/tags/sharecheck-tag",
            "",
            "{kind: empty}".into(),
        ),
        "delete_image_tag" => (
            "DELETE",
            "/v2/images/{img}/tags/sharecheck-tag",
            "",
            "{kind: empty}".into(),
        ),
        "get_image_member_schema" => (
            "GET",
            "/v2/schemas/member",
            "",
            "{kind: json, values: {/name: member}}".into(),
        ),
        "get_image_members_schema" => (
            "GET",
            "/v2/schemas/members",
            "",
            "{kind: json, values: {/name: members}}".into(),
        ),
        "get_image_schema" => (
            "GET",
            "/v2/schemas/image",
            "",
            "{kind: json, values: {/name: image}}".into(),
        ),
        "get_images_schema" => (
            "GET",
            "/v2/schemas/images",
            "",
            "{kind: json, values: {/name: images}}".into(),
        ),
        _ => return None,
    };
    y += &format!("request:\n  as: {who}\n  method: {method}\n  path: \"{path}\"\n");
    if method == "PATCH" {
        y += "  headers: {Content-Type: application/openstack-images-v2.1-json-patch}\n";
    }
    if op == "upload_image_data" || op == "stage_image_data" {
        y += "  headers: {Content-Type: application/octet-stream}\n  raw_body: matrix data\n";
    }
    if !body.is_empty() {
        y += &format!("  body: {}\n", body.replace("VIS", vis));
    }
    y += &format!("expect:\n  status: {code}\n");
    if ok && !check.is_empty() {
        y += &format!("  body: {check}\n");
    } else if !ok {
        y += "  body: {kind: error}\n";
    }
    // What must still hold afterwards.
    let tagged = "{kind: json, lengths: {/tags: 1}, values: {/tags/0: sharecheck-tag}}";
    let untagged = "{kind: json, lengths: {/tags: 0}}";
    let tags_after = match (op, ok) {
        ("add_image_tag", true) | ("delete_image_tag", false) => Some(tagged),
        ("add_image_tag", false) | ("delete_image_tag", true) => Some(untagged),
        ("update_image", true) => Some("{kind: json, values: {/min_ram: 7}}"),
        ("upload_image_data", true) => Some("{kind: json, values: {/status: active, /size: 11}}"),
        ("deactivate_image", true) | ("reactivate_image", false) => {
            Some("{kind: json, values: {/status: deactivated}}")
        }
        ("deactivate_image", false) | ("reactivate_image", true) => {
            Some("{kind: json, values: {/status: active}}")
        }
        ("upload_image_data" | "stage_image_data", false) => {
            Some("{kind: json, values: {/status: queued, /size: null}}")
        }
        ("stage_image_data", true) | ("import_image", false) => {
            Some("{kind: json, values: {/status: uploading, /size: 11}}")
        }
        ("update_image", false) => Some("{kind: json, values: {/min_ram: 0}}"),
        _ => None,
    };
    if let Some(body) = tags_after {
        y += &format!(
            "then:\n  - request: {{as: owner, method: GET, path: \"/v2/images/{{img}}\"}}\n    expect: {{status: 200, body: {body}}}\n"
        );
    }
    if (op, ok) == ("import_image", true) {
        // The reference imports moments after it answers: the follow-up waits for it.
        y += "then:\n  - request: {as: owner, method: GET, path: \"/v2/images/{img}\", \
              poll: {max: 100, pause_ms: 100}}\n    expect: {status: 200, body: \
              {kind: json, values: {/status: active, /size: 11, /stores: fs}}}\n";
    }
    let then = match (op, ok) {
        ("delete_image", true) => Some(("owner", "/v2/images/{img}", 404)),
        ("delete_image", false) if who != "owner" => Some(("owner", "/v2/images/{img}", 200)),
        ("delete_image_member", true) => Some(("owner", "/v2/images/{img}/members/{member}", 404)),
        ("delete_image_member", false) if vis == "shared" => {
            Some(("owner", "/v2/images/{img}/members/{member}", 200))
        }
        _ => None,
    };
    if let Some((as_, path, status)) = then {
        y += &format!(
            "then:\n  - request: {{as: {as_}, method: GET, path: \"{path}\"}}\n    expect: {{status: {status}}}\n"
        );
    }
    Some(y)
}

fn ordered_images() -> (String, String, String, String) {
    let base = uuid::Uuid::new_v4().to_string();
    let stem = &base[..base.len() - 1];
    let id = |n: u8| format!("{stem}{n}");
    let (a, b, c) = (id(1), id(2), id(3));
    let name = "sharecheck-{run_id}-{random_uuid}";
    let create = |x: &str, vis: &str| {
        format!(
            "  - request: {{as: owner, method: POST, path: /v2/images, body: {{id: \"{x}\", name: \"{name}\", visibility: {vis}}}}}\n    expect: {{status: 201}}\n"
        )
    };
    let before = format!(
        "before:\n{}{}{}",
        create(&a, "shared"),
        create(&b, "private"),
        create(&c, "shared")
    );
    (a, b, c, before)
}

/// Image lists in a known order: three images whose ids are drawn now in ascending order, so
/// the reference's order (created_at descending, then id descending) is known in advance.
fn ordered_lists() -> Vec<(String, String)> {
    let q = "/v2/images?name=sharecheck-{run_id}-{random_uuid}";
    let mut out = Vec::new();
    let (a, b, c, before) = ordered_images();
    out.push((
            "list_images/200/newest_first.yaml".into(),
            format!(
                "id: li-200-newest-first\noperation: list_images\ncode: 200\n\
                 purpose: \"The owner's list is newest first; images of one second by id, descending.\"\n\
                 {before}request: {{as: owner, method: GET, path: \"{q}\"}}\n\
                 expect: {{status: 200, body: {{kind: json, lengths: {{/images: 3}}, values: \
                 {{/images/0/id: \"{c}\", /images/1/id: \"{b}\", /images/2/id: \"{a}\"}}}}}}\n"
            ),
    ));
    let (a, b, c, before) = ordered_images();
    out.push((
            "list_images/200/pages_follow_the_order.yaml".into(),
            format!(
                "id: li-200-pages-follow-the-order\noperation: list_images\ncode: 200\n\
                 purpose: \"limit and marker page through the list in its order; next points at the following page.\"\n\
                 {before}request: {{as: owner, method: GET, path: \"{q}&limit=2\"}}\n\
                 expect: {{status: 200, body: {{kind: json, keys: [next], lengths: {{/images: 2}}, values: \
                 {{/images/0/id: \"{c}\", /images/1/id: \"{b}\", /next: \"{q}&limit=2&marker={b}\"}}}}}}\n\
                 then:\n  - request: {{as: owner, method: GET, path: \"{q}&limit=2&marker={b}\"}}\n    \
                 expect: {{status: 200, body: {{kind: json, keys: [images, first, schema], only_keys: true, \
                 lengths: {{/images: 1}}, values: {{/images/0/id: \"{a}\"}}}}}}\n\
                 \x20 - request: {{as: owner, method: GET, path: \"{q}&limit=2&marker={a}\"}}\n    \
                 expect: {{status: 200, body: {{kind: json, lengths: {{/images: 0}}}}}}\n"
            ),
    ));
    let (a, _, c, before) = ordered_images();
    out.push((
            "list_images/200/owner_filter.yaml".into(),
            format!(
                "id: li-200-owner-filter\noperation: list_images\ncode: 200\n\
                 purpose: \"owner= keeps the images of that project the caller sees, in order; another owner gives none.\"\n\
                 {before}request: {{as: owner, method: GET, path: \"{q}&owner={{owner}}&visibility=shared\"}}\n\
                 expect: {{status: 200, body: {{kind: json, lengths: {{/images: 2}}, values: \
                 {{/images/0/id: \"{c}\", /images/1/id: \"{a}\"}}}}}}\n\
                 then:\n  - request: {{as: owner, method: GET, path: \"{q}&owner={{stranger}}\"}}\n    \
                 expect: {{status: 200, body: {{kind: json, lengths: {{/images: 0}}}}}}\n"
            ),
    ));
    out
}

/// Expands the matrix file at `path` into cases and cells.
pub(crate) fn expand(
    path: &Path,
    src: &str,
    ops: &[Operation],
    schemas: &[String],
) -> Result<(Vec<Case>, Vec<Cell>), Vec<DataError>> {
    let file: MatrixFile =
        serde_yaml::from_str(src).map_err(|e| vec![DataError::yaml(path, &e)])?;
    let mut errs = Vec::new();
    let mut cases = Vec::new();
    let mut cells = Vec::new();
    if file.columns != COLUMNS {
        errs.push(DataError::invalid(
            path,
            Some(line_after(src, 1, "columns")),
            format!("columns must be exactly [{}]", COLUMNS.join(", ")),
        ));
    }
    for (key, reason) in &file.reasons {
        if reason.trim().is_empty() {
            errs.push(DataError::invalid(
                path,
                Some(line_after(src, 1, key)),
                format!("reason `{key}` is empty"),
            ));
        }
    }
    let ops_line = line_after(src, 1, "operations");
    for (op, rows) in &file.operations {
        let op_line = line_after(src, ops_line, op);
        if !ops.iter().any(|o| &o.operation == op) {
            errs.push(DataError::invalid(
                path,
                Some(op_line),
                format!("operation `{op}` is not in specs/"),
            ));
            continue;
        }
        let wanted: &[&str] = if NO_IMAGE_OPS.contains(&op.as_str()) {
            &["any"]
        } else {
            VISIBILITIES
        };
        let mut keys: Vec<&str> = rows.keys().map(String::as_str).collect();
        let mut sorted = wanted.to_vec();
        keys.sort_unstable();
        sorted.sort_unstable();
        if keys != sorted {
            errs.push(DataError::invalid(
                path,
                Some(op_line),
                format!("`{op}` needs exactly the rows {}", wanted.join(", ")),
            ));
            continue;
        }
        for (vis, values) in rows {
            let line = line_after(src, op_line, vis);
            if values.len() != COLUMNS.len() {
                errs.push(DataError::invalid(
                    path,
                    Some(line),
                    format!(
                        "`{op}` `{vis}` has {} entries, one per column ({}) expected",
                        values.len(),
                        COLUMNS.len()
                    ),
                ));
                continue;
            }
            for (persona, value) in COLUMNS.iter().zip(values) {
                let mut cell = Cell {
                    operation: op.clone(),
                    persona: persona.to_string(),
                    visibility: vis.clone(),
                    code: None,
                    case: None,
                    reason: None,
                };
                let (code, listed) = match value {
                    Value::Code(c) => (*c, None),
                    Value::Word(w) if file.reasons.contains_key(w) => {
                        cell.reason = Some(file.reasons[w].clone());
                        cells.push(cell);
                        continue;
                    }
                    Value::Word(w) => match (w.strip_suffix('+'), w.strip_suffix('-')) {
                        (Some(c), _) if c.parse::<u16>().is_ok() && op == "list_images" => {
                            (c.parse().unwrap_or_default(), Some(true))
                        }
                        (_, Some(c)) if c.parse::<u16>().is_ok() && op == "list_images" => {
                            (c.parse().unwrap_or_default(), Some(false))
                        }
                        _ => {
                            errs.push(DataError::invalid(
                                path,
                                Some(line),
                                format!(
                                    "`{w}` ({op}, {vis}, {persona}) is neither a code, a list \
                                     code (200+ listed, 200- not listed) nor a reason key"
                                ),
                            ));
                            continue;
                        }
                    },
                };
                if op == "list_images" && (code == 200) != listed.is_some() {
                    errs.push(DataError::invalid(
                        path,
                        Some(line),
                        format!(
                            "list_images {vis} {persona}: 200 is written 200+ or 200- \
                             (listed or not), other codes plain"
                        ),
                    ));
                    continue;
                }
                let Some(text) = cell_yaml(op, vis, persona, code, listed) else {
                    errs.push(DataError::invalid(
                        path,
                        Some(op_line),
                        format!("the matrix has no request for `{op}` (src/suite/matrix.rs)"),
                    ));
                    break;
                };
                let rel = format!("{op}/{code}/matrix_{persona}_{vis}.yaml");
                match Case::parse(path, Path::new(&rel), &text, ops, schemas) {
                    Ok(c) => {
                        cell.code = Some(code);
                        cell.case = Some(c.name.clone());
                        cells.push(cell);
                        cases.push(c);
                    }
                    Err(e) => errs.extend(e.into_iter().map(|d| {
                        let msg = match d {
                            DataError::Parse { message, .. } => message,
                            other => crate::error::chain(&other),
                        };
                        DataError::invalid(path, Some(line), format!("{op} {vis} {persona}: {msg}"))
                    })),
                }
            }
        }
    }
    for (rel, text) in ordered_lists() {
        match Case::parse(path, Path::new(&rel), &text, ops, schemas) {
            Ok(c) => cases.push(c),
            Err(e) => errs.extend(e),
        }
    }
    if errs.is_empty() {
        Ok((cases, cells))
    } else {
        Err(errs)
    }
}
