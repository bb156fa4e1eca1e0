//! Deliberately broken rules, so the self-test can prove that some case notices each. A mutant
//! breaks exactly one rule, of the model or of the mock's HTTP layer, and lives behind one seam:
//! `call` wraps the honest model's answer to one row of the table (`images`, `members`,
//! `metadefs`, `cache`, `locations`, sharing `ctx`), `http` bends the finished response. Neither the model nor the router names a mutant.

mod cache;
mod call;
mod ctx;
mod http;
mod images;
mod locations;
mod members;
mod metadefs;

pub(crate) use call::{answer, authenticate};
pub(crate) use http::reply;

use std::fmt;
use std::str::FromStr;

/// Where a mutant breaks a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layer {
    /// In the model's rules.
    Rules,
    /// In the mock's HTTP layer (status codes, headers, formats).
    Http,
}

macro_rules! mutants {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, $layer:ident;)*) => {
        /// One broken rule. Names are kebab-case on the command line
        /// (`--mutant member-can-delete-self`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Mutant {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Mutant {
            /// Every mutant, in a stable order.
            pub const ALL: &'static [Mutant] = &[$(Mutant::$variant),*];

            /// The kebab-case name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Mutant::$variant => $name,)*
                }
            }

            /// Where it breaks a rule.
            pub(crate) fn layer(self) -> Layer {
                match self {
                    $(Mutant::$variant => Layer::$layer,)*
                }
            }
        }
    };
}

