//! Fault rules (`POST /_sharecheck/faults`): for requests matching a method, a path pattern
//! and a persona, answer a 5xx (with `Retry-After` for 503), wait, break the connection or cut
//! the body short, either *before* the change commits (the request has no effect) or *after*
//! (it has, and the client cannot tell), for the next N matching requests or with a seeded
//! probability.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A rule as a client writes it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    /// Method to match (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) method: Option<String>,
    /// Path pattern: `*` stands for one segment, a final `**` for any number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    /// Caller to match: a user name, user id or project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) persona: Option<String>,
    /// Answer with this status (500 to 599).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<u16>,
    /// `Retry-After` seconds with the status (default 1 for 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) retry_after: Option<u32>,
    /// Close the connection without an answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) reset: bool,
    /// Send the head and half the body, then close the connection.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) truncate: bool,
    /// Wait before answering: milliseconds, or `{min, max}` drawn uniformly with `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) latency_ms: Option<Latency>,
    /// `before` (default): the request has no effect; `after`: it commits, then the fault.
    #[serde(default)]
    pub(crate) when: When,
    /// Apply to this many matching requests, then retire (default: until cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) times: Option<u64>,
    /// Apply to a matching request with this probability (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) probability: Option<f64>,
    /// Seed of the draws (probability and latency), so that a run repeats (default 0).
    #[serde(default)]
    pub(crate) seed: u64,
}

/// A fixed or a uniformly drawn latency.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum Latency {
    Fixed(u64),
    Uniform { min: u64, max: u64 },
}

/// When a fault strikes relative to the change the request makes.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum When {
    #[default]
    Before,
    After,
}

/// What a matching request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Only the latency.
    Delay,
    Status {
        code: u16,
        retry_after: Option<u32>,
    },
    Reset,
    Truncate,
}

impl Action {
    pub(crate) fn describe(self) -> String {
        match self {
            Action::Delay => "delay".into(),
            Action::Status { code, .. } => format!("status {code}"),
            Action::Reset => "reset".into(),
            Action::Truncate => "truncate".into(),
        }
    }
}

/// What the rules decided for one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decision {
    pub(crate) rule: u64,
    pub(crate) action: Action,
    pub(crate) when: When,
    pub(crate) latency: Duration,
}

struct Rule {
    id: u64,
    spec: RuleSpec,
    action: Action,
    rng: StdRng,
    hits: u64,
}

/// The rules in force, in the order they were added (the first match applies).
#[derive(Default)]
pub(crate) struct Faults {
    rules: Mutex<(u64, Vec<Rule>)>,
    /// How many rules there are, read without the lock (most requests meet none).
    count: AtomicUsize,
}

/// Whether `path` matches `pattern` segment by segment: `*` is any one segment, a final `**`
/// any rest (none included).
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.trim_start_matches('/').split('/');
    let mut have = path.trim_start_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (Some("**"), _) => return want.next().is_none(),
            (Some(w), Some(h)) if w == "*" || w == h => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The longest latency a rule may ask for, in milliseconds.
const MAX_LATENCY_MS: u64 = 60_000;

/// Why a fault rule is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum RuleError {
    #[error("give at most one of status, reset and truncate")]
    TwoActions,
    #[error("probability {0} is not between 0 and 1")]
    Probability(f64),
    #[error("latency_ms: min {min} is above max {max}")]
    LatencyRange { min: u64, max: u64 },
    #[error("latency_ms is at most {MAX_LATENCY_MS}")]
    LatencyTooLong,
    #[error("retry_after goes with a status")]
    RetryAfterAlone,
    #[error("status {0} is not a 5xx")]
    NotServerError(u16),
    #[error("a rule needs a status, reset, truncate or latency_ms")]
    NoAction,
}

