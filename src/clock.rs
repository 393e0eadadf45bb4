//! The time source. Business dates are Asia/Shanghai dates (UTC+8, no daylight saving);
//! timestamps are stored in UTC. Tests pin "now" with [`ManualClock`].

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Today in Asia/Shanghai.
    fn today(&self) -> NaiveDate {
        shanghai_date(self.now())
    }
}

/// China Standard Time is UTC+8 all year.
pub fn shanghai_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stays where it is put.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_midnight() {
        let before = "2026-12-01T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        let after = "2026-12-01T16:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(shanghai_date(before).to_string(), "2026-12-01");
        assert_eq!(shanghai_date(after).to_string(), "2026-12-02");
    }
}
