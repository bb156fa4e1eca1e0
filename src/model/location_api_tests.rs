//! Unit tests of the locations API and of patches of `/locations` that add http URLs (no
//! HTTP): the list for admins, a location's add checked in the reference's order and ended
//! by its fetch (active with the size and digests, or the task failed), the URLs the mock
//! may probe before a patch, and patches judged on the sizes the probe found.

use serde_json::{Value, json};

use super::fetch::IMPORT_FAILED;
use super::location_api::Fetched;
use super::*;
use crate::model::test_support::{model_with, who};

const SOURCE: &str = "http://127.0.0.1:8099/disk.img";
const PATCH_TYPE: &str = "application/openstack-images-v2.1-json-patch";

/// A file store `local` (the default) and an http store `web`; the import filter admits
/// 127.0.0.1 on port 8099; locations shown.
fn with_http_store() -> Deployment {
    Deployment {
        stores: vec![
            Store::named("local"),
            Store {
                read_only: true,
                ..Store::named("web")
            },
        ],
        default_store: Some("local".into()),
        import_filter: ImportFilter {
            allowed_hosts: vec!["127.0.0.1".into()],
            allowed_ports: vec![80, 443, 8099],
            ..ImportFilter::default()
        },
        show_multiple_locations: true,
        ..Deployment::default()
    }
}

fn queued(m: &mut Model, token: &str) -> String {
    let caller = who(m, token);
    let body = br#"{"name": "loc", "disk_format": "raw", "container_format": "bare"}"#;
    m.create_image(&caller, body).expect("create").id
}

fn add(m: &mut Model, token: &str, id: &str, body: Value) -> Result<Option<Fetch>> {
    let caller = who(m, token);
    m.add_location(&caller, id, body.to_string().as_bytes(), "req-loc")
}

fn status_of(r: Result<Option<Fetch>>) -> u16 {
    r.map(|_| 202).unwrap_or_else(|e| e.kind.status())
}

fn shown(m: &Model, token: &str, id: &str) -> Value {
    m.image_json(&who(m, token), m.state.image(id).expect("image"))
}

fn patch(m: &mut Model, token: &str, id: &str, doc: Value, heads: &Heads) -> (u16, String) {
    let caller = who(m, token);
    match m.update_image(
        &caller,
        id,
        Some(PATCH_TYPE),
        doc.to_string().as_bytes(),
        heads,
    ) {
        Ok(_) => (200, String::new()),
        Err(e) => (e.kind.status(), e.message),
    }
}

fn fetched(size: u64, hash: &str) -> Fetched {
    Fetched {
        size,
        checksum: "5eb63bbbe01eeed093cb22bb8f5acdc3".into(),
        hash: hash.into(),
    }
}

#[test]
fn the_list_is_for_admins_of_an_image_they_see() {
    let mut m = model_with(with_http_store());
    let id = queued(&mut m, "owner-token");
    let admin = who(&m, "admin-token");
    assert_eq!(m.image_locations(&admin, &id).unwrap(), json!([]));
    let owner = who(&m, "owner-token");
    assert_eq!(
        m.image_locations(&owner, &id).unwrap_err().kind.status(),
        403
    );
    let stranger = who(&m, "stranger-token");
    assert_eq!(
        m.image_locations(&stranger, &id).unwrap_err().kind.status(),
        404,
        "a private image is not seen before the policy"
    );
    assert_eq!(
        m.image_locations(&admin, "no-such-image")
            .unwrap_err()
            .kind
            .status(),
        404
    );
}

