//! The security checkers pass on the reference mock and catch the mutants that break what
//! each one guards.

use sharecheck::{Mutant, SecurityProperty as Property, SecurityReport};

async fn check(mutant: Option<Mutant>) -> SecurityReport {
    let mut config = sharecheck::embedded::config(mutant);
    config.rate_limit = None;
    let (_mock, target) = sharecheck::embedded::start_with(config).await.unwrap();
    sharecheck::run_security_probes(&target).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_every_probe() {
    let r = check(None).await;
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    for (p, n) in &r.probes {
        assert!(*n >= 9, "{p:?} has only {n} probes");
    }
    assert!(r.requests > 60, "{}", r.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_property_catches_its_mutant() {
    for (mutant, property) in [
        (Mutant::HiddenImageForbidden, Property::Namespace),
        (Mutant::MemberListsAllEntries, Property::Namespace),
        (Mutant::MemberSeesOtherEntries, Property::Namespace),
        (Mutant::MemberLookupIgnoresImage, Property::Hierarchy),
        (Mutant::DeleteMemberNoop, Property::UseAfterDelete),
        (Mutant::AnonymousIsStranger, Property::TokenHygiene),
    ] {
        let r = check(Some(mutant)).await;
        assert!(
            r.violations.iter().any(|(p, _)| *p == property),
            "{mutant}: no {property:?} violation in {:#?}",
            r.violations
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_expired_tokens_are_refused() {
    let long = check(None).await;
    assert!(
        long.notes
            .iter()
            .any(|n| n.contains("expired tokens not probed")),
        "{:?}",
        long.notes
    );
    let mut config = sharecheck::embedded::config(None);
    config.rate_limit = None;
    config.rules.token_lifetime = std::time::Duration::from_secs(2);
    let (_mock, target) = sharecheck::embedded::start_with(config).await.unwrap();
    let short = sharecheck::run_security_probes(&target).await.unwrap();
    assert!(short.violations.is_empty(), "{:#?}", short.violations);
    assert!(short.notes.is_empty(), "{:?}", short.notes);
    let hygiene = |r: &SecurityReport| {
        r.probes
            .iter()
            .find(|(p, _)| *p == Property::TokenHygiene)
            .map_or(0, |(_, n)| *n)
    };
    // Two more paths tried with the expired token.
    assert_eq!(hygiene(&short), hygiene(&long) + 2);
}
