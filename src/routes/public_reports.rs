//! Public reports (举报 / 吹哨人, SPEC §9, `domain::public_report`): sent without an account,
//! followed with a tracking code and its secret, handled by the regulators of the county.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::attachment_store::{too_large, Received};
use crate::auth::token::hex;
use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::public_reports::{
    self as db, Handling, NewPublicReport, PhotoRow, PublicReportFilter, PublicReportRow,
};
use crate::db::scope::{jurisdiction_path, list_owner_reach, units_of};
use crate::db::{to_utc, write_tx, AnyConnection};
use crate::domain::hazard::{HazardFields, HazardSource};
use crate::domain::jurisdiction::{JurisdictionLevel, Reach};
use crate::domain::public_report::{
    self as rules, IntakeConfig, PublicReportStatus, TriageDecision, VerificationOutcome,
};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::json::{parse_json, read_json_bytes, JSON_LIMIT};
use crate::http::page::{self, Listing};
use crate::http::{ApiJson, IfMatch};
use crate::routes::with_etag;
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Sending and tracking (no account)

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "description": "某化工厂夜间将危化品储罐区的可燃气体报警器关闭，已持续一周",
    "jurisdiction_code": "431302", "location": "娄星区万宝镇工业园 3 号路",
    "enterprise_name": "某化工有限公司", "contact_name": "李先生", "contact_phone": "13800000000"
}))]
pub struct PublicReportRequest {
    /// What is wrong (1–5000 characters).
    pub description: String,
    /// The county-level unit (or a township below it) where it is, from
    /// `GET /api/v1/jurisdictions`; not the city itself.
    pub jurisdiction_code: String,
    /// Where, in words (up to 200 characters).
    #[serde(default)]
    pub location: Option<String>,
    /// The enterprise, as the reporter names it (free text, up to 200 characters).
    #[serde(default)]
    pub enterprise_name: Option<String>,
    /// Optional, confidential: shown only to regulator administrators in scope.
    #[serde(default)]
    pub contact_name: Option<String>,
    /// Optional, confidential (digits, optional leading `+`, spaces or dashes).
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// Required when the server checks a captcha (`HAZREG_CAPTCHA_VERIFY_URL`): the token the
    /// captcha widget gave.
    #[serde(default)]
    pub captcha_token: Option<String>,
}

/// The multipart form of a report with photos.
#[derive(ToSchema)]
#[schema(example = json!({
    "report": {"description": "储罐区可燃气体报警器被人为关闭", "jurisdiction_code": "431302"},
    "photo": ["(the bytes of a JPEG, PNG or WebP photo)"]
}))]
#[allow(dead_code)]
pub struct PublicReportForm {
    /// The report, as the JSON body would be (`PublicReportRequest`).
    report: PublicReportRequest,
    /// Up to `HAZREG_PUBLIC_REPORT_MAX_PHOTOS` (5) photos, JPEG, PNG or WebP by content, each
    /// up to `HAZREG_PUBLIC_REPORT_PHOTO_MAX_BYTES` (10 MiB).
    #[schema(value_type = Vec<String>, format = Binary)]
    photo: Vec<Vec<u8>>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "tracking_code": "JB-7K2M9QX4HD", "secret": "b3Jk0mQ2cXh5c2VjcmV0LWV4YW1wbGU", "status": "received"
}))]
pub struct PublicReportReceipt {
    /// Quote it to follow the report.
    pub tracking_code: String,
    /// Shown only in this answer; send it as `X-Tracking-Secret` to follow the report.
    pub secret: String,
    pub status: PublicReportStatus,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "tracking_code": "JB-7K2M9QX4HD", "status": "accepted",
    "reply": "已受理，正在核查", "updated_at": "2026-12-07T02:00:00Z"
}))]
pub struct PublicReportTracking {
    pub tracking_code: String,
    pub status: PublicReportStatus,
    /// What the regulator says to the reporter, if anything yet.
    pub reply: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The keyed hash of a client address: attempts are counted without keeping the address.
fn address_key(state: &AppState, req: &HttpRequest, what: &str) -> String {
    let ip = crate::routes::auth::client_ip(req, state.config.trust_forwarded_for);
    let mac = state
        .cursor_key
        .sign("public-report-address", ip.to_string().as_bytes());
    format!("{what}:{}", hex(&mac[..16]))
}

fn unsupported(detail: &str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        detail,
    )
}

