//! The two lists (两个清单): 问题隐患清单 (problem items, linked to hazards) and 制度措施清单
//! (measure items, linked to problems), kept by a county-level unit or the city, and their
//! period submissions. Not to be confused with listed supervision (挂牌督办, `domain::listing`).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jurisdiction::JurisdictionLevel;
use super::validate::{Errors, FieldError};

text_enum! {
    pub enum ProblemStatus {
        Open = "open",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
}

text_enum! {
    pub enum MeasureKind {
        Law = "law",
        Regulation = "regulation",
        Standard = "standard",
        NormativeDocument = "normative_document",
        Mechanism = "mechanism",
        InternalSystem = "internal_system",
    }
}

text_enum! {
    pub enum MeasureStatus {
        Planned = "planned",
        Drafting = "drafting",
        Issued = "issued",
        Implementing = "implementing",
        Repealed = "repealed",
    }
}

/// A problem item (问题隐患清单): the create body and the shape a `PATCH` merges into.
#[derive(Debug, Deserialize, Serialize, ToSchema, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "owner_jurisdiction_code": "431302", "department_id": null, "sector_code": "hazardous_chemicals",
    "title": "加油站油气回收装置普遍失修", "description": "辖区 12 座加油站中 5 座油气回收装置失效",
    "responsible_unit": "娄星区应急管理局", "deadline": "2026-12-31", "status": "in_progress",
    "hazard_ids": [7, 9]
}))]
pub struct ProblemInput {
    /// The unit keeping the list: a county-level unit or the city.
    pub owner_jurisdiction_code: String,
    /// Optional: the department (of the owner's jurisdiction) whose list it is.
    #[serde(default)]
    pub department_id: Option<i64>,
    #[serde(default)]
    pub sector_code: Option<String>,
    pub title: String,
    pub description: String,
    pub responsible_unit: String,
    pub deadline: NaiveDate,
    #[serde(default = "problem_open")]
    pub status: ProblemStatus,
    /// Hazards in the owner's jurisdiction this problem covers.
    #[serde(default)]
    pub hazard_ids: Vec<i64>,
}

fn problem_open() -> ProblemStatus {
    ProblemStatus::Open
}

/// A measure item (制度措施清单).
#[derive(Debug, Deserialize, Serialize, ToSchema, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "owner_jurisdiction_code": "431302", "department_id": null,
    "title": "加油站油气回收装置定期检测制度", "kind": "normative_document", "doc_no": "娄星应急发〔2026〕12号",
    "lead_unit": "娄星区应急管理局", "target_date": "2026-12-31", "status": "drafting", "problem_ids": [3]
}))]
pub struct MeasureInput {
    pub owner_jurisdiction_code: String,
    #[serde(default)]
    pub department_id: Option<i64>,
    pub title: String,
    pub kind: MeasureKind,
    /// 文号, once issued.
    #[serde(default)]
    pub doc_no: Option<String>,
    pub lead_unit: String,
    pub target_date: NaiveDate,
    #[serde(default = "measure_planned")]
    pub status: MeasureStatus,
    /// Problem items (of units in the owner's jurisdiction) this measure addresses.
    #[serde(default)]
    pub problem_ids: Vec<i64>,
}

fn measure_planned() -> MeasureStatus {
    MeasureStatus::Planned
}

/// A date the lists keep: a calendar year from 1900 to 9998.
fn check_date(e: &mut Errors, pointer: &str, d: NaiveDate) {
    if !(1900..=9998).contains(&d.year()) {
        e.add(pointer, "must be a date between 1900 and 9998");
    }
}

/// Lists are kept by a county-level unit or the city, never by a township.
pub fn check_owner_level(e: &mut Errors, level: JurisdictionLevel) {
    if !level.keeps_lists() {
        e.add(
            "/owner_jurisdiction_code",
            "lists are kept by a county-level unit or the city",
        );
    }
}

/// Points at every linked id that is not among the `allowed` ones (in the owner's
/// jurisdiction and the editor's reach, or already linked before this edit).
pub fn check_links(e: &mut Errors, pointer: &str, wanted: &[i64], allowed: &[i64]) {
    for (i, id) in wanted.iter().enumerate() {
        if !allowed.contains(id) {
            e.add(
                &format!("{pointer}/{i}"),
                format!("{id} is not in the owner's jurisdiction"),
            );
        }
    }
}

/// The links that an edit adds: those not linked already (only they are checked against the
/// editor's reach; existing ones were checked when they were added).
pub fn added_links(wanted: &[i64], existing: &[i64]) -> Vec<i64> {
    wanted
        .iter()
        .copied()
        .filter(|id| !existing.contains(id))
        .collect()
}

