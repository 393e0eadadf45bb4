//! 隐患排查 tasks (issue 11): a set of control measures checked on a cycle. The cycle's periods
//! are counted in Asia/Shanghai from the task's first day at 00:00: every N hours, days or
//! weeks, or every N months, quarters or years (the k-th period starts k×N months after the
//! first day, on the same day of the month or the month's last day when it has fewer — Jan 31,
//! Feb 28/29, Mar 31). A working-days-only task has no periods starting on a Saturday or a
//! Sunday (hour and day cycles; public holidays are not modelled). A period not checked by its
//! end is missed (漏检).

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

text_enum! {
    /// The cycle's unit: `hour`, `day`, `week`, `month`, `quarter` or `year`.
    pub enum CycleUnit {
        Hour = "hour",
        Day = "day",
        Week = "week",
        Month = "month",
        Quarter = "quarter",
        Year = "year",
    }
}

text_enum! {
    /// A slot's standing: `open` (now within it, not checked), `done` (checked) or `missed`
    /// (ended unchecked); `upcoming` is never stored.
    pub enum SlotState {
        Open = "open",
        Done = "done",
        Missed = "missed",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    pub unit: CycleUnit,
    pub every: u32,
    pub working_days_only: bool,
}

/// One period, in Shanghai local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The period's number from the first (0), counting skipped weekend periods too.
    pub seq: i64,
    pub starts: NaiveDateTime,
    pub ends: NaiveDateTime,
}

impl Cycle {
    /// The start of period `k` (local time), counted from `first` at 00:00.
    fn start(&self, first: NaiveDate, k: i64) -> Option<NaiveDateTime> {
        let base = first.and_time(NaiveTime::MIN);
        let n = i64::from(self.every) * k;
        match self.unit {
            CycleUnit::Hour => base.checked_add_signed(Duration::try_hours(n)?),
            CycleUnit::Day => base.checked_add_signed(Duration::try_days(n)?),
            CycleUnit::Week => base.checked_add_signed(Duration::try_weeks(n)?),
            CycleUnit::Month | CycleUnit::Quarter | CycleUnit::Year => {
                let months = match self.unit {
                    CycleUnit::Month => n,
                    CycleUnit::Quarter => n * 3,
                    _ => n * 12,
                };
                let date = first.checked_add_months(Months::new(u32::try_from(months).ok()?))?;
                Some(date.and_time(NaiveTime::MIN))
            }
        }
    }

