//! Unit tests of web-download and of locations: which sources the filter and their
//! addresses admit, the import started and ended (finished or failed) in the model, an
//! import a restart interrupted, and locations shown or hidden (no HTTP).

use serde_json::{Value, json};

use super::data::Digester;
use super::fetch::{IMPORT_FAILED, source_of};
use super::*;
use crate::model::test_support::{model_with, who};

/// Stores `fs` (default) and `backup`; 127.0.0.1 on port 8099 admitted; a cap of 3000.
fn local_source() -> Deployment {
    Deployment {
        stores: vec![Store::named("fs"), Store::named("backup")],
        import_filter: ImportFilter {
            allowed_hosts: vec!["127.0.0.1".into()],
            allowed_ports: vec![80, 443, 8099],
            ..ImportFilter::default()
        },
        image_size_cap: 3000,
        ..Deployment::default()
    }
}

fn queued_raw(m: &mut Model) -> String {
    let owner = who(m, "owner-token");
    let body = br#"{"name": "t", "disk_format": "raw", "container_format": "bare"}"#;
    m.create_image(&owner, body).expect("create").id
}

fn web_download(
    m: &mut Model,
    id: &str,
    uri: &str,
    stores: Option<Value>,
) -> Result<Option<Fetch>> {
    let owner = who(m, "owner-token");
    let mut body = json!({"method": {"name": "web-download", "uri": uri}});
    if let Some(s) = stores {
        body["stores"] = s;
    }
    m.import_image(&owner, id, body.to_string().as_bytes(), None, "req-wd")
}

fn digest(bytes: &[u8]) -> data::Received {
    let mut d = Digester::default();
    d.update(bytes);
    d.finish()
}

fn shown(m: &Model, id: &str) -> Value {
    m.image_json(&who(m, "owner-token"), m.state.image(id).expect("image"))
}

#[test]
fn the_filter_and_the_hosts_addresses_decide_which_sources_pass() {
    let default = ImportFilter::default();
    // Public addresses on the default ports pass; names do not resolve (the mock asks no
    // DNS), loopback and link-local never pass unless allowed_hosts names them.
    let ok = source_of(&default, "http://203.0.113.9/x").expect("public address");
    assert_eq!((ok.host.as_str(), ok.port), ("203.0.113.9", 80));
    assert_eq!(
        source_of(&default, "https://203.0.113.9/x").unwrap().port,
        443
    );
    for refused in [
        "http://does-not.exist/x",
        "http://example.com/x",
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://169.254.169.254/latest",
        "http://127.1/x",
        "http://2130706433/x",
        "http://203.0.113.9:8080/x",
        "ftp://203.0.113.9/x",
        "None",
        "",
    ] {
        assert_eq!(source_of(&default, refused), None, "{refused}");
    }
    let local = local_source().import_filter;
    let s = source_of(&local, "http://127.0.0.1:8099/x").expect("allowed loopback");
    assert_eq!(
        s.addresses,
        vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(source_of(&local, "http://127.0.0.1:8098/x"), None, "port");
    assert_eq!(
        source_of(&local, "http://203.0.113.9/x"),
        None,
        "not listed"
    );
    let by_name = ImportFilter {
        allowed_hosts: vec!["localhost".into()],
        ..ImportFilter::default()
    };
    assert_eq!(
        source_of(&by_name, "http://localhost/x")
            .unwrap()
            .addresses
            .len(),
        2
    );
    // A disallowed address is left out whatever name leads to it.
    let no_doc = ImportFilter {
        disallowed_hosts: vec!["203.0.113.9".into()],
        ..ImportFilter::default()
    };
    assert_eq!(source_of(&no_doc, "http://203.0.113.9/x"), None);
    assert!(source_of(&no_doc, "http://203.0.113.10/x").is_some());
}

#[test]
fn a_web_download_starts_importing_then_lands_in_its_stores() {
    let mut m = model_with(local_source());
    let id = queued_raw(&mut m);
    let job = web_download(
        &mut m,
        &id,
        "http://127.0.0.1:8099/x",
        Some(json!(["backup", "fs"])),
    )
    .expect("202")
    .expect("a job to fetch");
    assert_eq!((job.port, job.limit, job.timeout_secs), (8099, 3000, 60));
    let img = shown(&m, &id);
    assert_eq!(img["status"], "importing");
    assert_eq!(img["os_glance_importing_to_stores"], "backup,fs");
    assert_eq!(img["os_glance_import_task"], job.task_id.as_str());
    let tasks = m.image_tasks(&who(&m, "owner-token"), &id).unwrap();
    assert_eq!((tasks.len(), tasks[0].status), (1, "processing"));
    // A second import while the first runs is 409 (the image is no longer queued).
    let again = web_download(&mut m, &id, "http://127.0.0.1:8099/x", None).unwrap_err();
    assert_eq!(again.kind.status(), 409);
    assert!(m.finish_fetch(&job, Ok(digest(b"hello world"))));
    let img = shown(&m, &id);
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], 11);
    assert_eq!(img["checksum"], "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert_eq!(img["stores"], "backup,fs");
    assert_eq!(img["os_glance_importing_to_stores"], "");
    assert_eq!(img["os_glance_failed_import"], "");
    assert!(img.get("os_glance_import_task").is_none());
    let task = m.state.task(&job.task_id).unwrap();
    assert_eq!(
        (task.status, task.message.as_str()),
        ("success", "Copied 0 MiB")
    );
    assert_eq!(task.result, json!({"image_id": id}));
    assert_eq!(task.input["backend"], json!(["backup", "fs"]));
    // Ending it twice changes nothing.
    assert!(!m.finish_fetch(&job, Err("late".into())));
    assert_eq!(shown(&m, &id)["status"], "active");
}

