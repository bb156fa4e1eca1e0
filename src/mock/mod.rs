//! The mock image service: a thin warp layer over [`crate::model::Model`].
//!
//! `http` turns requests into model calls and model outcomes into the reference's responses
//! (status, error format chosen by `Accept`, `Allow`, `x-openstack-request-id`,
//! `WWW-Authenticate`); `limits` holds the two capabilities a healthy server does not offer
//! on demand (fault injection, a rate limit); `documents` the schemas and version discovery.
//! State lives in the model, behind one lock.

mod documents;
mod http;
mod limits;

use std::net::SocketAddr;
use std::path::Path;

use tokio::task::JoinHandle;

use crate::error::{DataError, MockError};
use crate::model::{Identities, Model, Rules};

/// How to run the mock.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Address to listen on (loopback by default; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Tokens and who they are.
    pub identities: Identities,
    /// Member quota and mutant.
    pub rules: Rules,
    /// Honour `X-Sharecheck-Fault: 500|503`.
    pub faults: bool,
    /// Answer 413 with `Retry-After` past this many requests per second for one token,
    /// method and path.
    pub rate_limit: Option<u32>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9292)),
            identities: Identities::builtin(),
            rules: Rules::default(),
            faults: false,
            rate_limit: None,
        }
    }
}

/// The request header that injects a fault when the mock runs with faults enabled.
pub const FAULT_HEADER: &str = "x-sharecheck-fault";

/// Reads an identities file (`tokens: {TOKEN: {project_id, user_id, roles}}`).
pub fn load_identities(path: &Path) -> Result<Identities, DataError> {
    let src = std::fs::read_to_string(path).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let ids: Identities = serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?;
    if ids.tokens.is_empty() {
        return Err(DataError::invalid(path, Some(1), "no tokens defined"));
    }
    for (token, id) in &ids.tokens {
        if token.is_empty() || id.project_id.is_empty() || id.user_id.is_empty() {
            return Err(DataError::invalid(
                path,
                crate::error::line_of(&src, token),
                format!("token `{token}`: token, project_id and user_id must be non-empty"),
            ));
        }
    }
    Ok(ids)
}

/// A running mock. Dropping it stops the server.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| MockError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            addr: config.listen,
            source,
        })?;
        let app = http::App::new(
            Model::new(config.identities, config.rules),
            format!("http://{addr}"),
            config.faults,
            config.rate_limit,
        );
        let filter = http::filter(std::sync::Arc::new(app));
        let task = tokio::spawn(warp::serve(filter).incoming(listener).run());
        Ok(MockServer { addr, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the image service root.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving.
    pub fn stop(self) {}
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
