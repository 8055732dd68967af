//! A discrete-event virtual clock: concurrent tasks sleep on timers; when every task waits, time jumps to the
//! earliest timer. Unlike [`crate::VirtualClock`] (whose sleeps return at once, one after the other), two tasks
//! sleeping 1 s at the same time both wake at +1 s.

use crate::clock::Clock;
use crate::http::LocalBoxFuture;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct State {
    now: u64,
    seq: u64,
    /// timer id → (deadline, waker)
    timers: BTreeMap<u64, (u64, Option<Waker>)>,
}

/// See the [module](self). Clones share the same time.
///
/// ```
/// use arm_client::{Clock, bulk::EventClock};
/// let c = EventClock::new(0);
/// let c2 = c.clone();
/// let both = async move {
///     let a = c2.sleep(1_000);
///     let b = c2.sleep(1_000);
///     a.await;
///     b.await;
///     c2.now_ms()
/// };
/// assert_eq!(c.run(both), 1_000); // concurrent sleeps overlap
/// ```
#[derive(Clone, Default)]
pub struct EventClock {
    inner: Rc<RefCell<State>>,
}

impl EventClock {
    /// A clock starting at `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        let c = EventClock::default();
        c.inner.borrow_mut().now = start_ms;
        c
    }

    /// Timers pending.
    pub fn timers(&self) -> usize {
        self.inner.borrow().timers.len()
    }

    /// Polls `fut` until it is ready, jumping to the next timer whenever it waits. `None` when it waits with no
    /// timer left (e.g. a paused batch): call again after whatever it waits for (e.g. a resume).
    pub fn drive<F: Future + Unpin>(&self, fut: &mut F) -> Option<F::Output> {
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = Pin::new(&mut *fut).poll(&mut cx) {
                return Some(v);
            }
            let wakers = {
                let mut s = self.inner.borrow_mut();
                let next = s.timers.values().map(|(d, _)| *d).min()?;
                s.now = s.now.max(next);
                let now = s.now;
                let due: Vec<u64> = s
                    .timers
                    .iter()
                    .filter(|(_, (d, _))| *d <= now)
                    .map(|(k, _)| *k)
                    .collect();
                due.into_iter()
                    .filter_map(|k| s.timers.remove(&k).and_then(|(_, w)| w))
                    .collect::<Vec<_>>()
            };
            for w in wakers {
                w.wake();
            }
        }
    }

    /// [`EventClock::drive`] to the end; panics when the future waits forever.
    pub fn run<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = Box::pin(fut);
        self.drive(&mut fut)
            .expect("the future waits with no timer pending (deadlock)")
    }
}

struct Sleep {
    clock: EventClock,
    deadline: u64,
    id: Option<u64>,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.clock.inner.borrow_mut();
        if s.now >= self.deadline {
            if let Some(id) = self.id {
                s.timers.remove(&id);
            }
            return Poll::Ready(());
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                s.seq += 1;
                s.seq
            }
        };
        s.timers
            .insert(id, (self.deadline, Some(cx.waker().clone())));
        drop(s);
        self.id = Some(id);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.clock.inner.borrow_mut().timers.remove(&id);
        }
    }
}

impl Clock for EventClock {
    fn now_ms(&self) -> u64 {
        self.inner.borrow().now
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        let deadline = self.inner.borrow().now + ms;
        Box::pin(Sleep {
            clock: self.clone(),
            deadline,
            id: None,
        })
    }
}
