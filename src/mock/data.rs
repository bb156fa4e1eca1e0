//! Image data at the edge: an upload's body streamed through the digests into the blob
//! store, then the upload ended in the model; a download's bytes streamed out of the store.
//! Neither holds more than a block of the data in memory beyond what the store keeps.

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use warp::http::StatusCode;
use warp::reply::Reply as _;

use super::app::App;
use super::blobs::{BlobWriter, Blobs};
use super::out::{Out, Reply};
use crate::model::{Digester, PARALLEL_BYTES, Upload};

/// Streams an upload's body into blob `up.blob` and ends the upload: `ok` when the model
/// accepts the data, else its refusal (the image back to `queued`, the blob dropped), built by
/// `out`, the request's, so that a late refusal carries the request's id.
pub(super) async fn receive(
    app: &App,
    out: &Out,
    up: Upload,
    stream: BoxStream<'static, Result<Bytes, warp::Error>>,
    ok: Reply,
) -> Reply {
    let blobs = app.model.blobs().clone();
    let digest = match take_in(&blobs, &up, stream).await {
        Ok(d) => d,
        Err(refusal) => {
            app.model.write().abort_upload(&up);
            return refusal(out);
        }
    };
    let ended = app.model.write().finish_upload(&up, digest.finish());
    match ended {
        Ok(()) => ok,
        Err(e) => {
            blobs.remove(up.blob);
            out.api_error(&e)
        }
    }
}

/// Why an upload's bytes did not all reach the store, as the answer to give.
type Refusal = Box<dyn FnOnce(&Out) -> Reply + Send>;

/// The body into a committed blob, digested on the way.
async fn take_in(
    blobs: &Blobs,
    up: &Upload,
    mut stream: BoxStream<'static, Result<Bytes, warp::Error>>,
) -> Result<Digester, Refusal> {
    let mut writer = blobs.writer(up.blob).map_err(storage)?;
    let mut digest = Digester::default();
    // Chunks gather into pieces large enough for the digests to run side by side.
    let mut piece: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(bytes) = chunk else {
            return Err(Box::new(|out: &Out| {
                out.error(
                    StatusCode::BAD_REQUEST,
                    "The upload broke off before all of its data arrived.",
                )
            }));
        };
        if piece.is_empty() && bytes.len() >= PARALLEL_BYTES {
            digest.update(&bytes);
        } else {
            piece.extend_from_slice(&bytes);
            if piece.len() >= PARALLEL_BYTES {
                digest.update(&piece);
                piece.clear();
            }
        }
        writer.write(&bytes).map_err(storage)?;
    }
    digest.update(&piece);
    commit(blobs, writer).await.map_err(storage)?;
    Ok(digest)
}

/// Commits a blob; a file is synced off the async threads.
pub(super) async fn commit(blobs: &Blobs, writer: BlobWriter) -> std::io::Result<()> {
    match blobs {
        Blobs::Memory(_) => writer.commit(),
        Blobs::Dir(_) => tokio::task::spawn_blocking(move || writer.commit())
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e))),
    }
}

/// A store that cannot take the bytes: full (413, as the reference answers) or failing.
fn storage(e: std::io::Error) -> Refusal {
    Box::new(move |out: &Out| {
        if e.kind() == std::io::ErrorKind::StorageFull {
            out.error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Image storage media is full: {e}"),
            )
        } else {
            out.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("The image data could not be stored: {e}"),
            )
        }
    })
}

/// The answer `head` with `len` bytes of blob `blob` from `offset` as its body; 204 when the
/// store has no such blob (as the reference answers when its store lost the data).
pub(super) fn send(
    app: &App,
    out: &Out,
    head: Reply,
    blob: u64,
    offset: u64,
    len: u64,
) -> warp::reply::Response {
    match app.model.blobs().read(blob, offset, len) {
        Ok(Some(stream)) => {
            let (parts, _) = head.into_parts();
            let mut r = warp::reply::stream(stream).into_response();
            *r.status_mut() = parts.status;
            *r.headers_mut() = parts.headers;
            r
        }
        Ok(None) => out.empty(StatusCode::NO_CONTENT).into_response(),
        Err(e) => out
            .error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("The image data could not be read: {e}"),
            )
            .into_response(),
    }
}
