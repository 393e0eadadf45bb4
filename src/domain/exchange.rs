//! The 危化品 双重预防 data-access model (issue 11, SPEC §9 "national-model exchange"): the code
//! lists our values map to, the date format, and the stable UUIDs of rows that have none of
//! their own. The field layout is `routes::exchange`; both are described in
//! `docs/DUAL-PREVENTION-EXCHANGE.md`.

use chrono::{DateTime, Utc};

use super::hazard::{HazardLevel, HazardNature, HazardSource, HazardStatus};
use super::inspection::CycleUnit;
use super::risk::{ControlTier, MeasureClass, RiskLevel};

/// `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai, as the model writes times.
pub fn datetime(t: DateTime<Utc>) -> String {
    (t.naive_utc() + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `riskLevel`: 1 重大 (red), 2 较大 (orange), 3 一般 (yellow), 4 低 (blue).
pub fn risk_level(l: RiskLevel) -> i32 {
    match l {
        RiskLevel::Red => 1,
        RiskLevel::Orange => 2,
        RiskLevel::Yellow => 3,
        RiskLevel::Blue => 4,
    }
}

/// `classify1`: 1 工程技术, 2 管理措施, 3 培训教育, 4 个体防护, 5 应急处置.
pub fn measure_class(c: MeasureClass) -> i32 {
    match c {
        MeasureClass::Engineering => 1,
        MeasureClass::Management => 2,
        MeasureClass::Training => 3,
        MeasureClass::PersonalProtection => 4,
        MeasureClass::Emergency => 5,
    }
}

/// `controlLevel`: 1 公司, 2 车间, 3 班组, 4 岗位.
pub fn control_tier(t: ControlTier) -> i32 {
    match t {
        ControlTier::Company => 1,
        ControlTier::Workshop => 2,
        ControlTier::Team => 3,
        ControlTier::Post => 4,
    }
}

/// `checkCycleUnit`: 小时, 天, 周, 月, 季, 年.
pub fn cycle_unit(u: CycleUnit) -> &'static str {
    match u {
        CycleUnit::Hour => "小时",
        CycleUnit::Day => "天",
        CycleUnit::Week => "周",
        CycleUnit::Month => "月",
        CycleUnit::Quarter => "季",
        CycleUnit::Year => "年",
    }
}

/// `dangerLevel`: 0 一般隐患, 1 重大隐患.
pub fn danger_level(l: HazardLevel) -> i32 {
    match l {
        HazardLevel::General => 0,
        HazardLevel::Major => 1,
    }
}

/// `dangerState`: 0 整改中 (reported, rectifying), 1 待验收 (pending acceptance), 9 已验收
/// (closed). A void hazard is exported as deleted, with the state it had.
pub fn danger_state(s: HazardStatus) -> i32 {
    match s {
        HazardStatus::PendingAcceptance => 1,
        HazardStatus::Closed => 9,
        HazardStatus::Reported | HazardStatus::Rectifying | HazardStatus::Void => 0,
    }
}

/// `dangerSrc`: 1 日常排查 (an enterprise's own check, by a check record or self-reported),
/// 2 监管检查, 3 群众举报, 9 其他.
pub fn danger_src(source: HazardSource, from_check: bool) -> i32 {
    match (source, from_check) {
        (_, true) | (HazardSource::SelfInspection, _) => 1,
        (HazardSource::RegulatorInspection, _) => 2,
        (HazardSource::PublicReport, _) => 3,
        (HazardSource::Other, _) => 9,
    }
}

/// `hazardDangerType`: 1 物的不安全状态, 2 人的不安全行为, 3 管理缺陷, 9 未分类.
pub fn hazard_danger_type(n: Option<HazardNature>) -> i32 {
    match n {
        Some(HazardNature::UnsafeCondition) => 1,
        Some(HazardNature::UnsafeAct) => 2,
        Some(HazardNature::ManagementDefect) => 3,
        None => 9,
    }
}

/// The namespace of the UUIDs derived here (a fixed, random UUID).
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5c0f_4b1e_9a1d_4c3e_8f6a_2d7b_1e90_a4c3);

/// A stable UUID for a row that has none of its own: a check task per measure
/// (task UUID + measure UUID), a check record per measure (record UUID + measure UUID), a
/// hazard (its code, unique and never reused).
pub fn derived_uuid(parts: &[&str]) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, parts.join("/").as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_derived_ids() {
        assert_eq!(danger_state(HazardStatus::Closed), 9);
        assert_eq!(danger_state(HazardStatus::PendingAcceptance), 1);
        assert_eq!(danger_state(HazardStatus::Rectifying), 0);
        assert_eq!(danger_src(HazardSource::RegulatorInspection, true), 1);
        assert_eq!(danger_src(HazardSource::PublicReport, false), 3);
        assert_eq!(derived_uuid(&["a", "b"]), derived_uuid(&["a", "b"]));
        assert_ne!(derived_uuid(&["a", "b"]), derived_uuid(&["ab"]));
        assert_eq!(derived_uuid(&["x"]).len(), 36);
        let t = "2026-12-07T16:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(datetime(t), "2026-12-08 00:30:00");
    }
}
