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
use crate::http::page::{self, Page};
use crate::routes::parse_timestamp;
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
    /// RFC 3339; only rows changed at or after this instant.
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    /// Only the departments of this jurisdiction.
    pub jurisdiction_code: Option<String>,
    /// RFC 3339; only rows changed at or after this instant.
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The window of a reference collection keyed by text (a path, a code): the cursor carries
/// that key under a tag, so a cursor of another collection is refused.
fn text_window(
    tag: &str,
    raw_cursor: Option<&str>,
    updated_since: Option<&str>,
    limit: Option<i64>,
) -> ApiResult<Window<String>> {
    Ok(Window {
        after: page::decode_tagged_cursor(tag, raw_cursor)?,
        updated_since: parse_timestamp("updated_since", updated_since)?,
        limit: page::limit(limit)? + 1,
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
    tag = "reference", operation_id = "list_jurisdictions", params(JurisdictionQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of jurisdictions matching the filters", body = Page<Jurisdiction>))
)]
#[get("/jurisdictions")]
pub async fn list_jurisdictions(
    _p: Principal,
    state: web::Data<AppState>,
    query: web::Query<JurisdictionQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let w = text_window(
        "path",
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
        q.limit,
    )?;
    let limit = w.limit - 1;
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
    let page = page::finish_with(
        rows,
        limit,
        |r| page::encode_cursor(&format!("path:{}", r.path)),
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
    tag = "reference", operation_id = "list_sectors", params(crate::routes::PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of sectors", body = Page<Sector>))
)]
#[get("/sectors")]
pub async fn list_sectors(
    _p: Principal,
    state: web::Data<AppState>,
    query: web::Query<crate::routes::PageQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let w = text_window(
        "code",
        q.cursor.as_deref(),
        q.updated_since.as_deref(),
        q.limit,
    )?;
    let limit = w.limit - 1;
    let rows = state.run(move |c| Ok(reference::sectors(c, &w)?)).await?;
    let page = page::finish_with(
        rows,
        limit,
        |r| page::encode_cursor(&format!("code:{}", r.code)),
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
    tag = "reference", operation_id = "list_departments", params(DepartmentQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of departments matching the filter", body = Page<Department>))
)]
#[get("/departments")]
pub async fn list_departments(
    _p: Principal,
    state: web::Data<AppState>,
    query: web::Query<DepartmentQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = page::limit(q.limit)?;
    let w = Window {
        after: page::decode_id_cursor(q.cursor.as_deref())?,
        updated_since: parse_timestamp("updated_since", q.updated_since.as_deref())?,
        limit: limit + 1,
    };
    let rows = state
        .run(move |c| {
            Ok(reference::departments(
                c,
                q.jurisdiction_code.as_deref(),
                &w,
            )?)
        })
        .await?;
    let page = page::finish(
        rows,
        limit,
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
