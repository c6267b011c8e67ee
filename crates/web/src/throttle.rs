//! Login attempts: after [`MAX_FAILURES`] failures within [`WINDOW`] from
//! one client address, or for one user name, further attempts are refused
//! (429) until the window has passed since the oldest of them.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(5 * 60);
/// Keys remembered at once (a flood of names must not grow memory).
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct Throttle(Mutex<HashMap<String, VecDeque<Instant>>>);

impl Throttle {
    /// Whether an attempt by `ip` for `user` may go ahead now.
    pub fn allowed(&self, ip: IpAddr, user: &str, now: Instant) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        keys(ip, user).iter().all(|k| match map.get_mut(k) {
            Some(q) => {
                prune(q, now);
                q.len() < MAX_FAILURES
            }
            None => true,
        })
    }

    pub fn failed(&self, ip: IpAddr, user: &str, now: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, q| {
                prune(q, now);
                !q.is_empty()
            });
        }
        for k in keys(ip, user) {
            let q = map.entry(k).or_default();
            prune(q, now);
            q.push_back(now);
        }
    }

    /// A success forgets the address's failures (not the name's).
    pub fn succeeded(&self, ip: IpAddr) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&format!("ip {ip}"));
    }
}

fn keys(ip: IpAddr, user: &str) -> [String; 2] {
    [format!("ip {ip}"), format!("user {user}")]
}

fn prune(q: &mut VecDeque<Instant>, now: Instant) {
    while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
        q.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_address_and_the_name_for_the_window() {
        let t = Throttle::default();
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(t.allowed(a, "alice", t0));
            t.failed(a, "alice", t0);
        }
        assert!(!t.allowed(a, "alice", t0));
        assert!(!t.allowed(a, "bob", t0), "the address is locked");
        assert!(!t.allowed(b, "alice", t0), "the name is locked");
        assert!(t.allowed(b, "bob", t0));
        assert!(t.allowed(a, "alice", t0 + WINDOW));
    }
}
