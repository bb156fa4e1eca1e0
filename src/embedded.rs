//! The embedded default: the mock in-process on a free loopback port, with every capability
//! on, and a target that points the suite at it.
//!
//! A public namespace (one of two the crate root allows) because the names read with it:
//! `sharecheck::embedded::start` says what starts, where a root `sharecheck::start` would not.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::error::MockError;
use crate::mock::Mutant;
use crate::mock::{MockConfig, MockServer};
use crate::model::{Identities, Rules};
use crate::suite::{Persona, Target};

/// The member quota of the embedded mock (small, so the quota case stays fast).
pub const MEMBER_QUOTA: u32 = 5;
/// The tag quota of the embedded mock (Glance's default).
pub const TAG_QUOTA: u32 = 128;
/// Requests per second per token, method and path before the embedded mock answers 413.
pub const RATE_LIMIT: u32 = 20;

/// The built-in personas and their tokens (see README).
const PERSONAS: &[(&str, &str)] = &[
    ("owner", "owner-token"),
    ("member", "member-token"),
    ("other_member", "other-member-token"),
    ("stranger", "stranger-token"),
    ("admin", "admin-token"),
    ("reader", "reader-token"),
];

/// The configuration of the embedded mock, optionally with a broken rule.
pub fn config(mutant: Option<Mutant>) -> MockConfig {
    MockConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        identities: Identities::builtin(),
        rules: Rules {
            member_quota: MEMBER_QUOTA as i64,
            tag_quota: TAG_QUOTA as i64,
            property_quota: 128,
            ..Rules::default()
        },
        mutant,
        faults: true,
        rate_limit: Some(RATE_LIMIT),
        fixtures: None,
        log_json: false,
        state: None,
    }
}

/// A target for a mock that uses the built-in identities, with the given quota and
/// capabilities.
pub fn target_for(uri: &str, member_quota: Option<u32>, capabilities: &[&str]) -> Target {
    let ids = Identities::builtin();
    let personas: BTreeMap<String, Persona> = PERSONAS
        .iter()
        .map(|(name, token)| {
            let project_id = ids
                .get(token)
                .map(|i| i.project_id.clone())
                .unwrap_or_default();
            (
                name.to_string(),
                Persona {
                    token: token.to_string(),
                    project_id,
                },
            )
        })
        .collect();
    let mut target = Target::new(uri, personas);
    target.member_quota = member_quota;
    target.tag_quota = Some(TAG_QUOTA);
    target.capabilities = capabilities.iter().map(|c| c.to_string()).collect();
    target
}

/// Starts the embedded mock on the current runtime and returns it with its target.
pub async fn start(mutant: Option<Mutant>) -> Result<(MockServer, Target), MockError> {
    start_with(config(mutant)).await
}

/// Starts a mock with the built-in identities and `config`, and returns it with a target
/// declaring what the configuration offers (quota, faults, rate limit).
pub async fn start_with(config: MockConfig) -> Result<(MockServer, Target), MockError> {
    let quota = u32::try_from(config.rules.member_quota).ok();
    let tag_quota = u32::try_from(config.rules.tag_quota).ok();
    let mut capabilities = Vec::new();
    if config.faults {
        capabilities.push("fault-injection");
    }
    if config.rate_limit.is_some() {
        capabilities.push("rate-limit");
    }
    let server = MockServer::start(config).await?;
    let mut target = target_for(&server.uri(), quota, &capabilities);
    target.tag_quota = tag_quota;
    Ok((server, target))
}
