//! Recording a hazard.

use actix_web::{post, web, HttpResponse};
use chrono::Datelike;

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::enterprises;
use crate::db::events;
use crate::db::hazards::{self, NewHazard};
use crate::domain::event::EventType;
use crate::domain::hazard::lifecycle;
use crate::domain::hazard::{editing, HazardFields};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::{ApiJson, IdempotencyKey};
use crate::state::AppState;

use super::{evidence, HazardResponse};

/// A hazard to record: the hazard's fields, and photos staged before it existed
/// (`attachment_ids`). Documentation only: the body is read as [`HazardFields`] plus the ids
/// (`create_body`).
pub struct CreateHazardRequest;

// Written by hand: `#[serde(flatten)]` would make utoipa render an `allOf` that drops the
// closed object (`additionalProperties: false`) the fields have.
impl utoipa::PartialSchema for CreateHazardRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
        use utoipa::openapi::RefOr;
        let base = <HazardFields as utoipa::PartialSchema>::schema();
        let RefOr::T(Schema::Object(mut object)) = base else {
            return base;
        };
        let ids = ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::Integer).format(Some(
                utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64),
            )))
            .max_items(Some(20))
            .description(Some(
                "Attachments you staged with `POST /api/v1/attachments`, bound to the new hazard \
                 in the same transaction (at most 20). One that is not your live staged \
                 attachment is `404` and nothing is recorded.",
            ));
        object.properties.insert(
            "attachment_ids".into(),
            RefOr::T(Schema::Array(ids.build())),
        );
        object.description = Some(
            "A hazard to record, and photos staged before it existed (`attachment_ids`).".into(),
        );
        object.example = Some(serde_json::json!({
            "enterprise_id": 42, "title": "配电室未配置绝缘垫", "description": "高压柜前未铺设绝缘垫",
            "level": "general", "discovered_on": "2026-11-28", "standard_ref": "GB 50054-2011 4.2",
            "attachment_ids": [12, 13]
        }));
        RefOr::T(Schema::Object(object))
    }
}

impl utoipa::ToSchema for CreateHazardRequest {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <HazardFields as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Splits a create body into the hazard's fields and the staged attachments to bind (the
/// fields refuse unknown members, which `#[serde(flatten)]` cannot).
fn create_body(mut body: serde_json::Value) -> ApiResult<(HazardFields, Vec<i64>)> {
    let ids = match body
        .as_object_mut()
        .and_then(|o| o.remove("attachment_ids"))
    {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(v) => crate::http::json::from_value::<Vec<i64>>(v).map_err(|mut e| {
            for f in &mut e.errors {
                f.pointer = format!("/attachment_ids{}", f.pointer);
            }
            e
        })?,
    };
    let fields = crate::http::json::from_value(body)?;
    Ok((fields, ids))
}

/// Record a hazard
///
/// Regulators record hazards of enterprises in their scope (`enterprise_id` required); an
/// enterprise account records hazards of its own enterprise (`enterprise_id` implied; naming
/// another is `404`). Auditors get `403 forbidden`. An enterprise outside your scope is `404`;
/// a closed enterprise is `409 enterprise_closed`.
///
/// `source` defaults to `self_inspection` for enterprise accounts and `regulator_inspection`
/// for regulators; neither may claim the other's (`422`). A `major` hazard cites the 判定标准
/// clause (`standard_ref`) or gives `major_reason`; `discovered_on` is not in the future and
/// the deadline not before it (a past deadline is accepted). A hazard recorded with the
/// complete 五定 block (and, for `major`, `major_report` and `governance_plan`) starts in
/// `rectifying`, otherwise in `reported`. The `code` (`<county-level unit>-<year>-<5 digits>`)
/// is never reused; `jurisdiction_code` and `sector_code` are copied from the enterprise. The
/// creation is audited; `Idempotency-Key` makes a retry replay the first `201`.
///
/// `attachment_ids` binds photos you staged before the hazard existed
/// (`POST /api/v1/attachments`, photo-first capture) in the same transaction; each is recorded
/// as `attachment_added`. One that is not your live staged attachment (another account's,
/// expired, already bound, unknown) is `404` and nothing is recorded.
#[utoipa::path(
    tag = "hazards", operation_id = "create_hazard", request_body = CreateHazardRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded; `Location` names the new hazard", body = HazardResponse,
         headers(("Location" = String, description = "URL of the new hazard"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Auditors cannot record hazards (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The enterprise does not exist or is outside your scope; for an enterprise account, any enterprise but its own; or an `attachment_ids` element is not your live staged attachment (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The enterprise is closed (`enterprise_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields (`validation_failed`: no `enterprise_id` from a regulator, a `source` your role may not claim, a future `discovered_on`, a deadline before it, a major hazard without `standard_ref` or `major_reason`, …); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/hazards")]
pub async fn create_hazard(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let (fields, attachment_ids) = create_body(body.body)?;
    let (now, today) = (state.clock.now(), state.clock.today());
    let actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_hazard",
        body.sha256,
        move |c| {
            let row = record(c, &p, &actor, fields, now, today, Default::default())?;
            evidence::bind_staged(c, &p, row.id, &attachment_ids)?;
            Created::new(
                format!("/api/v1/hazards/{}", row.id),
                &HazardResponse::new(&row, today),
            )
        },
    )
    .await
}

/// Records a hazard from its fields, as `p` (checks, code, row, audit, `hazard.created`), in
/// the caller's transaction: what `POST /hazards` does, and what converting a public report
/// does, and a failed check (`origin` names where it comes from).
pub(crate) fn record(
    c: &mut crate::db::AnyConnection,
    p: &Principal,
    actor: &Actor,
    mut fields: HazardFields,
    now: chrono::DateTime<chrono::Utc>,
    today: chrono::NaiveDate,
    origin: hazards::Origin,
) -> ApiResult<hazards::HazardRow> {
    // Auditors never record hazards, whatever they name.
    policy::work_on_hazards(p)?;
    let enterprise_id = editing::enterprise_of_new(p.enterprise_id, fields.enterprise_id)?;
    let enterprise =
        enterprises::get_visible(c, &p.scope(), enterprise_id)?.ok_or_else(ApiError::not_found)?;
    enterprise.status.accepts_hazards()?;
    fields.enterprise_id = Some(enterprise_id);
    fields.source = Some(policy::hazard_source(p, fields.source)?);
    let fields = fields.validate(today).map_err(ApiError::validation)?;
    let status = lifecycle::initial_status(&fields);
    // The enterprise row carries its city and county-level unit (`db::scope`).
    let year = crate::clock::shanghai_date(now).year();
    let prefix = format!("{}-{year}", enterprise.county_code);
    let row = hazards::insert(
        c,
        &NewHazard {
            code_prefix: &prefix,
            enterprise_id,
            jurisdiction_code: &enterprise.jurisdiction_code,
            county_code: &enterprise.county_code,
            city_code: &enterprise.city_code,
            sector_code: &enterprise.sector_code,
            status,
            reported_by: p.account_id,
            origin,
        },
        &fields,
    )?;
    let response = HazardResponse::new(&row, today);
    audit::created(c, actor, "hazard", row.id, &response)?;
    let place = events::Place::from(&row);
    events::publish(
        c,
        actor,
        EventType::HazardCreated,
        row.id,
        &place,
        &response,
    )?;
    Ok(row)
}
