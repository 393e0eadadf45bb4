//! The hazard (隐患) record and its lifecycle (SPEC §3): what each action needs, from which
//! state, and what it leads to. No HTTP and no SQL here.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validate::{Errors, FieldError};

pub mod editing;
pub mod lifecycle;

text_enum! {
    /// 一般 / 重大.
    pub enum HazardLevel {
        General = "general",
        Major = "major",
    }
}

text_enum! {
    pub enum HazardSource {
        SelfInspection = "self_inspection",
        RegulatorInspection = "regulator_inspection",
        PublicReport = "public_report",
        Other = "other",
    }
}

text_enum! {
    pub enum HazardNature {
        UnsafeCondition = "unsafe_condition",
        UnsafeAct = "unsafe_act",
        ManagementDefect = "management_defect",
    }
}

text_enum! {
    pub enum HazardStatus {
        Reported = "reported",
        Rectifying = "rectifying",
        PendingAcceptance = "pending_acceptance",
        Closed = "closed",
        Void = "void",
    }
}

text_enum! {
    /// What an attachment shows.
    pub enum AttachmentStage {
        Before = "before",
        After = "after",
        Plan = "plan",
        Acceptance = "acceptance",
        Other = "other",
    }
}

text_enum! {
    /// A lifecycle action (`POST /hazards/{id}/transitions`).
    pub enum Action {
        StartRectification = "start_rectification",
        SubmitForAcceptance = "submit_for_acceptance",
        Accept = "accept",
        Reject = "reject",
        Void = "void",
        Reopen = "reopen",
        Regrade = "regrade",
    }
}

impl HazardStatus {
    /// Open: still to be rectified or accepted.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            HazardStatus::Reported | HazardStatus::Rectifying | HazardStatus::PendingAcceptance
        )
    }

    /// Overdue is counted only while the work is still to be done.
    pub fn counts_overdue(self) -> bool {
        matches!(self, HazardStatus::Reported | HazardStatus::Rectifying)
    }

    /// The actions allowed from this state, and where each leads (regrade stays put).
    pub fn transitions(self) -> &'static [(Action, HazardStatus)] {
        use Action as A;
        use HazardStatus as S;
        match self {
            S::Reported => &[
                (A::StartRectification, S::Rectifying),
                (A::Void, S::Void),
                (A::Regrade, S::Reported),
            ],
            S::Rectifying => &[
                (A::SubmitForAcceptance, S::PendingAcceptance),
                (A::Void, S::Void),
                (A::Regrade, S::Rectifying),
            ],
            S::PendingAcceptance => &[
                (A::Accept, S::Closed),
                (A::Reject, S::Rectifying),
                (A::Void, S::Void),
                (A::Regrade, S::PendingAcceptance),
            ],
            S::Closed => &[(A::Reopen, S::Rectifying)],
            S::Void => &[],
        }
    }

    pub fn after(self, action: Action) -> Option<HazardStatus> {
        self.transitions()
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, s)| *s)
    }

    pub fn allowed_actions(self) -> Vec<Action> {
        self.transitions().iter().map(|(a, _)| *a).collect()
    }
}

/// 重大事故隐患报告: the situation and cause, the harm and the difficulty of rectification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "situation_and_cause": "2# 储罐区可燃气体报警仪失效，巡检记录缺失",
    "harm_and_difficulty": "泄漏后无法及时发现，可能引发火灾爆炸；需停产更换仪表"
}))]
pub struct MajorReport {
    pub situation_and_cause: String,
    pub harm_and_difficulty: String,
}

/// 重大事故隐患治理方案: the six required parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "goals_and_tasks": "30 日内恢复可燃气体检测报警系统并联锁",
    "methods_and_measures": "更换报警仪 6 台，接入 DCS 联锁切断",
    "funds_and_materials": "专项资金 12 万元，仪表由厂家供货",
    "organization_and_personnel": "设备部牵头，安全总监督办",
    "timeline_and_requirements": "12 月 10 日前完成安装，12 月 20 日前调试验收",
    "safety_measures_and_emergency_plan": "整改期间人工巡检每 2 小时一次，备用便携式检测仪"
}))]
pub struct GovernancePlan {
    pub goals_and_tasks: String,
    pub methods_and_measures: String,
    pub funds_and_materials: String,
    pub organization_and_personnel: String,
    pub timeline_and_requirements: String,
    pub safety_measures_and_emergency_plan: String,
}

