//! Accounts: created and changed by administrators within their reach (SPEC §1, §7).

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::accounts::{self, AccountBinding, AccountFilter, AccountRow};
use crate::db::audit::{self, Actor};
use crate::db::events;
use crate::db::schema::{departments, enterprises, jurisdictions};
use crate::db::{on_unique_violation, sessions, to_utc, write_tx, AnyConnection};
use crate::domain::account::{check_binding, check_password, normalise_username, BindingFacts};
use crate::domain::event::EventType;
use crate::domain::jurisdiction::JurisdictionLevel;
use crate::domain::role::Role;
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::json::{from_merged, from_value};
use crate::http::page::{self, Listing};
use crate::http::{patch as merge_patch, ApiJson, IdempotencyKey, IfMatch};
use crate::routes::reference::Jurisdiction;
use crate::routes::with_etag;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "username": "lx.officer",
    "password": "Safe-Work-2026!",
    "display_name": "娄星区应急管理局 张三",
    "role": "county_officer",
    "jurisdiction_code": "431302",
    "department_id": null
}))]
pub struct CreateAccountRequest {
    /// 3–64 characters of letters, digits, `.`, `_`, `-`; stored lower-case; unique.
    pub username: String,
    /// At least 10 characters mixing three of: lower case, upper case, digits, symbols.
    #[schema(format = Password)]
    pub password: String,
    pub display_name: String,
    pub role: Role,
    /// Regulators and auditors: the jurisdiction they are bound to.
    #[serde(default)]
    pub jurisdiction_code: Option<String>,
    /// Officers only: a department of the same jurisdiction, whose sectors they supervise.
    #[serde(default)]
    pub department_id: Option<i64>,
    /// Enterprise accounts only: their enterprise.
    #[serde(default)]
    pub enterprise_id: Option<i64>,
    #[serde(default)]
    pub disabled: bool,
}

impl CreateAccountRequest {
    fn binding(&self) -> BindingInput {
        BindingInput {
            display_name: self.display_name.clone(),
            role: self.role,
            jurisdiction_code: self.jurisdiction_code.clone(),
            department_id: self.department_id,
            enterprise_id: self.enterprise_id,
            disabled: self.disabled,
        }
    }
}

/// The writable binding of an account (also the shape a `PATCH` merges into).
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct BindingInput {
    pub display_name: String,
    pub role: Role,
    /// Regulators and auditors: the jurisdiction they are bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction_code: Option<String>,
    /// Officers only: the department (in the same jurisdiction) whose sectors they supervise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
    /// Enterprise accounts only: their enterprise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<i64>,
    #[serde(default)]
    pub disabled: bool,
}

/// A JSON merge patch over an account: only the fields to change; `null` clears a binding.
/// `username` cannot change. A new `password` ends every session of the account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UpdateAccountRequest {
    // Fields that cannot be cleared are not nullable: leave them out to keep them.
    #[schema(nullable = false)]
    pub display_name: Option<String>,
    #[schema(format = Password, nullable = false)]
    pub password: Option<String>,
    #[schema(nullable = false)]
    pub role: Option<Role>,
    pub jurisdiction_code: Option<String>,
    pub department_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    #[schema(nullable = false)]
    pub disabled: Option<bool>,
}

#[derive(Serialize, ToSchema, Clone)]
#[schema(example = json!({
    "id": 7, "username": "lx.officer", "display_name": "娄星区应急管理局 张三",
    "role": "county_officer", "jurisdiction_code": "431302", "department_id": null,
    "enterprise_id": null, "disabled": false,
    "created_at": "2026-11-29T02:00:00Z", "updated_at": "2026-11-29T02:00:00Z", "version": 1
}))]
pub struct AccountResponse {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub jurisdiction_code: Option<String>,
    pub department_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&AccountRow> for AccountResponse {
    fn from(r: &AccountRow) -> Self {
        AccountResponse {
            id: r.id,
            username: r.username.clone(),
            display_name: r.display_name.clone(),
            role: r.role,
            jurisdiction_code: r.jurisdiction_code.clone(),
            department_id: r.department_id,
            enterprise_id: r.enterprise_id,
            disabled: r.disabled,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

/// Something an account is bound to, by id and name.
#[derive(Serialize, ToSchema)]
pub struct NamedRef {
    pub id: i64,
    pub name: String,
}

/// An account with the names of what it is bound to.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1, "username": "admin", "display_name": "City administrator", "role": "city_admin",
    "jurisdiction_code": "431300", "department_id": null, "enterprise_id": null, "disabled": false,
    "created_at": "2026-11-29T02:00:00Z", "updated_at": "2026-11-29T02:00:00Z", "version": 1,
    "jurisdiction": {"code": "431300", "name": "娄底市", "level": "city", "parent_code": null, "updated_at": "2026-11-29T02:00:00Z"},
    "department": null, "enterprise": null
}))]
pub struct AccountDetail {
    #[serde(flatten)]
    pub account: AccountResponse,
    pub jurisdiction: Option<Jurisdiction>,
    pub department: Option<NamedRef>,
    pub enterprise: Option<NamedRef>,
}

