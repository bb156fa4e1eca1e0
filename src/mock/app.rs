//! Everything a request may touch: the model behind its lock, the documents served as they
//! are, the edge capabilities (fault header, rate limit, fault rules), the request journal
//! and the fixtures a reset returns to.

use warp::http::HeaderValue;

use super::documents::Documents;
use super::faults::Faults;
use super::journal::Journal;
use super::limits::RateLimiter;
use super::mutant::Mutant;
use super::shared::Shared;
use crate::model::{Model, Snapshot};

/// The mock's shared state (one per server).
pub(crate) struct App {
    pub(super) model: Shared,
    pub(super) mutant: Option<Mutant>,
    pub(super) base: String,
    pub(super) www_authenticate: HeaderValue,
    /// Honour the `X-Sharecheck-Fault` header.
    pub(super) fault_header: bool,
    pub(super) rate: Option<RateLimiter>,
    pub(super) docs: Documents,
    /// Rules set through `/_sharecheck/faults`.
    pub(super) faults: Faults,
    pub(super) journal: Journal,
    /// What `POST /_sharecheck/reset` returns to (empty: nothing).
    pub(super) fixtures: Snapshot,
    /// Write each request to stderr as a JSON line.
    pub(super) log_json: bool,
}

impl App {
    pub(crate) fn new(
        model: Model,
        base: String,
        mutant: Option<Mutant>,
        fault_header: bool,
        rate_limit: Option<u32>,
    ) -> App {
        let www_authenticate = HeaderValue::from_str(&format!("Keystone uri=\"{base}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("Keystone"));
        let docs = Documents::new(&base, &model.deployment().versions());
        App {
            model: Shared::new(model),
            docs,
            mutant,
            base,
            www_authenticate,
            fault_header,
            rate: rate_limit.map(RateLimiter::new),
            faults: Faults::default(),
            journal: Journal::default(),
            fixtures: Snapshot::empty(),
            log_json: false,
        }
    }

    /// Keeps the model's state in `store` and its image data in `blobs` from now on
    /// (`--state`).
    pub(crate) fn with_store(
        mut self,
        store: super::store::Store,
        blobs: super::blobs::Blobs,
    ) -> App {
        self.model = Shared::stored(self.model.into_model(), store, blobs);
        self
    }

    /// Sets what a reset returns to.
    pub(crate) fn with_fixtures(mut self, fixtures: Snapshot) -> App {
        self.fixtures = fixtures;
        self
    }

    /// A user id to its user name, as the journal's reader names callers (holds the model's
    /// read lock while it lives).
    pub(super) fn user_names(&self) -> impl Fn(&str) -> Option<String> + '_ {
        let model = self.model.read();
        move |id| {
            model
                .identities()
                .user_by_id(id)
                .map(|(name, _)| name.to_string())
        }
    }

    /// Logs every request to stderr as one JSON line (tokens never appear).
    pub(crate) fn with_json_log(mut self, on: bool) -> App {
        self.log_json = on;
        self
    }
}
