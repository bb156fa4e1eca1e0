//! web-download on the mock: the import is accepted (202) and the mock fetches the source,
//! here a tiny HTTP server on 127.0.0.1 that the deployment's import filter admits; the
//! image ends `active` with the data's size, digests and stores, or, for a source that is
//! missing, too large or too slow, back to `queued` with its task failed, as Glance 33 does.
//! Locations are shown when the configuration (a `glance-api.conf`) asks for them.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::{client, scratch};
use serde_json::{Value, json};
use sharecheck::{Deployment, ImportFilter, MockServer, Store};

/// The bytes `/small.bin` serves: 1234 of them.
fn small() -> Vec<u8> {
    (0..1234u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// Serves `/small.bin` (1234 bytes), `/big.bin` (5000 bytes, past the cap below) and
/// `/slow.bin` (headers, then nothing for 5 s); anything else is 404. At most `n`
/// connections, then the thread ends.
fn source_server(n: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let _ = reader.read_line(&mut line);
                // The rest of the head, up to the empty line (bounded).
                for _ in 0..100 {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("");
                let body = match path {
                    "/small.bin" => small(),
                    "/big.bin" => vec![7u8; 5000],
                    "/slow.bin" => {
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n",
                        );
                        std::thread::sleep(Duration::from_secs(5));
                        return;
                    }
                    _ => {
                        let _ = stream.write_all(
                            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                        return;
                    }
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    port
}

/// Two file stores, `fs` the default; the filter admits 127.0.0.1 on `port`; a cap of 3000
/// bytes and two seconds to fetch.
fn deployment(port: u16) -> Deployment {
    Deployment {
        stores: vec![Store::named("fs"), Store::named("backup")],
        default_store: Some("fs".into()),
        import_filter: ImportFilter {
            allowed_hosts: vec!["127.0.0.1".into()],
            allowed_ports: vec![80, 443, port],
            ..ImportFilter::default()
        },
        image_size_cap: 3000,
        web_download_timeout: 2,
        ..Deployment::default()
    }
}

async fn call(method: &str, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = client()
        .request(method.parse().unwrap(), url)
        .header("x-auth-token", "owner-token")
        .header("accept", "application/json");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A raw/bare image of the owner's; its id.
async fn new_image(base: &str) -> String {
    let (code, img) = call(
        "POST",
        format!("{base}/v2/images"),
        Some(json!({"name": "sharecheck-wd", "disk_format": "raw", "container_format": "bare"})),
    )
    .await;
    assert_eq!(code, 201, "{img}");
    img["id"].as_str().unwrap().to_string()
}

/// Imports `uri` into image `id` (202), then waits (at most 10 s) until the image is no
/// longer `importing`; the image and its one task.
async fn import(base: &str, id: &str, uri: &str, stores: Option<Value>) -> (Value, Value) {
    let mut body = json!({"method": {"name": "web-download", "uri": uri}});
    if let Some(s) = stores {
        body["stores"] = s;
    }
    let (code, err) = call("POST", format!("{base}/v2/images/{id}/import"), Some(body)).await;
    assert_eq!(code, 202, "{err}");
    for _ in 0..200 {
        let (_, img) = call("GET", format!("{base}/v2/images/{id}"), None).await;
        if img["status"] != "importing" {
            let (_, tasks) = call("GET", format!("{base}/v2/images/{id}/tasks"), None).await;
            let tasks = tasks["tasks"].as_array().unwrap().clone();
            assert_eq!(tasks.len(), 1, "{tasks:?}");
            return (img, tasks[0].clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("image {id} still importing after 10 s");
}

#[tokio::test]
async fn a_web_download_fetches_its_source_and_the_image_turns_active() {
    let port = source_server(16);
    let mock = MockServer::builder()
        .deployment(deployment(port))
        .start()
        .await
        .unwrap();
    let base = mock.uri();
    let id = new_image(&base).await;
    let uri = format!("http://127.0.0.1:{port}/small.bin");
    let (img, task) = import(&base, &id, &uri, Some(json!(["backup", "fs"]))).await;
    let data = small();
    let md5 = {
        use md5::Digest as _;
        hex::encode(md5::Md5::digest(&data))
    };
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["size"], 1234);
    assert_eq!(img["checksum"], md5);
    assert_eq!(img["os_hash_algo"], "sha512");
    assert_eq!(img["stores"], "backup,fs");
    assert_eq!(img["os_glance_importing_to_stores"], "");
    assert_eq!(img["os_glance_failed_import"], "");
    assert!(img.get("os_glance_import_task").is_none(), "{img}");
    assert!(
        img.get("locations").is_none(),
        "locations are hidden by default"
    );
    assert_eq!(task["status"], "success", "{task}");
    assert_eq!(task["type"], "api_image_import");
    assert_eq!(task["input"]["backend"], json!(["backup", "fs"]));
    assert_eq!(task["input"]["import_req"]["method"]["uri"], uri);
    assert_eq!(task["result"], json!({"image_id": id}));
    // The data is the source's.
    let got = client()
        .get(format!("{base}/v2/images/{id}/file"))
        .header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), data.as_slice());
    // Without stores named, the default store takes it; an active image is no target.
    let id2 = new_image(&base).await;
    let (img2, task2) = import(&base, &id2, &uri, None).await;
    assert_eq!(
        (img2["status"].clone(), img2["stores"].clone()),
        (json!("active"), json!("fs"))
    );
    assert_eq!(task2["input"]["backend"], json!(["fs"]));
    let body = json!({"method": {"name": "web-download", "uri": uri}});
    let (code, _) = call("POST", format!("{base}/v2/images/{id2}/import"), Some(body)).await;
    assert_eq!(code, 409);
}

#[tokio::test]
async fn a_missing_too_large_or_slow_source_fails_the_task_and_the_image_stays_queued() {
    let port = source_server(16);
    let mock = MockServer::builder()
        .deployment(deployment(port))
        .start()
        .await
        .unwrap();
    let base = mock.uri();
    for path in ["missing.bin", "big.bin", "slow.bin"] {
        let id = new_image(&base).await;
        let uri = format!("http://127.0.0.1:{port}/{path}");
        let (img, task) = import(&base, &id, &uri, Some(json!(["fs", "backup"]))).await;
        assert_eq!(img["status"], "queued", "{path}: {img}");
        assert_eq!(img["size"], Value::Null, "{path}");
        assert_eq!(img["os_glance_failed_import"], "backup,fs", "{path}");
        assert_eq!(img["os_glance_importing_to_stores"], "", "{path}");
        assert!(img.get("stores").is_none(), "{path}: {img}");
        assert_eq!(task["status"], "failure", "{path}");
        assert_eq!(
            task["message"], "Task failed due to Internal Error",
            "{path}"
        );
        assert_eq!(task["result"], Value::Null, "{path}");
    }
}

#[tokio::test]
async fn a_source_the_filter_or_its_address_refuses_is_400_at_once() {
    let port = source_server(1);
    let mut d = deployment(port);
    let base_filter = d.import_filter.clone();
    // Loopback is refused unless allowed_hosts names the host.
    d.import_filter.allowed_hosts.clear();
    let mock = MockServer::builder().deployment(d).start().await.unwrap();
    let base = mock.uri();
    let id = new_image(&base).await;
    for uri in [
        format!("http://127.0.0.1:{port}/small.bin"),
        format!("http://localhost:{port}/small.bin"),
        "http://does-not.exist/x".to_string(),
        format!("ftp://127.0.0.1:{port}/x"),
    ] {
        let body = json!({"method": {"name": "web-download", "uri": uri}});
        let (code, err) = call("POST", format!("{base}/v2/images/{id}/import"), Some(body)).await;
        assert_eq!(code, 400, "{uri}: {err}");
        let (_, img) = call("GET", format!("{base}/v2/images/{id}"), None).await;
        assert_eq!(img["status"], "queued");
    }
    drop(mock);
    // A port the filter does not list.
    let mut d = deployment(port);
    d.import_filter = ImportFilter {
        allowed_ports: vec![80],
        ..base_filter
    };
    let mock = MockServer::builder().deployment(d).start().await.unwrap();
    let base = mock.uri();
    let id = new_image(&base).await;
    let body = json!({"method": {"name": "web-download", "uri": format!("http://127.0.0.1:{port}/small.bin")}});
    let (code, _) = call("POST", format!("{base}/v2/images/{id}/import"), Some(body)).await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn locations_are_shown_when_the_glance_config_asks() {
    let dir = scratch("web-download-locations");
    let port = source_server(4);
    let conf = dir.join("glance-api.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nenabled_backends = fs:file,backup:file\nshow_multiple_locations = True\nshow_image_direct_url = True\n\
             [glance_store]\ndefault_backend = fs\n\
             [import_filtering_opts]\nallowed_hosts = [127.0.0.1]\nallowed_ports = [80,443,{port}]\n"
        ),
    )
    .unwrap();
    let loaded = sharecheck::load_glance_config(&conf, None).unwrap();
    let mock = MockServer::builder()
        .deployment(loaded.deployment)
        .start()
        .await
        .unwrap();
    let base = mock.uri();
    let id = new_image(&base).await;
    let (_, queued) = call("GET", format!("{base}/v2/images/{id}"), None).await;
    assert_eq!(queued["locations"], json!([]), "{queued}");
    assert!(queued.get("direct_url").is_none());
    let uri = format!("http://127.0.0.1:{port}/small.bin");
    let (img, _) = import(&base, &id, &uri, Some(json!(["backup", "fs"]))).await;
    let expected = json!([
        {"url": format!("file:///var/lib/glance/backup/{id}"), "metadata": {"store": "backup"}},
        {"url": format!("file:///var/lib/glance/fs/{id}"), "metadata": {"store": "fs"}},
    ]);
    assert_eq!(img["locations"], expected, "{img}");
    assert_eq!(img["direct_url"], expected[0]["url"]);
    let (_, list) = call("GET", format!("{base}/v2/images"), None).await;
    assert_eq!(list["images"][0]["locations"], expected);
    // Patching locations, now shown: an empty list is 403, a new location 400, removing
    // one is for admins (403).
    let patch = |body: Value| {
        let url = format!("{base}/v2/images/{id}");
        async move {
            let r = client()
                .patch(url)
                .header("x-auth-token", "owner-token")
                .header(
                    "content-type",
                    "application/openstack-images-v2.1-json-patch",
                )
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(
        patch(json!([{"op": "replace", "path": "/locations", "value": []}])).await,
        403
    );
    let add = json!([{"op": "add", "path": "/locations/-", "value": {"url": "http://example.com/x", "metadata": {}}}]);
    assert_eq!(patch(add).await, 400);
    assert_eq!(
        patch(json!([{"op": "remove", "path": "/locations/0"}])).await,
        403
    );
}

#[test]
fn an_import_a_crash_interrupted_ends_failed_after_the_restart() {
    let port = source_server(4);
    let dir = scratch("web-download-crash");
    let config = dir.join("deployment.yaml");
    std::fs::write(
        &config,
        format!(
            "import_filter: {{allowed_hosts: [127.0.0.1], allowed_ports: [80, 443, {port}]}}\nweb_download_timeout: 30\n"
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
    let mock = common::Mock::start(&args);
    let id = rt.block_on(async {
        let id = new_image(&mock.uri).await;
        let body = json!({"method": {"name": "web-download", "uri": format!("http://127.0.0.1:{port}/slow.bin")}});
        let (code, _) = call("POST", format!("{}/v2/images/{id}/import", mock.uri), Some(body)).await;
        assert_eq!(code, 202);
        let (_, img) = call("GET", format!("{}/v2/images/{id}", mock.uri), None).await;
        assert_eq!(img["status"], "importing", "{img}");
        id
    });
    drop(mock); // kill -9 while the source is still sending
    let mock = common::Mock::start(&args);
    rt.block_on(async {
        let (_, img) = call("GET", format!("{}/v2/images/{id}", mock.uri), None).await;
        assert_eq!(img["status"], "queued", "{img}");
        assert_eq!(img["os_glance_failed_import"], "fs");
        assert_eq!(img["os_glance_importing_to_stores"], "");
        assert!(img.get("os_glance_import_task").is_none(), "{img}");
        let (_, tasks) = call("GET", format!("{}/v2/images/{id}/tasks", mock.uri), None).await;
        assert_eq!(tasks["tasks"][0]["status"], "failure", "{tasks}");
        assert_eq!(
            tasks["tasks"][0]["message"],
            "Task failed due to Internal Error"
        );
    });
}
