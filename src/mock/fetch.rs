//! The web-download's fetch, at the edge: the model accepted the import and handed over a
//! [`Fetch`]; a task of its own, after the 202 has left, gets the source with reqwest
//! (connecting only to the addresses the model admitted, following no redirect, through no
//! proxy), streams the body through a [`Digester`] into the job's blob, within the job's
//! byte limit and time limit, and ends the job in the model, which keeps the blob or not.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::app::App;
use super::blobs::Blobs;
use crate::model::{Digester, Fetch, Received};

/// Fetches `job` in the background and ends it in the model.
pub(super) fn spawn(app: Arc<App>, job: Fetch) {
    tokio::spawn(async move {
        let blobs = app.model.blobs().clone();
        let limit = Duration::from_secs(job.timeout_secs);
        let got = match tokio::time::timeout(limit, pull(&blobs, &job)).await {
            Ok(got) => got,
            Err(_) => Err(format!("no complete answer within {} s", job.timeout_secs)),
        };
        let kept = app.model.write().finish_fetch(&job, got);
        if !kept {
            blobs.remove(job.blob);
        }
    });
}

/// The source's body into the job's blob, digested; why not, in words.
async fn pull(blobs: &Blobs, job: &Fetch) -> Result<Received, String> {
    // One crypto provider for the whole process; a second install is a harmless no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addrs: Vec<SocketAddr> = job
        .addresses
        .iter()
        .map(|a| SocketAddr::new(*a, job.port))
        .collect();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none());
    if job.host.parse::<IpAddr>().is_err() {
        builder = builder.resolve_to_addrs(&job.host, &addrs);
    }
    let client = builder.build().map_err(|e| crate::error::chain(&e))?;
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
    let mut writer = blobs.writer(job.blob).map_err(|e| e.to_string())?;
    let mut digest = Digester::default();
    let mut size: u64 = 0;
    while let Some(chunk) = answer.chunk().await.map_err(|e| crate::error::chain(&e))? {
        size += chunk.len() as u64;
        if size > job.limit {
            return Err(too_large());
        }
        digest.update(&chunk);
        writer.write(&chunk).map_err(|e| e.to_string())?;
    }
    super::data::commit(blobs, writer)
        .await
        .map_err(|e| e.to_string())?;
    Ok(digest.finish())
}
