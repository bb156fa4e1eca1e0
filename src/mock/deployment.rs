//! The mock's deployment from a file: the mock's own YAML format (`--config`, see
//! `docs/mock-config.md`) or a real Glance `glance-api.conf` (`--glance-config`, with an
//! optional policy file). Both give the same [`LoadedDeployment`]: a [`Deployment`], the
//! quotas that live in [`Rules`], and every setting the mock does not model, to print at
//! start. Bad input is a [`DataError`] naming file, line and column.

use std::path::Path;

use ini::{Ini, ParseOption};
use serde::Deserialize;

use crate::error::{DataError, line_of};
use crate::model::{
    CacheSettings, DEFAULT_IMAGE_SIZE_CAP, Deployment, ImportFilter, Rules, Store, UnifiedLimits,
};

/// A deployment read from a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadedDeployment {
    /// Stores, import methods, filter and the other settings.
    pub deployment: Deployment,
    /// `image_member_quota`, when the file sets it.
    pub member_quota: Option<i64>,
    /// `image_tag_quota`, when the file sets it.
    pub tag_quota: Option<i64>,
    /// `image_property_quota`, when the file sets it.
    pub property_quota: Option<i64>,
    /// What the mock does not model, one line each (`[database] connection`, a setting it
    /// accepts without acting on it, a policy rule).
    pub unmodelled: Vec<String>,
}

impl LoadedDeployment {
    /// Puts the deployment and the quotas the file sets into `rules`.
    pub fn apply(&self, rules: &mut Rules) {
        rules.deployment = self.deployment.clone();
        for (set, field) in [
            (self.member_quota, &mut rules.member_quota),
            (self.tag_quota, &mut rules.tag_quota),
            (self.property_quota, &mut rules.property_quota),
        ] {
            if let Some(v) = set {
                *field = v;
            }
        }
    }
}

fn read(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })
}

// ----- the mock's YAML format ---------------------------------------------------------------

/// The YAML file as written; every key optional, unknown keys refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    stores: Option<Vec<Store>>,
    #[serde(default)]
    default_store: Option<String>,
    #[serde(default)]
    import_methods: Option<Vec<String>>,
    #[serde(default)]
    import_filter: Option<ImportFilter>,
    #[serde(default)]
    image_cache: Option<bool>,
    #[serde(default)]
    cache: Option<CacheFile>,
    #[serde(default)]
    show_multiple_locations: Option<bool>,
    #[serde(default)]
    show_image_direct_url: Option<bool>,
    #[serde(default)]
    require_image_format_match: Option<bool>,
    #[serde(default)]
    web_download_timeout: Option<u64>,
    #[serde(default)]
    unified_limits: Option<UnifiedLimits>,
    #[serde(default)]
    quotas: Quotas,
}

/// The `cache:` section: how the image cache is set up.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    max_size: Option<u64>,
    /// `centralized_db` (the default), `sqlite` or `xattr`.
    driver: Option<CacheDriver>,
    node_url: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum CacheDriver {
    CentralizedDb,
    Sqlite,
    Xattr,
}