/// Every field of a hazard a client may set: the create body and the shape a `PATCH` merges
/// into. The 五定 block (`responsible_person`, `rectification_deadline`, `measures`,
/// `funds_10k_yuan`, `acceptance_criteria`) may be filled in later; a hazard created with it
/// complete (and, for `major`, with the report and plan) starts in `rectifying`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "enterprise_id": 42,
    "title": "配电室未配置绝缘垫",
    "description": "1# 配电室高压柜前未铺设绝缘垫，操作人员未穿绝缘鞋",
    "location": "1# 配电室",
    "level": "general",
    "source": "regulator_inspection",
    "nature": "unsafe_condition",
    "standard_ref": "GB 50054-2011 第 4.2 条",
    "discovered_on": "2026-11-20",
    "responsible_person": "张伟（设备部经理）",
    "rectification_deadline": "2026-12-05",
    "measures": "采购并铺设绝缘垫；整改前挂警示牌、双人操作",
    "funds_10k_yuan": 0.5,
    "acceptance_criteria": "绝缘垫覆盖柜前操作区，耐压等级符合要求"
}))]
pub struct HazardFields {
    /// The enterprise. Required for regulators; implied (and only its own) for enterprise
    /// accounts. Cannot change after creation.
    #[serde(default)]
    pub enterprise_id: Option<i64>,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub location: Option<String>,
    pub level: HazardLevel,
    /// Defaults to `self_inspection` for enterprise accounts and `regulator_inspection` for
    /// regulators; enterprises cannot claim a regulator's inspection, nor regulators a
    /// self-inspection.
    #[serde(default)]
    pub source: Option<HazardSource>,
    #[serde(default)]
    pub nature: Option<HazardNature>,
    /// The 判定标准 clause; required for `major` unless `major_reason` is given.
    #[serde(default)]
    pub standard_ref: Option<String>,
    #[serde(default)]
    pub major_reason: Option<String>,
    /// Not in the future; not after the deadline.
    pub discovered_on: NaiveDate,
    #[serde(default)]
    pub responsible_person: Option<String>,
    #[serde(default)]
    pub rectification_deadline: Option<NaiveDate>,
    /// Rectification measures, including interim measures.
    #[serde(default)]
    pub measures: Option<String>,
    #[serde(default)]
    pub funds_10k_yuan: Option<f64>,
    #[serde(default)]
    pub acceptance_criteria: Option<String>,
    #[serde(default)]
    pub major_report: Option<MajorReport>,
    #[serde(default)]
    pub governance_plan: Option<GovernancePlan>,
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|v| v.trim().is_empty())
}

impl HazardFields {
    /// Normalises and checks the fields on their own (`today` is the Asia/Shanghai date).
    pub fn validate(mut self, today: NaiveDate) -> Result<HazardFields, Vec<FieldError>> {
        let mut e = Errors::default();
        self.title = e.text("/title", &self.title, 200);
        self.description = e.text("/description", &self.description, 5000);
        self.location = e.opt_text("/location", self.location.as_deref(), 500);
        self.standard_ref = e.opt_text("/standard_ref", self.standard_ref.as_deref(), 500);
        self.major_reason = e.opt_text("/major_reason", self.major_reason.as_deref(), 2000);
        self.responsible_person = e.opt_text(
            "/responsible_person",
            self.responsible_person.as_deref(),
            200,
        );
        self.measures = e.opt_text("/measures", self.measures.as_deref(), 5000);
        self.acceptance_criteria = e.opt_text(
            "/acceptance_criteria",
            self.acceptance_criteria.as_deref(),
            2000,
        );
        if self.discovered_on > today {
            e.add("/discovered_on", "must not be in the future");
        } else if self.discovered_on.year() < 1900 {
            e.add("/discovered_on", "must be in 1900 or later");
        }
        if let Some(d) = self.rectification_deadline {
            if d >= NO_DEADLINE {
                e.add("/rectification_deadline", "must be before 9999-12-31");
            } else if d < self.discovered_on {
                e.add(
                    "/rectification_deadline",
                    "must not be before discovered_on",
                );
            }
        }
        if let Some(f) = self.funds_10k_yuan {
            if !f.is_finite() || !(0.0..=1e9).contains(&f) {
                e.add(
                    "/funds_10k_yuan",
                    "must be a number from 0 to 1000000000 (万元)",
                );
            }
        }
        if self.level == HazardLevel::Major
            && blank(&self.standard_ref)
            && blank(&self.major_reason)
        {
            e.add(
                "/standard_ref",
                "a major hazard cites the 判定标准 clause (standard_ref) or gives major_reason",
            );
        }
        e.into_result().map(|_| self)
    }

