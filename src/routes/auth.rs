//! Login, token refresh, logout and `GET /me`.

use std::net::IpAddr;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::audit::{self, Actor};
use crate::db::sessions::{self, Refreshed};
use crate::db::{accounts, write_tx};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::json::{parse_json, read_json_bytes};
use crate::http::ApiJson;
use crate::routes::accounts::{describe_account, AccountDetail};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "admin", "password": "Correct-Horse-7-Battery"}))]
pub struct LoginRequest {
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "m2V0cmVmcmVzaHRva2VuZXhhbXBsZXZhbHVlMTIz"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "m2V0cmVmcmVzaHRva2VuZXhhbXBsZXZhbHVlMTIz"}))]
pub struct LogoutRequest {
    /// Optional: a refresh token of another of your sessions to end as well.
    pub refresh_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.sig",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "m2V0cmVmcmVzaHRva2VuZXhhbXBsZXZhbHVlMTIz"
}))]
pub struct TokenResponse {
    /// JWT (HS256) for `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use: exchange it at `/auth/refresh` for a new pair.
    pub refresh_token: String,
}

fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> IpAddr {
    let fallback = IpAddr::from([0, 0, 0, 0]);
    if trust_forwarded_for {
        if let Some(ip) = req.connection_info().realip_remote_addr().and_then(|s| {
            s.parse::<std::net::SocketAddr>()
                .map(|a| a.ip())
                .ok()
                .or_else(|| s.parse().ok())
        }) {
            return ip;
        }
    }
    req.peer_addr().map_or(fallback, |a| a.ip())
}

fn invalid_credentials() -> ApiError {
    let mut e = ApiError::unauthorized("The username or password is wrong");
    e.code = "invalid_credentials";
    e
}

fn issue(
    state: &AppState,
    account_id: i64,
    session_id: &str,
    refresh_token: String,
) -> ApiResult<HttpResponse> {
    let access_token = state
        .tokens
        .issue_access(account_id, session_id)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.tokens.access_ttl_secs,
            refresh_token,
        }))
}

/// Exchanges a username and password for an access token and a refresh token.
///
/// Failed logins are throttled: after 5 consecutive failures the account is locked for
/// 5 minutes (`429` with `Retry-After`, even for the right password), and more than 20
/// failures a minute from one client address answer `429`. A disabled account answers `401`
/// like a wrong password.
#[utoipa::path(
    tag = "auth", context_path = "/api/v1", operation_id = "login", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong username or password, or a disabled account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req, state.config.trust_forwarded_for);
    if let Err(wait) = state.address_throttle.check(ip) {
        return Err(ApiError::too_many_requests(
            wait,
            "Too many failed logins from this address; wait and retry",
        ));
    }
    let LoginRequest { username, password } = body.body;
    let username = username.trim().to_lowercase();
    let account = state
        .db
        .run(move |c| Ok(accounts::find_by_username(c, &username)?))
        .await?;
    let now = crate::db::now();
    if let Some(until) = account
        .as_ref()
        .and_then(|a| a.locked_until)
        .filter(|u| *u > now)
    {
        let wait = (until - now).num_seconds().max(1) as u64;
        return Err(ApiError::too_many_requests(
            wait,
            "This account is locked after repeated failed logins; wait and retry",
        ));
    }
    let verified = state
        .passwords
        .verify(password, account.as_ref().map(|a| a.password_hash.clone()))
        .await?;
    let request_id = crate::http::RequestId::of(&req);
    let actor = |id: i64| Actor {
        account_id: Some(id),
        request_id: Some(request_id.clone()),
    };
    let account = match account {
        Some(a) if verified && !a.disabled => a,
        other => {
            state.address_throttle.record_failure(ip);
            if let Some(a) = other {
                let (max, lockout) = (
                    state.config.login_max_failures as i32,
                    state.config.login_lockout,
                );
                let actor = actor(a.id);
                state
                    .db
                    .run(move |c| {
                        write_tx(c, |c| {
                            accounts::record_failed_login(
                                c,
                                a.id,
                                max,
                                chrono::Duration::from_std(lockout).unwrap_or_default(),
                            )?;
                            audit::record(
                                c,
                                &actor,
                                "login_failed",
                                "account",
                                &a.id.to_string(),
                                &json!({}),
                            )
                        })?;
                        Ok(())
                    })
                    .await?;
            }
            tracing::info!(client.ip = %ip, "login failed");
            return Err(invalid_credentials());
        }
    };
    let ttl = chrono::Duration::from_std(state.config.refresh_token_ttl).unwrap_or_default();
    let actor = actor(account.id);
    let (session_id, refresh_token) = state
        .db
        .run(move |c| {
            Ok(write_tx(c, |c| {
                accounts::reset_failed_logins(c, account.id)?;
                let started = sessions::start(c, account.id, ttl)?;
                audit::record(
                    c,
                    &actor,
                    "login",
                    "account",
                    &account.id.to_string(),
                    &json!({}),
                )?;
                Ok::<_, diesel::result::Error>(started)
            })?)
        })
        .await?;
    tracing::info!(account.id = account.id, "login");
    issue(&state, account.id, &session_id, refresh_token)
}

