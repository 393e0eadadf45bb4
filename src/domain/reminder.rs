//! Deadline reminders and escalation (issue 12, SPEC §9): when a deadline is near or past, who
//! is told, and who may acknowledge it.
//!
//! Three kinds, each raised once per subject and deadline, on the Shanghai date the deadline
//! plus its offset reaches (or on the first scan after it, while it still applies):
//! - `due_soon`: the enterprise, `due_soon_days` before the deadline (default 3), while the
//!   deadline has not passed;
//! - `overdue`: the county-level regulator, `overdue_days` after it (default 1);
//! - `escalated`: the city, `escalate_days` after it (default 7).
//!
//! A hazard counts while it is `reported` or `rectifying` (as for `overdue`), a listing while it
//! is `listed`. A new deadline (an approved extension) is a new deadline: its reminders fire
//! again.

use chrono::{Days, NaiveDate};

text_enum! {
    /// `due_soon` (to the enterprise), `overdue` (to the county-level regulator) or
    /// `escalated` (to the city).
    pub enum ReminderKind {
        DueSoon = "due_soon",
        Overdue = "overdue",
        Escalated = "escalated",
    }
}

text_enum! {
    /// Whose deadline it is: a hazard's rectification deadline or a listing's deadline.
    pub enum ReminderSubject {
        Hazard = "hazard",
        Listing = "listing",
    }
}

text_enum! {
    /// `open` until someone it is addressed to acknowledges it.
    pub enum ReminderState {
        Open = "open",
        Acknowledged = "acknowledged",
    }
}

text_enum! {
    /// Who a reminder is for.
    pub enum Addressee {
        Enterprise = "enterprise",
        County = "county",
        City = "city",
    }
}

impl ReminderKind {
    pub fn addressee(self) -> Addressee {
        match self {
            ReminderKind::DueSoon => Addressee::Enterprise,
            ReminderKind::Overdue => Addressee::County,
            ReminderKind::Escalated => Addressee::City,
        }
    }
}

/// The offsets, in days (`HAZREG_REMINDER_DUE_SOON_DAYS`, `…_OVERDUE_DAYS`,
/// `…_ESCALATE_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offsets {
    pub due_soon_days: u32,
    pub overdue_days: u32,
    pub escalate_days: u32,
}

impl Default for Offsets {
    fn default() -> Offsets {
        Offsets {
            due_soon_days: 3,
            overdue_days: 1,
            escalate_days: 7,
        }
    }
}

/// The deadlines for which a kind of reminder is due on `today`: `from..=to` (`from` open when
/// `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDeadlines {
    pub from: Option<NaiveDate>,
    pub to: NaiveDate,
}

impl Offsets {
    /// Refuses offsets that would make the kinds overlap or fire before they mean anything.
    pub fn checked(self) -> Result<Offsets, String> {
        if self.overdue_days == 0 {
            return Err("the overdue offset must be at least 1 day".into());
        }
        if self.escalate_days <= self.overdue_days {
            return Err("escalation must come after the overdue reminder".into());
        }
        Ok(self)
    }

    /// Signed days from the deadline to the day the kind fires.
    pub fn offset(&self, kind: ReminderKind) -> i64 {
        match kind {
            ReminderKind::DueSoon => -i64::from(self.due_soon_days),
            ReminderKind::Overdue => i64::from(self.overdue_days),
            ReminderKind::Escalated => i64::from(self.escalate_days),
        }
    }

    /// The day a kind fires for a deadline.
    pub fn fire_on(&self, kind: ReminderKind, deadline: NaiveDate) -> NaiveDate {
        shift(deadline, self.offset(kind))
    }

    /// Which deadlines the kind is due for on `today`: `due_soon` from today to today plus its
    /// offset (a passed deadline is overdue, not due soon); the others every deadline at least
    /// their offset ago.
    pub fn due(&self, kind: ReminderKind, today: NaiveDate) -> DueDeadlines {
        match kind {
            ReminderKind::DueSoon => DueDeadlines {
                from: Some(today),
                to: shift(today, i64::from(self.due_soon_days)),
            },
            _ => DueDeadlines {
                from: None,
                to: shift(today, -self.offset(kind)),
            },
        }
    }
}

fn shift(d: NaiveDate, days: i64) -> NaiveDate {
    let n = Days::new(days.unsigned_abs());
    if days >= 0 {
        d.checked_add_days(n).unwrap_or(NaiveDate::MAX)
    } else {
        d.checked_sub_days(n).unwrap_or(NaiveDate::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn each_kind_fires_at_its_offset_and_stays_due_while_it_applies() {
        let o = Offsets::default();
        let deadline = d("2026-03-01");
        assert_eq!(o.fire_on(ReminderKind::DueSoon, deadline), d("2026-02-26"));
        assert_eq!(o.fire_on(ReminderKind::Overdue, deadline), d("2026-03-02"));
        assert_eq!(
            o.fire_on(ReminderKind::Escalated, deadline),
            d("2026-03-08")
        );
        let due = |kind, today: &str| {
            let w = o.due(kind, d(today));
            w.from.is_none_or(|f| f <= deadline) && deadline <= w.to
        };
        assert!(!due(ReminderKind::DueSoon, "2026-02-25"));
        assert!(due(ReminderKind::DueSoon, "2026-02-26"));
        assert!(due(ReminderKind::DueSoon, "2026-03-01"));
        assert!(
            !due(ReminderKind::DueSoon, "2026-03-02"),
            "passed: overdue now"
        );
        assert!(!due(ReminderKind::Overdue, "2026-03-01"));
        assert!(due(ReminderKind::Overdue, "2026-03-02"));
        assert!(due(ReminderKind::Overdue, "2026-04-30"));
        assert!(!due(ReminderKind::Escalated, "2026-03-07"));
        assert!(due(ReminderKind::Escalated, "2026-03-08"));
    }

    #[test]
    fn offsets_that_overlap_are_refused() {
        let o = Offsets::default();
        assert!(o.checked().is_ok());
        let zero = Offsets {
            overdue_days: 0,
            ..o
        };
        assert!(zero.checked().is_err());
        let early = Offsets {
            escalate_days: 1,
            ..o
        };
        assert!(early.checked().is_err());
    }
}
