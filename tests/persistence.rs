//! `sharecheck mock --state DIR`: an acknowledged write survives `kill -9` (32 clients, several
//! seeds), a restart serves the same state (order of members, former members, tokens), a
//! reset and a snapshot load reach the disk, and a directory that cannot be used is a clear
//! error that leaves it as it was; image data survives too, and an upload cut short leaves
//! nothing behind.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Mock, client, create, scratch, text};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sharecheck::MockServer;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// What the clients were told, by (image, member).
#[derive(Clone, Debug)]
enum Told {
    /// Added: the member's JSON as it was answered.
    Added(String),
    /// Its removal was sent and not answered: either state may be on disk.
    Removing,
    /// Removed.
    Removed,
}

type Acked = Arc<Mutex<BTreeMap<(String, String), Told>>>;

/// One client: adds members (and removes every fifth it added, and logs in now and then)
/// until the mock stops answering; every acknowledgement is noted.
async fn client_loop(
    http: reqwest::Client,
    base: String,
    images: Arc<Vec<String>>,
    n: usize,
    acked: Acked,
    tokens: Arc<Mutex<Vec<String>>>,
) {
    for i in 0.. {
        let image = &images[(n + i) % images.len()];
        let member = format!("proj-c{n}-{i}");
        let Ok(r) = http
            .post(format!("{base}/v2/images/{image}/members"))
            .header("x-auth-token", "owner-token")
            .json(&json!({ "member": member }))
            .send()
            .await
        else {
            return;
        };
        let ok = r.status() == 200;
        let Ok(body) = r.text().await else { return };
        if !ok {
            return;
        }
        let key = (image.clone(), member.clone());
        acked.lock().unwrap().insert(key.clone(), Told::Added(body));
        if i % 5 == 4 {
            acked.lock().unwrap().insert(key.clone(), Told::Removing);
            let Ok(r) = http
                .delete(format!("{base}/v2/images/{image}/members/{member}"))
                .header("x-auth-token", "owner-token")
                .send()
                .await
            else {
                return;
            };
            if r.status() != 204 {
                return;
            }
            acked.lock().unwrap().insert(key, Told::Removed);
        }
        if i % 7 == 6 {
            let login = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "owner", "domain": {"id": "default"}, "password": "owner-secret"}}},
                "scope": {"project": {"name": "owner", "domain": {"id": "default"}}}}});
            let Ok(r) = http
                .post(format!("{base}/v3/auth/tokens"))
                .json(&login)
                .send()
                .await
            else {
                return;
            };
            if r.status() != 201 {
                return;
            }
            if let Some(t) = r.headers().get("x-subject-token") {
                tokens.lock().unwrap().push(t.to_str().unwrap().to_string());
            }
        }
    }
}

/// Writes to the other collections: by the URL that reads one back (as the admin), the body
/// it answered once the write was acknowledged (`None`: the mock was gone before the read,
/// or later writes of the same run may change it, so only its presence is checked).
type Kept = Arc<Mutex<BTreeMap<String, Option<String>>>>;

/// Sends `body` to `url` as the admin; whether the answer had `status` (then the answer's
/// `Location`, or the empty string).
async fn admin_write(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
    status: u16,
) -> Option<String> {
    let mut r = http
        .request(method, url)
        .header("x-auth-token", "admin-token");
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.ok()?;
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    (r.status() == status).then(|| location.unwrap_or_default())
}

/// Reads `url` back as the admin and keeps what it answered (or only that it must exist).
async fn read_back(http: &reqwest::Client, kept: &Kept, url: String, exact: bool) {
    let body = match http
        .get(&url)
        .header("x-auth-token", "admin-token")
        .send()
        .await
    {
        Ok(r) if r.status() == 200 && exact => r.text().await.ok(),
        _ => None,
    };
    // Kept by path: the restarted mock listens on another port.
    let path = url.find("/v2/").map_or(url.as_str(), |i| &url[i..]);
    kept.lock().unwrap().insert(path.to_string(), body);
}

