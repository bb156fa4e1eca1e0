//! A resolved target ([`Target`]): a token and project id per persona and an image endpoint,
//! from a [`TargetFile`] via Keystone or `clouds.yaml` when the file gives no static tokens.

use std::collections::BTreeMap;

use super::client::http_client;
use super::config::{Deployment, Network, TargetFile, Tls};
use super::{clouds, keystone};
use crate::error::{PreflightError, RunError};

/// A persona's resolved credentials. `Debug` never shows the token.
#[derive(Clone)]
pub struct Persona {
    /// A token accepted by the target (`X-Auth-Token`).
    pub token: String,
    /// The project the token is scoped to (member ids are project ids).
    pub project_id: String,
}

impl std::fmt::Debug for Persona {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persona")
            .field("token", &"<redacted>")
            .field("project_id", &self.project_id)
            .finish()
    }
}

/// A resolved target: every persona has a token and a project id.
#[derive(Clone, Debug)]
pub struct Target {
    /// Image service root, e.g. `http://127.0.0.1:9292`; the suite adds `/v2/...`.
    pub endpoint: String,
    /// Persona name → credentials. `owner`, `member` and `stranger` are required.
    pub personas: BTreeMap<String, Persona>,
    /// The target's member quota, when known; quota cases are ignored without it.
    pub member_quota: Option<u32>,
    /// The target's tag quota, when known; tag-quota cases are ignored without it.
    pub tag_quota: Option<u32>,
    /// Capabilities the target offers (`fault-injection`, `rate-limit`).
    pub capabilities: Vec<String>,
    /// The configuration the target file states (`None`: the reference's defaults).
    pub deployment: Option<Deployment>,
    /// TLS settings.
    pub tls: Tls,
    /// Timeouts, retries, proxy.
    pub network: Network,
}

impl TargetFile {
    /// Obtains a token and project id for every persona (Keystone, `clouds.yaml`) and finds
    /// the image endpoint when the file gives none. Tokens are never printed.
    pub async fn resolve(&self) -> Result<Target, RunError> {
        let client = http_client(&self.tls, &self.network)?;
        self.resolve_with(&client).await
    }

    /// [`resolve`](TargetFile::resolve) with an existing client (the session's).
    pub(crate) async fn resolve_with(&self, client: &reqwest::Client) -> Result<Target, RunError> {
        let mut personas = BTreeMap::new();
        let mut endpoint = self.endpoint.clone();
        let interface = self.interface.as_deref().unwrap_or("public");
        for (name, spec) in &self.personas {
            let persona = if let (Some(token), Some(project_id)) = (&spec.token, &spec.project_id) {
                Persona {
                    token: token.clone(),
                    project_id: project_id.clone(),
                }
            } else {
                let (creds, cloud_region, cloud_interface) = match &spec.cloud {
                    Some(cloud) => {
                        let c = clouds::lookup(cloud).map_err(|source| PreflightError::Cloud {
                            persona: name.clone(),
                            source,
                        })?;
                        (c.credentials, c.region, c.interface)
                    }
                    None => (
                        spec.credentials()
                            .map_err(|source| PreflightError::Credentials {
                                persona: name.clone(),
                                source,
                            })?,
                        None,
                        None,
                    ),
                };
                let got = keystone::password_token(client, &creds)
                    .await
                    .map_err(|source| PreflightError::Keystone {
                        persona: name.clone(),
                        source,
                    })?;
                if endpoint.is_none() {
                    let region = self.region.as_deref().or(cloud_region.as_deref());
                    let interface = cloud_interface.as_deref().unwrap_or(interface);
                    endpoint = Some(got.image_endpoint(interface, region).ok_or_else(|| {
                        PreflightError::Catalog {
                            persona: name.clone(),
                            interface: interface.to_string(),
                            region: region.map(str::to_string),
                        }
                    })?);
                }
                Persona {
                    token: got.token,
                    project_id: got.project_id,
                }
            };
            personas.insert(name.clone(), persona);
        }
        let endpoint = endpoint.ok_or(PreflightError::NoEndpoint)?;
        let target = Target {
            endpoint,
            personas,
            member_quota: self.member_quota,
            tag_quota: self.tag_quota,
            capabilities: self.capabilities.clone(),
            deployment: self.deployment.clone(),
            tls: self.tls.clone(),
            network: self.network.clone(),
        };
        target.check_distinct()?;
        Ok(target)
    }
}

impl Target {
    /// A target with static tokens and default TLS and network settings.
    pub fn new(endpoint: impl Into<String>, personas: BTreeMap<String, Persona>) -> Target {
        Target {
            endpoint: endpoint.into(),
            personas,
            member_quota: None,
            tag_quota: None,
            capabilities: Vec::new(),
            deployment: None,
            tls: Tls::default(),
            network: Network::default(),
        }
    }

    pub(crate) fn check_distinct(&self) -> Result<(), PreflightError> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, p) in self.personas.iter().filter(|(n, _)| *n != "reader") {
            if let Some(other) = seen.insert(&p.project_id, name) {
                return Err(PreflightError::SameProject {
                    first: other.to_string(),
                    second: name.clone(),
                    project: p.project_id.clone(),
                });
            }
        }
        Ok(())
    }

    /// The root URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.endpoint.trim_end_matches('/')
    }
}
