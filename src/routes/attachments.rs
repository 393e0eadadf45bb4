//! Attachments of hazards (整改照片, documents): photos and documents, typed by their bytes, stored by content.

use actix_web::http::header::{self, ContentDisposition, DispositionType};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use utoipa::ToSchema;

use crate::attachment_store::{too_large, Received};
use crate::auth::{policy, Principal};
use crate::db::audit::Actor;
use crate::db::hazards::{self, NewAttachment};
use crate::domain::hazard::AttachmentStage;
use crate::domain::validate::FieldError;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::page;
use crate::http::IdempotencyKey;
use crate::routes::hazards::evidence::{self, AttachmentResponse};
use crate::routes::hazards::visible_hazard;
use crate::state::AppState;

/// The upload form (`multipart/form-data`).
/// The multipart form of an upload; any other form field is refused (`422`).
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"file": "(the bytes of a JPEG, PNG, WebP or PDF file)", "stage": "after"}))]
#[allow(dead_code)]
pub struct UploadForm {
    /// JPEG, PNG, WebP or PDF — recognised by its bytes, whatever its name or declared type.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    stage: AttachmentStage,
}

/// The raw bytes of a file.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// The hazard is visible, the caller may add attachments, and the hazard is still open.
fn check_can_add(
    c: &mut crate::db::AnyConnection,
    p: &Principal,
    id: i64,
) -> ApiResult<hazards::HazardRow> {
    let hazard = visible_hazard(c, p, id)?;
    policy::work_on_hazards(p)?;
    crate::domain::hazard::lifecycle::takes_attachments(hazard.state())?;
    Ok(hazard)
}

fn unsupported(detail: &str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        detail,
    )
}

/// Keeps a client's file name for display only: no path, no control characters, bounded.
fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| crate::http::text::allowed_in_line(*c))
        .take(200)
        .collect();
    Some(cleaned).filter(|s| !s.trim().is_empty())
}

struct Upload {
    file: Option<(Received, Option<String>)>,
    stage: Option<String>,
}

async fn read_form(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<Upload> {
    let mut upload = Upload {
        file: None,
        stage: None,
    };
    let result = read_fields(state, req, payload, &mut upload).await;
    if let (Err(_), Some((received, _))) = (&result, &upload.file) {
        // Nothing half-received stays behind.
        state.attachments.discard(received).await;
    }
    result.map(|_| upload)
}

async fn read_fields(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    upload: &mut Upload,
) -> ApiResult<()> {
    let limit = state.config.upload_max_bytes;
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| match e {
            actix_multipart::MultipartError::ContentTypeMissing
            | actix_multipart::MultipartError::ContentTypeParse
            | actix_multipart::MultipartError::ContentTypeIncompatible => {
                unsupported("Send the upload as multipart/form-data with the fields file and stage")
            }
            other => ApiError::bad_request("malformed_multipart", other.to_string()),
        })?;
        match field.name().unwrap_or("") {
            "file" if upload.file.is_none() => {
                let name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .and_then(clean_file_name);
                upload.file = Some((state.attachments.receive(field, limit).await?, name));
            }
            "stage" if upload.stage.is_none() => {
                let mut value = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk
                        .map_err(|e| ApiError::bad_request("malformed_multipart", e.to_string()))?;
                    value.extend_from_slice(&chunk);
                    if value.len() > 64 {
                        // Stop reading at once: an endless field is refused, not drained.
                        return Err(bad_stage());
                    }
                }
                upload.stage = Some(String::from_utf8_lossy(&value).trim().to_string());
            }
            other => {
                return Err(ApiError::validation(vec![FieldError::new(
                    format!("/{other}"),
                    "unexpected form field (send one `file` and one `stage`)",
                )]))
            }
        }
    }
    Ok(())
}

fn bad_stage() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "/stage",
        "one of before, after, plan, acceptance, other",
    )])
}

