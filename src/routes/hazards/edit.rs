//! Changing a hazard's fields (merge patch).

use actix_web::{patch, web, HttpResponse};
use serde_json::Value;

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::events;
use crate::db::hazards;
use crate::db::write_tx;
use crate::domain::event::EventType;
use crate::domain::hazard::{editing, HazardFields};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::json::from_merged;
use crate::http::{patch as merge_patch, ApiJson, IfMatch};
use crate::routes::with_etag;
use crate::state::AppState;

use super::{visible_hazard, HazardResponse};

/// Change a hazard's fields
///
/// A JSON merge patch over the fields of the create body (`null` clears an optional field;
/// `major_report` and `governance_plan` merge field by field); needs `If-Match` (`428`
/// without, `412` when stale). The status never changes here (sending `status` is
/// `422 invalid_body`; use `POST …/transitions`); `level` changes only through the `regrade`
/// transition and `enterprise_id` never (`422 validation_failed`).
///
/// Who: regulators in scope and the enterprise's own accounts; auditors get `403 forbidden`.
/// On a hazard a regulator recorded, an enterprise account may fill in the rectification
/// (五定, report, plan) but not change the finding (`title`, `description`, `location`,
/// `source`, `nature`, `standard_ref`, `major_reason`, `discovered_on`): `403 field_not_allowed`.
///
/// Rules: closed and void hazards are read-only (`409 not_editable`; reopen first). The
/// `rectification_deadline` can change only while `reported`; from `rectifying` on it is locked
/// (`409 deadline_locked`) and moves only through an approved extension. Once rectification has
/// started, the 五定 block (and, for major, the report and plan) cannot be blanked (`422`). The
/// edit is audited (before/after); a patch that changes nothing records no event.
#[utoipa::path(
    tag = "hazards", operation_id = "update_hazard", request_body = HazardFields,
    params(
        ("id" = i64, Path, description = "Hazard id"),
        ("If-Match" = String, Header, description = "The ETag you last read"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed hazard", body = HazardResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors are read-only (`forbidden`); an enterprise account changing a finding a regulator recorded (`field_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hazard is closed or void (`not_editable`, with `context.status`), or the deadline is locked since rectification started (`deadline_locked`, with `context.status` and `context.rectification_deadline`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`: not an object, an unknown field such as `status`, a wrong type); invalid values (`validation_failed`): changing `level` or `enterprise_id`, a `source` your role may not claim, blanking the 五定 block or the major report/plan once rectifying, …", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/hazards/{id}")]
pub async fn update_hazard(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let patch = body.body;
    if !patch.is_object() {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "",
            "A JSON object is required",
        ));
    }
    let today = state.clock.today();
    let actor = Actor::from(&p);
    let response = state
        .run(move |c| {
            write_tx(c, |c| {
                let row = visible_hazard(c, &p, id)?;
                // The shape of the patch first (unknown fields, wrong types, `status`).
                let mut merged = serde_json::to_value(row.fields()).map_err(ApiError::internal)?;
                merge_patch::merge(&mut merged, &patch);
                let input: HazardFields = from_merged(merged.clone())?;
                let current = serde_json::to_value(row.fields()).map_err(ApiError::internal)?;
                let changed = merge_patch::changed_fields(&current, &merged);
                let reporter = crate::db::accounts::role_of(c, row.reported_by)?;
                policy::edit_hazard(&p, reporter, &changed)?;
                if_match.check(row.version)?;
                let names_source = patch.get("source").is_some();
                let fields = editing::edit(
                    row.state(),
                    &row.fields(),
                    row.enterprise_id,
                    input,
                    today,
                    |given| match given {
                        Some(s) if !names_source => Ok(s),
                        _ => policy::hazard_source(&p, given),
                    },
                )?;
                let before = HazardResponse::new(&row, today);
                if fields == row.fields() {
                    // Nothing changes: no new version, no event.
                    return Ok(before);
                }
                let updated = hazards::update_fields(c, id, row.version, &fields)?
                    .ok_or_else(ApiError::precondition_failed)?;
                let after = HazardResponse::new(&updated, today);
                audit::updated(c, &actor, "hazard", id, &before, &after, None)?;
                let place = events::Place::from(&updated);
                events::publish_if_changed(
                    c,
                    &actor,
                    EventType::HazardUpdated,
                    id,
                    &place,
                    &before,
                    &after,
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(with_etag(response.version, &response))
}