/// A report as sent: its fields and the photos received (not stored yet).
struct Sent {
    report: Option<PublicReportRequest>,
    photos: Vec<(Received, &'static str)>,
}

async fn read_multipart(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    cfg: &IntakeConfig,
    sent: &mut Sent,
) -> ApiResult<()> {
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|e| ApiError::bad_request("malformed_multipart", e.to_string()))?;
        match field.name().unwrap_or("") {
            "report" if sent.report.is_none() => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk
                        .map_err(|e| ApiError::bad_request("malformed_multipart", e.to_string()))?;
                    if bytes.len() + chunk.len() > JSON_LIMIT {
                        return Err(too_large(JSON_LIMIT as u64));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                sent.report = Some(parse_json(&bytes)?);
            }
            "photo" => {
                if sent.photos.len() as u32 >= cfg.max_photos {
                    return Err(ApiError::invalid_field(
                        "validation_failed",
                        "/photo",
                        format!("at most {} photos", cfg.max_photos),
                    ));
                }
                let received = state
                    .attachments
                    .receive(field, cfg.max_photo_bytes)
                    .await?;
                let kind = received.content_type.filter(|t| t.starts_with("image/"));
                match kind {
                    Some(t) => sent.photos.push((received, t)),
                    None => {
                        state.attachments.discard(&received).await;
                        return Err(unsupported(
                            "Photos must be JPEG, PNG or WebP (judged by their content)",
                        ));
                    }
                }
            }
            other => {
                return Err(ApiError::invalid_field(
                    "validation_failed",
                    &format!("/{other}"),
                    "unexpected form field (send one `report` and any `photo`s)",
                ))
            }
        }
    }
    Ok(())
}

/// Reads a JSON report, or a multipart one with photos; nothing half-received stays behind.
async fn read_report(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<Sent> {
    let cfg = &state.config.public_reports;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let mut sent = Sent {
        report: None,
        photos: Vec::new(),
    };
    if !multipart {
        let mut payload = payload.into_inner();
        let bytes = read_json_bytes(req, &mut payload).await?;
        sent.report = Some(parse_json(&bytes)?);
        return Ok(sent);
    }
    let limit = (cfg.max_photos as u64) * cfg.max_photo_bytes + JSON_LIMIT as u64 + 64 * 1024;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let result = read_multipart(state, req, payload, cfg, &mut sent).await;
    if result.is_err() || sent.report.is_none() {
        for (r, _) in &sent.photos {
            state.attachments.discard(r).await;
        }
    }
    result?;
    if sent.report.is_none() {
        return Err(ApiError::invalid_field(
            "validation_failed",
            "/report",
            "the `report` field (JSON) is required",
        ));
    }
    Ok(sent)
}

/// The checked fields of a report.
struct Checked {
    description: String,
    location: Option<String>,
    enterprise_name: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
}

fn check(r: &PublicReportRequest) -> Result<Checked, Vec<crate::domain::validate::FieldError>> {
    let mut e = Errors::default();
    let checked = Checked {
        description: e.text("/description", &r.description, 5000),
        location: e.opt_text("/location", r.location.as_deref(), 200),
        enterprise_name: e.opt_text("/enterprise_name", r.enterprise_name.as_deref(), 200),
        contact_name: e.opt_text("/contact_name", r.contact_name.as_deref(), 50),
        contact_phone: e.opt_phone("/contact_phone", r.contact_phone.as_deref()),
    };
    if r.jurisdiction_code.trim().is_empty() {
        e.add("/jurisdiction_code", "must not be empty");
    }
    if r.captcha_token.as_ref().is_some_and(|t| t.len() > 4096) {
        e.add("/captcha_token", "must be at most 4096 characters");
    }
    e.into_result().map(|_| checked)
}

/// Asks the configured siteverify endpoint about a captcha token.
async fn verify_captcha(
    cfg: &IntakeConfig,
    token: Option<&str>,
    ip: std::net::IpAddr,
) -> ApiResult<()> {
    let (Some(url), Some(secret)) = (&cfg.captcha_verify_url, &cfg.captcha_secret) else {
        return Ok(());
    };
    let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
        return Err(ApiError::invalid_field(
            "captcha_failed",
            "/captcha_token",
            "this server checks a captcha: send the token the captcha gave",
        ));
    };
    let form = serde_urlencoded::to_string([
        ("secret", secret.as_str()),
        ("response", token),
        ("remoteip", &ip.to_string()),
    ])
    .map_err(ApiError::internal)?;
    let unavailable = |detail: String| {
        tracing::warn!(%detail, "captcha verification failed to run");
        let mut e = ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "captcha_unavailable",
            "The captcha could not be checked; try again shortly",
        );
        e.retry_after = Some(30);
        e
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| unavailable(e.to_string()))?;
    let answer = client
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
        .send()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let bytes = answer
        .bytes()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    #[derive(Deserialize)]
    struct Verdict {
        success: bool,
    }
    let verdict: Verdict =
        serde_json::from_slice(&bytes).map_err(|e| unavailable(e.to_string()))?;
    if !verdict.success {
        return Err(ApiError::invalid_field(
            "captcha_failed",
            "/captcha_token",
            "the captcha was not passed",
        ));
    }
    Ok(())
}

