//! Unit tests of the deployment: what the model answers for stores, import methods, copies
//! among stores and version discovery, per configuration (no HTTP).

use serde_json::{Value, json};

use super::data::Digester;
use super::*;
use crate::model::test_support::{model_with, who};

/// Two stores, `local` (the default) and `backup`, and a read-only `web`; glance-direct and
/// copy-image only.
fn two_stores() -> Deployment {
    let mut local = Store::named("local");
    local.description = Some("Fast local disk".into());
    local.weight = 100;
    let mut web = Store::named("web");
    web.read_only = true;
    Deployment {
        stores: vec![local, Store::named("backup"), web],
        default_store: Some("local".into()),
        import_methods: vec!["glance-direct".into(), "copy-image".into()],
        ..Deployment::default()
    }
}

/// A raw image with data uploaded (`staged`: only staged) by the owner; its id.
fn image_with_data(m: &mut Model, staged: bool) -> String {
    let owner = who(m, "owner-token");
    let body = br#"{"name": "t", "disk_format": "raw", "container_format": "bare", "visibility": "private"}"#;
    let id = m.create_image(&owner, body).expect("create").id;
    let up = if staged {
        m.begin_stage(&owner, &id, None)
    } else {
        m.begin_upload(&owner, &id, None)
    }
    .expect("begin");
    let mut d = Digester::default();
    d.update(b"hello world");
    m.finish_upload(&up, d.finish()).expect("finish");
    id
}

fn import(m: &mut Model, token: &str, id: &str, body: Value) -> Outcome<()> {
    let caller = who(m, token);
    m.import_image(&caller, id, body.to_string().as_bytes(), None, "req-test")
        .map(|_| ())
}

fn shown(m: &Model, id: &str) -> Value {
    m.state.image(id).expect("image").to_json()
}

fn status_of(r: Outcome<()>) -> u16 {
    r.err().map_or(202, |e| e.kind.status())
}

#[test]
fn the_default_deployment_is_the_one_store_fs_and_three_methods() {
    let m = model_with(Deployment::default());
    assert_eq!(
        m.stores_info().unwrap(),
        json!({"stores": [{"id": "fs", "default": "true"}]})
    );
    assert_eq!(
        m.import_info()["import-methods"]["value"],
        json!(["glance-direct", "web-download", "copy-image"])
    );
    assert!(Deployment::default().problems().is_empty());
    assert!(Deployment::default().unmodelled().is_empty());
}

#[test]
fn stores_info_lists_the_configured_stores_in_order() {
    let m = model_with(two_stores());
    assert_eq!(
        m.stores_info().unwrap(),
        json!({"stores": [
            {"id": "local", "description": "Fast local disk", "default": "true"},
            {"id": "backup"},
            {"id": "web", "read-only": "true"},
        ]})
    );
    assert_eq!(
        m.import_info()["import-methods"]["value"],
        json!(["glance-direct", "copy-image"])
    );
    let none = model_with(Deployment {
        stores: Vec::new(),
        default_store: None,
        ..Deployment::default()
    });
    let e = none.stores_info().unwrap_err();
    assert_eq!(
        (e.kind.status(), e.message.as_str()),
        (404, "Multi backend is not supported at this site.")
    );
}

#[test]
fn uploads_and_imports_land_in_the_default_store() {
    let mut m = model_with(two_stores());
    let up = image_with_data(&mut m, false);
    assert_eq!(shown(&m, &up)["stores"], "local");
    let staged = image_with_data(&mut m, true);
    assert!(
        shown(&m, &staged).get("stores").is_none(),
        "staged data is in no store"
    );
    assert_eq!(
        status_of(import(
            &mut m,
            "owner-token",
            &staged,
            json!({"method": {"name": "glance-direct"}})
        )),
        202
    );
    assert_eq!(shown(&m, &staged)["stores"], "local");
    assert_eq!(shown(&m, &staged)["status"], "active");
}

#[test]
fn a_method_not_enabled_is_refused_as_unknown() {
    let mut m = model_with(two_stores());
    let id = image_with_data(&mut m, false);
    let r = import(
        &mut m,
        "admin-token",
        &id,
        json!({"method": {"name": "web-download", "uri": "http://example.org/x"}}),
    );
    let e = r.unwrap_err();
    assert_eq!(e.kind.status(), 400);
    assert_eq!(e.message, "Unknown import method name 'web-download'.");
}

