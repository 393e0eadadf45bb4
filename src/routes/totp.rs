//! The administrators' second factor: enrol a TOTP authenticator, confirm it (which hands out
//! the recovery codes), and turn it off again.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::{totp, write_tx};
use crate::domain::Refusal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/Hazard%20Registry:admin?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Hazard%20Registry"
}))]
pub struct TotpEnrolment {
    /// The shared secret, base32 (type it into the authenticator app, or use `otpauth_uri`).
    pub secret: String,
    /// `otpauth://totp/…` for the authenticator app (usually shown as a QR code).
    pub otpauth_uri: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "492039"}))]
pub struct TotpConfirm {
    /// The 6-digit code the authenticator app shows now.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": ["k7m2p-9xq4t", "a3c8d-vw2hn"]}))]
pub struct RecoveryCodes {
    /// Ten one-time codes that stand in for `totp_code` when the device is lost. Shown once;
    /// only their digests are stored.
    pub recovery_codes: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"totp_code": "492039"}))]
pub struct TotpDisable {
    /// A current authenticator code…
    #[serde(default)]
    pub totp_code: Option<String>,
    /// …or an unused recovery code.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// The account's TOTP secret when its enrolment is `active` (or, with `false`, pending);
/// otherwise the `409` that says which state it is not in.
fn secret_in_state(c: &mut crate::db::AnyConnection, id: i64, active: bool) -> ApiResult<String> {
    match totp::get(c, id)? {
        Some((secret, confirmed)) if confirmed == active => Ok(secret),
        _ if active => Err(Refusal::conflict(
            "totp_not_enabled",
            "This account has no active second factor",
        )
        .into()),
        _ => Err(Refusal::conflict(
            "totp_not_started",
            "No enrolment is pending: start one with POST /api/v1/me/totp",
        )
        .into()),
    }
}

fn invalid_code() -> ApiError {
    ApiError::invalid_field(
        "invalid_totp_code",
        "/code",
        "The code is wrong, or was used already",
    )
}

/// Start enrolling a second factor (TOTP)
///
/// Administrators only (`city_admin`, `county_admin`; anyone else `403 forbidden`). Creates a
/// new secret for the caller's authenticator app and answers it with its `otpauth://` URI. The
/// second factor is not active until `POST /api/v1/me/totp/confirm` proves the app shows the
/// right codes; starting again before that replaces the pending secret. An account whose
/// second factor is active answers `409 totp_already_enabled` (turn it off first).
///
/// With `HAZREG_ADMIN_TOTP=required`, an administrator without a second factor may call only
/// this, the confirmation, `GET /api/v1/me` and sign-out until it signs in again with
/// `totp_code`; everything else answers `403 second_factor_required`.
#[utoipa::path(
    tag = "auth", operation_id = "start_totp_enrolment",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pending secret", body = TotpEnrolment),
        (status = 403, description = "Not an administrator (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The second factor is active already (`totp_already_enabled`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/totp")]
pub async fn start_totp_enrolment(
    p: Principal,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    policy::use_second_factor(&p)?;
    let secret = crate::domain::totp::new_secret();
    let uri = crate::domain::totp::otpauth_uri(&secret, &p.username)
        .ok_or_else(|| ApiError::internal("building the otpauth URI"))?;
    let (id, stored) = (p.account_id, secret.clone());
    let started = state
        .run(move |c| Ok(write_tx(c, |c| totp::start(c, id, &stored))?))
        .await?;
    if !started {
        return Err(Refusal::conflict(
            "totp_already_enabled",
            "The second factor is active already; turn it off first (POST /api/v1/me/totp/disable)",
        )
        .into());
    }
    Ok(HttpResponse::Ok().json(TotpEnrolment {
        secret,
        otpauth_uri: uri,
    }))
}

/// Confirm the second factor and get recovery codes
///
/// Administrators only. `code` is what the authenticator app shows for the pending secret of
/// `POST /api/v1/me/totp`; a right code activates the second factor, marks the current
/// session as having passed it, and answers ten one-time recovery codes (shown this once). A
/// wrong code answers `422 invalid_totp_code` and changes nothing; no pending enrolment
/// answers `409 totp_not_started`. Recorded in the audit log (`totp_enabled`).
#[utoipa::path(
    tag = "auth", operation_id = "confirm_totp_enrolment", request_body = TotpConfirm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Active: the recovery codes, shown once", body = RecoveryCodes),
        (status = 403, description = "Not an administrator (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrolment is pending, or it is active already (`totp_not_started`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is wrong (`invalid_totp_code`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/totp/confirm")]
