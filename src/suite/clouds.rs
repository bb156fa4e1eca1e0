//! `clouds.yaml`, found where openstacksdk looks: `OS_CLIENT_CONFIG_FILE`, then
//! `./clouds.yaml`, `$XDG_CONFIG_HOME/openstack/clouds.yaml` (default `~/.config/...`), then
//! `/etc/openstack/clouds.yaml`.

use std::path::PathBuf;

use serde_yaml::Value;

use super::keystone::Credentials;

/// One cloud: password credentials and catalog preferences.
pub(crate) struct Cloud {
    pub(crate) credentials: Credentials,
    pub(crate) region: Option<String>,
    pub(crate) interface: Option<String>,
}

/// The `clouds.yaml` files to try, in order.
pub(crate) fn search_paths() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("OS_CLIENT_CONFIG_FILE") {
        return vec![PathBuf::from(p)];
    }
    let mut paths = vec![PathBuf::from("clouds.yaml")];
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(c) = config {
        paths.push(c.join("openstack/clouds.yaml"));
    }
    paths.push(PathBuf::from("/etc/openstack/clouds.yaml"));
    paths
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The named cloud from the first `clouds.yaml` found; the error names the files tried.
pub(crate) fn lookup(name: &str) -> Result<Cloud, String> {
    let paths = search_paths();
    let Some(path) = paths.iter().find(|p| p.is_file()) else {
        let tried: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "cloud `{name}`: no clouds.yaml found (tried {})",
            tried.join(", ")
        ));
    };
    let src = std::fs::read_to_string(path)
        .map_err(|e| format!("cloud `{name}`: cannot read {}: {e}", path.display()))?;
    let doc: Value = serde_yaml::from_str(&src)
        .map_err(|e| format!("cloud `{name}`: {} is not valid YAML: {e}", path.display()))?;
    let cloud = doc
        .get("clouds")
        .and_then(|c| c.get(name))
        .ok_or_else(|| format!("cloud `{name}` is not in {}", path.display()))?;
    if let Some(t) = text(cloud, "auth_type")
        && !["password", "v3password"].contains(&t.as_str())
    {
        return Err(format!(
            "cloud `{name}` in {}: auth_type `{t}` is not supported (use password)",
            path.display()
        ));
    }
    let auth = cloud
        .get("auth")
        .ok_or_else(|| format!("cloud `{name}` in {} has no auth section", path.display()))?;
    let credentials = Credentials {
        auth_url: text(auth, "auth_url").unwrap_or_default(),
        username: text(auth, "username"),
        user_id: text(auth, "user_id"),
        password: text(auth, "password").unwrap_or_default(),
        user_domain_name: text(auth, "user_domain_name").or_else(|| text(auth, "domain_name")),
        user_domain_id: text(auth, "user_domain_id").or_else(|| text(auth, "domain_id")),
        project_id: text(auth, "project_id").or_else(|| text(auth, "tenant_id")),
        project_name: text(auth, "project_name").or_else(|| text(auth, "tenant_name")),
        project_domain_name: text(auth, "project_domain_name")
            .or_else(|| text(auth, "domain_name")),
        project_domain_id: text(auth, "project_domain_id").or_else(|| text(auth, "domain_id")),
    };
    credentials
        .check()
        .map_err(|m| format!("cloud `{name}` in {}: {m}", path.display()))?;
    Ok(Cloud {
        credentials,
        region: text(cloud, "region_name"),
        interface: text(cloud, "interface"),
    })
}
