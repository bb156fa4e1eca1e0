//! Where the model keeps images and memberships, in memory. A persistent store follows it
//! through the changes it notes (`changes.rs`), never by reading it behind the model's back.
//!
//! Member rows are kept compact (1,000,000 of them fit in well under 400 MB): by image, then
//! by project id, with the time stamps shared between rows that carry the same one. Each row
//! has its place in the order the image's members were added, so a list comes out in that
//! order while a lookup, add or removal costs the same on an image with a hundred members or
//! two hundred thousand.

use std::collections::HashMap;
use std::sync::Arc;

use super::changes::{
    CACHED_IMAGES, Changes, FORMER_MEMBERS, IMAGES, MEMBERS, NAMESPACES, RESOURCE_TYPES, TASKS,
    TOKENS, filed,
};
use super::identity::IssuedToken;
use super::{Image, Member, MemberStatus};

/// One member row, without the ids it is filed under.
#[derive(Debug, Clone)]
struct Row {
    /// Its place in the order the image's members were added.
    order: u64,
    status: MemberStatus,
    created_at: Arc<str>,
    updated_at: Arc<str>,
}

/// The members of one image.
#[derive(Debug, Default)]
struct Rows {
    by_project: HashMap<Box<str>, Row>,
    /// The `order` the next row gets.
    next: u64,
}

/// Images by id, and the member rows of each image.
#[derive(Debug, Default)]
pub(crate) struct State {
    images: HashMap<String, Image>,
    members: HashMap<String, Rows>,
    /// Creation times of removed memberships, by image then member: the reference revives the
    /// old row when a project is added again, so `created_at` is the first one.
    former: HashMap<String, HashMap<Box<str>, Arc<str>>>,
    /// Count of image creations and changes, for `Image::created_seq` and `updated_seq`.
    changes: u64,
    /// The last time stamp stored, shared by the rows that carry it.
    stamp: Option<Arc<str>>,
    /// What changed since a persistent store last asked (kept only when one follows).
    pub(super) noted: Changes,
    /// The key the next blob of image data gets.
    next_blob: u64,
    /// Blobs no image names any more, for the blob store to drop.
    dropped: Vec<u64>,
    /// Tasks by id.
    tasks: HashMap<String, super::tasks::Task>,
    /// The last place in the order of tasks given out.
    task_seq: u64,
    /// Tokens issued at run time (by the mock's Keystone), besides the static ones.
    issued: HashMap<String, IssuedToken>,
    /// Issued tokens, oldest first: past `MAX_ISSUED_TOKENS` the oldest stops working.
    issued_order: std::collections::VecDeque<String>,
    /// Metadata definition namespaces, oldest first.
    namespaces: Vec<super::metadefs::Namespace>,
    /// Resource types namespaces were ever associated with, oldest first.
    resource_types: Vec<super::metadefs::ResourceType>,
    /// The image cache's copies, oldest first.
    cached: Vec<super::cache::CachedImage>,
    /// The last place in the order of cached copies given out.
    cache_seq: u64,
}

impl State {
    pub(crate) fn image(&self, id: &str) -> Option<&Image> {
        self.images.get(id)
    }

    /// The stored image, to change in place (noted as changed).
    pub(crate) fn image_mut(&mut self, id: &str) -> Option<&mut Image> {
        self.noted.note(IMAGES, || id.to_string());
        self.images.get_mut(id)
    }

    pub(crate) fn images(&self) -> impl Iterator<Item = &Image> {
        self.images.values()
    }

    /// Stores `image`: a new one gets its place in the creation order, a stored one keeps it.
    pub(crate) fn insert_image(&mut self, mut image: Image) {
        self.changes += 1;
        match self.images.get(&image.id) {
            Some(old) => {
                (image.created_seq, image.updated_seq) = (old.created_seq, old.updated_seq)
            }
            None => (image.created_seq, image.updated_seq) = (self.changes, self.changes),
        }
        self.noted.note(IMAGES, || image.id.clone());
        self.images.insert(image.id.clone(), image);
    }

    pub(crate) fn namespaces(&self) -> &[super::metadefs::Namespace] {
        &self.namespaces
    }

    /// The stored namespace, to change in place (noted as changed).
    pub(crate) fn namespace_mut(&mut self, name: &str) -> Option<&mut super::metadefs::Namespace> {
        self.noted.note(NAMESPACES, || name.to_string());
        self.namespaces.iter_mut().find(|n| n.name == name)
    }