/// The cache settings of a `cache:` section, the defaults where it says nothing.
fn cache_settings(file: Option<CacheFile>) -> CacheSettings {
    let base = CacheSettings::default();
    let file = file.unwrap_or_default();
    CacheSettings {
        max_size: file.max_size.unwrap_or(base.max_size),
        centralized: file
            .driver
            .map_or(base.centralized, |d| d == CacheDriver::CentralizedDb),
        node_url: file.node_url.or(base.node_url),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Quotas {
    image_member_quota: Option<i64>,
    image_tag_quota: Option<i64>,
    image_property_quota: Option<i64>,
    image_location_quota: Option<i64>,
    image_size_cap: Option<u64>,
    user_storage_quota: Option<u64>,
}

/// Reads the mock's deployment file (`sharecheck mock --config FILE`): YAML, every key
/// optional (absent keys keep the mock's defaults), unknown keys refused.
pub fn load_deployment(path: &Path) -> Result<LoadedDeployment, DataError> {
    let src = read(path)?;
    let file: File = serde_yaml::from_str(&src).map_err(|e| DataError::yaml(path, &e))?;
    let base = Deployment::default();
    let stores_given = file.stores.is_some();
    let deployment = Deployment {
        default_store: match (stores_given, file.default_store) {
            (_, Some(d)) => Some(d),
            (true, None) => None,
            (false, None) => base.default_store,
        },
        // A store of type http is read-only, as Glance reads it.
        stores: file
            .stores
            .map(|ss| {
                ss.into_iter()
                    .map(|s| Store {
                        read_only: s.read_only || s.kind.as_deref() == Some("http"),
                        ..s
                    })
                    .collect()
            })
            .unwrap_or(base.stores),
        import_methods: file.import_methods.unwrap_or(base.import_methods),
        import_filter: file.import_filter.unwrap_or(base.import_filter),
        image_cache: file.image_cache.unwrap_or(base.image_cache),
        cache: cache_settings(file.cache),
        show_multiple_locations: file
            .show_multiple_locations
            .unwrap_or(base.show_multiple_locations),
        show_image_direct_url: file
            .show_image_direct_url
            .unwrap_or(base.show_image_direct_url),
        require_image_format_match: file
            .require_image_format_match
            .unwrap_or(base.require_image_format_match),
        image_location_quota: file
            .quotas
            .image_location_quota
            .unwrap_or(base.image_location_quota),
        image_size_cap: file.quotas.image_size_cap.unwrap_or(base.image_size_cap),
        user_storage_quota: file
            .quotas
            .user_storage_quota
            .unwrap_or(base.user_storage_quota),
        web_download_timeout: file
            .web_download_timeout
            .unwrap_or(base.web_download_timeout),
        unified_limits: file.unified_limits,
    };
    if let Some(problem) = deployment.problems().into_iter().next() {
        let key = if problem.contains("default store") {
            "default_store"
        } else if problem.starts_with("import method") {
            "import_methods"
        } else if problem.starts_with("unified limit") {
            "unified_limits"
        } else {
            "stores"
        };
        return Err(DataError::invalid(path, line_of(&src, key), problem));
    }
    Ok(LoadedDeployment {
        unmodelled: deployment.unmodelled(),
        deployment,
        member_quota: file.quotas.image_member_quota,
        tag_quota: file.quotas.image_tag_quota,
        property_quota: file.quotas.image_property_quota,
    })
}

// ----- a real glance-api.conf -----------------------------------------------------------------

/// Where `key` is set in `section` of an INI text: 1-based line, and the column where its
/// value starts.
fn locate(src: &str, section: &str, key: &str) -> (Option<usize>, Option<usize>) {
    let mut current = "DEFAULT".to_string();
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.split_once(']')) {
            current = name.0.trim().to_string();
            continue;
        }
        if current != section {
            continue;
        }
        let Some((k, _)) = t.split_once(['=', ':']) else {
            continue;
        };
        if k.trim() == key {
            let at = line.find(['=', ':']).map(|p| {
                let after = &line[p + 1..];
                p + 2 + (after.len() - after.trim_start().len())
            });
            return (Some(i + 1), at);
        }
    }
    (None, None)
}

/// Reading one `glance-api.conf`: its text, for locating values, and its path.
struct Conf<'a> {
    path: &'a Path,
    src: String,
    ini: Ini,
}

