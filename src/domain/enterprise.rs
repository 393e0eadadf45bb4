//! 一企一档: the enterprise record and the safety-director rule (安全总监, seed item 6).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::uscc::Uscc;
use super::validate::{Errors, FieldError};

text_enum! {
    pub enum EnterpriseStatus {
        Operating = "operating",
        Suspended = "suspended",
        Closed = "closed",
    }
}

impl EnterpriseStatus {
    /// A closed enterprise takes no new hazards (`409 enterprise_closed`).
    pub fn accepts_hazards(self) -> crate::domain::Verdict {
        if self == EnterpriseStatus::Closed {
            return Err(crate::domain::Refusal::conflict(
                "enterprise_closed",
                "The enterprise is closed; reopen it before recording hazards",
            ));
        }
        Ok(())
    }
}

text_enum! {
    /// 安全风险等级: red 重大, orange 较大, yellow 一般, blue 低.
    pub enum RiskLevel {
        Red = "red",
        Orange = "orange",
        Yellow = "yellow",
        Blue = "blue",
    }
}

text_enum! {
    pub enum SafetyDirectorStatus {
        NotRequired = "not_required",
        Appointed = "appointed",
        Missing = "missing",
    }
}

/// 安全总监 of an enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "王建国", "phone": "13807381234", "appointed_on": "2026-03-01"}))]
pub struct SafetyDirector {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub appointed_on: Option<NaiveDate>,
}

/// Which enterprises must appoint a safety director. Thresholds and sectors are configuration
/// (the reference-data file), since provinces differ.
#[derive(Debug, Clone, Deserialize)]
pub struct SafetyDirectorRule {
    pub min_employees: i32,
    pub min_annual_revenue_10k_yuan: f64,
    pub sectors: Vec<String>,
}

impl SafetyDirectorRule {
    /// 规模以上: ≥ `min_employees` employees or ≥ `min_annual_revenue_10k_yuan` 万元 revenue.
    pub fn above_scale(&self, employees: i32, revenue_10k_yuan: f64) -> bool {
        employees >= self.min_employees || revenue_10k_yuan >= self.min_annual_revenue_10k_yuan
    }

    pub fn required(&self, sector_code: &str, employees: i32, revenue_10k_yuan: f64) -> bool {
        self.above_scale(employees, revenue_10k_yuan)
            && self.sectors.iter().any(|s| s == sector_code)
    }

    /// `appointed` whenever one is on record; otherwise `missing` if required.
    pub fn status(&self, required: bool, appointed: bool) -> SafetyDirectorStatus {
        match (appointed, required) {
            (true, _) => SafetyDirectorStatus::Appointed,
            (false, true) => SafetyDirectorStatus::Missing,
            (false, false) => SafetyDirectorStatus::NotRequired,
        }
    }
}

/// Every field of an enterprise a client may set: the create body, the shape a `PATCH` merges
/// into, and the stored record (validated by [`validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "uscc": "91431302PMYCJ7G420",
    "name": "娄底市华达建材有限公司",
    "jurisdiction_code": "431302",
    "sector_code": "industry_trade",
    "address": "娄星区长青街道 88 号",
    "legal_representative": "李华",
    "principal_name": "李华",
    "principal_phone": "0738-8321234",
    "employees": 120,
    "annual_revenue_10k_yuan": 3500.0,
    "safety_director": {"name": "王建国", "phone": "13807381234", "appointed_on": "2026-03-01"},
    "risk_level": "yellow",
    "standardization_grade": "三级",
    "status": "operating"
}))]
pub struct EnterpriseFields {
    /// 统一社会信用代码: 18 characters, GB 32100 check character; normalised to upper case
    /// and half-width; unique.
    pub uscc: String,
    pub name: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub legal_representative: Option<String>,
    #[serde(default)]
    pub principal_name: Option<String>,
    #[serde(default)]
    pub principal_phone: Option<String>,
    pub employees: i32,
    /// Annual revenue in 万元 (10,000 yuan).
    pub annual_revenue_10k_yuan: f64,
    /// 安全总监, if appointed.
    #[serde(default)]
    pub safety_director: Option<SafetyDirector>,
    #[serde(default)]
    pub risk_level: Option<RiskLevel>,
    /// 安全生产标准化等级, free text (e.g. 一级, 二级, 三级).
    #[serde(default)]
    pub standardization_grade: Option<String>,
    #[serde(default = "operating")]
    pub status: EnterpriseStatus,
}

fn operating() -> EnterpriseStatus {
    EnterpriseStatus::Operating
}

/// The fields an enterprise account may change on its own record (contacts, size, director).
pub const SELF_SERVICE_FIELDS: &[&str] = &[
    "principal_name",
    "principal_phone",
    "employees",
    "annual_revenue_10k_yuan",
    "safety_director",
];

/// Normalises and checks every field; returns all problems at once.
/// The USCC error carries its own code (`invalid_uscc`), so it is reported separately.
pub fn validate(
    mut f: EnterpriseFields,
) -> Result<EnterpriseFields, (Option<FieldError>, Vec<FieldError>)> {
    let mut e = Errors::default();
    let uscc_error = match Uscc::parse(&f.uscc) {
        Ok(u) => {
            f.uscc = u.into_string();
            None
        }
        Err(msg) => Some(FieldError::new("/uscc", msg)),
    };
    f.name = e.text("/name", &f.name, 200);
    f.address = e.opt_text("/address", f.address.as_deref(), 500);
    f.legal_representative = e.opt_text(
        "/legal_representative",
        f.legal_representative.as_deref(),
        100,
    );
    f.principal_name = e.opt_text("/principal_name", f.principal_name.as_deref(), 100);
    f.principal_phone = e.opt_phone("/principal_phone", f.principal_phone.as_deref());
    f.standardization_grade = e.opt_text(
        "/standardization_grade",
        f.standardization_grade.as_deref(),
        50,
    );
    if f.employees < 0 {
        e.add("/employees", "must be 0 or more");
    }
    if !f.annual_revenue_10k_yuan.is_finite() || !(0.0..=1e9).contains(&f.annual_revenue_10k_yuan) {
        e.add(
            "/annual_revenue_10k_yuan",
            "must be a number from 0 to 1000000000 (万元)",
        );
    }
    if let Some(d) = f.safety_director.as_mut() {
        d.name = e.text("/safety_director/name", &d.name, 100);
        d.phone = e.opt_phone("/safety_director/phone", d.phone.as_deref());
    }
    if uscc_error.is_none() && e.is_empty() {
        Ok(f)
    } else {
        Err((uscc_error, e.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> SafetyDirectorRule {
        SafetyDirectorRule {
            min_employees: 100,
            min_annual_revenue_10k_yuan: 2000.0,
            sectors: vec!["construction".into()],
        }
    }

    #[test]
    fn above_scale_at_either_threshold() {
        let r = rule();
        assert!(!r.above_scale(99, 1999.99));
        assert!(r.above_scale(100, 0.0));
        assert!(r.above_scale(0, 2000.0));
    }

    #[test]
    fn director_required_only_in_listed_sectors() {
        let r = rule();
        assert!(r.required("construction", 100, 0.0));
        assert!(!r.required("other", 100, 0.0));
        assert_eq!(r.status(true, false), SafetyDirectorStatus::Missing);
        assert_eq!(r.status(true, true), SafetyDirectorStatus::Appointed);
        assert_eq!(r.status(false, false), SafetyDirectorStatus::NotRequired);
    }
}
