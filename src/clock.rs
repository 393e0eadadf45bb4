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
    (t + SHANGHAI_OFFSET).date_naive()
}

/// The one place the offset is written.
const SHANGHAI_OFFSET: chrono::TimeDelta = chrono::TimeDelta::hours(8);

/// The UTC instants (naive, as stored) where the Asia/Shanghai days `from` to `to` begin and
/// end: `[start, end)` covers both days whole.
pub fn shanghai_days_utc(
    from: NaiveDate,
    to: NaiveDate,
) -> (chrono::NaiveDateTime, chrono::NaiveDateTime) {
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN) - SHANGHAI_OFFSET;
    (midnight(from), midnight(to.succ_opt().unwrap_or(to)))
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
