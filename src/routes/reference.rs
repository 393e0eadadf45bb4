//! Reference data: the jurisdiction tree, sectors and departments, readable by every signed-in
//! account. They page and sync like every other collection (`limit`, `cursor`,
//! `updated_since`); most deployments fit in one page of 200.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::db::reference::{self, Window};
use crate::db::to_utc;
use crate::domain::jurisdiction::JurisdictionLevel;
use crate::error::ApiResult;
use crate::http::page::{self, Listing, Page};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": "431302", "name": "娄星区", "level": "county", "parent_code": "431300", "updated_at": "2026-11-29T02:00:00Z"}))]
pub struct Jurisdiction {
    /// Administrative division code (GB/T 2260), or a zone's own code.
    pub code: String,
    pub name: String,
    pub level: JurisdictionLevel,
    /// `null` for the root (the city).
    pub parent_code: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": "hazardous_chemicals", "name": "危险化学品", "high_risk": true, "updated_at": "2026-11-29T02:00:00Z"}))]
pub struct Sector {
    pub code: String,
    pub name: String,
    /// A high-risk sector (高危行业).
    pub high_risk: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "name": "市应急管理局", "jurisdiction_code": "431300", "sector_codes": ["coal_mine", "hazardous_chemicals"], "updated_at": "2026-11-29T02:00:00Z"}))]
pub struct Department {
    pub id: i64,
    pub name: String,
    pub jurisdiction_code: String,
    /// Sectors this department supervises (管行业必须管安全).
    pub sector_codes: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JurisdictionQuery {
    /// Only the children of this jurisdiction.
    pub parent_code: Option<String>,
    /// Only this level.
    pub level: Option<JurisdictionLevel>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    /// Only the departments of this jurisdiction.
    pub jurisdiction_code: Option<String>,
}

/// The window of a reference collection the paging asks for.
fn window<K: serde::de::DeserializeOwned>(paging: &page::Paging) -> ApiResult<Window<K>> {
    Ok(Window {
        after: paging.after()?,
        updated_since: paging.updated_since,
        limit: paging.fetch(),
    })
}

/// List jurisdictions
///
/// The jurisdiction tree (city → counties and functional zones → townships) in tree order: a
/// parent always comes before its children. Readable by every signed-in account, whatever its
/// scope (the tree is public reference data). Filter by `parent_code` (direct children) or
/// `level`; page with `limit`/`cursor`; sync with `updated_since`. An unknown `level` is
/// `400 invalid_query`.
#[utoipa::path(
    tag = "reference", operation_id = "list_jurisdictions", params(JurisdictionQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of jurisdictions matching the filters", body = Page<Jurisdiction>))
)]
#[get("/jurisdictions")]
pub async fn list_jurisdictions(
    _p: Principal,
    state: web::Data<AppState>,
    query: Listing<JurisdictionQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let w = window::<String>(&paging)?;
    let rows = state
        .run(move |c| {
            Ok(reference::jurisdictions(
                c,
                q.parent_code.as_deref(),
                q.level.map(JurisdictionLevel::as_str),
                &w,
            )?)
        })
        .await?;
    let page = paging.finish(
        rows,
        |r| r.path.clone(),
        |r| Jurisdiction {
            code: r.code,
            name: r.name,
            level: r.level,
            parent_code: r.parent_code,
            updated_at: to_utc(r.updated_at),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// List sectors
///
/// The sectors (行业领域) enterprises belong to, by code, with the high-risk flag (高危行业).
/// Readable by every signed-in account. Page with `limit`/`cursor`; sync with
/// `updated_since`.
#[utoipa::path(
    tag = "reference", operation_id = "list_sectors", params(crate::http::page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of sectors", body = Page<Sector>))
)]
#[get("/sectors")]
pub async fn list_sectors(
    _p: Principal,
    state: web::Data<AppState>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let paging = query.paging;
    let w = window::<String>(&paging)?;
    let rows = state.run(move |c| Ok(reference::sectors(c, &w)?)).await?;
    let page = paging.finish(
        rows,
        |r| r.code.clone(),
        |r| Sector {
            code: r.code,
            name: r.name,
            high_risk: r.high_risk,
            updated_at: to_utc(r.updated_at),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// List departments
///
/// The departments (安委会成员单位) of each jurisdiction, by id, with the sectors each
/// supervises (管行业必须管安全): a `city_officer` or `county_officer` bound to a department
/// sees the enterprises and hazards of those sectors. Readable by every signed-in account.
/// Filter by `jurisdiction_code`; page with `limit`/`cursor`; sync with `updated_since`.
#[utoipa::path(
    tag = "reference", operation_id = "list_departments", params(DepartmentQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of departments matching the filter", body = Page<Department>))
)]
#[get("/departments")]
pub async fn list_departments(
    _p: Principal,
    state: web::Data<AppState>,
    query: Listing<DepartmentQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let w = window::<i64>(&paging)?;
    let rows = state
        .run(move |c| {
            Ok(reference::departments(
                c,
                q.jurisdiction_code.as_deref(),
                &w,
            )?)
        })
        .await?;
    let page = paging.finish(
        rows,
        |r| r.id,
        |r| Department {
            id: r.id,
            name: r.name,
            jurisdiction_code: r.jurisdiction_code,
            sector_codes: r.sector_codes,
            updated_at: to_utc(r.updated_at),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}
