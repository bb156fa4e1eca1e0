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

use crate::error::chain;
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
            life.notes.push(format!(
                "revoked and expired tokens not probed: {}",
                chain(&e)
            ));
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
        Err(e) => life
            .notes
            .push(format!("revoked tokens not probed: {}", chain(&e))),
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
                .push(format!("GET {path} with a {how} token: {}", chain(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One answer of the lax server: a Keystone that issues tokens living a second and
    /// "revokes" them, and an image API that takes any token.
    fn answer(head: &str) -> String {
        let (status, headers, body) = if head.starts_with("POST /v3/auth/tokens") {
            let expires = humantime::format_rfc3339_seconds(
                std::time::SystemTime::now() + std::time::Duration::from_secs(1),
            );
            let body = format!(r#"{{"token": {{"expires_at": "{expires}"}}}}"#);
            ("201 Created", "x-subject-token: t\r\n", body)
        } else if head.starts_with("DELETE /v3/auth/tokens") {
            ("204 No Content", "", String::new())
        } else {
            ("200 OK", "", "{}".to_string())
        };
        format!(
            "HTTP/1.1 {status}\r\n{headers}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    /// Serves one connection: requests without bodies that matter (a body is skipped by its
    /// `content-length`).
    async fn serve(mut conn: tokio::net::TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let Ok(n) = conn.read(&mut chunk).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if buf.len() < end + 4 + length {
                    break;
                }
                buf.drain(..end + 4 + length);
                if conn.write_all(answer(&head).as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }

    #[tokio::test]
    async fn a_server_that_ignores_revocation_and_expiry_is_caught() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            for _ in 0..64 {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(conn));
            }
        });
        let persona = |p: &str| crate::target::Persona {
            token: format!("{p}-token"),
            project_id: format!("proj-{p}"),
        };
        let target = crate::target::Target {
            endpoint: format!("http://{addr}"),
            personas: ["owner", "member", "stranger"]
                .into_iter()
                .map(|p| (p.to_string(), persona(p)))
                .collect(),
            member_quota: None,
            tag_quota: None,
            capabilities: Vec::new(),
            deployment: None,
            tls: Default::default(),
            network: Default::default(),
        };
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
