//! The reference rules of the image-sharing API, with no HTTP in sight.
//!
//! This module is the one source of truth for how the reference implementation (OpenStack
//! Glance) answers: who a token is, who can see an image, which images have members, the
//! member quota, the member status lifecycle, and the order in which the checks run. The mock
//! is a thin warp layer over [`Model`]; model-based tests drive it directly.
//!
//! Inputs are plain values (tokens, ids, raw body bytes, query pairs); outputs are domain
//! values or an [`ApiError`] carrying the documented status code. All state lives in
//! [`State`](state::State), so a persistent store replaces one module.

mod cache;
mod changes;
mod collections;
mod data;
mod deployment;
mod fetch;
mod format;
mod identity;
mod image;
mod import;
mod landing;
mod listing;
mod location_api;
mod locations;
mod member;
mod metadefs;
mod patch;
mod snapshot;
mod state;
mod stores;
mod tags;
mod tasks;
mod usage;

pub use cache::CacheSettings;
pub use changes::Write;
pub use collections::{
    DataRecord, FormerMemberRecord, ImageRecord, MemberRecord, SnapshotError, TokenRecord,
};
pub use data::{
    Digester, ImageData, PARALLEL_BYTES, Received, Span, Upload, check_data_type, declared_size,
    requested_span,
};
#[cfg(test)]
use deployment::glance_versions;
pub use deployment::{
    ApiVersion, DEFAULT_IMAGE_SIZE_CAP, Deployment, ImportFilter, Store, UnifiedLimits,
};
pub use fetch::Fetch;
pub use identity::{DEFAULT_DOMAIN, Identities, Identity, IssuedToken, Project, User};
pub use image::{CONTAINER_FORMATS, DISK_FORMATS, Image, Visibility};
pub use location_api::Fetched;
pub use locations::Heads;
pub use member::{Member, MemberStatus};
pub use patch::PATCH_MEDIA_TYPES;
pub use snapshot::Snapshot;
pub use tasks::{TASK_STATUSES, TASK_TYPES};

pub(crate) use metadefs::body::none as no_body;
pub(crate) use state::State;

/// The class of a refusal; each maps to one documented status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed.
    BadRequest,
    /// 401: no valid token.
    Unauthorized,
    /// 403: the caller may not do this, or the image has no members.
    Forbidden,
    /// 404: the resource does not exist or is not visible to the caller.
    NotFound,
    /// 409: the resource exists already.
    Conflict,
    /// 413: a limit (a quota) would be exceeded.
    OverLimit,
    /// 410: the resource went away while the request was under way.
    Gone,
    /// 415: the body's media type is not one the operation reads.
    UnsupportedMediaType,
    /// 416: the byte range asked for is not in the data.
    RangeNotSatisfiable,
}

impl ErrorKind {
    /// The status code the reference answers with.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::OverLimit => 413,
            ErrorKind::Gone => 410,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::RangeNotSatisfiable => 416,
        }
    }
}

/// A refusal: its kind (hence status code) and a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// What kind of refusal.
    pub kind: ErrorKind,
    /// What went wrong, in words.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub(crate) fn already_member(member_id: &str, image_id: &str) -> Self {
        Self::new(
            ErrorKind::Conflict,
            format!("{member_id} is already a member of image {image_id}."),
        )
    }
}

/// Tunable parts of the rules: the quotas the model enforces, the issued tokens' lifetime,
/// and the rest of what the operator's configuration decides ([`Deployment`]).
#[derive(Clone, Debug)]
pub struct Rules {
    /// Most members an image may have; negative means unlimited (Glance's
    /// `image_member_quota`, default 128).
    pub member_quota: i64,
    /// Most tags an image may have; negative means unlimited (Glance's `image_tag_quota`,
    /// default 128).
    pub tag_quota: i64,
    /// Most extra properties an image may have; negative means unlimited (Glance's
    /// `image_property_quota`, default 128).
    pub property_quota: i64,
    /// How long a token the mock's Keystone issues stays valid (Keystone's
    /// `[token] expiration`, default an hour).
    pub token_lifetime: std::time::Duration,
    /// Stores, import methods and filter, cache, and the other settings of the deployment.
    pub deployment: Deployment,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            member_quota: 128,
            tag_quota: 128,
            property_quota: 128,
            token_lifetime: std::time::Duration::from_secs(3600),
            deployment: Deployment::default(),
        }
    }
}

/// Most tokens issued at run time that stay valid at once; memory stays bounded however many
/// logins a long-running mock serves (like Keystone, old tokens simply stop working).
pub const MAX_ISSUED_TOKENS: usize = 10_000;

