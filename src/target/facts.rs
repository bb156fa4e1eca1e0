//! What a target is, learned before any case runs ([`Facts`]): the API versions its version
//! document lists, the import methods and stores its discovery documents name, and what
//! its target file says of its configuration ([`Deployment`]); and, from them and the
//! target's personas, quotas and capabilities, whether it meets a [`Need`].
//!
//! A discovery document the target does not serve (404, or any answer that is not the
//! document) means the target lacks what it would list, never an error.

use serde_json::Value;

use super::config::{DEFAULT_IMPORT_SOURCE, Deployment};
use super::need::Need;
use super::resolve::Target;
use super::session::{Caller, Req, Session, Stage};

/// One store of `/v2/info/stores`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    /// Its `id`.
    pub id: String,
    /// Whether it is the default (`"default": "true"`).
    pub default: bool,
    /// Whether it is read-only (`"read-only": "true"`): it takes no data.
    pub read_only: bool,
}

/// What the target offers, as learned at preflight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The N of every `v2.N` the version document lists, ascending, each once.
    pub versions: Vec<u32>,
    /// The N of the version marked `CURRENT`.
    pub current: Option<u32>,
    /// The import methods `/v2/info/import` lists; `None` when it lists none.
    pub import_methods: Option<Vec<String>>,
    /// The status `/v2/info/import` answered (0: no answer).
    pub import_status: u16,
    /// The stores `/v2/info/stores` lists; `None` when it lists none.
    pub stores: Option<Vec<Store>>,
    /// The status `/v2/info/stores` answered (0: no answer).
    pub stores_status: u16,
    /// What the target file says of the configuration (`None`: it says nothing, and the
    /// reference's defaults hold).
    pub deployment: Option<Deployment>,
    /// `/v2/info/usage` reports at least one limited resource (unified limits are on).
    pub unified_limits: bool,
}

impl Facts {
    /// Reads version discovery, then the import and store documents as the owner.
    pub async fn discover(session: &Session) -> Facts {
        let doc = session
            .send(Req::new(Caller::Anonymous, "GET", "/versions").stage(Stage::Setup))
            .await
            .ok()
            .and_then(|a| a.json())
            .unwrap_or_default();
        Facts::learn(session, &doc).await
    }