pub async fn confirm_totp_enrolment(
    p: Principal,
    state: web::Data<AppState>,
    body: ApiJson<TotpConfirm>,
) -> ApiResult<HttpResponse> {
    policy::use_second_factor(&p)?;
    let code = body.body.code;
    let unix = u64::try_from(state.clock.now().timestamp()).unwrap_or(0);
    let codes = crate::domain::totp::recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| crate::domain::totp::recovery_hash(c))
        .collect();
    let actor = Actor::from(&p);
    let (id, session) = (p.account_id, p.session_id.clone());
    state
        .run(move |c| {
            write_tx(c, |c| {
                let secret = secret_in_state(c, id, false)?;
                if !totp::pass(c, id, &secret, Some(&code), None, unix)? {
                    return Err(invalid_code());
                }
                totp::confirm(c, id, &hashes)?;
                totp::mark_session(c, &session)?;
                audit::record(
                    c,
                    &actor,
                    "totp_enabled",
                    "account",
                    &id.to_string(),
                    &json!({}),
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Turn the second factor off
///
/// Administrators only, with a current `totp_code` or an unused `recovery_code` (a lost
/// device: sign in with a recovery code, turn it off, enrol again). Removes the secret and the
/// recovery codes; answers `204`. A wrong or missing code answers `422 invalid_totp_code`; no
/// active second factor answers `409 totp_not_enabled`. Recorded in the audit log
/// (`totp_disabled`).
#[utoipa::path(
    tag = "auth", operation_id = "disable_totp", request_body = TotpDisable,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The second factor is off"),
        (status = 403, description = "Not an administrator (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No active second factor (`totp_not_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is wrong or missing (`invalid_totp_code`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/totp/disable")]
pub async fn disable_totp(
    p: Principal,
    state: web::Data<AppState>,
    body: ApiJson<TotpDisable>,
) -> ApiResult<HttpResponse> {
    policy::use_second_factor(&p)?;
    let TotpDisable {
        totp_code,
        recovery_code,
    } = body.body;
    let unix = u64::try_from(state.clock.now().timestamp()).unwrap_or(0);
    let actor = Actor::from(&p);
    let id = p.account_id;
    state
        .run(move |c| {
            write_tx(c, |c| {
                let secret = secret_in_state(c, id, true)?;
                let passed = totp::pass(
                    c,
                    id,
                    &secret,
                    totp_code.as_deref(),
                    recovery_code.as_deref(),
                    unix,
                )?;
                if !passed {
                    return Err(invalid_code());
                }
                totp::remove(c, id)?;
                audit::record(
                    c,
                    &actor,
                    "totp_disabled",
                    "account",
                    &id.to_string(),
                    &json!({}),
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove another account's second factor
///
/// For an administrator who lost both the authenticator and the recovery codes: an
/// administrator who may manage that account (the same rule as `PATCH /api/v1/accounts/{id}`;
/// outside the caller's scope `404`, otherwise not allowed `403 forbidden`) removes its second
/// factor and recovery codes and ends all its sessions; the account then enrols again. Not for
/// the caller's own account (use `POST /api/v1/me/totp/disable`): `422`. No active or pending
/// second factor answers `409 totp_not_enabled`. Recorded in the audit log (`totp_reset`).
#[utoipa::path(
    tag = "accounts", operation_id = "reset_totp",
    params(("id" = i64, Path, description = "Account id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed; the account's sessions have ended"),
        (status = 403, description = "The caller may not manage this account (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has no second factor (`totp_not_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The caller's own account (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts/{id}/totp/reset")]
pub async fn reset_totp(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let actor = Actor::from(&p);
    state
        .run(move |c| {
            write_tx(c, |c| {
                crate::routes::accounts::managed_account(c, &p, id)?;
                if id == p.account_id {
                    return Err(ApiError::invalid_field(
                        "validation_failed",
                        "/id",
                        "Use POST /api/v1/me/totp/disable for your own account",
                    ));
                }
                if totp::get(c, id)?.is_none() {
                    return Err(Refusal::conflict(
                        "totp_not_enabled",
                        "This account has no second factor",
                    )
                    .into());
                }
                totp::remove(c, id)?;
                crate::db::sessions::revoke_all_of(c, id)?;
                audit::record(
                    c,
                    &actor,
                    "totp_reset",
                    "account",
                    &id.to_string(),
                    &json!({}),
                )?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
