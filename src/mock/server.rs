//! A running mock ([`MockServer`]) and the builder that starts one for another program's
//! tests, on a free loopback port, stopped when dropped (as wiremock-rs does).

use std::net::SocketAddr;

use tokio::task::JoinHandle;

use super::store::Store;
use super::{MockConfig, Mutant, app, http};
use crate::error::{MockError, StoreError};
use crate::model::{Identities, Model, Rules, Snapshot};

/// A running mock. Dropping it stops the server.
pub struct MockServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
    app: std::sync::Arc<app::App>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish()
    }
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
    pub async fn start(mut config: MockConfig) -> Result<MockServer, MockError> {
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
        // The cache's node list names this server unless the configuration names a URL.
        let cache = &mut config.rules.deployment.cache;
        cache
            .node_url
            .get_or_insert_with(|| format!("http://{addr}"));
        let mut model = Model::new(config.identities, config.rules);
        let fixtures = config.fixtures.unwrap_or_else(Snapshot::empty);
        model
            .restore(&fixtures)
            .map_err(|source| MockError::Fixtures { source })?;
        let store = match &config.state {
            Some(dir) => Some(open_state(dir, &mut model)?),
            None => None,
        };
        let app = app::App::new(
            model,
            format!("http://{addr}"),
            config.mutant,
            config.faults,
            config.rate_limit,
        )
        .with_fixtures(fixtures)
        .with_json_log(config.log_json);
        let app = match store {
            Some((store, fresh)) => {
                let path = store.path().to_path_buf();
                let blobs = open_blobs(&path, &app)?;
                let app = app.with_store(store, blobs);
                // A new state directory starts from the fixtures, on disk before any request.
                if fresh {
                    let mut model = app.model.write();
                    model
                        .restore(&app.fixtures)
                        .map_err(|source| MockError::Fixtures { source })?;
                } else {
                    // A web-download the server was fetching when it stopped: nothing
                    // resumes it, so it ends failed.
                    app.model.write().fail_interrupted_imports();
                }
                app.model
                    .settled()
                    .await
                    .map_err(|source| MockError::State { source })?;
                app
            }
            None => app,
        };
        let app = std::sync::Arc::new(app);
        let filter = http::filter(app.clone());
        let task = tokio::spawn(warp::serve(filter).incoming(listener).run());
        Ok(MockServer { addr, task, app })
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

/// Opens the state directory `dir`: the state it holds replaces `model`'s; whether it was
/// created just now.
/// The blob directory beside the store file, without the blobs no restored image names.
fn open_blobs(
    store_file: &std::path::Path,
    app: &app::App,
) -> Result<super::blobs::Blobs, MockError> {
    let dir = store_file
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("blobs");
    let keep = app.model.read().state().blobs().collect();
    super::blobs::Blobs::dir(&dir, &keep).map_err(|e| MockError::State {
        source: StoreError::Io {
            path: dir,
            doing: "open the image data directory",
            source: Box::new(e),
        },
    })
}

fn open_state(dir: &std::path::Path, model: &mut Model) -> Result<(Store, bool), MockError> {
    let opened = Store::open(dir).map_err(|source| MockError::State { source })?;
    let Some(saved) = opened.state else {
        return Ok((opened.store, true));
    };
    model.restore_stored(&saved).map_err(|e| {
        // `name[N]…` names a record by its place; the store knows its key.
        let key = e.at.split_once('[').and_then(|(name, rest)| {
            let i: usize = rest.split(']').next()?.parse().ok()?;
            Some((name, &saved.get(name)?.get(i)?.0))
        });
        let at = match key {
            Some((name, key)) => format!("{name} record {key}: {}", e.at),
            None => e.at.clone(),
        };
        MockError::State {
            source: StoreError::Damaged {
                path: opened.store.path().to_path_buf(),
                detail: format!("{at}: {}", e.message),
            },
        }
    })?;
    Ok((opened.store, false))
}

impl Drop for MockServer {
    /// Stops accepting connections and closes the state directory (what was acknowledged
    /// is on disk), so another mock may open it.
    fn drop(&mut self) {
        self.task.abort();
        self.app.model.close();
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

    /// The deployment to play: stores, import methods, import filter, … (default: one store
    /// `fs`; see `docs/mock-config.md`).
    pub fn deployment(mut self, deployment: crate::model::Deployment) -> Self {
        self.config.rules.deployment = deployment;
        self
    }

    /// Keeps the state in directory `dir` (created if missing; what it holds is where the
    /// mock starts). Dropping the server closes it.
    pub fn state_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.state = Some(dir.into());
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