fn dedup(ids: &mut Vec<i64>) {
    ids.sort_unstable();
    ids.dedup();
}

impl ProblemInput {
    /// Trims and checks the item's own fields into `e`.
    pub fn normalized(mut self, e: &mut Errors) -> ProblemInput {
        self.title = e.text("/title", &self.title, 200);
        self.description = e.text("/description", &self.description, 5000);
        self.responsible_unit = e.text("/responsible_unit", &self.responsible_unit, 200);
        check_date(e, "/deadline", self.deadline);
        self
    }

    /// The links as stored: sorted, each once (after their pointers were reported).
    pub fn dedup_links(mut self) -> ProblemInput {
        dedup(&mut self.hazard_ids);
        self
    }
}

impl MeasureInput {
    /// Trims and checks the item's own fields into `e`.
    pub fn normalized(mut self, e: &mut Errors) -> MeasureInput {
        self.title = e.text("/title", &self.title, 200);
        self.lead_unit = e.text("/lead_unit", &self.lead_unit, 200);
        self.doc_no = e.opt_text("/doc_no", self.doc_no.as_deref(), 100);
        check_date(e, "/target_date", self.target_date);
        self
    }

    /// The links as stored: sorted, each once (after their pointers were reported).
    pub fn dedup_links(mut self) -> MeasureInput {
        dedup(&mut self.problem_ids);
        self
    }
}

/// An item stays on its owner's list (links were checked against that owner): `Err` names
/// the field that would move it.
pub fn owner_unchanged(
    before: (&str, Option<i64>),
    after: (&str, Option<i64>),
) -> Result<(), FieldError> {
    if before.0 != after.0 {
        return Err(owner_moves("/owner_jurisdiction_code"));
    }
    if before.1 != after.1 {
        return Err(owner_moves("/department_id"));
    }
    Ok(())
}

fn owner_moves(pointer: &str) -> FieldError {
    FieldError::new(
        pointer,
        "an item's owner does not change; add it to the other owner's list",
    )
}

text_enum! {
    pub enum ReviewDecision {
        Accepted = "accepted",
        Returned = "returned",
    }
}

/// A reporting period: `YYYY-Bn` (bi-monthly, n = 1..6, "双月一调度") or `YYYY-MM`.
/// Returns the first day of the period.
pub fn period_start(period: &str) -> Option<chrono::NaiveDate> {
    let (year, rest) = period.split_once('-')?;
    if year.len() != 4 {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let month = match rest.strip_prefix('B') {
        Some(n) if n.len() == 1 => {
            let n: u32 = n.parse().ok()?;
            if !(1..=6).contains(&n) {
                return None;
            }
            2 * n - 1
        }
        Some(_) => return None,
        None if rest.len() == 2 => rest.parse().ok().filter(|m| (1..=12).contains(m))?,
        None => return None,
    };
    chrono::NaiveDate::from_ymd_opt(year, month, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(period_start("2026-B6").unwrap().to_string(), "2026-11-01");
        assert_eq!(period_start("2026-11").unwrap().to_string(), "2026-11-01");
        assert_eq!(period_start("2026-B1").unwrap().to_string(), "2026-01-01");
        for bad in [
            "2026-B7",
            "2026-B0",
            "2026-13",
            "26-11",
            "2026-1",
            "2026-B12",
            "2026-11-01",
        ] {
            assert!(period_start(bad).is_none(), "{bad}");
        }
    }
}

/// A submission's period: a well-formed `YYYY-Bn` or `YYYY-MM` that has begun by `today`.
pub fn check_period(e: &mut Errors, period: &str, today: NaiveDate) {
    match period_start(period) {
        None => e.add("/period", "must be YYYY-Bn (n = 1–6) or YYYY-MM"),
        Some(start) if start > today => e.add("/period", "must not be in the future"),
        Some(_) => {}
    }
}

/// One live (submitted or accepted) submission per owner and period.
pub fn already_submitted() -> super::Refusal {
    super::Refusal::conflict(
        "already_submitted",
        "This owner has already submitted for this period",
    )
}

/// A submission is reviewed once, while `submitted`.
pub fn check_reviewable(status: SubmissionStatus) -> super::Verdict {
    if status != SubmissionStatus::Submitted {
        return Err(already_reviewed());
    }
    Ok(())
}

pub fn already_reviewed() -> super::Refusal {
    super::Refusal::conflict(
        "already_reviewed",
        "This submission has already been reviewed",
    )
}

text_enum! {
    /// A period submission of the two lists: `submitted`, then reviewed by the city as
    /// `accepted` or `returned` (a returned period may be submitted again).
    pub enum SubmissionStatus {
        Submitted = "submitted",
        Accepted = "accepted",
        Returned = "returned",
    }
}