/// Send a public report (举报)
///
/// No account needed. The body is the report as JSON (`application/json`), or
/// `multipart/form-data` with the report as JSON in a `report` field and up to
/// `HAZREG_PUBLIC_REPORT_MAX_PHOTOS` (5) `photo` files — JPEG, PNG or WebP judged by their
/// bytes (`415` otherwise), each up to `HAZREG_PUBLIC_REPORT_PHOTO_MAX_BYTES` (10 MiB, `413`);
/// the JSON is limited to 1 MiB (`413`).
///
/// `jurisdiction_code` is the county-level unit (or a township) from the jurisdiction tree;
/// the city itself or an unknown code is `422`. The contact (`contact_name`, `contact_phone`)
/// is optional and confidential: only regulator administrators in scope ever see it; it is
/// never shown to an enterprise, never exported, never in the change feed or the audit log.
///
/// Abuse: each client address may send `HAZREG_PUBLIC_REPORT_RATE_PER_HOUR` (5) reports an
/// hour; every attempt counts, and more answer `429` with `Retry-After`. The address itself is
/// not kept (a keyed hash counts it). With `HAZREG_CAPTCHA_VERIFY_URL` set, `captcha_token`
/// is checked with that siteverify endpoint (reCAPTCHA, hCaptcha, Turnstile or compatible):
/// missing or refused is `422 captcha_failed`, the endpoint failing `503 captcha_unavailable`.
///
/// Answers `201` with the `tracking_code` and a `secret` shown only once: follow the report
/// with `GET /api/v1/public/reports/{tracking_code}` and `X-Tracking-Secret`. There is no
/// `Idempotency-Key` here (no account to scope it to): a retry sends a second report.
#[utoipa::path(
    tag = "public-reports", operation_id = "submit_public_report",
    request_body(content(
        (PublicReportRequest = "application/json"),
        (PublicReportForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Received; keep the tracking code and the secret", body = PublicReportReceipt,
         headers(("Location" = String, description = "Where to follow it (with `X-Tracking-Secret`)"))),
        (status = 400, description = "Malformed JSON (`malformed_json`) or multipart body (`malformed_multipart`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The JSON or a photo is too large (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart, or a photo that is not JPEG, PNG or WebP (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); a blank or too long field, a bad phone number, an unknown or city-level `jurisdiction_code`, too many photos, a missing `report` field (`validation_failed`); a missing or refused captcha (`captcha_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports from your address this hour (`too_many_requests`, with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The captcha could not be checked (`captcha_unavailable`), or the database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public/reports")]
pub async fn submit_public_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let cfg = state.config.public_reports.clone();
    // Every attempt counts, before a byte of the body is read.
    let key = address_key(&state, &req, "report");
    let now = state.clock.now().naive_utc();
    let max = cfg.per_address_per_hour as i32;
    if let Some(wait) = state
        .run(move |c| Ok(db::count_attempt(c, &key, now, max)?))
        .await?
    {
        return Err(ApiError::too_many_requests(
            wait,
            "Too many reports from this address; try again later",
        ));
    }
    let sent = read_report(&state, &req, payload).await?;
    let discard = |state: web::Data<AppState>, photos: Vec<(Received, &'static str)>| async move {
        for (r, _) in &photos {
            state.attachments.discard(r).await;
        }
    };
    let report = sent.report.expect("read_report answers a report");
    let checked = match check(&report) {
        Ok(c) => c,
        Err(errors) => {
            discard(state.clone(), sent.photos).await;
            return Err(ApiError::validation(errors));
        }
    };
    let ip = crate::routes::auth::client_ip(&req, state.config.trust_forwarded_for);
    if let Err(e) = verify_captcha(&cfg, report.captcha_token.as_deref(), ip).await {
        discard(state.clone(), sent.photos).await;
        return Err(e);
    }
    // The jurisdiction, before any file is kept.
    let code = report.jurisdiction_code.trim().to_string();
    let code2 = code.clone();
    let place = state
        .run(move |c| {
            let found = jurisdiction_path(c, &code2)?;
            Ok(match found {
                Some((_, level)) if level != JurisdictionLevel::City => Some(units_of(c, &code2)?),
                _ => None,
            })
        })
        .await?;
    let Some(units) = place else {
        discard(state.clone(), sent.photos).await;
        return Err(ApiError::invalid_field(
            "validation_failed",
            "/jurisdiction_code",
            format!("{code:?} is not a county-level unit or township of the jurisdiction tree"),
        ));
    };
    for (r, _) in &sent.photos {
        state.attachments.store(r).await?;
    }
    let photos: Vec<(String, &'static str, i64)> = sent
        .photos
        .iter()
        .map(|(r, t)| (r.sha256.clone(), *t, r.size as i64))
        .collect();
    // Kept as its SHA-256 only, as refresh tokens are.
    let (secret, secret_sha) = crate::auth::token::new_refresh_token();
    let row = state
        .run(move |c| {
            // A tracking code that exists already (about 1 in 10^15) is drawn again.
            let mut last = None;
            for _ in 0..3 {
                let tracking = rules::new_tracking_code();
                let inserted = write_tx(c, |c| {
                    let row = db::insert(
                        c,
                        &NewPublicReport {
                            tracking_code: &tracking,
                            secret_sha256: &secret_sha,
                            status: PublicReportStatus::Received.as_str(),
                            description: &checked.description,
                            location: checked.location.as_deref(),
                            enterprise_name: checked.enterprise_name.as_deref(),
                            city_code: &units.city,
                            county_code: &units.county,
                            jurisdiction_code: &code,
                            contact_name: checked.contact_name.as_deref(),
                            contact_phone: checked.contact_phone.as_deref(),
                            created_at: now,
                            updated_at: now,
                        },
                    )?;
                    for (sha, t, size) in &photos {
                        db::insert_photo(c, row.id, sha, t, *size, now)?;
                    }
                    // Nothing that could identify the reporter goes into the log.
                    audit::record(
                        c,
                        &Actor::system(),
                        "create",
                        "public_report",
                        &row.id.to_string(),
                        &json!({"tracking_code": row.tracking_code, "jurisdiction_code": row.jurisdiction_code, "photos": photos.len()}),
                    )?;
                    Ok::<_, diesel::result::Error>(row)
                });
                match inserted {
                    Ok(row) => return Ok(row),
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        e,
                    )) => last = Some(e.message().to_string()),
                    Err(e) => return Err(e.into()),
                }
            }
            Err(ApiError::internal(format!(
                "no free tracking code: {last:?}"
            )))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/public/reports/{}", row.tracking_code),
        ))
        .json(PublicReportReceipt {
            tracking_code: row.tracking_code,
            secret,
            status: row.status,
        }))
}

