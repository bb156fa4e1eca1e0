//! A Keystone v3 client for one thing: trading password credentials for a project-scoped
//! token, its project id and the service catalog.

use serde_json::{Value, json};

/// Password credentials that cannot be sent as they are.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The Keystone URL is not HTTP(S).
    #[error("auth_url `{0}` is not an http:// or https:// URL")]
    AuthUrl(String),
    /// Neither user name nor user id.
    #[error("password credentials need username or user_id")]
    NoUser,
    /// No password.
    #[error("password credentials need a password")]
    NoPassword,
    /// No project to scope to.
    #[error("password credentials need project_name or project_id")]
    NoProject,
}

/// Keystone did not issue a usable token. Never shows the password or a token.
#[derive(Debug, thiserror::Error)]
pub enum KeystoneError {
    /// No answer.
    #[error("cannot reach Keystone at {url}")]
    Unreachable {
        /// The tokens URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// Keystone answered, but not 201.
    #[error("Keystone at {url} refused the credentials ({status}: {reason})")]
    Refused {
        /// The tokens URL.
        url: String,
        /// Its status.
        status: u16,
        /// Its `error.message`, or `no reason given`.
        reason: String,
    },
    /// 201 without the token header.
    #[error("Keystone at {url} answered 201 without X-Subject-Token")]
    NoToken {
        /// The tokens URL.
        url: String,
    },
    /// A token without a project.
    #[error("Keystone at {url} issued a token without a project scope")]
    Unscoped {
        /// The tokens URL.
        url: String,
    },
}

/// Keystone v3 password credentials with a project scope.
#[derive(Clone, Default)]
pub(crate) struct Credentials {
    pub(crate) auth_url: String,
    pub(crate) username: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) password: String,
    pub(crate) user_domain_name: Option<String>,
    pub(crate) user_domain_id: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) project_name: Option<String>,
    pub(crate) project_domain_name: Option<String>,
    pub(crate) project_domain_id: Option<String>,
}

impl Credentials {
    /// Whether the credentials are complete.
    pub(crate) fn check(&self) -> Result<(), CredentialsError> {
        let url = self.auth_url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CredentialsError::AuthUrl(url.to_string()));
        }
        if self.username.is_none() && self.user_id.is_none() {
            return Err(CredentialsError::NoUser);
        }
        if self.password.is_empty() {
            return Err(CredentialsError::NoPassword);
        }
        if self.project_id.is_none() && self.project_name.is_none() {
            return Err(CredentialsError::NoProject);
        }
        Ok(())
    }

    fn tokens_url(&self) -> String {
        let url = self.auth_url.trim_end_matches('/');
        if url.ends_with("/v3") {
            format!("{url}/auth/tokens")
        } else {
            format!("{url}/v3/auth/tokens")
        }
    }

    fn body(&self) -> Value {
        let domain = |name: &Option<String>, id: &Option<String>| match (id, name) {
            (Some(id), _) => json!({"id": id}),
            (None, Some(name)) => json!({"name": name}),
            (None, None) => json!({"id": "default"}),
        };
        let user = match (&self.user_id, &self.username) {
            (Some(id), _) => json!({"id": id, "password": self.password}),
            (None, name) => json!({
                "name": name,
                "password": self.password,
                "domain": domain(&self.user_domain_name, &self.user_domain_id),
            }),
        };
        let project = match (&self.project_id, &self.project_name) {
            (Some(id), _) => json!({"id": id}),
            (None, name) => json!({
                "name": name,
                "domain": domain(&self.project_domain_name, &self.project_domain_id),
            }),
        };
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": user}},
            "scope": {"project": project},
        }})
    }
}

/// What Keystone gave back.
pub(crate) struct Issued {
    pub(crate) token: String,
    pub(crate) project_id: String,
    catalog: Value,
}