#[test]
fn copy_image_reaches_a_store_the_image_is_not_in_at_once() {
    let mut m = model_with(two_stores());
    let id = image_with_data(&mut m, false);
    let copy = |to: &str| json!({"method": {"name": "copy-image"}, "stores": [to]});
    assert_eq!(
        status_of(import(&mut m, "owner-token", &id, copy("backup"))),
        403
    );
    assert_eq!(
        status_of(import(&mut m, "admin-token", &id, copy("local"))),
        400
    );
    assert_eq!(
        status_of(import(&mut m, "admin-token", &id, copy("backup"))),
        202
    );
    assert_eq!(shown(&m, &id)["stores"], "local,backup");
    assert_eq!(shown(&m, &id)["os_glance_failed_import"], "");
    let admin = who(&m, "admin-token");
    let tasks = m.image_tasks(&admin, &id).unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].status, "success");
    assert_eq!(tasks[0].message, "Copied 0 MiB", "as Glance 33 words it");
    assert_eq!(tasks[0].input["backend"], json!(["backup"]));
    // Now in both: copying there again is refused, and so is the default (no `stores`).
    assert_eq!(
        status_of(import(&mut m, "admin-token", &id, copy("backup"))),
        400
    );
    let plain = json!({"method": {"name": "copy-image"}});
    let e = import(&mut m, "admin-token", &id, plain).unwrap_err();
    assert_eq!(e.message, "Image is already present at store 'local'");
}

#[test]
fn copy_to_all_stores_skips_those_it_is_in_and_the_read_only_ones() {
    let mut m = model_with(two_stores());
    let id = image_with_data(&mut m, false);
    let all = json!({"method": {"name": "copy-image"}, "all_stores": true});
    assert_eq!(
        status_of(import(&mut m, "admin-token", &id, all.clone())),
        202
    );
    assert_eq!(shown(&m, &id)["stores"], "local,backup");
    let admin = who(&m, "admin-token");
    assert_eq!(
        m.image_tasks(&admin, &id).unwrap()[0].input["backend"],
        json!(["backup"])
    );
    // In every writable store already: accepted, and nothing is done (no task).
    assert_eq!(status_of(import(&mut m, "admin-token", &id, all)), 202);
    assert_eq!(m.image_tasks(&admin, &id).unwrap().len(), 1);
    let both = json!({"method": {"name": "copy-image"}, "all_stores": true, "stores": ["backup"]});
    assert_eq!(status_of(import(&mut m, "admin-token", &id, both)), 400);
}

#[test]
fn a_read_only_store_takes_no_data_and_the_task_says_so() {
    let mut m = model_with(two_stores());
    let id = image_with_data(&mut m, false);
    let to = |stores: Value, all_must: bool| json!({"method": {"name": "copy-image"}, "stores": stores, "all_stores_must_succeed": all_must});
    assert_eq!(
        status_of(import(
            &mut m,
            "admin-token",
            &id,
            to(json!(["backup", "web"]), true)
        )),
        202
    );
    assert_eq!(
        shown(&m, &id)["stores"],
        "local",
        "every store had to succeed"
    );
    assert_eq!(shown(&m, &id)["os_glance_failed_import"], "web");
    let admin = who(&m, "admin-token");
    assert_eq!(m.image_tasks(&admin, &id).unwrap()[0].status, "failure");
    assert_eq!(
        status_of(import(
            &mut m,
            "admin-token",
            &id,
            to(json!(["web", "backup"]), false)
        )),
        202
    );
    assert_eq!(shown(&m, &id)["stores"], "local,backup");
    assert_eq!(m.image_tasks(&admin, &id).unwrap()[1].status, "success");
}

#[test]
fn an_unknown_store_is_a_conflict_and_the_staged_data_waits() {
    let mut m = model_with(two_stores());
    let id = image_with_data(&mut m, true);
    let body = json!({"method": {"name": "glance-direct"}, "stores": ["nope"]});
    let e = import(&mut m, "owner-token", &id, body).unwrap_err();
    assert_eq!(
        (e.kind.status(), e.message.as_str()),
        (409, "Store for identifier nope not found")
    );
    assert_eq!(shown(&m, &id)["status"], "uploading");
    let active = image_with_data(&mut m, false);
    let copy = json!({"method": {"name": "copy-image"}, "stores": ["nope"]});
    assert_eq!(status_of(import(&mut m, "admin-token", &active, copy)), 409);
}

#[test]
fn copy_checks_status_and_formats_before_who_asks() {
    // The reference answers a non-admin's copy of a queued image with the status (409).
    let mut m = model_with(two_stores());
    let owner = who(&m, "owner-token");
    let id = m
        .create_image(
            &owner,
            br#"{"name": "q", "disk_format": "raw", "container_format": "bare"}"#,
        )
        .unwrap()
        .id;
    let copy = json!({"method": {"name": "copy-image"}, "stores": ["backup"]});
    assert_eq!(status_of(import(&mut m, "owner-token", &id, copy)), 409);
}

