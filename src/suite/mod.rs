//! The conformance suite: specs and cases as data, a driver that runs a case against any
//! target over HTTP, and a libtest-mimic runner with JUnit output.
//!
//! The suite knows nothing of the mock: it talks to whatever [`Target`] it is given. Only
//! the CLI and the tests wire it to the embedded mock.

mod case;
mod citations;
mod cleanup;
mod diff;
mod exec;
mod expect;
mod json;
mod junit;
mod matrix;
mod record;
mod report;
mod runner;
mod schema;
pub(crate) mod spec;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::target::{Persona, Target};
pub use case::{
    BodyExpect, BodyKind, Case, CaseFile, Expect, ImageSetup, Lengths, Request, Setup, Step,
    TokenIn, Values, case_schema,
};
pub use cleanup::{Cleaned, PREFIX};
pub use diff::diff;
pub use exec::{CaseFailure, CaseRun, Stage};
pub use expect::{Expectation, Expectations};
pub use matrix::{COLUMNS as MATRIX_COLUMNS, Cell};
pub use runner::{RunOptions, RunSummary, run};
pub use schema::Schema;
pub use spec::Operation;

use crate::error::chain;
use crate::error::{DataError, LoadErrors, PreflightError, RunError};
use crate::target::{Caller, Facts, Need, Req, SendError, Session};

