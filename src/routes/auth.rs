//! Login, token refresh, logout and `GET /me`.

use std::net::IpAddr;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::audit::{self, Actor};
use crate::db::sessions::{self, Refreshed};
use crate::db::{accounts, throttle, totp, write_tx};
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
    /// The 6-digit code of the account's authenticator app, for an account with a second
    /// factor (administrators who enrolled). Each code works once.
    #[serde(default)]
    #[schema(example = "492039")]
    pub totp_code: Option<String>,
    /// Instead of `totp_code`: one of the account's unused recovery codes (spent by this use).
    #[serde(default)]
    #[schema(example = "k7m2p-9xq4t")]
    pub recovery_code: Option<String>,
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

crate::domain::text_enum! {
    /// Always `Bearer` (RFC 6750).
    pub enum TokenType {
        Bearer = "Bearer",
    }
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
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use: exchange it at `/auth/refresh` for a new pair.
    pub refresh_token: String,
}

pub(crate) fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> IpAddr {
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

/// The outcome of the second factor at sign-in.
#[derive(PartialEq, Eq)]
enum SecondFactor {
    /// The account has none.
    None,
    Passed,
    /// Needed, but neither `totp_code` nor `recovery_code` was sent.
    Missing,
    Failed,
}

fn totp_required() -> ApiError {
    let mut e = ApiError::unauthorized(
        "This account signs in with a second factor: send totp_code (or a recovery_code) too",
    );
    e.code = "totp_required";
    e
}

fn invalid_second_factor() -> ApiError {
    let mut e = ApiError::unauthorized(
        "The authenticator code (or recovery code) is wrong, or was used already",
    );
    e.code = "invalid_totp_code";
    e
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
        .issue_access(account_id, session_id, state.clock.now())
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: TokenType::Bearer,
            expires_in: state.tokens.access_ttl_secs,
            refresh_token,
        }))
}

