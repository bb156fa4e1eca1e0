//! Error types, one per kind of failure, each carrying the context needed to act on it.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::target::clouds::CloudsError;
use crate::target::keystone::{CredentialsError, KeystoneError};

/// An error and each of its causes once, `: `-separated (`cannot write r.xml: Permission
/// denied`): the one form in which a message line shows an error (test failures, reports,
/// notes). No `#[error]` message prints its own source, so nothing repeats.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// A problem with one data file (spec, case, target or identities file).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("{path}: cannot read")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML, or does not have the expected shape.
    #[error("{}: {message}", at(path, *line, *column))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What was expected.
        message: String,
    },
}

fn at(path: &std::path::Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        (Some(l), None) => format!("{}:{l}", path.display()),
        _ => path.display().to_string(),
    }
}

impl DataError {
    /// A YAML error, with its location when the parser knows it.
    pub(crate) fn yaml(path: impl Into<PathBuf>, err: &serde_yaml::Error) -> Self {
        let loc = err.location();
        let mut message = err.to_string();
        // The parser appends " at line L column C"; the location is already in front.
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        DataError::Parse {
            path: path.into(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message,
        }
    }

    /// A semantic problem found after parsing; `line` from [`line_of`] when it can be found.
    pub(crate) fn invalid(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        DataError::Parse {
            path: path.into(),
            line,
            column: None,
            message: message.into(),
        }
    }
}

/// The 1-based line of the first `key:` in a YAML text (for messages about valid YAML with
/// invalid values).
pub(crate) fn line_of(src: &str, key: &str) -> Option<usize> {
    src.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'))
        })
        .map(|i| i + 1)
}

/// Every problem found while loading a set of files; loading reports them all at once.
#[derive(Debug)]
pub struct LoadErrors(pub Vec<DataError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(&chain(e))?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

impl From<DataError> for LoadErrors {
    fn from(e: DataError) -> Self {
        LoadErrors(vec![e])
    }
}

/// The mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The fixtures cannot be loaded.
    #[error("the fixtures are not a usable snapshot")]
    Fixtures {
        /// What is wrong with them.
        #[source]
        source: crate::model::SnapshotError,
    },
    /// The state directory cannot be used.
    #[error(transparent)]
    State {
        /// Why.
        source: StoreError,
    },
}

/// The state directory (`sharecheck mock --state DIR`) cannot be opened, read or written.
/// Nothing is reset to make it work: the directory is left as it was found.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory cannot be created or the store opened.
    #[error("state {path}: cannot {doing}")]
    Io {
        /// The directory or file.
        path: std::path::PathBuf,
        /// What was being done.
        doing: &'static str,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Another mock holds the store.
    #[error("state {path}: in use by another process (one mock per state directory)")]
    InUse {
        /// The store file.
        path: std::path::PathBuf,
    },
    /// The file is not a sharecheck state, or one of another layout version.
    #[error(
        "state {path}: {found}; this build reads a sharecheck state of layout version {expected}"
    )]
    Foreign {
        /// The store file.
        path: std::path::PathBuf,
        /// What it is instead.
        found: String,
        /// The layout version this build reads.
        expected: u32,
    },
    /// The store was written by an older build, in a layout this one does not read.
    #[error(
        "state {path}: written by an older sharecheck (layout version {layout}); start that \
         version on it, save its state with GET /_sharecheck/snapshot, and start this one on a \
         new state directory with --fixtures FILE"
    )]
    Older {
        /// The store file.
        path: std::path::PathBuf,
        /// The layout version it was written with.
        layout: u32,
    },
    /// The store's writer stopped: a commit failed, or the store was closed.
    #[error("state {path}: the writer stopped: {detail}")]
    Stopped {
        /// The store file.
        path: std::path::PathBuf,
        /// Why (the failure is kept as text: every later wait reports it again).
        detail: String,
    },
    /// The store is damaged: its integrity check or one of its records fails.
    #[error("state {path}: damaged: {detail}")]
    Damaged {
        /// The store file.
        path: std::path::PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// The target failed a check made before any case runs.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// A persona's password credentials are incomplete.
    #[error("persona `{persona}`")]
    Credentials {
        /// The persona.
        persona: String,
        /// What is missing.
        #[source]
        source: CredentialsError,
    },
    /// A persona's cloud of `clouds.yaml` cannot be used.
    #[error("persona `{persona}`")]
    Cloud {
        /// The persona.
        persona: String,
        /// Why.
        #[source]
        source: CloudsError,
    },
    /// Keystone issued no token for a persona.
    #[error("persona `{persona}`")]
    Keystone {
        /// The persona.
        persona: String,
        /// Why (never the password).
        #[source]
        source: KeystoneError,
    },
    /// A persona's credentials did not yield a token, or its token is refused.
    #[error("persona `{persona}`: {message}")]
    Persona {
        /// The persona.
        persona: String,
        /// What went wrong (never the token or password).
        message: String,
    },
    /// The catalog has no image endpoint for the interface and region.
    #[error("persona `{persona}`: the service catalog has no image endpoint for interface `{interface}`{}", region.as_ref().map(|r| format!(" in region `{r}`")).unwrap_or_default())]
    Catalog {
        /// Whose token carried the catalog.
        persona: String,
        /// Interface asked for.
        interface: String,
        /// Region asked for.
        region: Option<String>,
    },
    /// No endpoint in the file and no catalog to find one in.
    #[error("no image endpoint: set `endpoint` or authenticate a persona with Keystone")]
    NoEndpoint,
    /// Two personas are the same project.
    #[error(
        "personas `{first}` and `{second}` are both project `{project}`; personas must be distinct projects"
    )]
    SameProject {
        /// One persona.
        first: String,
        /// The other.
        second: String,
        /// Their project.
        project: String,
    },
    /// The endpoint does not answer like an image service.
    #[error("{endpoint}: {message}")]
    Endpoint {
        /// The image endpoint.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
}

/// Why a CA, certificate or key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("cannot read")]
    Read(#[source] std::io::Error),
    /// Not PEM certificates.
    #[error("not a PEM certificate bundle")]
    NotBundle(#[source] reqwest::Error),
    /// PEM without a certificate.
    #[error("no certificate in the file")]
    NoCertificate,
    /// Not a PEM certificate with its key.
    #[error("not a PEM certificate and key")]
    NotIdentity(#[source] reqwest::Error),
}

/// The run could not start (bad options, unreachable target, unwritable report).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    /// A TLS file could not be used.
    #[error("cannot use TLS file {}", path.display())]
    Tls {
        /// The CA, certificate or key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: TlsError,
    },
    /// The proxy setting is not usable.
    #[error("proxy `{proxy}`")]
    Proxy {
        /// As configured.
        proxy: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The target is not usable: credentials, endpoint or personas.
    #[error("preflight")]
    Preflight(#[from] PreflightError),
    /// A report could not be written.
    #[error("cannot write {path}")]
    Report {
        /// The report file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_shows_each_cause_once() {
        let inner = DataError::Read {
            path: "specs/x.yaml".into(),
            source: std::io::Error::other("disk on fire"),
        };
        assert_eq!(chain(&inner), "specs/x.yaml: cannot read: disk on fire");
        let outer = RunError::Preflight(PreflightError::NoEndpoint);
        assert_eq!(
            chain(&outer),
            "preflight: no image endpoint: set `endpoint` or authenticate a persona with Keystone"
        );
        let all = LoadErrors(vec![inner, DataError::invalid("a.yaml", Some(3), "bad")]);
        assert_eq!(
            all.to_string(),
            "specs/x.yaml: cannot read: disk on fire\na.yaml:3: bad"
        );
    }
}
