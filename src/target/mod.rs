//! The server under test and one session with it, below both the suite and the fuzzers.
//!
//! - `config.rs`: [`TargetFile`] as written (personas, [`Tls`](config::Tls), [`Network`](config::Network)), checked on load.
//! - `resolve.rs`: [`TargetFile::resolve`] → [`Target`] (a token and project per
//!   [`Persona`], an endpoint), via `keystone.rs` (password credentials → token and catalog)
//!   and `clouds.rs` (`clouds.yaml` where openstacksdk looks).
//! - `client.rs`: [`http_client`](client::http_client), the one `reqwest::Client` from TLS and network settings.
//! - `raw.rs`: [`RawConn`], one kept-alive connection that sends a request exactly as built
//!   (hostile input), for plain-`http` targets.
//! - `session.rs`: [`Session`], which sends every [`Req`] with its [`Caller`]'s credentials,
//!   logs every [`Exchange`] and deletes registered images at the end.
//! - `need.rs`: [`Need`], the closed vocabulary of what a case may need from a target.
//! - `facts.rs`: [`Facts`], what preflight learns from discovery (API versions, import
//!   methods, stores) and the target file's [`Deployment`], and whether they meet a [`Need`].
//!
//! Files depend downwards only: `facts` → `session`, `need`; `need` → `config`; `raw` → `config`; `session` → `resolve` → `client` → `config` → `keystone`,
//! and `resolve` → `clouds` → `keystone`; `crate::error` uses the leaves `keystone` and
//! `clouds` only. Nothing here imports the suite, the fuzzers, the mock or the model.

mod client;
pub(crate) mod clouds;
mod config;
mod facts;
pub(crate) mod keystone;
mod need;
mod raw;
mod resolve;
mod session;

pub use config::{CAPABILITIES, PERSONAS, REQUIRED_PERSONAS, TargetFile};
pub use facts::Facts;
pub use need::Need;
pub use raw::RawConn;
pub use resolve::{Persona, Target};
pub use session::{
    Answer, Caller, CleanupError, Exchange, Req, SendError, Sent, Session, Stage, excerpt,
};
