//! What the rows call and send beyond one line: the data, list and task handlers, and the
//! bodies the fuzzer chooses from.

use super::*;

/// What the fuzzer sends to an operation that takes no body: nothing, and now and then `{}`
/// (which the reference refuses with 400).
pub(super) const MOSTLY_NO_BODY: &[&str] = &["", "", "", "", "", "", "", "", "", "{}"];

/// Patch documents the fuzzer sends: valid changes, read-only and reserved attributes,
/// conflicts, bad values and malformed documents.
pub(super) const PATCH_BODIES: &[&str] = &[
    r#"[{"op": "replace", "path": "/name", "value": "sharecheck-fuzz-renamed"}]"#,
    r#"[{"op": "add", "path": "/sharecheck_note", "value": "x"}]"#,
    r#"[{"op": "remove", "path": "/sharecheck_note"}]"#,
    r#"[{"op": "replace", "path": "/sharecheck_note", "value": "y"}]"#,
    r#"[{"op": "replace", "path": "/protected", "value": false}]"#,
    r#"[{"op": "replace", "path": "/visibility", "value": "community"}]"#,
    r#"[{"op": "replace", "path": "/visibility", "value": "shared"}]"#,
    r#"[{"op": "replace", "path": "/status", "value": "active"}]"#,
    r#"[{"op": "add", "path": "/os_glance_x", "value": "x"}]"#,
    r#"[{"op": "remove", "path": "/name"}]"#,
    r#"[{"op": "replace", "path": "/min_ram", "value": "lots"}]"#,
    r#"[{"op": "test", "path": "/name", "value": "x"}]"#,
    r#"{"op": "replace", "path": "/name", "value": "x"}"#,
    "",
];

pub(super) const IMAGE_BODIES: &[&str] = &[
    r#"{"name": "{name}", "visibility": "shared", "disk_format": "raw", "container_format": "bare"}"#,
    r#"{"name": "{name}", "visibility": "shared", "disk_format": "qcow2", "container_format": "bare"}"#,
    r#"{"name": "{name}", "visibility": "shared"}"#,
    r#"{"name": "{name}", "visibility": "private"}"#,
    r#"{"name": "{name}", "visibility": "community"}"#,
    r#"{"name": "{name}", "visibility": "public"}"#,
    r#"{"name": "{name}", "visibility": "public", "owner": "{owner}"}"#,
    r#"{"name": "{name}", "visibility": "shared", "owner": "{owner}"}"#,
];

/// Bytes the fuzzer uploads: raw data of a few sizes, and nothing at all.
pub(super) const DATA_BODIES: &[&str] = &["!sharecheck fuzz data", "!x", "!"];

/// Image data coming in: uploaded (`…/file`) or staged for an import (`…/stage`).
pub(super) fn receive(m: &mut Model, c: &Call, staging: bool) -> Outcome<Answer> {
    check_data_type(c.content_type)?;
    let length = c.header("content-length").and_then(|v| v.parse().ok());
    let declared = declared_size(c.header("x-openstack-image-size"), length)?;
    let up = if staging {
        m.begin_stage(c.who, c.param(0), declared)?
    } else {
        let store = m.upload_store(c.header("x-image-meta-store"))?;
        let mut up = m.begin_upload(c.who, c.param(0), declared)?;
        up.store = store;
        up
    };
    Ok(Answer::Upload(up))
}

/// Location bodies the fuzzer sends: refused ones only (a `file://` URL, a missing URL, a
/// malformed hash, a source no filter admits, not JSON), whose answers the model predicts.
pub(super) const LOCATION_BODIES: &[&str] = &[
    r#"{"url": "file:///etc/passwd"}"#,
    r#"{}"#,
    r#"{"url": "http://127.0.0.1:1/x", "validation_data": {"os_hash_algo": "sha512"}}"#,
    r#"{"url": "http://127.0.0.1:1/x", "validation_data": {"os_hash_algo": "sha512", "os_hash_value": "zz"}}"#,
    "!not json",
];

