//! Unit tests of the store details, the quota usage and taking data out of a store (no
//! HTTP).

use serde_json::{Value, json};

use super::data::Digester;
use super::deployment::UnifiedLimits;
use super::*;
use crate::model::test_support::{model_with, who};

/// `local` (the default, weight 100), `backup` (rbd), `archive` and a read-only `web`.
fn stores() -> Deployment {
    let mut local = Store::named("local");
    local.weight = 100;
    local.description = Some("Fast local disk".into());
    let mut backup = Store::named("backup");
    backup.kind = Some("rbd".into());
    let mut web = Store::named("web");
    web.read_only = true;
    Deployment {
        stores: vec![local, backup, Store::named("archive"), web],
        default_store: Some("local".into()),
        ..Deployment::default()
    }
}

/// A private image of the owner with 11 bytes uploaded to the default store, and, when
/// `copies` names stores, copied there by the admin.
fn image_in(m: &mut Model, copies: &[&str]) -> String {
    let owner = who(m, "owner-token");
    let body = br#"{"name": "t", "disk_format": "raw", "container_format": "bare", "visibility": "private"}"#;
    let id = m.create_image(&owner, body).expect("create").id;
    let up = m.begin_upload(&owner, &id, None).expect("begin");
    let mut d = Digester::default();
    d.update(b"hello world");
    m.finish_upload(&up, d.finish()).expect("finish");
    if !copies.is_empty() {
        let admin = who(m, "admin-token");
        let body = json!({"method": {"name": "copy-image"}, "stores": copies});
        m.import_image(&admin, &id, body.to_string().as_bytes(), None, "req")
            .expect("copy");
    }
    id
}

fn delete(m: &mut Model, token: &str, store: &str, id: &str) -> (u16, String) {
    let caller = who(m, token);
    match m.delete_from_store(&caller, store, id, b"") {
        Ok(()) => (204, String::new()),
        Err(e) => (e.kind.status(), e.message),
    }
}

fn stores_of(m: &Model, id: &str) -> Value {
    m.state.image(id).expect("image").to_json()["stores"].clone()
}

#[test]
fn store_details_are_for_admins_with_type_properties_and_weight() {
    let m = model_with(stores());
    let admin = who(&m, "admin-token");
    let d = m.stores_detail(&admin).unwrap();
    assert_eq!(
        d["stores"][0],
        json!({"id": "local", "description": "Fast local disk", "default": "true",
               "type": "file", "weight": 100,
               "properties": {"data_dir": "/var/lib/glance/local/", "chunk_size": 65536,
                              "thin_provisioning": false}})
    );
    assert_eq!(d["stores"][1]["type"], "rbd");
    assert_eq!(d["stores"][1]["properties"]["pool"], "images");
    assert_eq!(
        d["stores"][3],
        json!({"id": "web", "read-only": "true", "type": "http", "properties": {}, "weight": 0})
    );
    for token in ["owner-token", "reader-token", "stranger-token"] {
        let e = m.stores_detail(&who(&m, token)).unwrap_err();
        assert_eq!(e.kind.status(), 403, "{token}");
    }
    // Without stores the answer is 404 before the policy is asked.
    let none = model_with(Deployment {
        stores: Vec::new(),
        default_store: None,
        ..Deployment::default()
    });
    let owner = who(&none, "owner-token");
    assert_eq!(none.stores_detail(&owner).unwrap_err().kind.status(), 404);
}

#[test]
fn a_store_type_is_checked_and_http_alone_is_read_only() {
    let mut d = stores();
    assert!(d.problems().is_empty());
    d.stores[2].kind = Some("ftp".into());
    assert!(d.problems()[0].contains("type `ftp`"), "{:?}", d.problems());
    d.stores[2].kind = Some("http".into());
    assert!(d.problems()[0].contains("read-only"), "{:?}", d.problems());
    d.stores[2].read_only = true;
    assert!(d.problems().is_empty());
    assert_eq!(Store::named("x").kind(), "file");
}

#[test]
fn data_leaves_a_store_only_for_an_admin_and_never_the_last_one() {
    let mut m = model_with(stores());
    let one = image_in(&mut m, &[]);
    assert_eq!(delete(&mut m, "admin-token", "local", &one).0, 403);
    assert!(
        delete(&mut m, "admin-token", "backup", &one)
            .1
            .contains("only store")
    );
    let two = image_in(&mut m, &["backup"]);
    assert_eq!(stores_of(&m, &two), "local,backup");
    // Not in that store (a read-only one, Glance's own staging store): 404.
    for store in ["archive", "web", "os_glance_staging_store"] {
        assert_eq!(delete(&mut m, "admin-token", store, &two).0, 404, "{store}");
    }
    // Unknown store: 409 before the image is looked up.
    assert_eq!(delete(&mut m, "admin-token", "nope", "no-image").0, 409);
    // The owner may see the locations but not delete them; others do not even see them.
    let (code, message) = delete(&mut m, "owner-token", "backup", &two);
    assert_eq!(
        (code, message.contains("delete_image_location")),
        (403, true)
    );
    assert_eq!(delete(&mut m, "stranger-token", "backup", &two).0, 404);
    let caller = who(&m, "admin-token");
    assert_eq!(
        m.delete_from_store(&caller, "backup", &two, b"{}")
            .unwrap_err()
            .kind
            .status(),
        400
    );
    assert_eq!(delete(&mut m, "admin-token", "local", &two).0, 204);
    assert_eq!(stores_of(&m, &two), "backup");
    assert_eq!(delete(&mut m, "admin-token", "backup", &two).0, 403);
}

