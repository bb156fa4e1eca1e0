//! The model behind its lock, and the store that follows it when there is one: a write
//! guard hands the model's changes to the store as it is released, still under the lock.

use std::ops::{Deref, DerefMut};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::store::Store;
use crate::model::Model;

/// The mock's model, and its store under `--state`.
pub(crate) struct Shared {
    lock: RwLock<Model>,
    store: Option<Store>,
}

impl Shared {
    /// `model` in memory only.
    pub(crate) fn new(model: Model) -> Shared {
        Shared {
            lock: RwLock::new(model),
            store: None,
        }
    }

    /// `model`, followed by `store` from now on.
    pub(crate) fn stored(mut model: Model, store: Store) -> Shared {
        model.follow_changes();
        Shared {
            lock: RwLock::new(model),
            store: Some(store),
        }
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
        }
    }

    /// Commits what is queued and closes the store, if there is one.
    pub(crate) fn close(&self) {
        if let Some(store) = &self.store {
            store.close();
        }
    }

    /// Waits until every change made so far is on disk (at once without a store).
    pub(crate) async fn settled(&self) -> Result<(), String> {
        match &self.store {
            Some(store) => store.settled().await,
            None => Ok(()),
        }
    }
}

/// The write lock on the model.
pub(crate) struct Writing<'a> {
    guard: RwLockWriteGuard<'a, Model>,
    store: Option<&'a Store>,
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
    }
}