/// Upload an attachment to a hazard
///
/// `multipart/form-data` with exactly one `file` and one `stage` (`before`, `after`, `plan`,
/// `acceptance` or `other`). The enterprise's own accounts and regulators in scope may upload;
/// auditors get `403 forbidden`. Closed and void hazards take no more attachments
/// (`409 not_editable`). An `after` attachment is what `submit_for_acceptance` requires.
///
/// The type is sniffed from the bytes — JPEG, PNG, WebP or PDF, whatever the file name or
/// declared type says (anything else `415`); the size is limited by `HAZREG_UPLOAD_MAX_BYTES`
/// (default 20 MiB; `413` as soon as the limit is passed, or before reading when
/// `Content-Length` already says so). The file is stored by its SHA-256 (identical files once)
/// and is immutable; the client's file name is kept for display only. Recorded on the hazard's
/// timeline (`attachment_added`). With `Idempotency-Key`, a retry of the same file and stage
/// on the same hazard replays the first `201`. `Location` is the download URL.
#[utoipa::path(
    tag = "hazards", operation_id = "upload_attachment",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(
        ("id" = i64, Path, description = "Hazard id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and file"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored; `Location` names the file", body = AttachmentResponse,
         headers(("Location" = String, description = "URL of the file (`GET /api/v1/attachments/{id}`)"))),
        (status = 400, description = "A broken multipart body (`malformed_multipart`), a bad path value (`invalid_path`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Auditors cannot add attachments (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hazard is closed or void and takes no more attachments (`not_editable`, with `context.status`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than `HAZREG_UPLOAD_MAX_BYTES` (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data`, or the file is not JPEG, PNG, WebP or PDF by its content (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `file`, a missing or unknown `stage`, or an unexpected form field (`validation_failed`, with a pointer); or the `Idempotency-Key` was used with another file or stage (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/hazards/{id}/attachments")]
pub async fn upload_attachment(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    key: IdempotencyKey,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // Refuse before reading a byte when we can.
    let p2 = p.clone();
    state
        .run(move |c| check_can_add(c, &p2, id).map(|_| ()))
        .await?;
    let file = receive(&state, &req, payload).await?;
    let request_hash = file.request_hash();
    idempotency::create(
        &state,
        p.account_id,
        key,
        format!("upload_attachment:{id}"),
        request_hash,
        move |c| {
            // An attachment changes no column of the hazard: this row is the hazard after it.
            let hazard = check_can_add(c, &p, id)?;
            let row = hazards::insert_attachment(c, &file.row(&p, Some(id), None))?;
            let response = AttachmentResponse::from(row);
            evidence::record_added(c, &Actor::from(&p), &hazard, &response)?;
            Created::new(format!("/api/v1/attachments/{}", response.id), &response)
        },
    )
    .await
}

/// An upload received, checked and stored: what its row needs.
struct StoredFile {
    sha256: String,
    size: i64,
    content_type: &'static str,
    stage: AttachmentStage,
    file_name: Option<String>,
}

impl StoredFile {
    /// What an `Idempotency-Key` is bound to: the same file at the same stage.
    fn request_hash(&self) -> String {
        format!("{}:{}", self.sha256, self.stage)
    }

    fn row<'a>(
        &'a self,
        p: &Principal,
        hazard_id: Option<i64>,
        staged_until: Option<chrono::NaiveDateTime>,
    ) -> NewAttachment<'a> {
        NewAttachment {
            hazard_id,
            staged_until,
            sha256: &self.sha256,
            content_type: self.content_type,
            size: self.size,
            stage: self.stage.as_str(),
            file_name: self.file_name.as_deref(),
            uploaded_by: p.account_id,
        }
    }
}

