//! The `Principal` extractor: the bearer token is verified, then the caller is rebuilt from its
//! account and session rows.

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::RequestId;
use crate::state::AppState;

pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let request_id = RequestId::of(req);
        // What an administrator without a second factor may still do (`policy::second_factor_gate`).
        let enrolling = matches!(
            (req.method().as_str(), req.path()),
            ("GET", "/api/v1/me")
                | ("POST", "/api/v1/me/totp")
                | ("POST", "/api/v1/me/totp/confirm")
                | ("POST", "/api/v1/auth/logout")
        );
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token =
                token.ok_or_else(|| ApiError::unauthorized("A bearer token is required"))?;
            let (account_id, session_id) = state
                .tokens
                .verify_access(&token, state.clock.now())
                .ok_or_else(|| ApiError::unauthorized("The token is invalid or has expired"))?;
            let principal = state
                .run(move |conn| {
                    Ok(crate::db::sessions::load_principal(
                        conn,
                        account_id,
                        &session_id,
                    )?)
                })
                .await?
                .ok_or_else(|| ApiError::unauthorized("The session has ended"))?;
            crate::auth::policy::second_factor_gate(
                &principal,
                state.config.admin_totp_required,
                enrolling,
            )?;
            Ok(Principal {
                request_id,
                ..principal
            })
        })
    }
}
