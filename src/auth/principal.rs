//! The authenticated caller and what it can see. The HTTP layer builds it from the account row
//! on every request (`http::principal`), never from the token body, so disabling, moving or
//! logging out takes effect at once.

use crate::domain::jurisdiction::Reach;
use crate::domain::role::Role;

#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: i64,
    pub username: String,
    pub role: Role,
    pub jurisdiction_code: Option<String>,
    /// Tree path of the account's jurisdiction (regulators and auditors).
    pub jurisdiction_path: Option<String>,
    /// What "at or below the account's jurisdiction" is, by its level (regulators and
    /// auditors); `None` with a path of `/` is the whole tree (the command line).
    pub reach: Option<Reach>,
    pub department_id: Option<i64>,
    /// Sectors of the bound department, which narrow an officer's scope.
    pub department_sectors: Option<Vec<String>>,
    pub enterprise_id: Option<i64>,
    pub session_id: String,
    pub request_id: String,
    /// The session's login passed the account's second factor (TOTP or a recovery code).
    pub second_factor: bool,
}

/// What a caller can see.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Everything at or below a jurisdiction (its tree path), optionally only some sectors
    /// (an officer bound to a department: 管行业必须管安全).
    Subtree {
        path: String,
        /// The same subtree as one column equality (`db::scope::within`).
        reach: Reach,
        sectors: Option<Vec<String>>,
    },
    /// Exactly one enterprise.
    Enterprise(i64),
}

impl Principal {
    pub fn scope(&self) -> Scope {
        match (self.enterprise_id, &self.jurisdiction_path) {
            (Some(id), _) => Scope::Enterprise(id),
            (None, Some(path)) => Scope::Subtree {
                path: path.clone(),
                reach: self.reach.clone().unwrap_or(Reach::Everything),
                sectors: self.department_sectors.clone(),
            },
            // An account with neither binding sees nothing (the schema forbids it anyway).
            (None, None) => Scope::Enterprise(-1),
        }
    }

    /// Whether a jurisdiction (by tree path) is at or below the caller's own.
    pub fn reaches(&self, path: &str) -> bool {
        self.jurisdiction_path
            .as_deref()
            .is_some_and(|own| path.starts_with(own))
    }
}