    fn skipped(&self, start: NaiveDateTime) -> bool {
        self.working_days_only
            && matches!(self.unit, CycleUnit::Hour | CycleUnit::Day)
            && matches!(start.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The periods from number `from_seq` on that have started by `now` (local) and start
    /// before `until` (the task's last day, exclusive end), at most `limit` of them.
    pub fn periods(
        &self,
        first: NaiveDate,
        last: Option<NaiveDate>,
        from_seq: i64,
        now: NaiveDateTime,
        limit: usize,
    ) -> Vec<Period> {
        let until = last
            .and_then(|d| d.succ_opt())
            .map(|d| d.and_time(NaiveTime::MIN));
        let mut out = Vec::new();
        let mut k = from_seq.max(0);
        while out.len() < limit {
            let (Some(starts), Some(ends)) = (self.start(first, k), self.start(first, k + 1))
            else {
                break;
            };
            if starts > now || until.is_some_and(|u| starts >= u) {
                break;
            }
            if !self.skipped(starts) {
                out.push(Period {
                    seq: k,
                    starts,
                    ends,
                });
            }
            k += 1;
        }
        out
    }
}

/// A slot's state at `now`.
pub fn slot_state(checked: bool, ends: NaiveDateTime, now: NaiveDateTime) -> SlotState {
    if checked {
        SlotState::Done
    } else if now >= ends {
        SlotState::Missed
    } else {
        SlotState::Open
    }
}

/// A slot's one check was made already.
pub fn already_checked() -> super::Refusal {
    super::Refusal::conflict("already_checked", "This slot has been checked")
}

/// A slot takes one check, while it is open: not before it starts (`slot_closed`), not after
/// it ends (missed, `slot_closed`), not twice (`already_checked`).
pub fn check_recordable(
    checked: bool,
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    now: NaiveDateTime,
) -> super::Verdict {
    use super::Refusal;
    if checked {
        return Err(Refusal::conflict(
            "already_checked",
            "This slot has been checked",
        ));
    }
    if now < starts || slot_state(false, ends, now) != SlotState::Open {
        return Err(Refusal::conflict(
            "slot_closed",
            "Only an open slot can be checked; this one has not started or has ended",
        ));
    }
    Ok(())
}

/// `done ÷ (done + missed)`, 4 decimals; 0 when no slot has ended or been done.
pub fn completion_rate(done: i64, missed: i64) -> f64 {
    if done + missed == 0 {
        0.0
    } else {
        (done as f64 / (done + missed) as f64 * 10_000.0).round() / 10_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn cycle(unit: CycleUnit, every: u32) -> Cycle {
        Cycle {
            unit,
            every,
            working_days_only: false,
        }
    }

    #[test]
    fn months_keep_the_day_or_take_the_months_last() {
        let p =
            cycle(CycleUnit::Month, 1).periods(d("2027-01-31"), None, 0, t("2027-05-01 00:00"), 10);
        let starts: Vec<String> = p.iter().map(|x| x.starts.date().to_string()).collect();
        assert_eq!(
            starts,
            ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
        );
        assert_eq!(p[1].ends, t("2027-03-31 00:00"));
        // A leap year's February.
        let p =
            cycle(CycleUnit::Month, 1).periods(d("2028-01-31"), None, 0, t("2028-03-01 00:00"), 10);
        assert_eq!(p[1].starts, t("2028-02-29 00:00"));
        // A leap day's yearly task falls on Feb 28 in common years.
        let p =
            cycle(CycleUnit::Year, 1).periods(d("2028-02-29"), None, 0, t("2032-03-01 00:00"), 10);
        let starts: Vec<String> = p.iter().map(|x| x.starts.date().to_string()).collect();
        assert_eq!(
            starts,
            [
                "2028-02-29",
                "2029-02-28",
                "2030-02-28",
                "2031-02-28",
                "2032-02-29"
            ]
        );
        // Quarters.
        let p = cycle(CycleUnit::Quarter, 1).periods(
            d("2026-11-30"),
            None,
            0,
            t("2027-06-01 00:00"),
            10,
        );
        let starts: Vec<String> = p.iter().map(|x| x.starts.date().to_string()).collect();
        assert_eq!(starts, ["2026-11-30", "2027-02-28", "2027-05-30"]);
    }

    #[test]
    fn days_and_hours_turn_at_shanghai_midnight() {
        let c = cycle(CycleUnit::Day, 1);
        // 23:59 on the first day: one period; at 00:00 the second starts.
        assert_eq!(
            c.periods(d("2026-12-01"), None, 0, t("2026-12-01 23:59"), 10)
                .len(),
            1
        );
        let p = c.periods(d("2026-12-01"), None, 0, t("2026-12-02 00:00"), 10);
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].ends, p[1].starts),
            (t("2026-12-02 00:00"), t("2026-12-02 00:00"))
        );
        let p =
            cycle(CycleUnit::Hour, 8).periods(d("2026-12-01"), None, 0, t("2026-12-02 07:59"), 10);
        let starts: Vec<NaiveDateTime> = p.iter().map(|x| x.starts).collect();
        assert_eq!(
            starts,
            [
                t("2026-12-01 00:00"),
                t("2026-12-01 08:00"),
                t("2026-12-01 16:00"),
                t("2026-12-02 00:00")
            ]
        );
        // From a later number on, and up to the task's last day.
        let p = c.periods(
            d("2026-12-01"),
            Some(d("2026-12-03")),
            1,
            t("2026-12-31 00:00"),
            10,
        );
        assert_eq!(p.iter().map(|x| x.seq).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn working_days_skip_weekends() {
        let c = Cycle {
            unit: CycleUnit::Day,
            every: 1,
            working_days_only: true,
        };
        // 2026-12-04 is a Friday.
        let p = c.periods(d("2026-12-04"), None, 0, t("2026-12-08 12:00"), 10);
        let starts: Vec<String> = p.iter().map(|x| x.starts.date().to_string()).collect();
        assert_eq!(starts, ["2026-12-04", "2026-12-07", "2026-12-08"]);
        assert_eq!(p[1].seq, 3, "numbers count the skipped days");
    }

    #[test]
    fn states_and_rates() {
        let end = t("2026-12-02 00:00");
        assert_eq!(
            slot_state(false, end, t("2026-12-01 23:59")),
            SlotState::Open
        );
        assert_eq!(slot_state(false, end, end), SlotState::Missed);
        assert_eq!(slot_state(true, end, end), SlotState::Done);
        assert_eq!(completion_rate(28, 2), 0.9333);
        assert_eq!(completion_rate(0, 0), 0.0);
    }
}
