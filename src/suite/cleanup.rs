//! Leftovers: every image a run creates is named `sharecheck-<run id>-…`; this finds and
//! deletes such images, for one run or for all earlier runs.

use serde_json::Value;

use crate::target::{CleanupError, Req, SendError, Session, Stage};

/// The name prefix of everything sharecheck creates.
pub const PREFIX: &str = "sharecheck-";

/// What a clean-up did.
#[derive(Debug, Default)]
pub struct Cleaned {
    /// Images deleted, as (persona, image id, name).
    pub deleted: Vec<(String, String, String)>,
    /// Images that could not be deleted, with why.
    pub failed: Vec<(String, String)>,
}

/// Why a request failed, without the request (the caller says which it was).
fn why(e: &SendError) -> String {
    match e {
        SendError::NoAnswer { source, .. } | SendError::CutShort { source, .. } => {
            crate::error::chain(source)
        }
        other => crate::error::chain(other),
    }
}

/// Deletes every image whose name starts with `prefix` that a persona of the session's
/// target owns, as that persona. Follows list pages.
pub async fn delete_by_prefix(session: &Session, prefix: &str) -> Cleaned {
    let mut out = Cleaned::default();
    let target = session.target();
    for (persona, p) in &target.personas {
        let first = "/v2/images?limit=200".to_string();
        let mut url = first.clone();
        let mut pages = 0;
        while pages < 1000 {
            pages += 1;
            let listed = session
                .send(Req::by(persona, "GET", url.clone()).stage(Stage::Cleanup))
                .await;
            let doc: Value = match listed {
                Ok(r) if (200..300).contains(&r.status) => r.json().unwrap_or_default(),
                Ok(r) => {
                    out.failed.push((
                        format!("listing as {persona}"),
                        format!("status {}", status_text(r.status)),
                    ));
                    break;
                }
                Err(e) => {
                    out.failed.push((format!("listing as {persona}"), why(&e)));
                    break;
                }
            };
            let mut deleted_here = false;
            for img in doc
                .get("images")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(id), Some(name), Some(owner)) = (
                    img.get("id").and_then(Value::as_str),
                    img.get("name").and_then(Value::as_str),
                    img.get("owner").and_then(Value::as_str),
                ) else {
                    continue;
                };
                if !name.starts_with(prefix)
                    || owner != p.project_id
                    || out.failed.iter().any(|(f, _)| f == id)
                {
                    continue;
                }
                match session.delete_image(id, persona).await {
                    Ok(()) => {
                        deleted_here = true;
                        out.deleted
                            .push((persona.clone(), id.to_string(), name.to_string()))
                    }
                    Err(CleanupError::Refused { status, .. }) => out
                        .failed
                        .push((id.to_string(), format!("status {}", status_text(status)))),
                    Err(CleanupError::Send(e)) => out.failed.push((id.to_string(), why(&e))),
                }
            }
            // Deleting shifts the pages (and may delete the next page's marker): start over.
            match doc.get("next").and_then(Value::as_str) {
                _ if deleted_here => url = first.clone(),
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
    }
    out
}

/// A status as reqwest shows it: `404 Not Found`.
fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status) {
        Ok(s) => s.to_string(),
        Err(_) => status.to_string(),
    }
}