/// One client of the metadata definitions and tasks: a namespace, then an object, a tag, a
/// property, a resource type association (with a resource type of its own) and an import
/// task, each read back once acknowledged, until the mock stops answering.
async fn definitions_loop(http: reqwest::Client, base: String, n: usize, kept: Kept) {
    use reqwest::Method;
    let task = json!({"type": "import", "input": {
        "import_from": "http://192.0.2.1/crash.img", "import_from_format": "raw"}});
    for i in 0.. {
        let ns = format!("crash-ns-{n}-{i}");
        let at = format!("{base}/v2/metadefs/namespaces/{ns}");
        let body = json!({"namespace": ns, "visibility": "public"});
        let url = format!("{base}/v2/metadefs/namespaces");
        if admin_write(&http, Method::POST, url, Some(body), 201)
            .await
            .is_none()
        {
            return;
        }
        read_back(&http, &kept, at.clone(), false).await;
        let object = json!({"name": "o", "required": [], "properties": {}});
        let property = json!({"name": "p", "title": "P", "type": "string"});
        let rtype = json!({"name": format!("CRASH::Type::{n}-{i}"), "prefix": "c_"});
        for (url, body, back) in [
            (
                format!("{at}/objects"),
                Some(object),
                format!("{at}/objects/o"),
            ),
            (format!("{at}/tags/t"), None, format!("{at}/tags/t")),
            (
                format!("{at}/properties"),
                Some(property),
                format!("{at}/properties/p"),
            ),
            (
                format!("{at}/resource_types"),
                Some(rtype),
                format!("{at}/resource_types"),
            ),
        ] {
            if admin_write(&http, Method::POST, url, body, 201)
                .await
                .is_none()
            {
                return;
            }
            read_back(&http, &kept, back, true).await;
        }
        // Now nothing of this run changes the namespace any more.
        read_back(&http, &kept, at, true).await;
        let url = format!("{base}/v2/tasks");
        let Some(location) = admin_write(&http, Method::POST, url, Some(task.clone()), 201).await
        else {
            return;
        };
        let id = location.rsplit('/').next().unwrap_or_default();
        read_back(&http, &kept, format!("{base}/v2/tasks/{id}"), true).await;
    }
}

/// What a restarted mock lacks of the acknowledged writes `kept`.
async fn verify_kept(
    http: &reqwest::Client,
    base: &str,
    kept: &BTreeMap<String, Option<String>>,
) -> Vec<String> {
    let mut missing = Vec::new();
    for (url, body) in kept {
        let r = http
            .get(format!("{base}{url}"))
            .header("x-auth-token", "admin-token")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let got = r.text().await.unwrap();
        match body {
            _ if status != 200 => missing.push(format!("{url}: {status} {got}")),
            Some(b) if got != *b => missing.push(format!("{url}: {got}, acknowledged {b}")),
            _ => {}
        }
    }
    missing
}

