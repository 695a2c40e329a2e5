//! Admission of argon2 work: a bounded, per-app-fair scheduler.
//!
//! At most `running` computations at a time (one per core). The others wait in one queue
//! per app, and a freed slot goes to the apps in turn (round-robin), so a storm of
//! sign-ins to one app delays another app's sign-in by at most one computation per
//! waiting app, not by the whole storm. Waiting is bounded: past `waiting` requests in
//! all, or `per_app` for one app, a request fails at once with [`busy`] (a 503 with
//! `Retry-After`) instead of queueing without end.
//!
//! A waiter whose future is dropped (the client went away) leaves its queue; if a slot
//! had already been handed to it, the slot passes on to the next waiter.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::Error;

/// The answer when a bound is reached.
pub fn busy() -> Error {
    Error::Unavailable { message: "Too many sign-ins at once, please try again shortly", retry_after_seconds: 1 }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Computations at a time.
    pub running: usize,
    /// Requests waiting, all apps together.
    pub waiting: usize,
    /// Requests waiting for one app.
    pub per_app: usize,
}

impl Limits {
    /// One computation per core; 16 waiting per core, at most half of them for one app.
    pub fn for_cores(cores: usize) -> Limits {
        let cores = cores.max(1);
        Limits { running: cores, waiting: 16 * cores, per_app: 8 * cores }
    }
}

/// The scheduler; cheap to clone (the clones share one state).
#[derive(Clone)]
pub struct Admission(Arc<Shared>);

struct Shared {
    limits: Limits,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Slots taken, by running work or handed to a waiter that has not run yet.
    running: usize,
    /// Waiters in all the queues.
    waiting: usize,
    /// Each app's waiters, oldest first; only apps with a waiter have an entry.
    queues: HashMap<Uuid, VecDeque<Waiter>>,
    /// The apps with a waiter, in the order they are served next.
    turns: VecDeque<Uuid>,
    next_ticket: u64,
}

struct Waiter {
    ticket: u64,
    /// Told when the slot is theirs.
    wake: oneshot::Sender<()>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is never left half-updated (nothing in it panics), so a poisoned lock
        // is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// A slot is freed: it goes to the next app in turn's oldest waiter, else it is free.
    fn pass_on(&mut self) {
        while let Some(app) = self.turns.pop_front() {
            let Some(queue) = self.queues.get_mut(&app) else { continue };
            let Some(next) = queue.pop_front() else {
                self.queues.remove(&app);
                continue;
            };
            if queue.is_empty() {
                self.queues.remove(&app);
            } else {
                self.turns.push_back(app);
            }
            self.waiting -= 1;
            // A waiter leaves its queue before its receiver is dropped (see `Entry`'s
            // `Drop`), so this cannot fail; if it did, the slot goes to the next one.
            if next.wake.send(()).is_ok() {
                return;
            }
        }
        self.running -= 1;
    }

    /// Takes a waiter out of its queue; false if it is no longer there (it was handed a slot).
    fn withdraw(&mut self, app: Uuid, ticket: u64) -> bool {
        let Some(queue) = self.queues.get_mut(&app) else { return false };
        let Some(at) = queue.iter().position(|w| w.ticket == ticket) else { return false };
        queue.remove(at);
        if queue.is_empty() {
            self.queues.remove(&app);
            self.turns.retain(|a| *a != app);
        }
        self.waiting -= 1;
        true
    }
}

impl Admission {
    pub fn new(limits: Limits) -> Admission {
        Admission(Arc::new(Shared { limits, state: Mutex::new(State::default()) }))
    }

    /// Takes a slot at once if one is free, else a place in `app`'s queue; fails at once
    /// with [`busy`] when the queues are full. Await the entry for the slot.
    /// How many entries wait for a slot now.
    pub fn waiting(&self) -> usize {
        self.0.lock().waiting
    }

