//! `clouds.yaml`, found where openstacksdk looks: `OS_CLIENT_CONFIG_FILE`, then
//! `./clouds.yaml`, `$XDG_CONFIG_HOME/openstack/clouds.yaml` (default `~/.config/...`), then
//! `/etc/openstack/clouds.yaml`.

use std::path::PathBuf;

use serde_yaml::Value;

use super::keystone::{Credentials, CredentialsError};

/// A cloud that cannot be used. Never shows the password.
#[derive(Debug, thiserror::Error)]
pub enum CloudsError {
    /// No `clouds.yaml` in any place searched.
    #[error("cloud `{name}`: no clouds.yaml found (tried {})", list(tried))]
    NotFound {
        /// The cloud.
        name: String,
        /// The files tried, in order.
        tried: Vec<PathBuf>,
    },
    /// The file exists but cannot be read.
    #[error("cloud `{name}`: cannot read {}", path.display())]
    Read {
        /// The cloud.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not YAML.
    #[error("cloud `{name}`: {} is not valid YAML", path.display())]
    Yaml {
        /// The cloud.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_yaml::Error,
    },
    /// The file has no such cloud.
    #[error("cloud `{name}` is not in {}", path.display())]
    Missing {
        /// The cloud.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// An `auth_type` other than password.
    #[error("cloud `{name}` in {}: auth_type `{auth_type}` is not supported (use password)", path.display())]
    AuthType {
        /// The cloud.
        name: String,
        /// The file.
        path: PathBuf,
        /// As written.
        auth_type: String,
    },
    /// No `auth` section.
    #[error("cloud `{name}` in {} has no auth section", path.display())]
    NoAuth {
        /// The cloud.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// Incomplete credentials.
    #[error("cloud `{name}` in {}", path.display())]
    Credentials {
        /// The cloud.
        name: String,
        /// The file.
        path: PathBuf,
        /// What is missing.
        #[source]
        source: CredentialsError,
    },
}

fn list(paths: &[PathBuf]) -> String {
    let tried: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    tried.join(", ")
}

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
pub(crate) fn lookup(name: &str) -> Result<Cloud, CloudsError> {
    let paths = search_paths();
    let n = || name.to_string();
    let Some(path) = paths.iter().find(|p| p.is_file()).cloned() else {
        return Err(CloudsError::NotFound {
            name: n(),
            tried: paths,
        });
    };
    let src = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(source) => {
            return Err(CloudsError::Read {
                name: n(),
                path,
                source,
            });
        }
    };
    let doc: Value = match serde_yaml::from_str(&src) {
        Ok(d) => d,
        Err(source) => {
            return Err(CloudsError::Yaml {
                name: n(),
                path,
                source,
            });
        }
    };
    let Some(cloud) = doc.get("clouds").and_then(|c| c.get(name)) else {
        return Err(CloudsError::Missing { name: n(), path });
    };
    if let Some(t) = text(cloud, "auth_type")
        && !["password", "v3password"].contains(&t.as_str())
    {
        return Err(CloudsError::AuthType {
            name: n(),
            path,
            auth_type: t,
        });
    }
    let Some(auth) = cloud.get("auth") else {
        return Err(CloudsError::NoAuth { name: n(), path });
    };
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
    if let Err(source) = credentials.check() {
        return Err(CloudsError::Credentials {
            name: n(),
            path,
            source,
        });
    }
    Ok(Cloud {
        credentials,
        region: text(cloud, "region_name"),
        interface: text(cloud, "interface"),
    })
}
