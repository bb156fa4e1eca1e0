//! Using the mock as a fake image service in another program's tests: start it on a free
//! loopback port, seed it, talk to it, read its journal, and let it stop when dropped.
//!
//! `cargo run --example embed`

use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mock = sharecheck::MockServer::builder()
        .member_quota(2)
        .start()
        .await?;
    let http = reqwest::Client::new();
    let base = mock.uri();

    let image: Value = http
        .post(format!("{base}/v2/images"))
        .header("x-auth-token", "owner-token")
        .json(&json!({"name": "example", "visibility": "shared"}))
        .send()
        .await?
        .json()
        .await?;
    let id = image["id"].as_str().ok_or("no image id")?;
    for member in ["proj-member", "proj-other-member", "proj-stranger"] {
        let status = http
            .post(format!("{base}/v2/images/{id}/members"))
            .header("x-auth-token", "owner-token")
            .json(&json!({ "member": member }))
            .send()
            .await?
            .status();
        println!("add {member}: {status}");
    }

    let journal: Value = http
        .get(format!("{base}/_sharecheck/requests?method=POST"))
        .send()
        .await?
        .json()
        .await?;
    for entry in journal["requests"].as_array().into_iter().flatten() {
        println!(
            "{} {} by {} -> {}",
            entry["method"], entry["path"], entry["persona"], entry["status"]
        );
    }
    Ok(())
}