    /// Stores a new namespace, numbered after the last one.
    pub(crate) fn insert_namespace(
        &mut self,
        mut ns: super::metadefs::Namespace,
    ) -> &super::metadefs::Namespace {
        ns.seq = self.namespaces.last().map_or(1, |n| n.seq + 1);
        self.noted.note(NAMESPACES, || ns.name.clone());
        self.namespaces.push(ns);
        &self.namespaces[self.namespaces.len() - 1]
    }

    pub(crate) fn resource_types(&self) -> &[super::metadefs::ResourceType] {
        &self.resource_types
    }

    /// Records the resource type `name`, first seen `now`, unless it is known.
    pub(crate) fn note_resource_type(&mut self, name: &str, now: &str) {
        if !self.resource_types.iter().any(|r| r.name == name) {
            self.noted.note(RESOURCE_TYPES, || name.to_string());
            self.resource_types.push(super::metadefs::ResourceType {
                name: name.to_string(),
                created_at: now.to_string(),
                updated_at: now.to_string(),
            });
        }
    }

    pub(crate) fn remove_namespace(&mut self, name: &str) {
        self.noted.note(NAMESPACES, || name.to_string());
        self.namespaces.retain(|n| n.name != name);
    }

    /// Puts back a namespace as it was kept (its place in the order with it).
    pub(crate) fn restore_namespace(&mut self, ns: super::metadefs::Namespace) {
        self.namespaces.push(ns);
    }

    /// Puts back a resource type as it was kept.
    pub(crate) fn restore_resource_type(&mut self, r: super::metadefs::ResourceType) {
        self.resource_types.push(r);
    }

