//! The listed-supervision ledger (挂牌督办台账) as a file.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;

use super::{listing_filter, ListingQuery};
use crate::auth::Principal;
use crate::db::ledger::{self, Names};
use crate::db::listings::{self, ListingFilter, ListingRow};
use crate::db::scope::Scope;
use crate::db::{to_utc, AnyConnection};
use crate::domain::ledger::{Label, LISTING_COLUMNS};
use crate::domain::listing::ListingStatus;
use crate::error::ApiResult;
use crate::http::export::{self, Cell, Ledger, Source};
use crate::state::AppState;

static LISTING_LEDGER: Ledger = Ledger {
    title: "挂牌督办台账",
    slug: "listings",
    columns: LISTING_COLUMNS,
};

struct Listings {
    scope: Scope,
    filter: ListingFilter,
    jurisdiction: Option<String>,
    today: NaiveDate,
}

impl Source for Listings {
    type Row = ListingRow;

    fn start(&mut self, c: &mut AnyConnection) -> ApiResult<()> {
        self.filter.jurisdiction =
            crate::routes::jurisdiction_filter(c, self.jurisdiction.as_deref())?;
        Ok(())
    }

    fn read(&mut self, c: &mut AnyConnection) -> ApiResult<Vec<ListingRow>> {
        let rows = listings::list_visible(c, &self.scope, &self.filter)?;
        if let Some(last) = rows.last() {
            self.filter.after_id = Some(last.id);
        }
        Ok(rows)
    }

    fn cells(
        &self,
        c: &mut AnyConnection,
        rows: &[ListingRow],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>> {
        let enterprises = ledger::enterprises(c, rows.iter().map(|r| r.enterprise_id).collect())?;
        let hazards = ledger::hazards(c, rows.iter().map(|r| r.hazard_id).collect())?;
        Ok(rows
            .iter()
            .map(|r| {
                let (name, uscc) = enterprises.get(&r.enterprise_id).cloned().unzip();
                let (code, title) = hazards.get(&r.hazard_id).cloned().unzip();
                row(r, [name, uscc, code, title], names, self.today)
            })
            .collect())
    }
}

/// `looked_up`: the enterprise's name and USCC, the hazard's code and title.
fn row(
    r: &ListingRow,
    looked_up: [Option<String>; 4],
    names: &Names,
    today: NaiveDate,
) -> Vec<Cell> {
    let [enterprise, uscc, code, title] = looked_up;
    let date = |t: chrono::NaiveDateTime| crate::clock::shanghai_date(to_utc(t));
    vec![
        r.notice_no.as_str().into(),
        code.into(),
        title.into(),
        enterprise.into(),
        uscc.into(),
        names.jurisdiction(&r.county_code).into(),
        names.sector(&r.sector_code).into(),
        r.level.label().into(),
        names.jurisdiction(&r.authority_code).into(),
        r.requirements.as_str().into(),
        r.responsible_unit.as_str().into(),
        date(r.listed_at).into(),
        r.deadline.into(),
        r.status.label().into(),
        (r.status == ListingStatus::Listed && r.deadline < today).into(),
        r.delisted_at.map(date).into(),
        r.delisting_note.clone().into(),
    ]
}

/// Export the listed-supervision ledger
///
/// Every listing `GET /api/v1/listings` would list with the same filters, in the same order
/// and scope, as one file (`format=csv`, the default, or `format=xlsx`), streamed, with the
/// ledger's Chinese headers: 序号, 督办文号, 隐患编号, 隐患名称, 企业名称, 统一社会信用代码,
/// 所属区县, 行业领域, 督办级别, 挂牌单位, 督办要求, 整改责任单位, 挂牌日期, 整改期限, 状态,
/// 是否逾期 (still listed past its deadline today, Asia/Shanghai), 销号日期, 销号说明. File
/// name, formats, limits and failures as for `GET /api/v1/hazards/export`.
#[utoipa::path(
    tag = "listings", operation_id = "export_listings",
    params(
        crate::http::export::ExportParams,
        ListingQuery,
    ),
    security(("bearer" = [])),
    responses(export::ExportResponses)
)]
#[get("/listings/export")]
pub async fn export_listings(
    p: Principal,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (format, q, updated_since) = export::query::<ListingQuery>(req.query_string())?;
    let today = state.clock.today();
    let jurisdiction = q.jurisdiction_code.clone();
    let mut filter = listing_filter(q, today, updated_since);
    filter.fetch = export::BATCH;
    let source = Listings {
        scope: p.scope(),
        filter,
        jurisdiction,
        today,
    };
    export::respond(&state, &LISTING_LEDGER, format, source).await
}