#[test]
fn versions_follow_the_cache_and_the_stores_as_glance_33_lists_them() {
    let ids = |cache, stores| -> Vec<String> {
        glance_versions(cache, stores)
            .iter()
            .map(|v| match v.status {
                "CURRENT" => format!("{}*", v.id),
                _ => v.id.to_string(),
            })
            .collect()
    };
    let tail = [
        "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0",
    ];
    let with = |head: &[&str]| -> Vec<String> {
        head.iter()
            .chain(tail.iter())
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(
        ids(true, true),
        with(&[
            "v2.18*", "v2.17", "v2.16", "v2.15", "v2.14", "v2.13", "v2.12", "v2.11", "v2.10",
            "v2.9", "v2.8"
        ])
    );
    assert_eq!(
        ids(true, false),
        with(&["v2.18*", "v2.17", "v2.16", "v2.15", "v2.14", "v2.9"])
    );
    assert_eq!(
        ids(false, true),
        with(&[
            "v2.15", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8", "v2.17*"
        ])
    );
    assert_eq!(ids(false, false), with(&["v2.15", "v2.9", "v2.17*"]));
    // The mock lists what Glance lists for its configuration: with its default cache, the
    // cache's versions; without a cache, the others.
    assert_eq!(
        Deployment::default().versions(),
        glance_versions(true, true)
    );
    assert_eq!(Deployment::default().versions().len(), 19);
    let uncached = Deployment {
        image_cache: false,
        ..Deployment::default()
    };
    assert_eq!(uncached.versions(), glance_versions(false, true));
    assert_eq!(uncached.versions().len(), 16);
}

#[test]
fn the_import_filter_follows_its_lists() {
    let filter = ImportFilter::default();
    let passes = |f: &ImportFilter, uri: &str| super::tasks::uri_passes(f, uri);
    assert!(passes(&filter, "http://example.org/x"));
    assert!(passes(&filter, "https://example.org:443/x"));
    assert!(!passes(&filter, "ftp://example.org/x"));
    assert!(!passes(&filter, "http://example.org:8080/x"));
    assert!(!passes(&filter, "http://127.1/x"));
    let custom = ImportFilter {
        allowed_ports: vec![8080],
        disallowed_hosts: vec!["bad.example.org".into()],
        ..ImportFilter::default()
    };
    assert!(passes(&custom, "http://example.org:8080/x"));
    assert!(
        !passes(&custom, "http://example.org:80/x"),
        "a written port counts"
    );
    assert!(!passes(&custom, "http://BAD.example.org:8080/x"));
}

#[test]
fn problems_of_a_deployment_are_named() {
    let mut d = two_stores();
    d.default_store = Some("web".into());
    assert!(
        d.problems().is_empty(),
        "a read-only default store is Glance's choice to allow"
    );
    d.default_store = Some("elsewhere".into());
    assert!(d.problems()[0].contains("not one of the declared stores"));
    d.default_store = Some("local".into());
    d.import_methods.push("carrier-pigeon".into());
    assert!(d.problems()[0].contains("carrier-pigeon"));
}

#[test]
fn records_without_stores_load_as_kept_in_fs() {
    let mut m = model_with(Deployment::default());
    let id = image_with_data(&mut m, false);
    let snap = m.snapshot();
    let text = serde_json::to_string(&snap).unwrap();
    assert!(
        !text.contains("\"stores\""),
        "the default store is not written"
    );
    let mut other = model_with(two_stores());
    other.restore(&snap).unwrap();
    assert_eq!(shown(&other, &id)["stores"], "fs");
}

#[test]
fn an_upload_may_name_its_store_in_a_header() {
    let mut m = model_with(two_stores());
    let owner = who(&m, "owner-token");
    let body = br#"{"name": "h", "disk_format": "raw", "container_format": "bare"}"#;
    let bytes = || {
        let mut d = Digester::default();
        d.update(b"hello world");
        d.finish()
    };
    assert_eq!(m.upload_store(None).unwrap().as_deref(), Some("local"));
    let e = m.upload_store(Some("nope")).unwrap_err();
    assert_eq!(
        (e.kind.status(), e.message.as_str()),
        (400, "Store for identifier nope not found")
    );
    let id = m.create_image(&owner, body).unwrap().id;
    let mut up = m.begin_upload(&owner, &id, None).unwrap();
    up.store = m.upload_store(Some("backup")).unwrap();
    m.finish_upload(&up, bytes()).unwrap();
    assert_eq!(shown(&m, &id)["stores"], "backup");
    // A read-only store refuses the bytes (410) and the image waits, queued.
    let ro = m.create_image(&owner, body).unwrap().id;
    let mut up = m.begin_upload(&owner, &ro, None).unwrap();
    up.store = m.upload_store(Some("web")).unwrap();
    assert_eq!(
        m.finish_upload(&up, bytes()).unwrap_err().kind.status(),
        410
    );
    assert_eq!(shown(&m, &ro)["status"], "queued");
    // Without stores the header is not looked at.
    let single = model_with(Deployment {
        stores: Vec::new(),
        default_store: None,
        ..Deployment::default()
    });
    assert_eq!(single.upload_store(Some("nope")).unwrap(), None);
}

#[test]
fn an_import_may_name_its_store_in_the_header_but_not_twice() {
    let mut m = model_with(two_stores());
    let owner = who(&m, "owner-token");
    let direct = json!({"method": {"name": "glance-direct"}}).to_string();
    let id = image_with_data(&mut m, true);
    let with = |m: &mut Model, body: &str, header: Option<&str>| {
        m.import_image(&owner, &id, body.as_bytes(), header, "req")
            .err()
            .map_or(202, |e| e.kind.status())
    };
    let both = json!({"method": {"name": "glance-direct"}, "stores": ["local"]}).to_string();
    assert_eq!(with(&mut m, &both, Some("backup")), 400);
    let all = json!({"method": {"name": "glance-direct"}, "all_stores": true}).to_string();
    assert_eq!(with(&mut m, &all, Some("backup")), 400);
    assert_eq!(with(&mut m, &direct, Some("nope")), 409);
    assert_eq!(with(&mut m, &direct, Some("backup")), 202);
    assert_eq!(shown(&m, &id)["stores"], "backup");
}

#[test]
fn the_size_cap_and_the_storage_quota_refuse_uploads_past_them() {
    let mut m = model_with(Deployment {
        image_size_cap: 15,
        user_storage_quota: 25,
        ..Deployment::default()
    });
    let owner = who(&m, "owner-token");
    let body = br#"{"name": "s", "disk_format": "raw", "container_format": "bare"}"#;
    let put = |m: &mut Model, n: usize, staged: bool| {
        let id = m.create_image(&owner, body).unwrap().id;
        let up = match staged {
            true => m.begin_stage(&owner, &id, None),
            false => m.begin_upload(&owner, &id, None),
        }
        .unwrap();
        let mut d = Digester::default();
        d.update(&vec![b'x'; n]);
        let r = m.finish_upload(&up, d.finish());
        (id, r.err().map(|e| (e.kind.status(), e.message)))
    };
    let (big, e) = put(&mut m, 16, false);
    assert_eq!(
        e,
        Some((
            413,
            "The incoming image is too large: The provided image is too large.".into()
        ))
    );
    assert_eq!(shown(&m, &big)["status"], "queued");
    assert_eq!(
        put(&mut m, 16, true).1.map(|e| e.0),
        Some(413),
        "staged data too"
    );
    assert_eq!(put(&mut m, 15, false).1, None);
    // 15 of 25 bytes used: staging does not count against the quota, an upload does.
    assert_eq!(put(&mut m, 11, true).1, None);
    let (_, e) = put(&mut m, 11, false);
    assert_eq!(
        e,
        Some((413, "Image exceeds the storage quota: The size of the data 11 will exceed the limit. 10 bytes remaining.".into()))
    );
    assert_eq!(put(&mut m, 10, false).1, None);
}

#[test]
fn staged_data_restored_is_in_no_store_until_imported() {
    let mut m = model_with(two_stores());
    let id = image_with_data(&mut m, true);
    let mut snap = serde_json::to_value(m.snapshot()).unwrap();
    // As a record written before stores were kept: no `stores` in its data.
    let data = snap["images"][0]["data"].as_object_mut().unwrap();
    assert_eq!(data.remove("stores"), Some(json!([])));
    let mut back = model_with(two_stores());
    back.restore(&serde_json::from_value(snap).unwrap())
        .unwrap();
    let direct = json!({"method": {"name": "glance-direct"}});
    assert_eq!(
        status_of(import(&mut back, "owner-token", &id, direct)),
        202
    );
    assert_eq!(shown(&back, &id)["stores"], "local");
}

#[test]
fn glance_direct_waits_for_the_staged_bytes() {
    let mut m = model_with(two_stores());
    let owner = who(&m, "owner-token");
    let body = br#"{"name": "w", "disk_format": "raw", "container_format": "bare"}"#;
    let id = m.create_image(&owner, body).unwrap().id;
    let _staging = m.begin_stage(&owner, &id, None).unwrap();
    let direct = json!({"method": {"name": "glance-direct"}});
    assert_eq!(status_of(import(&mut m, "owner-token", &id, direct)), 409);
    assert!(m.state.image(&id).unwrap().data.is_none());
}
