//! Security checkers: scripted probes whose every answer is compared with the model, grouped
//! by the property they guard.
//!
//! - *namespace*: a persona without the right gets 403 or 404 for every operation, never a
//!   2xx, and a member's list holds only its own entry;
//! - *hierarchy*: a member of image A addressed through image B is not found;
//! - *use after delete*: a removed member, and a deleted image, are unreachable;
//! - *token hygiene*: no token, an unknown token, or a token in the wrong header → 401; and
//!   a token the target's Keystone revoked, or that expired, → 401 (`tokens.rs`).

use super::stateful::{StatefulError, Step, Who, Whom, run_script};
use crate::operations::table;
use crate::target::Target;

/// The property a probe guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Property {
    /// Images and memberships the checks need.
    Setup,
    /// Refusals for personas without the right; no other project's data.
    Namespace,
    /// A member of one image addressed through another.
    Hierarchy,
    /// Removed members and deleted images.
    UseAfterDelete,
    /// Missing, unknown or misplaced tokens.
    TokenHygiene,
}

/// What the checks found.
#[derive(Clone, Debug, Default)]
pub struct SecurityReport {
    /// Probes per property.
    pub probes: Vec<(Property, usize)>,
    /// Requests sent.
    pub requests: usize,
    /// Violations: (property, what happened).
    pub violations: Vec<(Property, String)>,
    /// What could not be probed on this target, and why.
    pub notes: Vec<String>,
}

/// Builds a script with images named by creation order.
struct Script {
    steps: Vec<(Property, Step)>,
    created: usize,
}

impl Script {
    /// `img` counts back from the newest image; scripts name images absolutely.
    fn back(&self, absolute: usize) -> usize {
        self.created - 1 - absolute
    }

    fn create(&mut self, visibility: &'static str) -> usize {
        let body = match visibility {
            "private" => r#"{"name": "{name}", "visibility": "private"}"#,
            _ => r#"{"name": "{name}", "visibility": "shared"}"#,
        };
        self.steps.push((
            Property::Setup,
            Step::of("create_image", 0, M("owner"), P("owner")).with_body(body),
        ));
        self.created += 1;
        self.created - 1
    }

    fn push(&mut self, p: Property, f: impl FnOnce(usize) -> Step, img: usize) {
        let step = f(self.back(img));
        self.steps.push((p, step));
    }
}

