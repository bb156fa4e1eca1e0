//! The concurrency check: against the embedded mock it finds a serial order, and fed
//! fabricated histories it tells explainable ones from unexplainable ones.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sharecheck::{
    ConcurrencyOptions, HistoryAnswer as Answer, HistoryOp as Op, HistoryOpKind as OpKind,
    HistoryVerdict as Verdict, MemberStatus, Mutant, check_history as check,
    check_history_answers as check_answers, run_concurrency as run,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_clients_on_the_embedded_mock_are_explained() {
    let (server, target) = sharecheck::embedded::start(None).await.expect("mock");
    let opts = ConcurrencyOptions {
        clients: 32,
        ops_per_client: 6,
        seed: 7,
    };
    let report = run(&target, &opts).await;
    eprintln!("{report}");
    assert!(report.passed(), "{report}");
    assert_eq!(report.pool.len(), 4, "the pool stays below the quota of 5");
    assert!(report.acknowledged > 0, "{report}");
    assert_eq!(report.sent, report.history.len());
    assert!(
        report.refused.contains_key(&409) || report.refused.contains_key(&404),
        "operations collide: {report}"
    );
    // The image is gone: nothing of the run is left behind.
    let leftover = reqwest::Client::new()
        .get(format!(
            "{}/v2/images/{}",
            server.uri(),
            report.image_id.as_deref().unwrap()
        ))
        .header("x-auth-token", "owner-token")
        .send()
        .await
        .unwrap();
    assert_eq!(leftover.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_that_forgets_removals_is_caught() {
    let (_server, target) = sharecheck::embedded::start(Some(Mutant::DeleteMemberNoop))
        .await
        .expect("mock");
    let opts = ConcurrencyOptions {
        clients: 32,
        ops_per_client: 6,
        seed: 7,
    };
    let report = run(&target, &opts).await;
    eprintln!("{report}");
    assert!(
        matches!(report.verdict, Verdict::Unexplained(_)),
        "{report}"
    );
    assert!(!report.passed());
    assert!(report.to_string().contains("no serial order explains it"));
    assert_eq!(
        report.cleanup_error, None,
        "the image is deleted all the same"
    );
}

// ----- fabricated histories --------------------------------------------------------------

/// An operation on `member` sent at `from` ms and answered at `to` ms.
fn op(base: Instant, kind: OpKind, member: &str, from: u64, to: u64, answer: Answer) -> Op {
    Op {
        client: 0,
        kind,
        member: member.to_string(),
        persona: "owner".to_string(),
        invoked: base + Duration::from_millis(from),
        completed: base + Duration::from_millis(to),
        answer,
    }
}

fn added(member: &str) -> Answer {
    Answer::ok(
        200,
        &format!(r#"{{"member_id": "{member}", "status": "pending"}}"#),
    )
}

fn finals(members: &[(&str, &str)]) -> BTreeMap<String, String> {
    members
        .iter()
        .map(|(m, s)| (m.to_string(), s.to_string()))
        .collect()
}

fn assert_unexplained(v: &Verdict, mentions: &str) {
    match v {
        Verdict::Unexplained(why) => {
            let all = why.join("\n");
            eprintln!("{all}");
            assert!(
                all.contains(mentions),
                "explanation names `{mentions}`: {all}"
            );
        }
        other => panic!("expected no serial order, got {other:?}"),
    }
}

#[test]
fn two_acknowledged_adds_in_a_row_have_no_serial_order() {
    let t = Instant::now();
    let history = [
        op(t, OpKind::Add, "p", 0, 10, added("p")),
        op(t, OpKind::Add, "p", 20, 30, added("p")),
    ];
    let v = check(&history, &finals(&[("p", "pending")]));
    assert_unexplained(&v, "member `p`");
    assert_unexplained(&v, "the reference refuses it there with 409");
}

#[test]
fn answers_alone_are_checked_when_the_final_list_is_unknown() {
    let t = Instant::now();
    let twice = [
        op(t, OpKind::Add, "p", 0, 10, added("p")),
        op(t, OpKind::Add, "p", 20, 30, added("p")),
    ];
    assert_unexplained(&check_answers(&twice), "409");
    let lost = [op(
        t,
        OpKind::Add,
        "p",
        0,
        10,
        Answer::Transport("reset".into()),
    )];
    assert_eq!(check_answers(&lost), Verdict::Explained);
}

#[test]
fn a_member_whose_add_was_refused_must_not_appear() {
    let t = Instant::now();
    // Nothing added it, the add was refused with 409 (which itself needs it present), and
    // it shows up in the final list.
    let history = [op(t, OpKind::Add, "ghost", 0, 10, Answer::status(409))];
    assert_unexplained(&check(&history, &finals(&[("ghost", "pending")])), "ghost");
    // A member no operation ever touched appears in the final list.
    assert_unexplained(
        &check(&[], &finals(&[("intruder", "pending")])),
        "every order that explains the answers leaves it absent",
    );
}

#[test]
fn an_acknowledged_remove_is_not_lost() {
    let t = Instant::now();
    let history = [
        op(t, OpKind::Add, "p", 0, 10, added("p")),
        op(t, OpKind::Remove, "p", 20, 30, Answer::status(204)),
    ];
    assert_unexplained(
        &check(&history, &finals(&[("p", "pending")])),
        "leaves it absent",
    );
    assert_eq!(check(&history, &finals(&[])), Verdict::Explained);
}

#[test]
fn overlapping_operations_may_be_ordered_either_way() {
    let t = Instant::now();
    // add 200 [0,10]; remove 204 [5,15]; add 409 [12,20]: only add, add(409), remove fits
    // (the second add overlaps the remove), which leaves the member absent.
    let history = [
        op(t, OpKind::Add, "p", 0, 10, added("p")),
        op(t, OpKind::Remove, "p", 5, 15, Answer::status(204)),
        op(t, OpKind::Add, "p", 12, 20, Answer::status(409)),
    ];
    assert_eq!(check(&history, &finals(&[])), Verdict::Explained);
    assert_unexplained(&check(&history, &finals(&[("p", "pending")])), "`p`");

    // The same answers, but the 409 sent after the remove completed: real time forbids the
    // only order that explained it.
    let late = [
        op(t, OpKind::Add, "p", 0, 10, added("p")),
        op(t, OpKind::Remove, "p", 5, 15, Answer::status(204)),
        op(t, OpKind::Add, "p", 16, 20, Answer::status(409)),
    ];
    assert_unexplained(&check(&late, &finals(&[])), "409");
}

#[test]
fn statuses_follow_the_reference_rules() {
    let t = Instant::now();
    let set = |s| OpKind::SetStatus(s);
    let history = [
        op(t, OpKind::Add, "m", 0, 10, added("m")),
        op(
            t,
            set(MemberStatus::Accepted),
            "m",
            20,
            30,
            Answer::ok(200, r#"{"member_id": "m", "status": "accepted"}"#),
        ),
        op(
            t,
            set(MemberStatus::Rejected),
            "m",
            25,
            35,
            Answer::status(404),
        ),
    ];
    // The 404 needs the member absent, and nothing removed it.
    assert_unexplained(&check(&history, &finals(&[("m", "accepted")])), "404");
    // A body that contradicts the request is not an acknowledgement of it.
    let wrong_body = [
        op(t, OpKind::Add, "m", 0, 10, added("m")),
        op(
            t,
            set(MemberStatus::Accepted),
            "m",
            20,
            30,
            Answer::ok(200, r#"{"member_id": "m", "status": "rejected"}"#),
        ),
    ];
    assert_unexplained(
        &check(&wrong_body, &finals(&[("m", "accepted")])),
        "status `rejected`",
    );
    // Final status must be the last one set.
    let fine = [
        op(t, OpKind::Add, "m", 0, 10, added("m")),
        op(
            t,
            set(MemberStatus::Accepted),
            "m",
            20,
            30,
            Answer::status(200),
        ),
        op(
            t,
            set(MemberStatus::Rejected),
            "m",
            25,
            35,
            Answer::status(200),
        ),
    ];
    assert_eq!(
        check(&fine, &finals(&[("m", "accepted")])),
        Verdict::Explained
    );
    assert_eq!(
        check(&fine, &finals(&[("m", "rejected")])),
        Verdict::Explained
    );
    assert_unexplained(&check(&fine, &finals(&[("m", "pending")])), "`m`");
}

#[test]
fn unknown_outcomes_may_or_may_not_have_taken_effect() {
    let t = Instant::now();
    let lost = [op(
        t,
        OpKind::Add,
        "p",
        0,
        10,
        Answer::Transport("timed out".into()),
    )];
    assert_eq!(check(&lost, &finals(&[])), Verdict::Explained);
    assert_eq!(
        check(&lost, &finals(&[("p", "pending")])),
        Verdict::Explained
    );
    let failed = [op(t, OpKind::Remove, "p", 0, 10, Answer::status(503))];
    assert_eq!(check(&failed, &finals(&[])), Verdict::Explained);
    // Throttled answers had no effect.
    let throttled = [op(
        t,
        OpKind::Add,
        "p",
        0,
        10,
        Answer::Status {
            code: 413,
            body: None,
            retry_after: true,
        },
    )];
    assert_eq!(check(&throttled, &finals(&[])), Verdict::Explained);
    assert_unexplained(&check(&throttled, &finals(&[("p", "pending")])), "`p`");
}

#[test]
fn many_overlapping_operations_are_checked_quickly() {
    // 40 clients at once, 5 rounds, on one member: the memo keeps the search small.
    let t = Instant::now();
    let mut history = Vec::new();
    for round in 0..5u64 {
        let (from, to) = (round * 100, round * 100 + 90);
        history.push(op(t, OpKind::Add, "p", from, to, added("p")));
        for _ in 0..19 {
            history.push(op(t, OpKind::Add, "p", from, to, Answer::status(409)));
        }
        history.push(op(t, OpKind::Remove, "p", from, to, Answer::status(204)));
        for _ in 0..19 {
            history.push(op(t, OpKind::Remove, "p", from, to, Answer::status(404)));
        }
    }
    let started = Instant::now();
    assert_eq!(check(&history, &finals(&[])), Verdict::Explained);
    assert!(started.elapsed() < Duration::from_secs(5));
}