/// Page size of the image list when the client gives no `limit`.
pub const DEFAULT_LIMIT: usize = 25;
/// Largest page of the image list.
pub const MAX_LIMIT: usize = 1000;

/// One page of a list, and the marker of the next page if there is one.
#[derive(Debug)]
pub struct Page<'a> {
    /// The images of this page, in list order.
    pub images: Vec<&'a Image>,
    /// The id to pass as `marker` for the next page: set whenever the page is full, as the
    /// reference does, so the next page may be empty.
    pub next_marker: Option<&'a str>,
}

impl<'a> Page<'a> {
    /// Cuts a page of `limit` images from `all` (sorted by `order`), starting after the place
    /// `marker` has in that order (the marker itself need not pass the filters).
    fn of(
        all: Vec<&'a Image>,
        order: &listing::Order,
        limit: Option<usize>,
        marker: Option<&Image>,
    ) -> Result<Page<'a>> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        let start = match marker {
            None => 0,
            Some(m) => all
                .iter()
                .position(|i| order.cmp(i, m) == std::cmp::Ordering::Greater)
                .unwrap_or(all.len()),
        };
        let end = start.saturating_add(limit).min(all.len());
        // Like the reference, a full page links to a next one, even when that one is empty;
        // `limit=0` gives an empty page and no `next` (it would point back at the same page).
        let full = end > start && end - start == limit;
        let next_marker = full.then(|| all[end - 1].id.as_str());
        Ok(Page {
            images: all[start.min(all.len())..end].to_vec(),
            next_marker,
        })
    }
}

/// Result of a model operation.
pub type Outcome<T> = std::result::Result<T, ApiError>;

/// Inside the model: `Result<T>` is an [`Outcome`] (cargo-mutants knows `Result` and tries
/// `Ok` values where an alias would get it nowhere).
type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The reference behaviour: identities, rules and state.
#[derive(Debug)]
pub struct Model {
    identities: Identities,
    rules: Rules,
    state: State,
    /// The time source (the system clock; tests fix it).
    clock: fn() -> String,
}

