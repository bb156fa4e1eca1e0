//! Model-based fuzzing: a bounded fixed-seed run against the bundled mock finds nothing; a
//! planted mutant is found, shrunk to a short story, and written as a case that fails on the
//! mutant and passes on the reference.

use sharecheck::{Driver, Mutant, StatefulOptions, StatefulReport, Suite};

fn mock_config(mutant: Option<Mutant>) -> sharecheck::MockConfig {
    let mut c = sharecheck::embedded::config(mutant);
    c.rate_limit = None;
    c
}

fn fuzz(
    rt: &tokio::runtime::Runtime,
    mutant: Option<Mutant>,
    cases: u32,
    seed: u64,
) -> StatefulReport {
    let (_mock, target) = rt
        .block_on(sharecheck::embedded::start_with(mock_config(mutant)))
        .unwrap();
    let opts = StatefulOptions {
        cases,
        seed,
        max_steps: 12,
        known: Default::default(),
    };
    sharecheck::run_stateful(rt.handle(), &target, &opts).expect("fuzz runs")
}

#[test]
fn the_reference_mock_survives_a_fixed_seed_run() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report = fuzz(&rt, None, 300, 20261129);
    assert!(report.finding.is_none(), "{:?}", report.finding);
    assert_eq!(report.sequences, 300);
    assert!(report.requests > 1000, "{}", report.requests);
    println!(
        "fuzz: {} sequences, {} requests in {:?}",
        report.sequences, report.requests, report.elapsed
    );
}

#[test]
fn a_known_defect_is_counted_not_reported() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = std::env::temp_dir().join(format!("sharecheck-known-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("known.yaml");
    std::fs::write(
        &file,
        "known_defects:\n  self-delete:\n    operation: delete_image_member\n    model: 403\n    target: 204\n    reason: the planted mutant\n",
    )
    .unwrap();
    let known = sharecheck::KnownDefects::load(&file).unwrap();
    // 3000 sequences as two runs of 1500 at once (seeds 7 and 8, a mock each): one run waits
    // on its mock between requests, so two keep both cores busy. The clones share the tally.
    let reports: Vec<StatefulReport> = std::thread::scope(|s| {
        let runs: Vec<_> = [7, 8]
            .map(|seed| {
                let (rt, known) = (&rt, known.clone());
                s.spawn(move || {
                    let (_mock, target) = rt
                        .block_on(sharecheck::embedded::start_with(mock_config(Some(
                            Mutant::MemberCanDeleteSelf,
                        ))))
                        .unwrap();
                    let opts = StatefulOptions {
                        cases: 1500,
                        seed,
                        max_steps: 12,
                        known,
                    };
                    sharecheck::run_stateful(rt.handle(), &target, &opts).expect("fuzz runs")
                })
            })
            .into();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let tally = known.tally();
    assert!(tally[0].2 > 0, "the defect was never seen: {tally:?}");
    // Later steps may still differ (the member is gone on the target), but the known
    // difference itself is never the finding.
    for f in reports.into_iter().filter_map(|r| r.finding) {
        assert!(
            !f.message
                .contains("the model says 403, the target answered 204"),
            "{}",
            f.message
        );
    }
}

#[test]
fn a_planted_mutant_is_found_shrunk_and_becomes_a_failing_case() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mutant = Mutant::MemberCanDeleteSelf;
    let report = fuzz(&rt, Some(mutant), 3000, 7);
    let finding = report.finding.expect("the mutant is found");
    assert!(finding.steps.len() <= 5, "not shrunk: {:#?}", finding.steps);
    assert!(
        finding
            .message
            .contains("the model says 403, the target answered 204"),
        "{}",
        finding.message
    );

    // Write the finding as a case and load it next to the bundled suite.
    let (_m, target) = rt
        .block_on(sharecheck::embedded::start_with(mock_config(None)))
        .unwrap();
    let quota = i64::from(target.member_quota.unwrap());
    let story = sharecheck::emit_story(&target, quota, &finding.steps);
    assert!(
        story.contains("removes") && story.contains("expect 403"),
        "{story}"
    );
    let (rel, text) = sharecheck::emit_case_file(&target, quota, &finding);
    let dir = std::env::temp_dir().join(format!("sharecheck-fuzz-emit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join(&rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &text).unwrap();
    let suite = Suite::bundled()
        .unwrap()
        .with_cases_dir(&dir)
        .expect("the emitted case loads");
    let name = format!(
        "delete_image_member::403::{}",
        rel.file_stem().unwrap().to_str().unwrap()
    );
    let case = suite
        .case(&name)
        .unwrap_or_else(|| panic!("{name} in {text}"))
        .clone();

    let passes = Driver::new(target, &suite).unwrap();
    rt.block_on(passes.run_case(&case))
        .expect("passes on the reference");
    let (_bad, bad_target) = rt
        .block_on(sharecheck::embedded::start_with(mock_config(Some(mutant))))
        .unwrap();
    let fails = Driver::new(bad_target, &suite).unwrap();
    let err = rt
        .block_on(fails.run_case(&case))
        .expect_err("fails on the mutant");
    assert!(
        err.to_string().contains("expected status 403, got 204"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