pub fn describe_account(c: &mut AnyConnection, row: AccountRow) -> QueryResult<AccountDetail> {
    let jurisdiction = match &row.jurisdiction_code {
        Some(code) => jurisdictions::table
            .filter(jurisdictions::code.eq(code))
            .select((
                jurisdictions::code,
                jurisdictions::name,
                jurisdictions::level,
                jurisdictions::parent_code,
                jurisdictions::updated_at,
            ))
            .first::<(String, String, String, Option<String>, NaiveDateTime)>(c)
            .optional()?
            .map(|(code, name, level, parent_code, updated_at)| {
                Ok::<_, diesel::result::Error>(Jurisdiction {
                    code,
                    name,
                    level: crate::db::stored(JurisdictionLevel::from_stored(&level))?,
                    parent_code,
                    updated_at: crate::db::to_utc(updated_at),
                })
            })
            .transpose()?,
        None => None,
    };
    let department = match row.department_id {
        Some(id) => departments::table
            .filter(departments::id.eq(id))
            .select(departments::name)
            .first::<String>(c)
            .optional()?
            .map(|name| NamedRef { id, name }),
        None => None,
    };
    let enterprise = match row.enterprise_id {
        Some(id) => enterprises::table
            .filter(enterprises::id.eq(id))
            .select(enterprises::name)
            .first::<String>(c)
            .optional()?
            .map(|name| NamedRef { id, name }),
        None => None,
    };
    Ok(AccountDetail {
        account: AccountResponse::from(&row),
        jurisdiction,
        department,
        enterprise,
    })
}

impl BindingInput {
    fn of(r: &AccountRow) -> BindingInput {
        BindingInput {
            display_name: r.display_name.clone(),
            role: r.role,
            jurisdiction_code: r.jurisdiction_code.clone(),
            department_id: r.department_id,
            enterprise_id: r.enterprise_id,
            disabled: r.disabled,
        }
    }

    fn to_row(&self, errors: &mut Errors) -> AccountBinding {
        AccountBinding {
            display_name: errors.text("/display_name", &self.display_name, 100),
            role: self.role.as_str().to_string(),
            jurisdiction_code: self.jurisdiction_code.clone(),
            department_id: self.department_id,
            enterprise_id: self.enterprise_id,
            disabled: self.disabled,
        }
    }
}

/// Checks a binding the way both create and update need it: the caller's authority over the
/// resulting account first (403), then its validity (422). `errors` may already hold field
/// errors of the caller (username, password).
fn check_binding_for(
    c: &mut AnyConnection,
    actor: &Principal,
    input: &BindingInput,
    mut errors: Errors,
) -> ApiResult<AccountBinding> {
    let binding = input.to_row(&mut errors);
    let resolved = accounts::resolve_binding(c, actor, &binding)?;
    if let Some(path) = resolved.target_path() {
        policy::manage_account(actor, input.role, path)?;
    }
    check_binding(
        &mut errors,
        &BindingFacts {
            role: input.role,
            jurisdiction_level: resolved.jurisdiction.as_ref().map(|(_, l)| *l),
            jurisdiction_given: binding.jurisdiction_code.is_some(),
            department_jurisdiction: resolved.department_jurisdiction.as_deref(),
            department_given: binding.department_id.is_some(),
            jurisdiction_code: binding.jurisdiction_code.as_deref(),
            enterprise_given: binding.enterprise_id.is_some(),
        },
    );
    if binding.enterprise_id.is_some()
        && resolved.enterprise_path.is_none()
        && input.role == Role::Enterprise
    {
        errors.add("/enterprise_id", "unknown enterprise");
    }
    errors.into_result().map_err(ApiError::validation)?;
    Ok(binding)
}