#[test]
fn an_add_is_checked_in_the_references_order() {
    let mut m = model_with(with_http_store());
    let id = queued(&mut m, "owner-token");
    // The body before the image.
    assert_eq!(
        status_of(add(&mut m, "owner-token", "nope", json!({}))),
        400
    );
    assert_eq!(
        status_of(add(&mut m, "owner-token", "nope", json!({"url": SOURCE}))),
        404
    );
    assert_eq!(
        status_of(add(&mut m, "stranger-token", &id, json!({"url": SOURCE}))),
        404
    );
    for bad in [
        json!({"url": 5}),
        json!({"url": SOURCE, "validation_data": []}),
        json!({"url": SOURCE, "validation_data": {"os_hash_algo": "sha512"}}),
        json!({"url": SOURCE, "validation_data": {"os_hash_value": "ab"}}),
        json!({"url": SOURCE, "validation_data": {"os_hash_algo": "crc32", "os_hash_value": "ab"}}),
        json!({"url": SOURCE, "validation_data": {"checksum": "ab"}}),
    ] {
        assert_eq!(
            status_of(add(&mut m, "owner-token", &id, bad.clone())),
            400,
            "{bad}"
        );
    }
    // A reader of the owning project is refused by the policy; a file URL has no http
    // store, even for an admin.
    assert_eq!(
        status_of(add(&mut m, "reader-token", &id, json!({"url": SOURCE}))),
        403
    );
    assert_eq!(
        status_of(add(
            &mut m,
            "admin-token",
            &id,
            json!({"url": "file:///etc/passwd"})
        )),
        403
    );
    // The hash's form, then the filter.
    let short = json!({"url": SOURCE, "validation_data": {"os_hash_algo": "sha256", "os_hash_value": "abcd"}});
    assert_eq!(status_of(add(&mut m, "owner-token", &id, short)), 400);
    let not_hex =
        json!({"url": SOURCE, "validation_data": {"os_hash_algo": "sha1", "os_hash_value": "zz"}});
    assert_eq!(status_of(add(&mut m, "owner-token", &id, not_hex)), 400);
    for filtered in [
        "http://127.0.0.1:8100/disk.img",
        "http://10.0.0.1/disk.img",
        "http://does-not.exist/disk.img",
    ] {
        let e = add(&mut m, "owner-token", &id, json!({"url": filtered})).unwrap_err();
        assert_eq!(
            (e.kind.status(), e.message),
            (
                400,
                format!("URI for add location does not pass filtering: {filtered}")
            )
        );
    }
    // No task started for any refusal.
    let owner = who(&m, "owner-token");
    assert!(m.image_tasks(&owner, &id).unwrap().is_empty());
    // Without an http store, an owner may add no http URL either.
    let mut plain = with_http_store();
    plain.stores.retain(|s| !s.read_only);
    let mut m = model_with(plain);
    let id = queued(&mut m, "owner-token");
    let e = add(&mut m, "owner-token", &id, json!({"url": SOURCE})).unwrap_err();
    assert_eq!(e.kind.status(), 403);
    assert!(m.image_tasks(&owner, &id).unwrap().is_empty());
}

#[test]
fn an_accepted_add_locks_the_image_and_hands_the_mock_a_location_job() {
    let mut m = model_with(with_http_store());
    let id = queued(&mut m, "owner-token");
    let hash = "AB".repeat(32);
    let job = add(
        &mut m,
        "owner-token",
        &id,
        json!({"url": SOURCE, "validation_data": {"os_hash_algo": "sha256", "os_hash_value": hash}}),
    )
    .expect("accepted")
    .expect("a job to fetch");
    assert_eq!(
        (job.url.as_str(), job.host.as_str(), job.port),
        (SOURCE, "127.0.0.1", 8099)
    );
    let loc = job.location.clone().expect("a location's job");
    assert_eq!(loc.hash_algo, "sha256");
    assert_eq!(loc.expected.as_deref(), Some("ab".repeat(32).as_str()));
    let task = m.state.task(&job.task_id).unwrap();
    assert_eq!(
        (
            task.kind.as_str(),
            task.status,
            task.input["loc_url"].as_str()
        ),
        ("location_import", "processing", Some(SOURCE))
    );
    let owner = who(&m, "owner-token");
    assert_eq!(m.image_tasks(&owner, &id).unwrap().len(), 1);
    // The lock: a second add waits for the first.
    let e = add(&mut m, "owner-token", &id, json!({"url": SOURCE})).unwrap_err();
    assert_eq!(e.kind.status(), 409);
    assert_eq!(shown(&m, "owner-token", &id)["status"], "queued");
    // Without validation_data the digest is SHA-512.
    let other = queued(&mut m, "owner-token");
    let job = add(&mut m, "admin-token", &other, json!({"url": SOURCE}))
        .unwrap()
        .unwrap();
    assert_eq!(job.location.unwrap().hash_algo, "sha512");
}