    pub fn enter(&self, app: Uuid) -> Result<Entry, Error> {
        let limits = self.0.limits;
        let mut state = self.0.lock();
        // Waiters exist only while every slot is taken (a freed slot passes straight to
        // one), so a free slot means nobody is ahead.
        if state.running < limits.running {
            state.running += 1;
            return Ok(Entry { shared: Some(self.0.clone()), queued: None });
        }
        let ahead = state.queues.get(&app).map_or(0, VecDeque::len);
        if state.waiting >= limits.waiting || ahead >= limits.per_app {
            return Err(busy());
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        let (wake, granted) = oneshot::channel();
        if ahead == 0 {
            state.turns.push_back(app);
        }
        state.queues.entry(app).or_default().push_back(Waiter { ticket, wake });
        state.waiting += 1;
        Ok(Entry { shared: Some(self.0.clone()), queued: Some(Queued { app, ticket, granted }) })
    }
}

/// A place in the admission: resolves to the [`Slot`] once it is this request's turn.
/// Dropping it gives up the place (or the slot, if it had just been handed over).
#[must_use = "an entry holds a place or a slot until it is dropped"]
pub struct Entry {
    /// `None` once the slot has been handed out as a [`Slot`].
    shared: Option<Arc<Shared>>,
    queued: Option<Queued>,
}

struct Queued {
    app: Uuid,
    ticket: u64,
    granted: oneshot::Receiver<()>,
}

impl Future for Entry {
    type Output = Slot;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Slot> {
        let this = self.get_mut();
        if let Some(queued) = &mut this.queued {
            // An error would mean the sender went without sending, which `pass_on` never
            // does while the waiter is queued: the slot is ours either way.
            let _ = ready!(Pin::new(&mut queued.granted).poll(cx));
            this.queued = None;
        }
        match this.shared.take() {
            Some(shared) => Poll::Ready(Slot { shared }),
            None => Poll::Pending,
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else { return };
        let mut state = shared.lock();
        if let Some(q) = &self.queued {
            if state.withdraw(q.app, q.ticket) {
                return;
            }
        }
        // The slot was ours (free at entry, or handed over before we looked): pass it on.
        state.pass_on();
    }
}

/// One of the `running` slots, held while the work runs; dropping it passes it on.
pub struct Slot {
    shared: Arc<Shared>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.lock().pass_on();
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    const A: Uuid = Uuid::from_u128(0xA);
    const B: Uuid = Uuid::from_u128(0xB);
    const C: Uuid = Uuid::from_u128(0xC);

    fn admission(running: usize, waiting: usize, per_app: usize) -> Admission {
        Admission::new(Limits { running, waiting, per_app })
    }

    /// Polls once, without a runtime: the slot if the entry has one now.
    fn poll(entry: &mut Entry) -> Option<Slot> {
        Pin::new(entry).now_or_never()
    }

    fn counts(admission: &Admission) -> (usize, usize, usize, usize) {
        let state = admission.0.lock();
        (state.running, state.waiting, state.queues.len(), state.turns.len())
    }

    fn assert_busy(outcome: Result<Entry, Error>) {
        match outcome {
            Err(Error::Unavailable { message, retry_after_seconds: 1 }) => {
                assert_eq!(message, "Too many sign-ins at once, please try again shortly")
            }
            Err(e) => panic!("not busy: {e:?}"),
            Ok(_) => panic!("admitted past the bound"),
        }
    }

    #[test]
    fn limits_scale_with_cores() {
        assert_eq!(Limits::for_cores(2), Limits { running: 2, waiting: 32, per_app: 16 });
        assert_eq!(Limits::for_cores(0), Limits { running: 1, waiting: 16, per_app: 8 });
    }

    #[test]
    fn free_slots_are_taken_at_once_and_freed_on_drop() {
        let adm = admission(2, 4, 2);
        let mut first = adm.enter(A).unwrap();
        let mut second = adm.enter(A).unwrap();
        let (s1, s2) = (poll(&mut first).unwrap(), poll(&mut second).unwrap());
        assert_eq!(counts(&adm), (2, 0, 0, 0));
        drop((s1, first));
        assert_eq!(counts(&adm), (1, 0, 0, 0));
        drop((s2, second));
        assert_eq!(counts(&adm), (0, 0, 0, 0));
    }

    #[test]
    fn overflow_fails_fast_per_app_and_overall() {
        let adm = admission(1, 3, 2);
        let _running = poll(&mut adm.enter(A).unwrap()).unwrap();
        let _a1 = adm.enter(A).unwrap();
        let _a2 = adm.enter(A).unwrap();
        // A's queue is full; other apps still get in, up to the overall bound.
        assert_busy(adm.enter(A));
        let _b1 = adm.enter(B).unwrap();
        assert_eq!(counts(&adm), (1, 3, 2, 2));
        assert_busy(adm.enter(C));
        assert_busy(adm.enter(B));
        assert_busy(adm.enter(A));
        assert_eq!(counts(&adm), (1, 3, 2, 2), "a refused request leaves no trace");
    }