    /// The facts of `session`'s target, its version document being `versions`.
    pub async fn learn(session: &Session, versions: &Value) -> Facts {
        let get = |path: &'static str| async move {
            match session
                .send(Req::by("owner", "GET", path).stage(Stage::Setup))
                .await
            {
                Ok(a) if a.status == 200 => (200, a.json()),
                Ok(a) => (a.status, None),
                Err(_) => (0, None),
            }
        };
        let (import_status, import) = get("/v2/info/import").await;
        let (stores_status, stores) = get("/v2/info/stores").await;
        let (_, usage) = get("/v2/info/usage").await;
        let mut facts = Facts::from_documents(versions, import.as_ref(), stores.as_ref());
        facts.unified_limits = Facts::reports_limits(usage.as_ref());
        facts.import_status = import_status;
        facts.stores_status = stores_status;
        facts.deployment = session.target().deployment.clone();
        facts
    }

    /// The facts the three discovery documents state (`None`: not served).
    pub fn from_documents(
        versions: &Value,
        import: Option<&Value>,
        stores: Option<&Value>,
    ) -> Facts {
        let mut facts = Facts::default();
        for v in versions
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(minor) = v
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| id.strip_prefix("v2."))
                .and_then(|m| m.parse::<u32>().ok())
            else {
                continue;
            };
            facts.versions.push(minor);
            if v.get("status").and_then(Value::as_str) == Some("CURRENT") {
                facts.current = Some(minor);
            }
        }
        facts.versions.sort_unstable();
        facts.versions.dedup();
        facts.import_methods = import
            .and_then(|d| d.pointer("/import-methods/value"))
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            });
        facts.stores = stores
            .and_then(|d| d.get("stores"))
            .and_then(Value::as_array)
            .map(|ss| {
                ss.iter()
                    .filter_map(|s| {
                        Some(Store {
                            id: s.get("id")?.as_str()?.to_string(),
                            default: truthy(s.get("default")),
                            read_only: truthy(s.get("read-only")),
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|ss| !ss.is_empty());
        facts
    }

    /// Whether a usage document (`/v2/info/usage`; `None`: not served) reports limits: its
    /// `usage` is an object with at least one resource.
    pub fn reports_limits(usage: Option<&Value>) -> bool {
        usage
            .and_then(|u| u.get("usage"))
            .and_then(Value::as_object)
            .is_some_and(|o| !o.is_empty())
    }

    /// The newest `v2.N` the target lists.
    pub fn newest(&self) -> Option<u32> {
        self.versions.last().copied().max(self.current)
    }

    /// The store marked default, when the target lists its stores.
    pub fn default_store(&self) -> Option<&str> {
        let stores = self.stores.as_ref()?;
        stores.iter().find(|s| s.default).map(|s| s.id.as_str())
    }

    /// A store that takes data and is not the default (`{other_store}`).
    pub fn other_store(&self) -> Option<&str> {
        self.writable().find(|s| !s.default).map(|s| s.id.as_str())
    }

    /// A read-only store (`{read_only_store}`).
    pub fn read_only_store(&self) -> Option<&str> {
        self.stores
            .iter()
            .flatten()
            .find(|s| s.read_only)
            .map(|s| s.id.as_str())
    }

    fn writable(&self) -> impl Iterator<Item = &Store> {
        self.stores.iter().flatten().filter(|s| !s.read_only)
    }

    /// The configuration the target file states, or the reference's defaults.
    pub fn deployment(&self) -> Deployment {
        self.deployment.clone().unwrap_or_default()
    }

    /// Whether the image cache API is served: the target file says so, or discovery lists
    /// v2.14, which the reference lists only with a cache (with one it lists v2.14 to v2.18,
    /// without one v2.15 and v2.17 but neither v2.14, v2.16 nor v2.18).
    pub fn cache(&self) -> bool {
        self.deployment().cache || self.versions.contains(&14)
    }

    /// A source URL the target's import filter admits (`{import_source}`): the target file's
    /// `import_source`, else one the reference's default filter admits.
    pub fn import_source(&self) -> &str {
        self.deployment
            .as_ref()
            .and_then(|d| d.import_source.as_deref())
            .unwrap_or(DEFAULT_IMPORT_SOURCE)
    }

    /// Why `target` (with these facts) cannot run a case needing `need`, or `None` when it
    /// can.
    pub fn lacks(&self, target: &Target, need: &Need) -> Option<String> {
        let no = |cond: bool, why: String| (!cond).then_some(why);
        let deployed = |what: &str| match self.deployment {
            Some(_) => format!("the target file's deployment says {what}"),
            None => format!(
                "{what} by the reference's default (the target file has no deployment section)"
            ),
        };
        match *need {
            Need::Capability(c) => no(
                target.capabilities.iter().any(|x| x == c),
                format!("target lacks capability `{c}`"),
            ),
            Need::Persona(p) => no(
                target.personas.contains_key(p),
                format!("target has no `{p}` persona"),
            ),
            Need::MemberQuota => no(
                target.member_quota.is_some(),
                "target declares no member_quota".into(),
            ),
            Need::TagQuota => no(
                target.tag_quota.is_some(),
                "target declares no tag_quota".into(),
            ),
            Need::Api(n) => no(
                self.newest().is_some_and(|m| m >= n),
                match self.newest() {
                    Some(m) => format!("needs Image API v2.{n}; the target serves up to v2.{m}"),
                    None => format!("needs Image API v2.{n}; the target lists no v2.N version"),
                },
            ),
            Need::ImportMethod(m) => no(
                self.import_methods.iter().flatten().any(|x| x == m),
                match &self.import_methods {
                    Some(ms) => format!(
                        "target does not offer import method `{m}` (it offers {})",
                        if ms.is_empty() {
                            "none".to_string()
                        } else {
                            ms.join(", ")
                        }
                    ),
                    None => format!(
                        "target does not offer import method `{m}` ({})",
                        answered("/v2/info/import", self.import_status)
                    ),
                },
            ),
            Need::Stores => no(
                self.default_store().is_some(),
                match &self.stores {
                    Some(_) => "target lists stores but none is the default".into(),
                    None => format!(
                        "target lists no stores ({})",
                        answered("/v2/info/stores", self.stores_status)
                    ),
                },
            ),
            Need::HttpStore => no(
                self.stores.iter().flatten().any(|s| s.read_only),
                format!(
                    "needs an http store (a read-only store in /v2/info/stores); {}",
                    match &self.stores {
                        Some(_) => "the target lists none".to_string(),
                        None => format!("no stores ({})", answered("/v2/info/stores", self.stores_status)),
                    }
                ),
            ),
            Need::MultipleStores => no(
                self.default_store().is_some() && self.writable().count() >= 2,
                format!(
                    "needs two stores that take data; the target lists {}",
                    match &self.stores {
                        Some(_) => format!("{}", self.writable().count()),
                        None =>
                            format!("none ({})", answered("/v2/info/stores", self.stores_status)),
                    }
                ),
            ),
            Need::Cache => no(
                self.cache(),
                "neither does version discovery list v2.14 nor the target file's deployment say `cache: true`: there is no image cache API".into(),
            ),
            Need::LocationsShown => no(
                self.deployment().locations_shown,
                deployed("locations are hidden"),
            ),
            Need::LocationsHidden => no(
                !self.deployment().locations_shown,
                deployed("locations are shown"),
            ),
            Need::ImageFormatMatch => no(
                self.deployment().image_format_match,
                deployed("data need not match its disk format"),
            ),
            Need::UnifiedLimits => no(
                self.unified_limits,
                "GET /v2/info/usage reports no limits (unified limits are off, the reference's default)".into(),
            ),
            Need::DefaultImportFilter => no(
                self.deployment().import_source.is_none(),
                "the target file's deployment names an import_source: its import filter is not the reference's default".into(),
            ),
        }
    }

    /// What was learned, as JSON (for `--json`): versions as `v2.N` ids, `null` for a
    /// discovery document the target does not serve.
    pub fn to_json(&self) -> Value {
        let d = self.deployment();
        serde_json::json!({
            "api_versions": self.versions.iter().map(|n| format!("v2.{n}")).collect::<Vec<_>>(),
            "current": self.current.map(|n| format!("v2.{n}")),
            "import_methods": self.import_methods,
            "stores": self.stores.as_ref().map(|ss| ss.iter().map(|s| serde_json::json!({
                "id": s.id, "default": s.default, "read_only": s.read_only,
            })).collect::<Vec<_>>()),
            "default_store": self.default_store(),
            "unified_limits": self.unified_limits,
            "deployment": {
                "locations_shown": d.locations_shown,
                "image_format_match": d.image_format_match,
                "cache": d.cache,
                "import_source": self.import_source(),
                "declared": self.deployment.is_some(),
            },
        })
    }

    /// What was learned, one line each, for the preflight's report.
    pub fn describe(&self, target: &Target) -> Vec<String> {
        let versions = if self.versions.is_empty() {
            "none listed".to_string()
        } else {
            let current = self
                .current
                .map_or(String::new(), |c| format!(" (CURRENT v2.{c})"));
            format!("{}{current}", ranges(&self.versions))
        };
        let stores = match &self.stores {
            Some(ss) => ss
                .iter()
                .map(|s| {
                    let mut tags = Vec::new();
                    if s.default {
                        tags.push("default");
                    }
                    if s.read_only {
                        tags.push("read-only");
                    }
                    if tags.is_empty() {
                        s.id.clone()
                    } else {
                        format!("{} ({})", s.id, tags.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => format!("none ({})", answered("/v2/info/stores", self.stores_status)),
        };
        let methods = match &self.import_methods {
            Some(ms) if !ms.is_empty() => ms.join(", "),
            Some(_) => "none".into(),
            None => format!("none ({})", answered("/v2/info/import", self.import_status)),
        };
        let d = self.deployment();
        let yes = |b: bool| if b { "yes" } else { "no" };
        let source = if self.deployment.is_some() {
            "as the target file says"
        } else {
            "the reference's defaults"
        };
        let quota = |q: Option<u32>| q.map_or("not declared".to_string(), |q| q.to_string());
        vec![
            format!("API versions: {versions}"),
            format!("stores: {stores}"),
            format!("import methods: {methods}"),
            format!(
                "locations shown: {}, image format match: {}, cache: {}, import source: {} ({source})",
                yes(d.locations_shown),
                yes(d.image_format_match),
                yes(self.cache()),
                self.import_source()
            ),
            format!(
                "unified limits: {}",
                if self.unified_limits {
                    "reported by /v2/info/usage"
                } else {
                    "none reported"
                }
            ),
            format!(
                "quotas: member {}, tag {}",
                quota(target.member_quota),
                quota(target.tag_quota)
            ),
        ]
    }
}

/// `"true"` or `true`.
fn truthy(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str) == Some("true")
}

fn answered(path: &str, status: u16) -> String {
    match status {
        0 => format!("GET {path}: no answer"),
        s => format!("GET {path} answered {s}"),
    }
}

/// `v2.0–v2.13, v2.15, v2.17` from ascending minor numbers.
fn ranges(minors: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < minors.len() {
        let mut j = i;
        while j + 1 < minors.len() && minors[j + 1] == minors[j] + 1 {
            j += 1;
        }
        out.push(if j == i {
            format!("v2.{}", minors[i])
        } else {
            format!("v2.{}–v2.{}", minors[i], minors[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn glance_versions() -> Value {
        let mut vs: Vec<Value> = (0..=13)
            .chain([15, 17])
            .map(|n| json!({"id": format!("v2.{n}"), "status": "SUPPORTED", "links": []}))
            .collect();
        vs[15]["status"] = json!("CURRENT");
        vs.push(json!({"id": "v1.1", "status": "DEPRECATED"}));
        json!({ "versions": vs })
    }

    fn two_stores() -> Value {
        json!({"stores": [
            {"id": "local", "description": "on disk", "default": "true"},
            {"id": "backup"},
            {"id": "web", "read-only": "true"},
        ]})
    }

    fn target() -> Target {
        Target::new("http://127.0.0.1:1", BTreeMap::new())
    }

    #[test]
    fn versions_methods_and_stores_are_read_from_the_documents() {
        let import = json!({"import-methods": {"type": "array", "value": ["glance-direct", "web-download"]}});
        let f = Facts::from_documents(&glance_versions(), Some(&import), Some(&two_stores()));
        assert_eq!(f.versions, (0..=13).chain([15, 17]).collect::<Vec<_>>());
        assert_eq!(f.current, Some(17));
        assert_eq!(f.newest(), Some(17));
        assert_eq!(
            f.import_methods.as_deref(),
            Some(&["glance-direct".to_string(), "web-download".to_string()][..])
        );
        assert_eq!(f.default_store(), Some("local"));
        assert_eq!(f.other_store(), Some("backup"));
        let t = target();
        assert_eq!(f.lacks(&t, &Need::MultipleStores), None);
        assert_eq!(f.lacks(&t, &Need::Stores), None);
        assert_eq!(f.lacks(&t, &Need::Api(17)), None);
        assert_eq!(
            f.lacks(&t, &Need::Api(18)).as_deref(),
            Some("needs Image API v2.18; the target serves up to v2.17")
        );
        assert_eq!(f.lacks(&t, &Need::ImportMethod("glance-direct")), None);
        assert_eq!(
            f.lacks(&t, &Need::ImportMethod("copy-image")).as_deref(),
            Some(
                "target does not offer import method `copy-image` (it offers glance-direct, web-download)"
            )
        );
        assert_eq!(
            f.describe(&t)[0],
            "API versions: v2.0–v2.13, v2.15, v2.17 (CURRENT v2.17)"
        );
        assert_eq!(
            f.describe(&t)[1],
            "stores: local (default), backup, web (read-only)"
        );
    }

    #[test]
    fn a_missing_discovery_document_means_the_target_lacks_it() {
        let mut f = Facts::from_documents(&json!({"versions": []}), None, None);
        f.stores_status = 404;
        f.import_status = 404;
        let t = target();
        assert_eq!(f.default_store(), None);
        assert_eq!(
            f.lacks(&t, &Need::Stores).as_deref(),
            Some("target lists no stores (GET /v2/info/stores answered 404)")
        );
        assert!(f.lacks(&t, &Need::MultipleStores).is_some());
        assert!(f.lacks(&t, &Need::ImportMethod("glance-direct")).is_some());
        assert!(f.lacks(&t, &Need::Api(0)).is_some());
        // A document of another shape lists nothing either.
        let f = Facts::from_documents(
            &json!("not versions"),
            Some(&json!({"import-methods": "glance-direct"})),
            Some(&json!({"stores": []})),
        );
        assert_eq!(
            (&f.import_methods, &f.stores, f.newest()),
            (&None, &None, None)
        );
    }

    #[test]
    fn one_store_is_not_multiple_stores_and_a_read_only_one_does_not_count() {
        let one =
            json!({"stores": [{"id": "fs", "default": true}, {"id": "http", "read-only": "true"}]});
        let f = Facts::from_documents(&glance_versions(), None, Some(&one));
        assert_eq!(f.default_store(), Some("fs"));
        assert_eq!(f.other_store(), None);
        assert_eq!(
            f.lacks(&target(), &Need::MultipleStores).as_deref(),
            Some("needs two stores that take data; the target lists 1")
        );
    }

    #[test]
    fn the_deployment_defaults_are_the_references() {
        let f = Facts::default();
        let t = target();
        assert_eq!(f.lacks(&t, &Need::LocationsHidden), None);
        assert_eq!(f.lacks(&t, &Need::ImageFormatMatch), None);
        assert!(
            f.lacks(&t, &Need::LocationsShown)
                .is_some_and(|r| r.contains("reference's default"))
        );
        assert!(f.lacks(&t, &Need::Cache).is_some());
        let f = Facts {
            deployment: Some(Deployment {
                locations_shown: true,
                image_format_match: false,
                cache: true,
                import_source: None,
            }),
            ..Facts::default()
        };
        assert_eq!(f.lacks(&t, &Need::LocationsShown), None);
        assert_eq!(f.lacks(&t, &Need::Cache), None);
        assert!(f.lacks(&t, &Need::LocationsHidden).is_some());
        assert!(f.lacks(&t, &Need::ImageFormatMatch).is_some());
    }

    #[test]
    fn an_import_source_replaces_the_default_filters_and_turns_off_its_cases() {
        let t = target();
        let f = Facts::default();
        assert_eq!(f.import_source(), DEFAULT_IMPORT_SOURCE);
        assert_eq!(f.lacks(&t, &Need::DefaultImportFilter), None);
        let f = Facts {
            deployment: Some(Deployment {
                import_source: Some("http://127.0.0.1:9551/img".into()),
                ..Deployment::default()
            }),
            ..Facts::default()
        };
        assert_eq!(f.import_source(), "http://127.0.0.1:9551/img");
        assert!(
            f.lacks(&t, &Need::DefaultImportFilter)
                .is_some_and(|r| r.contains("import_source"))
        );
        assert!(f.describe(&t)[3].contains("import source: http://127.0.0.1:9551/img"));
    }

    #[test]
    fn unified_limits_are_learned_from_a_usage_document_that_reports_one() {
        let t = target();
        assert!(!Facts::reports_limits(None));
        assert!(!Facts::reports_limits(Some(
            &serde_json::json!({"usage": {}})
        )));
        assert!(!Facts::reports_limits(Some(
            &serde_json::json!({"usage": []})
        )));
        let on = serde_json::json!({"usage": {"image_count_total": {"limit": 5, "usage": 1}}});
        assert!(Facts::reports_limits(Some(&on)));
        assert!(
            Facts::default()
                .lacks(&t, &Need::UnifiedLimits)
                .is_some_and(|r| r.contains("/v2/info/usage"))
        );
        let f = Facts {
            unified_limits: true,
            ..Facts::default()
        };
        assert_eq!(f.lacks(&t, &Need::UnifiedLimits), None);
        assert!(f.describe(&t)[4].contains("reported by /v2/info/usage"));
    }

    #[test]
    fn a_read_only_store_is_a_fact_of_the_store_list() {
        let t = target();
        let doc = serde_json::json!({"stores": [
            {"id": "local", "default": "true"}, {"id": "web", "read-only": "true"},
        ]});
        let f = Facts::from_documents(&Value::Null, None, Some(&doc));
        assert_eq!(f.read_only_store(), Some("web"));
        assert_eq!(f.lacks(&t, &Need::HttpStore), None);
        let doc = serde_json::json!({"stores": [{"id": "local", "default": "true"}]});
        let f = Facts::from_documents(&Value::Null, None, Some(&doc));
        assert_eq!(f.read_only_store(), None);
        assert_eq!(
            f.lacks(&t, &Need::HttpStore).as_deref(),
            Some(
                "needs an http store (a read-only store in /v2/info/stores); the target lists none"
            )
        );
    }
}