/// Follow a public report
///
/// No account needed: the tracking code and, in `X-Tracking-Secret`, the secret given when
/// the report was sent. Answers the status and the regulator's public reply. A wrong or
/// missing secret answers `404`, exactly as an unknown code does; more than
/// `HAZREG_LOGIN_ADDRESS_MAX_FAILURES_PER_MINUTE` (20) failed lookups a minute from one
/// address answer `429`.
#[utoipa::path(
    tag = "public-reports", operation_id = "track_public_report",
    params(
        ("tracking_code" = String, Path, description = "The tracking code (`JB-` and 10 letters)"),
        ("X-Tracking-Secret" = String, Header, description = "The secret given with the tracking code"),
    ),
    responses(
        (status = 200, description = "Where the report stands", body = PublicReportTracking),
        (status = 404, description = "No report with this code and secret (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed lookups from your address (`too_many_requests`, with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/reports/{tracking_code}")]
pub async fn track_public_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    let secret = req
        .headers()
        .get("x-tracking-secret")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let key = address_key(&state, &req, "track");
    let now = state.clock.now().naive_utc();
    let max = state.config.login_address_max_failures_per_minute as i32;
    let row = state
        .run(move |c| {
            use crate::db::throttle;
            if let Some(wait) = throttle::address_blocked(c, &key, now, max)? {
                return Err(ApiError::too_many_requests(
                    wait,
                    "Too many failed lookups from this address; try again later",
                ));
            }
            let found = if rules::is_tracking_code(&code) && !secret.is_empty() {
                db::by_tracking_code(c, &code)?
            } else {
                None
            };
            let given = crate::auth::token::hash_refresh_token(&secret);
            let matches = found.as_ref().is_some_and(|r| {
                // Compared whole, whatever byte differs first.
                r.secret_sha256.len() == given.len()
                    && r.secret_sha256
                        .bytes()
                        .zip(given.bytes())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0
            });
            if !matches {
                throttle::address_failed(c, &key, now)?;
                return Err(ApiError::not_found());
            }
            Ok(found.expect("matched above"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(PublicReportTracking {
        tracking_code: row.tracking_code,
        status: row.status,
        reply: row.reply,
        updated_at: to_utc(row.updated_at),
    }))
}

// ---------------------------------------------------------------------------------------------
// Handling (regulators)

/// The reporter's contact, for regulator administrators in scope.
#[derive(Serialize, ToSchema)]
pub struct ReporterContact {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicReportPhoto {
    pub id: i64,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 8, "tracking_code": "JB-7K2M9QX4HD", "status": "verified",
    "description": "某化工厂夜间将危化品储罐区的可燃气体报警器关闭，已持续一周",
    "location": "娄星区万宝镇工业园 3 号路", "enterprise_name": "某化工有限公司",
    "jurisdiction_code": "431302", "county_code": "431302",
    "contact": {"name": "李先生", "phone": "13800000000"}, "contact_withheld": false,
    "photos": [{"id": 3, "content_type": "image/jpeg", "size": 183422, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
    "reply": "经核查属实，已责令整改并依法处罚", "enterprise_id": 42, "hazard_id": 1207,
    "dismiss_reason": null, "outcome": "substantiated", "outcome_note": "报警器被人为关闭",
    "fine_yuan": 50000, "reward_yuan": 7500, "handled_by": 5, "handled_at": "2026-12-09T03:00:00Z",
    "created_at": "2026-12-07T02:00:00Z", "updated_at": "2026-12-09T03:00:00Z", "version": 5
}))]
pub struct PublicReportResponse {
    pub id: i64,
    pub tracking_code: String,
    pub status: PublicReportStatus,
    pub description: String,
    pub location: Option<String>,
    pub enterprise_name: Option<String>,
    /// Where the reporter placed it (after a transfer: where it was transferred to).
    pub jurisdiction_code: String,
    pub county_code: String,
    /// The reporter's contact: regulator administrators (`city_admin`, `county_admin`) only;
    /// `null` for everyone else, and when none was given.
    pub contact: Option<ReporterContact>,
    /// A contact exists but is not yours to see.
    pub contact_withheld: bool,
    pub photos: Vec<PublicReportPhoto>,
    /// What the reporter reads when following the report.
    pub reply: Option<String>,
    /// The registered enterprise, once converted.
    pub enterprise_id: Option<i64>,
    /// The hazard recorded from it (`source: public_report`, `public_report_id` naming this).
    pub hazard_id: Option<i64>,
    pub dismiss_reason: Option<String>,
    pub outcome: Option<VerificationOutcome>,
    pub outcome_note: Option<String>,
    /// The fine imposed on the enterprise (元), recorded with the outcome.
    pub fine_yuan: Option<i64>,
    /// The reward under the 举报奖励 rule for a substantiated report (元).
    pub reward_yuan: Option<i64>,
    pub handled_by: Option<i64>,
    pub handled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl PublicReportResponse {
    fn new(r: PublicReportRow, photos: Vec<PublicReportPhoto>, sees_contact: bool) -> Self {
        let has_contact = r.contact_name.is_some() || r.contact_phone.is_some();
        PublicReportResponse {
            contact: (has_contact && sees_contact).then(|| ReporterContact {
                name: r.contact_name.clone(),
                phone: r.contact_phone.clone(),
            }),
            contact_withheld: has_contact && !sees_contact,
            photos,
            id: r.id,
            tracking_code: r.tracking_code,
            status: r.status,
            description: r.description,
            location: r.location,
            enterprise_name: r.enterprise_name,
            jurisdiction_code: r.jurisdiction_code,
            county_code: r.county_code,
            reply: r.reply,
            enterprise_id: r.enterprise_id,
            hazard_id: r.hazard_id,
            dismiss_reason: r.dismiss_reason,
            outcome: r.outcome,
            outcome_note: r.outcome_note,
            fine_yuan: r.fine_yuan,
            reward_yuan: r.reward_yuan,
            handled_by: r.handled_by,
            handled_at: r.handled_at.map(to_utc),
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

fn photo_of(p: PhotoRow) -> PublicReportPhoto {
    PublicReportPhoto {
        id: p.id,
        content_type: p.content_type,
        size: p.size,
        sha256: p.sha256,
    }
}

/// Responses for rows, with their photos loaded in one query.
fn responses(
    c: &mut AnyConnection,
    p: &Principal,
    rows: Vec<PublicReportRow>,
) -> ApiResult<Vec<PublicReportResponse>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut photos: std::collections::HashMap<i64, Vec<PublicReportPhoto>> = Default::default();
    for ph in db::photos_of(c, &ids)? {
        photos.entry(ph.report_id).or_default().push(photo_of(ph));
    }
    let sees = policy::see_reporter_contact(p);
    Ok(rows
        .into_iter()
        .map(|r| {
            let ph = photos.remove(&r.id).unwrap_or_default();
            PublicReportResponse::new(r, ph, sees)
        })
        .collect())
}

/// The caller's reach over public reports: regulators and auditors; enterprises see none (404).
fn reach(p: &Principal) -> ApiResult<Reach> {
    list_owner_reach(&p.scope())
        .cloned()
        .ok_or_else(ApiError::not_found)
}

fn visible(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<PublicReportRow> {
    db::get_within(c, &reach(p)?, id)?.ok_or_else(ApiError::not_found)
}

fn one(
    c: &mut AnyConnection,
    p: &Principal,
    row: PublicReportRow,
) -> ApiResult<PublicReportResponse> {
    Ok(responses(c, p, vec![row])?.remove(0))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicReportQuery {
    pub status: Option<PublicReportStatus>,
    /// Reports at or below this jurisdiction.
    pub jurisdiction_code: Option<String>,
}

/// List public reports
///
/// Regulators and auditors: the reports placed in your jurisdiction or below, oldest first
/// (enterprise accounts get `404`). Filters: `status`, `jurisdiction_code` (that unit and
/// below; unknown is `422`), `updated_since`. The reporter's `contact` is shown to
/// administrators only.
#[utoipa::path(
    tag = "public-reports", operation_id = "list_public_reports",
    params(PublicReportQuery, page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of reports", body = page::Page<PublicReportResponse>),
        (status = 404, description = "Enterprise accounts have no access to public reports (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public-reports")]
pub async fn list_public_reports(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<PublicReportQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let after = paging.after()?;
    let fetch = paging.fetch();
    let since = paging.updated_since;
    let items = state
        .run(move |c| {
            let reach = reach(&p)?;
            let filter = PublicReportFilter {
                status: q.status,
                jurisdiction: crate::routes::jurisdiction_filter(
                    c,
                    q.jurisdiction_code.as_deref(),
                )?,
                updated_since: since,
                after_id: after,
                fetch,
            };
            let rows = db::list_within(c, &reach, &filter)?;
            responses(c, &p, rows)
        })
        .await?;
    let page = paging.finish(items, |r| r.id, |r| r);
    Ok(HttpResponse::Ok().json(page))
}

/// Get a public report
///
/// A report placed in your jurisdiction or below (else `404`; always `404` for enterprise
/// accounts), with its `ETag`.
#[utoipa::path(
    tag = "public-reports", operation_id = "get_public_report",
    params(("id" = i64, Path, description = "Report id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The report", body = PublicReportResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/public-reports/{id}")]
pub async fn get_public_report(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let response = state
        .run(move |c| {
            let row = visible(c, &p, id)?;
            one(c, &p, row)
        })
        .await?;
    Ok(with_etag(response.version, &response))
}

/// Download a public report's photo
///
/// The bytes, under their sniffed type (or `application/octet-stream` when asked for), for
/// those who see the report (else `404`).
#[utoipa::path(
    tag = "public-reports", operation_id = "get_public_report_photo",
    params(("id" = i64, Path, description = "Report id"), ("photo_id" = i64, Path, description = "Photo id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The photo", content(
        (crate::routes::attachments::FileBytes = "image/jpeg"),
        (crate::routes::attachments::FileBytes = "image/png"),
        (crate::routes::attachments::FileBytes = "image/webp"),
        (crate::routes::attachments::FileBytes = "application/octet-stream"),
    )))
)]
#[get("/public-reports/{id}/photos/{photo_id}")]
pub async fn get_public_report_photo(
    p: Principal,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (id, photo_id) = path.into_inner();
    let photo = state
        .run(move |c| {
            visible(c, &p, id)?;
            db::photo(c, id, photo_id)?.ok_or_else(ApiError::not_found)
        })
        .await?;
    crate::routes::attachments::serve_stored(&state, &req, &photo.sha256, &photo.content_type).await
}

/// The checks every handling step starts with, in the order of SPEC §7: visible (404), a
/// regulator who handles (403), `If-Match` (428/412).
fn handling(
    c: &mut AnyConnection,
    p: &Principal,
    id: i64,
    if_match: &IfMatch,
) -> ApiResult<PublicReportRow> {
    let row = visible(c, p, id)?;
    policy::handle_public_reports(p)?;
    if_match.check(row.version)?;
    Ok(row)
}

/// Applies a step, audits it (without the reporter's contact) and answers the report.
fn apply(
    c: &mut AnyConnection,
    p: &Principal,
    row: &PublicReportRow,
    action: &str,
    change: &Handling,
    details: serde_json::Value,
) -> ApiResult<PublicReportResponse> {
    let after = db::handle(c, row.id, row.version, p.account_id, change)?
        .ok_or_else(ApiError::precondition_failed)?;
    audit::record(
        c,
        &Actor::from(p),
        action,
        "public_report",
        &row.id.to_string(),
        &details,
    )?;
    one(c, p, after)
}

async fn respond(
    state: web::Data<AppState>,
    f: impl FnOnce(&mut AnyConnection) -> ApiResult<PublicReportResponse> + Send + 'static,
) -> ApiResult<HttpResponse> {
    let response = state.run(move |c| write_tx(c, f)).await?;
    Ok(with_etag(response.version, &response))
}

fn check_reply(e: &mut Errors, reply: Option<&str>) -> Option<String> {
    e.opt_text("/reply", reply, 2000)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "transfer", "jurisdiction_code": "431321", "reply": "已转双峰县处理"}))]
pub struct TriageRequest {
    pub decision: TriageDecision,
    /// For `transfer`: the county-level unit (or township) it belongs to.
    #[serde(default)]
    pub jurisdiction_code: Option<String>,
    /// The public reply the reporter reads (up to 2000 characters).
    #[serde(default)]
    pub reply: Option<String>,
}

/// Triage a public report: accept it or transfer it
///
/// `accept` (受理) a `received` report; `transfer` a `received` or `accepted` one to another
/// county-level unit or township of the same city (`jurisdiction_code`), where it is
/// `received` again (you may no longer see it). Regulators in scope (`city_admin`,
/// `city_officer`, `county_admin`, `county_officer`); auditors `403`; enterprise accounts and
/// reports outside your jurisdiction `404`. `If-Match` with the report's `ETag` is required
/// (`428`/`412`); a report in another status is `409 invalid_transition`; a missing or bad
/// `jurisdiction_code` for a transfer is `422`. Audited.
#[utoipa::path(
    tag = "public-reports", operation_id = "triage_public_report", request_body = TriageRequest,
    params(("id" = i64, Path, description = "Report id"), ("If-Match" = String, Header, description = "The report's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Triaged", body = PublicReportResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors only read (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in a status this step starts from (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The report changed since your `ETag` (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required (`if_match_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); a transfer without a county-level `jurisdiction_code` of the same city, a too long reply (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public-reports/{id}/triage")]
pub async fn triage_public_report(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<TriageRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    respond(state, move |c| {
        let row = handling(c, &p, id, &if_match)?;
        rules::check_triage(row.status, req.decision)?;
        let mut e = Errors::default();
        let reply = check_reply(&mut e, req.reply.as_deref());
        let target = match req.decision {
            TriageDecision::Accept => None,
            TriageDecision::Transfer => {
                let code = req.jurisdiction_code.as_deref().map(str::trim).unwrap_or("");
                let found = jurisdiction_path(c, code)?;
                match found {
                    Some((_, level)) if level != JurisdictionLevel::City => {
                        let units = units_of(c, code)?;
                        if units.city != row.city_code {
                            e.add("/jurisdiction_code", "must be in the report's city");
                        }
                        Some((code.to_string(), units))
                    }
                    _ => {
                        e.add(
                            "/jurisdiction_code",
                            "a county-level unit or township of the jurisdiction tree is required for a transfer",
                        );
                        None
                    }
                }
            }
        };
        e.into_result().map_err(ApiError::validation)?;
        let change = match &target {
            None => Handling {
                status: Some(PublicReportStatus::Accepted.as_str()),
                reply: reply.as_deref(),
                ..Default::default()
            },
            Some((code, units)) => Handling {
                status: Some(PublicReportStatus::Received.as_str()),
                jurisdiction_code: Some(code),
                county_code: Some(&units.county),
                city_code: Some(&units.city),
                reply: reply.as_deref(),
                ..Default::default()
            },
        };
        apply(
            c,
            &p,
            &row,
            req.decision.as_str(),
            &change,
            json!({"decision": req.decision, "from": row.jurisdiction_code, "to": target.as_ref().map(|t| t.0.clone())}),
        )
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "经现场核查，反映的企业已于 2025 年关闭", "reply": "经核查，该企业已关闭，不予受理"}))]
pub struct DismissRequest {
    /// Why (1–2000 characters), kept with the report.
    pub reason: String,
    /// The public reply the reporter reads (up to 2000 characters).
    #[serde(default)]
    pub reply: Option<String>,
}

/// Dismiss a public report
///
/// 不予受理: ends a `received` or `accepted` report with a `reason` (required). Who, and the
/// checks, as for triage.
#[utoipa::path(
    tag = "public-reports", operation_id = "dismiss_public_report", request_body = DismissRequest,
    params(("id" = i64, Path, description = "Report id"), ("If-Match" = String, Header, description = "The report's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dismissed", body = PublicReportResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors only read (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not `received` or `accepted` (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The report changed since your `ETag` (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required (`if_match_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); a blank or too long reason or reply (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public-reports/{id}/dismiss")]
pub async fn dismiss_public_report(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<DismissRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    respond(state, move |c| {
        let row = handling(c, &p, id, &if_match)?;
        rules::check_dismiss(row.status)?;
        let mut e = Errors::default();
        let reason = e.text("/reason", &req.reason, 2000);
        let reply = check_reply(&mut e, req.reply.as_deref());
        e.into_result().map_err(ApiError::validation)?;
        apply(
            c,
            &p,
            &row,
            "dismiss",
            &Handling {
                status: Some(PublicReportStatus::Dismissed.as_str()),
                dismiss_reason: Some(&reason),
                reply: reply.as_deref(),
                ..Default::default()
            },
            json!({"reason": reason}),
        )
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "hazard": {"enterprise_id": 42, "title": "可燃气体报警器被关闭", "description": "储罐区 3 台报警器被人为关闭",
               "level": "major", "discovered_on": "2026-12-08", "standard_ref": "危险化学品企业重大隐患判定标准 第十条"},
    "reply": "已受理并立案，正在督促整改"
}))]
pub struct ConvertRequest {
    /// The hazard to record, as for `POST /api/v1/hazards`: the registered enterprise
    /// (`enterprise_id`, in your scope) and the hazard's fields. `source` is
    /// `public_report` (any other is `422`).
    pub hazard: HazardFields,
    /// The public reply the reporter reads (up to 2000 characters).
    #[serde(default)]
    pub reply: Option<String>,
}

/// Convert a public report into a hazard
///
/// Records a hazard from a `received` or `accepted` report, exactly as `POST /api/v1/hazards`
/// would (the same checks: the enterprise in your scope, `404` otherwise; `409
/// enterprise_closed`; `422` fields), with `source: public_report` and `public_report_id`
/// naming the report; the report becomes `converted` and names the hazard (`hazard_id`) and
/// the enterprise. Nothing of the reporter's contact reaches the hazard. Who, and the checks,
/// as for triage. Answers the report; the hazard is in the change feed as `hazard.created`.
#[utoipa::path(
    tag = "public-reports", operation_id = "convert_public_report", request_body = ConvertRequest,
    params(("id" = i64, Path, description = "Report id"), ("If-Match" = String, Header, description = "The report's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Converted; `hazard_id` names the new hazard", body = PublicReportResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors only read (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The report, or the hazard's enterprise, is not in your scope (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not `received` or `accepted` (`invalid_transition`); the enterprise is closed (`enterprise_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The report changed since your `ETag` (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required (`if_match_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid hazard fields, a `source` other than `public_report`, a too long reply (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public-reports/{id}/convert")]
pub async fn convert_public_report(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<ConvertRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    let (now, today) = (state.clock.now(), state.clock.today());
    respond(state, move |c| {
        let row = handling(c, &p, id, &if_match)?;
        rules::check_convert(row.status)?;
        let mut e = Errors::default();
        let reply = check_reply(&mut e, req.reply.as_deref());
        let mut fields = req.hazard;
        match fields.source {
            None | Some(HazardSource::PublicReport) => {}
            Some(_) => e.add(
                "/hazard/source",
                "a hazard from a public report has source public_report",
            ),
        }
        if fields.enterprise_id.is_none() {
            e.add(
                "/hazard/enterprise_id",
                "required: the registered enterprise the report is about",
            );
        }
        e.into_result().map_err(ApiError::validation)?;
        fields.source = Some(HazardSource::PublicReport);
        let hazard = crate::routes::hazards::create::record(
            c,
            &p,
            &Actor::from(&p),
            fields,
            now,
            today,
            crate::db::hazards::Origin {
                public_report_id: Some(row.id),
                ..Default::default()
            },
        )
        .map_err(|mut err| {
            for f in &mut err.errors {
                f.pointer = format!("/hazard{}", f.pointer);
            }
            err
        })?;
        apply(
            c,
            &p,
            &row,
            "convert",
            &Handling {
                status: Some(PublicReportStatus::Converted.as_str()),
                enterprise_id: Some(hazard.enterprise_id),
                hazard_id: Some(hazard.id),
                reply: reply.as_deref(),
                ..Default::default()
            },
            json!({"hazard_id": hazard.id, "hazard_code": hazard.code}),
        )
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "substantiated", "note": "报警器被人为关闭，已责令整改", "fine_yuan": 50000, "reply": "经核查属实，感谢您的举报"}))]
pub struct VerifyRequest {
    pub outcome: VerificationOutcome,
    /// What the verification found (1–2000 characters).
    pub note: String,
    /// The fine imposed on the enterprise (元, 0 or more; `substantiated` only).
    #[serde(default)]
    pub fine_yuan: Option<i64>,
    /// The public reply the reporter reads (up to 2000 characters).
    #[serde(default)]
    pub reply: Option<String>,
}

/// Record the verification outcome and the reward
///
/// 核查办结: for an `accepted` or `converted` report, `substantiated` (属实) or
/// `unsubstantiated`, with a `note`; the report becomes `verified`. A substantiated report
/// records the fine imposed (`fine_yuan`, default 0) and the reward under the 举报奖励 rule
/// (《安全生产领域举报奖励办法》 第十二条): `HAZREG_REWARD_RATE_PERCENT` (15) % of the fine,
/// at least `HAZREG_REWARD_MIN_YUAN` (3,000) and at most `HAZREG_REWARD_MAX_YUAN` (300,000)
/// 元, rounded to the yuan. An unsubstantiated one has neither (`fine_yuan` is `422` there).
/// Who, and the checks, as for triage.
#[utoipa::path(
    tag = "public-reports", operation_id = "verify_public_report", request_body = VerifyRequest,
    params(("id" = i64, Path, description = "Report id"), ("If-Match" = String, Header, description = "The report's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Verified, with the reward for a substantiated report", body = PublicReportResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors only read (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not `accepted` or `converted` (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The report changed since your `ETag` (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required (`if_match_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); a blank note, a negative fine, a fine for an unsubstantiated report, a too long reply (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/public-reports/{id}/verify")]
pub async fn verify_public_report(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<VerifyRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    let rule = state.config.public_reports.reward;
    respond(state, move |c| {
        let row = handling(c, &p, id, &if_match)?;
        rules::check_verify(row.status)?;
        let mut e = Errors::default();
        let note = e.text("/note", &req.note, 2000);
        let reply = check_reply(&mut e, req.reply.as_deref());
        let (fine, reward) = match req.outcome {
            VerificationOutcome::Substantiated => {
                let fine = req.fine_yuan.unwrap_or(0);
                if !(0..=1_000_000_000_000).contains(&fine) {
                    e.add("/fine_yuan", "must be from 0 to 10^12 元");
                }
                (
                    Some(fine),
                    Some(rule.reward(fine.clamp(0, 1_000_000_000_000))),
                )
            }
            VerificationOutcome::Unsubstantiated => {
                if req.fine_yuan.is_some() {
                    e.add("/fine_yuan", "an unsubstantiated report has no fine");
                }
                (None, None)
            }
        };
        e.into_result().map_err(ApiError::validation)?;
        apply(
            c,
            &p,
            &row,
            "verify",
            &Handling {
                status: Some(PublicReportStatus::Verified.as_str()),
                outcome: Some(req.outcome.as_str()),
                outcome_note: Some(&note),
                fine_yuan: fine,
                reward_yuan: reward,
                reply: reply.as_deref(),
                ..Default::default()
            },
            json!({"outcome": req.outcome, "fine_yuan": fine, "reward_yuan": reward}),
        )
    })
    .await
}
