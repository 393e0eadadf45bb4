//! Enterprises (一企一档): registered by regulators within their reach; an enterprise account
//! reads its own record and keeps its contacts, size and safety director up to date.
//! Never deleted: a closed enterprise has `status: closed`.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::enterprises::{self, EnterpriseFilter, EnterpriseRow};
use crate::db::events;
use crate::db::scope::jurisdiction_path;
use crate::db::{on_unique_violation, reference, to_utc, write_tx, AnyConnection};
use crate::domain::enterprise::{
    self as rules, EnterpriseFields, EnterpriseStatus, RiskLevel, SafetyDirectorRule,
    SafetyDirectorStatus,
};
use crate::domain::event::EventType;
use crate::domain::validate::FieldError;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::json::{from_merged, from_value};
use crate::http::page::{self, Listing};
use crate::http::{patch as merge_patch, ApiJson, IdempotencyKey, IfMatch};
use crate::routes::with_etag;
use crate::state::AppState;

/// A JSON merge patch over an enterprise: only the fields to change; `null` clears an optional
/// field. An enterprise account may change only `principal_name`, `principal_phone`,
/// `employees`, `annual_revenue_10k_yuan` and `safety_director`.
/// (Read only to check a patch's types; the document describes the body as the merge-patch
/// twin of `EnterpriseFields`.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnterpriseRequest {
    pub uscc: Option<String>,
    pub name: Option<String>,
    pub jurisdiction_code: Option<String>,
    pub sector_code: Option<String>,
    pub address: Option<String>,
    pub legal_representative: Option<String>,
    pub principal_name: Option<String>,
    pub principal_phone: Option<String>,
    pub employees: Option<i32>,
    pub annual_revenue_10k_yuan: Option<f64>,
    pub safety_director: Option<SafetyDirectorPatch>,
    pub risk_level: Option<RiskLevel>,
    pub standardization_grade: Option<String>,
    pub status: Option<EnterpriseStatus>,
}

