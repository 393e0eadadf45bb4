//! A hazard's evidence as the API shows it, and the one way an attachment joins a hazard:
//! recorded on its timeline and in the change feed, whether it was uploaded to the hazard or
//! staged first and bound by a create or a transition.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::audit::{self, Actor};
use crate::db::hazards::{self, AttachmentRow, HazardRow};
use crate::db::{events, to_utc, AnyConnection};
use crate::domain::event::EventType;
use crate::domain::hazard::AttachmentStage;
use crate::error::{ApiError, ApiResult};

use super::HazardResponse;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 11, "hazard_id": 7,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "size": 482113, "content_type": "image/jpeg", "stage": "after", "file_name": "配电室整改后.jpg",
    "uploaded_by": 12, "created_at": "2026-12-03T06:30:00Z", "expires_at": null
}))]
pub struct AttachmentResponse {
    pub id: i64,
    /// `null` while the attachment is staged (uploaded before its hazard exists).
    pub hazard_id: Option<i64>,
    pub sha256: String,
    pub size: i64,
    /// Sniffed from the bytes: `image/jpeg`, `image/png`, `image/webp` or `application/pdf`.
    pub content_type: String,
    pub stage: AttachmentStage,
    pub file_name: Option<String>,
    pub uploaded_by: i64,
    pub created_at: DateTime<Utc>,
    /// A staged attachment is removed at this instant unless a hazard create or a transition
    /// binds it first; `null` once bound.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<AttachmentRow> for AttachmentResponse {
    fn from(r: AttachmentRow) -> Self {
        AttachmentResponse {
            id: r.id,
            hazard_id: r.hazard_id,
            sha256: r.sha256,
            size: r.size,
            content_type: r.content_type,
            stage: r.stage,
            file_name: r.file_name,
            uploaded_by: r.uploaded_by,
            created_at: to_utc(r.created_at),
            expires_at: r.staged_until.map(to_utc),
        }
    }
}

/// Records that `attachment` joined hazard `hazard_id`: on its timeline
/// (`attachment_added`) and in the change feed (`hazard.attachment_added`, the hazard with
/// the `attachment`).
pub fn record_added(
    c: &mut AnyConnection,
    actor: &Actor,
    hazard: &HazardRow,
    attachment: &AttachmentResponse,
) -> ApiResult<()> {
    let hazard_id = hazard.id;
    audit::record(
        c,
        actor,
        "attachment_added",
        "hazard",
        &hazard_id.to_string(),
        &json!({"attachment_id": attachment.id, "stage": attachment.stage, "sha256": attachment.sha256,
                "content_type": attachment.content_type, "size": attachment.size}),
    )?;
    let data = events::with(
        &HazardResponse::new(hazard, crate::db::today()),
        "attachment",
        attachment,
    )?;
    let place = events::Place::from(hazard);
    events::publish(
        c,
        actor,
        EventType::HazardAttachmentAdded,
        hazard_id,
        &place,
        &data,
    )?;
    Ok(())
}

/// Binds the caller's staged attachments `ids` to a hazard it may add evidence to, in the
/// caller's transaction, after the hazard's own checks (SPEC §7: a list that is not at most 20
/// distinct positive ids is `422`). One that is not the caller's live staged attachment
/// (another's, expired, already bound, unknown) is `404` naming it, and nothing is bound.
pub fn bind_staged(
    c: &mut AnyConnection,
    p: &Principal,
    hazard_id: i64,
    ids: &[i64],
) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    checked_ids(ids)?;
    let bound = hazards::bind_staged(c, hazard_id, p.account_id, ids)?.map_err(|index| {
        ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "attachment_ids/{index}: {} is not a staged attachment of yours (unknown, \
                 another's, expired or already bound)",
                ids[index]
            ),
        )
    })?;
    let actor = Actor::from(p);
    // Binding changes no column of the hazard: one read serves every event.
    let hazard = hazards::get(c, hazard_id)?;
    for row in bound {
        record_added(c, &actor, &hazard, &AttachmentResponse::from(row))?;
    }
    Ok(())
}

/// `attachment_ids` of a create or transition body: at most 20 distinct positive ids.
fn checked_ids(ids: &[i64]) -> ApiResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        if *id <= 0 || !seen.insert(*id) {
            return Err(ApiError::invalid_field(
                "validation_failed",
                &format!("/attachment_ids/{i}"),
                "a positive attachment id, each once",
            ));
        }
    }
    if ids.len() > 20 {
        return Err(ApiError::invalid_field(
            "validation_failed",
            "/attachment_ids",
            "at most 20 attachments at once",
        ));
    }
    Ok(())
}