mutants! {
    /// A member may remove its own membership (should be 403).
    MemberCanDeleteSelf = "member-can-delete-self", Rules;
    /// A request body on DELETE is ignored (should be 400).
    DeleteBodyIgnored = "delete-body-ignored", Rules;
    /// An image the caller cannot see answers 403 instead of 404 (an information leak).
    HiddenImageForbidden = "hidden-image-forbidden", Rules;
    /// Member calls work on images that are not `shared` (should be 403).
    MembersOnAnyImage = "members-on-any-image", Rules;
    /// A member's member list shows every member, not only itself.
    MemberListsAllEntries = "member-lists-all-entries", Rules;
    /// A member may address other members' entries (show, update, delete).
    MemberSeesOtherEntries = "member-sees-other-entries", Rules;
    /// The image owner may set a member's status (should be 403).
    OwnerSetsStatus = "owner-sets-status", Rules;
    /// The status value is validated before the policy (an owner with a bad value gets 400).
    StatusValueCheckedFirst = "status-value-checked-first", Rules;
    /// Adding an existing member succeeds (should be 409).
    DuplicateAllowed = "duplicate-allowed", Rules;
    /// The member quota lets one member too many in.
    QuotaOffByOne = "quota-off-by-one", Rules;
    /// A duplicate on a full image answers 409 (the quota check should come first: 413).
    DuplicateBeforeQuota = "duplicate-before-quota", Rules;
    /// A new member starts accepted instead of pending.
    NewMemberAccepted = "new-member-accepted", Rules;
    /// A member may add further members (should be 403).
    MemberCanAdd = "member-can-add", Rules;
    /// An empty member id is accepted (should be 400).
    EmptyMemberAllowed = "empty-member-allowed", Rules;
    /// An update without `status` keeps the current status (should be 400).
    MissingStatusAllowed = "missing-status-allowed", Rules;
    /// An unknown status value is taken as pending (should be 400).
    InvalidStatusAccepted = "invalid-status-accepted", Rules;
    /// Once answered, a membership cannot go back to pending.
    StatusOneWay = "status-one-way", Rules;
    /// A request without a token is served as a stranger (should be 401).
    AnonymousIsStranger = "anonymous-is-stranger", Rules;
    /// A member's image list shows shared images whatever the member status.
    ImageListIgnoresMemberStatus = "image-list-ignores-member-status", Rules;
    /// Showing a member of a non-shared image answers 403 (should be 404).
    ShowMemberForbidden = "show-member-forbidden", Rules;
    /// The admin role grants nothing.
    AdminIsOrdinary = "admin-is-ordinary", Rules;
    /// Removing a member answers 204 but keeps the membership.
    DeleteMemberNoop = "delete-member-noop", Rules;
    /// Anyone who can see the image passes the owner's policy checks.
    OwnerCheckIsVisibility = "owner-check-is-visibility", Rules;
    /// A member row is looked up by member id alone, whatever image the path names.
    MemberLookupIgnoresImage = "member-lookup-ignores-image", Rules;
    /// The body is parsed after the visibility check (a stranger's bad body gets 404, not 400).
    BodyParsedLate = "body-parsed-late", Rules;
    /// A stranger sees private images (show answers 200 instead of 404).
    StrangerSeesPrivate = "stranger-sees-private", Rules;
    /// Public images are listed only to their owner, not to other projects.
    PublicUnlistedForOthers = "public-unlisted-for-others", Rules;
    /// Image lists are sorted oldest first (should be newest first).
    ListOldestFirst = "list-oldest-first", Rules;
    /// Images created within one second are listed by id, not in the order they were made.
    ListTiesById = "list-ties-by-id", Rules;
    /// A member may add and remove tags of an image it shares (should be 403).
    MemberCanTag = "member-can-tag", Rules;
    /// The tag quota lets one tag more through.
    TagQuotaOffByOne = "tag-quota-off-by-one", Rules;
    /// Removing a tag the image lacks succeeds (should be 404).
    MissingTagDeleted = "missing-tag-deleted", Rules;
    /// A member may change an image it shares (should be 403).
    MemberCanUpdate = "member-can-update", Rules;
    /// A patch document is read whatever its media type (should be 415).
    PatchMediaTypeIgnored = "patch-media-type-ignored", Rules;
    /// A protected image can be deleted (should be 403).
    ProtectedDeleted = "protected-deleted", Rules;
    /// A reader of the owning project may change the image (should be 403).
    ReaderCanWrite = "reader-can-write", Rules;
    /// Anyone sees a private metadata definition namespace and what it defines.
    PrivateNamespaceSeen = "private-namespace-seen", Rules;
    /// The project owning a namespace may change it and what it defines (admins only).
    NamespaceOwnerCanChange = "namespace-owner-can-change", Rules;
    /// A protected namespace, and what it defines, can be deleted (should be 403).
    ProtectedNamespaceDeleted = "protected-namespace-deleted", Rules;
    /// A namespace's tag list is always appended to, never replaced.
    TagsAlwaysAppended = "tags-always-appended", Rules;
    /// The namespace list ignores `sort_dir` (always newest first).
    NamespaceSortDirIgnored = "namespace-sort-dir-ignored", Rules;
    /// A GET ignores a body it does not take (should be 400).
    GetBodyIgnored = "get-body-ignored", Rules;
    /// Anyone may manage the image cache (should be admins only).
    CacheOpenToAll = "cache-open-to-all", Rules;
    /// Removing an image from the cache answers 204 but keeps the copy.
    CacheDeleteNoop = "cache-delete-noop", Rules;
    /// Clearing the cache empties everything whatever the target header names.
    ClearIgnoresTarget = "clear-ignores-target", Rules;
    /// Anyone who sees an image may list its locations (admins and the service role only).
    LocationsOpenToAll = "locations-open-to-all", Rules;
    /// A location no http store serves (a `file` URL) is added for anyone allowed to add
    /// one, as if the caller had the service role (should be 403).
    LocationStoreUnchecked = "location-store-unchecked", Rules;
    /// 405 answers lack the `Allow` header.
    MissingAllow = "missing-allow", Http;
    /// A successful member removal answers 200 with a body instead of 204.
    DeleteAnswers200 = "delete-answers-200", Http;
    /// Adding a member answers 201 instead of the reference's 200.
    AddAnswers201 = "add-answers-201", Http;
    /// 401 answers lack `WWW-Authenticate`.
    MissingWwwAuthenticate = "missing-www-authenticate", Http;
    /// Answers lack `x-openstack-request-id`.
    MissingRequestId = "missing-request-id", Http;
    /// Error bodies are plain text even when the client asked for JSON.
    ErrorsIgnoreAccept = "errors-ignore-accept", Http;
    /// An unsupported method answers 404 instead of 405.
    WrongMethodIs404 = "wrong-method-is-404", Http;
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
