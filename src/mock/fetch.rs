//! The web-download's fetch, at the edge: the model accepted the import and handed over a
//! [`Fetch`]; a task of its own, after the 202 has left, gets the source with reqwest
//! (connecting only to the addresses the model admitted, following no redirect, through no
//! proxy), streams the body through a [`Digester`] into the job's blob, within the job's
//! byte limit and time limit, and ends the job in the model, which keeps the blob or not.
//! A location's job (`POST /v2/images/{id}/locations`) is fetched the same way, with the
//! digest its `validation_data` names computed beside, and ends in
//! [`Model::finish_location`](crate::model::Model::finish_location); the blob is dropped.
//! Before a patch of `/locations` is answered, [`heads`] asks the size of each URL it adds.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::app::App;
use super::blobs::Blobs;
use crate::model::{Digester, Fetch, Fetched, Heads, Received};

/// How long the mock waits for the sizes of the locations a patch adds, all of them
/// together: past it, the URLs not answered yet count as unreadable (the patch is 400).
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many distinct URLs of one patch are probed; the others count as unreadable.
const MAX_HEADS: usize = 16;

/// Fetches `job` in the background and ends it in the model.
pub(super) fn spawn(app: Arc<App>, job: Fetch) {
    tokio::spawn(async move {
        let blobs = app.model.blobs().clone();
        let limit = Duration::from_secs(job.timeout_secs);
        let got = match tokio::time::timeout(limit, pull(&blobs, &job)).await {
            Ok(got) => got,
            Err(_) => Err(format!("no complete answer within {} s", job.timeout_secs)),
        };
        if job.location.is_some() {
            let fetched = got.map(|(r, hash)| Fetched {
                size: r.size,
                checksum: r.checksum,
                hash: hash.unwrap_or(r.os_hash_value),
            });
            app.model.write().finish_location(&job, fetched);
            blobs.remove(job.blob);
            return;
        }
        let kept = app.model.write().finish_fetch(&job, got.map(|(r, _)| r));
        if !kept {
            blobs.remove(job.blob);
        }
    });
}

/// A client that connects to `host` only at `addresses` (port `port`), through no proxy,
/// following no redirect.
fn pinned(host: &str, port: u16, addresses: &[IpAddr]) -> Result<reqwest::Client, String> {
    // One crypto provider for the whole process; a second install is a harmless no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addrs: Vec<SocketAddr> = addresses
        .iter()
        .map(|a| SocketAddr::new(*a, port))
        .collect();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none());
    if host.parse::<IpAddr>().is_err() {
        builder = builder.resolve_to_addrs(host, &addrs);
    }
    builder.build().map_err(|e| crate::error::chain(&e))
}

/// The sizes the http store finds at the location URLs the patch in `body` adds: a `HEAD`
/// each (at most [`MAX_HEADS`] distinct URLs), pinned to the addresses the import filter
/// admits (the model's [`head_targets`](crate::model::Model::head_targets) leaves out any
/// URL it refuses), all within [`HEAD_TIMEOUT`]; a URL that answers no size above zero, or
/// too late, is left out.
pub(super) async fn heads(app: &App, content_type: Option<&str>, body: &[u8]) -> Heads {
    let mut targets = app.model.read().head_targets(content_type, body);
    let mut seen = std::collections::BTreeSet::new();
    targets.retain(|t| seen.insert(t.url.clone()));
    targets.truncate(MAX_HEADS);
    let mut found = Heads::new();
    let probe = async {
        for t in targets {
            let Ok(client) = pinned(&t.host, t.port, &t.addresses) else {
                continue;
            };
            let Ok(answer) = client.head(&t.url).send().await else {
                continue;
            };
            let size = answer
                .headers()
                .get(reqwest::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if let (true, Some(n)) = (answer.status().is_success(), size.filter(|n| *n > 0)) {
                found.insert(t.url, n);
            }
        }
    };
    // Past the limit the probe is dropped (its connection with it): what was found stays.
    let _ = tokio::time::timeout(HEAD_TIMEOUT, probe).await;
    found
}

/// The source's body into the job's blob, digested (with a location's algorithm's digest
/// beside, when it is not SHA-512); why not, in words.
async fn pull(blobs: &Blobs, job: &Fetch) -> Result<(Received, Option<String>), String> {
    let client = pinned(&job.host, job.port, &job.addresses)?;
    let mut answer = client
        .get(&job.url)
        .send()
        .await
        .map_err(|e| crate::error::chain(&e))?;
    if !answer.status().is_success() {
        return Err(format!("the source answered {}", answer.status()));
    }
    let too_large = || format!("the data is larger than {} bytes", job.limit);
    if answer.content_length().is_some_and(|n| n > job.limit) {
        return Err(too_large());
    }
    let algo = match job.location.as_ref().map(|l| l.hash_algo.as_str()) {
        Some("sha256") => Some(&ring::digest::SHA256),
        Some("sha1") => Some(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
        _ => None,
    };
    let md5_only = job.location.as_ref().is_some_and(|l| l.hash_algo == "md5");
    let mut other = algo.map(ring::digest::Context::new);
    let mut writer = blobs.writer(job.blob).map_err(|e| e.to_string())?;
    let mut digest = Digester::default();
    let mut size: u64 = 0;
    while let Some(chunk) = answer.chunk().await.map_err(|e| crate::error::chain(&e))? {
        size += chunk.len() as u64;
        if size > job.limit {
            return Err(too_large());
        }
        digest.update(&chunk);
        if let Some(o) = other.as_mut() {
            o.update(&chunk);
        }
        writer.write(&chunk).map_err(|e| e.to_string())?;
    }
    super::data::commit(blobs, writer)
        .await
        .map_err(|e| e.to_string())?;
    let received = digest.finish();
    let hash = match (other, md5_only) {
        (Some(o), _) => Some(hex::encode(o.finish())),
        (None, true) => Some(received.checksum.clone()),
        (None, false) => None,
    };
    Ok((received, hash))
}