fn check(spec: &RuleSpec) -> Result<Action, RuleError> {
    let chosen = [spec.status.is_some(), spec.reset, spec.truncate];
    if chosen.iter().filter(|c| **c).count() > 1 {
        return Err(RuleError::TwoActions);
    }
    if let Some(p) = spec.probability
        && !(0.0..=1.0).contains(&p)
    {
        return Err(RuleError::Probability(p));
    }
    if let Some(Latency::Uniform { min, max }) = spec.latency_ms
        && min > max
    {
        return Err(RuleError::LatencyRange { min, max });
    }
    if spec.latency_ms.is_some_and(|l| match l {
        Latency::Fixed(ms) | Latency::Uniform { max: ms, .. } => ms > MAX_LATENCY_MS,
    }) {
        return Err(RuleError::LatencyTooLong);
    }
    if spec.retry_after.is_some() && spec.status.is_none() {
        return Err(RuleError::RetryAfterAlone);
    }
    Ok(match (spec.status, spec.reset, spec.truncate) {
        (Some(code), _, _) if (500..=599).contains(&code) => Action::Status {
            code,
            retry_after: spec.retry_after.or((code == 503).then_some(1)),
        },
        (Some(code), _, _) => return Err(RuleError::NotServerError(code)),
        (None, true, _) => Action::Reset,
        (None, _, true) => Action::Truncate,
        (None, false, false) if spec.latency_ms.is_some() => Action::Delay,
        _ => return Err(RuleError::NoAction),
    })
}

impl Faults {
    /// Adds a rule; its id, or what is wrong with it.
    pub(crate) fn add(&self, spec: RuleSpec) -> Result<u64, RuleError> {
        let action = check(&spec)?;
        let mut rules = self.rules.lock().expect("fault rules lock");
        rules.0 += 1;
        let id = rules.0;
        let rng = StdRng::seed_from_u64(spec.seed);
        rules.1.push(Rule {
            id,
            spec,
            action,
            rng,
            hits: 0,
        });
        self.count.store(rules.1.len(), Ordering::Release);
        Ok(id)
    }

    /// Removes every rule.
    pub(crate) fn clear(&self) {
        let mut rules = self.rules.lock().expect("fault rules lock");
        rules.1.clear();
        self.count.store(0, Ordering::Release);
    }

