//! Security checkers: scripted probes whose every answer is compared with the model, grouped
//! by the property they guard.
//!
//! - *namespace*: a persona without the right gets 403 or 404 for every operation, never a
//!   2xx, and a member's list holds only its own entry;
//! - *hierarchy*: a member of image A addressed through image B is not found;
//! - *use after delete*: a removed member, and a deleted image, are unreachable;
//! - *token hygiene*: no token, an unknown token, or a token in the wrong header → 401.

use super::stateful::{AddBody, StatusArg, Step, Who, Whom, run_script};
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
        self.steps.push((
            Property::Setup,
            Step::CreateImage {
                visibility,
                by_admin: false,
            },
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

/// Every operation `by` could try on `img` about `member`, including the mutating ones.
fn every_op(s: &mut Script, p: Property, img: usize, member: Whom, by: Who) {
    s.push(p, |img| Step::ListMembers { img, by }, img);
    s.push(p, |img| Step::ShowMember { img, member, by }, img);
    s.push(
        p,
        |img| Step::AddMember {
            img,
            member: Whom::Ghost(9),
            by,
            body: AddBody::Valid,
        },
        img,
    );
    s.push(
        p,
        |img| Step::UpdateMember {
            img,
            member,
            by,
            status: StatusArg::Set("accepted"),
        },
        img,
    );
    s.push(
        p,
        |img| Step::DeleteMember {
            img,
            member,
            by,
            with_body: false,
        },
        img,
    );
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
            |img| Step::AddMember {
                img,
                member: M(m),
                by: P("owner"),
                body: AddBody::Valid,
            },
            a,
        );
        if let Some(st) = st {
            s.push(
                Property::Setup,
                |img| Step::UpdateMember {
                    img,
                    member: M(m),
                    by: P(m),
                    status: StatusArg::Set(st),
                },
                a,
            );
        }
    }
    let b = s.create("shared");
    s.push(
        Property::Setup,
        |img| Step::AddMember {
            img,
            member: M("stranger"),
            by: P("owner"),
            body: AddBody::Valid,
        },
        b,
    );
    let c = s.create("private");

    // Namespace: no right, no access; a member sees itself only.
    every_op(&mut s, Property::Namespace, a, M("member"), P("stranger"));
    for who in ["member", "other_member", "stranger", "admin"] {
        s.push(
            Property::Namespace,
            |img| Step::ListMembers { img, by: P(who) },
            c,
        );
        s.push(
            Property::Namespace,
            |img| Step::ShowMember {
                img,
                member: M("member"),
                by: P(who),
            },
            c,
        );
    }
    s.push(
        Property::Namespace,
        |img| Step::ListMembers {
            img,
            by: P("other_member"),
        },
        a,
    );
    for (member, by) in [("member", "other_member"), ("other_member", "member")] {
        for status in [StatusArg::Set("rejected"), StatusArg::Set("accepted")] {
            s.push(
                Property::Namespace,
                |img| Step::UpdateMember {
                    img,
                    member: M(member),
                    by: P(by),
                    status,
                },
                a,
            );
        }
        s.push(
            Property::Namespace,
            |img| Step::ShowMember {
                img,
                member: M(member),
                by: P(by),
            },
            a,
        );
        s.push(
            Property::Namespace,
            |img| Step::DeleteMember {
                img,
                member: M(member),
                by: P(by),
                with_body: false,
            },
            a,
        );
    }
    s.push(
        Property::Namespace,
        |img| Step::UpdateMember {
            img,
            member: M("member"),
            by: P("owner"),
            status: StatusArg::Set("rejected"),
        },
        a,
    );
    s.push(
        Property::Namespace,
        |img| Step::AddMember {
            img,
            member: Whom::Ghost(8),
            by: P("member"),
            body: AddBody::Valid,
        },
        a,
    );
    s.push(
        Property::Namespace,
        |img| Step::DeleteMember {
            img,
            member: M("member"),
            by: P("member"),
            with_body: false,
        },
        a,
    );

    // Hierarchy: A's member through B, by B's owner, by the member, by B's member.
    for by in ["owner", "member", "stranger"] {
        s.push(
            Property::Hierarchy,
            |img| Step::ShowMember {
                img,
                member: M("member"),
                by: P(by),
            },
            b,
        );
        s.push(
            Property::Hierarchy,
            |img| Step::UpdateMember {
                img,
                member: M("member"),
                by: P(by),
                status: StatusArg::Set("accepted"),
            },
            b,
        );
        s.push(
            Property::Hierarchy,
            |img| Step::DeleteMember {
                img,
                member: M("member"),
                by: P(by),
                with_body: false,
            },
            b,
        );
    }

    // Token hygiene, on every operation.
    for by in [Who::Anonymous, Who::BadToken, Who::WrongHeader] {
        every_op(&mut s, Property::TokenHygiene, a, M("member"), by);
        s.push(
            Property::TokenHygiene,
            |img| Step::DeleteImage { img, by },
            a,
        );
        s.push(
            Property::TokenHygiene,
            |_| Step::ListImages {
                by,
                member_status: None,
            },
            a,
        );
    }

    // Use after delete: the removed member, then the deleted image.
    s.push(
        Property::UseAfterDelete,
        |img| Step::DeleteMember {
            img,
            member: M("member"),
            by: P("owner"),
            with_body: false,
        },
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
        |img| Step::ShowMember {
            img,
            member: M("member"),
            by: P("owner"),
        },
        a,
    );
    s.push(
        Property::UseAfterDelete,
        |_| Step::ListImages {
            by: P("member"),
            member_status: Some("all"),
        },
        a,
    );
    s.push(
        Property::UseAfterDelete,
        |img| Step::DeleteImage {
            img,
            by: P("owner"),
        },
        b,
    );
    for by in ["owner", "stranger", "admin"] {
        every_op(&mut s, Property::UseAfterDelete, b, M("stranger"), P(by));
        s.push(
            Property::UseAfterDelete,
            |img| Step::DeleteImage { img, by: P(by) },
            b,
        );
    }
    s.steps
}

/// Runs every probe against `target` (which must have all five personas and a
/// member_quota).
pub async fn run(target: &Target) -> Result<SecurityReport, String> {
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
    Ok(report)
}