impl Issued {
    /// The image service's URL for this interface (and region, when given), without a
    /// trailing version.
    pub(crate) fn image_endpoint(&self, interface: &str, region: Option<&str>) -> Option<String> {
        let services = self.catalog.as_array()?;
        let image = services
            .iter()
            .find(|s| s.get("type").and_then(Value::as_str) == Some("image"))?;
        image
            .get("endpoints")?
            .as_array()?
            .iter()
            .filter(|e| e.get("interface").and_then(Value::as_str) == Some(interface))
            .find(|e| {
                region.is_none_or(|r| {
                    e.get("region_id").and_then(Value::as_str) == Some(r)
                        || e.get("region").and_then(Value::as_str) == Some(r)
                })
            })
            .and_then(|e| e.get("url")?.as_str())
            .map(|u| {
                let u = u.trim_end_matches('/');
                u.strip_suffix("/v2").unwrap_or(u).to_string()
            })
    }
}

/// `POST /v3/auth/tokens` with the password method. The error says what went wrong, never
/// the password or a token.
pub(crate) async fn password_token(
    client: &reqwest::Client,
    creds: &Credentials,
) -> Result<Issued, KeystoneError> {
    let url = creds.tokens_url();
    let resp = match client.post(&url).json(&creds.body()).send().await {
        Ok(r) => r,
        Err(source) => return Err(KeystoneError::Unreachable { url, source }),
    };
    let status = resp.status().as_u16();
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if status != 201 {
        let why = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        return Err(KeystoneError::Refused {
            url,
            status,
            reason: why.to_string(),
        });
    }
    let Some(token) = token else {
        return Err(KeystoneError::NoToken { url });
    };
    let Some(project_id) = body.pointer("/token/project/id").and_then(Value::as_str) else {
        return Err(KeystoneError::Unscoped { url });
    };
    let project_id = project_id.to_string();
    let catalog = body
        .pointer("/token/catalog")
        .cloned()
        .unwrap_or(Value::Null);
    Ok(Issued {
        token,
        project_id,
        catalog,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_scopes_by_name_with_default_domain() {
        let c = Credentials {
            auth_url: "http://k:5000".into(),
            username: Some("alice".into()),
            password: "pw".into(),
            project_name: Some("demo".into()),
            ..Default::default()
        };
        assert_eq!(c.tokens_url(), "http://k:5000/v3/auth/tokens");
        let b = c.body();
        assert_eq!(
            b.pointer("/auth/identity/password/user/name").unwrap(),
            "alice"
        );
        assert_eq!(
            b.pointer("/auth/identity/password/user/domain/id").unwrap(),
            "default"
        );
        assert_eq!(b.pointer("/auth/scope/project/name").unwrap(), "demo");
        let c = Credentials {
            auth_url: "http://k/identity/v3/".into(),
            user_id: Some("u1".into()),
            project_id: Some("p1".into()),
            password: "pw".into(),
            ..Default::default()
        };
        assert_eq!(c.tokens_url(), "http://k/identity/v3/auth/tokens");
        assert_eq!(c.body().pointer("/auth/scope/project/id").unwrap(), "p1");
    }

    #[test]
    fn catalog_lookup_by_interface_and_region() {
        let issued = Issued {
            token: "t".into(),
            project_id: "p".into(),
            catalog: json!([
                {"type": "identity", "endpoints": [{"interface": "public", "url": "http://k/v3"}]},
                {"type": "image", "endpoints": [
                    {"interface": "internal", "region_id": "R1", "url": "http://internal:9292"},
                    {"interface": "public", "region_id": "R1", "url": "http://one:9292/v2/"},
                    {"interface": "public", "region_id": "R2", "url": "http://two:9292"}
                ]}
            ]),
        };
        assert_eq!(
            issued.image_endpoint("public", None).unwrap(),
            "http://one:9292"
        );
        assert_eq!(
            issued.image_endpoint("public", Some("R2")).unwrap(),
            "http://two:9292"
        );
        assert_eq!(
            issued.image_endpoint("internal", None).unwrap(),
            "http://internal:9292"
        );
        assert!(issued.image_endpoint("admin", None).is_none());
    }
}