/// Reads the multipart form, checks the stage and the sniffed type, and stores the file
/// (before its row exists); nothing half-received or refused stays behind.
async fn receive(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<StoredFile> {
    let limit = state.config.upload_max_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(too_large(limit));
    }
    let (received, file_name, stage) = match read_form(state, req, payload).await? {
        Upload {
            file: Some((r, name)),
            stage,
        } => (r, name, stage),
        Upload { file: None, .. } => {
            return Err(ApiError::validation(vec![FieldError::new(
                "/file",
                "a file is required",
            )]))
        }
    };
    let checked = (|| {
        let stage = stage
            .as_deref()
            .and_then(AttachmentStage::parse)
            .ok_or_else(bad_stage)?;
        let content_type = received.content_type.ok_or_else(|| {
            unsupported("Only JPEG, PNG, WebP and PDF files are accepted (judged by their content)")
        })?;
        Ok::<_, ApiError>((stage, content_type))
    })();
    let (stage, content_type) = match checked {
        Ok(v) => v,
        Err(e) => {
            state.attachments.discard(&received).await;
            return Err(e);
        }
    };
    // The file is in place before its row exists.
    state.attachments.store(&received).await?;
    Ok(StoredFile {
        sha256: received.sha256.clone(),
        size: received.size as i64,
        content_type,
        stage,
        file_name,
    })
}

/// Stage an attachment before its hazard exists (photo-first capture)
///
/// For a mobile app that takes photos on site before it has a hazard id, or offline. The same
/// `multipart/form-data` as an upload to a hazard (one `file`, one `stage`; JPEG, PNG, WebP or
/// PDF by content; `HAZREG_UPLOAD_MAX_BYTES`). The attachment belongs to no hazard yet
/// (`hazard_id: null`) and only its uploader can see it (`GET /api/v1/attachments/{id}`);
/// anyone else gets `404`. It expires at `expires_at` (`HAZREG_STAGED_ATTACHMENT_TTL_SECS`,
/// default 24 h) unless a hazard create (`POST /api/v1/hazards`) or a transition
/// (`POST /api/v1/hazards/{id}/transitions`) names it in `attachment_ids`, which binds it to that
/// hazard in the same transaction. Who: everyone who may add evidence to hazards (auditors get
/// `403 forbidden`). With `Idempotency-Key`, a retry of the same file and stage replays the
/// first `201`.
#[utoipa::path(
    tag = "hazards", operation_id = "stage_attachment",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and file")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Staged; bind it with `attachment_ids` before `expires_at`", body = AttachmentResponse,
         headers(("Location" = String, description = "URL of the file (`GET /api/v1/attachments/{id}`)")),
         example = json!({
            "id": 12, "hazard_id": null,
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "size": 482113, "content_type": "image/jpeg", "stage": "before", "file_name": "现场.jpg",
            "uploaded_by": 12, "created_at": "2026-12-07T06:30:00Z", "expires_at": "2026-12-08T06:30:00Z"
         })),
        (status = 400, description = "A broken multipart body (`malformed_multipart`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Auditors cannot add attachments (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than `HAZREG_UPLOAD_MAX_BYTES` (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data`, or the file is not JPEG, PNG, WebP or PDF by its content (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `file`, a missing or unknown `stage`, or an unexpected form field (`validation_failed`, with a pointer); or the `Idempotency-Key` was used with another file or stage (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/attachments")]
pub async fn stage_attachment(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    policy::work_on_hazards(&p)?;
    let file = receive(&state, &req, payload).await?;
    let request_hash = file.request_hash();
    let ttl = chrono::Duration::from_std(state.config.staged_attachment_ttl)
        .unwrap_or(chrono::Duration::days(1));
    idempotency::create(
        &state,
        p.account_id,
        key,
        "stage_attachment",
        request_hash,
        move |c| {
            let until = crate::db::now() + ttl;
            let row = hazards::insert_attachment(c, &file.row(&p, None, Some(until)))?;
            let response = AttachmentResponse::from(row);
            Created::new(format!("/api/v1/attachments/{}", response.id), &response)
        },
    )
    .await
}

