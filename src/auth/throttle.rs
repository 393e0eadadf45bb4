//! Failed-login throttling per client address (a sliding one-minute window, in memory).
//! The per-account lock lives in the database (`accounts.locked_until`) so every node sees it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

pub struct AddressThrottle {
    max_failures: usize,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl AddressThrottle {
    pub fn new(max_failures_per_minute: u32) -> Self {
        Self {
            max_failures: max_failures_per_minute as usize,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when this address has used up its failures for the window.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(q) = map.get_mut(&ip) else {
            return Ok(());
        };
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() >= self.max_failures {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        Ok(())
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        let q = map.entry(ip).or_default();
        q.push_back(now);
        while q.len() > self.max_failures + 1 {
            q.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit() {
        let t = AddressThrottle::new(3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check(ip).is_ok());
            t.record_failure(ip);
        }
        let wait = t.check(ip).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(t.check("10.0.0.2".parse().unwrap()).is_ok());
    }
}
