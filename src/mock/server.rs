//! A running mock ([`MockServer`]) and the builder that starts one for another program's
//! tests, on a free loopback port, stopped when dropped (as wiremock-rs does).

use std::net::SocketAddr;

use tokio::task::JoinHandle;

use super::{MockConfig, Mutant, app, http};
use crate::error::MockError;
use crate::model::{Identities, Model, Rules, Snapshot};

/// A running mock. Dropping it stops the server.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MockServer {
    /// A builder: built-in identities, default quotas, no fixtures, a free loopback port.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder {
            config: MockConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                ..MockConfig::default()
            },
        }
    }

    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        let mut model = Model::new(config.identities, config.rules);
        let fixtures = config.fixtures.unwrap_or_else(Snapshot::empty);
        model
            .restore(&fixtures)
            .map_err(|source| MockError::Fixtures { source })?;
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
        let app = app::App::new(
            model,
            format!("http://{addr}"),
            config.mutant,
            config.faults,
            config.rate_limit,
        )
        .with_fixtures(fixtures)
        .with_json_log(config.log_json);
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

    /// Stops serving (as dropping it does).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a [`MockServer`] with chosen identities, quotas and fixtures:
///
/// ```no_run
/// # async fn demo() -> Result<(), sharecheck::MockError> {
/// let mock = sharecheck::MockServer::builder().member_quota(3).start().await?;
/// let images = format!("{}/v2/images", mock.uri()); // the built-in `owner-token` etc. work
/// # let _ = images; Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `start`"]
pub struct MockServerBuilder {
    config: MockConfig,
}

impl MockServerBuilder {
    /// The tokens, users and projects (default: the built-in personas).
    pub fn identities(mut self, identities: Identities) -> Self {
        self.config.identities = identities;
        self
    }

    /// All quotas at once.
    pub fn rules(mut self, rules: Rules) -> Self {
        self.config.rules = rules;
        self
    }

    /// The most members an image may have (negative: unlimited).
    pub fn member_quota(mut self, quota: i64) -> Self {
        self.config.rules.member_quota = quota;
        self
    }

    /// The state to start from and to return to on reset.
    pub fn fixtures(mut self, fixtures: Snapshot) -> Self {
        self.config.fixtures = Some(fixtures);
        self
    }

    /// Honour the `X-Sharecheck-Fault` header.
    pub fn fault_header(mut self, on: bool) -> Self {
        self.config.faults = on;
        self
    }

    /// The address to listen on (default: a free loopback port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.config.listen = addr;
        self
    }

    /// A deliberately broken rule (for proving a suite notices).
    pub fn mutant(mut self, mutant: Mutant) -> Self {
        self.config.mutant = Some(mutant);
        self
    }

    /// Binds and serves on the current tokio runtime.
    pub async fn start(self) -> Result<MockServer, MockError> {
        MockServer::start(self.config).await
    }
}
