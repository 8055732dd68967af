//! A small concurrency limiter (an async semaphore for one thread): at most `n`
//! requests in flight; the rest wait in order.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct State {
    available: usize,
    next_ticket: u64,
    queue: VecDeque<(u64, Option<Waker>)>,
    in_flight: usize,
    max_in_flight: usize,
}

/// Limits concurrent requests. Clones share the same permits.
///
/// ```
/// use arm_client::{Limiter, testing::block_on};
/// let l = Limiter::new(2);
/// let a = block_on(l.acquire());
/// let b = block_on(l.acquire());
/// assert_eq!(l.in_flight(), 2);
/// drop(a);
/// assert_eq!(l.in_flight(), 1);
/// # drop(b);
/// ```
#[derive(Clone)]
pub struct Limiter {
    state: Rc<RefCell<State>>,
}

impl Limiter {
    /// At most `n` (≥ 1) permits at a time.
    pub fn new(n: usize) -> Self {
        Limiter {
            state: Rc::new(RefCell::new(State {
                available: n.max(1),
                ..Default::default()
            })),
        }
    }

    /// Wait for a permit; it is released when dropped.
    pub fn acquire(&self) -> Acquire {
        let mut s = self.state.borrow_mut();
        let ticket = s.next_ticket;
        s.next_ticket += 1;
        s.queue.push_back((ticket, None));
        Acquire {
            state: self.state.clone(),
            ticket,
            done: false,
        }
    }

    /// Permits held now.
    pub fn in_flight(&self) -> usize {
        self.state.borrow().in_flight
    }

    /// The most permits ever held at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.borrow().max_in_flight
    }
}

/// The future of [`Limiter::acquire`].
pub struct Acquire {
    state: Rc<RefCell<State>>,
    ticket: u64,
    done: bool,
}

impl Future for Acquire {
    type Output = Permit;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let mut s = self.state.borrow_mut();
        let first = s.queue.front().map(|(t, _)| *t) == Some(self.ticket);
        if first && s.available > 0 {
            s.queue.pop_front();
            s.available -= 1;
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
            // let the next in line check too
            if s.available > 0
                && let Some((_, Some(w))) = s.queue.front()
            {
                w.wake_by_ref();
            }
            drop(s);
            self.done = true;
            return Poll::Ready(Permit {
                state: self.state.clone(),
            });
        }
        let ticket = self.ticket;
        if let Some(entry) = s.queue.iter_mut().find(|(t, _)| *t == ticket) {
            entry.1 = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if !self.done {
            let mut s = self.state.borrow_mut();
            let ticket = self.ticket;
            s.queue.retain(|(t, _)| *t != ticket);
            if s.available > 0
                && let Some((_, Some(w))) = s.queue.front()
            {
                w.wake_by_ref();
            }
        }
    }
}

/// A held permit.
pub struct Permit {
    state: Rc<RefCell<State>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.state.borrow_mut();
        s.available += 1;
        s.in_flight -= 1;
        if let Some((_, Some(w))) = s.queue.front() {
            w.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, join_all, yield_now};

    #[test]
    fn never_more_than_n_in_flight_and_all_finish_in_order() {
        for n in [1, 2, 3, 8] {
            let l = Limiter::new(n);
            let order = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..12)
                .map(|i| {
                    let l = l.clone();
                    let order = order.clone();
                    Box::pin(async move {
                        let _p = l.acquire().await;
                        order.borrow_mut().push(i);
                        assert!(l.in_flight() <= n);
                        for _ in 0..3 {
                            yield_now().await;
                        }
                        i
                    }) as Pin<Box<dyn Future<Output = i32>>>
                })
                .collect();
            let out = block_on(join_all(tasks));
            assert_eq!(out, (0..12).collect::<Vec<_>>());
            assert_eq!(l.max_in_flight(), n.min(12));
            assert_eq!(l.in_flight(), 0);
            assert_eq!(*order.borrow(), (0..12).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_dropped_waiter_does_not_block_the_queue() {
        let l = Limiter::new(1);
        let held = block_on(l.acquire());
        let waiting = l.acquire();
        let next = l.acquire();
        drop(waiting);
        drop(held);
        let _p = block_on(next);
        assert_eq!(l.in_flight(), 1);
    }
}
