//! What an operator's configuration decides about the answers, as plain data: the stores
//! (Glance's `enabled_backends` and each backend's section), the default store, the enabled
//! import methods, the import filter, the image cache, what image objects show, the format
//! check and the quotas beyond the three the model enforced from the start (member, tag and
//! property quotas stay in [`Rules`](super::Rules), the one place for them).
//!
//! [`Deployment::default`] is the mock as it always was: one file store `fs`, the default,
//! the three import methods Glance enables by default, Glance's default import filter, an
//! image cache (as the reference the project runs has: `image_cache_dir` set, without the
//! caching middleware). Readers of configuration files (`mock/deployment.rs`) build the other ones.

use serde::{Deserialize, Serialize};

/// A store of image data (a backend of `enabled_backends`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// Its identifier, as clients name it in `stores`.
    pub id: String,
    /// What `/v2/info/stores` says of it (the backend's `store_description`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its relative weight (the backend's `weight`; Glance shows it in the store details).
    #[serde(default)]
    pub weight: i64,
    /// Data can be read from it but never written there (Glance: a backend of type `http`).
    #[serde(default)]
    pub read_only: bool,
    /// Its driver (the type of `enabled_backends = id:type`: one of [`STORE_TYPES`]); `None`:
    /// `http` for a read-only store, else `file` (see [`Store::kind`]).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The store drivers whose details Glance 33 can show (`/v2/info/stores/detail`).
pub const STORE_TYPES: &[&str] = &["file", "http", "rbd", "cinder", "swift", "s3", "vmware"];

impl Store {
    /// A writable store without description or weight.
    pub fn named(id: &str) -> Store {
        Store {
            id: id.to_string(),
            description: None,
            weight: 0,
            read_only: false,
            kind: None,
        }
    }

    /// Its driver: the one configured, else `http` for a read-only store and `file` for
    /// another.
    pub fn kind(&self) -> &str {
        match &self.kind {
            Some(k) => k,
            None if self.read_only => "http",
            None => "file",
        }
    }
}

/// The resources Glance 33 counts against Keystone's unified limits, in the order
/// `/v2/info/usage` reports them: total MiB of image data in the stores, total MiB staged,
/// images, images being uploaded or imported.
pub const LIMITED_RESOURCES: &[&str] = &[
    "image_size_total",
    "image_stage_total",
    "image_count_total",
    "image_count_uploading",
];

/// Keystone's unified limits for the image service (`use_keystone_limits = True`), as data:
/// the registered (default) limit of each resource and the limits of particular projects. A
/// resource neither sets is limited to 0, as oslo.limit reads a missing limit; -1 is
/// unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnifiedLimits {
    /// The registered limit of each resource (by its name, one of [`LIMITED_RESOURCES`]).
    pub limits: std::collections::BTreeMap<String, i64>,
    /// Project limits, by project id, then resource: they replace the registered limit.
    pub projects: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>>,
}

impl UnifiedLimits {
    /// The limit of `resource` for `project`: the project's, else the registered one, else 0.
    pub fn limit(&self, project: &str, resource: &str) -> i64 {
        self.projects
            .get(project)
            .and_then(|p| p.get(resource))
            .or_else(|| self.limits.get(resource))
            .copied()
            .unwrap_or(0)
    }
}

/// The import methods Glance 33 knows; `enabled_import_methods` chooses among them.
pub const KNOWN_IMPORT_METHODS: &[&str] = &[
    "glance-direct",
    "web-download",
    "copy-image",
    "glance-download",
];

/// Glance's `[import_filtering_opts]`: which sources a web-download or a legacy import task
/// may name. Where an allowed list and a disallowed list of one kind are both set, only the
/// allowed one counts, as in the reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportFilter {
    /// Schemes a source may have (default `http`, `https`).
    pub allowed_schemes: Vec<String>,
    /// Schemes a source may not have.
    pub disallowed_schemes: Vec<String>,
    /// Hosts a source may name (empty: any).
    pub allowed_hosts: Vec<String>,
    /// Hosts a source may not name.
    pub disallowed_hosts: Vec<String>,
    /// Ports a source may give (default 80 and 443; a source without a port passes).
    pub allowed_ports: Vec<u16>,
    /// Ports a source may not give.
    pub disallowed_ports: Vec<u16>,
}

impl Default for ImportFilter {
    fn default() -> Self {
        ImportFilter {
            allowed_schemes: vec!["http".into(), "https".into()],
            disallowed_schemes: Vec::new(),
            allowed_hosts: Vec::new(),
            disallowed_hosts: Vec::new(),
            allowed_ports: vec![80, 443],
            disallowed_ports: Vec::new(),
        }
    }
}

/// Whether `value` passes an allowed list and a disallowed list (the allowed one alone
/// when both are set).
fn admitted<T: PartialEq>(value: &T, allowed: &[T], disallowed: &[T]) -> bool {
    if allowed.is_empty() {
        !disallowed.contains(value)
    } else {
        allowed.contains(value)
    }
}

