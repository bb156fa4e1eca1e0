//! Leftovers: every image a run creates is named `sharecheck-<run id>-…`; this finds and
//! deletes such images, for one run or for all earlier runs.

use serde_json::Value;

use super::target::Target;

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

/// Deletes every image whose name starts with `prefix` that a persona of `target` owns,
/// as that persona. Follows list pages.
pub async fn delete_by_prefix(client: &reqwest::Client, target: &Target, prefix: &str) -> Cleaned {
    let mut out = Cleaned::default();
    let base = target.base();
    for (persona, p) in &target.personas {
        let first = format!("{base}/v2/images?limit=200");
        let mut url = first.clone();
        let mut pages = 0;
        while pages < 1000 {
            pages += 1;
            let listed = client
                .get(&url)
                .header("accept", "application/json")
                .header("x-auth-token", &p.token)
                .send()
                .await;
            let doc: Value = match listed {
                Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
                Ok(r) => {
                    out.failed.push((
                        format!("listing as {persona}"),
                        format!("status {}", r.status()),
                    ));
                    break;
                }
                Err(e) => {
                    out.failed
                        .push((format!("listing as {persona}"), e.to_string()));
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
                let r = client
                    .delete(format!("{base}/v2/images/{id}"))
                    .header("x-auth-token", &p.token)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 204 || r.status().as_u16() == 404 => {
                        deleted_here = true;
                        out.deleted
                            .push((persona.clone(), id.to_string(), name.to_string()))
                    }
                    Ok(r) => out
                        .failed
                        .push((id.to_string(), format!("status {}", r.status()))),
                    Err(e) => out.failed.push((id.to_string(), e.to_string())),
                }
            }
            // Deleting shifts the pages (and may delete the next page's marker): start over.
            match doc.get("next").and_then(Value::as_str) {
                _ if deleted_here => url = first.clone(),
                Some(next) => url = format!("{base}{next}"),
                None => break,
            }
        }
    }
    out
}
