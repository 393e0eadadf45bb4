//! What every handler shares.

use crate::auth::password::Passwords;
use crate::auth::throttle::AddressThrottle;
use crate::auth::token::Tokens;
use crate::config::Config;
use crate::db::seed::ReferenceData;
use crate::db::Db;
use crate::domain::enterprise::SafetyDirectorRule;

pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub address_throttle: AddressThrottle,
    pub safety_director_rule: SafetyDirectorRule,
}

impl AppState {
    pub fn new(config: Config, db: Db, reference: &ReferenceData) -> anyhow::Result<AppState> {
        Ok(AppState {
            tokens: Tokens::new(&config),
            passwords: Passwords::new(config.argon2_memory_kib, config.password_hash_concurrency)?,
            address_throttle: AddressThrottle::new(config.login_address_max_failures_per_minute),
            safety_director_rule: reference.safety_director_rule.clone(),
            db,
            config,
        })
    }
}
