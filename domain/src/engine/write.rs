//! The one write path: every change the engine makes goes through a [`Write`], which holds
//! the store's transaction, collects the cache `Change`s the change publishes (and, from the
//! audit log on, the events it records), and commits them together.

use std::ops::{Deref, DerefMut};

use super::cache::Change;
use super::Engine;
use crate::store::Tx;
use crate::Result;

/// A change in the making. Dropped without `commit`, nothing of it happened.
pub(crate) struct Write<'e> {
    engine: &'e Engine,
    tx: Box<dyn Tx>,
    changes: Vec<Change>,
}

impl Engine {
    /// Starts a change: a transaction of the store, and what it will publish.
    pub(crate) async fn write(&self) -> Result<Write<'_>> {
        Ok(Write { engine: self, tx: self.store.begin().await?, changes: Vec::new() })
    }
}

impl Write<'_> {
    /// Tells every node's caches, once the change commits, that `change` makes them wrong.
    pub fn changed(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Commits the transaction with a message telling the other nodes of each change (in the
    /// same transaction: PostgreSQL `NOTIFY`), then applies them to this node's caches.
    pub async fn commit(mut self) -> Result<()> {
        for change in &self.changes {
            self.tx.publish(&change.encode()).await?;
        }
        self.tx.commit().await?;
        for change in self.changes {
            self.engine.caches.apply(change);
        }
        Ok(())
    }
}

impl Deref for Write<'_> {
    type Target = dyn Tx;

    fn deref(&self) -> &Self::Target {
        &*self.tx
    }
}

impl DerefMut for Write<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut *self.tx
    }
}