    /// The rules with their ids and how often each struck.
    pub(crate) fn list(&self) -> serde_json::Value {
        let rules = self.rules.lock().expect("fault rules lock");
        let items: Vec<serde_json::Value> = rules
            .1
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(&r.spec).unwrap_or_default();
                v["id"] = r.id.into();
                v["hits"] = r.hits.into();
                v
            })
            .collect();
        serde_json::json!({ "rules": items })
    }

    /// Whether any rule is in force (no lock taken).
    pub(crate) fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// The first rule matching the request decides (and counts the hit), under one lock
    /// acquisition; `names_caller` says whether a rule's persona (a user name, user id or
    /// project id) is the caller, and is asked only of rules that name one. A rule whose
    /// count runs out retires.
    pub(crate) fn decide(
        &self,
        method: &str,
        path: &str,
        names_caller: &mut dyn FnMut(&str) -> bool,
    ) -> Option<Decision> {
        if !self.any() {
            return None;
        }
        let mut rules = self.rules.lock().expect("fault rules lock");
        let i = rules.1.iter_mut().position(|r| {
            let s = &r.spec;
            s.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && s.path.as_deref().is_none_or(|p| path_matches(p, path))
                && s.persona.as_deref().is_none_or(&mut *names_caller)
                && s.probability.is_none_or(|p| r.rng.random_bool(p))
        })?;
        let rule = &mut rules.1[i];
        rule.hits += 1;
        let latency = match rule.spec.latency_ms {
            None => 0,
            Some(Latency::Fixed(ms)) => ms,
            Some(Latency::Uniform { min, max }) => rule.rng.random_range(min..=max),
        };
        let decision = Decision {
            rule: rule.id,
            action: rule.action,
            when: rule.spec.when,
            latency: Duration::from_millis(latency),
        };
        if rule.spec.times.is_some_and(|n| rule.hits >= n) {
            rules.1.remove(i);
            self.count.store(rules.1.len(), Ordering::Release);
        }
        Some(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> RuleSpec {
        serde_json::from_str(json).unwrap()
    }

    /// The rules' decision for a caller known by `names`.
    fn decide(f: &Faults, method: &str, path: &str, names: &[&str]) -> Option<Decision> {
        f.decide(method, path, &mut |p| names.contains(&p))
    }

    #[test]
    fn patterns_match_by_segment() {
        assert!(path_matches(
            "/v2/images/*/members",
            "/v2/images/abc/members"
        ));
        assert!(!path_matches(
            "/v2/images/*/members",
            "/v2/images/abc/members/p"
        ));
        assert!(!path_matches("/v2/images/*", "/v2/images"));
        assert!(path_matches("/v2/**", "/v2/images/abc/members/p"));
        assert!(path_matches("/v2/images/**", "/v2/images"));
        assert!(path_matches("/v2/images", "/v2/images"));
        assert!(!path_matches("/v2/images", "/v2/imagesx"));
    }

    #[test]
    fn the_first_matching_rule_decides_and_retires_after_times() {
        let f = Faults::default();
        assert_eq!(decide(&f, "GET", "/v2/images", &[]), None);
        let a = f
            .add(spec(
                r#"{"method": "POST", "path": "/v2/images/*/members", "status": 503, "times": 2}"#,
            ))
            .unwrap();
        f.add(spec(
            r#"{"persona": "member", "reset": true, "when": "after"}"#,
        ))
        .unwrap();
        let d = decide(&f, "post", "/v2/images/x/members", &["owner"]).unwrap();
        assert_eq!(d.rule, a);
        assert_eq!(
            d.action,
            Action::Status {
                code: 503,
                retry_after: Some(1)
            }
        );
        assert_eq!(d.when, When::Before);
        assert!(decide(&f, "GET", "/v2/images/x/members", &["owner"]).is_none());
        assert_eq!(
            decide(&f, "POST", "/v2/images/x/members", &["owner"])
                .unwrap()
                .rule,
            a
        );
        // The first rule has retired; the persona rule is left.
        assert!(decide(&f, "POST", "/v2/images/x/members", &["owner"]).is_none());
        let d = decide(&f, "GET", "/v2/images", &["member", "user-member"]).unwrap();
        assert_eq!((d.action, d.when), (Action::Reset, When::After));
        f.clear();
        assert!(!f.any());
    }

    #[test]
    fn the_caller_is_asked_about_only_by_rules_naming_a_persona() {
        let f = Faults::default();
        f.add(spec(r#"{"path": "/v2/images", "status": 500}"#))
            .unwrap();
        let mut asked = Vec::new();
        let mut names_member = |p: &str| {
            asked.push(p.to_string());
            p == "member"
        };
        assert!(f.decide("GET", "/v2/images", &mut names_member).is_some());
        f.add(spec(r#"{"persona": "member", "status": 503}"#))
            .unwrap();
        f.add(spec(r#"{"persona": "owner", "status": 502}"#))
            .unwrap();
        let d = f.decide("GET", "/v2/other", &mut names_member).unwrap();
        assert_eq!(d.action.describe(), "status 503");
        assert_eq!(asked, ["member"]);
    }

    #[test]
    fn probability_and_latency_follow_the_seed() {
        let draws = |seed: u64| {
            let f = Faults::default();
            f.add(spec(&format!(
                r#"{{"latency_ms": {{"min": 5, "max": 50}}, "probability": 0.5, "seed": {seed}}}"#
            )))
            .unwrap();
            (0..40)
                .map(|_| decide(&f, "GET", "/", &[]).map(|d| d.latency))
                .collect::<Vec<_>>()
        };
        let one = draws(7);
        assert_eq!(one, draws(7));
        let struck = one.iter().flatten().count();
        assert!((8..=32).contains(&struck), "{struck} of 40");
        assert!(
            one.iter()
                .flatten()
                .all(|l| (5..=50).contains(&l.as_millis()))
        );
    }

    #[test]
    fn unsound_rules_are_refused_with_a_reason() {
        let f = Faults::default();
        for (json, says) in [
            (r#"{"status": 404}"#, "not a 5xx"),
            (r#"{"status": 500, "reset": true}"#, "at most one"),
            (r#"{"path": "/v2/images"}"#, "needs a status"),
            (r#"{"latency_ms": {"min": 9, "max": 1}}"#, "above max"),
            (r#"{"status": 500, "probability": 2}"#, "between 0 and 1"),
            (r#"{"reset": true, "retry_after": 3}"#, "goes with a status"),
        ] {
            let e = f.add(spec(json)).unwrap_err().to_string();
            assert!(e.contains(says), "{json}: {e}");
        }
        assert!(serde_json::from_str::<RuleSpec>(r#"{"colour": 1}"#).is_err());
        assert!(!f.any());
    }
}
