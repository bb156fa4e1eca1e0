//! Who a token is, and the users and projects a minimal Keystone issues tokens for.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

/// What a token resolves to: a user of a project, with roles.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The project (tenant) the token is scoped to; member ids are project ids.
    pub project_id: String,
    /// The user behind the token.
    pub user_id: String,
    /// Role names; `admin` may do everything on every image.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Identity {
    /// Whether the identity holds the `admin` role.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }

    /// Whether the identity may change what its project owns: the `member` role (or admin),
    /// not `reader` alone.
    pub fn can_write(&self) -> bool {
        self.is_admin() || self.roles.iter().any(|r| r == "member")
    }
}

/// The domain every user and project is in unless it says otherwise.
pub const DEFAULT_DOMAIN: &str = "default";

fn default_domain() -> String {
    DEFAULT_DOMAIN.to_string()
}

/// A Keystone project (the key of `projects:` is its id).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Display name, unique within its domain.
    pub name: String,
    /// Owning domain's id.
    #[serde(default = "default_domain")]
    pub domain_id: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// A Keystone user (the key of `users:` is its name): password, home project and the roles
/// it holds there. A user can scope tokens to its own project only.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The user's id (the `user_id` of the identities it gets).
    pub id: String,
    /// The password of the `password` auth method.
    pub password: String,
    /// The user's domain.
    #[serde(default = "default_domain")]
    pub domain_id: String,
    /// The one project the user has roles on (also its default project).
    pub project_id: String,
    /// Role names on that project.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A Keystone domain (the key of `domains:` is its id).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// Display name.
    pub name: String,
}

/// The identities file: static tokens, and the users, projects and domains a minimal
/// Keystone issues tokens for. The domain `default` (named `Default`) always exists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identities {
    /// Token → identity.
    #[serde(default)]
    pub tokens: HashMap<String, Identity>,
    /// Project id → project.
    #[serde(default)]
    pub projects: BTreeMap<String, Project>,
    /// User name → user.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    /// Domain id → domain, besides `default`.
    #[serde(default)]
    pub domains: BTreeMap<String, Domain>,
    /// The image endpoint the Keystone's catalog advertises, when not the mock itself (the
    /// built-in Keystone in front of another image service).
    #[serde(default)]
    pub image_endpoint: Option<String>,
}

impl Identities {
    /// The identity a static token stands for, if any.
    pub fn get(&self, token: &str) -> Option<&Identity> {
        self.tokens.get(token)
    }

    /// The name of domain `id`, if it exists (`default` is `Default` unless renamed).
    pub(crate) fn domain_name(&self, id: &str) -> Option<&str> {
        match self.domains.get(id) {
            Some(d) => Some(&d.name),
            None if id == DEFAULT_DOMAIN => Some("Default"),
            None => None,
        }
    }

    /// The id of the domain named `name`, if any.
    pub(crate) fn domain_id_by_name(&self, name: &str) -> Option<&str> {
        self.domains
            .iter()
            .find(|(_, d)| d.name == name)
            .map(|(id, _)| id.as_str())
            .or_else(|| {
                (name == "Default" && !self.domains.contains_key(DEFAULT_DOMAIN))
                    .then_some(DEFAULT_DOMAIN)
            })
    }

    /// The user with id `id` and its name.
    pub(crate) fn user_by_id(&self, id: &str) -> Option<(&str, &User)> {
        self.users
            .iter()
            .find(|(_, u)| u.id == id)
            .map(|(n, u)| (n.as_str(), u))
    }

    /// The user named `name` in domain `domain_id`.
    pub(crate) fn user_by_name(&self, name: &str, domain_id: &str) -> Option<&User> {
        self.users.get(name).filter(|u| u.domain_id == domain_id)
    }

    /// The project named `name` in domain `domain_id`, with its id.
    pub(crate) fn project_by_name(&self, name: &str, domain_id: &str) -> Option<(&str, &Project)> {
        self.projects
            .iter()
            .find(|(_, p)| p.name == name && p.domain_id == domain_id)
            .map(|(id, p)| (id.as_str(), p))
    }

    /// The built-in set: owner, member, other member, stranger and admin, each its own
    /// project `proj-<persona>` in domain `default`, with static tokens `<persona>-token` and
    /// users `<persona>` (id `user-<persona>`, password `<persona>-secret`); and `reader`, a
    /// user of `proj-owner` with the reader role only.
    pub fn builtin() -> Self {
        let mut ids = Identities::default();
        for persona in ["owner", "member", "other-member", "stranger", "admin"] {
            let mut roles = vec!["member".to_string(), "reader".to_string()];
            if persona == "admin" {
                roles.insert(0, "admin".to_string());
            }
            let (project_id, user_id) = (format!("proj-{persona}"), format!("user-{persona}"));
            ids.tokens.insert(
                format!("{persona}-token"),
                Identity {
                    project_id: project_id.clone(),
                    user_id: user_id.clone(),
                    roles: roles.clone(),
                },
            );
            ids.projects.insert(
                project_id.clone(),
                Project {
                    name: persona.to_string(),
                    domain_id: default_domain(),
                    description: format!("The {persona} persona's project."),
                },
            );
            ids.users.insert(
                persona.to_string(),
                User {
                    id: user_id,
                    password: format!("{persona}-secret"),
                    domain_id: default_domain(),
                    project_id,
                    roles,
                },
            );
        }
        // A user of the owner's project with the reader role only (Tempest's project_reader).
        let reader = Identity {
            project_id: "proj-owner".into(),
            user_id: "user-reader".into(),
            roles: vec!["reader".into()],
        };
        ids.tokens.insert("reader-token".into(), reader.clone());
        ids.users.insert(
            "reader".into(),
            User {
                id: reader.user_id,
                password: "reader-secret".into(),
                domain_id: default_domain(),
                project_id: reader.project_id,
                roles: reader.roles,
            },
        );
        ids
    }
}

/// A token the mock's Keystone issued: whom it stands for, how it was obtained, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// The identity the image API sees.
    pub identity: Identity,
    /// The auth methods that produced it (`password`, `token`).
    pub methods: Vec<String>,
    /// When it was issued (`YYYY-MM-DDTHH:MM:SS.ffffffZ`).
    pub issued_at: String,
    /// When it expires, in the same format; from then on it is refused.
    pub expires_at: String,
}

impl IssuedToken {
    /// Whether the token has expired at `now` (an unreadable expiry counts as expired).
    pub fn expired_at(&self, now: std::time::SystemTime) -> bool {
        humantime::parse_rfc3339_weak(&self.expires_at).map_or(true, |t| t <= now)
    }
}
