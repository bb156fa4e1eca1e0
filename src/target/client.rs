//! The one HTTP client of a target session, built from its TLS and network settings.

use std::path::PathBuf;
use std::time::Duration;

use super::config::{Network, Tls};
use crate::error::{RunError, TlsError};

/// The HTTP client for a target: TLS roots and identity, timeouts, and a proxy only when one
/// is configured.
pub fn http_client(tls: &Tls, network: &Network) -> Result<reqwest::Client, RunError> {
    // One crypto provider for the whole process; a second install is a harmless no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls_err = |path: &PathBuf, source: TlsError| RunError::Tls {
        path: path.clone(),
        source,
    };
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| tls_err(p, TlsError::Read(e)));
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs_f64(network.connect_timeout))
        .timeout(Duration::from_secs_f64(network.timeout))
        .pool_max_idle_per_host(64);
    b = match &network.proxy {
        Some(p) => b.proxy(reqwest::Proxy::all(p).map_err(|source| RunError::Proxy {
            proxy: p.clone(),
            source,
        })?),
        None => b.no_proxy(),
    };
    if let Some(ca) = &tls.cacert {
        let certs = reqwest::Certificate::from_pem_bundle(&read(ca)?)
            .map_err(|e| tls_err(ca, TlsError::NotBundle(e)))?;
        if certs.is_empty() {
            return Err(tls_err(ca, TlsError::NoCertificate));
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
        let id = reqwest::Identity::from_pem(&pem)
            .map_err(|e| tls_err(cert, TlsError::NotIdentity(e)))?;
        b = b.identity(id);
    }
    b.build().map_err(RunError::Client)
}