    /// What `start_rectification` needs: the complete 五定 block, and for `major` the report
    /// and the six-part governance plan. Empty when nothing is missing.
    pub fn missing_for_rectification(&self) -> Vec<FieldError> {
        let mut missing = Vec::new();
        let mut need = |ok: bool, pointer: &str, what: &str| {
            if !ok {
                missing.push(FieldError::new(
                    pointer,
                    format!("{what} is required to start rectification"),
                ));
            }
        };
        need(
            !blank(&self.responsible_person),
            "/responsible_person",
            "the responsible person (定责任)",
        );
        need(
            self.rectification_deadline.is_some(),
            "/rectification_deadline",
            "the deadline (定时限)",
        );
        need(!blank(&self.measures), "/measures", "the measures (定措施)");
        need(
            self.funds_10k_yuan.is_some(),
            "/funds_10k_yuan",
            "the funds (定资金)",
        );
        need(
            !blank(&self.acceptance_criteria),
            "/acceptance_criteria",
            "the acceptance criteria (定预案/验收标准)",
        );
        if self.level == HazardLevel::Major {
            missing.extend(self.missing_major_documents());
        }
        missing
    }

    /// The report and plan a major hazard must carry once rectification has started.
    pub fn missing_major_documents(&self) -> Vec<FieldError> {
        let mut missing = Vec::new();
        match &self.major_report {
            None => missing.push(FieldError::new(
                "/major_report",
                "a major hazard needs its report",
            )),
            Some(r) => {
                for (p, v) in [
                    ("/major_report/situation_and_cause", &r.situation_and_cause),
                    ("/major_report/harm_and_difficulty", &r.harm_and_difficulty),
                ] {
                    if v.trim().is_empty() {
                        missing.push(FieldError::new(p, "must not be empty"));
                    }
                }
            }
        }
        match &self.governance_plan {
            None => missing.push(FieldError::new(
                "/governance_plan",
                "a major hazard needs its six-part governance plan",
            )),
            Some(g) => {
                for (p, v) in [
                    ("/governance_plan/goals_and_tasks", &g.goals_and_tasks),
                    (
                        "/governance_plan/methods_and_measures",
                        &g.methods_and_measures,
                    ),
                    (
                        "/governance_plan/funds_and_materials",
                        &g.funds_and_materials,
                    ),
                    (
                        "/governance_plan/organization_and_personnel",
                        &g.organization_and_personnel,
                    ),
                    (
                        "/governance_plan/timeline_and_requirements",
                        &g.timeline_and_requirements,
                    ),
                    (
                        "/governance_plan/safety_measures_and_emergency_plan",
                        &g.safety_measures_and_emergency_plan,
                    ),
                ] {
                    if v.trim().is_empty() {
                        missing.push(FieldError::new(p, "must not be empty"));
                    }
                }
            }
        }
        missing
    }
}

/// Stands for "no deadline" in the sort key, so hazards without one sort last.
pub const NO_DEADLINE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// The sort key stored for a deadline.
pub fn deadline_key(deadline: Option<NaiveDate>) -> NaiveDate {
    deadline.unwrap_or(NO_DEADLINE)
}

/// Days past the deadline (0 when not overdue): overdue means today is after the deadline while
/// the work is still to be done. `deadline == today` is not overdue.
pub fn overdue_days(status: HazardStatus, deadline: Option<NaiveDate>, today: NaiveDate) -> i64 {
    match deadline {
        Some(d) if status.counts_overdue() && today > d => (today - d).num_days(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_lists_its_actions() {
        assert_eq!(
            HazardStatus::Reported.after(Action::StartRectification),
            Some(HazardStatus::Rectifying)
        );
        assert_eq!(HazardStatus::Reported.after(Action::Accept), None);
        assert_eq!(
            HazardStatus::PendingAcceptance.after(Action::Reject),
            Some(HazardStatus::Rectifying)
        );
        assert_eq!(HazardStatus::Closed.allowed_actions(), vec![Action::Reopen]);
        assert!(HazardStatus::Void.allowed_actions().is_empty());
    }

    #[test]
    fn overdue_boundary() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(overdue_days(HazardStatus::Rectifying, Some(d), d), 0);
        assert_eq!(
            overdue_days(HazardStatus::Rectifying, Some(d), d.succ_opt().unwrap()),
            1
        );
        assert_eq!(
            overdue_days(
                HazardStatus::PendingAcceptance,
                Some(d),
                d + chrono::Duration::days(5)
            ),
            0
        );
        assert_eq!(overdue_days(HazardStatus::Rectifying, None, d), 0);
    }
}