/// Import bodies the fuzzer sends: each method, one unknown, and none.
pub(super) const IMPORT_BODIES: &[&str] = &[
    r#"{"method": {"name": "glance-direct"}}"#,
    r#"{"method": {"name": "glance-direct"}}"#,
    r#"{"method": {"name": "glance-direct"}, "stores": ["fs"]}"#,
    r#"{"method": {"name": "web-download", "uri": "https://example.com/x.img"}}"#,
    r#"{"method": {"name": "copy-image"}, "stores": ["fs"]}"#,
    r#"{"method": {"name": "bogus"}}"#,
    r#"{}"#,
];

pub(super) fn download(m: &Model, c: &Call) -> Outcome<Answer> {
    let data = m.download(c.who, c.param(0))?.data;
    let span = match &data {
        Some(d) => requested_span(c.header("range"), c.header("content-range"), d.size)?,
        None => None,
    };
    Ok(Answer::Data { data, span })
}

pub(super) fn image_page(m: &Model, c: &Call) -> Outcome<Answer> {
    let page = m.list_images(c.who, c.query)?;
    let images: Vec<Value> = page.images.iter().map(|i| m.image_json(c.who, i)).collect();
    // `first` keeps the query but its marker, as the reference's does; `next` adds the marker.
    let query = query_without_marker(c);
    let first = if query.is_empty() {
        "/v2/images".to_string()
    } else {
        format!("/v2/images?{query}")
    };
    let mut body = json!({"images": images, "first": first, "schema": "/v2/schemas/images"});
    if let Some(marker) = page.next_marker {
        let mut next = form_urlencoded::Serializer::new(query);
        next.append_pair("marker", marker);
        body["next"] = Value::String(format!("/v2/images?{}", next.finish()));
    }
    Ok(Answer::json(&body))
}

/// The call's query, its `marker` left out, form-encoded.
fn query_without_marker(c: &Call) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in c.query.iter().filter(|(k, _)| k != "marker") {
        q.append_pair(k, v);
    }
    q.finish()
}

/// Task bodies the fuzzer sends: an import the filter passes, one it refuses, an export
/// (which the reference refuses), and one without its input.
pub(super) const TASK_BODIES: &[&str] = &[
    r#"{"type": "import", "input": {"import_from": "http://192.0.2.1/sharecheck.img", "import_from_format": "raw"}}"#,
    r#"{"type": "import", "input": {"import_from": "http://127.0.0.1/sharecheck.img"}}"#,
    r#"{"type": "export", "input": {}}"#,
    r#"{"type": "import"}"#,
];

pub(super) fn task_page(m: &Model, c: &Call) -> Outcome<Answer> {
    let page = m.list_tasks(c.who, c.query)?;
    let tasks: Vec<Value> = page.tasks.iter().map(|t| t.stub()).collect();
    let query = query_without_marker(c);
    let first = if query.is_empty() {
        "/v2/tasks".to_string()
    } else {
        format!("/v2/tasks?{query}")
    };
    let mut body = json!({"tasks": tasks, "first": first, "schema": "/v2/schemas/tasks"});
    if let Some(marker) = page.next_marker {
        let mut next = form_urlencoded::Serializer::new(query);
        next.append_pair("marker", marker);
        body["next"] = Value::String(format!("/v2/tasks?{}", next.finish()));
    }
    Ok(Answer::json(&body))
}

/// Taking an image's data out of one store. The fuzzer names the default store, the one every
/// upload reaches, so its steps meet every refusal before the last: a visible image, who may
/// see and delete locations, an active image, its only store.
pub(super) const DELETE_FROM_STORE: Operation = Operation {
    declared: declared::DELETE_IMAGE_FROM_STORE,
    handler: Handler::Write(|m, c| {
        m.delete_from_store(c.who, c.param(0), c.param(1), c.body)?;
        Ok(Answer::Empty)
    }),
    takes: Takes::Nothing,
    fuzz: Fuzz {
        weight: 1,
        bodies: MOSTLY_NO_BODY,
        queries: &[],
        compare: Compare::Status,
        says: "removes the data of image {image} from the default store",
    },
};
