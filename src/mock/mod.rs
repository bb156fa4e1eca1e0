//! The mock image service: a thin warp layer over [`crate::model::Model`].
//!
//! `http` is the edge (body limits, fault rules, journal, the wire), which reads each request
//! once into a `context::RequestContext` (segments, rows, caller, request id); `route` turns image API
//! requests into model calls and `out` writes the reference's responses (status, error
//! format chosen by `Accept`, `Allow`, `x-openstack-request-id`, `WWW-Authenticate`);
//! `control` is the control API (`/_sharecheck/`: reset, snapshot, journal, fault rules) and
//! `/healthz`; `limits` the rate limit; `documents` the schemas and version discovery;
//! `keystone` a minimal Keystone v3 (tokens, projects, users) at `/v3`.
//! State lives in the model, behind one lock.

mod accept;
mod app;
mod blobs;
mod conform;
mod context;
mod control;
mod data;
mod deployment;
mod documents;
mod faults;
mod fetch;
mod http;
mod journal;
mod keystone;
mod limits;
mod metadef_schemas;
mod mutant;
mod out;
mod route;
mod server;
mod shared;
mod store;

pub use control::CONTROL_PREFIX;
pub use deployment::{LoadedDeployment, load_deployment, load_glance_config};
pub use mutant::Mutant;
pub use server::{MockServer, MockServerBuilder};

use std::net::SocketAddr;
use std::path::Path;

use crate::error::DataError;
use crate::model::{Identities, Model, Rules, Snapshot};

/// How to run the mock.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Address to listen on (loopback by default; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Tokens and who they are.
    pub identities: Identities,
    /// Quotas.
    pub rules: Rules,
    /// A deliberately broken rule, for proving that the suite notices (self-test only).
    pub mutant: Option<Mutant>,
    /// Honour `X-Sharecheck-Fault: 500|503`.
    pub faults: bool,
    /// Answer 413 with `Retry-After` past this many requests per second for one token,
    /// method and path.
    pub rate_limit: Option<u32>,
    /// The state to start from, and to return to on `POST /_sharecheck/reset`.
    pub fixtures: Option<Snapshot>,
    /// Write every request to stderr as one JSON line (tokens never appear).
    pub log_json: bool,
    /// Keep the state in this directory (created if missing) and start from what it holds;
    /// `None` keeps it in memory only.
    pub state: Option<std::path::PathBuf>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9292)),
            identities: Identities::builtin(),
            rules: Rules::default(),
            mutant: None,
            faults: false,
            rate_limit: None,
            fixtures: None,
            log_json: false,
            state: None,
        }
    }
}

/// The request header that injects a fault when the mock runs with faults enabled.
pub const FAULT_HEADER: &str = "x-sharecheck-fault";

/// Request limits: past them the mock answers in the error format `Accept` asks for, before
/// anything else (fault, rate limit, auth), and stores nothing. A body past
/// [`MAX_BODY_BYTES`] (with or without `Content-Length`, chunked too) is 413; up to
/// `DRAIN_BYTES` (64 MiB) of it is read and dropped so the client gets the answer, not a reset; a
/// declared `Content-Length` past that is answered 413 at once with `Connection: close`.
/// Hyper refuses on its own, with an empty body, a head past about 400 KB or with more than
/// 100 fields (431) and a request target past 64 KiB (414).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// How much of an oversize body is read and dropped before the 413.
pub const DRAIN_BYTES: u64 = 64 << 20;
/// The longest request target (path and query): past it, 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values): past them, 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The most header fields: past them, 431.
pub const MAX_HEADERS: usize = 64;

/// Reads a snapshot file (`GET /_sharecheck/snapshot` writes one) to start the mock from:
/// YAML, or JSON (read by a JSON parser when the file starts with `{`, much faster for large
/// states). Its entries are checked when the mock starts.
pub fn load_fixtures(path: &Path) -> Result<Snapshot, DataError> {
    let src = std::fs::read_to_string(path).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let snap: Snapshot = if src.trim_start().starts_with('{') {
        serde_json::from_str(&src).map_err(|e| DataError::Parse {
            path: path.to_path_buf(),
            line: Some(e.line()),
            column: Some(e.column()),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or("")
                .to_string(),
        })?
    } else {
        serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?
    };
    let mut probe = Model::new(Identities::default(), Rules::default());
    probe
        .restore(&snap)
        .map_err(|e| DataError::invalid(path, None, e.to_string()))?;
    Ok(snap)
}

