//! The suite's checks can fail: every mutant of the reference rules, served by the embedded
//! mock, must be caught by at least one case. Prints the mutation score and which case
//! killed which mutant.

use std::sync::Arc;

use sharecheck::{Driver, Mutant, Suite};

/// Runs every case against the embedded mock with `mutant`; returns (trial name, failure).
async fn failures(suite: &Suite, mutant: Option<Mutant>) -> Vec<(String, String)> {
    let (_mock, target) = sharecheck::embedded::start(mutant)
        .await
        .expect("mock starts");
    let driver = Arc::new(Driver::new(target, suite).expect("client"));
    // As many cases at once as a test run has threads, not all of them: a flooded mock takes
    // seconds per request, and the case that tells images made within one second apart
    // (`list-ties-by-id`) needs its three creates to fall within about one.
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    let mut set = tokio::task::JoinSet::new();
    for case in suite.cases.clone() {
        let driver = driver.clone();
        let slots = slots.clone();
        set.spawn(async move {
            let _slot = slots.acquire_owned().await.expect("semaphore open");
            let r = driver.run_case(&case).await;
            (case.name, r)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (name, r) = joined.expect("case task");
        if let Err(e) = r {
            out.push((name, e.to_string()));
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_passes_and_every_mutant_is_killed() {
    let suite = Suite::bundled().unwrap();
    let baseline = failures(&suite, None).await;
    assert!(
        baseline.is_empty(),
        "the unmutated mock fails: {baseline:#?}"
    );

    let mut survivors = Vec::new();
    println!("mutant → killed by");
    for &m in Mutant::ALL {
        let killed = failures(&suite, Some(m)).await;
        let names: Vec<&str> = killed.iter().map(|(n, _)| n.as_str()).collect();
        let shown = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
        let more = names.len().saturating_sub(3);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        println!("  {m}: {shown}{more}");
        if killed.is_empty() {
            survivors.push(m);
        }
    }
    let total = Mutant::ALL.len();
    println!(
        "mutation score: {}/{} killed ({:.0}%)",
        total - survivors.len(),
        total,
        100.0 * (total - survivors.len()) as f64 / total as f64
    );
    assert!(
        survivors.is_empty(),
        "mutants not caught by any case: {survivors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_deleting_itself_is_reported_clearly() {
    let suite = Suite::bundled().unwrap();
    let case = suite
        .case("delete_image_member::403::member_cannot_remove_itself")
        .expect("case exists")
        .clone();
    let (_mock, target) = sharecheck::embedded::start(Some(Mutant::MemberCanDeleteSelf))
        .await
        .unwrap();
    let driver = Driver::new(target, &suite).unwrap();
    let msg = driver
        .run_case(&case)
        .await
        .expect_err("mutant must be caught")
        .to_string();
    for want in [
        "DELETE /v2/images/",
        "/members/proj-member as member",
        "expected status 403, got 204",
        "body: (empty)",
    ] {
        assert!(msg.contains(want), "missing {want:?} in:\n{msg}");
    }
}
