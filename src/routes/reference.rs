//! Reference data: the jurisdiction tree, sectors and departments. Small, complete collections
//! (one page, `next_cursor` always null), readable by every signed-in account.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::db::page::Page;
use crate::db::reference;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": "431302", "name": "娄星区", "level": "county", "parent_code": "431300"}))]
pub struct Jurisdiction {
    pub code: String,
    pub name: String,
    /// `city`, `county`, `zone` (functional zone reporting like a county) or `township`.
    pub level: String,
    pub parent_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": "hazardous_chemicals", "name": "危险化学品", "high_risk": true}))]
pub struct Sector {
    pub code: String,
    pub name: String,
    pub high_risk: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "name": "市应急管理局", "jurisdiction_code": "431300", "sector_codes": ["coal_mine", "hazardous_chemicals"]}))]
pub struct Department {
    pub id: i64,
    pub name: String,
    pub jurisdiction_code: String,
    /// Sectors this department supervises (管行业必须管安全).
    pub sector_codes: Vec<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JurisdictionQuery {
    /// Only the children of this jurisdiction.
    pub parent_code: Option<String>,
    /// Only this level.
    pub level: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    /// Only the departments of this jurisdiction.
    pub jurisdiction_code: Option<String>,
}

fn page<T>(items: Vec<T>) -> Page<T> {
    Page {
        items,
        next_cursor: None,
    }
}

/// The jurisdiction tree (city → counties and zones → townships), parents before children.
#[utoipa::path(
    tag = "reference", operation_id = "list_jurisdictions", params(JurisdictionQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "All jurisdictions matching the filters", body = Page<Jurisdiction>))
)]
#[get("/jurisdictions")]
pub async fn list_jurisdictions(
    _p: Principal,
    state: web::Data<AppState>,
    query: web::Query<JurisdictionQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let rows = state
        .db
        .run(move |c| {
            Ok(reference::jurisdictions(
                c,
                q.parent_code.as_deref(),
                q.level.as_deref(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page(
        rows.into_iter()
            .map(|r| Jurisdiction {
                code: r.code,
                name: r.name,
                level: r.level,
                parent_code: r.parent_code,
            })
            .collect(),
    )))
}

/// Sectors (行业领域), with the high-risk flag.
#[utoipa::path(
    tag = "reference", operation_id = "list_sectors",
    security(("bearer" = [])),
    responses((status = 200, description = "All sectors", body = Page<Sector>))
)]
#[get("/sectors")]
pub async fn list_sectors(_p: Principal, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.db.run(|c| Ok(reference::sectors(c)?)).await?;
    Ok(HttpResponse::Ok().json(page(
        rows.into_iter()
            .map(|(code, name, high_risk)| Sector {
                code,
                name,
                high_risk,
            })
            .collect(),
    )))
}

/// Departments (安委会成员单位) with the sectors they supervise.
#[utoipa::path(
    tag = "reference", operation_id = "list_departments", params(DepartmentQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "All departments matching the filter", body = Page<Department>))
)]
#[get("/departments")]
pub async fn list_departments(
    _p: Principal,
    state: web::Data<AppState>,
    query: web::Query<DepartmentQuery>,
) -> ApiResult<HttpResponse> {
    let j = query.into_inner().jurisdiction_code;
    let rows = state
        .db
        .run(move |c| Ok(reference::departments(c, j.as_deref())?))
        .await?;
    Ok(HttpResponse::Ok().json(page(
        rows.into_iter()
            .map(|d| Department {
                id: d.id,
                name: d.name,
                jurisdiction_code: d.jurisdiction_code,
                sector_codes: d.sector_codes,
            })
            .collect(),
    )))
}
