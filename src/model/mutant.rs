//! Deliberately broken rules. Each mutant breaks exactly one rule of the model so the
//! self-test can prove that some case notices.

use std::fmt;
use std::str::FromStr;

/// One broken rule. Names are kebab-case on the command line (`--mutant member-can-delete-self`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// A member may remove its own membership (should be 403).
    MemberCanDeleteSelf,
    /// A request body on DELETE is ignored (should be 400).
    DeleteBodyIgnored,
    /// An image the caller cannot see answers 403 instead of 404 (an information leak).
    HiddenImageForbidden,
    /// Member calls work on images that are not `shared` (should be 403).
    MembersOnAnyImage,
    /// A member sees every member row, not only its own.
    MemberSeesAllEntries,
    /// The mock forgets the `Allow` header on 405 answers.
    MissingAllow,
    /// The mock answers a successful member removal with 200 and a body instead of 204.
    DeleteAnswers200,
}

impl Mutant {
    /// Every mutant, in a stable order.
    pub const ALL: &'static [Mutant] = &[
        Mutant::MemberCanDeleteSelf,
        Mutant::DeleteBodyIgnored,
        Mutant::HiddenImageForbidden,
        Mutant::MembersOnAnyImage,
        Mutant::MemberSeesAllEntries,
        Mutant::MissingAllow,
        Mutant::DeleteAnswers200,
    ];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::MemberCanDeleteSelf => "member-can-delete-self",
            Mutant::DeleteBodyIgnored => "delete-body-ignored",
            Mutant::HiddenImageForbidden => "hidden-image-forbidden",
            Mutant::MembersOnAnyImage => "members-on-any-image",
            Mutant::MemberSeesAllEntries => "member-sees-all-entries",
            Mutant::MissingAllow => "missing-allow",
            Mutant::DeleteAnswers200 => "delete-answers-200",
        }
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mutant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mutant::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Mutant::ALL.iter().map(|m| m.name()).collect();
                format!("unknown mutant `{s}`; known: {}", names.join(", "))
            })
    }
}
