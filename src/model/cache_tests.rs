//! Unit tests of the image cache: who may do what in which order, what a queue, a delete, a
//! clear and a prune leave, and a deployment without a cache or with another driver.

use serde_json::json;

use super::data::Digester;
use super::*;
use crate::model::test_support::{model_with, who};

/// An active private image of the owner's holding `bytes`.
fn active(m: &mut Model, bytes: &[u8]) -> String {
    let owner = who(m, "owner-token");
    let body = br#"{"name": "c", "disk_format": "raw", "container_format": "bare"}"#;
    let id = m.create_image(&owner, body).unwrap().id;
    let up = m.begin_upload(&owner, &id, None).unwrap();
    let mut d = Digester::default();
    d.update(bytes);
    m.finish_upload(&up, d.finish()).unwrap();
    id
}

fn status<T: std::fmt::Debug>(r: Result<T>) -> u16 {
    r.unwrap_err().kind.status()
}

fn cached_ids(m: &Model) -> Vec<String> {
    let admin = who(m, "admin-token");
    let state = m.cache_state(&admin).unwrap();
    state["cached_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn admins_queue_active_images_once_and_others_are_refused_in_order() {
    let mut m = model_with(Deployment::default());
    let (owner, stranger, admin) = (
        who(&m, "owner-token"),
        who(&m, "stranger-token"),
        who(&m, "admin-token"),
    );
    let id = active(&mut m, b"12345");
    // The lookup comes first (404), then the policy (403).
    assert_eq!(status(m.queue_image(&stranger, &id)), 404);
    assert_eq!(status(m.queue_image(&owner, &id)), 403);
    assert_eq!(status(m.queue_image(&admin, "no-such-image")), 404);
    m.queue_image(&admin, &id).unwrap();
    m.queue_image(&admin, &id).unwrap();
    let state = m.cache_state(&admin).unwrap();
    assert_eq!(state["queued_images"], json!([]));
    let copies = state["cached_images"].as_array().unwrap();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0]["size"], 5);
    assert_eq!(copies[0]["hits"], 0);
    assert!(copies[0]["last_modified"].as_f64().unwrap() > 1.0e9);
    // An image without data is not active.
    let body = br#"{"disk_format": "raw", "container_format": "bare"}"#;
    let queued = m.create_image(&owner, body).unwrap().id;
    assert_eq!(status(m.queue_image(&admin, &queued)), 400);
    assert_eq!(status(m.cache_state(&owner)), 403);
}

#[test]
fn a_copy_outlives_its_image_until_it_is_deleted() {
    let mut m = model_with(Deployment::default());
    let (owner, stranger, admin) = (
        who(&m, "owner-token"),
        who(&m, "stranger-token"),
        who(&m, "admin-token"),
    );
    let id = active(&mut m, b"abc");
    let other = active(&mut m, b"defg");
    // Nothing cached and nothing seen: 404 before the policy; an existing image: no error.
    assert_eq!(status(m.delete_cached_image(&stranger, &id)), 404);
    m.delete_cached_image(&admin, &other).unwrap();
    m.queue_image(&admin, &id).unwrap();
    m.delete_image(&owner, &id, b"").unwrap();
    assert_eq!(cached_ids(&m), vec![id.clone()]);
    // Cached but unseen: the policy decides.
    assert_eq!(status(m.delete_cached_image(&stranger, &id)), 403);
    m.delete_cached_image(&admin, &id).unwrap();
    assert!(cached_ids(&m).is_empty());
    assert_eq!(status(m.delete_cached_image(&admin, &id)), 404);
}

#[test]
fn a_clear_empties_what_its_target_names() {
    let mut m = model_with(Deployment::default());
    let (owner, admin) = (who(&m, "owner-token"), who(&m, "admin-token"));
    let id = active(&mut m, b"abc");
    m.queue_image(&admin, &id).unwrap();
    assert_eq!(status(m.clear_cache(&owner, None)), 403);
    assert_eq!(status(m.clear_cache(&admin, Some("all"))), 400);
    m.clear_cache(&admin, Some("queue")).unwrap();
    assert_eq!(cached_ids(&m), vec![id.clone()]);
    m.clear_cache(&admin, Some("CACHE")).unwrap();
    assert!(cached_ids(&m).is_empty());
    m.queue_image(&admin, &id).unwrap();
    m.clear_cache(&admin, Some("")).unwrap();
    assert!(cached_ids(&m).is_empty());
}

#[test]
fn a_prune_removes_the_oldest_copies_until_the_cache_fits() {
    let mut d = Deployment::default();
    d.cache.max_size = 10;
    let mut m = model_with(d);
    let admin = who(&m, "admin-token");
    let ids: Vec<String> = [&b"aaaaaa"[..], b"bbbbbb", b"cc"]
        .iter()
        .map(|b| active(&mut m, b))
        .collect();
    for id in &ids {
        m.queue_image(&admin, id).unwrap();
    }
    // 14 bytes over a maximum of 10: the oldest copy (6 bytes) goes, leaving 8.
    let pruned = m.prune_cache(&admin).unwrap();
    assert_eq!(
        pruned,
        json!({"total_files_pruned": 1, "total_bytes_pruned": 6})
    );
    assert_eq!(cached_ids(&m), ids[1..].to_vec());
    let again = m.prune_cache(&admin).unwrap();
    assert_eq!(
        again,
        json!({"total_files_pruned": 0, "total_bytes_pruned": 0})
    );
    assert_eq!(status(m.prune_cache(&who(&m, "owner-token"))), 403);
    m.clean_cache(&admin).unwrap();
    assert_eq!(cached_ids(&m).len(), 2);
}

#[test]
fn nodes_are_this_node_once_cached_and_need_the_centralized_driver() {
    let mut d = Deployment::default();
    d.cache.node_url = Some("http://node-1:9292".into());
    let mut m = model_with(d);
    let (owner, admin) = (who(&m, "owner-token"), who(&m, "admin-token"));
    let id = active(&mut m, b"abc");
    assert_eq!(m.cached_nodes(&admin, &id).unwrap(), json!([]));
    m.queue_image(&admin, &id).unwrap();
    assert_eq!(
        m.cached_nodes(&admin, &id).unwrap(),
        json!(["http://node-1:9292"])
    );
    // The policy before the lookup.
    assert_eq!(status(m.cached_nodes(&owner, "no-such-image")), 403);
    assert_eq!(status(m.cached_nodes(&admin, "no-such-image")), 404);
    let mut d = Deployment::default();
    d.cache.centralized = false;
    let m = model_with(d);
    assert_eq!(status(m.cached_nodes(&admin, &id)), 409);
}

#[test]
fn without_a_cache_admins_get_404_and_others_403() {
    let mut m = model_with(Deployment {
        image_cache: false,
        ..Deployment::default()
    });
    let (owner, admin) = (who(&m, "owner-token"), who(&m, "admin-token"));
    let id = active(&mut m, b"abc");
    assert_eq!(status(m.cache_state(&owner)), 403);
    assert_eq!(status(m.cache_state(&admin)), 404);
    assert_eq!(status(m.queue_image(&admin, &id)), 404);
    assert_eq!(status(m.clear_cache(&admin, None)), 404);
    assert_eq!(status(m.prune_cache(&admin)), 404);
    assert_eq!(status(m.clean_cache(&admin)), 404);
}
