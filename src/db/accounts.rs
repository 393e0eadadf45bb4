use diesel::prelude::*;

use super::schema::{accounts, departments, enterprises};
use super::scope::{accounts_visible, enterprises_visible, jurisdiction_path};
use super::{lower, AnyConnection};
use crate::auth::Principal;
use crate::domain::role::Role;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub jurisdiction_code: Option<String>,
    pub department_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub version: i64,
}

/// The writable part of an account.
#[derive(Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
pub struct AccountBinding {
    pub display_name: String,
    pub role: String,
    pub jurisdiction_code: Option<String>,
    pub department_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub disabled: bool,
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    accounts::table.count().get_result(conn)
}

pub fn role_of(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Role>> {
    accounts::table
        .filter(accounts::id.eq(id))
        .select(accounts::role)
        .first(conn)
        .optional()
}

pub fn find_by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::username.eq(username))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

pub fn get_visible(
    conn: &mut AnyConnection,
    p: &Principal,
    id: i64,
) -> QueryResult<Option<AccountRow>> {
    accounts::table
        .filter(accounts::id.eq(id))
        .filter(accounts_visible(p))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct AccountFilter {
    pub role: Option<String>,
    pub jurisdiction_code: Option<String>,
    pub enterprise_id: Option<i64>,
    pub disabled: Option<bool>,
    pub q: Option<String>,
    pub updated_since: Option<chrono::NaiveDateTime>,
    pub after_id: Option<i64>,
    /// Rows to read: the page size plus one (`Paging::fetch`).
    pub fetch: i64,
}

pub fn list_visible(
    conn: &mut AnyConnection,
    p: &Principal,
    f: &AccountFilter,
) -> QueryResult<Vec<AccountRow>> {
    let mut q = accounts::table
        .filter(accounts_visible(p))
        .select(AccountRow::as_select())
        .into_boxed();
    if let Some(r) = &f.role {
        q = q.filter(accounts::role.eq(r.clone()));
    }
    if let Some(j) = &f.jurisdiction_code {
        q = q.filter(accounts::jurisdiction_code.eq(j.clone()));
    }
    if let Some(e) = f.enterprise_id {
        q = q.filter(accounts::enterprise_id.eq(e));
    }
    if let Some(d) = f.disabled {
        q = q.filter(accounts::disabled.eq(d));
    }
    if let Some(text) = &f.q {
        let pattern = super::scope::contains_pattern(text);
        q = q.filter(
            accounts::username
                .like(pattern.clone())
                .escape('\\')
                .or(lower(accounts::display_name).like(pattern).escape('\\')),
        );
    }
    if let Some(t) = f.updated_since {
        q = q.filter(accounts::updated_at.ge(t));
    }
    if let Some(after) = f.after_id {
        q = q.filter(accounts::id.gt(after));
    }
    q.order(accounts::id.asc()).limit(f.fetch).load(conn)
}

/// What the references of an account binding resolve to, as the caller may see them.
#[derive(Debug, Default)]
pub struct ResolvedBinding {
    /// (path, level) of the jurisdiction.
    pub jurisdiction: Option<(String, crate::domain::jurisdiction::JurisdictionLevel)>,
    pub department_jurisdiction: Option<String>,
    /// Jurisdiction path of the enterprise, if the caller can see it.
    pub enterprise_path: Option<String>,
}

impl ResolvedBinding {
    /// Where the account sits in the tree (its jurisdiction, or its enterprise's).
    pub fn target_path(&self) -> Option<&str> {
        self.jurisdiction
            .as_ref()
            .map(|(p, _)| p.as_str())
            .or(self.enterprise_path.as_deref())
    }
}

pub fn resolve_binding(
    conn: &mut AnyConnection,
    caller: &Principal,
    b: &AccountBinding,
) -> QueryResult<ResolvedBinding> {
    let jurisdiction = match &b.jurisdiction_code {
        Some(code) => jurisdiction_path(conn, code)?,
        None => None,
    };
    let department_jurisdiction = match b.department_id {
        Some(d) => departments::table
            .filter(departments::id.eq(d))
            .select(departments::jurisdiction_code)
            .first(conn)
            .optional()?,
        None => None,
    };
    let enterprise_path = match b.enterprise_id {
        Some(e) => {
            let code: Option<String> = enterprises::table
                .filter(enterprises::id.eq(e))
                .filter(enterprises_visible(&caller.scope()))
                .select(enterprises::jurisdiction_code)
                .first(conn)
                .optional()?;
            match code {
                Some(c) => jurisdiction_path(conn, &c)?.map(|(p, _)| p),
                None => None,
            }
        }
        None => None,
    };
    Ok(ResolvedBinding {
        jurisdiction,
        department_jurisdiction,
        enterprise_path,
    })
}

pub fn insert(
    conn: &mut AnyConnection,
    username: &str,
    password_hash: &str,
    b: &AccountBinding,
) -> QueryResult<AccountRow> {
    let now = super::now();
    diesel::insert_into(accounts::table)
        .values((
            b,
            accounts::username.eq(username),
            accounts::password_hash.eq(password_hash),
            accounts::created_at.eq(now),
            accounts::updated_at.eq(now),
            accounts::version.eq(1i64),
        ))
        .get_result(conn)
}

/// Writes the binding (and a new password hash) if the row is still at `version`.
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    b: &AccountBinding,
    password_hash: Option<&str>,
) -> QueryResult<Option<AccountRow>> {
    let target = accounts::table
        .filter(accounts::id.eq(id))
        .filter(accounts::version.eq(version));
    let row: Option<AccountRow> = diesel::update(target)
        .set((
            b,
            accounts::updated_at.eq(super::now()),
            accounts::version.eq(version + 1),
        ))
        .get_result(conn)
        .optional()?;
    if let (Some(r), Some(hash)) = (&row, password_hash) {
        diesel::update(accounts::table.filter(accounts::id.eq(id)))
            .set(accounts::password_hash.eq(hash))
            .execute(conn)?;
        // A new password lifts a lock on the account.
        super::throttle::clear(conn, &super::throttle::user_key(&r.username))?;
    }
    Ok(row)
}

/// Whether an account belongs to an enterprise (a responsible person named by account).
pub fn belongs_to_enterprise(
    conn: &mut AnyConnection,
    id: i64,
    enterprise_id: i64,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        accounts::table
            .filter(accounts::id.eq(id))
            .filter(accounts::enterprise_id.eq(enterprise_id)),
    ))
    .get_result(conn)
}
