//! Unit tests of the metadata definition rules.

use super::super::{ErrorKind, Identities, Identity, Model, Outcome, Rules};
use crate::model::test_support::who;

fn model() -> Model {
    Model::new(Identities::builtin(), Rules::default())
}

fn kind<T: std::fmt::Debug>(r: Outcome<T>) -> ErrorKind {
    r.expect_err("should be refused").kind
}

/// A namespace `name` created by the admin, owned by the owner's project.
fn namespace(m: &mut Model, name: &str, visibility: &str) {
    let admin = who(m, "admin-token");
    let body = format!(
        r#"{{"namespace": "{name}", "visibility": "{visibility}", "owner": "proj-owner"}}"#
    );
    m.create_namespace(&admin, body.as_bytes()).expect("create");
}

#[test]
fn only_admins_define_namespaces_and_names_are_unique() {
    let mut m = model();
    let owner = who(&m, "owner-token");
    assert_eq!(
        kind(m.create_namespace(&owner, br#"{"namespace": "n"}"#)),
        ErrorKind::Forbidden
    );
    namespace(&mut m, "n", "private");
    let admin = who(&m, "admin-token");
    assert_eq!(
        kind(m.create_namespace(&admin, br#"{"namespace": "n"}"#)),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(m.create_namespace(&admin, br#"{"display_name": "x"}"#)),
        ErrorKind::BadRequest
    );
    let long = format!(r#"{{"namespace": "{}"}}"#, "a".repeat(81));
    assert_eq!(
        kind(m.create_namespace(&admin, long.as_bytes())),
        ErrorKind::BadRequest
    );
    let ns = m
        .create_namespace(&admin, br#"{"namespace": "d"}"#)
        .expect("create");
    assert_eq!(
        (ns.visibility.as_str(), ns.protected, ns.owner.as_str()),
        ("private", false, "proj-admin")
    );
}

#[test]
fn private_namespaces_are_seen_by_their_project_and_admins_only() {
    let mut m = model();
    namespace(&mut m, "priv", "private");
    namespace(&mut m, "pub", "public");
    let (owner, stranger, admin) = (
        who(&m, "owner-token"),
        who(&m, "stranger-token"),
        who(&m, "admin-token"),
    );
    assert!(m.show_namespace(&owner, "priv").is_ok());
    assert_eq!(
        kind(m.show_namespace(&stranger, "priv")),
        ErrorKind::NotFound
    );
    assert!(m.show_namespace(&stranger, "pub").is_ok());
    let names = |w: &Identity| -> Vec<String> {
        m.list_namespaces(w, &[])
            .expect("list")
            .namespaces
            .iter()
            .map(|n| n.name.clone())
            .collect()
    };
    assert_eq!(names(&stranger), ["pub"]);
    assert_eq!(names(&admin), ["pub", "priv"], "newest first");
    // Beneath an unseen namespace everything is not found, even for a write.
    assert_eq!(
        kind(m.list_objects(&stranger, "priv", &[])),
        ErrorKind::NotFound
    );
    let stranger = who(&m, "stranger-token");
    assert_eq!(
        kind(m.create_object(&stranger, "priv", br#"{"name": "o"}"#)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(m.create_object(&stranger, "pub", br#"{"name": "o"}"#)),
        ErrorKind::Forbidden
    );
}

#[test]
fn a_protected_namespace_is_not_deleted_and_an_update_replaces_it() {
    let mut m = model();
    let admin = who(&m, "admin-token");
    m.create_namespace(
        &admin,
        br#"{"namespace": "p", "protected": true, "description": "d"}"#,
    )
    .expect("create");
    assert_eq!(kind(m.delete_namespace(&admin, "p")), ErrorKind::Forbidden);
    let ns = m
        .update_namespace(&admin, "p", br#"{"namespace": "q"}"#)
        .expect("update");
    assert_eq!(
        (ns.name.as_str(), ns.protected, ns.description.clone()),
        ("q", false, None)
    );
    assert_eq!(kind(m.show_namespace(&admin, "p")), ErrorKind::NotFound);
    m.delete_namespace(&admin, "q").expect("delete");
    assert!(
        m.list_namespaces(&admin, &[])
            .expect("list")
            .namespaces
            .is_empty()
    );
}

#[test]
fn objects_are_defined_renamed_and_removed() {
    let mut m = model();
    namespace(&mut m, "n", "public");
    let admin = who(&m, "admin-token");
    m.create_object(&admin, "n", br#"{"name": "o", "required": ["a"]}"#)
        .expect("create");
    assert_eq!(
        kind(m.create_object(&admin, "n", br#"{"name": "o"}"#)),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(m.create_object(&admin, "n", br#"{"required": []}"#)),
        ErrorKind::BadRequest
    );
    m.create_object(&admin, "n", br#"{"name": "p"}"#)
        .expect("create");
    assert_eq!(
        kind(m.update_object(&admin, "n", "o", br#"{"name": "p"}"#)),
        ErrorKind::Conflict
    );
    let o = m
        .update_object(&admin, "n", "o", br#"{"name": "r"}"#)
        .expect("rename");
    assert_eq!((o.name.as_str(), o.required.len()), ("r", 0));
    assert_eq!(kind(m.show_object(&admin, "n", "o")), ErrorKind::NotFound);
    m.delete_object(&admin, "n", "r").expect("delete");
    let names: Vec<&str> = m
        .list_objects(&admin, "n", &[])
        .expect("list")
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(names, ["p"]);
    m.delete_objects(&admin, "n").expect("delete all");
    assert!(m.list_objects(&admin, "n", &[]).expect("list").is_empty());
}

#[test]
fn a_tag_list_replaces_the_tags_unless_appended() {
    let mut m = model();
    namespace(&mut m, "n", "public");
    let admin = who(&m, "admin-token");
    let names = |m: &Model| -> Vec<String> {
        m.list_meta_tags(&admin, "n", &[])
            .expect("list")
            .iter()
            .map(|t| t.name.clone())
            .collect()
    };
    m.create_meta_tags(
        &admin,
        "n",
        br#"{"tags": [{"name": "a"}, {"name": "b"}]}"#,
        false,
    )
    .expect("create");
    m.create_meta_tags(&admin, "n", br#"{"tags": [{"name": "c"}]}"#, false)
        .expect("replace");
    assert_eq!(names(&m), ["c"]);
    m.create_meta_tags(&admin, "n", br#"{"tags": [{"name": "d"}]}"#, true)
        .expect("append");
    assert_eq!(names(&m), ["d", "c"], "newest first");
    assert_eq!(
        kind(m.create_meta_tags(&admin, "n", br#"{"tags": [{"name": "c"}]}"#, true)),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(m.create_meta_tags(
            &admin,
            "n",
            br#"{"tags": [{"name": "x"}, {"name": "x"}]}"#,
            false
        )),
        ErrorKind::Conflict
    );
    assert_eq!(names(&m), ["d", "c"], "a refused list changes nothing");
    m.create_meta_tags(&admin, "n", br#"{"tags": []}"#, false)
        .expect("empty");
    assert_eq!(names(&m), ["d", "c"], "an empty list changes nothing");
    m.create_meta_tag(&admin, "n", "e").expect("one");
    assert_eq!(
        kind(m.create_meta_tag(&admin, "n", "e")),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(m.update_meta_tag(&admin, "n", "e", br#"{"name": "c"}"#)),
        ErrorKind::Conflict
    );
    m.update_meta_tag(&admin, "n", "e", br#"{"name": "f"}"#)
        .expect("rename");
    m.delete_meta_tag(&admin, "n", "f").expect("delete");
    assert_eq!(kind(m.show_meta_tag(&admin, "n", "f")), ErrorKind::NotFound);
    m.delete_meta_tags(&admin, "n").expect("delete all");
    assert!(names(&m).is_empty());
    let owner = who(&m, "owner-token");
    assert_eq!(
        kind(m.create_meta_tag(&owner, "n", "g")),
        ErrorKind::Forbidden
    );
}

#[test]
fn the_namespace_list_pages_by_name_in_the_order_asked() {
    let mut m = model();
    for n in ["a", "b", "c"] {
        namespace(&mut m, n, "public");
    }
    let admin = who(&m, "admin-token");
    let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let page = m
        .list_namespaces(&admin, &q(&[("limit", "2")]))
        .expect("list");
    let names: Vec<&str> = page.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!((names, page.next_marker), (vec!["c", "b"], Some("b")));
    let page = m
        .list_namespaces(&admin, &q(&[("limit", "2"), ("marker", "b")]))
        .expect("list");
    let names: Vec<&str> = page.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!((names, page.next_marker), (vec!["a"], None));
    let page = m
        .list_namespaces(
            &admin,
            &q(&[("sort_key", "namespace"), ("sort_dir", "asc")]),
        )
        .expect("list");
    assert_eq!(page.namespaces[0].name, "a");
    assert_eq!(
        kind(m.list_namespaces(&admin, &q(&[("limit", "-1")]))),
        ErrorKind::BadRequest
    );
    assert_eq!(
        kind(m.list_namespaces(&admin, &q(&[("marker", "zz")]))),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(m.list_namespaces(&admin, &q(&[("sort_dir", "up")]))),
        ErrorKind::BadRequest
    );
}

#[test]
fn properties_are_defined_replaced_and_listed_by_name() {
    let mut m = model();
    namespace(&mut m, "n", "public");
    let admin = who(&m, "admin-token");
    let p = m
        .create_meta_property(
            &admin,
            "n",
            br#"{"name": "z", "title": "Z", "type": "integer", "default": 2}"#,
        )
        .expect("create");
    assert_eq!(p.to_json()["default"], "2", "a default is kept as text");
    m.create_meta_property(
        &admin,
        "n",
        br#"{"name": "a", "title": "A", "type": "string"}"#,
    )
    .expect("create");
    for bad in [
        &br#"{"name": "b", "type": "string"}"#[..],
        br#"{"name": "b", "title": "B", "type": "text"}"#,
        br#"{"name": "b", "title": "B", "type": "string", "colour": "x"}"#,
    ] {
        assert_eq!(
            kind(m.create_meta_property(&admin, "n", bad)),
            ErrorKind::BadRequest
        );
    }
    assert_eq!(
        kind(m.create_meta_property(
            &admin,
            "n",
            br#"{"name": "a", "title": "A", "type": "string"}"#
        )),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(m.update_meta_property(
            &admin,
            "n",
            "z",
            br#"{"name": "a", "title": "A", "type": "string"}"#
        )),
        ErrorKind::Conflict
    );
    let names: Vec<String> = m
        .list_meta_properties(&admin, "n")
        .expect("list")
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names, ["a", "z"]);
    m.update_meta_property(
        &admin,
        "n",
        "z",
        br#"{"name": "y", "title": "Y", "type": "boolean"}"#,
    )
    .expect("rename");
    assert_eq!(
        kind(m.show_meta_property(&admin, "n", "z")),
        ErrorKind::NotFound
    );
    let owner = who(&m, "owner-token");
    assert_eq!(
        kind(m.delete_meta_property(&owner, "n", "y")),
        ErrorKind::Forbidden
    );
    m.delete_meta_property(&admin, "n", "y").expect("delete");
    m.delete_meta_properties(&admin, "n").expect("delete all");
    assert!(
        m.list_meta_properties(&admin, "n")
            .expect("list")
            .is_empty()
    );
}

#[test]
fn resource_types_outlive_their_associations() {
    let mut m = model();
    namespace(&mut m, "n", "public");
    let admin = who(&m, "admin-token");
    assert!(m.list_resource_types().is_empty());
    m.create_association(
        &admin,
        "n",
        br#"{"name": "OS::Glance::Image", "prefix": "hw_"}"#,
    )
    .expect("associate");
    assert_eq!(
        kind(m.create_association(&admin, "n", br#"{"name": "OS::Glance::Image"}"#)),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(m.delete_association(&admin, "n", "OS::Nova::Flavor")),
        ErrorKind::NotFound
    );
    let q = [(
        "resource_types".to_string(),
        "OS::Glance::Image".to_string(),
    )];
    assert_eq!(
        m.list_namespaces(&admin, &q)
            .expect("list")
            .namespaces
            .len(),
        1
    );
    m.delete_association(&admin, "n", "OS::Glance::Image")
        .expect("remove");
    assert!(m.list_associations(&admin, "n").expect("list").is_empty());
    assert_eq!(m.list_resource_types()[0].name, "OS::Glance::Image");
    assert!(
        m.list_namespaces(&admin, &q)
            .expect("list")
            .namespaces
            .is_empty()
    );
}

fn later() -> String {
    "2030-01-01T00:00:00Z".into()
}

#[test]
fn the_namespace_list_filters_by_visibility_and_sorts_by_any_column() {
    let mut m = model();
    let admin = who(&m, "admin-token");
    // Made in the order b, c, a; every column sorts them otherwise.
    for body in [
        &br#"{"namespace": "b", "display_name": "3", "description": "3", "owner": "proj-c", "visibility": "public", "protected": true}"#[..],
        br#"{"namespace": "c", "display_name": "1", "description": "1", "owner": "proj-a", "visibility": "private"}"#,
        br#"{"namespace": "a", "display_name": "2", "description": "2", "owner": "proj-b", "visibility": "public", "protected": true}"#,
    ] {
        m.create_namespace(&admin, body).expect("create");
    }
    let names = |m: &Model, pairs: &[(&str, &str)]| -> Vec<String> {
        let q: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let page = m.list_namespaces(&admin, &q).expect("list");
        page.namespaces.iter().map(|n| n.name.clone()).collect()
    };
    assert_eq!(names(&m, &[("visibility", "private")]), ["c"]);
    assert_eq!(names(&m, &[("visibility", "public")]), ["a", "b"]);
    for (key, order) in [
        ("created_at", ["b", "c", "a"]),
        ("namespace", ["a", "b", "c"]),
        ("display_name", ["c", "a", "b"]),
        ("description", ["c", "a", "b"]),
        ("owner", ["c", "a", "b"]),
        ("visibility", ["c", "b", "a"]),
        ("protected", ["c", "b", "a"]),
    ] {
        assert_eq!(
            names(&m, &[("sort_key", key), ("sort_dir", "asc")]),
            order,
            "{key}"
        );
    }
    let bad = [("sort_key".to_string(), "colour".to_string())];
    assert_eq!(kind(m.list_namespaces(&admin, &bad)), ErrorKind::BadRequest);
    // Changed later, `b` sorts last by updated_at.
    m.set_clock(later);
    m.update_namespace(&admin, "b", br#"{"namespace": "b"}"#)
        .expect("update");
    assert_eq!(
        names(&m, &[("sort_key", "updated_at"), ("sort_dir", "asc")]),
        ["c", "a", "b"]
    );
}

#[test]
fn an_object_update_keeps_when_it_was_made() {
    let mut m = model();
    namespace(&mut m, "n", "public");
    let admin = who(&m, "admin-token");
    let made = m
        .create_object(&admin, "n", br#"{"name": "o"}"#)
        .expect("create");
    m.set_clock(later);
    let o = m
        .update_object(&admin, "n", "o", br#"{"name": "o"}"#)
        .expect("update");
    assert_eq!(
        (o.created_at, o.updated_at.as_str()),
        (made.created_at, "2030-01-01T00:00:00Z")
    );
}

#[test]
fn the_object_list_checks_its_query_and_tag_names_stop_at_80() {
    let mut m = model();
    namespace(&mut m, "n", "public");
    let admin = who(&m, "admin-token");
    let q = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    assert!(
        m.list_objects(&admin, "n", &q("visibility", "shared"))
            .is_ok()
    );
    assert_eq!(
        kind(m.list_objects(&admin, "n", &q("sort_dir", "up"))),
        ErrorKind::BadRequest
    );
    assert_eq!(
        kind(m.list_objects(&admin, "n", &q("visibility", "bad"))),
        ErrorKind::BadRequest
    );
    assert_eq!(
        kind(m.list_objects(&admin, "n", &q("limit", "0"))),
        ErrorKind::BadRequest
    );
    assert!(m.create_meta_tag(&admin, "n", &"t".repeat(80)).is_ok());
    assert_eq!(
        kind(m.create_meta_tag(&admin, "n", &"t".repeat(81))),
        ErrorKind::BadRequest
    );
}
