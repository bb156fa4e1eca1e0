//! The image cache's copies, by image id (not filed under images: a copy outlives its image).

use super::{Collection, SnapshotError, refuse};
use crate::model::cache::CachedImage;
use crate::model::state::State;

pub(crate) struct CachedImages;

impl Collection for CachedImages {
    const NAME: &'static str = crate::model::changes::CACHED_IMAGES;
    type Record = CachedImage;

    fn get(state: &State, key: &str) -> Option<CachedImage> {
        state.cached_image(key).cloned()
    }

    fn all(state: &State) -> Vec<(String, CachedImage)> {
        state
            .cached()
            .map(|c| (c.image_id.clone(), c.clone()))
            .collect()
    }

    fn load(
        state: &mut State,
        records: Vec<CachedImage>,
        at: &dyn Fn(usize) -> String,
    ) -> Result<(), SnapshotError> {
        for (i, mut copy) in records.into_iter().enumerate() {
            if state.cached_image(&copy.image_id).is_some() {
                return Err(refuse(
                    at(i),
                    format!("image id `{}` is cached twice", copy.image_id),
                ));
            }
            if copy.seq == 0 {
                copy.seq = i as u64 + 1;
            }
            state.restore_cached(copy);
        }
        Ok(())
    }
}