/// List a hazard's attachments
///
/// Any signed-in account that can see the hazard (else `404`), auditors included: the
/// metadata of its attachments (`sha256`, sniffed `content_type`, `size`, `stage`, display
/// `file_name`, uploader), oldest first. Download the bytes with `GET /api/v1/attachments/{id}`.
/// `updated_since` keeps the attachments added at or after an instant; paged with `limit` and
/// `cursor`.
#[utoipa::path(
    tag = "hazards", operation_id = "list_attachments",
    params(("id" = i64, Path, description = "Hazard id"), crate::http::page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the hazard's attachments", body = page::Page<AttachmentResponse>),
    )
)]
#[get("/hazards/{id}/attachments")]
pub async fn list_attachments(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let paging = query.paging;
    let (after, since, fetch) = (paging.after()?, paging.updated_since, paging.fetch());
    let rows = state
        .run(move |c| {
            visible_hazard(c, &p, id)?;
            Ok(hazards::attachments_of(c, id, after, since, fetch)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, AttachmentResponse::from)))
}

/// Download an attachment
///
/// Any signed-in account that can see the attachment's hazard (else `404`). Answers the bytes
/// with the sniffed `Content-Type`, `Content-Disposition: inline`, `X-Content-Type-Options:
/// nosniff` and `Cache-Control: private, max-age=86400, immutable` (attachments never change).
/// Byte ranges are supported (`Range` → `206`; an unsatisfiable range `416`), and the file's
/// own `ETag` (not a version tag) works with `If-None-Match` (`304 Not Modified`). Send
/// `Accept: application/octet-stream` to get the same bytes as `application/octet-stream`
/// (generic download code); the stored type is in the attachment's `content_type`.
#[utoipa::path(
    tag = "hazards", operation_id = "get_attachment",
    params(("id" = i64, Path, description = "Attachment id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file", content(
            (FileBytes = "application/octet-stream"), (FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "image/webp"), (FileBytes = "application/pdf"),
        ), headers(("ETag" = String, description = "Tag of the stored file, for `If-None-Match`"), ("Accept-Ranges" = String, description = "`bytes`"))),
        (status = 206, description = "The requested byte range of the file (`Range` header)", content(
            (FileBytes = "application/octet-stream"), (FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "image/webp"), (FileBytes = "application/pdf"),
        ), headers(("Content-Range" = String, description = "`bytes <first>-<last>/<size>`"))),
        (status = 412, description = "An `If-Match` header that does not match the file's `ETag` (`request_rejected`)", body = Problem, content_type = "application/problem+json"),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the file's; no body"),
        (status = 416, description = "The `Range` cannot be satisfied (`range_not_satisfiable`); `Content-Range` gives the size", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/attachments/{id}")]
pub async fn get_attachment(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .run(move |c| {
            hazards::attachment_visible(c, &p.scope(), p.account_id, id)?
                .ok_or_else(ApiError::not_found)
        })
        .await?;
    serve_stored(&state, &req, &row.sha256, &row.content_type).await
}

/// Answers a stored file (by its SHA-256) inline with its sniffed type, or as
/// `application/octet-stream` to a client that asks for that: attachments and the photos of
/// public reports.
pub(crate) async fn serve_stored(
    state: &AppState,
    req: &HttpRequest,
    sha256: &str,
    content_type: &str,
) -> ApiResult<HttpResponse> {
    // A client that asks for `application/octet-stream` (generic download code, generated
    // clients) gets the bytes under that type; everyone else gets the type that was sniffed.
    let wants_octets = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .any(|t| t.split(';').next().unwrap_or("").trim() == "application/octet-stream")
                && !a.contains(content_type)
        });
    let served = if wants_octets {
        "application/octet-stream"
    } else {
        content_type
    };
    let mime: actix_web::mime::Mime = served.parse().map_err(ApiError::internal)?;
    let file = actix_files::NamedFile::open_async(state.attachments.local_copy(sha256).await?)
        .await
        .map_err(ApiError::internal)?
        .set_content_type(mime)
        .set_content_disposition(ContentDisposition {
            disposition: DispositionType::Inline,
            parameters: vec![],
        })
        .use_last_modified(false);
    let mut res = file.into_response(req);
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, max-age=86400, immutable"),
    );
    Ok(res)
}