/// Why a request had no answer, without repeating the request.
fn no_answer(e: &SendError) -> String {
    match e {
        SendError::NoAnswer { source, .. } | SendError::CutShort { source, .. } => chain(source),
        other => chain(other),
    }
}

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells every running case to stop creating resources (after Ctrl-C or SIGTERM); cases then
/// fail fast and clean up what they made.
pub fn interrupt() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether [`interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Specs and cases, loaded and cross-checked.
#[derive(Clone, Debug)]
pub struct Suite {
    /// Every operation under `specs/`, sorted by name.
    pub operations: Vec<Operation>,
    /// Every case under `cases/`, sorted by trial name.
    pub cases: Vec<Case>,
    /// Response schemas under `specs/schemas/`, by name.
    pub schemas: BTreeMap<String, Arc<Schema>>,
    /// The cells of the authorization matrix (the specs' `matrix:` sections, the columns and
    /// reasons of `cases/matrix.yaml`), each a case or a reason.
    pub matrix: Vec<Cell>,
}

impl Suite {
    /// The specs and cases compiled into this binary.
    pub fn bundled() -> Result<Suite, LoadErrors> {
        let files = bundled::BUNDLED
            .iter()
            .map(|(p, s)| (PathBuf::from(p), (*s).to_string()));
        Suite::from_files(files)
    }

    /// The bundled specs and cases and `extra` files (relative path, text): a test-only
    /// operation's spec beside the real ones.
    #[cfg(test)]
    pub(crate) fn bundled_with(extra: &[(&str, &str)]) -> Result<Suite, LoadErrors> {
        let files = bundled::BUNDLED
            .iter()
            .chain(extra)
            .map(|(p, s)| (PathBuf::from(p), (*s).to_string()));
        Suite::from_files(files)
    }

    /// Specs and cases from a folder holding `specs/` and `cases/`.
    pub fn from_dir(root: &Path) -> Result<Suite, LoadErrors> {
        let mut files = Vec::new();
        let mut errs = Vec::new();
        for top in ["specs", "cases"] {
            let dir = root.join(top);
            if !dir.is_dir() {
                errs.push(DataError::invalid(&dir, None, "folder not found"));
                continue;
            }
            walk(&dir, &mut files, &mut errs);
        }
        let mut loaded = Vec::new();
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(s) => loaded.push((f.strip_prefix(root).unwrap_or(&f).to_path_buf(), s)),
                Err(source) => errs.push(DataError::Read { path: f, source }),
            }
        }
        if !errs.is_empty() {
            return Err(LoadErrors(errs));
        }
        Suite::from_files(loaded.into_iter()).map_err(|e| {
            // Report real paths, not paths relative to the root.
            LoadErrors(
                e.0.into_iter()
                    .map(|d| match d {
                        DataError::Parse {
                            path,
                            line,
                            column,
                            message,
                        } => DataError::Parse {
                            path: root.join(path),
                            line,
                            column,
                            message,
                        },
                        other => other,
                    })
                    .collect(),
            )
        })
    }

    /// Loads from (relative path, text) pairs: `specs/*.yaml` then `cases/**.yaml`.
    fn from_files(files: impl Iterator<Item = (PathBuf, String)>) -> Result<Suite, LoadErrors> {
        let (mut spec_files, mut case_files, mut schema_files) =
            (Vec::new(), Vec::new(), Vec::new());
        let mut errs = Vec::new();
        for (path, src) in files {
            let mut parts = path.iter().filter_map(|c| c.to_str());
            match parts.next() {
                Some("specs") if parts.next() == Some("schemas") => schema_files.push((path, src)),
                Some("specs") => spec_files.push((path, src)),
                Some("cases") => case_files.push((path, src)),
                _ => errs.push(DataError::invalid(
                    &path,
                    None,
                    "not under specs/ or cases/",
                )),
            }
        }
        let mut schemas = BTreeMap::new();
        for (path, src) in &schema_files {
            match Schema::parse(path, src) {
                Ok(s) => {
                    schemas.insert(s.name.clone(), Arc::new(s));
                }
                Err(e) => errs.push(e),
            }
        }
        let schema_names: Vec<String> = schemas.keys().cloned().collect();
        let mut operations = Vec::new();
        let mut sources = BTreeMap::new();
        for (path, src) in &spec_files {
            match Operation::parse(path, src) {
                Ok(op) => {
                    sources.insert(op.operation.clone(), (path.as_path(), src.as_str()));
                    operations.push(op);
                }
                Err(e) => errs.extend(e),
            }
        }
        operations.sort_by(|a, b| a.operation.cmp(&b.operation));
        for w in operations.windows(2) {
            if w[0].operation == w[1].operation {
                errs.push(DataError::invalid(
                    "specs",
                    None,
                    format!("operation `{}` is specified twice", w[0].operation),
                ));
            }
        }
        let mut cases: Vec<Case> = Vec::new();
        let mut cells = Vec::new();
        for (path, src) in &case_files {
            let rel = path.strip_prefix("cases").unwrap_or(path);
            if rel == Path::new(matrix::FILE) {
                match matrix::expand(path, src, &operations, &sources, &schema_names) {
                    Ok((c, m)) => {
                        cases.extend(c);
                        cells.extend(m);
                    }
                    Err(e) => errs.extend(e),
                }
                continue;
            }
            match Case::parse(path, rel, src, &operations, &schema_names) {
                Ok(c) => cases.push(c),
                Err(e) => errs.extend(e),
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        let mut ids: Vec<(&str, &Path)> = cases
            .iter()
            .map(|c| (c.file.id.as_str(), c.path.as_path()))
            .collect();
        ids.sort();
        for w in ids.windows(2) {
            if w[0].0 == w[1].0 {
                errs.push(DataError::invalid(
                    w[1].1,
                    Some(1),
                    format!("id `{}` is also used by {}", w[0].0, w[0].1.display()),
                ));
            }
        }
        if operations.is_empty() {
            errs.push(DataError::invalid(
                "specs",
                None,
                "no operation specs found",
            ));
        }
        if !errs.is_empty() {
            return Err(LoadErrors(errs));
        }
        Ok(Suite {
            operations,
            cases,
            schemas,
            matrix: cells,
        })
    }

    /// Adds the cases under `dir` (laid out like `cases/`: `<operation>/<code>/<name>.yaml`),
    /// checked against this suite's specs and schemas; ids must stay unique.
    pub fn with_cases_dir(mut self, dir: &Path) -> Result<Suite, LoadErrors> {
        let mut files = Vec::new();
        let mut errs = Vec::new();
        if !dir.is_dir() {
            return Err(DataError::invalid(dir, None, "folder not found").into());
        }
        walk(dir, &mut files, &mut errs);
        let schema_names: Vec<String> = self.schemas.keys().cloned().collect();
        for f in files {
            let src = match std::fs::read_to_string(&f) {
                Ok(s) => s,
                Err(source) => {
                    errs.push(DataError::Read { path: f, source });
                    continue;
                }
            };
            let rel = f.strip_prefix(dir).unwrap_or(&f).to_path_buf();
            match Case::parse(&f, &rel, &src, &self.operations, &schema_names) {
                Ok(c) => {
                    if let Some(other) = self.cases.iter().find(|o| o.file.id == c.file.id) {
                        errs.push(DataError::invalid(
                            &f,
                            Some(1),
                            format!(
                                "id `{}` is also used by {}",
                                c.file.id,
                                other.path.display()
                            ),
                        ));
                    } else if self.cases.iter().any(|o| o.name == c.name) {
                        errs.push(DataError::invalid(
                            &f,
                            None,
                            format!("trial `{}` exists already", c.name),
                        ));
                    } else {
                        self.cases.push(c);
                    }
                }
                Err(e) => errs.extend(e),
            }
        }
        if !errs.is_empty() {
            return Err(LoadErrors(errs));
        }
        self.cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(self)
    }

    /// Table rows that have neither a case nor a reasoned `not_provokable` entry.
    pub fn uncovered(&self) -> Vec<(String, u16)> {
        let mut out = Vec::new();
        for op in &self.operations {
            for r in &op.responses {
                let has_case = self
                    .cases
                    .iter()
                    .any(|c| c.file.operation == op.operation && c.file.code == r.code);
                if !has_case && r.not_provokable.is_none() {
                    out.push((op.operation.clone(), r.code));
                }
            }
        }
        out
    }

    /// The spec operation a request is an instance of; where several specs document one
    /// route (the import and export tasks), `preferred` when it is one of them.
    pub(crate) fn operation_of(
        &self,
        method: &str,
        path: &str,
        preferred: Option<&str>,
    ) -> Option<&Operation> {
        let path = path.split('?').next().unwrap_or(path);
        // A literal segment wins over a parameter, as the mock routes (`/v2/cache/clean` is
        // no image id): only the paths with the fewest parameters count.
        let params = |o: &&Operation| o.path.matches('{').count();
        let on_path: Vec<&Operation> = self
            .operations
            .iter()
            .filter(|o| o.matches_path(path))
            .collect();
        let fewest = on_path.iter().map(params).min()?;
        let mut matching = on_path
            .into_iter()
            .filter(|o| params(o) == fewest && o.method == method);
        let first = matching.next()?;
        Some(
            std::iter::once(first)
                .chain(matching)
                .find(|o| Some(o.operation.as_str()) == preferred)
                .unwrap_or(first),
        )
    }

    /// The case with this trial name.
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errs: &mut Vec<DataError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            errs.push(DataError::Read {
                path: dir.to_path_buf(),
                source,
            });
            return;
        }
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, files, errs);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            files.push(p);
        } else {
            errs.push(DataError::invalid(
                &p,
                None,
                "not a .yaml file; only case and spec files belong here",
            ));
        }
    }
}

/// Runs cases against one target: the shared HTTP client and what every case needs.
#[derive(Debug)]
pub struct Driver {
    env: exec::Env,
}

impl Driver {
    /// A driver for `target`, validating bodies with `suite`'s schemas, with a fresh run id.
    pub fn new(target: Target, suite: &Suite) -> Result<Driver, RunError> {
        Ok(Driver::with_session(Session::new(target)?, suite))
    }

    /// A driver whose cases fork `session` (its client and target), with a fresh run id.
    pub fn with_session(session: Session, suite: &Suite) -> Driver {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        Driver {
            env: exec::Env {
                session,
                run_id,
                schemas: suite.schemas.clone(),
                facts: tokio::sync::OnceCell::new(),
                turns: tokio::sync::RwLock::new(()),
            },
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        self.env.session.target()
    }

    /// The session every case forks: the one HTTP client and the target.
    pub fn session(&self) -> &Session {
        &self.env.session
    }

    /// The id that names everything this run creates (`sharecheck-<run id>-...`).
    pub fn run_id(&self) -> &str {
        &self.env.run_id
    }

    /// What the target was learned to be (nothing before [`Driver::preflight`] or a run).
    pub fn facts(&self) -> &Facts {
        self.env.facts()
    }

    /// Learns the target's facts unless they are known (once, however many ask at once).
    pub(crate) async fn learn(&self) {
        let session = &self.env.session;
        self.env
            .facts
            .get_or_init(|| Facts::discover(session))
            .await;
    }

    /// Checks, before any case runs, that the endpoint answers version discovery like an
    /// image service with a v2 API, that every persona's token is accepted, and that the
    /// personas are distinct projects; then learns what the target offers ([`Facts`]: API
    /// versions, import methods, stores, the target file's deployment).
    pub async fn preflight(&self) -> Result<(), PreflightError> {
        let session = &self.env.session;
        let base = session.target().base();
        let bad = |message: String| PreflightError::Endpoint {
            endpoint: base.to_string(),
            message,
        };
        let resp = session
            .send(Req::new(Caller::Anonymous, "GET", "/versions").stage(Stage::Setup))
            .await
            .map_err(|e| bad(format!("no answer to version discovery: {}", no_answer(&e))))?;
        let status = resp.status;
        let doc: serde_json::Value = resp.json().unwrap_or_default();
        let has_v2 = doc
            .get("versions")
            .and_then(|v| v.as_array())
            .is_some_and(|vs| {
                vs.iter().any(|v| {
                    v.get("id")
                        .and_then(|i| i.as_str())
                        .is_some_and(|i| i.starts_with("v2"))
                })
            });
        if !(status == 200 || status == 300) || !has_v2 {
            return Err(bad(format!(
                "GET /versions answered {status} without an image API v2 version; is this an image service root?"
            )));
        }
        for name in session.target().personas.keys() {
            let resp = session
                .send(Req::by(name, "GET", "/v2/images?limit=1").stage(Stage::Setup))
                .await
                .map_err(|e| bad(format!("no answer: {}", no_answer(&e))))?;
            match resp.status {
                200 => {}
                401 => {
                    return Err(PreflightError::Persona {
                        persona: name.clone(),
                        message: "the image service refuses its token (401)".into(),
                    });
                }
                s => {
                    return Err(PreflightError::Persona {
                        persona: name.clone(),
                        message: format!("GET /v2/images with its token answered {s}, not 200"),
                    });
                }
            }
        }
        session.target().check_distinct()?;
        self.env
            .facts
            .get_or_init(|| Facts::learn(session, &doc))
            .await;
        Ok(())
    }

    /// Deletes the images of this target whose names start with `prefix`
    /// (`sharecheck-` for every run, `sharecheck-<run id>-` for one).
    pub async fn delete_leftovers(&self, prefix: &str) -> Cleaned {
        cleanup::delete_by_prefix(&self.env.session, prefix).await
    }

    /// Why the target cannot run a case needing `need`, or `None` when it can.
    pub(crate) fn lacks(&self, need: &Need) -> Option<String> {
        self.facts().lacks(self.target(), need)
    }

    /// Why the target cannot run `case`, or `None` when it can: each unmet need's reason.
    pub(crate) fn skip_reason(&self, case: &Case) -> Option<String> {
        let reasons: Vec<String> = case.needs.iter().filter_map(|n| self.lacks(n)).collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Why the target cannot run `case` (each unmet need's reason), or `None` when it can;
    /// the target's facts are learned first, unless preflight or an earlier case did. A case
    /// it cannot run is one to leave out, as a run reports it ignored.
    pub async fn unmet_needs(&self, case: &Case) -> Option<String> {
        self.learn().await;
        self.skip_reason(case)
    }

    /// Runs one case; the error says what was sent, what came back and what was expected.
    /// The target's facts are learned first, unless preflight or an earlier case did.
    pub async fn run_case(&self, case: &Case) -> Result<(), CaseFailure> {
        self.learn().await;
        exec::run_case(&self.env, case).await.result
    }

    /// Runs one case and also returns every exchange it made (set-up and clean-up included).
    pub(crate) async fn run_case_recorded(&self, case: &Case) -> CaseRun {
        self.learn().await;
        exec::run_case(&self.env, case).await
    }
}