/// Current time in the reference's timestamp format, `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Model {
    /// A model with no images.
    pub fn new(identities: Identities, rules: Rules) -> Self {
        Model {
            identities,
            rules,
            state: State::default(),
            clock: now,
        }
    }

    /// Replaces the clock (tests).
    #[cfg(test)]
    pub(crate) fn set_clock(&mut self, clock: fn() -> String) {
        self.clock = clock;
    }

    /// The static tokens, users, projects and domains.
    pub fn identities(&self) -> &Identities {
        &self.identities
    }

    /// Makes `token` stand for `issued.identity` from now on (a token Keystone issued).
    pub fn register_token(&mut self, token: String, issued: IssuedToken) {
        self.state.register_token(token, issued);
    }

    /// The whole state as one document: every collection, each in its order.
    pub fn snapshot(&self) -> Snapshot {
        snapshot::write(&self.state)
    }

    /// Replaces the whole state with `snap`'s; on an error nothing changes.
    pub fn restore(&mut self, snap: &Snapshot) -> Result<(), SnapshotError> {
        let restored = snapshot::read(snap)?;
        self.replace_state(restored);
        Ok(())
    }

    /// Replaces the whole state with the records a store kept: per collection, each record
    /// as (key, JSON text), in the collection's order; on an error nothing changes.
    pub(crate) fn restore_stored(
        &mut self,
        stored: &std::collections::HashMap<String, Vec<(String, String)>>,
    ) -> Result<(), SnapshotError> {
        if let Some(name) = stored.keys().find(|k| collections::declared(k).is_none()) {
            return Err(collections::refuse(
                name.as_str(),
                "not a collection this build keeps",
            ));
        }
        let mut restored = State::default();
        for d in collections::COLLECTIONS {
            let texts = stored.get(d.name).map_or(&[][..], Vec::as_slice);
            (d.load_texts)(&mut restored, texts)?;
        }
        self.replace_state(restored);
        Ok(())
    }

    fn replace_state(&mut self, restored: State) {
        let noted = std::mem::take(&mut self.state.noted);
        let mut old = std::mem::replace(&mut self.state, restored);
        self.state.succeed(&mut old);
        self.state.noted = noted;
        self.state.noted.note_all();
    }

    /// The blobs of image data no image names any more (deleted images, a restore), for
    /// the blob store to drop.
    pub fn take_dropped_blobs(&mut self) -> Vec<u64> {
        self.state.take_dropped()
    }

    /// Notes every change from now on, for [`Model::take_writes`] (a persistent store
    /// follows the model this way).
    pub fn follow_changes(&mut self) {
        self.state.noted.follow();
    }

    /// What changed since the last call, as the records stand now, in the order they first
    /// changed (one [`Write::Replace`] after a restore). Empty unless changes are followed.
    pub fn take_writes(&mut self) -> Vec<Write> {
        let keys = self.state.noted.take();
        if keys.contains(&changes::Change::All) {
            return vec![Write::Replace {
                records: self.records(),
            }];
        }
        keys.into_iter()
            .filter_map(|key| match key {
                changes::Change::Record(collection, key) => {
                    let d = collections::declared(collection)?;
                    let value = (d.get)(&self.state, &key);
                    Some(Write::Put {
                        collection,
                        key,
                        value,
                    })
                }
                changes::Change::All => None,
            })
            .collect()
    }

    /// Every record of every collection as (collection, key, JSON text), parents first.
    pub fn records(&self) -> Vec<(&'static str, String, String)> {
        let mut all = Vec::new();
        for d in collections::COLLECTIONS {
            all.extend(
                (d.texts)(&self.state)
                    .into_iter()
                    .map(|(k, v)| (d.name, k, v)),
            );
        }
        all
    }

    /// The collections a store keeps: (name, the collection its records are filed under).
    pub fn collections() -> impl Iterator<Item = (&'static str, Option<&'static str>)> {
        collections::COLLECTIONS.iter().map(|d| (d.name, d.parent))
    }

    /// The images and memberships (the mock's mutants read and bend them).
    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// The images and memberships, to change by hand.
    pub(crate) fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The rules in force, to change (the mock's mutants shift a quota for one call).
    pub(crate) fn rules_mut(&mut self) -> &mut Rules {
        &mut self.rules
    }

    /// A token issued at run time, if `token` is one and has neither expired nor been
    /// revoked.
    pub fn issued_token(&self, token: &str) -> Option<&IssuedToken> {
        self.state
            .issued(token)
            .filter(|t| !t.expired_at(std::time::SystemTime::now()))
    }

    /// What the operator's configuration decides.
    pub fn deployment(&self) -> &Deployment {
        &self.rules.deployment
    }

    /// How long issued tokens live.
    pub fn token_lifetime(&self) -> std::time::Duration {
        self.rules.token_lifetime
    }

    /// Revokes the issued token `token`; whether there was one.
    pub fn revoke_token(&mut self, token: &str) -> bool {
        self.state.revoke_token(token)
    }

    /// Resolves a token to an identity. Missing, empty or unknown tokens are refused (401).
    pub fn authenticate(&self, token: Option<&str>) -> Result<&Identity> {
        match token {
            None | Some("") => Err(ApiError::new(
                ErrorKind::Unauthorized,
                "This server could not verify that you are authorized to access the document you requested.",
            )),
            Some(t) => self
                .identities
                .get(t)
                .or_else(|| self.issued_token(t).map(|i| &i.identity))
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorKind::Unauthorized,
                        "The request you have made requires authentication.",
                    )
                }),
        }
    }

    /// Whether `who` can see `image` at all.
    pub(crate) fn can_see(&self, who: &Identity, image: &Image) -> bool {
        if who.is_admin() || image.owner == who.project_id {
            return true;
        }
        match image.visibility {
            Visibility::Public | Visibility::Community => true,
            Visibility::Private => false,
            Visibility::Shared => self
                .state
                .member_status(&image.id, &who.project_id)
                .is_some(),
        }
    }

    /// The image `image_id` as `who` may see it, or 404.
    fn visible_image(&self, who: &Identity, image_id: &str) -> Result<&Image> {
        match self.state.image(image_id) {
            Some(img) if self.can_see(who, img) => Ok(img),
            _ => Err(ApiError::not_found(format!(
                "No image found with ID {image_id}"
            ))),
        }
    }

    /// Members exist only on shared images (403 otherwise).
    fn require_shared(&self, image: &Image) -> Result<()> {
        if image.visibility == Visibility::Shared {
            Ok(())
        } else {
            Err(ApiError::forbidden("Only shared images have members."))
        }
    }

    /// Who may change `image`: the owning project with the `member` role, or an admin (a
    /// reader of the owning project sees what it owns but changes nothing).
    pub(crate) fn may_write(&self, who: &Identity, image: &Image) -> bool {
        who.can_write() && self.is_owner_or_admin(who, image)
    }

    /// The owner's policy: the owning project or an admin.
    pub(crate) fn is_owner_or_admin(&self, who: &Identity, image: &Image) -> bool {
        who.is_admin() || image.owner == who.project_id
    }

    /// The member row `member_id` of `image`, if `who` may see it: owners and admins see every
    /// row, a member only its own.
    fn visible_member(&self, who: &Identity, image: &Image, member_id: &str) -> Result<Member> {
        let sees_all = self.is_owner_or_admin(who, image);
        match self.state.member(&image.id, member_id) {
            Some(m) if sees_all || m.member_id == who.project_id => Ok(m),
            _ => Err(ApiError::not_found(format!(
                "{member_id} not found in the member list of the image {}.",
                image.id
            ))),
        }
    }

    // ----- images -----------------------------------------------------------------------

    /// `POST /v2/images`: creates an image from a JSON object body.
    pub fn create_image(&mut self, who: &Identity, body: &[u8]) -> Result<Image> {
        let req = image::CreateRequest::parse(body)?;
        if !who.can_write() {
            return Err(ApiError::forbidden(
                "You are not authorized to complete add_image action.",
            ));
        }
        if req.visibility == Visibility::Public && !who.is_admin() {
            return Err(ApiError::forbidden(
                "You are not authorized to complete publicize_image action.",
            ));
        }
        let owner = match &req.owner {
            Some(o) if o != &who.project_id && !who.is_admin() => {
                return Err(ApiError::forbidden(
                    "You are not permitted to create images owned by another project.",
                ));
            }
            Some(o) => o.clone(),
            None => who.project_id.clone(),
        };
        tags::check_tag_quota(req.tag_count(), self.rules.tag_quota)?;
        let id = match &req.id {
            Some(id) if self.state.image(id).is_some() => {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("An image with identifier {id} already exists"),
                ));
            }
            Some(id) => id.clone(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let image = req.into_image(id, owner, (self.clock)());
        self.state.insert_image(image.clone());
        Ok(image)
    }

    /// `GET /v2/images/{image_id}`.
    pub fn show_image(&self, who: &Identity, image_id: &str) -> Result<&Image> {
        self.visible_image(who, image_id)
    }

    /// `GET /v2/images`: one page of the images `who` sees, filtered (`visibility`,
    /// `member_status`, `tag`, `os_hidden`, `protected`, attributes and properties) and
    /// sorted (newest first unless `sort` or `sort_key`/`sort_dir` say otherwise; see
    /// `listing`); `limit` (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]) and `marker`
    /// (the last id of the previous page) choose the page.
    pub fn list_images<'a>(
        &'a self,
        who: &Identity,
        query: &[(String, String)],
    ) -> Result<Page<'a>> {
        let filter = listing::ListQuery::parse(query)?;
        let mut out: Vec<&Image> = self
            .state
            .images()
            .filter(|img| filter.admits(img) && self.listed(who, img, &filter))
            .collect();
        out.sort_by(|a, b| filter.order.cmp(a, b));
        let marker = match &filter.marker {
            None => None,
            // Like the reference: an unknown marker is a bad request, one the caller may not
            // see is forbidden.
            Some(id) => match self.state.image(id) {
                None => return Err(ApiError::bad_request(format!("marker {id} not found"))),
                Some(m) if !self.can_see(who, m) => {
                    return Err(ApiError::forbidden(format!(
                        "Forbidding request, image {id} not visible"
                    )));
                }
                Some(m) => Some(m),
            },
        };
        Page::of(out, &filter.order, filter.limit, marker)
    }

    /// Whether `who` gets `img` in a list asked with `f`'s visibility and member status.
    fn listed(&self, who: &Identity, img: &Image, f: &listing::ListQuery) -> bool {
        if f.visibility.is_some_and(|v| img.visibility != v) {
            return false;
        }
        if img.owner == who.project_id {
            return true;
        }
        match img.visibility {
            Visibility::Public => true,
            // Listed only when asked for, even for admins.
            Visibility::Community => f.visibility == Some(Visibility::Community),
            _ if who.is_admin() => true,
            Visibility::Private => false,
            Visibility::Shared => match self.state.member_status(&img.id, &who.project_id) {
                Some(status) => f.member_status.is_none_or(|s| s == status),
                None => false,
            },
        }
    }

    /// `DELETE /v2/images/{image_id}`: the owner or an admin deletes an image and its
    /// memberships.
    pub fn delete_image(&mut self, who: &Identity, image_id: &str, body: &[u8]) -> Result<()> {
        member::no_body(body)?;
        let image = self.visible_image(who, image_id)?;
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete delete_image action.",
            ));
        }
        if image.protected {
            return Err(ApiError::forbidden(format!(
                "Image {image_id} is protected and cannot be deleted."
            )));
        }
        let id = image.id.clone();
        self.state.remove_image(&id);
        Ok(())
    }

    // ----- members ----------------------------------------------------------------------

    /// `POST /v2/images/{image_id}/members` with body `{"member": "<project id>"}`.
    pub fn add_member(&mut self, who: &Identity, image_id: &str, body: &[u8]) -> Result<Member> {
        let member_id = member::parse_add_body(body)?;
        let image = self.visible_image(who, image_id)?;
        self.require_shared(image)?;
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete add_member action.",
            ));
        }
        let count = self.state.member_count(&image.id) as i64;
        let quota = self.rules.member_quota;
        if quota >= 0 && count + 1 > quota {
            return Err(ApiError::new(
                ErrorKind::OverLimit,
                format!(
                    "The number of members of image {image_id} would exceed the limit of {}.",
                    self.rules.member_quota
                ),
            ));
        }
        if self.state.member_status(&image.id, &member_id).is_some() {
            return Err(ApiError::already_member(&member_id, image_id));
        }
        let now = (self.clock)();
        let status = MemberStatus::Pending;
        let image_id = image.id.clone();
        let created_at = self
            .state
            .take_former(&image_id, &member_id)
            .unwrap_or_else(|| now.clone());
        let member = Member {
            image_id,
            member_id,
            status,
            created_at,
            updated_at: now,
        };
        self.state.insert_member(member.clone());
        Ok(member)
    }

    /// `GET /v2/images/{image_id}/members`: every row for owners and admins, the caller's own
    /// row for a member.
    pub fn list_members(&self, who: &Identity, image_id: &str) -> Result<Vec<Member>> {
        let image = self.visible_image(who, image_id)?;
        self.require_shared(image)?;
        if self.is_owner_or_admin(who, image) {
            return Ok(self.state.members(&image.id));
        }
        Ok(self
            .state
            .member(&image.id, &who.project_id)
            .into_iter()
            .collect())
    }

    /// `GET /v2/images/{image_id}/members/{member_id}`. A non-shared image answers 404 here.
    pub fn show_member(&self, who: &Identity, image_id: &str, member_id: &str) -> Result<Member> {
        let image = self.visible_image(who, image_id)?;
        self.require_shared(image)
            .map_err(|e| ApiError::not_found(e.message))?;
        self.visible_member(who, image, member_id)
    }

    /// `PUT /v2/images/{image_id}/members/{member_id}` with body `{"status": "..."}`: only the
    /// member itself (or an admin) sets the status; the value is checked after the policy.
    pub fn update_member(
        &mut self,
        who: &Identity,
        image_id: &str,
        member_id: &str,
        body: &[u8],
    ) -> Result<Member> {
        let raw_status = member::parse_update_body(body)?;
        let image = self.visible_image(who, image_id)?;
        self.require_shared(image)?;
        let row = self.visible_member(who, image, member_id)?;
        let is_self = row.member_id == who.project_id && who.can_write();
        if !(is_self || who.is_admin()) {
            return Err(ApiError::forbidden(
                "You are not permitted to modify 'status' on this image member.",
            ));
        }
        let status = member::parse_status(&raw_status)?;
        let (image_id, member_id) = (image.id.clone(), row.member_id);
        Ok(self
            .state
            .update_member(&image_id, &member_id, status, (self.clock)())
            .expect("row was just found"))
    }

    /// `DELETE /v2/images/{image_id}/members/{member_id}`: only the owner (or an admin)
    /// removes a membership; a request body is refused first.
    pub fn delete_member(
        &mut self,
        who: &Identity,
        image_id: &str,
        member_id: &str,
        body: &[u8],
    ) -> Result<()> {
        member::no_body(body)?;
        let image = self.visible_image(who, image_id)?;
        self.require_shared(image)?;
        let row = self.visible_member(who, image, member_id)?;
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete delete_member action.",
            ));
        }
        let (image_id, member_id) = (image.id.clone(), row.member_id);
        self.state.remove_member(&image_id, &member_id);
        Ok(())
    }
}

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod deployment_tests;
#[cfg(test)]
mod fetch_tests;
#[cfg(test)]
mod location_api_tests;
#[cfg(test)]
mod stores_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