#[test]
fn a_public_image_of_another_project_hides_its_locations_and_a_queued_one_conflicts() {
    let mut m = model_with(stores());
    let two = image_in(&mut m, &["backup"]);
    let admin = who(&m, "admin-token");
    let patch = br#"[{"op": "replace", "path": "/visibility", "value": "public"}]"#;
    m.update_image(
        &admin,
        &two,
        Some(PATCH_MEDIA_TYPES[1].0),
        patch,
        &crate::model::Heads::new(),
    )
    .expect("publish");
    let (code, message) = delete(&mut m, "stranger-token", "backup", &two);
    assert_eq!((code, message.contains("get_image_location")), (403, true));
    let owner = who(&m, "owner-token");
    let body = br#"{"name": "q", "visibility": "private"}"#;
    let queued = m.create_image(&owner, body).expect("create").id;
    assert_eq!(delete(&mut m, "admin-token", "local", &queued).0, 409);
    m.set_activation(&admin, &two, b"", false)
        .expect("deactivate");
    assert_eq!(delete(&mut m, "admin-token", "backup", &two).0, 409);
    // Without stores configured there is nothing to delete from: 404 first.
    let mut none = model_with(Deployment {
        stores: Vec::new(),
        default_store: None,
        ..Deployment::default()
    });
    let id = image_in(&mut none, &[]);
    assert_eq!(delete(&mut none, "admin-token", "local", &id).0, 404);
}

#[test]
fn usage_is_empty_without_unified_limits() {
    let mut m = model_with(stores());
    image_in(&mut m, &[]);
    for token in ["owner-token", "reader-token", "admin-token"] {
        assert_eq!(m.usage(&who(&m, token)), json!({"usage": {}}));
    }
}

#[test]
fn usage_counts_the_projects_images_against_its_limits() {
    let limits = UnifiedLimits {
        limits: [
            ("image_size_total".to_string(), 1000),
            ("image_count_uploading".to_string(), -1),
        ]
        .into(),
        projects: [(
            "proj-owner".to_string(),
            [("image_count_total".to_string(), 5)].into(),
        )]
        .into(),
    };
    let mut m = model_with(Deployment {
        unified_limits: Some(limits),
        ..stores()
    });
    // One MiB and a bit, in two stores: two MiB and a bit of stored data.
    let owner = who(&m, "owner-token");
    let body = br#"{"name": "t", "disk_format": "raw", "container_format": "bare", "visibility": "private"}"#;
    let big = m.create_image(&owner, body).expect("create").id;
    let up = m.begin_upload(&owner, &big, None).expect("begin");
    let mut d = Digester::default();
    d.update(&vec![0u8; (1 << 20) + 10]);
    m.finish_upload(&up, d.finish()).expect("finish");
    let admin = who(&m, "admin-token");
    let copy = json!({"method": {"name": "copy-image"}, "stores": ["backup"]});
    m.import_image(&admin, &big, copy.to_string().as_bytes(), None, "req")
        .expect("copy");
    // A staged image: uploading, its bytes in staging only.
    let staged = m.create_image(&owner, body).expect("create").id;
    let up = m.begin_stage(&owner, &staged, None).expect("stage");
    let mut d = Digester::default();
    d.update(&vec![0u8; 3 << 20]);
    m.finish_upload(&up, d.finish()).expect("finish");
    // A queued one.
    m.create_image(&owner, body).expect("create");
    assert_eq!(
        m.usage(&owner),
        json!({"usage": {
            "image_size_total": {"limit": 1000, "usage": 2},
            "image_stage_total": {"limit": 0, "usage": 3},
            "image_count_total": {"limit": 5, "usage": 3},
            "image_count_uploading": {"limit": -1, "usage": 1},
        }})
    );
    // Another project: its own (registered) limits and nothing used.
    let stranger = who(&m, "stranger-token");
    assert_eq!(
        m.usage(&stranger)["usage"]["image_count_total"],
        json!({"limit": 0, "usage": 0})
    );
    // A resource outside the four is a problem of the deployment.
    let mut d = stores();
    d.unified_limits = Some(UnifiedLimits {
        limits: [("images".to_string(), 1)].into(),
        ..UnifiedLimits::default()
    });
    assert!(d.problems()[0].contains("unified limit `images`"));
    assert!(d.unmodelled()[0].contains("never enforced"));
}