/// 32 clients against a mock on `dir`, killed with SIGKILL after a seeded delay; then a
/// restart must serve every acknowledged write exactly.
fn crash_once(seed: u64) {
    let dir = scratch(&format!("crash-{seed}"));
    let state = dir.join("state");
    let state_arg = state.to_str().unwrap();
    let rt = runtime();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let delay = Duration::from_millis(rng.random_range(150..900));
    let acked: Acked = Arc::default();
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept: Kept = Arc::default();
    let mock = Mock::start(&["--state", state_arg, "--member-quota", "-1"]);
    let base = mock.uri.clone();
    let http = client();
    let images = rt.block_on(async {
        let mut ids = Vec::new();
        for k in 0..4 {
            ids.push(create(&http, &base, &format!("crash-{seed}-{k}")).await);
        }
        Arc::new(ids)
    });
    let mut mock = mock;
    rt.block_on(async {
        let mut clients: Vec<_> = (0..28)
            .map(|n| {
                tokio::spawn(client_loop(
                    http.clone(),
                    base.clone(),
                    images.clone(),
                    n,
                    acked.clone(),
                    tokens.clone(),
                ))
            })
            .collect();
        clients.extend((0..4).map(|n| {
            tokio::spawn(definitions_loop(
                http.clone(),
                base.clone(),
                n,
                kept.clone(),
            ))
        }));
        // The seeded moment counts from when every collection has been written to.
        for _ in 0..200 {
            if kept
                .lock()
                .unwrap()
                .values()
                .filter(|b| b.is_some())
                .count()
                >= 6
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(delay).await;
        mock.child.kill().unwrap(); // SIGKILL: no chance to flush anything
        mock.child.wait().unwrap();
        for c in clients {
            let _ = tokio::time::timeout(Duration::from_secs(20), c).await;
        }
    });
    drop(mock);
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked
            .values()
            .filter(|v| matches!(v, Told::Added(_)))
            .count()
            > 32,
        "seed {seed}: the clients got too few answers ({}) before the kill to test anything",
        acked.len()
    );
    let kept = kept.lock().unwrap().clone();
    assert!(
        kept.values().filter(|b| b.is_some()).count() >= 6,
        "seed {seed}: too few definitions were read back ({}) before the kill",
        kept.len()
    );
    let again = Mock::start(&["--state", state_arg, "--member-quota", "-1"]);
    let mut missing = rt.block_on(verify(
        &http,
        &again.uri,
        &images,
        &acked,
        &tokens.lock().unwrap(),
    ));
    missing.extend(rt.block_on(verify_kept(&http, &again.uri, &kept)));
    assert!(
        missing.is_empty(),
        "seed {seed}, kill after {delay:?}: {missing:#?}"
    );
}

/// What a restarted mock lacks of the acknowledged writes.
async fn verify(
    http: &reqwest::Client,
    base: &str,
    images: &[String],
    acked: &BTreeMap<(String, String), Told>,
    tokens: &[String],
) -> Vec<String> {
    let mut missing = Vec::new();
    for image in images {
        let r = http
            .get(format!("{base}/v2/images/{image}"))
            .header("x-auth-token", "owner-token")
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            missing.push(format!("image {image}: {}", r.status()));
        }
    }
    for ((image, member), body) in acked {
        let r = http
            .get(format!("{base}/v2/images/{image}/members/{member}"))
            .header("x-auth-token", "owner-token")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let got = r.text().await.unwrap();
        match body {
            Told::Added(b) if status != 200 || got != *b => missing.push(format!(
                "{image}/{member}: {status} {got}, acknowledged {b}"
            )),
            Told::Removed if status != 404 => missing.push(format!(
                "{image}/{member}: {status}, its removal was acknowledged"
            )),
            _ => {}
        }
    }
    for t in tokens {
        let r = http
            .get(format!("{base}/v2/images"))
            .header("x-auth-token", t)
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            missing.push(format!("issued token: {}", r.status()));
        }
    }
    missing
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    for seed in [1, 2, 3] {
        crash_once(seed);
    }
}