/// Part of a safety director, for a merge patch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyDirectorPatch {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub appointed_on: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 42,
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
    "status": "operating",
    "above_scale": true,
    "safety_director_required": false,
    "safety_director_status": "appointed",
    "computed_risk_level": "orange",
    "created_at": "2026-11-29T02:00:00Z",
    "updated_at": "2026-11-29T02:00:00Z",
    "version": 1
}))]
pub struct EnterpriseResponse {
    pub id: i64,
    #[serde(flatten)]
    pub fields: EnterpriseFields,
    /// 规模以上: employees or revenue at or above the configured thresholds.
    pub above_scale: bool,
    /// Above scale and in a sector that must appoint a safety director (安全总监).
    pub safety_director_required: bool,
    pub safety_director_status: SafetyDirectorStatus,
    /// The level computed from its risk register: the worst level of its risk units
    /// (`GET /api/v1/risk-units`), `null` while it has none; `risk_level` is the declared one.
    pub computed_risk_level: Option<RiskLevel>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl EnterpriseResponse {
    fn new(r: &EnterpriseRow, rule: &SafetyDirectorRule) -> Self {
        let fields = r.fields();
        let required = rule.required(
            &fields.sector_code,
            fields.employees,
            fields.annual_revenue_10k_yuan,
        );
        EnterpriseResponse {
            id: r.id,
            above_scale: rule.above_scale(fields.employees, fields.annual_revenue_10k_yuan),
            safety_director_required: required,
            safety_director_status: rule.status(required, fields.safety_director.is_some()),
            fields,
            computed_risk_level: r.computed_risk_level,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

/// Field validation plus the references (sector, jurisdiction) — one 422 with every problem.
/// An invalid USCC gives the problem the code `invalid_uscc`.
fn validated(
    c: &mut AnyConnection,
    fields: EnterpriseFields,
    jurisdiction_known: bool,
) -> ApiResult<EnterpriseFields> {
    let sector_known = reference::sector_exists(c, &fields.sector_code)?;
    let mut refs = Vec::new();
    if !jurisdiction_known {
        refs.push(FieldError::new(
            "/jurisdiction_code",
            "unknown jurisdiction",
        ));
    }
    if !sector_known {
        refs.push(FieldError::new("/sector_code", "unknown sector"));
    }
    let (uscc_error, mut errors) = match rules::validate(fields) {
        Ok(f) if refs.is_empty() => return Ok(f),
        Ok(_) => (None, Vec::new()),
        Err(e) => e,
    };
    errors.extend(refs);
    match uscc_error {
        Some(u) => {
            let mut e = ApiError::validation([vec![u.clone()], errors].concat());
            e.code = "invalid_uscc";
            e.detail = format!("The USCC is invalid: {}", u.message);
            Err(e)
        }
        None => Err(ApiError::validation(errors)),
    }
}

fn duplicate_uscc(e: diesel::result::Error) -> ApiError {
    on_unique_violation(e, || {
        let mut err = ApiError::conflict(
            "duplicate_uscc",
            "An enterprise with this USCC is already registered",
        );
        err.errors = vec![FieldError::new("/uscc", "already registered")];
        err
    })
}

/// Register an enterprise
///
/// Regulators only (`city_admin`, `city_officer`, `county_admin`, `county_officer`); enterprise
/// accounts and auditors get `403 forbidden`. The `jurisdiction_code` must be at or below yours
/// (`403 out_of_jurisdiction`) and, for an officer bound to a department, the `sector_code` one
/// its department supervises (`403 out_of_sector`, 管行业必须管安全).
///
/// The USCC (统一社会信用代码) is normalised (trimmed, full-width to half-width, upper case)
/// and checked against GB 32100 (`422 invalid_uscc`, pointer `/uscc`); it must be unique
/// (`409 duplicate_uscc`). `employees` and `annual_revenue_10k_yuan` are required: the answer
/// computes `above_scale`, `safety_director_required` and `safety_director_status` (安全总监)
/// from them and the configured rule. Unknown jurisdiction or sector codes and other field
/// problems come back together in one `422`. `status` defaults to `operating`. The
/// registration is audited; `Idempotency-Key` makes a retry replay the first `201`.
#[utoipa::path(
    tag = "enterprises", operation_id = "create_enterprise", request_body = EnterpriseFields,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered; `Location` names the new enterprise", body = EnterpriseResponse,
         headers(("Location" = String, description = "URL of the new enterprise"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator (`forbidden`), the jurisdiction is outside your reach (`out_of_jurisdiction`), or your department does not supervise the sector (`out_of_sector`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The USCC is already registered (`duplicate_uscc`, pointer `/uscc`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body has the wrong shape (`invalid_body`); an invalid USCC (`invalid_uscc`, pointer `/uscc`, with any other field errors); invalid fields or an unknown jurisdiction or sector (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/enterprises")]
pub async fn create_enterprise(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<EnterpriseFields>,
) -> ApiResult<HttpResponse> {
    let fields = body.body;
    let actor = Actor::from(&p);
    let rule = state.safety_director_rule.clone();
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_enterprise",
        body.sha256,
        move |c| {
            let path = jurisdiction_path(c, &fields.jurisdiction_code)?;
            policy::create_enterprise(
                &p,
                path.as_ref().map(|(path, _)| path.as_str()),
                &fields.sector_code,
            )?;
            let fields = validated(c, fields, path.is_some())?;
            let row = enterprises::insert(c, &fields).map_err(duplicate_uscc)?;
            let response = EnterpriseResponse::new(&row, &rule);
            audit::created(c, &actor, "enterprise", row.id, &response)?;
            let place = events::Place::from(&row);
            events::publish(
                c,
                &actor,
                EventType::EnterpriseCreated,
                row.id,
                &place,
                &response,
            )?;
            Created::new(format!("/api/v1/enterprises/{}", row.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnterpriseQuery {
    /// This jurisdiction and everything below it.
    pub jurisdiction_code: Option<String>,
    pub sector_code: Option<String>,
    pub status: Option<EnterpriseStatus>,
    pub risk_level: Option<RiskLevel>,
    pub safety_director_status: Option<SafetyDirectorStatus>,
    /// Part of the name or the USCC (case-insensitive).
    pub q: Option<String>,
}

/// List enterprises
///
/// Any signed-in account, limited to its scope: regulators and auditors see the enterprises at
/// or below their jurisdiction (an officer bound to a department only those of its sectors); an
/// enterprise account sees only its own. Oldest first, keyset-paginated.
///
/// Filters: `jurisdiction_code` (that jurisdiction and everything below it; an unknown code is
/// `422 validation_failed`, a known one outside your scope simply yields nothing), `sector_code`,
/// `status`, `risk_level`, `safety_director_status` (e.g. `missing` to find above-scale
/// enterprises without the required 安全总监), `q` (part of the name or USCC) and
/// `updated_since`. Unknown parameters or bad values answer `400 invalid_query`; a foreign
/// cursor `400 invalid_cursor`.
#[utoipa::path(
    tag = "enterprises", operation_id = "list_enterprises", params(EnterpriseQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the enterprises in your scope", body = page::Page<EnterpriseResponse>))
)]
#[get("/enterprises")]
pub async fn list_enterprises(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<EnterpriseQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let fetch = paging.fetch();
    let after_id = paging.after()?;
    let updated_since = paging.updated_since;
    let rule = state.safety_director_rule.clone();
    let rows = state
        .run(move |c| {
            let jurisdiction =
                crate::routes::jurisdiction_filter(c, q.jurisdiction_code.as_deref())?;
            let filter = EnterpriseFilter {
                jurisdiction,
                sector_code: q.sector_code,
                status: q.status,
                risk_level: q.risk_level,
                safety_director_status: q.safety_director_status,
                q: q.q.filter(|s| !s.trim().is_empty()),
                updated_since,
                after_id,
                fetch,
            };
            Ok(enterprises::list_visible(c, &p.scope(), &rule, &filter)?)
        })
        .await?;
    let rule = &state.safety_director_rule;
    Ok(HttpResponse::Ok().json(paging.finish(
        rows,
        |r| r.id,
        |r| EnterpriseResponse::new(&r, rule),
    )))
}

/// Get an enterprise
///
/// Any signed-in account, within its scope (regulators and auditors: their jurisdiction
/// subtree, department officers only their sectors; enterprise accounts: their own
/// enterprise); anything else is `404`, whether it exists or not. The answer includes the
/// computed `above_scale`, `safety_director_required` and `safety_director_status`, and the
/// `ETag` to send as `If-Match` with a `PATCH`.
#[utoipa::path(
    tag = "enterprises", operation_id = "get_enterprise",
    params(("id" = i64, Path, description = "Enterprise id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The enterprise", body = EnterpriseResponse, headers(("ETag" = String, description = "Version tag for If-Match"))),
    )
)]
#[get("/enterprises/{id}")]
pub async fn get_enterprise(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .run(move |c| enterprises::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found))
        .await?;
    Ok(with_etag(
        row.version,
        &EnterpriseResponse::new(&row, &state.safety_director_rule),
    ))
}

/// Change an enterprise
///
/// A JSON merge patch (`null` clears an optional field; `safety_director` merges field by
/// field); needs `If-Match` with the enterprise's `ETag` (`428` without, `412` when stale).
/// The result is validated like a registration (`422 invalid_uscc`, `validation_failed`;
/// `409 duplicate_uscc`).
///
/// Regulators in scope change any field, keeping the enterprise within their reach: a new
/// `jurisdiction_code` outside it is `403 out_of_jurisdiction`, a new `sector_code` outside an
/// officer's department `403 out_of_sector`. The enterprise's own account may change only
/// `principal_name`, `principal_phone`, `employees`, `annual_revenue_10k_yuan` and
/// `safety_director`; sending other fields unchanged is accepted, changing them is
/// `403 field_not_allowed`. Auditors get `403 forbidden`. Setting `status: closed` stops new
/// hazards being recorded for it (`409 enterprise_closed`). Changes are audited (before/after);
/// a patch that changes nothing records no event.
#[utoipa::path(
    tag = "enterprises", operation_id = "update_enterprise", request_body = EnterpriseFields,
    params(
        ("id" = i64, Path, description = "Enterprise id"),
        ("If-Match" = String, Header, description = "The ETag you last read"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed enterprise", body = EnterpriseResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors are read-only (`forbidden`); an enterprise account changing a field outside its self-service fields (`field_not_allowed`); a new jurisdiction outside your reach (`out_of_jurisdiction`) or a sector outside your department (`out_of_sector`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new USCC is already registered to another enterprise (`duplicate_uscc`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The merged record has the wrong shape (`invalid_body`); an invalid USCC (`invalid_uscc`, pointer `/uscc`); invalid fields or an unknown jurisdiction or sector (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/enterprises/{id}")]
pub async fn update_enterprise(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let patch = body.body;
    from_value::<UpdateEnterpriseRequest>(patch.clone())?;
    let actor = Actor::from(&p);
    let rule = state.safety_director_rule.clone();
    let response = state
        .run(move |c| {
            write_tx(c, |c| {
                let current =
                    enterprises::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)?;
                let before_input =
                    serde_json::to_value(current.fields()).map_err(ApiError::internal)?;
                let mut merged = before_input.clone();
                merge_patch::merge(&mut merged, &patch);
                let input: EnterpriseFields = from_merged(merged.clone())?;
                let changed = merge_patch::changed_fields(&before_input, &merged);
                let new_path = if input.jurisdiction_code != current.jurisdiction_code {
                    jurisdiction_path(c, &input.jurisdiction_code)?.map(|(p, _)| p)
                } else {
                    None
                };
                let new_sector = (input.sector_code != current.sector_code)
                    .then_some(input.sector_code.as_str());
                let changed_refs: Vec<&str> = changed.iter().map(String::as_str).collect();
                policy::update_enterprise(&p, &changed_refs, new_path.as_deref(), new_sector)?;
                if_match.check(current.version)?;
                let jurisdiction_known =
                    new_path.is_some() || input.jurisdiction_code == current.jurisdiction_code;
                let fields = validated(c, input, jurisdiction_known)?;
                let before = EnterpriseResponse::new(&current, &rule);
                if serde_json::to_value(&fields).map_err(ApiError::internal)? == before_input {
                    // Nothing changes: no new version, no event.
                    return Ok(before);
                }
                let row = enterprises::update(c, id, current.version, &fields)
                    .map_err(duplicate_uscc)?
                    .ok_or_else(ApiError::precondition_failed)?;
                let response = EnterpriseResponse::new(&row, &rule);
                audit::updated(c, &actor, "enterprise", id, &before, &response, None)?;
                let place = events::Place::from(&row);
                events::publish_if_changed(
                    c,
                    &actor,
                    EventType::EnterpriseUpdated,
                    id,
                    &place,
                    &before,
                    &response,
                )?;
                Ok(response)
            })
        })
        .await?;
    Ok(with_etag(response.version, &response))
}