/// Exchanges a refresh token for a new access token and a new refresh token (rotation).
///
/// Each refresh token works once. Presenting a spent one again ends the whole session
/// (every token issued from that login) and answers `401`.
#[utoipa::path(
    tag = "auth", context_path = "/api/v1", operation_id = "refresh", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, expired or reused refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let token = body.body.refresh_token;
    let ttl = chrono::Duration::from_std(state.config.refresh_token_ttl).unwrap_or_default();
    let outcome = state
        .db
        .run(move |c| Ok(write_tx(c, |c| sessions::rotate(c, &token, ttl))?))
        .await?;
    match outcome {
        Refreshed::Rotated {
            account_id,
            session_id,
            refresh_token,
        } => issue(&state, account_id, &session_id, refresh_token),
        Refreshed::Reused => {
            tracing::warn!("spent refresh token presented again; session revoked");
            Err(ApiError::unauthorized(
                "This refresh token was already used; the session has been ended",
            ))
        }
        Refreshed::Invalid => Err(ApiError::unauthorized(
            "The refresh token is unknown or has expired",
        )),
    }
}

/// Ends the session of the access token: it and every refresh token of the session stop
/// working at once. A refresh token in the body (of another session of yours) ends that one too.
#[utoipa::path(
    tag = "auth", context_path = "/api/v1", operation_id = "logout", request_body(content = Option<LogoutRequest>, description = "Optional", example = json!({"refresh_token": "m2V0cmVmcmVzaHRva2VuZXhhbXBsZXZhbHVlMTIz"})),
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"))
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    p: Principal,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let bytes = read_json_bytes(&req, &mut payload.into_inner()).await?;
    let extra = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        parse_json::<LogoutRequest>(&bytes)?.refresh_token
    };
    let actor = Actor::from(&p);
    state
        .db
        .run(move |c| {
            Ok(write_tx(c, |c| {
                sessions::revoke(c, &p.session_id)?;
                if let Some(t) = extra {
                    if let Some(other) = sessions::session_of_refresh(c, &t, p.account_id)? {
                        sessions::revoke(c, &other)?;
                    }
                }
                audit::record(
                    c,
                    &actor,
                    "logout",
                    "account",
                    &p.account_id.to_string(),
                    &json!({}),
                )
            })?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in account with its role and what it is bound to.
#[utoipa::path(
    tag = "auth", context_path = "/api/v1", operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, description = "The signed-in account", body = AccountDetail))
)]
#[get("/me")]
pub async fn get_me(p: Principal, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = p.account_id;
    let detail = state
        .db
        .run(move |c| {
            let row = accounts::get_visible(c, &p, id)?.ok_or_else(ApiError::not_found)?;
            Ok(describe_account(c, row)?)
        })
        .await?;
    Ok(crate::routes::with_etag(detail.account.version, &detail))
}
