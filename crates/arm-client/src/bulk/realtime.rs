//! Native real time for a batch outside the browser (the bulk benchmark against the armsim server): a
//! [`RealClock`] whose sleeps are timers of one executor thread ([`RealClock::run`] polls the batch, and parks
//! until the next timer is due or a request thread wakes it), so concurrent items wait side by side on the real
//! clock, as they do on the browser's `setTimeout`.

use crate::clock::Clock;
use crate::http::LocalBoxFuture;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The real clock, with sleeps as timers of [`RealClock::run`]'s thread. Clones share the timers.
#[derive(Clone)]
pub struct RealClock {
    start: Instant,
    /// Deadlines of the sleeps waiting now.
    timers: Rc<RefCell<Vec<Instant>>>,
}

impl Default for RealClock {
    fn default() -> Self {
        RealClock {
            start: Instant::now(),
            timers: Rc::default(),
        }
    }
}

impl RealClock {
    /// A clock whose `now_ms` counts from now.
    pub fn new() -> Self {
        Self::default()
    }

    /// Polls `fut` to its end on this thread: between polls the thread sleeps until the earliest timer is due
    /// or a waker (a request's thread) wakes it.
    pub fn run<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = Box::pin(fut);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            self.timers.borrow_mut().clear();
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            let next = self.timers.borrow().iter().min().copied();
            let wait = match next {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_millis(50),
            };
            if !wait.is_zero() {
                std::thread::park_timeout(wait.min(Duration::from_millis(50)));
            }
        }
    }
}

struct Sleep {
    clock: RealClock,
    deadline: Instant,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        // the executor re-polls everything when the earliest deadline is due
        self.clock.timers.borrow_mut().push(self.deadline);
        Poll::Pending
    }
}

impl Clock for RealClock {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        Box::pin(Sleep {
            clock: self.clone(),
            deadline: Instant::now() + Duration::from_millis(ms),
        })
    }
}