#[test]
fn a_failed_fetch_too_large_or_mismatched_data_fails_the_task_and_requeues() {
    let mut m = model_with(local_source());
    let cases: [(&str, &str, std::result::Result<data::Received, String>); 3] = [
        (
            "broken source",
            "raw",
            Err("the source answered 404".into()),
        ),
        ("past the cap", "raw", Ok(digest(&[0u8; 3001]))),
        (
            "text for a qcow2 image",
            "qcow2",
            Ok(digest(b"hello world")),
        ),
    ];
    for (what, disk, got) in cases {
        let owner = who(&m, "owner-token");
        let body = json!({"name": "t", "disk_format": disk, "container_format": "bare"});
        let id = m
            .create_image(&owner, body.to_string().as_bytes())
            .unwrap()
            .id;
        let job = web_download(
            &mut m,
            &id,
            "http://127.0.0.1:8099/x",
            Some(json!(["fs", "backup"])),
        )
        .unwrap()
        .unwrap();
        assert!(!m.finish_fetch(&job, got), "{what}: the blob is dropped");
        let img = shown(&m, &id);
        assert_eq!(img["status"], "queued", "{what}");
        assert_eq!(img["size"], Value::Null, "{what}");
        assert_eq!(img["os_glance_failed_import"], "backup,fs", "{what}");
        assert_eq!(img["os_glance_importing_to_stores"], "", "{what}");
        assert!(img.get("os_glance_import_task").is_none(), "{what}");
        let task = m.state.task(&job.task_id).unwrap();
        assert_eq!(
            (task.status, task.message.as_str()),
            ("failure", IMPORT_FAILED),
            "{what}"
        );
        assert_eq!(task.result, Value::Null);
    }
}

#[test]
fn a_deleted_image_or_a_restart_ends_the_import_failed() {
    let mut m = model_with(local_source());
    let owner = who(&m, "owner-token");
    let id = queued_raw(&mut m);
    let job = web_download(&mut m, &id, "http://127.0.0.1:8099/x", None)
        .unwrap()
        .unwrap();
    m.delete_image(&owner, &id, b"")
        .expect("an importing image may be deleted");
    assert!(!m.finish_fetch(&job, Ok(digest(b"x"))));
    assert_eq!(m.state.task(&job.task_id).unwrap().status, "failure");
    // A snapshot taken while importing reads back importing; the restart fails it.
    let id = queued_raw(&mut m);
    let job = web_download(&mut m, &id, "http://127.0.0.1:8099/x", None)
        .unwrap()
        .unwrap();
    let snap = m.snapshot();
    let mut again = model_with(local_source());
    again.restore(&snap).expect("restore");
    assert_eq!(shown(&again, &id)["status"], "importing");
    assert_eq!(again.fail_interrupted_imports(), 1);
    let img = shown(&again, &id);
    assert_eq!(
        (
            img["status"].clone(),
            img["os_glance_failed_import"].clone()
        ),
        (json!("queued"), json!("fs"))
    );
    assert_eq!(again.state.task(&job.task_id).unwrap().status, "failure");
    assert_eq!(again.fail_interrupted_imports(), 0);
}

#[test]
fn the_default_deployment_refuses_web_download_at_once() {
    let mut m = Model::new(Identities::builtin(), Rules::default());
    let id = queued_raw(&mut m);
    for uri in [
        "http://does-not.exist/no/possible/way",
        "https://example.com/x.img",
        "http://127.0.0.1/x",
    ] {
        let e = web_download(&mut m, &id, uri, None).unwrap_err();
        assert_eq!(e.kind.status(), 400, "{uri}");
        assert_eq!(
            e.message,
            format!("URI for web-download does not pass filtering: {uri}")
        );
    }
    assert_eq!(shown(&m, &id)["status"], "queued");
}