impl ImportFilter {
    /// Whether a source with this scheme passes.
    pub fn scheme_passes(&self, scheme: &str) -> bool {
        !scheme.is_empty()
            && admitted(
                &scheme.to_string(),
                &self.allowed_schemes,
                &self.disallowed_schemes,
            )
    }

    /// Whether a source naming this host (already normalized: an address in its usual form
    /// or a name) passes.
    pub fn host_passes(&self, host: &str) -> bool {
        !host.is_empty()
            && admitted(
                &host.to_string(),
                &self.allowed_hosts,
                &self.disallowed_hosts,
            )
    }

    /// Whether a source giving this port (`None`: no port in the URL) passes.
    pub fn port_passes(&self, port: Option<u16>) -> bool {
        port.is_none_or(|p| admitted(&p, &self.allowed_ports, &self.disallowed_ports))
    }
}

/// Glance 33's default `image_size_cap`: 1 TiB.
pub const DEFAULT_IMAGE_SIZE_CAP: u64 = 1 << 40;

/// What the operator's configuration decides; see the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The stores, in the order configured. Empty: a single store without
    /// `enabled_backends` (no `/v2/info/stores`, no `stores` on images).
    pub stores: Vec<Store>,
    /// Where uploads and imports that name no store go (`[glance_store] default_backend`);
    /// one of `stores` whenever there are stores.
    pub default_store: Option<String>,
    /// The import methods clients may use, in the order `/v2/info/import` lists them.
    pub import_methods: Vec<String>,
    /// Which sources may be imported from.
    pub import_filter: ImportFilter,
    /// The image cache is configured (`image_cache_dir`): the cache API is served
    /// (`cache.rs`) and version discovery lists v2.14 to v2.18.
    pub image_cache: bool,
    /// How the cache is set up (read only when `image_cache`).
    pub cache: super::CacheSettings,
    /// `show_multiple_locations`: image objects show `locations`, where each store keeps
    /// the data (a fixed made-up path per store, see [`Deployment::location_of`]), and the
    /// image's locations may be patched (else that is 403).
    pub show_multiple_locations: bool,
    /// `show_image_direct_url`: an image with data shows `direct_url`, its first location.
    pub show_image_direct_url: bool,
    /// `require_image_format_match`: an upload's content must match its `disk_format`.
    pub require_image_format_match: bool,
    /// `image_location_quota` (negative: unlimited; not enforced: the mock serves no
    /// locations).
    pub image_location_quota: i64,
    /// `image_size_cap`: the most bytes one upload or stage may bring (413 past it).
    pub image_size_cap: u64,
    /// `user_storage_quota`, in bytes (0: unlimited): the most data the images of one
    /// project may hold; an upload past it is 413.
    pub user_storage_quota: u64,
    /// How long the mock gives a web-download to fetch its data, in seconds (the mock's
    /// own bound; Glance sets none): past it the import fails as a broken source does.
    pub web_download_timeout: u64,
    /// Keystone's unified limits (`use_keystone_limits`): `None`, the reference's default,
    /// and `/v2/info/usage` reports nothing; else it reports each limit with the caller's
    /// project's usage (the limits are reported, not enforced).
    pub unified_limits: Option<UnifiedLimits>,
}

/// The mock's default [`Deployment::web_download_timeout`]: a minute.
pub const DEFAULT_WEB_DOWNLOAD_TIMEOUT: u64 = 60;

/// The made-up directory of a file store's data, for the `locations` the mock shows:
/// `file:///var/lib/glance/<store id>/<image id>` (without stores, `images` stands for the
/// store).
pub const LOCATION_ROOT: &str = "file:///var/lib/glance";

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            stores: vec![Store::named("fs")],
            default_store: Some("fs".into()),
            import_methods: ["glance-direct", "web-download", "copy-image"]
                .map(String::from)
                .to_vec(),
            import_filter: ImportFilter::default(),
            image_cache: true,
            cache: super::CacheSettings::default(),
            show_multiple_locations: false,
            show_image_direct_url: false,
            require_image_format_match: true,
            image_location_quota: 10,
            image_size_cap: DEFAULT_IMAGE_SIZE_CAP,
            user_storage_quota: 0,
            web_download_timeout: DEFAULT_WEB_DOWNLOAD_TIMEOUT,
            unified_limits: None,
        }
    }
}

/// A version of the image API as discovery lists it: its id (`v2.17`) and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiVersion {
    /// `v2.N`.
    pub id: &'static str,
    /// `CURRENT` or `SUPPORTED`.
    pub status: &'static str,
}

const fn supported(id: &'static str) -> ApiVersion {
    ApiVersion {
        id,
        status: "SUPPORTED",
    }
}

const fn current(id: &'static str) -> ApiVersion {
    ApiVersion {
        id,
        status: "CURRENT",
    }
}