/// Sign in with a username and password
///
/// Public: no token needed. Exchanges a username (trimmed, case-insensitive) and password for
/// a short-lived access token (HS256 JWT; `expires_in` seconds, 900 by default) and an opaque,
/// single-use refresh token for `POST /api/v1/auth/refresh`. The answer carries
/// `Cache-Control: no-store`. Every sign-in starts a new session.
///
/// An unknown username, a wrong password and a disabled account all answer the same
/// `401 invalid_credentials` (with the same timing). Failed logins are throttled: after 5
/// consecutive failures (`HAZREG_LOGIN_MAX_FAILURES`) the account is locked for 5 minutes
/// (`HAZREG_LOGIN_LOCKOUT_SECS`) and answers `429 too_many_requests` with `Retry-After`, even
/// for the right password; more than 20 failures a minute from one client address
/// (`HAZREG_LOGIN_ADDRESS_MAX_FAILURES_PER_MINUTE`) also answer `429`. Successful and failed
/// logins are written to the audit log (`login`, `login_failed`).
///
/// **Second factor**: an account that enrolled one (`POST /api/v1/me/totp`) also sends
/// `totp_code` (each code works once) or a `recovery_code` (spent by the use). With the right
/// password but neither, the answer is `401 totp_required`; a wrong or reused code answers
/// `401 invalid_totp_code` and counts as a failed login.
#[utoipa::path(
    tag = "auth", operation_id = "login", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new access token and refresh token (`Cache-Control: no-store`)", body = TokenResponse),
        (status = 401, description = "Unknown username, wrong password or disabled account — one answer for all (`invalid_credentials`, with `WWW-Authenticate: Bearer`); for an account with a second factor and the right password, `totp_required` (no code sent) or `invalid_totp_code` (a wrong or reused code)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins (`too_many_requests`): the account is locked after consecutive failures (even for the right password), or this client address has failed too often this minute; retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds until the lock or the per-address window ends"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req, state.config.trust_forwarded_for);
    let LoginRequest {
        username,
        password,
        totp_code,
        recovery_code,
    } = body.body;
    let username = username.trim().to_lowercase();
    let (user_key, address_key) = (throttle::user_key(&username), throttle::address_key(&ip));
    let now = state.clock.now().naive_utc();
    let max_per_address = state.config.login_address_max_failures_per_minute as i32;
    // The same reads for every username, known or not: the answers cannot tell them apart.
    let (account, totp_secret, address_wait, user_wait) = {
        let (user_key, address_key) = (user_key.clone(), address_key.clone());
        state
            .run(move |c| {
                Ok((
                    accounts::find_by_username(c, &username)?,
                    totp::active_secret_of(c, &username)?,
                    throttle::address_blocked(c, &address_key, now, max_per_address)?,
                    throttle::user_locked(c, &user_key, now)?,
                ))
            })
            .await?
    };
    if let Some(wait) = address_wait {
        return Err(ApiError::too_many_requests(
            wait,
            "Too many failed logins from this address; wait and retry",
        ));
    }
    if let Some(wait) = user_wait {
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
    let max = state.config.login_max_failures as i32;
    let lockout = chrono::Duration::from_std(state.config.login_lockout).unwrap_or_default();
    // A failed login (wrong password, or a wrong second factor) counts against the account and
    // the address alike.
    let failed = |known: Option<(i64, Actor)>| {
        let (state, user_key, address_key) = (state.clone(), user_key.clone(), address_key.clone());
        async move {
            state
                .run(move |c| {
                    write_tx(c, |c| {
                        throttle::user_failed(c, &user_key, now, max, lockout)?;
                        throttle::address_failed(c, &address_key, now)?;
                        if let Some((id, actor)) = &known {
                            audit::record(
                                c,
                                actor,
                                "login_failed",
                                "account",
                                &id.to_string(),
                                &json!({}),
                            )?;
                        }
                        Ok::<_, diesel::result::Error>(())
                    })?;
                    Ok(())
                })
                .await
        }
    };
    let account = match account {
        Some(a) if verified && !a.disabled => a,
        other => {
            failed(other.map(|a| (a.id, actor(a.id)))).await?;
            tracing::info!(client.ip = %ip, "login failed");
            return Err(invalid_credentials());
        }
    };
    // The second factor, for an account that enrolled one: a write (the code's step, or the
    // recovery code, is spent) only when one is needed and given.
    let second_factor = match (totp_secret, totp_code, recovery_code) {
        (None, _, _) => SecondFactor::None,
        (Some(_), None, None) => SecondFactor::Missing,
        (Some(secret), code, recovery) => {
            let id = account.id;
            let unix = u64::try_from(state.clock.now().timestamp()).unwrap_or(0);
            let passed = state
                .run(move |c| {
                    Ok(write_tx(c, |c| {
                        totp::pass(c, id, &secret, code.as_deref(), recovery.as_deref(), unix)
                    })?)
                })
                .await?;
            if passed {
                SecondFactor::Passed
            } else {
                SecondFactor::Failed
            }
        }
    };
    match second_factor {
        SecondFactor::Missing => return Err(totp_required()),
        SecondFactor::Failed => {
            failed(Some((account.id, actor(account.id)))).await?;
            tracing::info!(client.ip = %ip, "login failed: second factor");
            return Err(invalid_second_factor());
        }
        SecondFactor::None | SecondFactor::Passed => {}
    }
    let passed = second_factor == SecondFactor::Passed;
    let ttl = chrono::Duration::from_std(state.config.refresh_token_ttl).unwrap_or_default();
    let actor = actor(account.id);
    let (session_id, refresh_token) = state
        .run(move |c| {
            Ok(write_tx(c, |c| {
                throttle::clear(c, &throttle::user_key(&account.username))?;
                let started = sessions::start(c, account.id, ttl, passed)?;
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

/// Exchange a refresh token for a new token pair
///
/// Public: no access token needed, the refresh token in the body is the credential. Rotation:
/// the presented refresh token is spent and a new access token and refresh token are returned
/// (`Cache-Control: no-store`); the session's lifetime is renewed
/// (`HAZREG_REFRESH_TOKEN_TTL_SECS`, 14 days by default).
///
/// Each refresh token works once. Presenting a spent one again — a sign of a stolen token, or
/// two clients refreshing with the same token at once — ends the whole session (every token
/// issued since that login) and answers `401 unauthorized`. An unknown or expired token, an
/// ended session or a disabled account also answer `401 unauthorized`: sign in again.
#[utoipa::path(
    tag = "auth", operation_id = "refresh", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is spent", body = TokenResponse),
        (status = 401, description = "Unknown or expired refresh token, ended session or disabled account; or a spent token presented again, which has now ended the whole session (`unauthorized`)", body = Problem, content_type = "application/problem+json"),
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

/// Sign out: end the current session
///
/// Any signed-in account. Ends the session of the access token at once: that access token and
/// every refresh token of the session stop working (later requests with them answer `401`).
/// The body is optional; `{"refresh_token": "…"}` naming a refresh token of another of *your*
/// sessions ends that session too (a token that is unknown or belongs to another account is
/// ignored). The sign-out is written to the audit log (`logout`). Answers `204` with no body.
#[utoipa::path(
    tag = "auth", operation_id = "logout", request_body(content = Option<LogoutRequest>, description = "Optional", example = json!({"refresh_token": "m2V0cmVmcmVzaHRva2VuZXhhbXBsZXZhbHVlMTIz"})),
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out: the session (and the one of the optional refresh token) has ended"))
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

/// The signed-in account
///
/// Any signed-in account, including officers and enterprise users, who may not read
/// `/accounts`. Returns the caller's account with its role and the names of what it is bound
/// to — jurisdiction (regulators, auditors), department (officers bound to one) or enterprise
/// (enterprise accounts) — and its `ETag`. The account is read from the database on every
/// request, so a changed role or binding shows at once; clients use it after sign-in to decide
/// what to offer.
#[utoipa::path(
    tag = "auth", operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, description = "The signed-in account with the names of its bindings", body = AccountDetail, headers(("ETag" = String, description = "Version tag of the account"))))
)]
#[get("/me")]
pub async fn get_me(p: Principal, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = p.account_id;
    let detail = state
        .run(move |c| {
            let row = accounts::get_visible(c, &p, id)?.ok_or_else(ApiError::not_found)?;
            Ok(describe_account(c, row)?)
        })
        .await?;
    Ok(crate::routes::with_etag(detail.account.version, &detail))
}