    pub(crate) fn namespace(&self, name: &str) -> Option<&super::metadefs::Namespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }

    /// Stores a task, placed after every task stored before.
    pub(crate) fn insert_task(&mut self, mut task: super::tasks::Task) {
        self.task_seq += 1;
        task.seq = self.task_seq;
        self.noted.note(TASKS, || task.id.clone());
        self.tasks.insert(task.id.clone(), task);
    }

    /// Stores a changed task in its place in the order of tasks.
    pub(crate) fn update_task(&mut self, mut task: super::tasks::Task) {
        if let Some(old) = self.tasks.get(&task.id) {
            task.seq = old.seq;
            self.noted.note(TASKS, || task.id.clone());
            self.tasks.insert(task.id.clone(), task);
        }
    }

    /// Puts back a task as it was kept (its place in the order with it).
    pub(crate) fn restore_task(&mut self, task: super::tasks::Task) {
        self.task_seq = self.task_seq.max(task.seq);
        self.tasks.insert(task.id.clone(), task);
    }

    /// Makes `token` stand for `issued` from now on; past `max` tokens the oldest goes.
    pub(crate) fn register_token(&mut self, token: String, issued: IssuedToken) {
        if self.issued.len() >= super::MAX_ISSUED_TOKENS
            && let Some(oldest) = self.issued_order.pop_front()
        {
            self.issued.remove(&oldest);
            self.noted.note(TOKENS, || oldest);
        }
        self.noted.note(TOKENS, || token.clone());
        self.issued_order.push_back(token.clone());
        self.issued.insert(token, issued);
    }

    /// The issued token `token`, expired or not.
    pub(crate) fn issued(&self, token: &str) -> Option<&IssuedToken> {
        self.issued.get(token)
    }

    /// The issued tokens, oldest first.
    pub(crate) fn issued_in_order(&self) -> impl Iterator<Item = (&str, &IssuedToken)> {
        let order = self.issued_order.iter();
        order.filter_map(|t| self.issued.get(t).map(|i| (t.as_str(), i)))
    }

    /// Forgets the issued token `token`; whether there was one.
    pub(crate) fn revoke_token(&mut self, token: &str) -> bool {
        self.noted.note(TOKENS, || token.to_string());
        self.issued.remove(token).is_some()
    }

    pub(crate) fn task(&self, id: &str) -> Option<&super::tasks::Task> {
        self.tasks.get(id)
    }

    pub(crate) fn tasks(&self) -> impl Iterator<Item = &super::tasks::Task> {
        self.tasks.values()
    }

    /// A blob key no image has had.
    pub(crate) fn new_blob(&mut self) -> u64 {
        self.next_blob += 1;
        self.next_blob
    }

    /// The blob keys images name.
    pub(crate) fn blobs(&self) -> impl Iterator<Item = u64> + '_ {
        self.images
            .values()
            .filter_map(|i| i.data.as_ref().map(|d| d.blob))
    }

    /// Takes over `old`'s blob keys: none is given out twice, and those no image here names
    /// are dropped.
    pub(crate) fn succeed(&mut self, old: &mut State) {
        let kept: std::collections::HashSet<u64> = self.blobs().collect();
        self.dropped = std::mem::take(&mut old.dropped);
        self.dropped
            .extend(old.blobs().filter(|b| !kept.contains(b)));
        self.next_blob = self.next_blob.max(old.next_blob);
    }

    /// The blobs dropped since the last call.
    pub(crate) fn take_dropped(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.dropped)
    }

    /// Marks image `id` as changed now (its place in the order of changes).
    pub(crate) fn touch(&mut self, id: &str) {
        self.changes += 1;
        if let Some(image) = self.images.get_mut(id) {
            image.updated_seq = self.changes;
            self.noted.note(IMAGES, || id.to_string());
        }
    }

    /// Puts back an image as it was kept; later changes are ordered after it.
    pub(crate) fn restore_image(&mut self, image: Image) {
        self.changes = self.changes.max(image.created_seq).max(image.updated_seq);
        if let Some(d) = &image.data {
            self.next_blob = self.next_blob.max(d.blob);
        }
        self.images.insert(image.id.clone(), image);
    }

    /// Puts back the member rows of image `image_id`, each with its place in the order
    /// they were added.
    pub(crate) fn restore_members(&mut self, image_id: &str, members: Vec<(u64, Member)>) {
        let rows = self.members.entry(image_id.to_string()).or_default();
        rows.by_project.reserve(members.len());
        let mut stamp = self.stamp.take();
        for (order, m) in members {
            rows.next = rows.next.max(order + 1);
            let row = Row {
                order,
                status: m.status,
                created_at: share(&mut stamp, m.created_at),
                updated_at: share(&mut stamp, m.updated_at),
            };
            rows.by_project.insert(m.member_id.into_boxed_str(), row);
        }
        self.stamp = stamp;
    }

    /// Puts back a membership removed from `image_id`, with when it first began.
    pub(crate) fn restore_former(&mut self, image_id: &str, member_id: String, created_at: String) {
        let at = self.shared(created_at);
        let former = self.former.entry(image_id.to_string()).or_default();
        former.insert(member_id.into_boxed_str(), at);
    }

    /// Notes the member row of `member_id` on `image_id` as changed.
    fn note_member(&mut self, image_id: &str, member_id: &str) {
        self.noted.note(MEMBERS, || filed(image_id, member_id));
    }

    /// Notes the former-member entry of `member_id` on `image_id` as changed.
    fn note_former(&mut self, image_id: &str, member_id: &str) {
        self.noted
            .note(FORMER_MEMBERS, || filed(image_id, member_id));
    }

    /// `stamp` as a shared string: the same allocation as the last one when they are equal.
    fn shared(&mut self, stamp: String) -> Arc<str> {
        share(&mut self.stamp, stamp)
    }

    /// The projects removed from image `id`'s members, with when each first became one.
    pub(crate) fn former_of(&self, id: &str) -> HashMap<String, String> {
        self.former.get(id).map_or_else(HashMap::new, |f| {
            f.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
    }

    /// When `member_id`, removed from `image_id`, first became a member, if it was.
    pub(crate) fn former_member(&self, image_id: &str, member_id: &str) -> Option<String> {
        Some(self.former.get(image_id)?.get(member_id)?.to_string())
    }

    /// Removes an image and every membership it had.
    pub(crate) fn remove_image(&mut self, id: &str) {
        self.noted.note(IMAGES, || id.to_string());
        if let Some(d) = self.images.remove(id).and_then(|i| i.data) {
            self.dropped.push(d.blob);
        }
        self.members.remove(id);
        self.former.remove(id);
    }

    /// How many members image `image_id` has.
    pub(crate) fn member_count(&self, image_id: &str) -> usize {
        self.members.get(image_id).map_or(0, |r| r.by_project.len())
    }

    /// The member rows of `image_id`, in the order they were added.
    pub(crate) fn members(&self, image_id: &str) -> Vec<Member> {
        self.ordered(image_id).into_iter().map(|(_, m)| m).collect()
    }

    /// The member rows of `image_id` with their places in the order they were added.
    pub(crate) fn ordered(&self, image_id: &str) -> Vec<(u64, Member)> {
        let Some(rows) = self.members.get(image_id) else {
            return Vec::new();
        };
        let mut all: Vec<(u64, Member)> = rows
            .by_project
            .iter()
            .map(|(id, row)| (row.order, member(image_id, id, row)))
            .collect();
        all.sort_unstable_by_key(|(order, _)| *order);
        all
    }

    /// The member row with its place in the order of adds.
    pub(crate) fn ordered_member(&self, image_id: &str, member_id: &str) -> Option<(u64, Member)> {
        let row = self.members.get(image_id)?.by_project.get(member_id)?;
        Some((row.order, member(image_id, member_id, row)))
    }

    pub(crate) fn member(&self, image_id: &str, member_id: &str) -> Option<Member> {
        let row = self.members.get(image_id)?.by_project.get(member_id)?;
        Some(member(image_id, member_id, row))
    }

    /// Whether `member_id` is a member of `image_id`, and in which status.
    pub(crate) fn member_status(&self, image_id: &str, member_id: &str) -> Option<MemberStatus> {
        Some(
            self.members
                .get(image_id)?
                .by_project
                .get(member_id)?
                .status,
        )
    }

    /// When `member_id` first became a member of `image_id`, if it was removed since.
    pub(crate) fn take_former(&mut self, image_id: &str, member_id: &str) -> Option<String> {
        let taken = self.former.get_mut(image_id)?.remove(member_id)?;
        self.note_former(image_id, member_id);
        Some(taken.to_string())
    }

    pub(crate) fn insert_member(&mut self, member: Member) {
        self.note_member(&member.image_id, &member.member_id);
        let created_at = self.shared(member.created_at);
        let updated_at = self.shared(member.updated_at);
        let rows = self.members.entry(member.image_id).or_default();
        let row = Row {
            order: rows.next,
            status: member.status,
            created_at,
            updated_at,
        };
        rows.next += 1;
        rows.by_project
            .insert(member.member_id.into_boxed_str(), row);
    }

    pub(crate) fn update_member(
        &mut self,
        image_id: &str,
        member_id: &str,
        status: MemberStatus,
        now: String,
    ) -> Option<Member> {
        let now = self.shared(now);
        let row = self
            .members
            .get_mut(image_id)?
            .by_project
            .get_mut(member_id)?;
        row.status = status;
        row.updated_at = now;
        let changed = member(image_id, member_id, row);
        self.note_member(image_id, member_id);
        Some(changed)
    }

    pub(crate) fn remove_member(&mut self, image_id: &str, member_id: &str) {
        if let Some(rows) = self.members.get_mut(image_id)
            && let Some((id, row)) = rows.by_project.remove_entry(member_id)
        {
            if rows.by_project.is_empty() {
                rows.by_project.shrink_to_fit();
            }
            self.former
                .entry(image_id.to_string())
                .or_default()
                .insert(id, row.created_at);
            self.note_member(image_id, member_id);
            self.note_former(image_id, member_id);
        }
    }
}

/// `stamp` as a shared string: `last` itself when they are equal, else `last` becomes it.
fn share(last: &mut Option<Arc<str>>, stamp: String) -> Arc<str> {
    match last {
        Some(l) if **l == *stamp => l.clone(),
        _ => {
            let s: Arc<str> = stamp.into();
            *last = Some(s.clone());
            s
        }
    }
}

fn member(image_id: &str, member_id: &str, row: &Row) -> Member {
    Member {
        member_id: member_id.to_string(),
        image_id: image_id.to_string(),
        status: row.status,
        created_at: row.created_at.to_string(),
        updated_at: row.updated_at.to_string(),
    }
}

/// The image cache's copies (collection `cached_images`, keyed by image id).
impl State {
    /// The copies, oldest first.
    pub(crate) fn cached(&self) -> impl Iterator<Item = &super::cache::CachedImage> {
        self.cached.iter()
    }

    /// The copy of image `id`, if cached.
    pub(crate) fn cached_image(&self, id: &str) -> Option<&super::cache::CachedImage> {
        self.cached.iter().find(|c| c.image_id == id)
    }

    /// Keeps a new copy, placed after every other.
    pub(crate) fn insert_cached(&mut self, mut copy: super::cache::CachedImage) {
        self.cache_seq += 1;
        copy.seq = self.cache_seq;
        self.noted.note(CACHED_IMAGES, || copy.image_id.clone());
        self.cached.push(copy);
    }

    /// Puts back a copy as it was kept (its place in the order with it).
    pub(crate) fn restore_cached(&mut self, copy: super::cache::CachedImage) {
        self.cache_seq = self.cache_seq.max(copy.seq);
        let at = self.cached.partition_point(|c| c.seq < copy.seq);
        self.cached.insert(at, copy);
    }

    /// Drops the copy of image `id`, if any.
    pub(crate) fn remove_cached(&mut self, id: &str) {
        if let Some(at) = self.cached.iter().position(|c| c.image_id == id) {
            self.cached.remove(at);
            self.noted.note(CACHED_IMAGES, || id.to_string());
        }
    }

    /// Drops every copy.
    pub(crate) fn clear_cached(&mut self) {
        for copy in std::mem::take(&mut self.cached) {
            self.noted.note(CACHED_IMAGES, || copy.image_id);
        }
    }
}
