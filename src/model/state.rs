//! Where the model keeps images and memberships. In memory today; a persistent store
//! replaces this module alone.

use std::collections::HashMap;

use super::{Image, Member, MemberStatus};

/// Images by id, and the member rows of each image in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct State {
    images: HashMap<String, Image>,
    members: HashMap<String, Vec<Member>>,
    /// Creation times of removed memberships, by image then member: the reference revives the
    /// old row when a project is added again, so `created_at` is the first one.
    former: HashMap<String, HashMap<String, String>>,
    /// Count of image creations and changes, for `Image::created_seq` and `updated_seq`.
    changes: u64,
}

impl State {
    pub(crate) fn image(&self, id: &str) -> Option<&Image> {
        self.images.get(id)
    }

    pub(crate) fn image_mut(&mut self, id: &str) -> Option<&mut Image> {
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
        self.images.insert(image.id.clone(), image);
    }

    /// Marks image `id` as changed now (its place in the order of changes).
    pub(crate) fn touch(&mut self, id: &str) {
        self.changes += 1;
        if let Some(image) = self.images.get_mut(id) {
            image.updated_seq = self.changes;
        }
    }

    /// Puts back an image as a snapshot kept it, with its member rows and former members;
    /// later changes are ordered after it.
    pub(crate) fn restore_image(
        &mut self,
        image: Image,
        members: Vec<Member>,
        former: HashMap<String, String>,
    ) {
        self.changes = self.changes.max(image.created_seq).max(image.updated_seq);
        if !members.is_empty() {
            self.members.insert(image.id.clone(), members);
        }
        if !former.is_empty() {
            self.former.insert(image.id.clone(), former);
        }
        self.images.insert(image.id.clone(), image);
    }

    /// The projects removed from image `id`'s members, with when each first became one.
    pub(crate) fn former_of(&self, id: &str) -> Option<&HashMap<String, String>> {
        self.former.get(id)
    }

    /// Removes an image and every membership it had.
    pub(crate) fn remove_image(&mut self, id: &str) {
        self.images.remove(id);
        self.members.remove(id);
        self.former.remove(id);
    }

    pub(crate) fn members(&self, image_id: &str) -> &[Member] {
        self.members.get(image_id).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn member(&self, image_id: &str, member_id: &str) -> Option<&Member> {
        self.members(image_id)
            .iter()
            .find(|m| m.member_id == member_id)
    }

    /// When `member_id` first became a member of `image_id`, if it was removed since.
    pub(crate) fn take_former(&mut self, image_id: &str, member_id: &str) -> Option<String> {
        self.former.get_mut(image_id)?.remove(member_id)
    }

    pub(crate) fn insert_member(&mut self, member: Member) {
        self.members
            .entry(member.image_id.clone())
            .or_default()
            .push(member);
    }

    pub(crate) fn update_member(
        &mut self,
        image_id: &str,
        member_id: &str,
        status: MemberStatus,
        now: String,
    ) -> Option<Member> {
        let row = self
            .members
            .get_mut(image_id)?
            .iter_mut()
            .find(|m| m.member_id == member_id)?;
        row.status = status;
        row.updated_at = now;
        Some(row.clone())
    }

    pub(crate) fn remove_member(&mut self, image_id: &str, member_id: &str) {
        if let Some(rows) = self.members.get_mut(image_id)
            && let Some(i) = rows.iter().position(|m| m.member_id == member_id)
        {
            let row = rows.remove(i);
            self.former
                .entry(image_id.to_string())
                .or_default()
                .insert(row.member_id, row.created_at);
        }
    }
}
