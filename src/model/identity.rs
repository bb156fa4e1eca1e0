//! Who a token is.

use std::collections::HashMap;

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
}

/// The table of known tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identities {
    /// Token → identity.
    pub tokens: HashMap<String, Identity>,
}

impl Identities {
    /// The identity a token stands for, if any.
    pub fn get(&self, token: &str) -> Option<&Identity> {
        self.tokens.get(token)
    }

    /// The built-in set: owner, member, other member, stranger and admin, each its own
    /// project, with tokens named `<persona>-token`.
    pub fn builtin() -> Self {
        let person = |project: &str, user: &str, admin: bool| {
            let mut roles = vec!["member".to_string(), "reader".to_string()];
            if admin {
                roles.insert(0, "admin".to_string());
            }
            Identity {
                project_id: project.to_string(),
                user_id: user.to_string(),
                roles,
            }
        };
        let tokens = [
            ("owner-token", person("proj-owner", "user-owner", false)),
            ("member-token", person("proj-member", "user-member", false)),
            (
                "other-member-token",
                person("proj-other-member", "user-other-member", false),
            ),
            (
                "stranger-token",
                person("proj-stranger", "user-stranger", false),
            ),
            ("admin-token", person("proj-admin", "user-admin", true)),
        ]
        .into_iter()
        .map(|(t, i)| (t.to_string(), i))
        .collect();
        Identities { tokens }
    }
}
