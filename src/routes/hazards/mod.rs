//! Hazards (隐患): the representation every hazard endpoint answers with, and one module per
//! action: recording (`create`), listing and reading (`list`), editing (`edit`), the lifecycle
//! transitions and the timeline (`transition`).

pub(crate) mod create;
mod edit;
pub mod evidence;
mod export;
mod list;
mod transition;

pub use create::*;
pub use edit::*;
pub use export::*;
pub use list::*;
pub use transition::*;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::hazards::{self, HazardRow};
use crate::db::{to_utc, AnyConnection};
use crate::domain::hazard::{overdue_days, HazardFields, HazardStatus};
use crate::error::{ApiError, ApiResult};

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "code": "431302-2026-00017", "enterprise_id": 42,
    "title": "配电室未配置绝缘垫", "description": "1# 配电室高压柜前未铺设绝缘垫",
    "location": "1# 配电室", "level": "general", "source": "regulator_inspection",
    "nature": "unsafe_condition", "standard_ref": "GB 50054-2011 第 4.2 条", "major_reason": null,
    "discovered_on": "2026-11-20", "responsible_person": "张伟（设备部经理）",
    "rectification_deadline": "2026-12-05", "measures": "采购并铺设绝缘垫；整改前挂警示牌",
    "funds_10k_yuan": 0.5, "acceptance_criteria": "绝缘垫覆盖柜前操作区",
    "major_report": null, "governance_plan": null,
    "jurisdiction_code": "431302", "sector_code": "industry_trade", "status": "rectifying",
    "overdue": false, "overdue_days": 0, "listed": false, "rectification_note": null,
    "reported_by": 3, "submitted_by": null, "public_report_id": null,
    "check_record_id": null, "control_measure_id": null, "risk_unit_id": null,
    "created_at": "2026-11-20T02:00:00Z", "updated_at": "2026-11-20T02:00:00Z", "closed_at": null,
    "version": 1
}))]
pub struct HazardResponse {
    pub id: i64,
    /// `<county-level code>-<year>-<5-digit sequence>`, never reused.
    pub code: String,
    #[serde(flatten)]
    pub fields: HazardFields,
    /// From the enterprise at creation.
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub status: HazardStatus,
    /// Today (Asia/Shanghai) is after the deadline and the hazard is `reported` or `rectifying`.
    pub overdue: bool,
    /// 0 when not overdue.
    pub overdue_days: i64,
    /// Under active listed supervision (挂牌督办).
    pub listed: bool,
    /// The note of the last `submit_for_acceptance`.
    pub rectification_note: Option<String>,
    pub reported_by: i64,
    /// Who submitted the current rectification for acceptance.
    pub submitted_by: Option<i64>,
    /// The public report (举报) the hazard was recorded from, if any
    /// (`GET /api/v1/public-reports/{id}`, for regulators).
    pub public_report_id: Option<i64>,
    /// Found by a check (`GET /api/v1/check-records/{id}`): the record, the failed control
    /// measure and its risk unit; `null` otherwise.
    pub check_record_id: Option<i64>,
    pub control_measure_id: Option<i64>,
    pub risk_unit_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl HazardResponse {
    pub fn new(r: &HazardRow, today: NaiveDate) -> HazardResponse {
        HazardResponse::from_row(r.clone(), today)
    }

    /// The representation of a row the caller is done with (a list's page): its strings move
    /// into the answer instead of being copied.
    pub fn from_row(mut r: HazardRow, today: NaiveDate) -> HazardResponse {
        let days = overdue_days(r.status, r.rectification_deadline, today);
        let fields = r.take_fields();
        HazardResponse {
            id: r.id,
            code: r.code,
            fields,
            jurisdiction_code: r.jurisdiction_code,
            sector_code: r.sector_code,
            status: r.status,
            overdue: days > 0,
            overdue_days: days,
            listed: r.listed,
            rectification_note: r.rectification_note,
            reported_by: r.reported_by,
            submitted_by: r.submitted_by,
            public_report_id: r.public_report_id,
            check_record_id: r.check_record_id,
            control_measure_id: r.control_measure_id,
            risk_unit_id: r.risk_unit_id,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            closed_at: r.closed_at.map(to_utc),
            version: r.version,
        }
    }
}

/// The hazard, if the caller can see it (else 404).
pub fn visible_hazard(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<HazardRow> {
    hazards::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)
}
