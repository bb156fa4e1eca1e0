//! Token hygiene over a token's life: a token the target's Keystone issues, then revokes, must
//! stop working at once; one that expires must stop working when it says it does.
//!
//! The token is had by Keystone's `token` method from the member persona's token, at the
//! Keystone the image service answers at `/v3` (the mock's; a deployment whose Keystone is
//! elsewhere is noted as not probed). Revocation is `DELETE /v3/auth/tokens` with the token
//! as its own subject. Expiry is waited for only when the token expires within
//! [`MAX_EXPIRY_WAIT`]; otherwise it is noted as not probed.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::target::Session;

/// The longest wait for an issued token to expire.
pub(crate) const MAX_EXPIRY_WAIT: Duration = Duration::from_secs(5);

/// What the probe found.
#[derive(Debug, Default)]
pub(crate) struct TokenLife {
    /// Requests sent.
    pub(crate) requests: usize,
    /// Checks made (a revoked or an expired token on one path).
    pub(crate) probes: usize,
    /// A token that worked when it should not have, in words.
    pub(crate) violations: Vec<String>,
    /// What could not be probed, and why.
    pub(crate) notes: Vec<String>,
}

/// The image API paths a dead token is tried on.
const PATHS: &[&str] = &["/v2/images", "/v2/schemas/image"];

/// Issues, uses, revokes and (when it expires soon) outlives a token of the member persona.
pub(crate) async fn probe(session: &Session) -> TokenLife {
    let mut life = TokenLife::default();
    let Some(member) = session.target().personas.get("member") else {
        life.notes
            .push("revoked and expired tokens: no member persona".into());
        return life;
    };
    let base = session.target().endpoint.trim_end_matches('/').to_string();
    let keystone = format!("{base}/v3/auth/tokens");
    let http = session.client();
    let mut issue = |life: &mut TokenLife| {
        life.requests += 1;
        let body = json!({"auth": {"identity": {"methods": ["token"],
            "token": {"id": member.token}}}});
        http.post(&keystone).json(&body).send()
    };
    let issued = match issue(&mut life).await {
        Ok(r) if r.status() == 201 => r,
        Ok(r) => {
            life.notes.push(format!(
                "revoked and expired tokens not probed: POST {keystone} answered {} (no Keystone at the image endpoint)",
                r.status()
            ));
            return life;
        }
        Err(e) => {
            life.notes
                .push(format!("revoked and expired tokens not probed: {e}"));
            return life;
        }
    };
    let Some(token) = subject(&issued) else {
        life.notes
            .push("revoked and expired tokens not probed: no X-Subject-Token".into());
        return life;
    };
    let expires = issued.json::<Value>().await.ok().and_then(|v| expiry(&v));
    if !works(session, &token, &mut life).await {
        life.notes
            .push("revoked and expired tokens not probed: a token just issued is refused".into());
        return life;
    }
    life.requests += 1;
    let revoked = http
        .delete(&keystone)
        .header("x-auth-token", &token)
        .header("x-subject-token", &token)
        .send()
        .await;
    match revoked {
        Ok(r) if r.status().is_success() => dead(session, &token, "revoked", &mut life).await,
        Ok(r) => life.notes.push(format!(
            "revoked tokens not probed: DELETE answered {}",
            r.status()
        )),
        Err(e) => life.notes.push(format!("revoked tokens not probed: {e}")),
    }
    expired(session, &mut issue, expires, &mut life).await;
    life
}

/// Issues another token and, if it expires within the bound, checks it after its expiry.
async fn expired<F, Fut>(
    session: &Session,
    issue: &mut F,
    first_expiry: Option<SystemTime>,
    life: &mut TokenLife,
) where
    F: FnMut(&mut TokenLife) -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let lifetime = first_expiry.and_then(|t| t.duration_since(SystemTime::now()).ok());
    match lifetime {
        Some(left) if left <= MAX_EXPIRY_WAIT => {}
        _ => {
            life.notes.push(format!(
                "expired tokens not probed: issued tokens live longer than {} s",
                MAX_EXPIRY_WAIT.as_secs()
            ));
            return;
        }
    }
    let Ok(r) = issue(life).await else { return };
    let Some(token) = subject(&r) else { return };
    let Some(at) = r.json::<Value>().await.ok().and_then(|v| expiry(&v)) else {
        return;
    };
    let wait = at
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .min(MAX_EXPIRY_WAIT);
    // Past the second the expiry names (Keystone's times have whole seconds).
    tokio::time::sleep(wait + Duration::from_millis(1100)).await;
    dead(session, &token, "expired", life).await;
}

fn subject(r: &reqwest::Response) -> Option<String> {
    Some(
        r.headers()
            .get("x-subject-token")?
            .to_str()
            .ok()?
            .to_string(),
    )
}

fn expiry(body: &Value) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(body["token"]["expires_at"].as_str()?).ok()
}

/// Whether `token` lists images.
async fn works(session: &Session, token: &str, life: &mut TokenLife) -> bool {
    life.requests += 1;
    let url = format!(
        "{}/v2/images",
        session.target().endpoint.trim_end_matches('/')
    );
    let answer = session
        .client()
        .get(url)
        .header("x-auth-token", token)
        .send()
        .await;
    matches!(answer, Ok(r) if r.status() == 200)
}

/// `token` (which is `how`) must get 401 on every path.
async fn dead(session: &Session, token: &str, how: &str, life: &mut TokenLife) {
    let base = session.target().endpoint.trim_end_matches('/').to_string();
    for path in PATHS {
        life.requests += 1;
        life.probes += 1;
        let answer = session
            .client()
            .get(format!("{base}{path}"))
            .header("x-auth-token", token)
            .send()
            .await;
        match answer {
            Ok(r) if r.status() == 401 => {}
            Ok(r) => life.violations.push(format!(
                "GET {path} with a {how} token answered {}, expected 401",
                r.status()
            )),
            Err(e) => life
                .violations
                .push(format!("GET {path} with a {how} token: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use warp::Filter;

    /// A Keystone that issues tokens living a second, "revokes" them and an image API that
    /// takes any token: both checks must complain.
    #[tokio::test]
    async fn a_server_that_ignores_revocation_and_expiry_is_caught() {
        let issue = warp::post()
            .and(warp::path!("v3" / "auth" / "tokens"))
            .map(|| {
                let expires = humantime::format_rfc3339_seconds(
                    std::time::SystemTime::now() + std::time::Duration::from_secs(1),
                );
                let body = serde_json::json!({"token": {"expires_at": expires.to_string()}});
                warp::reply::with_status(
                    warp::reply::with_header(warp::reply::json(&body), "x-subject-token", "t"),
                    warp::http::StatusCode::CREATED,
                )
            });
        let revoke = warp::delete()
            .and(warp::path!("v3" / "auth" / "tokens"))
            .map(|| warp::http::StatusCode::NO_CONTENT);
        let images = warp::get().map(|| "{}");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = warp::serve(issue.or(revoke).or(images))
            .incoming(listener)
            .run();
        let task = tokio::spawn(server);
        let target = crate::embedded::target_for(&format!("http://{addr}"), None, &[]);
        let session = crate::target::Session::new(target).unwrap();
        let life = super::probe(&session).await;
        task.abort();
        assert!(life.notes.is_empty(), "{:?}", life.notes);
        assert_eq!(life.probes, 4);
        for how in ["revoked", "expired"] {
            assert!(
                life.violations.iter().any(|v| v.contains(how)),
                "{how}: {:?}",
                life.violations
            );
        }
    }
}