/// Reads an identities file: static `tokens: {TOKEN: {project_id, user_id, roles}}`, and for
/// the Keystone at `/v3` `projects: {ID: {name, domain_id}}`, `users: {NAME: {id, password,
/// domain_id, project_id, roles}}`, `domains: {ID: {name}}` and the catalog's
/// `image_endpoint` (see README).
pub fn load_identities(path: &Path) -> Result<Identities, DataError> {
    let src = std::fs::read_to_string(path).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let ids: Identities = serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?;
    if ids.tokens.is_empty() && ids.users.is_empty() {
        return Err(DataError::invalid(
            path,
            Some(1),
            "no tokens and no users defined",
        ));
    }
    check_keystone_entries(path, &src, &ids)?;
    if let Some(url) = &ids.image_endpoint {
        let parsed = url::Url::parse(url).ok();
        if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
            return Err(DataError::invalid(
                path,
                crate::error::line_of(&src, "image_endpoint"),
                format!(
                    "image_endpoint `{url}`: expected an http(s) URL such as http://127.0.0.1:9292"
                ),
            ));
        }
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

/// Users and projects refer to things that exist, and names are unique within a domain.
fn check_keystone_entries(path: &Path, src: &str, ids: &Identities) -> Result<(), DataError> {
    let err = |key: &str, msg: String| {
        Err(DataError::invalid(
            path,
            crate::error::line_of(src, key),
            msg,
        ))
    };
    let mut seen = std::collections::HashSet::new();
    for (id, p) in &ids.projects {
        if id.is_empty() || p.name.is_empty() {
            return err(id, format!("project `{id}`: id and name must be non-empty"));
        }
        if ids.domain_name(&p.domain_id).is_none() {
            return err(
                id,
                format!("project `{id}`: unknown domain `{}`", p.domain_id),
            );
        }
        if !seen.insert((&p.domain_id, &p.name)) {
            return err(
                id,
                format!("project `{id}`: name `{}` is taken in its domain", p.name),
            );
        }
    }
    let mut user_ids = std::collections::HashSet::new();
    for (name, u) in &ids.users {
        if u.id.is_empty() || u.password.is_empty() {
            return err(
                name,
                format!("user `{name}`: id and password must be non-empty"),
            );
        }
        if !user_ids.insert(&u.id) {
            return err(name, format!("user `{name}`: id `{}` is taken", u.id));
        }
        if ids.domain_name(&u.domain_id).is_none() {
            return err(
                name,
                format!("user `{name}`: unknown domain `{}`", u.domain_id),
            );
        }
        if !ids.projects.contains_key(&u.project_id) {
            return err(
                name,
                format!(
                    "user `{name}`: project `{}` is not in `projects:`",
                    u.project_id
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::load_identities;

    fn load(name: &str, text: &str) -> Result<crate::model::Identities, String> {
        let dir = std::env::temp_dir().join(format!("sharecheck-ids-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let r = load_identities(&path).map_err(|e| e.to_string());
        let _ = std::fs::remove_file(&path);
        r
    }

    #[test]
    fn identities_file_with_users_and_projects_loads() {
        let ids = load(
            "ok.yaml",
            "tokens:\n  owner-token: {project_id: proj-owner, user_id: user-owner, roles: [member]}\n\
             projects:\n  proj-owner: {name: owner, domain_id: default}\n\
             users:\n  owner: {id: user-owner, password: owner-secret, domain_id: default, project_id: proj-owner, roles: [member, reader]}\n",
        )
        .unwrap();
        assert_eq!(ids.users["owner"].project_id, "proj-owner");
        assert_eq!(ids.projects["proj-owner"].name, "owner");
        assert_eq!(ids.domain_name("default"), Some("Default"));
        // The old shape, tokens only, still loads.
        load(
            "old.yaml",
            "tokens:\n  t: {project_id: p, user_id: u, roles: [member]}\n",
        )
        .unwrap();
    }

    #[test]
    fn identities_file_errors_name_file_and_line() {
        let e = load(
            "unknown-key.yaml",
            "projects:\n  p: {name: p}\nusers:\n  u: {id: u, password: x, project_id: p, colour: red}\n",
        )
        .unwrap_err();
        assert!(e.contains("unknown-key.yaml:4:"), "{e}");
        assert!(e.contains("colour"), "{e}");
        let e = load(
            "no-project.yaml",
            "projects:\n  p: {name: p}\nusers:\n  u: {id: u, password: x, project_id: q}\n",
        )
        .unwrap_err();
        assert!(e.contains("no-project.yaml:4"), "{e}");
        assert!(e.contains("project `q`"), "{e}");
        let e = load("empty.yaml", "projects: {}\n").unwrap_err();
        assert!(e.contains("no tokens and no users"), "{e}");
        let e = load(
            "endpoint.yaml",
            "tokens:\n  t: {project_id: p, user_id: u, roles: [member]}\nimage_endpoint: 127.0.0.1:9393\n",
        )
        .unwrap_err();
        assert!(e.contains("endpoint.yaml:3"), "{e}");
        assert!(e.contains("expected an http(s) URL"), "{e}");
    }
}

/// An operation declared once (the test-only `probe_image`: its spec `PROBE_SPEC`, a model
/// method and a row, all in `operations/tests.rs`) is routed, listed in `Allow`, predicted by
/// the fuzzer, named in emitted cases, expanded into matrix cases that pass on the mock, and
/// shown in the reports, with no other file touched.
#[cfg(test)]
mod one_row {
    use warp::http::{HeaderMap, HeaderValue, Method};

    use super::app::App;
    use super::route::handle;
    use crate::fuzz::emit;
    use crate::fuzz::stateful::{Finding, Step, Who, Whom, predictions};
    use crate::model::{Identities, Model, Rules};

    fn headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-auth-token", HeaderValue::from_static("owner-token"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        h
    }

    #[test]
    fn a_test_only_row_reaches_router_allow_fuzzer_and_emit() {
        let model = Model::new(Identities::builtin(), Rules::default());
        let app = App::new(model, "http://127.0.0.1:1".into(), None, false, None);
        let made = handle(&app, &Method::POST, "/v2/images", "", &headers(), b"{}");
        let image: serde_json::Value = serde_json::from_slice(made.body()).unwrap();
        let path = format!("/v2/images/{}/probe", image["id"].as_str().unwrap());

        let probed = handle(&app, &Method::GET, &path, "", &headers(), b"");
        assert_eq!(probed.status(), 200);
        assert!(String::from_utf8_lossy(probed.body()).contains("\"probed\":true"));
        let refused = handle(&app, &Method::DELETE, &path, "", &headers(), b"");
        assert_eq!(refused.status(), 405);
        assert_eq!(refused.headers()["allow"], "GET");

        let target = crate::embedded::target_for("http://127.0.0.1:1", Some(5), &[]);
        let steps = vec![
            Step::of(
                "create_image",
                0,
                Whom::Persona("member"),
                Who::Persona("owner"),
            ),
            Step::of(
                "probe_image",
                0,
                Whom::Persona("member"),
                Who::Persona("stranger"),
            ),
            Step::of(
                "probe_image",
                0,
                Whom::Persona("member"),
                Who::Persona("owner"),
            ),
        ];
        let predicted: Vec<u16> = predictions(&target, 5, "n", &steps)
            .into_iter()
            .map(|(status, _)| status)
            .collect();
        assert_eq!(predicted, [201, 404, 200]);

        let finding = Finding {
            steps,
            message: "a test".into(),
            seed: 1,
        };
        let (file, text) = emit::case_file(&target, 5, &finding);
        assert!(file.starts_with("probe_image/200"), "{}", file.display());
        assert!(text.contains("owner probes image #0"), "{text}");
        assert!(text.contains("path: /v2/images/{img0}/probe"), "{text}");
    }

    /// The test-only spec alone gives the matrix its rows; its cells run on the mock (which
    /// serves the test-only row) and the reports show them.
    #[test]
    fn a_test_only_spec_reaches_the_matrix_and_the_reports() {
        use std::sync::Arc;

        use crate::operations::PROBE_SPEC;
        use crate::suite::{Driver, MATRIX_COLUMNS, RunOptions, Suite, run};

        let suite = Suite::bundled_with(&[("specs/probe_image.yaml", PROBE_SPEC)])
            .expect("the suite loads with the test-only spec");
        let cells: Vec<_> = suite
            .matrix
            .iter()
            .filter(|c| c.operation == "probe_image")
            .collect();
        assert_eq!(cells.len(), 4 * MATRIX_COLUMNS.len());
        let cases = cells.iter().filter(|c| c.case.is_some()).count();
        assert_eq!(cases, 28);
        let case = suite
            .case("probe_image::404::matrix_stranger_private")
            .expect("a stranger's cell is a case");
        assert_eq!(case.file.request.path, "/v2/images/{img}/probe");
        assert_eq!(case.file.request.method, "GET");

        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let (_mock, target) = rt
            .block_on(crate::embedded::start(None))
            .expect("the mock starts");
        let suite = Arc::new(suite);
        let driver = Arc::new(Driver::new(target, &suite).expect("client"));
        let dir = tempfile::tempdir().expect("temporary folder");
        let opts = RunOptions {
            args: libtest_mimic::Arguments {
                filter: Some("probe_image::".into()),
                test_threads: Some(4),
                quiet: true,
                ..Default::default()
            },
            report: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let summary = run(&suite, driver, rt.handle().clone(), opts).expect("the run");
        assert_eq!(
            (summary.conclusion.num_passed, summary.conclusion.num_failed),
            (28, 0)
        );
        let md = std::fs::read_to_string(dir.path().join("report.md")).expect("report.md");
        let table = md
            .split("### `probe_image`")
            .nth(1)
            .expect("the matrix section has the test-only operation");
        assert!(
            table.contains("| private | 200 ✓ | n/p | n/p | n/p | n/p | 404 ✓ | 200 ✓ |"),
            "{table}"
        );
    }
}
