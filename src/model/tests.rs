//! Unit tests of the rules, one behaviour each, straight on the model (no HTTP).

use super::*;
use crate::model::test_support::who;

fn model(quota: i64) -> Model {
    Model::new(
        Identities::builtin(),
        Rules {
            member_quota: quota,
            tag_quota: 128,
            property_quota: 128,
            ..Rules::default()
        },
    )
}

/// Creates an image as `owner-token` with the given visibility; returns its id.
fn image(m: &mut Model, visibility: &str) -> String {
    let owner = who(m, "owner-token");
    let body = format!(r#"{{"name": "t", "visibility": "{visibility}"}}"#);
    m.create_image(&owner, body.as_bytes()).expect("create").id
}

fn shared_with_member(m: &mut Model) -> String {
    let id = image(m, "shared");
    let owner = who(m, "owner-token");
    m.add_member(&owner, &id, br#"{"member": "proj-member"}"#)
        .expect("add");
    id
}

fn kind<T: std::fmt::Debug>(r: Outcome<T>) -> ErrorKind {
    r.expect_err("should be refused").kind
}

#[test]
fn tokens_resolve_or_are_refused() {
    let m = model(5);
    assert_eq!(
        m.authenticate(Some("owner-token")).unwrap().project_id,
        "proj-owner"
    );
    assert!(m.authenticate(Some("admin-token")).unwrap().is_admin());
    for t in [None, Some(""), Some("nope")] {
        assert_eq!(kind(m.authenticate(t)), ErrorKind::Unauthorized);
    }
}

#[test]
fn owner_removes_member_and_the_member_loses_sight() {
    let mut m = model(5);
    let id = shared_with_member(&mut m);
    let (owner, member) = (who(&m, "owner-token"), who(&m, "member-token"));
    assert!(m.show_image(&member, &id).is_ok());
    m.delete_member(&owner, &id, "proj-member", b"").unwrap();
    assert_eq!(
        kind(m.show_member(&owner, &id, "proj-member")),
        ErrorKind::NotFound
    );
    assert_eq!(kind(m.show_image(&member, &id)), ErrorKind::NotFound);
    assert_eq!(
        kind(m.delete_member(&owner, &id, "proj-member", b"")),
        ErrorKind::NotFound
    );
}

#[test]
fn member_cannot_remove_itself_but_admin_can() {
    let mut m = model(5);
    let id = shared_with_member(&mut m);
    let member = who(&m, "member-token");
    assert_eq!(
        kind(m.delete_member(&member, &id, "proj-member", b"")),
        ErrorKind::Forbidden
    );
    let admin = who(&m, "admin-token");
    m.delete_member(&admin, &id, "proj-member", b"").unwrap();
}

#[test]
fn checks_run_in_the_reference_order() {
    let mut m = model(5);
    let id = shared_with_member(&mut m);
    let (stranger, member) = (who(&m, "stranger-token"), who(&m, "member-token"));
    // A body is refused before visibility is looked at.
    assert_eq!(
        kind(m.delete_member(&stranger, &id, "proj-member", b"{}")),
        ErrorKind::BadRequest
    );
    // A stranger learns nothing: 404, not 403.
    assert_eq!(
        kind(m.delete_member(&stranger, &id, "proj-member", b"")),
        ErrorKind::NotFound
    );
    // A member does not see another member's row: 404 before the policy's 403.
    let owner = who(&m, "owner-token");
    m.add_member(&owner, &id, br#"{"member": "proj-other-member"}"#)
        .unwrap();
    assert_eq!(
        kind(m.delete_member(&member, &id, "proj-other-member", b"")),
        ErrorKind::NotFound
    );
}

#[test]
fn only_shared_images_have_members() {
    let mut m = model(5);
    let owner = who(&m, "owner-token");
    for vis in ["private", "community"] {
        let id = image(&mut m, vis);
        assert_eq!(
            kind(m.delete_member(&owner, &id, "proj-member", b"")),
            ErrorKind::Forbidden
        );
        assert_eq!(
            kind(m.add_member(&owner, &id, br#"{"member": "x"}"#)),
            ErrorKind::Forbidden
        );
        assert_eq!(kind(m.list_members(&owner, &id)), ErrorKind::Forbidden);
        // Show turns the 403 into a 404.
        assert_eq!(
            kind(m.show_member(&owner, &id, "proj-member")),
            ErrorKind::NotFound
        );
    }
}

#[test]
fn only_admins_publish_and_name_other_owners() {
    let mut m = model(5);
    let (owner, admin) = (who(&m, "owner-token"), who(&m, "admin-token"));
    assert_eq!(
        kind(m.create_image(&owner, br#"{"visibility": "public"}"#)),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(m.create_image(&owner, br#"{"owner": "proj-other"}"#)),
        ErrorKind::Forbidden
    );
    let img = m
        .create_image(
            &admin,
            br#"{"visibility": "public", "owner": "proj-owner"}"#,
        )
        .unwrap();
    assert_eq!(img.owner, "proj-owner");
    assert_eq!(img.visibility, Visibility::Public);
}

#[test]
fn quota_comes_before_duplicate() {
    let mut m = model(2);
    let id = shared_with_member(&mut m);
    let owner = who(&m, "owner-token");
    assert_eq!(
        kind(m.add_member(&owner, &id, br#"{"member": "proj-member"}"#)),
        ErrorKind::Conflict
    );
    m.add_member(&owner, &id, br#"{"member": "second"}"#)
        .unwrap();
    // Full: the duplicate now answers 413, not 409.
    assert_eq!(
        kind(m.add_member(&owner, &id, br#"{"member": "proj-member"}"#)),
        ErrorKind::OverLimit
    );
    assert_eq!(
        kind(m.add_member(&owner, &id, br#"{"member": "third"}"#)),
        ErrorKind::OverLimit
    );
}

#[test]
fn negative_quota_is_unlimited() {
    let mut m = model(-1);
    let id = image(&mut m, "shared");
    let owner = who(&m, "owner-token");
    for i in 0..200 {
        m.add_member(&owner, &id, format!(r#"{{"member": "p{i}"}}"#).as_bytes())
            .unwrap();
    }
}

#[test]
fn add_body_must_name_a_member() {
    let mut m = model(5);
    let id = image(&mut m, "shared");
    let owner = who(&m, "owner-token");
    for body in [&b""[..], b"not json", b"[]", b"{}", br#"{"member": ""}"#] {
        assert_eq!(kind(m.add_member(&owner, &id, body)), ErrorKind::BadRequest);
    }
}

#[test]
fn status_lifecycle_belongs_to_the_member() {
    let mut m = model(5);
    let id = shared_with_member(&mut m);
    let (owner, member) = (who(&m, "owner-token"), who(&m, "member-token"));
    for s in ["accepted", "rejected", "pending", "accepted"] {
        let body = format!(r#"{{"status": "{s}"}}"#);
        let row = m
            .update_member(&member, &id, "proj-member", body.as_bytes())
            .unwrap();
        assert_eq!(row.status.as_str(), s);
    }
    // The owner is refused by policy even with a nonsense value.
    assert_eq!(
        kind(m.update_member(&owner, &id, "proj-member", br#"{"status": "bogus"}"#)),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(m.update_member(&member, &id, "proj-member", br#"{"status": "bogus"}"#)),
        ErrorKind::BadRequest
    );
    assert_eq!(
        kind(m.update_member(&member, &id, "proj-member", br#"{}"#)),
        ErrorKind::BadRequest
    );
}

#[test]
fn member_list_shows_a_member_only_its_own_row() {
    let mut m = model(5);
    let id = shared_with_member(&mut m);
    let owner = who(&m, "owner-token");
    m.add_member(&owner, &id, br#"{"member": "proj-other-member"}"#)
        .unwrap();
    assert_eq!(m.list_members(&owner, &id).unwrap().len(), 2);
    let member = who(&m, "member-token");
    let rows = m.list_members(&member, &id).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].member_id, "proj-member");
    let stranger = who(&m, "stranger-token");
    assert_eq!(kind(m.list_members(&stranger, &id)), ErrorKind::NotFound);
}

#[test]
fn member_image_list_needs_acceptance() {
    let mut m = model(5);
    let id = shared_with_member(&mut m);
    let member = who(&m, "member-token");
    let listed = |m: &Model, q: &[(&str, &str)]| {
        let q: Vec<(String, String)> = q
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        m.list_images(&member, &q)
            .unwrap()
            .images
            .iter()
            .any(|i| i.id == id)
    };
    assert!(!listed(&m, &[]));
    assert!(listed(&m, &[("member_status", "pending")]));
    assert!(listed(
        &m,
        &[("member_status", "all"), ("visibility", "shared")]
    ));
    m.update_member(&member, &id, "proj-member", br#"{"status": "accepted"}"#)
        .unwrap();
    assert!(listed(&m, &[]));
    assert!(!listed(&m, &[("member_status", "pending")]));
    let q = vec![("member_status".to_string(), "maybe".to_string())];
    assert_eq!(kind(m.list_images(&member, &q)), ErrorKind::BadRequest);
}

#[test]
fn deleting_an_image_takes_its_memberships() {
    let mut m = model(5);
    let id = shared_with_member(&mut m);
    let (owner, member) = (who(&m, "owner-token"), who(&m, "member-token"));
    assert_eq!(
        kind(m.delete_image(&member, &id, b"")),
        ErrorKind::Forbidden
    );
    m.delete_image(&owner, &id, b"").unwrap();
    assert_eq!(
        kind(m.show_member(&owner, &id, "proj-member")),
        ErrorKind::NotFound
    );
    assert_eq!(kind(m.show_image(&member, &id)), ErrorKind::NotFound);
}

#[test]
fn issued_tokens_are_bounded_oldest_first() {
    let mut m = model(5);
    let who = who(&m, "member-token");
    let issued = |n: usize| IssuedToken {
        identity: who.clone(),
        methods: vec!["password".into()],
        issued_at: format!("t{n}"),
        expires_at: "2999-01-01T00:00:00Z".into(),
    };
    for n in 0..=MAX_ISSUED_TOKENS {
        m.register_token(format!("tok-{n}"), issued(n));
    }
    assert_eq!(kind(m.authenticate(Some("tok-0"))), ErrorKind::Unauthorized);
    assert!(m.authenticate(Some("tok-1")).is_ok());
    assert!(
        m.authenticate(Some(&format!("tok-{MAX_ISSUED_TOKENS}")))
            .is_ok()
    );
}

#[test]
fn a_readded_member_is_pending_again_but_keeps_its_first_creation_time() {
    let mut m = model(5);
    m.set_clock(|| "2020-01-01T00:00:00Z".into());
    let id = shared_with_member(&mut m);
    m.set_clock(|| "2021-06-01T12:00:00Z".into());
    let (owner, member) = (who(&m, "owner-token"), who(&m, "member-token"));
    let first = m
        .show_member(&owner, &id, "proj-member")
        .unwrap()
        .created_at
        .clone();
    assert_eq!(first, "2020-01-01T00:00:00Z");
    m.update_member(&member, &id, "proj-member", br#"{"status": "accepted"}"#)
        .unwrap();
    m.delete_member(&owner, &id, "proj-member", b"").unwrap();
    let again = m
        .add_member(&owner, &id, br#"{"member": "proj-member"}"#)
        .unwrap();
    assert_eq!(again.status, MemberStatus::Pending);
    assert_eq!(again.created_at, first);
    assert_eq!(again.updated_at, "2021-06-01T12:00:00Z");
}

#[test]
fn image_pages_follow_limit_and_marker() {
    let mut m = model(5);
    let owner = who(&m, "owner-token").clone();
    for n in 0..3 {
        m.create_image(&owner, format!(r#"{{"name": "page-{n}"}}"#).as_bytes())
            .unwrap();
    }
    let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let all: Vec<String> = m
        .list_images(&owner, &q(&[]))
        .unwrap()
        .images
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(all.len(), 3);
    let first = m.list_images(&owner, &q(&[("limit", "2")])).unwrap();
    assert_eq!(first.images.len(), 2);
    assert_eq!(first.next_marker, Some(all[1].as_str()));
    let second = m
        .list_images(&owner, &q(&[("limit", "2"), ("marker", &all[1])]))
        .unwrap();
    assert_eq!(
        second.images.iter().map(|i| &i.id).collect::<Vec<_>>(),
        vec![&all[2]]
    );
    assert_eq!(second.next_marker, None);
    let full = m.list_images(&owner, &q(&[("limit", "3")])).unwrap();
    assert_eq!(
        full.next_marker,
        Some(all[2].as_str()),
        "a full page has a next link"
    );
    let empty = m.list_images(&owner, &q(&[("limit", "0")])).unwrap();
    assert!(empty.images.is_empty() && empty.next_marker.is_none());
    let bad = m
        .list_images(&owner, &q(&[("marker", "nope")]))
        .unwrap_err();
    assert_eq!(bad.kind.status(), 400);
    let bad = m.list_images(&owner, &q(&[("limit", "-1")])).unwrap_err();
    assert_eq!(bad.kind.status(), 400);
}

#[test]
fn owner_filter_keeps_one_projects_images_newest_first_then_by_id() {
    let mut m = model(5);
    m.set_clock(|| "2026-01-01T00:00:00Z".into());
    let owner = who(&m, "owner-token");
    let mut ids = Vec::new();
    for n in 1..=3 {
        let body = format!(r#"{{"id": "00000000-0000-4000-8000-00000000000{n}"}}"#);
        ids.push(m.create_image(&owner, body.as_bytes()).unwrap().id);
    }
    let stranger = who(&m, "stranger-token");
    m.create_image(&stranger, b"{}").unwrap();
    let q = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let listed: Vec<String> = m
        .list_images(&owner, &q("owner", "proj-owner"))
        .unwrap()
        .images
        .iter()
        .map(|i| i.id.clone())
        .collect();
    ids.reverse();
    assert_eq!(listed, ids);
    assert!(
        m.list_images(&owner, &q("owner", "proj-stranger"))
            .unwrap()
            .images
            .is_empty()
    );
}

#[test]
fn followed_changes_come_out_as_records_in_the_order_they_changed() {
    let mut m = model(-1);
    let id = shared_with_member(&mut m);
    assert!(
        m.take_writes().is_empty(),
        "nothing is noted until a store follows"
    );
    m.follow_changes();
    let owner = who(&m, "owner-token");
    m.add_member(&owner, &id, br#"{"member": "proj-b"}"#)
        .unwrap();
    m.delete_member(&owner, &id, "proj-member", b"").unwrap();
    let writes = m.take_writes();
    let rows: Vec<(&str, String, Option<u64>)> = writes
        .iter()
        .map(|w| match w {
            Write::Put {
                collection,
                key,
                value,
            } => {
                let order = value.as_deref().map(|v| {
                    let v: serde_json::Value = serde_json::from_str(v).unwrap();
                    v["added_order"].as_u64().unwrap_or(u64::MAX)
                });
                (*collection, key.clone(), order)
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let b = format!("{id}/proj-b");
    let gone = format!("{id}/proj-member");
    assert_eq!(
        rows,
        [
            ("members", b, Some(1)),
            ("members", gone.clone(), None),
            ("former_members", gone, Some(u64::MAX)),
        ],
        "an add writes its row only; a removal its row and its former entry"
    );
    assert!(m.take_writes().is_empty(), "taken once");
    m.delete_image(&owner, &id, b"").unwrap();
    assert_eq!(
        m.take_writes(),
        [Write::Put {
            collection: "images",
            key: id.clone(),
            value: None
        }]
    );
    m.restore(&Snapshot::empty()).unwrap();
    assert!(matches!(
        m.take_writes().as_slice(),
        [Write::Replace { .. }]
    ));
    let issued = IssuedToken {
        identity: owner.clone(),
        methods: vec!["password".into()],
        issued_at: "2026-01-01T00:00:00Z".into(),
        expires_at: "2999-01-01T00:00:00Z".into(),
    };
    m.register_token("t1".into(), issued);
    m.revoke_token("t1");
    assert_eq!(
        m.take_writes(),
        [Write::Put {
            collection: "tokens",
            key: "t1".into(),
            value: None
        }]
    );
}

#[test]
fn member_order_survives_a_snapshot_with_added_order_and_must_grow() {
    let mut m = model(-1);
    let id = shared_with_member(&mut m);
    let owner = who(&m, "owner-token");
    for p in ["proj-c", "proj-a"] {
        m.add_member(&owner, &id, format!(r#"{{"member": "{p}"}}"#).as_bytes())
            .unwrap();
    }
    m.delete_member(&owner, &id, "proj-member", b"").unwrap();
    let snap = m.snapshot();
    let orders: Vec<_> = snap
        .records("members")
        .iter()
        .map(|r| r["added_order"].as_u64())
        .collect();
    assert_eq!(orders, [Some(1), Some(2)]);
    let mut again = model(-1);
    again.restore(&snap).unwrap();
    again
        .add_member(&owner, &id, br#"{"member": "proj-0"}"#)
        .unwrap();
    let listed: Vec<_> = again
        .list_members(&owner, &id)
        .unwrap()
        .into_iter()
        .map(|r| r.member_id)
        .collect();
    assert_eq!(listed, ["proj-c", "proj-a", "proj-0"]);
    let mut bad = snap.clone();
    bad.collections.get_mut("members").unwrap()[1]["added_order"] = 1.into();
    let e = model(-1).restore(&bad).unwrap_err();
    assert_eq!(e.at, "members[1].added_order");
}

fn data_image(m: &mut Model, disk_format: &str) -> String {
    let owner = who(m, "owner-token");
    let body =
        format!(r#"{{"name": "d", "disk_format": "{disk_format}", "container_format": "bare"}}"#);
    m.create_image(&owner, body.as_bytes()).expect("create").id
}

fn digest(bytes: &[u8]) -> data::Received {
    let mut d = Digester::default();
    d.update(bytes);
    d.finish()
}

#[test]
fn an_upload_ends_only_while_its_image_is_saving() {
    let mut m = model(10);
    let owner = who(&m, "owner-token");
    let id = data_image(&mut m, "raw");
    let up = m.begin_upload(&owner, &id, None).unwrap();
    assert_eq!(
        m.show_image(&owner, &id).unwrap().status,
        data::ImageStatus::Saving
    );
    assert_eq!(
        m.begin_upload(&owner, &id, None).unwrap_err().kind.status(),
        409
    );
    m.abort_upload(&up);
    assert_eq!(
        m.show_image(&owner, &id).unwrap().status,
        data::ImageStatus::Queued
    );
    // An upload that was given up cannot end any more: the image is not `saving`.
    assert_eq!(
        m.finish_upload(&up, digest(b"x"))
            .unwrap_err()
            .kind
            .status(),
        410
    );
    let again = m.begin_upload(&owner, &id, Some(3)).unwrap();
    assert_ne!(again.blob, up.blob, "every upload gets its own blob key");
    assert_eq!(
        m.finish_upload(&again, digest(b"xy"))
            .unwrap_err()
            .kind
            .status(),
        400
    );
    let last = m.begin_upload(&owner, &id, Some(3)).unwrap();
    m.finish_upload(&last, digest(b"xyz")).unwrap();
    let img = m.show_image(&owner, &id).unwrap();
    assert_eq!(img.status, data::ImageStatus::Active);
    assert_eq!(
        img.data.as_ref().map(|d| (d.size, d.blob)),
        Some((3, last.blob))
    );
    m.delete_image(&owner, &id, b"").unwrap();
    assert_eq!(m.take_dropped_blobs(), [last.blob]);
}

#[test]
fn the_format_check_sees_the_first_bytes_of_the_stream() {
    let mut m = model(10);
    let owner = who(&m, "owner-token");
    let id = data_image(&mut m, "qcow2");
    let mut header = vec![0u8; 4096];
    header[..4].copy_from_slice(b"QFI\xfb");
    header[24..32].copy_from_slice(&(1u64 << 20).to_be_bytes());
    let mut d = Digester::default();
    for piece in header.chunks(100) {
        d.update(piece);
    }
    let up = m.begin_upload(&owner, &id, None).unwrap();
    m.finish_upload(&up, d.finish()).unwrap();
    let img = m.show_image(&owner, &id).unwrap();
    assert_eq!(
        img.data.as_ref().and_then(|d| d.virtual_size),
        Some(1 << 20)
    );
}

#[test]
fn snapshots_keep_image_data_and_check_its_digests() {
    let mut m = model(10);
    let owner = who(&m, "owner-token");
    let id = data_image(&mut m, "raw");
    let up = m.begin_upload(&owner, &id, None).unwrap();
    m.finish_upload(&up, digest(b"hello world")).unwrap();
    let snap = m.snapshot();
    // Restoring what names the blob keeps it; restoring what does not drops it.
    m.restore(&snap).unwrap();
    assert!(m.take_dropped_blobs().is_empty());
    m.restore(&Snapshot::empty()).unwrap();
    assert_eq!(m.take_dropped_blobs(), [up.blob]);
    let mut back = model(10);
    back.restore(&snap).unwrap();
    assert_eq!(back.snapshot(), snap);
    let img = back.show_image(&owner, &id).unwrap();
    assert_eq!(img.status, data::ImageStatus::Active);
    assert_eq!(img.data.as_ref().map(|d| d.blob), Some(up.blob));
    // A later upload never reuses a restored blob key.
    let other = data_image(&mut back, "raw");
    assert!(back.begin_upload(&owner, &other, None).unwrap().blob > up.blob);
    let bad = |edit: fn(&mut crate::DataRecord)| {
        let mut s = snap.clone();
        let images = s.collections.get_mut("images").unwrap();
        let mut image: crate::ImageRecord = serde_json::from_value(images[0].clone()).unwrap();
        edit(image.data.as_mut().unwrap());
        images[0] = serde_json::to_value(image).unwrap();
        model(10).restore(&s).unwrap_err().at
    };
    assert_eq!(
        bad(|d| d.checksum = "z".repeat(32)),
        "images[0].data.checksum"
    );
    assert_eq!(
        bad(|d| d.checksum = "a".repeat(31)),
        "images[0].data.checksum"
    );
    assert_eq!(
        bad(|d| d.os_hash_value = "g".repeat(128)),
        "images[0].data.os_hash_value"
    );
    assert_eq!(
        bad(|d| d.os_hash_value = "a".repeat(127)),
        "images[0].data.os_hash_value"
    );
}

#[test]
fn an_upload_names_the_formats_still_unset() {
    let mut m = model(10);
    let owner = who(&m, "owner-token");
    let none = image(&mut m, "private");
    let e = m.begin_upload(&owner, &none, None).unwrap_err();
    assert_eq!(e.kind.status(), 400);
    assert_eq!(
        e.message,
        "Properties disk_format, container_format must be set prior to saving data."
    );
    let one = m
        .create_image(&owner, br#"{"name": "t", "disk_format": "raw"}"#)
        .unwrap()
        .id;
    let e = m.begin_upload(&owner, &one, None).unwrap_err();
    assert_eq!(
        e.message,
        "Property container_format must be set prior to saving data."
    );
}

/// Every record of `m` as a store keeps them, by collection: (key, JSON text), parents first.
fn stored(m: &Model) -> std::collections::HashMap<String, Vec<(String, String)>> {
    let mut stored: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    for (collection, key, text) in m.records() {
        stored
            .entry(collection.into())
            .or_default()
            .push((key, text));
    }
    stored
}

/// A model with a record in every collection.
fn populated() -> Model {
    let mut m = model(-1);
    let id = shared_with_member(&mut m);
    let (owner, admin) = (who(&m, "owner-token"), who(&m, "admin-token"));
    m.add_member(&owner, &id, br#"{"member": "proj-gone"}"#)
        .unwrap();
    m.delete_member(&owner, &id, "proj-gone", b"").unwrap();
    let issued = IssuedToken {
        identity: owner.clone(),
        methods: vec!["password".into()],
        issued_at: "2026-01-01T00:00:00Z".into(),
        expires_at: "2999-01-01T00:00:00Z".into(),
    };
    m.register_token("t1".into(), issued);
    let task = br#"{"type": "import", "input": {"import_from": "http://192.0.2.1/x", "import_from_format": "raw"}}"#;
    m.create_task(&admin, task, "req-1").unwrap();
    m.create_namespace(&admin, br#"{"namespace": "ns", "visibility": "public"}"#)
        .unwrap();
    m.create_association(&admin, "ns", br#"{"name": "OS::Glance::Image"}"#)
        .unwrap();
    let cached = data_image(&mut m, "raw");
    let up = m.begin_upload(&owner, &cached, None).unwrap();
    m.finish_upload(&up, digest(b"cached bytes")).unwrap();
    m.queue_image(&admin, &cached).unwrap();
    m
}

#[test]
fn every_collection_round_trips_through_snapshots_and_stored_records() {
    let m = populated();
    let snap = m.snapshot();
    for d in collections::COLLECTIONS {
        assert!(
            !snap.records(d.name).is_empty(),
            "collection {} has no record: give `populated` one",
            d.name
        );
    }
    let mut back = model(-1);
    back.restore(&snap).unwrap();
    assert_eq!(back.snapshot(), snap);
    // As a store keeps them: JSON text per record, parents first.
    let mut again = model(-1);
    again.restore_stored(&stored(&m)).unwrap();
    assert_eq!(again.snapshot(), snap);
}

#[test]
fn every_write_names_a_declared_collection_and_deleting_an_image_files_its_rows() {
    let mut m = model(-1);
    m.follow_changes();
    let id = shared_with_member(&mut m);
    let owner = who(&m, "owner-token");
    for w in m.take_writes() {
        let Write::Put {
            collection, key, ..
        } = w
        else {
            panic!("a replace without a restore");
        };
        let d = collections::declared(collection).expect("declared");
        if let Some(parent) = d.parent {
            assert_eq!(parent, "images");
            assert!(key.starts_with(&format!("{id}/")), "{key}");
        }
    }
    m.delete_image(&owner, &id, b"").unwrap();
    // The members go with the image: one deletion stands for them all.
    assert_eq!(m.take_writes().len(), 1);
}

#[test]
fn a_member_added_again_writes_its_former_entry_away() {
    let mut m = model(-1);
    let id = shared_with_member(&mut m);
    let owner = who(&m, "owner-token");
    m.delete_member(&owner, &id, "proj-member", b"").unwrap();
    m.follow_changes();
    m.add_member(&owner, &id, br#"{"member": "proj-member"}"#)
        .unwrap();
    let key = format!("{id}/proj-member");
    let writes = m.take_writes();
    assert!(
        writes.contains(&Write::Put {
            collection: "former_members",
            key: key.clone(),
            value: None
        }),
        "{writes:?}"
    );
    // As a store would replay it: the member again, no former entry beside it.
    model(-1).restore_stored(&stored(&m)).unwrap();
}

#[test]
fn a_snapshot_naming_a_resource_type_twice_is_refused() {
    let rt = serde_json::json!({"name": "OS::Twice", "created_at": "t", "updated_at": "t"});
    let snap: Snapshot = serde_json::from_value(serde_json::json!({
        "format": "sharecheck-snapshot", "version": 2, "resource_types": [rt.clone(), rt],
    }))
    .unwrap();
    let e = model(-1).restore(&snap).unwrap_err();
    assert_eq!(e.at, "resource_types[1].name");
}
