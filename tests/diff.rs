//! `sharecheck diff`: the same cases on two targets; the table names the cases that differ.

mod common;

use common::{Mock, sharecheck, text};

#[test]
fn identical_targets_do_not_differ_and_a_deviating_one_does() {
    let good = Mock::start(&["--member-quota", "5"]);
    let bad = Mock::start(&["--member-quota", "5", "--mutant", "member-can-delete-self"]);
    let a = good.target_file("diff-a", "member_quota: 5\n");
    let b = bad.target_file("diff-b", "member_quota: 5\n");

    let out = sharecheck(&[
        "diff",
        "--target",
        a.to_str().unwrap(),
        "--target",
        "embedded",
        "delete_image_member::40",
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("diff: 0 of "), "{t}");

    let out = sharecheck(&[
        "diff",
        "--target",
        a.to_str().unwrap(),
        "--target",
        b.to_str().unwrap(),
        "delete_image_member::403",
    ]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let row = t
        .lines()
        .find(|l| l.starts_with("delete_image_member::403::member_cannot_remove_itself"))
        .unwrap_or_else(|| panic!("no row for the deviating case:\n{t}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    // case, then `passed 403,200 json{...}` for A and `failed 204 empty` for B.
    assert_eq!(cols[1], "passed", "{row}");
    assert!(cols[2].starts_with("403"), "{row}");
    assert_eq!(&cols[4..], ["failed", "204", "empty"], "{row}");
    // With the matrix cells of the pending, accepted and rejected member deleting itself.
    assert!(t.contains("diff: 4 of "), "{t}");

    let out = sharecheck(&["diff", "--target", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