async fn snapshot(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}/_sharecheck/snapshot"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Sends `r` as the owner; the status.
async fn send(r: reqwest::RequestBuilder) -> u16 {
    r.header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Adds `member` through the members URL `members`, as the owner (must be 200).
async fn add(http: &reqwest::Client, members: &str, member: &str) {
    let r = http.post(members).json(&json!({ "member": member }));
    assert_eq!(send(r).await, 200, "add {member}");
}

/// Removes `member` through the members URL `members`, as the owner (must be 204).
async fn remove(http: &reqwest::Client, members: &str, member: &str) {
    assert_eq!(
        send(http.delete(format!("{members}/{member}"))).await,
        204,
        "remove {member}"
    );
}

#[test]
fn a_restart_serves_the_same_state_in_the_same_order() {
    let dir = scratch("restart").join("state");
    let rt = runtime();
    let http = client();
    rt.block_on(async {
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        let base = mock.uri();
        let id = create(&http, &base, "restart-a").await;
        let members = format!("{base}/v2/images/{id}/members");
        // Added out of name order, one removed and added again (it keeps its first
        // `created_at` and goes last), one removed for good (a former member).
        for m in ["proj-zz", "proj-member", "proj-aa", "proj-gone"] {
            add(&http, &members, m).await;
        }
        remove(&http, &members, "proj-zz").await;
        remove(&http, &members, "proj-gone").await;
        add(&http, &members, "proj-zz").await;
        let tag = http.put(format!("{base}/v2/images/{id}/tags/kept"));
        assert_eq!(send(tag).await, 204);
        let status = http
            .put(format!("{members}/proj-member"))
            .header("x-auth-token", "member-token")
            .json(&json!({"status": "accepted"}))
            .send()
            .await
            .unwrap();
        assert_eq!(status.status(), 200);
        let doomed = create(&http, &base, "restart-doomed").await;
        assert_eq!(
            send(http.delete(format!("{base}/v2/images/{doomed}"))).await,
            204
        );
        let before = snapshot(&http, &base).await;
        drop(mock);

        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        let base = mock.uri();
        assert_eq!(snapshot(&http, &base).await, before);
        let order: Vec<&str> = before["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["image_id"] == id.as_str())
            .map(|m| m["member_id"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["proj-member", "proj-aa", "proj-zz"]);
        let gone = before["former_members"].as_array().unwrap();
        assert!(gone.iter().any(|f| f["member_id"] == "proj-gone"));
        // A member added after the restart goes last, and stays last after another.
        let members = format!("{base}/v2/images/{id}/members");
        add(&http, &members, "proj-a0").await;
        let after = snapshot(&http, &base).await;
        drop(mock);
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        let again = snapshot(&http, &mock.uri()).await;
        assert_eq!(again, after);
        assert_eq!(again["members"][3]["member_id"], "proj-a0");
    });
}

#[test]
fn reset_and_snapshot_loads_reach_the_disk() {
    let dir = scratch("reset-disk").join("state");
    let rt = runtime();
    let http = client();
    rt.block_on(async {
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        let base = mock.uri();
        create(&http, &base, "reset-a").await;
        let r = http
            .post(format!("{base}/_sharecheck/reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        drop(mock);
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        let base = mock.uri();
        assert_eq!(snapshot(&http, &base).await["images"], json!([]));
        let id = create(&http, &base, "reset-b").await;
        let mut snap = snapshot(&http, &base).await;
        snap["images"][0]["name"] = json!("loaded");
        let r = http
            .put(format!("{base}/_sharecheck/snapshot"))
            .json(&snap)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        drop(mock);
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        let after = snapshot(&http, &mock.uri()).await;
        assert_eq!(after["images"][0]["id"], json!(id));
        assert_eq!(after["images"][0]["name"], "loaded");
    });
}

#[test]
fn a_new_state_dir_starts_from_the_fixtures_and_keeps_its_own_later() {
    let scratch = scratch("state-fixtures");
    let dir = scratch.join("state");
    let fixtures = scratch.join("fixtures.json");
    let id = "00000000-0000-4000-8000-000000000001";
    let doc = json!({"format": "sharecheck-snapshot", "version": 1, "images": [{
        "id": id, "name": "from-fixtures", "owner": "proj-owner",
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]});
    std::fs::write(&fixtures, doc.to_string()).unwrap();
    let (dir_arg, fix_arg) = (dir.to_str().unwrap(), fixtures.to_str().unwrap());
    let rt = runtime();
    let http = client();
    let mock = Mock::start(&["--state", dir_arg, "--fixtures", fix_arg]);
    let names = rt.block_on(async {
        assert_eq!(
            send(http.delete(format!("{}/v2/images/{id}", mock.uri))).await,
            204
        );
        create(&http, &mock.uri, "own").await;
        snapshot(&http, &mock.uri).await
    });
    assert_eq!(names["images"][0]["name"], "own");
    drop(mock);
    let mock = Mock::start(&["--state", dir_arg, "--fixtures", fix_arg]);
    let snap = rt.block_on(snapshot(&http, &mock.uri));
    assert_eq!(snap["images"].as_array().unwrap().len(), 1);
    assert_eq!(
        snap["images"][0]["name"], "own",
        "the directory's state wins"
    );
}

#[test]
fn a_long_log_is_rewritten_on_open_to_what_is_live() {
    let dir = scratch("compact").join("state");
    let rt = runtime();
    let http = client();
    let entries = || -> i64 {
        let db = rusqlite::Connection::open(dir.join("state.sqlite3")).unwrap();
        db.query_row("SELECT count(*) FROM log", [], |r| r.get(0))
            .unwrap()
    };
    let before = rt.block_on(async {
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        let base = mock.uri();
        let id = create(&http, &base, "compact").await;
        let members = format!("{base}/v2/images/{id}/members");
        for _ in 0..600 {
            add(&http, &members, "proj-x").await;
            remove(&http, &members, "proj-x").await;
        }
        add(&http, &members, "proj-kept").await;
        snapshot(&http, &base).await
    });
    assert!(entries() > 1200, "every write was appended: {}", entries());
    rt.block_on(async {
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        assert_eq!(snapshot(&http, &mock.uri()).await, before);
    });
    // The image, its member and its former member.
    assert_eq!(entries(), 3);
    rt.block_on(async {
        let mock = MockServer::builder().state_dir(&dir).start().await.unwrap();
        assert_eq!(snapshot(&http, &mock.uri()).await, before);
    });
}

/// Runs `sharecheck ARGS` (a mock that must refuse to start) for at most 20 s.
fn refused(args: &[&str], expect: &str) {
    let mut child = std::process::Command::new(common::BIN)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{args:?} still runs after 20 s; expected a refusal saying {expect:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains(expect), "expected {expect:?} in: {t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn unusable_state_dirs_are_clear_errors_and_stay_as_they_were() {
    let root = scratch("state-bad");
    let mock = |dir: &std::path::Path| {
        vec![
            "mock".to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--state".into(),
            dir.to_str().unwrap().to_string(),
        ]
    };
    let run = |dir: &std::path::Path, expect: &str| {
        let args = mock(dir);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, expect);
    };
    // Not a database at all: damaged, and not overwritten.
    let garbage = root.join("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    std::fs::write(garbage.join("state.sqlite3"), "not sqlite").unwrap();
    run(&garbage, "damaged");
    assert_eq!(
        std::fs::read(garbage.join("state.sqlite3")).unwrap(),
        b"not sqlite"
    );
    // A SQLite database that is not a sharecheck state.
    let foreign = root.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    let db = rusqlite::Connection::open(foreign.join("state.sqlite3")).unwrap();
    db.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(db);
    run(&foreign, "without sharecheck's meta table");
    // A state of another layout version, and one with a record this build cannot read.
    let written = root.join("written");
    {
        let rt = runtime();
        let http = client();
        rt.block_on(async {
            let mock = MockServer::builder()
                .state_dir(&written)
                .start()
                .await
                .unwrap();
            let id = create(&http, &mock.uri(), "bad-record").await;
            let r = http
                .post(format!("{}/v2/images/{id}/members", mock.uri()))
                .header("x-auth-token", "owner-token")
                .json(&json!({"member": "proj-member"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        });
    }
    let copy = |name: &str| {
        let to = root.join(name);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(&written).unwrap() {
            let f = f.unwrap().path();
            // The database files; the (empty) blob directory is made again on open.
            if f.is_file() {
                std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
            }
        }
        rusqlite::Connection::open(to.join("state.sqlite3")).unwrap()
    };
    copy("layout")
        .execute("UPDATE meta SET value = '99' WHERE key = 'layout'", [])
        .unwrap();
    run(&root.join("layout"), "written with layout version 99");
    copy("older")
        .execute("UPDATE meta SET value = '1' WHERE key = 'layout'", [])
        .unwrap();
    run(
        &root.join("older"),
        "written by an older sharecheck (layout version 1)",
    );
    copy("record")
        .execute(
            "UPDATE log SET value = replace(value, '\"pending\"', '\"maybe\"')",
            [],
        )
        .unwrap();
    run(
        &root.join("record"),
        "`maybe`: expected pending, accepted or rejected",
    );
    // A directory one mock holds is refused to a second.
    let held = Mock::start(&["--state", written.to_str().unwrap()]);
    run(&written, "in use by another process");
    drop(held);
    // A path that is a file, not a directory.
    let file = root.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    run(&file, "cannot create the directory");
}

/// Creates a raw/bare image (data can be uploaded to it) as the owner; its id.
async fn create_for_data(http: &reqwest::Client, base: &str, name: &str) -> String {
    let r = http
        .post(format!("{base}/v2/images"))
        .header("x-auth-token", "owner-token")
        .json(&json!({"name": name, "disk_format": "raw", "container_format": "bare"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn blob_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn image_data_survives_kill_9_and_an_upload_cut_short_leaves_nothing() {
    use std::io::Write as _;
    let dir = scratch("data").join("state");
    let dir_arg = dir.to_str().unwrap().to_string();
    let rt = runtime();
    let http = client();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mock = Mock::start(&["--state", &dir_arg]);
    let (kept, cut) = rt.block_on(async {
        let kept = create_for_data(&http, &mock.uri, "data-kept").await;
        let up = http
            .put(format!("{}/v2/images/{kept}/file", mock.uri))
            .header("content-type", "application/octet-stream")
            .body(data.clone());
        assert_eq!(send(up).await, 204);
        (kept, create_for_data(&http, &mock.uri, "data-cut").await)
    });
    // An upload that declares 8 MiB, sends 1 MiB and is still under way at the kill.
    let addr = mock.uri.trim_start_matches("http://").to_string();
    let mut raw = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "PUT /v2/images/{cut}/file HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: owner-token\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        8 << 20
    );
    raw.write_all(head.as_bytes()).unwrap();
    raw.write_all(&vec![1u8; 1 << 20]).unwrap();
    let saving = rt.block_on(async {
        for _ in 0..200 {
            let r = http
                .get(format!("{}/v2/images/{cut}", mock.uri))
                .header("x-auth-token", "owner-token")
                .send()
                .await
                .unwrap();
            let status = r.json::<Value>().await.unwrap()["status"].clone();
            if status == "saving" {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    });
    assert!(saving, "the cut upload never reached `saving`");
    drop(mock);
    drop(raw);

    let mock = Mock::start(&["--state", &dir_arg]);
    rt.block_on(async {
        let get = |id: &str, tail: &str| {
            http.get(format!("{}/v2/images/{id}{tail}", mock.uri))
                .header("x-auth-token", "owner-token")
                .send()
        };
        let back = get(&kept, "/file").await.unwrap();
        assert_eq!(back.status(), 200);
        assert_eq!(back.bytes().await.unwrap().as_ref(), data.as_slice());
        let img: Value = get(&kept, "").await.unwrap().json().await.unwrap();
        assert_eq!(
            (img["status"].clone(), img["size"].clone()),
            (json!("active"), json!(3_000_000))
        );
        let img: Value = get(&cut, "").await.unwrap().json().await.unwrap();
        assert_eq!(
            img["status"], "queued",
            "an upload cut short by the crash is lost: {img}"
        );
        assert_eq!(
            blob_files(&dir).len(),
            1,
            "only the finished upload's file stays"
        );
        let del = http.delete(format!("{}/v2/images/{kept}", mock.uri));
        assert_eq!(send(del).await, 204);
        assert!(
            blob_files(&dir).is_empty(),
            "a deleted image's data is removed"
        );
    });
}