/// Inserts an account and records its creation (the API and the command line alike).
fn insert_account(
    c: &mut AnyConnection,
    actor: &Actor,
    username: &str,
    password_hash: &str,
    binding: &AccountBinding,
) -> ApiResult<AccountRow> {
    let row = accounts::insert(c, username, password_hash, binding).map_err(|e| {
        on_unique_violation(e, || {
            ApiError::conflict(
                "duplicate_username",
                format!("The username {username} is taken"),
            )
        })
    })?;
    let response = AccountResponse::from(&row);
    audit::created(c, actor, "account", row.id, &response)?;
    let place = events::place_of_account(c, &row)?;
    events::publish(
        c,
        actor,
        EventType::AccountCreated,
        row.id,
        &place,
        &response,
    )?;
    Ok(row)
}

fn redacted_password_change() -> Value {
    serde_json::json!({"password": {"before": "[redacted]", "after": "[redacted]"}})
}

/// Create an account
///
/// Administrators only: a `city_admin` creates any account in its city; a `county_admin`
/// creates `county_officer` accounts of its county and `enterprise` accounts of enterprises
/// registered there. Officers, enterprise accounts and auditors get `403 forbidden`; a
/// `jurisdiction_code` outside your jurisdiction is `403 out_of_jurisdiction`.
///
/// Bindings: `city_admin`, `city_officer` and `auditor` bind to a `city` jurisdiction,
/// `county_admin` and `county_officer` to a `county` or `zone`; `department_id` is for officers
/// only (a department of the same jurisdiction, which narrows them to its sectors); an
/// `enterprise` account carries only `enterprise_id` (an enterprise you cannot see is reported
/// as unknown, `422`). The username (3–64 of `a-z 0-9 . _ -`, stored lower-case) must be free
/// (`409 duplicate_username`); the password must satisfy the policy (10–128 characters, three
/// of four character classes, not containing the username). All field problems come back
/// together in one `422 validation_failed`. The creation is audited (without the password);
/// `Idempotency-Key` makes a retry replay the first `201`.
#[utoipa::path(
    tag = "accounts", operation_id = "create_account", request_body = CreateAccountRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new account", body = AccountResponse,
         headers(("Location" = String, description = "URL of the new account"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or a county administrator asking for a role other than `county_officer`/`enterprise` (`forbidden`); the `jurisdiction_code` is outside your jurisdiction (`out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken (`duplicate_username`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body has the wrong shape (`invalid_body`); invalid fields (`validation_failed`: username, password policy, role binding, unknown jurisdiction, department or enterprise); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts")]
pub async fn create_account(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<CreateAccountRequest>,
) -> ApiResult<HttpResponse> {
    policy::manage_accounts(&p)?;
    let req = body.body;
    let mut errors = Errors::default();
    let username = normalise_username(&mut errors, &req.username);
    check_password(&mut errors, &req.password, &username);
    // Check everything before paying for the hash.
    let (actor, input) = (p.clone(), req.binding());
    state
        .run(move |c| check_binding_for(c, &actor, &input, errors).map(|_| ()))
        .await?;
    let hash = state.passwords.hash(req.password.clone()).await?;
    let audit_actor = Actor::from(&p);
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_account",
        body.sha256,
        move |c| {
            let binding = check_binding_for(c, &p, &req.binding(), Errors::default())?;
            let row = insert_account(c, &audit_actor, &username, &hash, &binding)?;
            let response = AccountResponse::from(&row);
            Created::new(format!("/api/v1/accounts/{}", row.id), &response)
        },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    pub role: Option<Role>,
    /// Accounts bound to exactly this jurisdiction.
    pub jurisdiction_code: Option<String>,
    pub enterprise_id: Option<i64>,
    pub disabled: Option<bool>,
    /// Part of the username or display name (case-insensitive).
    pub q: Option<String>,
}

/// List accounts
///
/// For administrators and auditors; officers and enterprise accounts get `403 forbidden`
/// (they read their own account at `GET /api/v1/me`). You see the accounts bound to a
/// jurisdiction at or below yours and the enterprise accounts of enterprises registered there
/// (auditors: the whole city). Oldest first, keyset-paginated (`limit`, `cursor`).
///
/// Filters: `role`, `jurisdiction_code` (accounts bound to exactly that jurisdiction),
/// `enterprise_id`, `disabled`, `q` (part of the username or display name, case-insensitive)
/// and `updated_since`. Unknown parameters, a `limit` outside 1–200 or a bad timestamp answer
/// `400 invalid_query`; a cursor this API did not issue answers `400 invalid_cursor`.
#[utoipa::path(
    tag = "accounts", operation_id = "list_accounts", params(AccountQuery, page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts within your reach", body = page::Page<AccountResponse>),
        (status = 403, description = "Only administrators and auditors read accounts (`forbidden`); use `GET /api/v1/me` for your own", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/accounts")]
pub async fn list_accounts(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<AccountQuery>,
) -> ApiResult<HttpResponse> {
    policy::read_accounts(&p)?;
    let Listing { filters: q, paging } = query;
    let filter = AccountFilter {
        role: q.role.map(|r| r.as_str().to_string()),
        jurisdiction_code: q.jurisdiction_code,
        enterprise_id: q.enterprise_id,
        disabled: q.disabled,
        q: q.q.filter(|s| !s.trim().is_empty()),
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
    };
    let rows = state
        .run(move |c| Ok(accounts::list_visible(c, &p, &filter)?))
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, |r| AccountResponse::from(&r))))
}

/// Get an account
///
/// For administrators (accounts within their reach, as in the list) and auditors. An account
/// outside your reach answers `404`; officers and enterprise users get `403 forbidden` for the
/// accounts they can see, their own included (they use `GET /api/v1/me`). The answer carries
/// the `ETag` to send as `If-Match` when changing the account.
#[utoipa::path(
    tag = "accounts", operation_id = "get_account",
    params(("id" = i64, Path, description = "Account id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountResponse, headers(("ETag" = String, description = "Version tag for If-Match"))),
        (status = 403, description = "Only administrators and auditors read accounts (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/accounts/{id}")]
pub async fn get_account(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .run(move |c| {
            let row = accounts::get_visible(c, &p, id)?.ok_or_else(ApiError::not_found)?;
            policy::read_accounts(&p)?;
            Ok(row)
        })
        .await?;
    Ok(with_etag(row.version, &AccountResponse::from(&row)))
}

/// Change an account
///
/// A JSON merge patch over `display_name`, `password`, `role`, `jurisdiction_code`,
/// `department_id`, `enterprise_id` and `disabled` (`null` clears a binding); the `username`
/// never changes. Needs `If-Match` with the account's `ETag` (`428` without, `412` when stale).
///
/// Who may: the authority of `POST /api/v1/accounts`, over the account both as it is and as it
/// would become — a `city_admin` manages every account in its city, a `county_admin` only its
/// county's `county_officer` and `enterprise` accounts (`403 forbidden`, `out_of_jurisdiction`);
/// auditors, officers and enterprise accounts may not (`403 forbidden`). You cannot disable
/// your own account (`422 cannot_disable_self`). The result is checked like a create (binding
/// rules, password policy: `422 validation_failed`).
///
/// A new password or `disabled: true` ends every session of the account at once; a new
/// password also lifts a login lock. The change is audited (passwords as `[redacted]`); a
/// patch that changes nothing records no event.
#[utoipa::path(
    tag = "accounts", operation_id = "update_account", request_body = UpdateAccountRequest,
    params(
        ("id" = i64, Path, description = "Account id"),
        ("If-Match" = String, Header, description = "The ETag you last read"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed account", body = AccountResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "You may not manage this account, or not make it what you asked: not an administrator, or a role a county administrator does not manage (`forbidden`); a new `jurisdiction_code` outside your jurisdiction (`out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`, e.g. `username` or an unknown field); disabling yourself (`cannot_disable_self`); invalid values (`validation_failed`: password policy, role binding, unknown jurisdiction, department or enterprise)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/accounts/{id}")]
pub async fn update_account(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut patch = body.body;
    let request: UpdateAccountRequest = from_value(patch.clone())?;
    if let Some(o) = patch.as_object_mut() {
        o.remove("password");
    }
    // Check everything first (404 → 403 → 428/412 → 422), then pay for the hash, then write
    // with the same checks under the version guard.
    let (p2, patch2, pw2, if_match2) = (
        p.clone(),
        patch.clone(),
        request.password.clone(),
        if_match.clone(),
    );
    state
        .run(move |c| prepare_update(c, &p2, id, &if_match2, &patch2, pw2.as_deref()).map(|_| ()))
        .await?;
    let hash = match request.password.clone() {
        Some(pw) => Some(state.passwords.hash(pw).await?),
        None => None,
    };
    let actor = Actor::from(&p);
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let (current, binding) =
                    prepare_update(c, &p, id, &if_match, &patch, request.password.as_deref())?;
                let row = accounts::update(c, id, current.version, &binding, hash.as_deref())?
                    .ok_or_else(ApiError::precondition_failed)?;
                let extra = hash.as_ref().map(|_| redacted_password_change());
                audit::updated(
                    c,
                    &actor,
                    "account",
                    id,
                    &AccountResponse::from(&current),
                    &AccountResponse::from(&row),
                    extra,
                )?;
                if hash.is_some() || row.disabled {
                    sessions::revoke_all_of(c, id)?;
                }
                let place = events::place_of_account(c, &row)?;
                events::publish_if_changed(
                    c,
                    &actor,
                    EventType::AccountUpdated,
                    id,
                    &place,
                    &AccountResponse::from(&current),
                    &AccountResponse::from(&row),
                )?;
                Ok(row)
            })
        })
        .await?;
    Ok(with_etag(row.version, &AccountResponse::from(&row)))
}

/// An account `p` may manage: `404` outside its scope, `403` when its role may not manage it.
pub fn managed_account(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<AccountRow> {
    let current = accounts::get_visible(c, p, id)?.ok_or_else(ApiError::not_found)?;
    let current_input = BindingInput::of(&current);
    let current_path =
        accounts::resolve_binding(c, p, &current_input.to_row(&mut Errors::default()))?
            .target_path()
            .map(str::to_string)
            .unwrap_or_default();
    policy::manage_account(p, current_input.role, &current_path)?;
    Ok(current)
}

/// The checks of an account update, in the contract's order; returns the current row and the
/// binding to write.
fn prepare_update(
    c: &mut AnyConnection,
    p: &Principal,
    id: i64,
    if_match: &IfMatch,
    patch: &Value,
    new_password: Option<&str>,
) -> ApiResult<(AccountRow, AccountBinding)> {
    let current = managed_account(c, p, id)?;
    let current_input = BindingInput::of(&current);
    if_match.check(current.version)?;
    let mut merged = serde_json::to_value(&current_input).map_err(ApiError::internal)?;
    merge_patch::merge(&mut merged, patch);
    let input: BindingInput = from_merged(merged)?;
    if input.disabled && current.id == p.account_id {
        return Err(ApiError::invalid_field(
            "cannot_disable_self",
            "/disabled",
            "You cannot disable your own account",
        ));
    }
    let mut errors = Errors::default();
    if let Some(pw) = new_password {
        check_password(&mut errors, pw, &current.username);
    }
    let binding = check_binding_for(c, p, &input, errors)?;
    Ok((current, binding))
}

/// `hazard-registry create-account`: the same checks and audit as the API.
pub async fn create_from_cli(
    state: &AppState,
    actor: &Principal,
    username: &str,
    password: &str,
    input: BindingInput,
) -> ApiResult<i64> {
    let mut errors = Errors::default();
    let username = normalise_username(&mut errors, username);
    check_password(&mut errors, password, &username);
    errors.into_result().map_err(ApiError::validation)?;
    let hash = state.passwords.hash(password.to_string()).await?;
    let actor = actor.clone();
    state
        .run(move |c| {
            write_tx(c, |c| {
                let binding = check_binding_for(c, &actor, &input, Errors::default())?;
                Ok(insert_account(c, &Actor::system(), &username, &hash, &binding)?.id)
            })
        })
        .await
}
