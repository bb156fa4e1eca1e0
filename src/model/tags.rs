//! Image tags: `PUT` and `DELETE /v2/images/{image_id}/tags/{tag}`, and the tag rules that
//! creating an image shares (length, quota).
//!
//! The reference's order: a tag longer than [`MAX_TAG_CHARS`] (400) → a request body (400)
//! → image visible (404) → owner or admin (403) → the change (a tag already there is no
//! change; past the quota, 413; removing a tag the image lacks, 404).

use super::member::no_body;
use super::{ApiError, ErrorKind, Identity, Model, Result, now};

/// Longest tag, in characters (the image schema's `maxLength`).
pub const MAX_TAG_CHARS: usize = 255;

/// A tag longer than [`MAX_TAG_CHARS`] is refused (400).
pub(crate) fn check_tag(tag: &str) -> Result<()> {
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(ApiError::bad_request(format!(
            "Provided object does not match schema 'image': '{tag}' is too long"
        )));
    }
    Ok(())
}

/// More than `quota` tags (duplicates counted, as the reference counts them) is 413; a
/// negative quota is unlimited.
pub(crate) fn check_tag_quota(count: usize, quota: i64) -> Result<()> {
    if quota >= 0 && count as i64 > quota {
        return Err(ApiError::new(
            ErrorKind::OverLimit,
            format!(
                "The limit has been exceeded on the number of allowed image tags. \
                 Attempted: {count}, Maximum: {quota}"
            ),
        ));
    }
    Ok(())
}

impl Model {
    /// The image `image_id` if `who` may change it: visible (else 404), and owned by `who`'s
    /// project or `who` an admin (else 403).
    fn modifiable(&self, who: &Identity, image_id: &str) -> Result<String> {
        let image = self.visible_image(who, image_id)?;
        if !self.may_write(who, image) {
            return Err(ApiError::forbidden(
                "You are not authorized to complete modify_image action.",
            ));
        }
        Ok(image.id.clone())
    }

    /// `PUT /v2/images/{image_id}/tags/{tag}`: adds `tag` (once: a second add changes
    /// nothing).
    pub fn add_tag(
        &mut self,
        who: &Identity,
        image_id: &str,
        tag: &str,
        body: &[u8],
    ) -> Result<()> {
        check_tag(tag)?;
        no_body(body)?;
        let id = self.modifiable(who, image_id)?;
        let quota = self.rules.tag_quota;
        let image = self.state.image_mut(&id).expect("just found");
        if image.tags.iter().any(|t| t == tag) {
            return Ok(());
        }
        check_tag_quota(image.tags.len() + 1, quota)?;
        image.tags.push(tag.to_string());
        image.updated_at = now();
        self.state.touch(&id);
        Ok(())
    }

    /// `DELETE /v2/images/{image_id}/tags/{tag}`: removes `tag`; 404 when the image lacks it.
    pub fn delete_tag(
        &mut self,
        who: &Identity,
        image_id: &str,
        tag: &str,
        body: &[u8],
    ) -> Result<()> {
        no_body(body)?;
        let id = self.modifiable(who, image_id)?;
        let image = self.state.image_mut(&id).expect("just found");
        match image.tags.iter().position(|t| t == tag) {
            Some(at) => {
                image.tags.remove(at);
            }
            None => return Err(ApiError::not_found("The resource could not be found.")),
        }
        image.updated_at = now();
        self.state.touch(&id);
        Ok(())
    }
}
