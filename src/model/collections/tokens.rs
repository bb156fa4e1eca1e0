//! Tokens the mock's Keystone issued at run time (static tokens come from the identities).

use serde::{Deserialize, Serialize};

use super::{Collection, SnapshotError, refuse};
use crate::model::identity::{Identity, IssuedToken};
use crate::model::state::State;

/// One token issued at run time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// The token itself.
    pub token: String,
    /// Whom it stands for.
    pub project_id: String,
    /// The user.
    pub user_id: String,
    /// Roles on the project.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The auth methods that produced it.
    #[serde(default)]
    pub methods: Vec<String>,
    /// When it was issued.
    pub issued_at: String,
    /// When it expires.
    pub expires_at: String,
}

pub(crate) struct Tokens;

impl Collection for Tokens {
    const NAME: &'static str = crate::model::changes::TOKENS;
    type Record = TokenRecord;

    fn get(state: &State, key: &str) -> Option<TokenRecord> {
        state.issued(key).map(|i| token_record(key, i))
    }

    fn all(state: &State) -> Vec<(String, TokenRecord)> {
        state
            .issued_in_order()
            .map(|(t, i)| (t.to_string(), token_record(t, i)))
            .collect()
    }

    fn load(
        state: &mut State,
        records: Vec<TokenRecord>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        for (i, t) in records.into_iter().enumerate() {
            if t.token.is_empty() || t.project_id.is_empty() || t.user_id.is_empty() {
                return Err(refuse(
                    at(i),
                    "token, project_id and user_id must be non-empty",
                ));
            }
            for (field, value) in [("issued_at", &t.issued_at), ("expires_at", &t.expires_at)] {
                if humantime::parse_rfc3339_weak(value).is_err() {
                    return Err(refuse(
                        format!("{}.{field}", at(i)),
                        format!("`{value}` is not an RFC 3339 time"),
                    ));
                }
            }
            let issued = IssuedToken {
                identity: Identity {
                    project_id: t.project_id,
                    user_id: t.user_id,
                    roles: t.roles,
                },
                methods: t.methods,
                issued_at: t.issued_at,
                expires_at: t.expires_at,
            };
            state.register_token(t.token, issued);
        }
        Ok(())
    }
}

fn token_record(token: &str, i: &IssuedToken) -> TokenRecord {
    TokenRecord {
        token: token.to_string(),
        project_id: i.identity.project_id.clone(),
        user_id: i.identity.user_id.clone(),
        roles: i.identity.roles.clone(),
        methods: i.methods.clone(),
        issued_at: i.issued_at.clone(),
        expires_at: i.expires_at.clone(),
    }
}
