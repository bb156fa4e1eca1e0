//! The server under test: its root URL, the personas' credentials, what it can do, and how
//! to reach it (TLS, timeouts, retries, proxy).
//!
//! A target file ([`TargetFile`]) may name credentials three ways per persona: a static token,
//! Keystone v3 password credentials, or a cloud of `clouds.yaml`. [`TargetFile::resolve`]
//! turns it into a [`Target`]: a token and project id per persona and an image endpoint (from
//! the file, or from the service catalog).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::case::{PERSONAS, REQUIRED_PERSONAS};
use super::keystone::{self, Credentials};
use super::spec::CAPABILITIES;
use crate::error::{DataError, PreflightError, RunError, line_of};

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

/// TLS settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// PEM file of extra trusted CA certificates (a private CA).
    #[serde(default)]
    pub cacert: Option<PathBuf>,
    /// Do not verify the server's certificate (testing only).
    #[serde(default)]
    pub insecure: bool,
    /// PEM client certificate (with `client_key`, or holding the key itself).
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

/// Network settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Seconds a whole request may take.
    #[serde(default = "thirty")]
    pub timeout: f64,
    /// Seconds to establish a connection.
    #[serde(default = "ten")]
    pub connect_timeout: f64,
    /// How often an idempotent set-up or clean-up call is retried after a connection error.
    #[serde(default = "two")]
    pub retries: u32,
    /// A proxy for every request; without it no proxy is used (environment variables are
    /// ignored).
    #[serde(default)]
    pub proxy: Option<String>,
}

fn thirty() -> f64 {
    30.0
}
fn ten() -> f64 {
    10.0
}
fn two() -> u32 {
    2
}

impl Default for Network {
    fn default() -> Self {
        Network {
            timeout: thirty(),
            connect_timeout: ten(),
            retries: two(),
            proxy: None,
        }
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
    /// Capabilities the target offers (`fault-injection`, `rate-limit`).
    pub capabilities: Vec<String>,
    /// TLS settings.
    pub tls: Tls,
    /// Timeouts, retries, proxy.
    pub network: Network,
}

/// How one persona authenticates, as written in a target file: exactly one of a static
/// `token` (with `project_id`), Keystone password credentials (`auth_url`, …), or `cloud`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaSpec {
    /// A static token.
    #[serde(default)]
    pub token: Option<String>,
    /// The project: required with `token`; with password credentials, the scope.
    #[serde(default)]
    pub project_id: Option<String>,
    /// A cloud of `clouds.yaml`.
    #[serde(default)]
    pub cloud: Option<String>,
    /// Keystone URL (with or without `/v3`).
    #[serde(default)]
    pub auth_url: Option<String>,
    /// User name (with a user domain) …
    #[serde(default)]
    pub username: Option<String>,
    /// … or user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Password.
    #[serde(default)]
    pub password: Option<String>,
    /// Project name to scope to (with a project domain).
    #[serde(default)]
    pub project_name: Option<String>,
    /// User domain by name …
    #[serde(default)]
    pub user_domain_name: Option<String>,
    /// … or by id.
    #[serde(default)]
    pub user_domain_id: Option<String>,
    /// Project domain by name …
    #[serde(default)]
    pub project_domain_name: Option<String>,
    /// … or by id.
    #[serde(default)]
    pub project_domain_id: Option<String>,
}

impl std::fmt::Debug for PersonaSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonaSpec")
            .field("cloud", &self.cloud)
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("project_id", &self.project_id)
            .field("project_name", &self.project_name)
            .finish_non_exhaustive()
    }
}