#[test]
fn a_fetched_location_makes_the_image_active_with_its_size_and_digests() {
    let mut m = model_with(with_http_store());
    let id = queued(&mut m, "owner-token");
    let hash = "cd".repeat(32);
    let job = add(
        &mut m,
        "owner-token",
        &id,
        json!({"url": SOURCE, "validation_data": {"os_hash_algo": "sha256", "os_hash_value": hash}}),
    )
    .unwrap()
    .unwrap();
    m.finish_location(&job, Ok(fetched(1234, &hash)));
    let img = shown(&m, "owner-token", &id);
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["size"], 1234);
    assert_eq!(img["checksum"], "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert_eq!(img["os_hash_algo"], "sha256");
    assert_eq!(img["os_hash_value"], hash);
    assert_eq!(img["stores"], "web");
    assert_eq!(
        img["locations"],
        json!([{"url": SOURCE, "metadata": {"store": "web"}}])
    );
    assert!(img.get("os_glance_import_task").is_none(), "{img}");
    let admin = who(&m, "admin-token");
    assert_eq!(
        m.image_locations(&admin, &id).unwrap(),
        json!([{"url": SOURCE, "metadata": {"store": "web"}}])
    );
    let task = m.state.task(&job.task_id).unwrap();
    assert_eq!(task.status, "success");
    assert_eq!(task.result, json!({"image_id": id}));
    // Ending it twice changes nothing; an active image takes no more locations.
    m.finish_location(&job, Err("late".into()));
    assert_eq!(m.state.task(&job.task_id).unwrap().status, "success");
    assert_eq!(
        status_of(add(&mut m, "owner-token", &id, json!({"url": SOURCE}))),
        409
    );
}

#[test]
fn a_mismatched_hash_or_an_unreadable_url_fails_the_task_and_the_image_stays_queued() {
    let mut m = model_with(with_http_store());
    // The hash does not match: the location stays (the http store cannot drop it), the
    // image gets no size.
    let id = queued(&mut m, "owner-token");
    let job = add(
        &mut m,
        "owner-token",
        &id,
        json!({"url": SOURCE, "validation_data": {"os_hash_algo": "sha256", "os_hash_value": "cd".repeat(32)}}),
    )
    .unwrap()
    .unwrap();
    m.finish_location(&job, Ok(fetched(1234, &"ef".repeat(32))));
    let img = shown(&m, "owner-token", &id);
    assert_eq!(
        (img["status"].clone(), img["size"].clone()),
        (json!("queued"), Value::Null)
    );
    assert_eq!(img["locations"].as_array().map(Vec::len), Some(1));
    let task = m.state.task(&job.task_id).unwrap();
    assert_eq!(
        (task.status, task.message.as_str()),
        ("failure", IMPORT_FAILED)
    );
    // Nothing read, or nothing there: no location, no size; the lock goes.
    for got in [Err("refused".to_string()), Ok(fetched(0, "00"))] {
        let id = queued(&mut m, "owner-token");
        let job = add(&mut m, "owner-token", &id, json!({"url": SOURCE}))
            .unwrap()
            .unwrap();
        m.finish_location(&job, got);
        let img = shown(&m, "owner-token", &id);
        assert_eq!(img["status"], "queued");
        assert_eq!(img["locations"], json!([]));
        assert!(img.get("os_glance_import_task").is_none());
        assert_eq!(m.state.task(&job.task_id).unwrap().status, "failure");
        // and the image takes another add
        assert!(add(&mut m, "owner-token", &id, json!({"url": SOURCE})).is_ok());
    }
    // An image deleted while its location is read: the task fails.
    let owner = who(&m, "owner-token");
    let id = queued(&mut m, "owner-token");
    let job = add(&mut m, "owner-token", &id, json!({"url": SOURCE}))
        .unwrap()
        .unwrap();
    m.delete_image(&owner, &id, b"").expect("deleted");
    m.finish_location(&job, Ok(fetched(10, &"00".repeat(64))));
    assert_eq!(m.state.task(&job.task_id).unwrap().status, "failure");
}

