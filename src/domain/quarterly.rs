//! Quarterly hazard statistics reports (季度隐患排查治理统计分析, 16号令 第十四条): an
//! enterprise reports each quarter, by the 15th of the following month, what it found and
//! rectified, signed by its principal; the report is frozen when submitted.
//!
//! The figures are over the enterprise's hazards that are not void:
//! - `found`, `found_major`: discovered in the quarter;
//! - `rectified`, `rectified_major`: of those, closed when the report is made;
//! - `open`: of those, not closed; `overdue`: of those, overdue on the report's date;
//! - `funds_10k_yuan`: the rectification funds of those found (万元);
//! - `earlier_open`: hazards discovered before the quarter and still not closed;
//! - `rectification_rate`: `rectified ÷ found`, 4 decimals, 0 when nothing was found.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validate::Errors;

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter {
    pub year: i32,
    /// 1–4.
    pub quarter: u32,
}

impl Quarter {
    /// Checks a requested quarter: a year from 2000 and a quarter 1–4 (422 pointers `/year`,
    /// `/quarter`).
    pub fn check(e: &mut Errors, year: i64, quarter: i64) -> Option<Quarter> {
        let mut ok = true;
        if !(2000..=9999).contains(&year) {
            e.add("/year", "must be a year from 2000");
            ok = false;
        }
        if !(1..=4).contains(&quarter) {
            e.add("/quarter", "must be 1, 2, 3 or 4");
            ok = false;
        }
        ok.then_some(Quarter {
            year: year as i32,
            quarter: quarter as u32,
        })
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.quarter - 1) * 3 + 1, 1).unwrap_or_default()
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next_first_day().pred_opt().unwrap_or_default()
    }

    fn next_first_day(self) -> NaiveDate {
        self.first_day()
            .checked_add_months(Months::new(3))
            .unwrap_or_default()
    }

    /// The day a report is due: `due_day` (1–28, `HAZREG_QUARTERLY_REPORT_DUE_DAY`) of the month
    /// after the quarter (default the 15th).
    pub fn due_on(self, due_day: u32) -> NaiveDate {
        let next = self.next_first_day();
        NaiveDate::from_ymd_opt(next.year(), next.month(), due_day).unwrap_or(next)
    }

    /// A report is made once the quarter is over (Asia/Shanghai `today`).
    pub fn check_ended(self, e: &mut Errors, today: NaiveDate) {
        if today <= self.last_day() {
            e.add(
                "/quarter",
                format!(
                    "{}-Q{} has not ended yet: it can be reported from {}",
                    self.year,
                    self.quarter,
                    self.next_first_day()
                ),
            );
        }
    }
}

/// The reported figures (see the module documentation for what each counts).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[schema(example = json!({
    "found": 12, "found_major": 1, "rectified": 9, "rectified_major": 0, "open": 3,
    "overdue": 1, "rectification_rate": 0.75, "funds_10k_yuan": 18.5, "earlier_open": 2
}))]
pub struct QuarterFigures {
    /// Hazards discovered in the quarter (not void).
    pub found: i64,
    /// Of those, major (重大隐患).
    pub found_major: i64,
    /// Of those found, closed when the report was made.
    pub rectified: i64,
    /// Of the major ones found, closed when the report was made.
    pub rectified_major: i64,
    /// Of those found, not closed.
    pub open: i64,
    /// Of those found, overdue on the report's date.
    pub overdue: i64,
    /// `rectified ÷ found`, 4 decimals; 0 when nothing was found.
    pub rectification_rate: f64,
    /// The rectification funds of the hazards found (万元).
    pub funds_10k_yuan: f64,
    /// Hazards discovered before the quarter and still not closed.
    pub earlier_open: i64,
}

impl QuarterFigures {
    /// Completes the derived figures (`open`, `rectification_rate`) and rounds the funds to
    /// the ledger's 4 decimals.
    pub fn derive(mut self) -> QuarterFigures {
        self.open = self.found - self.rectified;
        self.rectification_rate = if self.found == 0 {
            0.0
        } else {
            (self.rectified as f64 / self.found as f64 * 10_000.0).round() / 10_000.0
        };
        self.funds_10k_yuan = (self.funds_10k_yuan * 10_000.0).round() / 10_000.0;
        self
    }
}

text_enum! {
    /// Where an enterprise stands for a quarter: reported by the due date (`on_time`), after
    /// it (`late`), not yet and the due date has passed (`missing`), or not yet while there is
    /// still time (`pending`).
    pub enum ReportState {
        OnTime = "on_time",
        Late = "late",
        Missing = "missing",
        Pending = "pending",
    }
}

impl ReportState {
    /// The state of an enterprise without a report, on `today`.
    pub fn unreported(due_on: NaiveDate, today: NaiveDate) -> ReportState {
        if today > due_on {
            ReportState::Missing
        } else {
            ReportState::Pending
        }
    }

    /// The state of a report submitted on `submitted_on` (Shanghai).
    pub fn reported(due_on: NaiveDate, submitted_on: NaiveDate) -> ReportState {
        if submitted_on > due_on {
            ReportState::Late
        } else {
            ReportState::OnTime
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn quarters_have_their_days_and_due_dates() {
        let q = |year, quarter| Quarter { year, quarter };
        assert_eq!(
            (q(2026, 1).first_day(), q(2026, 1).last_day()),
            (d("2026-01-01"), d("2026-03-31"))
        );
        assert_eq!(q(2026, 4).last_day(), d("2026-12-31"));
        assert_eq!(q(2026, 4).due_on(15), d("2027-01-15"));
        assert_eq!(q(2028, 1).due_on(28), d("2028-04-28"));
        let mut e = Errors::default();
        q(2026, 4).check_ended(&mut e, d("2026-12-31"));
        assert!(!e.is_empty());
        let mut e = Errors::default();
        q(2026, 4).check_ended(&mut e, d("2027-01-01"));
        assert!(e.is_empty());
        assert_eq!(Quarter::check(&mut Errors::default(), 2026, 5), None);
    }

    #[test]
    fn states_and_rates() {
        let due = d("2027-01-15");
        assert_eq!(ReportState::reported(due, due), ReportState::OnTime);
        assert_eq!(
            ReportState::reported(due, d("2027-01-16")),
            ReportState::Late
        );
        assert_eq!(ReportState::unreported(due, due), ReportState::Pending);
        assert_eq!(
            ReportState::unreported(due, d("2027-01-16")),
            ReportState::Missing
        );
        let f = QuarterFigures {
            found: 3,
            rectified: 2,
            ..Default::default()
        }
        .derive();
        assert_eq!((f.open, f.rectification_rate), (1, 0.6667));
        assert_eq!(QuarterFigures::default().derive().rectification_rate, 0.0);
    }
}