/// A target file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// Image service root; without it, the image endpoint of the service catalog.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Catalog interface to pick (`public`, `internal`, `admin`); default `public`.
    #[serde(default)]
    pub interface: Option<String>,
    /// Catalog region to pick; default: any.
    #[serde(default)]
    pub region: Option<String>,
    /// Persona name → how it authenticates.
    pub personas: BTreeMap<String, PersonaSpec>,
    /// The target's member quota, when known.
    #[serde(default)]
    pub member_quota: Option<u32>,
    /// Capabilities the target offers.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// TLS settings.
    #[serde(default)]
    pub tls: Tls,
    /// Timeouts, retries, proxy.
    #[serde(default)]
    pub network: Network,
    /// Where this file was read from (for messages).
    #[serde(skip)]
    pub path: PathBuf,
}

impl TargetFile {
    /// Reads and validates a target file (no network access).
    pub fn load(path: &Path) -> Result<TargetFile, DataError> {
        let src = std::fs::read_to_string(path).map_err(|source| DataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut t: TargetFile =
            serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?;
        t.path = path.to_path_buf();
        t.validate()
            .map_err(|(key, msg)| DataError::invalid(path, line_of(&src, key), msg))?;
        Ok(t)
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(ep) = &self.endpoint {
            check_url(ep).map_err(|m| ("endpoint", m))?;
        }
        if let Some(i) = &self.interface
            && !["public", "internal", "admin"].contains(&i.as_str())
        {
            return Err((
                "interface",
                format!("interface `{i}` is not one of public, internal, admin"),
            ));
        }
        for p in REQUIRED_PERSONAS {
            if !self.personas.contains_key(*p) {
                return Err(("personas", format!("persona `{p}` is required")));
            }
        }
        let mut static_projects = BTreeSet::new();
        for (name, p) in &self.personas {
            if !PERSONAS.contains(&name.as_str()) {
                return Err((
                    "personas",
                    format!("unknown persona `{name}`; known: {}", PERSONAS.join(", ")),
                ));
            }
            let kinds = [p.token.is_some(), p.cloud.is_some(), p.auth_url.is_some()];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err((
                    "personas",
                    format!("persona `{name}`: give exactly one of token, cloud or auth_url"),
                ));
            }
            if let Some(t) = &p.token {
                match &p.project_id {
                    Some(proj) if !t.is_empty() && !proj.is_empty() => {
                        if !static_projects.insert(proj.clone()) {
                            return Err((
                                "personas",
                                format!(
                                    "persona `{name}`: project `{proj}` is used by another persona; personas must be distinct projects"
                                ),
                            ));
                        }
                    }
                    _ => {
                        return Err((
                            "personas",
                            format!("persona `{name}` needs a non-empty token and project_id"),
                        ));
                    }
                }
            }
            if p.auth_url.is_some() {
                Credentials::from_spec(p)
                    .map_err(|m| ("personas", format!("persona `{name}`: {m}")))?;
            }
        }
        if self.endpoint.is_none() && self.personas.values().all(|p| p.token.is_some()) {
            return Err((
                "endpoint",
                "endpoint is required when no persona authenticates with Keystone (there is no catalog to find it in)".into(),
            ));
        }
        for c in &self.capabilities {
            if !CAPABILITIES.contains(&c.as_str()) {
                return Err((
                    "capabilities",
                    format!(
                        "unknown capability `{c}`; known: {}",
                        CAPABILITIES.join(", ")
                    ),
                ));
            }
        }
        if self.tls.client_key.is_some() && self.tls.client_cert.is_none() {
            return Err(("client_key", "client_key needs client_cert".into()));
        }
        if !(self.network.timeout > 0.0 && self.network.connect_timeout > 0.0) {
            return Err((
                "network",
                "timeouts must be positive numbers of seconds".into(),
            ));
        }
        Ok(())
    }