const P: fn(&'static str) -> Who = Who::Persona;
const M: fn(&'static str) -> Whom = Whom::Persona;

/// Every operation of the table that names an image, tried by `by` on `img` about `member`
/// (adds name a ghost project), mutating ones included; deleting the image itself is probed
/// separately, last, since it ends the image.
fn every_op(s: &mut Script, p: Property, img: usize, member: Whom, by: Who) {
    for op in table() {
        if !op.path.contains("{image_id}") || op.name == "delete_image" {
            continue;
        }
        let about = if op.names_member() {
            member
        } else {
            Whom::Ghost(9)
        };
        s.push(p, |img| Step::of(op.name, img, about, by), img);
    }
}

/// The body that sets a member's status.
fn status_body(status: &str) -> &'static str {
    match status {
        "accepted" => r#"{"status": "accepted"}"#,
        "rejected" => r#"{"status": "rejected"}"#,
        _ => r#"{"status": "pending"}"#,
    }
}

/// The scripted probes, in order.
fn script() -> Vec<(Property, Step)> {
    let mut s = Script {
        steps: Vec::new(),
        created: 0,
    };
    // A: shared with member (accepted) and other member (pending). B: shared with the
    // stranger. C: private.
    let a = s.create("shared");
    for (m, st) in [("member", Some("accepted")), ("other_member", None)] {
        s.push(
            Property::Setup,
            |img| Step::of("add_image_member", img, M(m), P("owner")),
            a,
        );
        if let Some(st) = st {
            s.push(
                Property::Setup,
                |img| Step::of("update_image_member", img, M(m), P(m)).with_body(status_body(st)),
                a,
            );
        }
    }
    let b = s.create("shared");
    s.push(
        Property::Setup,
        |img| Step::of("add_image_member", img, M("stranger"), P("owner")),
        b,
    );
    let c = s.create("private");

    // Namespace: no right, no access; a member sees itself only.
    every_op(&mut s, Property::Namespace, a, M("member"), P("stranger"));
    for who in ["member", "other_member", "stranger", "admin"] {
        s.push(
            Property::Namespace,
            |img| Step::of("list_image_members", img, M("member"), P(who)),
            c,
        );
        s.push(
            Property::Namespace,
            |img| Step::of("show_image_member", img, M("member"), P(who)),
            c,
        );
    }
    s.push(
        Property::Namespace,
        |img| Step::of("list_image_members", img, M("member"), P("other_member")),
        a,
    );
    for (member, by) in [("member", "other_member"), ("other_member", "member")] {
        for status in ["rejected", "accepted"] {
            s.push(
                Property::Namespace,
                |img| {
                    Step::of("update_image_member", img, M(member), P(by))
                        .with_body(status_body(status))
                },
                a,
            );
        }
        s.push(
            Property::Namespace,
            |img| Step::of("show_image_member", img, M(member), P(by)),
            a,
        );
        s.push(
            Property::Namespace,
            |img| Step::of("delete_image_member", img, M(member), P(by)),
            a,
        );
    }
    s.push(
        Property::Namespace,
        |img| {
            Step::of("update_image_member", img, M("member"), P("owner"))
                .with_body(r#"{"status": "rejected"}"#)
        },
        a,
    );
    s.push(
        Property::Namespace,
        |img| Step::of("add_image_member", img, Whom::Ghost(8), P("member")),
        a,
    );
    s.push(
        Property::Namespace,
        |img| Step::of("delete_image_member", img, M("member"), P("member")),
        a,
    );

    // Hierarchy: A's member through B, by B's owner, by the member, by B's member.
    for by in ["owner", "member", "stranger"] {
        s.push(
            Property::Hierarchy,
            |img| Step::of("show_image_member", img, M("member"), P(by)),
            b,
        );
        s.push(
            Property::Hierarchy,
            |img| {
                Step::of("update_image_member", img, M("member"), P(by))
                    .with_body(r#"{"status": "accepted"}"#)
            },
            b,
        );
        s.push(
            Property::Hierarchy,
            |img| Step::of("delete_image_member", img, M("member"), P(by)),
            b,
        );
    }

    // Token hygiene, on every operation.
    for by in [Who::Anonymous, Who::BadToken, Who::WrongHeader] {
        every_op(&mut s, Property::TokenHygiene, a, M("member"), by);
        s.push(
            Property::TokenHygiene,
            |img| Step::of("delete_image", img, M("member"), by),
            a,
        );
        s.push(
            Property::TokenHygiene,
            |_| Step::of("list_images", 0, M("member"), by),
            a,
        );
    }

    // Use after delete: the removed member, then the deleted image.
    s.push(
        Property::UseAfterDelete,
        |img| Step::of("delete_image_member", img, M("member"), P("owner")),
        a,
    );
    every_op(
        &mut s,
        Property::UseAfterDelete,
        a,
        M("member"),
        P("member"),
    );
    s.push(
        Property::UseAfterDelete,
        |img| Step::of("show_image_member", img, M("member"), P("owner")),
        a,
    );
    s.push(
        Property::UseAfterDelete,
        |_| {
            Step::of("list_images", 0, M("member"), P("member"))
                .with_query("name={name}&member_status=all")
        },
        a,
    );
    s.push(
        Property::UseAfterDelete,
        |img| Step::of("delete_image", img, M("member"), P("owner")),
        b,
    );
    for by in ["owner", "stranger", "admin"] {
        every_op(&mut s, Property::UseAfterDelete, b, M("stranger"), P(by));
        s.push(
            Property::UseAfterDelete,
            |img| Step::of("delete_image", img, M("member"), P(by)),
            b,
        );
    }
    s.steps
}

/// Runs every probe against `target` (which must have all five personas and a
/// member_quota).
pub async fn run(target: &Target) -> Result<SecurityReport, StatefulError> {
    let probes = script();
    let steps: Vec<Step> = probes.iter().map(|(_, s)| s.clone()).collect();
    let (requests, mismatches) = run_script(target, &steps).await?;
    let mut report = SecurityReport {
        requests,
        ..SecurityReport::default()
    };
    for p in [
        Property::Namespace,
        Property::Hierarchy,
        Property::UseAfterDelete,
        Property::TokenHygiene,
    ] {
        report
            .probes
            .push((p, probes.iter().filter(|(q, _)| *q == p).count()));
    }
    for (i, message) in mismatches {
        report.violations.push((probes[i].0, message));
    }
    let session = crate::target::Session::new(target.clone()).map_err(StatefulError::Session)?;
    let life = super::tokens::probe(&session).await;
    report.requests += life.requests;
    for (p, n) in &mut report.probes {
        if *p == Property::TokenHygiene {
            *n += life.probes;
        }
    }
    report.violations.extend(
        life.violations
            .into_iter()
            .map(|v| (Property::TokenHygiene, v)),
    );
    report.notes = life.notes;
    Ok(report)
}