/// The version list Glance 33 builds, in its order, from two settings: whether the image
/// cache is configured (`image_cache_dir`) and whether stores are (`enabled_backends`).
/// With the cache, v2.18 is current and 2.17 to 2.14 follow; without it 2.15 alone opens the
/// list. Stores add 2.13 to 2.8 (otherwise 2.9 only); without the cache v2.17 is current and
/// comes next; 2.7 down to 2.0 close the list.
pub fn glance_versions(image_cache: bool, stores: bool) -> Vec<ApiVersion> {
    let mut v = Vec::with_capacity(19);
    if image_cache {
        v.push(current("v2.18"));
        v.extend(["v2.17", "v2.16", "v2.15", "v2.14"].map(supported));
    } else {
        v.push(supported("v2.15"));
    }
    if stores {
        v.extend(["v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8"].map(supported));
    } else {
        v.push(supported("v2.9"));
    }
    if !image_cache {
        v.push(current("v2.17"));
    }
    v.extend(
        [
            "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0",
        ]
        .map(supported),
    );
    v
}

impl Deployment {
    /// The versions the mock lists: Glance's list for this cache and these stores.
    pub fn versions(&self) -> Vec<ApiVersion> {
        glance_versions(self.image_cache, !self.stores.is_empty())
    }

    /// The store `id`, if configured.
    pub fn store(&self, id: &str) -> Option<&Store> {
        self.stores.iter().find(|s| s.id == id)
    }

    /// Whether clients may use the import method `name`.
    pub fn import_enabled(&self, name: &str) -> bool {
        self.import_methods.iter().any(|m| m == name)
    }

    /// The stores an import with `all_stores` goes to: every store but the read-only ones.
    pub fn writable_stores(&self) -> Vec<String> {
        self.stores
            .iter()
            .filter(|s| !s.read_only)
            .map(|s| s.id.clone())
            .collect()
    }

    /// What is wrong with this deployment, one sentence each (empty: nothing).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, s) in self.stores.iter().enumerate() {
            if s.id.is_empty() || s.id.contains([',', ':', ' ']) {
                out.push(format!(
                    "store id `{}`: expected a non-empty name without `,`, `:` or spaces",
                    s.id
                ));
            }
            if s.id.starts_with("os_glance_") {
                out.push(format!(
                    "store id `{}`: names starting `os_glance_` are reserved for Glance's own stores",
                    s.id
                ));
            }
            if self.stores[..i].iter().any(|o| o.id == s.id) {
                out.push(format!("store `{}` is declared twice", s.id));
            }
            if let Some(k) = &s.kind {
                if !STORE_TYPES.contains(&k.as_str()) {
                    out.push(format!(
                        "store `{}`: type `{k}`: expected one of {}",
                        s.id,
                        STORE_TYPES.join(", ")
                    ));
                } else if (k == "http") != s.read_only {
                    out.push(format!(
                        "store `{}`: a store is read-only exactly when its type is http (Glance's rule)",
                        s.id
                    ));
                }
            }
        }
        match (&self.default_store, self.stores.is_empty()) {
            (None, false) => out.push("stores are declared but no default store".into()),
            (Some(d), true) => out.push(format!(
                "default store `{d}` is set but no stores are declared"
            )),
            // A read-only default store is allowed, as Glance allows it: uploads then fail (410).
            (Some(d), false) if self.store(d).is_none() => out.push(format!(
                "default store `{d}` is not one of the declared stores"
            )),
            (Some(_), false) => {}
            (None, true) => {}
        }
        for resource in self.unified_limits.iter().flat_map(|u| {
            u.limits
                .keys()
                .chain(u.projects.values().flat_map(|p| p.keys()))
        }) {
            if !LIMITED_RESOURCES.contains(&resource.as_str()) {
                out.push(format!(
                    "unified limit `{resource}`: expected one of {}",
                    LIMITED_RESOURCES.join(", ")
                ));
            }
        }
        for (i, m) in self.import_methods.iter().enumerate() {
            if !KNOWN_IMPORT_METHODS.contains(&m.as_str()) {
                out.push(format!(
                    "import method `{m}`: expected one of {}",
                    KNOWN_IMPORT_METHODS.join(", ")
                ));
            }
            if self.import_methods[..i].contains(m) {
                out.push(format!("import method `{m}` is listed twice"));
            }
        }
        out
    }

    /// The settings that differ from what the mock models, as `name = value` (printed at
    /// start so that nothing is ignored silently).
    pub fn unmodelled(&self) -> Vec<String> {
        let d = Deployment::default();
        let mut out = Vec::new();
        if self.import_enabled("glance-download") {
            out.push(
                "import method glance-download (listed, but refused: the mock fetches from no other Glance)".into(),
            );
        }
        if self.unified_limits.is_some() {
            out.push(
                "unified limits (use_keystone_limits): reported by /v2/info/usage, never enforced"
                    .into(),
            );
        }
        if self.image_location_quota != d.image_location_quota {
            out.push(format!(
                "image_location_quota = {} (the mock adds no locations: a patch adding one is refused)",
                self.image_location_quota
            ));
        }
        out
    }
}