    #[test]
    fn apps_are_served_in_turn_not_in_arrival_order() {
        let adm = admission(1, 16, 4);
        let mut current = poll(&mut adm.enter(A).unwrap()).unwrap();
        let mut entries: Vec<(&str, Entry)> =
            ["a1", "a2", "a3", "a4"].into_iter().map(|n| (n, adm.enter(A).unwrap())).collect();
        assert_busy(adm.enter(A));
        // B arrives once A's queue is full, and C after it.
        entries.push(("b1", adm.enter(B).unwrap()));
        entries.push(("c1", adm.enter(C).unwrap()));
        entries.push(("b2", adm.enter(B).unwrap()));
        for (_, entry) in &mut entries {
            assert!(poll(entry).is_none(), "nobody runs while the slot is taken");
        }
        let mut order = Vec::new();
        while !entries.is_empty() {
            drop(current);
            let mut ready: Vec<(usize, Slot)> =
                entries.iter_mut().enumerate().filter_map(|(i, (_, e))| poll(e).map(|s| (i, s))).collect();
            assert_eq!(ready.len(), 1, "one freed slot, one waiter served");
            let (i, slot) = ready.remove(0);
            order.push(entries.remove(i).0);
            current = slot;
        }
        assert_eq!(order, ["a1", "b1", "c1", "a2", "b2", "a3", "a4"]);
        drop(current);
        assert_eq!(counts(&adm), (0, 0, 0, 0));
    }

    #[test]
    fn a_dropped_waiter_leaves_its_place_and_leaks_no_slot() {
        let adm = admission(1, 8, 8);
        let running = poll(&mut adm.enter(A).unwrap()).unwrap();
        let gone = adm.enter(A).unwrap();
        let mut next = adm.enter(B).unwrap();
        drop(gone);
        assert_eq!(counts(&adm), (1, 1, 1, 1), "the dropped waiter left A's queue and turn");
        drop(running);
        let slot = poll(&mut next).expect("the slot passes over the dropped waiter");
        drop(slot);
        drop(next);
        assert_eq!(counts(&adm), (0, 0, 0, 0));
    }

    #[test]
    fn a_waiter_dropped_after_being_handed_the_slot_passes_it_on() {
        let adm = admission(1, 8, 8);
        let running = poll(&mut adm.enter(A).unwrap()).unwrap();
        let handed = adm.enter(A).unwrap();
        let mut next = adm.enter(A).unwrap();
        // The slot goes to `handed`, which goes away before it ever looks.
        drop(running);
        assert_eq!(counts(&adm), (1, 1, 1, 1));
        assert!(poll(&mut next).is_none());
        drop(handed);
        let slot = poll(&mut next).expect("the handed-over slot passes on");
        assert_eq!(counts(&adm), (1, 0, 0, 0));
        drop(slot);
        // An entry admitted at once but dropped before being polled frees its slot too.
        drop(adm.enter(C).unwrap());
        assert_eq!(counts(&adm), (0, 0, 0, 0));
    }

    /// The same through a runtime: a request abandoned while it waits (its task aborted, as
    /// when the client disconnects) does not keep the slot from the ones behind it.
    #[tokio::test]
    async fn an_abandoned_request_does_not_block_the_queue() {
        let adm = admission(1, 8, 8);
        let running = adm.enter(A).unwrap().await;
        let abandoned = tokio::spawn(adm.enter(A).unwrap());
        let behind = tokio::spawn(adm.enter(B).unwrap());
        tokio::task::yield_now().await;
        abandoned.abort();
        assert!(matches!(abandoned.await, Err(e) if e.is_cancelled()));
        drop(running);
        let slot = tokio::time::timeout(std::time::Duration::from_secs(5), behind).await.unwrap().unwrap();
        assert_eq!(counts(&adm), (1, 0, 0, 0));
        drop(slot);
        assert_eq!(counts(&adm), (0, 0, 0, 0));
    }
}