#[test]
fn a_restart_fails_the_location_tasks_it_interrupted_and_links_survive_a_snapshot() {
    let mut m = model_with(with_http_store());
    let done = queued(&mut m, "owner-token");
    let job = add(&mut m, "owner-token", &done, json!({"url": SOURCE}))
        .unwrap()
        .unwrap();
    m.finish_location(&job, Ok(fetched(77, &"aa".repeat(64))));
    let running = queued(&mut m, "owner-token");
    let job = add(&mut m, "owner-token", &running, json!({"url": SOURCE}))
        .unwrap()
        .unwrap();
    let snap = m.snapshot();
    let mut again = model_with(with_http_store());
    again.restore(&snap).expect("restore");
    assert_eq!(
        shown(&again, "owner-token", &done),
        shown(&m, "owner-token", &done)
    );
    assert_eq!(again.fail_interrupted_imports(), 1);
    assert_eq!(again.state.task(&job.task_id).unwrap().status, "failure");
    let img = shown(&again, "owner-token", &running);
    assert_eq!(img["status"], "queued");
    assert!(img.get("os_glance_import_task").is_none());
    let img = shown(&again, "owner-token", &done);
    assert_eq!(
        (img["status"].clone(), img["size"].clone()),
        (json!("active"), json!(77))
    );
}

#[test]
fn only_urls_the_filter_admits_are_probed_before_a_patch() {
    let m = model_with(with_http_store());
    let doc = json!([
        {"op": "add", "path": "/locations/-", "value": {"url": SOURCE, "metadata": {}}},
        {"op": "add", "path": "/locations/-", "value": {"url": "http://10.0.0.1/x", "metadata": {}}},
        {"op": "add", "path": "/locations/-", "value": {"url": "http://127.0.0.1:22/x", "metadata": {}}},
        {"op": "add", "path": "/locations/-", "value": {"url": "file:///etc/passwd", "metadata": {}}},
        {"op": "replace", "path": "/locations", "value": [{"url": "http://127.0.0.1:8099/b", "metadata": {}}]},
        {"op": "replace", "path": "/name", "value": "http://127.0.0.1:8099/c"},
    ]);
    let targets = m.head_targets(Some(PATCH_TYPE), doc.to_string().as_bytes());
    let urls: Vec<&str> = targets.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(urls, [SOURCE, "http://127.0.0.1:8099/b"]);
    assert!(
        targets
            .iter()
            .all(|t| t.port == 8099 && t.addresses == [std::net::IpAddr::from([127, 0, 0, 1])])
    );
    // Not a patch, hidden locations, or no http store: nothing is probed.
    assert!(m.head_targets(Some("application/json"), b"{}").is_empty());
    assert!(m.head_targets(Some(PATCH_TYPE), b"not json").is_empty());
    let mut hidden = with_http_store();
    hidden.show_multiple_locations = false;
    assert!(
        model_with(hidden)
            .head_targets(Some(PATCH_TYPE), doc.to_string().as_bytes())
            .is_empty()
    );
    let mut plain = with_http_store();
    plain.stores.retain(|s| !s.read_only);
    assert!(
        model_with(plain)
            .head_targets(Some(PATCH_TYPE), doc.to_string().as_bytes())
            .is_empty()
    );
}

