//! A target file as written: personas' credentials (a static token, Keystone v3 password
//! credentials, or a cloud of `clouds.yaml`), capabilities, TLS and network settings, and the
//! checks made when it is loaded (no network access). `resolve.rs` turns it into a
//! [`Target`](super::Target).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::keystone::{Credentials, CredentialsError};
use crate::error::{DataError, line_of};

/// Every persona a target may define and a case may act as.
/// `reader` is a user of the owner's project with the reader role only (it shares the owner's
/// project; every other persona has its own).
pub const PERSONAS: &[&str] = &[
    "owner",
    "member",
    "other_member",
    "stranger",
    "admin",
    "reader",
];
/// The personas every target must define.
pub const REQUIRED_PERSONAS: &[&str] = &["owner", "member", "stranger"];
/// Optional features of a target that cases may need.
pub const CAPABILITIES: &[&str] = &["fault-injection", "rate-limit"];

/// What the target file says of the service's configuration, for what discovery cannot tell.
/// Every key is optional; the defaults are the reference's (Glance's) defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// Image locations are listed and may be patched (`show_multiple_locations`; a
    /// `direct_url` alone, `show_image_direct_url`, does not count: `/locations` stays 403).
    #[serde(default)]
    pub locations_shown: bool,
    /// Data must be of the image's disk format (`require_image_format_match`).
    #[serde(default = "yes")]
    pub image_format_match: bool,
    /// The image cache API is served (`/v2/cache`).
    #[serde(default)]
    pub cache: bool,
    /// A source URL the import filter (`[import_filtering_opts]`) admits, for import tasks;
    /// given when the filter is not the reference's default (which admits
    /// [`DEFAULT_IMPORT_SOURCE`] and refuses loopback hosts and ports other than 80 and 443).
    #[serde(default)]
    pub import_source: Option<String>,
}

/// A source the reference's default import filter admits: `http`, no port (80), a host that
/// is neither loopback nor link-local (TEST-NET-1: nothing answers there).
pub const DEFAULT_IMPORT_SOURCE: &str = "http://192.0.2.1/sharecheck.img";

fn yes() -> bool {
    true
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            locations_shown: false,
            image_format_match: true,
            cache: false,
            import_source: None,
        }
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

impl PersonaSpec {
    /// Its Keystone password credentials; says what is missing.
    pub(crate) fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let c = Credentials {
            auth_url: self.auth_url.clone().unwrap_or_default(),
            username: self.username.clone(),
            user_id: self.user_id.clone(),
            password: self.password.clone().unwrap_or_default(),
            user_domain_name: self.user_domain_name.clone(),
            user_domain_id: self.user_domain_id.clone(),
            project_id: self.project_id.clone(),
            project_name: self.project_name.clone(),
            project_domain_name: self.project_domain_name.clone(),
            project_domain_id: self.project_domain_id.clone(),
        };
        c.check()?;
        Ok(c)
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
    /// The target's tag quota (Glance's `image_tag_quota`), when known.
    #[serde(default)]
    pub tag_quota: Option<u32>,
    /// Capabilities the target offers.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The service's configuration, where discovery cannot tell it; without it, the
    /// reference's defaults.
    #[serde(default)]
    pub deployment: Option<Deployment>,
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
                        // The reader shares the owner's project on purpose.
                        if name != "reader" && !static_projects.insert(proj.clone()) {
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
                p.credentials()
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
        if let Some(src) = self
            .deployment
            .as_ref()
            .and_then(|d| d.import_source.as_deref())
        {
            check_url(src).map_err(|m| ("import_source", m))?;
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