    /// Obtains a token and project id for every persona (Keystone, `clouds.yaml`) and finds
    /// the image endpoint when the file gives none. Tokens are never printed.
    pub async fn resolve(&self) -> Result<Target, RunError> {
        let client = http_client(&self.tls, &self.network)?;
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
                        let c =
                            super::clouds::lookup(cloud).map_err(|e| PreflightError::Persona {
                                persona: name.clone(),
                                message: e,
                            })?;
                        (c.credentials, c.region, c.interface)
                    }
                    None => (
                        Credentials::from_spec(spec).map_err(|m| PreflightError::Persona {
                            persona: name.clone(),
                            message: m,
                        })?,
                        None,
                        None,
                    ),
                };
                let got = keystone::password_token(&client, &creds)
                    .await
                    .map_err(|message| PreflightError::Persona {
                        persona: name.clone(),
                        message,
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
            capabilities: self.capabilities.clone(),
            tls: self.tls.clone(),
            network: self.network.clone(),
        };
        target.check_distinct()?;
        Ok(target)
    }
}

fn check_url(ep: &str) -> Result<(), String> {
    let ep = ep.trim_end_matches('/');
    if !(ep.starts_with("http://") || ep.starts_with("https://"))
        || reqwest::Url::parse(ep).is_err()
    {
        return Err(format!("`{ep}` is not an http:// or https:// URL"));
    }
    Ok(())
}

/// The HTTP client for a target: TLS roots and identity, timeouts, and a proxy only when one
/// is configured.
pub(crate) fn http_client(tls: &Tls, network: &Network) -> Result<reqwest::Client, RunError> {
    // One crypto provider for the whole process; a second install is a harmless no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|source| RunError::Tls {
            path: p.clone(),
            message: source.to_string(),
        })
    };
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs_f64(network.connect_timeout))
        .timeout(Duration::from_secs_f64(network.timeout))
        .pool_max_idle_per_host(64);
    b = match &network.proxy {
        Some(p) => b.proxy(reqwest::Proxy::all(p).map_err(|e| RunError::Proxy {
            proxy: p.clone(),
            message: e.to_string(),
        })?),
        None => b.no_proxy(),
    };
    if let Some(ca) = &tls.cacert {
        let certs =
            reqwest::Certificate::from_pem_bundle(&read(ca)?).map_err(|e| RunError::Tls {
                path: ca.clone(),
                message: format!("not a PEM certificate bundle: {e}"),
            })?;
        if certs.is_empty() {
            return Err(RunError::Tls {
                path: ca.clone(),
                message: "no certificate in the file".into(),
            });
        }
        b = b.tls_certs_merge(certs);
    }
    if tls.insecure {
        b = b.danger_accept_invalid_certs(true);
    }
    if let Some(cert) = &tls.client_cert {
        let mut pem = read(cert)?;
        if let Some(key) = &tls.client_key {
            pem.push(b'\n');
            pem.extend(read(key)?);
        }
        let id = reqwest::Identity::from_pem(&pem).map_err(|e| RunError::Tls {
            path: cert.clone(),
            message: format!("not a PEM certificate and key: {e}"),
        })?;
        b = b.identity(id);
    }
    b.build().map_err(RunError::Client)
}

impl Target {
    /// A target with static tokens and default TLS and network settings.
    pub fn new(endpoint: impl Into<String>, personas: BTreeMap<String, Persona>) -> Target {
        Target {
            endpoint: endpoint.into(),
            personas,
            member_quota: None,
            capabilities: Vec::new(),
            tls: Tls::default(),
            network: Network::default(),
        }
    }

    pub(crate) fn check_distinct(&self) -> Result<(), PreflightError> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, p) in &self.personas {
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

    /// Why the target cannot run a case needing `need`, or `None` when it can.
    pub(crate) fn lacks(&self, need: &str) -> Option<String> {
        if PERSONAS.contains(&need) {
            return (!self.personas.contains_key(need))
                .then(|| format!("target has no `{need}` persona"));
        }
        if need == "member-quota" {
            return self
                .member_quota
                .is_none()
                .then(|| "target declares no member_quota".to_string());
        }
        (!self.capabilities.iter().any(|c| c == need))
            .then(|| format!("target lacks capability `{need}`"))
    }

    /// The root URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.endpoint.trim_end_matches('/')
    }
}
