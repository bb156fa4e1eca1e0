//! The locations API on the mock, end to end: a deployment with an http store and an import
//! filter admitting a tiny HTTP server on 127.0.0.1. A location added with `POST
//! /v2/images/{id}/locations` is read by its task and the image turns `active` with the
//! data's size and digests; a patch adding an http URL is judged on the `HEAD` the mock
//! makes first, only to sources the filter admits and only for a caller with a token; and
//! the mock restarted on its `--state` directory keeps the locations it took.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, scratch};
use serde_json::{Value, json};
use sharecheck::{Deployment, ImportFilter, MockServer, Store};

const PATCH_TYPE: &str = "application/openstack-images-v2.1-json-patch";

/// The bytes `/disk.img` serves: 1234 of them.
fn disk() -> Vec<u8> {
    (0..1234u32).map(|i| (i * 13 % 251) as u8).collect()
}

fn md5_hex(b: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(b))
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, b))
}

fn sha512_hex(b: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA512, b))
}

/// What the source server was asked: `METHOD PATH` lines.
type Asked = Arc<Mutex<Vec<String>>>;

/// Serves `/disk.img` and `/copy.img` (the same 1234 bytes; `HEAD` gives their length
/// only); anything else is 404. Records each request line.
fn source_server() -> (u16, Asked) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked: Asked = Arc::default();
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let _ = reader.read_line(&mut line);
                for _ in 0..100 {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                log.lock().unwrap().push(format!("{method} {path}"));
                if path != "/disk.img" && path != "/copy.img" {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    return;
                }
                let body = disk();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                if method == "GET" {
                    let _ = stream.write_all(&body);
                }
            });
        }
    });
    (port, asked)
}

/// A file store `local` (the default) and an http store `web`; the filter admits 127.0.0.1
/// on `port`; locations shown.
fn deployment(port: u16) -> Deployment {
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
            allowed_ports: vec![80, 443, port],
            ..ImportFilter::default()
        },
        show_multiple_locations: true,
        web_download_timeout: 10,
        ..Deployment::default()
    }
}

async fn call(
    method: &str,
    url: String,
    token: Option<&str>,
    content_type: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client()
        .request(method.parse().unwrap(), url)
        .header("accept", "application/json");
    if let Some(t) = token {
        req = req.header("x-auth-token", t);
    }
    if let Some(b) = body {
        req = req.header("content-type", content_type).body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, path: &str, token: &str) -> Value {
    let (code, v) = call("GET", format!("{base}{path}"), Some(token), "", None).await;
    assert_eq!(code, 200, "GET {path}: {v}");
    v
}

async fn new_image(base: &str) -> String {
    let body = json!({"name": "sharecheck-loc", "disk_format": "raw", "container_format": "bare"});
    let (code, img) = call(
        "POST",
        format!("{base}/v2/images"),
        Some("owner-token"),
        "application/json",
        Some(body),
    )
    .await;
    assert_eq!(code, 201, "{img}");
    img["id"].as_str().unwrap().to_string()
}

/// Adds location `body` to image `id` (202), then waits (at most 10 s) for its task to
/// end; the image and the task.
async fn add_location(base: &str, id: &str, body: Value) -> (Value, Value) {
    let (code, err) = call(
        "POST",
        format!("{base}/v2/images/{id}/locations"),
        Some("owner-token"),
        "application/json",
        Some(body),
    )
    .await;
    assert_eq!(code, 202, "{err}");
    for _ in 0..200 {
        let tasks = get(base, &format!("/v2/images/{id}/tasks"), "owner-token").await;
        let task = tasks["tasks"][0].clone();
        if task["status"] != "processing" && task["status"] != "pending" {
            assert_eq!(tasks["tasks"].as_array().map(Vec::len), Some(1));
            return (
                get(base, &format!("/v2/images/{id}"), "owner-token").await,
                task,
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the location task of image {id} still runs after 10 s");
}

async fn patch(base: &str, id: &str, token: Option<&str>, doc: Value) -> (u16, Value) {
    call(
        "PATCH",
        format!("{base}/v2/images/{id}"),
        token,
        PATCH_TYPE,
        Some(doc),
    )
    .await
}

fn add_doc(url: &str) -> Value {
    json!([{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}])
}

#[tokio::test]
async fn an_added_location_is_read_and_the_image_turns_active_with_its_size_and_digests() {
    let (port, _) = source_server();
    let mock = MockServer::builder()
        .deployment(deployment(port))
        .start()
        .await
        .unwrap();
    let base = mock.uri();
    let data = disk();
    let url = format!("http://127.0.0.1:{port}/disk.img");
    // With the client's SHA-256.
    let id = new_image(&base).await;
    let vd = json!({"os_hash_algo": "sha256", "os_hash_value": sha256_hex(&data)});
    let (img, task) = add_location(&base, &id, json!({"url": url, "validation_data": vd})).await;
    assert_eq!(task["status"], "success", "{task}");
    assert_eq!(task["type"], "location_import");
    assert_eq!(task["input"]["loc_url"], url);
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["size"], 1234);
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(img["os_hash_algo"], "sha256");
    assert_eq!(img["os_hash_value"], sha256_hex(&data));
    assert_eq!(img["stores"], "web");
    let expected = json!([{"url": url, "metadata": {"store": "web"}}]);
    assert_eq!(img["locations"], expected);
    let listed = get(&base, &format!("/v2/images/{id}/locations"), "admin-token").await;
    assert_eq!(listed, expected);
    // Without validation_data the digest is SHA-512.
    let id = new_image(&base).await;
    let (img, _) = add_location(&base, &id, json!({"url": url})).await;
    assert_eq!(
        (img["status"].clone(), img["os_hash_value"].clone()),
        (json!("active"), json!(sha512_hex(&data)))
    );
    // A hash that is not the data's fails the task; the image stays queued, without size.
    let id = new_image(&base).await;
    let vd = json!({"os_hash_algo": "sha256", "os_hash_value": "0".repeat(64)});
    let (img, task) = add_location(&base, &id, json!({"url": url, "validation_data": vd})).await;
    assert_eq!(task["status"], "failure", "{task}");
    assert_eq!(
        (img["status"].clone(), img["size"].clone()),
        (json!("queued"), Value::Null)
    );
    // A URL with nothing behind it: the task fails, no location.
    let id = new_image(&base).await;
    let missing = format!("http://127.0.0.1:{port}/missing.img");
    let (img, task) = add_location(&base, &id, json!({"url": missing})).await;
    assert_eq!(task["status"], "failure");
    assert_eq!(img["locations"], json!([]), "{img}");
}

#[tokio::test]
async fn a_patch_adding_an_http_url_is_judged_on_a_head_to_admitted_sources_only() {
    let (port, asked) = source_server();
    let mock = MockServer::builder()
        .deployment(deployment(port))
        .start()
        .await
        .unwrap();
    let base = mock.uri();
    let id = new_image(&base).await;
    // Without a token nothing is probed; a host the filter refuses (localhost is not named
    // in allowed_hosts, though it is this very server) is never reached: both refused.
    let anon = format!("http://127.0.0.1:{port}/anonymous.img");
    assert_eq!(patch(&base, &id, None, add_doc(&anon)).await.0, 401);
    let refused = format!("http://localhost:{port}/refused.img");
    let (code, err) = patch(&base, &id, Some("owner-token"), add_doc(&refused)).await;
    assert_eq!(code, 400, "{err}");
    // Nothing there: 400.
    let missing = format!("http://127.0.0.1:{port}/missing.img");
    let (code, _) = patch(&base, &id, Some("owner-token"), add_doc(&missing)).await;
    assert_eq!(code, 400);
    assert_eq!(
        get(&base, &format!("/v2/images/{id}"), "owner-token").await["status"],
        "queued"
    );
    // There: taken, the image active with the size the HEAD gave.
    let url = format!("http://127.0.0.1:{port}/disk.img");
    let (code, img) = patch(&base, &id, Some("owner-token"), add_doc(&url)).await;
    assert_eq!(code, 200, "{img}");
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], 1234);
    assert_eq!(
        img["locations"],
        json!([{"url": url, "metadata": {"store": "web"}}])
    );
    // A second copy of the data at another URL is taken beside it.
    let copy = format!("http://127.0.0.1:{port}/copy.img");
    let (code, img) = patch(&base, &id, Some("owner-token"), add_doc(&copy)).await;
    assert_eq!(code, 200, "{img}");
    assert_eq!(img["locations"].as_array().map(Vec::len), Some(2));
    let asked = asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [
            "HEAD /missing.img".to_string(),
            "HEAD /disk.img".into(),
            "HEAD /copy.img".into()
        ],
        "only admitted sources, for a caller with a token, with HEAD"
    );
}

