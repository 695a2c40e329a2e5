//! The one write path: every change the engine makes goes through a [`Write`], which holds
//! the store's transaction, collects the cache `Change`s the change publishes and the audit
//! events it records, and commits them together: no event without its change, no change
//! without its event.

use std::ops::{Deref, DerefMut};

use uuid::Uuid;

use super::cache::Change;
use super::{now, Engine};
use crate::audit::{AuditEvent, Event};
use crate::model::Mail;
use crate::store::Tx;
use crate::Result;

/// A change in the making. Dropped without `commit`, nothing of it happened.
pub(crate) struct Write<'e> {
    engine: &'e Engine,
    tx: Box<dyn Tx>,
    changes: Vec<Change>,
    events: Vec<AuditEvent>,
    mails: Vec<Mail>,
}

impl Engine {
    /// Starts a change: a transaction of the store, and what it will publish.
    pub(crate) async fn write(&self) -> Result<Write<'_>> {
        Ok(Write {
            engine: self,
            tx: self.store.begin().await?,
            changes: Vec::new(),
            events: Vec::new(),
            mails: Vec::new(),
        })
    }
}

impl Write<'_> {
    /// Tells every node's caches, once the change commits, that `change` makes them wrong.
    pub fn changed(&mut self, change: Change) {
        self.changes.push(change);
    }

    pub(crate) fn engine(&self) -> &Engine {
        self.engine
    }

    /// Queues a message, inserted with this change (see `mail.rs`).
    pub(crate) fn queue_mail(&mut self, mail: Mail) {
        self.mails.push(mail);
    }

    /// Records `event` in app `app_id`'s audit log, in this transaction.
    pub fn record(&mut self, app_id: Uuid, event: Event) {
        self.events.push(AuditEvent::record(app_id, now(), event));
    }

    /// Commits the transaction with its audit events and a message telling the other nodes
    /// of each change (in the same transaction: PostgreSQL `NOTIFY`), then applies them to
    /// this node's caches and wakes the audit sequencer.
    pub async fn commit(mut self) -> Result<()> {
        let recorded = !self.events.is_empty();
        let mut events = Vec::with_capacity(self.events.len());
        for event in std::mem::take(&mut self.events) {
            let sealed = self.engine.audit.seal(event);
            self.tx.insert_audit_event(&sealed).await?;
            events.push(sealed);
        }
        // Each event goes to the app's endpoints that want it, queued with the change.
        let mut hooked = false;
        let mut apps: Vec<Uuid> = events.iter().map(|e| e.app_id).collect();
        apps.sort_unstable();
        apps.dedup();
        for app_id in apps {
            let endpoints = self.engine.webhook_targets(app_id).await?;
            if endpoints.is_empty() {
                continue;
            }
            for delivery in super::webhooks::deliveries_for(&endpoints, &events, now()) {
                self.tx.insert_webhook_delivery(&delivery).await?;
                hooked = true;
            }
        }
        let mailed = !self.mails.is_empty();
        for mail in std::mem::take(&mut self.mails) {
            self.tx.insert_mail(&mail).await?;
        }
        for change in &self.changes {
            self.tx.publish(&change.encode()).await?;
        }
        self.tx.commit().await?;
        if mailed {
            self.engine.mail_queued();
        }
        for change in self.changes {
            self.engine.caches.apply(change);
        }
        if recorded {
            self.engine.audit.wake();
        }
        if hooked {
            self.engine.wake_webhooks();
        }
        events.iter().for_each(crate::telemetry::event_committed);
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