impl Conf<'_> {
    fn bad(&self, section: &str, key: &str, expected: impl std::fmt::Display) -> DataError {
        let (line, column) = locate(&self.src, section, key);
        DataError::Parse {
            path: self.path.to_path_buf(),
            line,
            column,
            message: format!("[{section}] {key}: {expected}"),
        }
    }

    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.ini.get_from(Some(section), key)
    }

    fn bool(&self, section: &str, key: &str, default: bool) -> Result<bool, DataError> {
        match self
            .get(section, key)
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" | "yes" | "on" | "1" => Ok(true),
                "false" | "no" | "off" | "0" => Ok(false),
                _ => Err(self.bad(section, key, "expected true or false")),
            },
        }
    }

    fn int(&self, section: &str, key: &str) -> Result<Option<i64>, DataError> {
        self.get(section, key)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| self.bad(section, key, "expected a whole number"))
            })
            .transpose()
    }

    /// oslo.config's list syntax: `a,b`, or `[a, b]`; items trimmed, quotes removed.
    fn list(&self, section: &str, key: &str) -> Option<Vec<String>> {
        let v = self.get(section, key)?.trim();
        let v = v
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(v);
        Some(
            v.split(',')
                .map(|s| s.trim().trim_matches(['"', '\'']).to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }

    fn ports(&self, key: &str) -> Result<Option<Vec<u16>>, DataError> {
        let section = "import_filtering_opts";
        self.list(section, key)
            .map(|items| {
                items
                    .iter()
                    .map(|p| p.parse::<u16>())
                    .collect::<Result<Vec<u16>, _>>()
                    .map_err(|_| self.bad(section, key, "expected port numbers (0 to 65535)"))
            })
            .transpose()
    }
}

/// Glance's `user_storage_quota`: a number of bytes, optionally with a unit (`B`, `KB`,
/// `MB`, `GB`, `TB`; powers of 1024).
fn storage_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..digits].parse().ok()?;
    let shift = match t[digits..].trim() {
        "" | "B" => 0,
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

/// The options of `glance-api.conf` the mock models, by section (a backend's own section
/// is handled apart).
const MODELLED: &[(&str, &[&str])] = &[
    (
        "DEFAULT",
        &[
            "enabled_backends",
            "enabled_import_methods",
            "image_member_quota",
            "image_tag_quota",
            "image_property_quota",
            "image_location_quota",
            "image_size_cap",
            "user_storage_quota",
            "image_cache_dir",
            "image_cache_max_size",
            "image_cache_driver",
            "worker_self_reference_url",
            "show_multiple_locations",
            "show_image_direct_url",
            "use_keystone_limits",
        ],
    ),
    ("image_format", &["require_image_format_match"]),
    ("glance_store", &["default_backend"]),
    (
        "import_filtering_opts",
        &[
            "allowed_schemes",
            "disallowed_schemes",
            "allowed_hosts",
            "disallowed_hosts",
            "allowed_ports",
            "disallowed_ports",
        ],
    ),
];

/// The options a backend's own section sets that the mock models.
const BACKEND_OPTIONS: &[&str] = &["store_description", "weight"];

/// Reads a real Glance `glance-api.conf` (`sharecheck mock --glance-config FILE`) into a
/// deployment, as Glance 33 reads the options the mock models; every other option, and each
/// rule of the policy file if one is given, is listed in
/// [`LoadedDeployment::unmodelled`].
pub fn load_glance_config(
    path: &Path,
    policy: Option<&Path>,
) -> Result<LoadedDeployment, DataError> {
    let src = read(path)?;
    let opts = ParseOption {
        enabled_quote: true,
        enabled_escape: false,
        enabled_indented_mutiline_value: true,
        enabled_preserve_key_leading_whitespace: false,
    };
    let ini = Ini::load_from_str_opt(&src, opts).map_err(|e| DataError::Parse {
        path: path.to_path_buf(),
        line: Some(e.line),
        column: Some(e.col),
        message: format!("not an INI file as oslo.config reads it: {}", e.msg),
    })?;
    let conf = Conf { path, src, ini };
    let mut loaded = read_conf(&conf)?;
    let mut unmodelled = unmodelled_options(&conf, &loaded.deployment);
    unmodelled.append(&mut loaded.unmodelled);
    if let Some(p) = policy {
        unmodelled.extend(policy_rules(p)?);
    }
    loaded.unmodelled = unmodelled;
    Ok(loaded)
}

/// The section of most of Glance's options.
const D: &str = "DEFAULT";

/// The cache settings of `[DEFAULT]`: `image_cache_max_size` (bytes, at least 0),
/// `image_cache_driver` (`centralized_db`, the default, `sqlite` or `xattr`, without case)
/// and `worker_self_reference_url`.
fn glance_cache_settings(conf: &Conf<'_>) -> Result<CacheSettings, DataError> {
    let base = CacheSettings::default();
    let max_size = match conf.int(D, "image_cache_max_size")? {
        None => base.max_size,
        Some(n) => u64::try_from(n)
            .map_err(|_| conf.bad(D, "image_cache_max_size", "expected 0 or more bytes"))?,
    };
    let centralized = match conf.get(D, "image_cache_driver").map(str::trim) {
        None => base.centralized,
        Some(d) if d.eq_ignore_ascii_case("centralized_db") => true,
        Some(d) if d.eq_ignore_ascii_case("sqlite") || d.eq_ignore_ascii_case("xattr") => false,
        Some(_) => {
            return Err(conf.bad(
                D,
                "image_cache_driver",
                "expected centralized_db, sqlite or xattr",
            ));
        }
    };
    let node_url = conf
        .get(D, "worker_self_reference_url")
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    Ok(CacheSettings {
        max_size,
        centralized,
        node_url,
    })
}

fn read_conf(conf: &Conf<'_>) -> Result<LoadedDeployment, DataError> {
    let mut stores = Vec::new();
    for entry in conf.list(D, "enabled_backends").unwrap_or_default() {
        let Some((id, kind)) = entry.split_once(':') else {
            return Err(conf.bad(
                D,
                "enabled_backends",
                format!("`{entry}`: expected id:type pairs such as local:file,backup:file"),
            ));
        };
        let (id, kind) = (id.trim(), kind.trim());
        let weight = conf.int(id, "weight")?.unwrap_or(0);
        stores.push(Store {
            id: id.to_string(),
            description: conf
                .get(id, "store_description")
                .map(str::to_string)
                .filter(|d| !d.is_empty()),
            weight,
            // glance_store has no read-only option: Glance treats a backend of type `http`
            // as read-only.
            read_only: kind == "http",
            kind: Some(kind.to_string()),
        });
    }
    let default_store = conf
        .get("glance_store", "default_backend")
        .map(|d| d.trim().to_string())
        .filter(|_| !stores.is_empty());
    let base = Deployment::default();
    let f = "import_filtering_opts";
    // oslo.config reads these six lists only between brackets (Glance 33 declares them
    // with bounds); without, Glance starts, and refuses every web-download at its first
    // look at the filter. Said here instead of played.
    for key in [
        "allowed_schemes",
        "disallowed_schemes",
        "allowed_hosts",
        "disallowed_hosts",
        "allowed_ports",
        "disallowed_ports",
    ] {
        let v = conf.get(f, key).map(str::trim).unwrap_or("");
        let bracketed = v.starts_with('[') && v.ends_with(']');
        if !v.is_empty() && !bracketed {
            return Err(conf.bad(
                f,
                key,
                "expected a list between brackets, as [a,b] (Glance reads it no other way)",
            ));
        }
    }
    let filter_base = ImportFilter::default();
    let import_filter = ImportFilter {
        allowed_schemes: conf
            .list(f, "allowed_schemes")
            .unwrap_or(filter_base.allowed_schemes),
        disallowed_schemes: conf.list(f, "disallowed_schemes").unwrap_or_default(),
        allowed_hosts: conf.list(f, "allowed_hosts").unwrap_or_default(),
        disallowed_hosts: conf.list(f, "disallowed_hosts").unwrap_or_default(),
        allowed_ports: conf
            .ports("allowed_ports")?
            .unwrap_or(filter_base.allowed_ports),
        disallowed_ports: conf.ports("disallowed_ports")?.unwrap_or_default(),
    };
    let size_cap = match conf.int(D, "image_size_cap")? {
        None => DEFAULT_IMAGE_SIZE_CAP,
        Some(n) if n >= 1 => n as u64,
        Some(_) => return Err(conf.bad(D, "image_size_cap", "expected at least 1 byte")),
    };
    let user_storage_quota = match conf.get(D, "user_storage_quota") {
        None => 0,
        Some(v) => storage_size(v).ok_or_else(|| {
            conf.bad(
                D,
                "user_storage_quota",
                "expected a size such as 0, 500MB or 10GB (B, KB, MB, GB, TB)",
            )
        })?,
    };
    let deployment = Deployment {
        stores,
        default_store,
        import_methods: conf
            .list(D, "enabled_import_methods")
            .unwrap_or(base.import_methods),
        import_filter,
        image_cache: conf
            .get(D, "image_cache_dir")
            .is_some_and(|d| !d.trim().is_empty()),
        cache: glance_cache_settings(conf)?,
        show_multiple_locations: conf.bool(D, "show_multiple_locations", false)?,
        show_image_direct_url: conf.bool(D, "show_image_direct_url", false)?,
        // Glance registers it in the `[image_format]` group.
        require_image_format_match: conf.bool(
            "image_format",
            "require_image_format_match",
            true,
        )?,
        image_location_quota: conf
            .int(D, "image_location_quota")?
            .unwrap_or(base.image_location_quota),
        image_size_cap: size_cap,
        user_storage_quota,
        web_download_timeout: base.web_download_timeout,
        // The limits themselves are Keystone's, which the mock's does not keep: every one
        // reads as 0 (as oslo.limit reads a missing one) unless the mock's YAML gives them.
        unified_limits: conf
            .bool(D, "use_keystone_limits", false)?
            .then(UnifiedLimits::default),
    };
    if let Some(problem) = deployment.problems().into_iter().next() {
        let (section, key) =
            if problem.contains("default store") || problem.contains("default_store") {
                if deployment.default_store.is_none() {
                    (D, "enabled_backends")
                } else {
                    ("glance_store", "default_backend")
                }
            } else if problem.starts_with("import method") {
                (D, "enabled_import_methods")
            } else {
                (D, "enabled_backends")
            };
        return Err(conf.bad(section, key, problem));
    }
    Ok(LoadedDeployment {
        unmodelled: deployment.unmodelled(),
        deployment,
        member_quota: conf.int(D, "image_member_quota")?,
        tag_quota: conf.int(D, "image_tag_quota")?,
        property_quota: conf.int(D, "image_property_quota")?,
    })
}

/// Every option of the file that the mock does not model, as `[section] key`, in the
/// file's order.
fn unmodelled_options(conf: &Conf<'_>, deployment: &Deployment) -> Vec<String> {
    let mut out = Vec::new();
    for (section, props) in conf.ini.iter() {
        let section = section.unwrap_or("DEFAULT");
        let backend = deployment.store(section).is_some();
        let modelled = MODELLED
            .iter()
            .find(|(s, _)| *s == section)
            .map_or(&[][..], |(_, keys)| *keys);
        for (key, _) in props.iter() {
            if modelled.contains(&key) || (backend && BACKEND_OPTIONS.contains(&key)) {
                continue;
            }
            out.push(format!("[{section}] {key}"));
        }
    }
    out
}

/// The rules of a policy file (YAML or JSON: rule name → check string), each as a line
/// saying the mock does not apply it (it answers with Glance's default policy).
fn policy_rules(path: &Path) -> Result<Vec<String>, DataError> {
    let src = read(path)?;
    let rules: std::collections::BTreeMap<String, String> = if src.trim().is_empty() {
        Default::default()
    } else {
        serde_yaml::from_str::<Option<_>>(&src)
            .map_err(|e| DataError::yaml(path, &e))?
            .unwrap_or_default()
    };
    let mut order: Vec<(Option<usize>, String, String)> = rules
        .into_iter()
        .map(|(name, check)| {
            (
                line_of(&src, &format!("\"{name}\"")).or(line_of(&src, &name)),
                name,
                check,
            )
        })
        .collect();
    order.sort_by_key(|(line, _, _)| *line);
    Ok(order
        .into_iter()
        .map(|(_, name, check)| {
            format!(
                "policy rule \"{name}\": \"{check}\" (the mock applies Glance's default policy)"
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sharecheck-deployment-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const TWO_STORES: &str = "\
[DEFAULT]
enabled_backends = local:file, backup:file,web:http
enabled_import_methods = [glance-direct,copy-image]
image_member_quota = 7
user_storage_quota = 2GB

[database]
connection = sqlite:////tmp/x.sqlite

[glance_store]
default_backend = local

[local]
store_description = \"Fast local disk\"
weight = 100
filesystem_store_datadir = /tmp/local/

[backup]
store_description = Backup copies
";

    #[test]
    fn a_glance_api_conf_gives_stores_methods_quotas_and_lists_the_rest() {
        let p = write("two.conf", TWO_STORES);
        let got = load_glance_config(&p, None).unwrap();
        let d = &got.deployment;
        let ids: Vec<&str> = d.stores.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["local", "backup", "web"]);
        assert_eq!(d.stores[0].description.as_deref(), Some("Fast local disk"));
        assert_eq!(d.stores[0].weight, 100);
        assert!(d.stores[2].read_only && !d.stores[0].read_only);
        assert_eq!(d.default_store.as_deref(), Some("local"));
        assert_eq!(d.import_methods, ["glance-direct", "copy-image"]);
        assert_eq!(d.user_storage_quota, 2 << 30);
        assert_eq!(got.member_quota, Some(7));
        assert_eq!(got.tag_quota, None);
        assert!(
            got.unmodelled
                .contains(&"[database] connection".to_string())
        );
        assert!(
            got.unmodelled
                .contains(&"[local] filesystem_store_datadir".to_string())
        );
        assert!(
            !got.unmodelled
                .iter()
                .any(|u| u.contains("store_description"))
        );
    }

    #[test]
    fn the_format_match_switch_is_read_from_its_group() {
        let p = write(
            "fmt.conf",
            "[image_format]\nrequire_image_format_match = false\n",
        );
        let got = load_glance_config(&p, None).unwrap();
        assert!(!got.deployment.require_image_format_match);
        assert!(got.unmodelled.is_empty(), "{:?}", got.unmodelled);
        // Glance does not read it from [DEFAULT]: there it changes nothing, and is listed.
        let p = write(
            "fmt-default.conf",
            "[DEFAULT]\nrequire_image_format_match = false\n",
        );
        let got = load_glance_config(&p, None).unwrap();
        assert!(got.deployment.require_image_format_match);
        assert!(
            got.unmodelled
                .contains(&"[DEFAULT] require_image_format_match".to_string())
        );
    }

    #[test]
    fn a_bad_value_names_its_line_and_column() {
        let p = write("bad.conf", "[DEFAULT]\nshow_image_direct_url = maybe\n");
        let e = load_glance_config(&p, None).unwrap_err().to_string();
        assert!(e.contains("bad.conf:2:25"), "{e}");
        assert!(e.contains("expected true or false"), "{e}");
        let p = write(
            "nodefault.conf",
            "[DEFAULT]\nenabled_backends = a:file\n[glance_store]\ndefault_backend = b\n",
        );
        let e = load_glance_config(&p, None).unwrap_err().to_string();
        assert!(e.contains("nodefault.conf:4:"), "{e}");
    }

    #[test]
    fn an_import_filter_list_needs_its_brackets() {
        let p = write(
            "filter.conf",
            "[import_filtering_opts]
allowed_hosts = [127.0.0.1]
allowed_ports = 80,8099
",
        );
        let e = load_glance_config(&p, None).unwrap_err().to_string();
        assert!(e.contains("filter.conf:3:"), "{e}");
        assert!(e.contains("between brackets"), "{e}");
        let p = write(
            "filter-ok.conf",
            "[import_filtering_opts]
allowed_hosts = [127.0.0.1]
allowed_ports = [80, 8099]
",
        );
        let f = load_glance_config(&p, None)
            .unwrap()
            .deployment
            .import_filter;
        assert_eq!(
            (f.allowed_hosts, f.allowed_ports),
            (vec!["127.0.0.1".to_string()], vec![80, 8099])
        );
    }

    #[test]
    fn store_types_and_unified_limits_come_from_either_file() {
        let p = write(
            "types.conf",
            "[DEFAULT]\nenabled_backends = local:file,ceph:rbd,web:http\nuse_keystone_limits = True\n[glance_store]\ndefault_backend = local\n",
        );
        let d = load_glance_config(&p, None).unwrap().deployment;
        let kinds: Vec<&str> = d.stores.iter().map(Store::kind).collect();
        assert_eq!(kinds, ["file", "rbd", "http"]);
        assert!(d.stores[2].read_only);
        assert_eq!(d.unified_limits, Some(UnifiedLimits::default()));
        let p = write(
            "types.yaml",
            "stores: [{id: local}, {id: web, type: http}]\ndefault_store: local\nunified_limits: {limits: {image_count_total: 10}, projects: {p1: {image_count_total: 2}}}\n",
        );
        let d = load_deployment(&p).unwrap().deployment;
        assert!(d.stores[1].read_only, "type http is read-only");
        assert_eq!(d.stores[0].kind(), "file");
        let limits = d.unified_limits.unwrap();
        assert_eq!(
            (
                limits.limit("p1", "image_count_total"),
                limits.limit("p2", "image_count_total")
            ),
            (2, 10)
        );
        let p = write(
            "badtype.yaml",
            "stores: [{id: local, type: floppy}]\ndefault_store: local\n",
        );
        let e = load_deployment(&p).unwrap_err().to_string();
        assert!(e.contains("badtype.yaml:1:") && e.contains("floppy"), "{e}");
        let p = write(
            "badlimit.yaml",
            "stores: [{id: local}]\ndefault_store: local\nunified_limits: {limits: {images: 3}}\n",
        );
        let e = load_deployment(&p).unwrap_err().to_string();
        assert!(
            e.contains("badlimit.yaml:3:") && e.contains("images"),
            "{e}"
        );
        let p = write("nolimits.conf", "[DEFAULT]\nuse_keystone_limits = maybe\n");
        assert!(load_glance_config(&p, None).is_err());
    }

    #[test]
    fn the_yaml_file_keeps_defaults_for_what_it_omits() {
        let p = write("empty.yaml", "{}\n");
        assert_eq!(
            load_deployment(&p).unwrap().deployment,
            Deployment::default()
        );
        let p = write(
            "two.yaml",
            "stores: [{id: local}, {id: backup, read_only: true}]\ndefault_store: local\n",
        );
        let d = load_deployment(&p).unwrap().deployment;
        assert_eq!(d.writable_stores(), ["local"]);
        let p = write("typo.yaml", "stores: [{id: local}]\ndefault_stor: local\n");
        let e = load_deployment(&p).unwrap_err().to_string();
        assert!(e.contains("typo.yaml:2:1"), "{e}");
        let p = write("nodefault.yaml", "stores: [{id: local}]\n");
        let e = load_deployment(&p).unwrap_err().to_string();
        assert!(e.contains("no default store"), "{e}");
    }

    #[test]
    fn policy_rules_are_listed_in_file_order() {
        let conf = write("p.conf", "[DEFAULT]\n");
        let pol = write(
            "policy.yaml",
            "\"get_image\": \"role:admin\"\n\"add_image\": \"\"\n",
        );
        let got = load_glance_config(&conf, Some(&pol)).unwrap();
        assert_eq!(got.unmodelled.len(), 2);
        assert!(
            got.unmodelled[0].contains("get_image"),
            "{:?}",
            got.unmodelled
        );
    }
}