#[test]
fn the_mock_restarted_on_its_state_keeps_the_locations_it_took() {
    let (port, _) = source_server();
    let dir = scratch("locations-state");
    let config = dir.join("deployment.yaml");
    std::fs::write(
        &config,
        format!(
            "stores: [{{id: local}}, {{id: web, read_only: true}}]\ndefault_store: local\n\
             show_multiple_locations: true\n\
             import_filter: {{allowed_hosts: [127.0.0.1], allowed_ports: [80, 443, {port}]}}\n"
        ),
    )
    .unwrap();
    let state = dir.join("state");
    let args = [
        "--state",
        state.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/disk.img");
    let copy = format!("http://127.0.0.1:{port}/copy.img");
    let mock = common::Mock::start(&args);
    let (posted, patched, before) = rt.block_on(async {
        let posted = new_image(&mock.uri).await;
        let (img, _) = add_location(&mock.uri, &posted, json!({"url": url})).await;
        assert_eq!(img["status"], "active", "{img}");
        let patched = new_image(&mock.uri).await;
        let doc = json!([{"op": "add", "path": "/locations/-", "value": {"url": copy, "metadata": {"k": "v"}}}]);
        let (code, img) = patch(&mock.uri, &patched, Some("owner-token"), doc).await;
        assert_eq!(code, 200, "{img}");
        let mut before = Vec::new();
        for id in [&posted, &patched] {
            before.push(get(&mock.uri, &format!("/v2/images/{id}"), "owner-token").await);
        }
        (posted, patched, before)
    });
    drop(mock);
    let mock = common::Mock::start(&args);
    rt.block_on(async {
        for (id, was) in [&posted, &patched].into_iter().zip(&before) {
            let img = get(&mock.uri, &format!("/v2/images/{id}"), "owner-token").await;
            assert_eq!(&img, was, "image {id} after the restart");
        }
        let listed = get(
            &mock.uri,
            &format!("/v2/images/{patched}/locations"),
            "admin-token",
        )
        .await;
        assert_eq!(
            listed,
            json!([{"url": copy, "metadata": {"k": "v", "store": "web"}}])
        );
        assert_eq!(before[0]["size"], 1234);
        assert_eq!(before[0]["checksum"], md5_hex(&disk()));
    });
}
