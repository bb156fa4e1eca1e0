//! `sharecheck mock --config` and `--glance-config`: the mock plays the deployment a file
//! describes (stores, default store, import methods, version list), prints what it does not
//! model, and refuses bad files with file:line and exit 2.

mod common;

use std::path::{Path, PathBuf};

use common::{client, scratch, sharecheck, text};
use serde_json::{Value, json};

/// A `sharecheck mock` child with its standard error kept in a file, killed on drop.
struct Mock {
    inner: common::Mock,
    stderr: PathBuf,
}

impl Mock {
    fn start(dir: &Path, args: &[&str]) -> Mock {
        let stderr = dir.join("stderr.txt");
        let file = std::fs::File::create(&stderr).unwrap();
        Mock {
            inner: common::Mock::start_to(args, file),
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl std::ops::Deref for Mock {
    type Target = common::Mock;

    fn deref(&self) -> &common::Mock {
        &self.inner
    }
}

const GLANCE_CONF: &str = "\
# two file stores, as a real glance-api.conf would declare them
[DEFAULT]
enabled_backends = local:file,backup:file
enabled_import_methods = [glance-direct,copy-image]
image_member_quota = 5
debug = false

[database]
connection = sqlite:////var/lib/glance/glance.sqlite

[glance_store]
default_backend = local

[local]
store_description = \"Fast local disk\"
weight = 100
filesystem_store_datadir = /var/lib/glance/local/

[backup]
store_description = Backup copies
weight = 50
filesystem_store_datadir = /var/lib/glance/backup/
";

const YAML_CONF: &str = "\
stores:
  - {id: local, description: Fast local disk, weight: 100}
  - {id: backup, description: Backup copies, weight: 50}
default_store: local
import_methods: [glance-direct, copy-image]
image_cache: false
quotas:
  image_member_quota: 5
";

type Answer = (u16, Value);

async fn call(method: &str, url: String, token: Option<&str>, body: Option<Value>) -> Answer {
    let http = client();
    let mut req = http
        .request(method.parse().unwrap(), url)
        .header("accept", "application/json");
    if let Some(t) = token {
        req = req.header("x-auth-token", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A `PUT` of image data (`…/file` or `…/stage` at `url`) with `token` and more headers;
/// the status.
async fn put_data(url: String, token: &str, headers: &[(&str, &str)], bytes: &'static str) -> u16 {
    let mut req = client()
        .put(url)
        .header("x-auth-token", token)
        .header("content-type", "application/octet-stream");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(bytes).send().await.unwrap().status().as_u16()
}

fn version_ids(doc: &Value) -> Vec<String> {
    doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v["status"].as_str() {
            Some("CURRENT") => format!("{}*", v["id"].as_str().unwrap()),
            _ => v["id"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// What Glance 33 lists with stores and without the image cache.
/// Glance 33's list with a cache and stores (the default mock's).
const WITH_CACHE_AND_STORES: &[&str] = &[
    "v2.18*", "v2.17", "v2.16", "v2.15", "v2.14", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9",
    "v2.8", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0",
];

/// Glance 33's list with stores and no cache.
const WITH_STORES: &[&str] = &[
    "v2.15", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8", "v2.17*", "v2.7", "v2.6", "v2.5",
    "v2.4", "v2.3", "v2.2", "v2.1", "v2.0",
];

/// Checks a mock playing two stores, `local` (default) and `backup`, with glance-direct and
/// copy-image: discovery, /v1, the info documents, an upload landing in `local` and a copy
/// to `backup` completing.
fn plays_two_stores(mock: &Mock) {
    let base = mock.uri.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let admin = Some("admin-token");
        let (code, doc) = call("GET", format!("{base}/versions"), None, None).await;
        assert_eq!(code, 200);
        assert_eq!(version_ids(&doc), WITH_STORES);
        for method in ["GET", "POST", "DELETE"] {
            let (code, v1) = call(method, format!("{base}/v1/images"), None, None).await;
            assert_eq!(code, 300, "{method} /v1/images");
            assert_eq!(v1, doc, "/v1 answers the version list");
        }
        let (code, stores) = call("GET", format!("{base}/v2/info/stores"), admin, None).await;
        assert_eq!(code, 200);
        assert_eq!(
            stores,
            json!({"stores": [
                {"id": "local", "description": "Fast local disk", "default": "true"},
                {"id": "backup", "description": "Backup copies"},
            ]})
        );
        let (_, import) = call("GET", format!("{base}/v2/info/import"), admin, None).await;
        assert_eq!(
            import["import-methods"]["value"],
            json!(["glance-direct", "copy-image"])
        );

        let body = json!({"name": "cfg", "disk_format": "raw", "container_format": "bare"});
        let (code, img) = call("POST", format!("{base}/v2/images"), admin, Some(body)).await;
        assert_eq!(code, 201);
        let id = img["id"].as_str().unwrap().to_string();
        let put = put_data(
            format!("{base}/v2/images/{id}/file"),
            "admin-token",
            &[],
            "hello stores",
        )
        .await;
        assert_eq!(put, 204);
        let show = format!("{base}/v2/images/{id}");
        assert_eq!(
            call("GET", show.clone(), admin, None).await.1["stores"],
            "local"
        );

        let import_url = format!("{base}/v2/images/{id}/import");
        let web = json!({"method": {"name": "web-download", "uri": "http://example.org/x"}});
        let (code, err) = call("POST", import_url.clone(), admin, Some(web)).await;
        assert_eq!(code, 400, "web-download is not enabled: {err}");
        let copy = json!({"method": {"name": "copy-image"}, "stores": ["backup"]});
        let (code, _) = call("POST", import_url.clone(), admin, Some(copy.clone())).await;
        assert_eq!(code, 202);
        assert_eq!(
            call("GET", show, admin, None).await.1["stores"],
            "local,backup"
        );
        let (_, tasks) = call("GET", format!("{base}/v2/images/{id}/tasks"), admin, None).await;
        assert_eq!(tasks["tasks"][0]["status"], "success");
        assert_eq!(tasks["tasks"][0]["input"]["backend"], json!(["backup"]));
        let (code, _) = call("POST", import_url.clone(), admin, Some(copy)).await;
        assert_eq!(code, 400, "already in backup");
        let nowhere = json!({"method": {"name": "copy-image"}, "stores": ["nowhere"]});
        let (code, err) = call("POST", import_url, admin, Some(nowhere)).await;
        assert_eq!(code, 409);
        assert_eq!(err["message"], "Store for identifier nowhere not found");
        // An upload may name its store in `X-Image-Meta-Store`.
        for (store, code) in [("backup", 204), ("nowhere", 400)] {
            let body = json!({"name": "h", "disk_format": "raw", "container_format": "bare"});
            let (_, img) = call("POST", format!("{base}/v2/images"), admin, Some(body)).await;
            let id = img["id"].as_str().unwrap().to_string();
            let put = put_data(
                format!("{base}/v2/images/{id}/file"),
                "admin-token",
                &[("x-image-meta-store", store)],
                "hello header",
            )
            .await;
            assert_eq!(put, code, "upload to {store}");
            let (_, shown) = call("GET", format!("{base}/v2/images/{id}"), admin, None).await;
            let expected = if code == 204 {
                json!("backup")
            } else {
                Value::Null
            };
            assert_eq!(
                shown.get("stores").cloned().unwrap_or(Value::Null),
                expected
            );
        }
        // The member quota came from the file.
        let (_, img) = call(
            "POST",
            format!("{base}/v2/images"),
            Some("owner-token"),
            Some(json!({"name": "q", "visibility": "shared"})),
        )
        .await;
        let members = format!("{base}/v2/images/{}/members", img["id"].as_str().unwrap());
        for i in 0..6 {
            let (code, _) = call(
                "POST",
                members.clone(),
                Some("owner-token"),
                Some(json!({"member": format!("p{i}")})),
            )
            .await;
            assert_eq!(code, if i < 5 { 200 } else { 413 }, "member {i}");
        }
    });
}

#[test]
fn a_glance_api_conf_gives_its_stores_and_methods_and_lists_the_rest() {
    let dir = scratch("mock-glance-conf");
    let conf = dir.join("glance-api.conf");
    std::fs::write(&conf, GLANCE_CONF).unwrap();
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, "\"copy_image\": \"role:admin\"\n").unwrap();
    let mock = Mock::start(
        &dir,
        &[
            "--glance-config",
            conf.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    plays_two_stores(&mock);
    let err = mock.stderr();
    for line in [
        "not modelled: [DEFAULT] debug",
        "not modelled: [database] connection",
        "not modelled: [local] filesystem_store_datadir",
        "not modelled: policy rule \"copy_image\"",
    ] {
        assert!(err.contains(line), "missing `{line}` in:\n{err}");
    }
    assert!(!err.contains("store_description"), "{err}");
    assert!(!err.contains("enabled_backends"), "{err}");
}

#[test]
fn a_yaml_deployment_plays_the_same() {
    let dir = scratch("mock-yaml-conf");
    let conf = dir.join("deployment.yaml");
    std::fs::write(&conf, YAML_CONF).unwrap();
    let mock = Mock::start(&dir, &["--config", conf.to_str().unwrap()]);
    plays_two_stores(&mock);
    assert!(!mock.stderr().contains("not modelled"), "{}", mock.stderr());
}

#[test]
fn the_shipped_example_loads() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mock-config.yaml");
    let loaded = sharecheck::load_deployment(Path::new(example)).expect("example loads");
    assert!(loaded.deployment.stores.len() >= 2);
}

/// The fixture standing for `glance-manage db_load_metadefs`: Glance's 32 shipped
/// namespaces (names and resource type associations) and their 6 resource types.
#[test]
fn the_shipped_metadata_definitions_load_as_fixtures() {
    let dir = scratch("mock-metadefs");
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/shipped-metadefs.json"
    );
    let mock = Mock::start(&dir, &["--fixtures", fixtures]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let owner = Some("owner-token");
        let url = format!("{}/v2/metadefs/resource_types", mock.uri);
        let (code, types) = call("GET", url, owner, None).await;
        assert_eq!(code, 200);
        let names: Vec<&str> = types["resource_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(names.contains(&"OS::Glance::Image"), "{names:?}");
        let url = format!("{}/v2/metadefs/namespaces?limit=100", mock.uri);
        let (_, ns) = call("GET", url, owner, None).await;
        assert_eq!(ns["namespaces"].as_array().unwrap().len(), 32);
    });
}

#[test]
fn bad_config_files_name_file_line_and_exit_2() {
    let dir = scratch("mock-bad-conf");
    let cases = [
        (
            "typo.yaml",
            "--config",
            "stores: [{id: local}]\ndefault_store: local\nimport_method: [glance-direct]\n",
            "typo.yaml:3:1",
        ),
        (
            "wrong.yaml",
            "--config",
            "stores: [{id: local}]\ndefault_store: elsewhere\n",
            "wrong.yaml:2",
        ),
        (
            "bad.conf",
            "--glance-config",
            "[DEFAULT]\nimage_member_quota = many\n",
            "bad.conf:2:22",
        ),
        (
            "nodefault.conf",
            "--glance-config",
            "[DEFAULT]\nenabled_backends = a:file,b:file\n",
            "nodefault.conf:2",
        ),
        (
            "broken.conf",
            "--glance-config",
            "[DEFAULT\nx = 1\n",
            "broken.conf:",
        ),
    ];
    for (name, flag, content, at) in cases {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let out = sharecheck(&[
            "mock",
            "--listen",
            "127.0.0.1:0",
            flag,
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        assert!(
            text(&out).contains(at),
            "{name}: expected {at} in {}",
            text(&out)
        );
    }
    let out = sharecheck(&["mock", "--config", "a.yaml", "--glance-config", "b.conf"]);
    assert_eq!(out.status.code(), Some(2), "both flags: {}", text(&out));
    let out = sharecheck(&["mock", "--policy", "p.yaml"]);
    assert_eq!(out.status.code(), Some(2), "policy alone: {}", text(&out));
}

#[test]
fn the_default_mock_lists_nineteen_versions_with_v2_18_current() {
    let dir = scratch("mock-default-versions");
    let mock = Mock::start(&dir, &[]);
    let base = mock.uri.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (code, doc) = call("GET", format!("{base}/"), None, None).await;
        assert_eq!(code, 300);
        assert_eq!(version_ids(&doc), WITH_CACHE_AND_STORES);
        let (_, stores) = call(
            "GET",
            format!("{base}/v2/info/stores"),
            Some("reader-token"),
            None,
        )
        .await;
        assert_eq!(stores, json!({"stores": [{"id": "fs", "default": "true"}]}));
    });
}

#[test]
fn without_stores_the_mock_plays_a_single_store_glance() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let single = sharecheck::Deployment {
            stores: Vec::new(),
            default_store: None,
            ..sharecheck::Deployment::default()
        };
        let mock = sharecheck::MockServer::builder()
            .deployment(single)
            .start()
            .await
            .unwrap();
        let base = mock.uri();
        let admin = Some("admin-token");
        let (_, doc) = call("GET", format!("{base}/versions"), None, None).await;
        let mut expected = vec!["v2.18*", "v2.17", "v2.16", "v2.15", "v2.14", "v2.9"];
        expected.extend(&WITH_STORES[8..]);
        assert_eq!(version_ids(&doc), expected);
        let (code, err) = call("GET", format!("{base}/v2/info/stores"), admin, None).await;
        assert_eq!(code, 404);
        assert_eq!(
            err["message"],
            "Multi backend is not supported at this site."
        );
        let body = json!({"name": "one", "disk_format": "raw", "container_format": "bare"});
        let (_, img) = call("POST", format!("{base}/v2/images"), admin, Some(body)).await;
        let id = img["id"].as_str().unwrap().to_string();
        let put = put_data(
            format!("{base}/v2/images/{id}/stage"),
            "admin-token",
            &[],
            "staged",
        )
        .await;
        assert_eq!(put, 204);
        // Without stores the `stores` of a request are not looked at, as on Glance.
        let direct = json!({"method": {"name": "glance-direct"}, "stores": ["nope"]});
        let (code, _) = call(
            "POST",
            format!("{base}/v2/images/{id}/import"),
            admin,
            Some(direct),
        )
        .await;
        assert_eq!(code, 202);
        let (_, shown) = call("GET", format!("{base}/v2/images/{id}"), admin, None).await;
        assert_eq!(shown["status"], "active");
        assert!(shown.get("stores").is_none(), "{shown}");
        let (_, tasks) = call("GET", format!("{base}/v2/images/{id}/tasks"), admin, None).await;
        assert_eq!(tasks["tasks"][0]["input"]["backend"], json!([null]));
    });
}

#[test]
fn without_the_format_match_requirement_mismatched_data_is_taken() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for required in [true, false] {
            let deployment = sharecheck::Deployment {
                require_image_format_match: required,
                ..sharecheck::Deployment::default()
            };
            let mock = sharecheck::MockServer::builder()
                .deployment(deployment)
                .start()
                .await
                .unwrap();
            let base = mock.uri();
            let owner = Some("owner-token");
            let body = json!({"name": "q", "disk_format": "qcow2", "container_format": "bare"});
            let (_, img) = call("POST", format!("{base}/v2/images"), owner, Some(body)).await;
            let id = img["id"].as_str().unwrap().to_string();
            let put = put_data(
                format!("{base}/v2/images/{id}/file"),
                "owner-token",
                &[],
                "not a qcow2 file",
            )
            .await;
            let (_, shown) = call("GET", format!("{base}/v2/images/{id}"), owner, None).await;
            if required {
                assert_eq!(put, 415);
                assert_eq!(shown["status"], "queued");
            } else {
                assert_eq!(put, 204);
                assert_eq!(
                    (&shown["status"], &shown["virtual_size"]),
                    (&json!("active"), &Value::Null)
                );
            }
        }
    });
}
