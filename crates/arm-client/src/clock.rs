//! Time and sleeping behind one trait, so tests run on a virtual clock (no real
//! sleeps) and the browser uses `setTimeout` (gloo-timers).

use crate::http::LocalBoxFuture;
use std::cell::RefCell;
use std::rc::Rc;

/// A source of "now" and of sleeps.
pub trait Clock {
    /// Milliseconds since an arbitrary fixed point (monotonic).
    fn now_ms(&self) -> u64;
    /// Wait `ms` milliseconds.
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()>;
}

impl<C: Clock + ?Sized> Clock for Rc<C> {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        (**self).sleep(ms)
    }
}

/// A virtual clock: `sleep` returns at once and moves "now" forward, recording each
/// sleep. Clones share the same time.
///
/// ```
/// use arm_client::{Clock, VirtualClock, testing::block_on};
/// let c = VirtualClock::new(1_000);
/// block_on(c.sleep(250));
/// assert_eq!(c.now_ms(), 1_250);
/// assert_eq!(c.sleeps(), vec![250]);
/// ```
#[derive(Clone, Default)]
pub struct VirtualClock {
    inner: Rc<RefCell<(u64, Vec<u64>)>>,
}

impl VirtualClock {
    /// A virtual clock starting at `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        VirtualClock {
            inner: Rc::new(RefCell::new((start_ms, Vec::new()))),
        }
    }
    /// Move time forward without a sleep being recorded.
    pub fn advance(&self, ms: u64) {
        self.inner.borrow_mut().0 += ms;
    }
    /// Every sleep taken so far, in order.
    pub fn sleeps(&self) -> Vec<u64> {
        self.inner.borrow().1.clone()
    }
    /// Sum of all sleeps.
    pub fn slept_ms(&self) -> u64 {
        self.inner.borrow().1.iter().sum()
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.inner.borrow().0
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        let mut i = self.inner.borrow_mut();
        i.0 += ms;
        i.1.push(ms);
        Box::pin(std::future::ready(()))
    }
}

/// The real clock of a native process (`Instant`, blocking `thread::sleep`): for
/// command-line use, never in tests.
#[cfg(not(target_arch = "wasm32"))]
pub struct SystemClock {
    start: std::time::Instant,
}

#[cfg(not(target_arch = "wasm32"))]
impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: std::time::Instant::now(),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        std::thread::sleep(std::time::Duration::from_millis(ms));
        Box::pin(std::future::ready(()))
    }
}

/// The browser clock: `Date.now()` and `setTimeout` through gloo-timers.
#[cfg(target_arch = "wasm32")]
#[derive(Default, Clone, Copy)]
pub struct BrowserClock;

#[cfg(target_arch = "wasm32")]
impl Clock for BrowserClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        let ms = ms.min(u32::MAX as u64) as u32;
        Box::pin(gloo_timers::future::TimeoutFuture::new(ms))
    }
}