#[test]
fn a_patch_adds_an_http_location_the_probe_found_and_the_image_turns_active() {
    let mut m = model_with(with_http_store());
    let id = queued(&mut m, "owner-token");
    let add_doc = |url: &str| json!([{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {"k": "v"}}}]);
    let found: Heads = [(SOURCE.to_string(), 4096)].into_iter().collect();
    // Not probed (or nothing there): invalid.
    assert_eq!(
        patch(&mut m, "owner-token", &id, add_doc(SOURCE), &Heads::new()),
        (400, "Invalid location".into())
    );
    // A size for a URL the filter refuses does not count.
    let refused: Heads = [("http://10.0.0.1/x".to_string(), 5)].into_iter().collect();
    assert_eq!(
        patch(
            &mut m,
            "owner-token",
            &id,
            add_doc("http://10.0.0.1/x"),
            &refused
        )
        .0,
        400
    );
    assert_eq!(shown(&m, "owner-token", &id)["status"], "queued");
    assert_eq!(
        patch(&mut m, "owner-token", &id, add_doc(SOURCE), &found).0,
        200
    );
    let img = shown(&m, "owner-token", &id);
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["size"], 4096);
    assert_eq!(img["checksum"], Value::Null);
    assert_eq!(img["stores"], "web");
    assert_eq!(
        img["locations"],
        json!([{"url": SOURCE, "metadata": {"k": "v", "store": "web"}}])
    );
    // The same location again is refused; a second one is taken.
    let again = patch(&mut m, "owner-token", &id, add_doc(SOURCE), &found);
    assert_eq!(again.0, 400, "{again:?}");
    let second = "http://127.0.0.1:8099/second.img";
    let both: Heads = [(second.to_string(), 4096)].into_iter().collect();
    assert_eq!(
        patch(&mut m, "owner-token", &id, add_doc(second), &both).0,
        200
    );
    assert_eq!(
        shown(&m, "owner-token", &id)["locations"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // An admin removes one; the last stays.
    let remove = json!([{"op": "remove", "path": "/locations/0"}]);
    assert_eq!(
        patch(&mut m, "admin-token", &id, remove.clone(), &Heads::new()).0,
        200
    );
    let img = shown(&m, "owner-token", &id);
    assert_eq!(img["locations"][0]["url"], second);
    assert_eq!(
        patch(&mut m, "admin-token", &id, remove, &Heads::new()).0,
        403
    );
}

#[test]
fn a_replace_sets_locations_with_their_validation_data_on_a_queued_image() {
    let mut m = model_with(with_http_store());
    let id = queued(&mut m, "owner-token");
    let found: Heads = [(SOURCE.to_string(), 999)].into_iter().collect();
    let md5 = "5eb63bbbe01eeed093cb22bb8f5acdc3";
    let sha = "ab".repeat(64);
    let with = |vd: Value| json!([{"op": "replace", "path": "/locations", "value": [{"url": SOURCE, "metadata": {}, "validation_data": vd}]}]);
    // validation_data must be whole and well formed (409).
    for bad in [
        json!({"checksum": "abc"}),
        json!({"os_hash_algo": "sha256", "os_hash_value": sha}),
        json!({"os_hash_algo": "sha512", "os_hash_value": "abcd"}),
    ] {
        assert_eq!(
            patch(&mut m, "owner-token", &id, with(bad.clone()), &found).0,
            409,
            "{bad}"
        );
    }
    let good = json!({"checksum": md5, "os_hash_algo": "sha512", "os_hash_value": sha});
    assert_eq!(patch(&mut m, "owner-token", &id, with(good), &found).0, 200);
    let img = shown(&m, "owner-token", &id);
    assert_eq!(
        (
            img["status"].clone(),
            img["size"].clone(),
            img["checksum"].clone(),
            img["os_hash_value"].clone()
        ),
        (json!("active"), json!(999), json!(md5), json!(sha))
    );
    // Values that differ from the image's are a conflict now.
    let other = json!({"checksum": "0".repeat(32)});
    assert_eq!(
        patch(&mut m, "owner-token", &id, with(other), &found).0,
        409
    );
}

#[test]
fn an_image_sized_by_its_link_sorts_and_filters_by_that_size() {
    let mut m = model_with(with_http_store());
    let linked = queued(&mut m, "owner-token");
    let doc =
        json!([{"op": "add", "path": "/locations/-", "value": {"url": SOURCE, "metadata": {}}}]);
    let found: Heads = [(SOURCE.to_string(), 4096)].into_iter().collect();
    assert_eq!(patch(&mut m, "owner-token", &linked, doc, &found).0, 200);
    let owner = who(&m, "owner-token");
    let small = m
        .create_image(
            &owner,
            br#"{"disk_format": "raw", "container_format": "bare"}"#,
        )
        .unwrap()
        .id;
    let up = m.begin_upload(&owner, &small, None).unwrap();
    let mut d = super::data::Digester::default();
    d.update(b"tiny");
    m.finish_upload(&up, d.finish()).unwrap();
    let ids = |q: &[(&str, &str)]| -> Vec<String> {
        let query: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let page = m.list_images(&owner, &query).unwrap();
        page.images.iter().map(|i| i.id.clone()).collect()
    };
    assert_eq!(
        ids(&[("sort", "size:desc")])[..2],
        [linked.clone(), small.clone()]
    );
    assert_eq!(ids(&[("size_min", "1000")]), vec![linked.clone()]);
    assert_eq!(ids(&[("size", "4096")]), [linked]);
}
