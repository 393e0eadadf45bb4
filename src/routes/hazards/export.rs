//! The hazard ledger (隐患台账) as a file: every hazard the list would give, as CSV or XLSX.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;

use crate::auth::Principal;
use crate::db::hazards::{self, HazardListFilter, HazardRow};
use crate::db::ledger::{self, Names};
use crate::db::scope::Scope;
use crate::db::{to_utc, AnyConnection};
use crate::domain::hazard::{overdue_days, HazardStatus};
use crate::domain::ledger::{Label, HAZARD_COLUMNS};
use crate::error::ApiResult;
use crate::http::export::{self, Cell, Ledger, Source};
use crate::state::AppState;

use super::list::{cursor_of, list_filter, HazardQuery};

static HAZARD_LEDGER: Ledger = Ledger {
    title: "隐患台账",
    slug: "hazards",
    columns: HAZARD_COLUMNS,
};

/// The rows of the ledger, read batch by batch in the list's order.
struct Hazards {
    scope: Scope,
    filter: HazardListFilter,
    /// The `jurisdiction_code` filter, resolved before the first batch.
    jurisdiction: Option<String>,
    today: NaiveDate,
}

impl Source for Hazards {
    type Row = HazardRow;

    fn start(&mut self, c: &mut AnyConnection) -> ApiResult<()> {
        self.filter.jurisdiction =
            crate::routes::jurisdiction_filter(c, self.jurisdiction.as_deref())?;
        Ok(())
    }

    fn read(&mut self, c: &mut AnyConnection) -> ApiResult<Vec<HazardRow>> {
        let rows = hazards::list_visible(c, &self.scope, &self.filter)?;
        if let Some(last) = rows.last() {
            self.filter.after = Some(cursor_of(self.filter.sort, last));
        }
        Ok(rows)
    }

    fn cells(
        &self,
        c: &mut AnyConnection,
        rows: &[HazardRow],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>> {
        let enterprises = ledger::enterprises(c, rows.iter().map(|r| r.enterprise_id).collect())?;
        let closed = rows
            .iter()
            .filter(|r| r.status() == HazardStatus::Closed)
            .map(|r| r.id)
            .collect();
        let acceptors = ledger::acceptors(c, closed)?;
        Ok(rows
            .iter()
            .map(|r| {
                let (name, uscc) = enterprises.get(&r.enterprise_id).cloned().unzip();
                row(r, name, uscc, names, &acceptors, self.today)
            })
            .collect())
    }
}

fn row(
    r: &HazardRow,
    enterprise: Option<String>,
    uscc: Option<String>,
    names: &Names,
    acceptors: &std::collections::HashMap<i64, String>,
    today: NaiveDate,
) -> Vec<Cell> {
    let f = r.fields();
    let days = overdue_days(r.status(), r.rectification_deadline, today);
    let description = if f.description.is_empty() {
        f.title.clone()
    } else {
        format!("{}：{}", f.title, f.description)
    };
    vec![
        r.code.as_str().into(),
        enterprise.into(),
        uscc.into(),
        names.jurisdiction(&r.county_code).into(),
        names.sector(&r.sector_code).into(),
        description.into(),
        r.level().label().into(),
        r.source.label().into(),
        r.discovered_on.into(),
        f.responsible_person.into(),
        r.rectification_deadline.into(),
        f.measures.into(),
        f.funds_10k_yuan.into(),
        f.acceptance_criteria.into(),
        r.status().label().into(),
        (days > 0).into(),
        days.into(),
        r.listed.into(),
        acceptors.get(&r.id).cloned().into(),
        r.closed_at
            .map(|t| crate::clock::shanghai_date(to_utc(t)))
            .into(),
    ]
}

/// Export the hazard ledger
///
/// Every hazard `GET /api/v1/hazards` would list with the same filters and `sort`, in the same
/// order and scope, as one file (`format=csv`, the default, or `format=xlsx`), streamed. The
/// columns are the usual 台账 order with Chinese headers: 序号, 隐患编号, 企业名称,
/// 统一社会信用代码, 所属区县, 行业领域, 隐患描述 (title：description), 隐患级别, 隐患来源,
/// 发现日期, 整改责任人, 整改期限, 整改措施, 整改资金(万元), 验收标准, 状态, 是否逾期,
/// 逾期天数 (today, Asia/Shanghai), 是否挂牌, 验收人 (who accepted or delisted it), 销号日期.
///
/// CSV is UTF-8 with a byte-order mark, so Excel opens it as such; XLSX has a frozen header
/// row (a sheet holds at most 1,048,575 rows; more continue on the next sheet).
/// `Content-Disposition` names the file `隐患台账-<date>` (`filename*`, RFC 5987) with an
/// ASCII fallback `hazards-<date>`. `limit` and `cursor` do not apply (`400`). At most
/// `HAZREG_EXPORT_CONCURRENCY` exports run at once; beyond that `503 exports_busy`. A failure
/// after the first rows were sent cuts the download short rather than ending it cleanly.
#[utoipa::path(
    tag = "hazards", operation_id = "export_hazards",
    params(
        crate::http::export::ExportParams,
        HazardQuery,
    ),
    security(("bearer" = [])),
    responses(export::ExportResponses)
)]
#[get("/hazards/export")]
pub async fn export_hazards(
    p: Principal,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (format, q, updated_since) = export::query::<HazardQuery>(req.query_string())?;
    let today = state.clock.today();
    let jurisdiction = q.jurisdiction_code.clone();
    let mut filter = list_filter(q, today, updated_since)?;
    filter.fetch = export::BATCH;
    let source = Hazards {
        scope: p.scope(),
        filter,
        jurisdiction,
        today,
    };
    export::respond(&state, &HAZARD_LEDGER, format, source).await
}
