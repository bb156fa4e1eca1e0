//! The model behind its lock, the store that follows it when there is one, and the blobs of
//! image data: a write guard hands the model's changes to the store as it is released,
//! still under the lock, and drops the blobs no image names any more.

use std::ops::{Deref, DerefMut};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::blobs::Blobs;
use super::store::Store;
use crate::error::StoreError;
use crate::model::Model;

/// The mock's model, and its store under `--state`.
pub(crate) struct Shared {
    lock: RwLock<Model>,
    store: Option<Store>,
    blobs: Blobs,
}

impl Shared {
    /// `model` in memory only.
    pub(crate) fn new(model: Model) -> Shared {
        Shared {
            lock: RwLock::new(model),
            store: None,
            blobs: Blobs::memory(),
        }
    }

    /// `model`, followed by `store` from now on, its image data in `blobs`.
    pub(crate) fn stored(mut model: Model, store: Store, blobs: Blobs) -> Shared {
        model.follow_changes();
        Shared {
            lock: RwLock::new(model),
            store: Some(store),
            blobs,
        }
    }

    /// Where image data is kept.
    pub(crate) fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// The model (a server being set up gives it to a store).
    pub(crate) fn into_model(self) -> Model {
        self.lock
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The model to read (a panic elsewhere does not lock everyone out).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Model> {
        self.lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The model to change; its changes go to the store when the guard is dropped.
    pub(crate) fn write(&self) -> Writing<'_> {
        Writing {
            guard: self.lock.write().unwrap_or_else(PoisonError::into_inner),
            store: self.store.as_ref(),
            blobs: &self.blobs,
        }
    }

    /// Commits what is queued and closes the store, if there is one.
    pub(crate) fn close(&self) {
        if let Some(store) = &self.store {
            store.close();
        }
    }

    /// Waits until every change made so far is on disk (at once without a store).
    pub(crate) async fn settled(&self) -> Result<(), StoreError> {
        self.settled_for(None).await
    }

    /// Waits until what an answer may show is on disk: every change made so far, or with
    /// `scope`, those to the records filed under that key (a read that looked at no others).
    pub(crate) async fn settled_for(&self, scope: Option<&str>) -> Result<(), StoreError> {
        match &self.store {
            Some(store) => store.settled(scope).await,
            None => Ok(()),
        }
    }
}

/// The write lock on the model.
pub(crate) struct Writing<'a> {
    guard: RwLockWriteGuard<'a, Model>,
    store: Option<&'a Store>,
    blobs: &'a Blobs,
}

impl Deref for Writing<'_> {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.guard
    }
}

impl DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut Model {
        &mut self.guard
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store {
            store.submit(self.guard.take_writes());
        }
        for key in self.guard.take_dropped_blobs() {
            self.blobs.remove(key);
        }
    }
}