#[test]
fn locations_show_only_when_the_deployment_says_and_patches_follow() {
    let mut m = model_with(local_source());
    let id = queued_raw(&mut m);
    let job = web_download(
        &mut m,
        &id,
        "http://127.0.0.1:8099/x",
        Some(json!(["backup", "fs"])),
    )
    .unwrap()
    .unwrap();
    m.finish_fetch(&job, Ok(digest(b"hello world")));
    let hidden = shown(&m, &id);
    assert!(hidden.get("locations").is_none() && hidden.get("direct_url").is_none());
    m.rules.deployment.show_image_direct_url = true;
    let direct = shown(&m, &id);
    assert_eq!(
        direct["direct_url"],
        format!("file:///var/lib/glance/backup/{id}")
    );
    assert!(direct.get("locations").is_none());
    m.rules.deployment.show_multiple_locations = true;
    let img = shown(&m, &id);
    assert_eq!(
        img["locations"],
        json!([
            {"url": format!("file:///var/lib/glance/backup/{id}"), "metadata": {"store": "backup"}},
            {"url": format!("file:///var/lib/glance/fs/{id}"), "metadata": {"store": "fs"}},
        ])
    );
    let queued = queued_raw(&mut m);
    assert_eq!(shown(&m, &queued)["locations"], json!([]));
    assert!(shown(&m, &queued).get("direct_url").is_none());
    // A deactivated image's locations are for admins only.
    let admin = who(&m, "admin-token");
    m.set_activation(&admin, &id, b"", false)
        .expect("deactivate");
    assert_eq!(shown(&m, &id)["locations"], json!([]));
    assert!(shown(&m, &id).get("direct_url").is_none());
    let for_admin = m.image_json(&admin, m.state.image(&id).unwrap());
    assert_eq!(for_admin["locations"].as_array().map(Vec::len), Some(2));
    m.set_activation(&admin, &id, b"", true)
        .expect("reactivate");
    // Patches of /locations, shown.
    let patch = |m: &mut Model, token: &str, image: &str, doc: Value| {
        let caller = who(m, token);
        m.update_image(
            &caller,
            image,
            Some("application/openstack-images-v2.1-json-patch"),
            doc.to_string().as_bytes(),
            &crate::model::Heads::new(),
        )
        .map(|_| ())
        .map_err(|e| (e.kind.status(), e.message))
    };
    let empty = json!([{"op": "replace", "path": "/locations", "value": []}]);
    assert_eq!(
        patch(&mut m, "owner-token", &id, empty.clone())
            .unwrap_err()
            .0,
        403
    );
    let add = json!([{"op": "add", "path": "/locations/-", "value": {"url": "http://example.com/x", "metadata": {}}}]);
    assert_eq!(
        patch(&mut m, "owner-token", &id, add).unwrap_err(),
        (400, "Invalid location".into())
    );
    let remove = json!([{"op": "remove", "path": "/locations/0"}]);
    assert_eq!(
        patch(&mut m, "owner-token", &id, remove.clone())
            .unwrap_err()
            .0,
        403
    );
    assert_eq!(
        patch(&mut m, "admin-token", &queued, remove.clone())
            .unwrap_err()
            .0,
        409
    );
    let far = json!([{"op": "remove", "path": "/locations/2"}]);
    assert_eq!(patch(&mut m, "admin-token", &id, far).unwrap_err().0, 400);
    // An admin takes the data out of one store; the last location stays.
    patch(&mut m, "admin-token", &id, remove.clone()).expect("removed");
    assert_eq!(shown(&m, &id)["stores"], "fs");
    assert_eq!(
        patch(&mut m, "admin-token", &id, remove).unwrap_err(),
        (403, "Cannot remove last location in the image.".into())
    );
    // Hidden again: any patch of /locations is 403.
    m.rules.deployment.show_multiple_locations = false;
    assert_eq!(patch(&mut m, "owner-token", &id, empty).unwrap_err().0, 403);
}

#[test]
fn a_legacy_import_task_from_a_loopback_host_passes_only_when_allowed_hosts_names_it() {
    let body = |from: &str| {
        format!(
            r#"{{"type": "import", "input": {{"import_from": "{from}", "import_from_format": "raw"}}}}"#
        )
    };
    let mut local = model_with(local_source());
    let admin = who(&local, "admin-token");
    assert!(
        local
            .create_task(&admin, body("http://127.0.0.1:8099/x").as_bytes(), "")
            .is_ok()
    );
    for refused in ["http://127.0.0.2:8099/x", "http://127.0.0.1:8098/x"] {
        let e = local
            .create_task(&admin, body(refused).as_bytes(), "")
            .unwrap_err();
        assert_eq!(e.kind.status(), 400, "{refused}");
    }
    let mut default = model_with(Deployment::default());
    let e = default
        .create_task(&admin, body("http://127.0.0.1/x").as_bytes(), "")
        .unwrap_err();
    assert!(
        e.message.contains("does not pass filtering"),
        "{}",
        e.message
    );
}
