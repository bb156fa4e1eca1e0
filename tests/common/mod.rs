//! Helpers shared by the end-to-end tests: a `sharecheck mock` child process, running the
//! `sharecheck` command, and a few HTTP calls to inspect a mock.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_sharecheck");

/// A `sharecheck mock` child process on a free loopback port, killed on drop.
pub struct Mock {
    pub child: Child,
    pub uri: String,
}

impl Mock {
    pub fn start(args: &[&str]) -> Mock {
        Mock::start_to(args, Stdio::null())
    }

    /// The mock with `args`, its standard error going to `stderr`.
    pub fn start_to(args: &[&str], stderr: impl Into<Stdio>) -> Mock {
        let mut child = Command::new(BIN)
            .args(["mock", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn mock");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("mock prints its address within 20 s");
        let uri = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Mock { child, uri }
    }

    /// A target file for the built-in identities at `endpoint` (default: this mock).
    pub fn target_file(&self, tag: &str, extra: &str) -> PathBuf {
        target_file(&self.uri, tag, extra)
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch folder for one test.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sharecheck-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A target file with the built-in personas' static tokens.
pub fn target_file(endpoint: &str, tag: &str, extra: &str) -> PathBuf {
    let path = scratch(tag).join("target.yaml");
    let text = format!(
        "endpoint: {endpoint}\npersonas:\n  owner: {{token: owner-token, project_id: proj-owner}}\n  member: {{token: member-token, project_id: proj-member}}\n  other_member: {{token: other-member-token, project_id: proj-other-member}}\n  stranger: {{token: stranger-token, project_id: proj-stranger}}\n  admin: {{token: admin-token, project_id: proj-admin}}\n  reader: {{token: reader-token, project_id: proj-owner}}\n{extra}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

pub fn sharecheck(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run sharecheck")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An HTTP client (installs the TLS crypto provider reqwest needs first).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Names of the images `token`'s project sees on the mock at `uri` (blocking).
pub fn image_names(uri: &str, token: &str) -> Vec<String> {
    image_names_query(uri, token, "")
}

/// Names of the images listed with an extra query string (blocking).
pub fn image_names_query(uri: &str, token: &str, query: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let v: serde_json::Value = client()
            .get(format!("{uri}/v2/images?limit=1000&{query}"))
            .header("x-auth-token", token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap_or("").to_string())
            .collect()
    })
}

/// Creates an image named `name` as `token` on the mock at `uri` (blocking).
pub fn create_image(uri: &str, token: &str, name: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = client()
            .post(format!("{uri}/v2/images"))
            .header("x-auth-token", token)
            .json(&serde_json::json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    });
}

/// Creates a shared image named `name` as the owner on the mock at `base`; its id.
pub async fn create(http: &reqwest::Client, base: &str, name: &str) -> String {
    let r = http
        .post(format!("{base}/v2/images"))
        .header("x-auth-token", "owner-token")
        .json(&serde_json::json!({"name": name, "visibility": "shared"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The needs the default mock (one writable store, no http store, locations hidden, no
/// unified limits) does not meet.
pub const DEFAULT_MOCK_LACKS: &[&str] = &[
    "multiple-stores",
    "http-store",
    "locations-shown",
    "unified-limits",
];

/// The names of the bundled cases the default mock ignores (they need what it lacks).
pub fn default_mock_ignores() -> Vec<String> {
    sharecheck::Suite::bundled()
        .unwrap()
        .cases
        .iter()
        .filter(|c| {
            c.needs
                .iter()
                .any(|n| DEFAULT_MOCK_LACKS.contains(&n.to_string().as_str()))
        })
        .map(|c| c.name.clone())
        .collect()
}
