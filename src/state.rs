//! What every handler shares.

use std::sync::Arc;

use crate::attachment_store::AttachmentStore;
use crate::auth::password::Passwords;
use crate::auth::token::Tokens;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::seed::ReferenceData;
use crate::db::{AnyConnection, Db};
use crate::domain::enterprise::SafetyDirectorRule;
use crate::error::ApiResult;

pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub safety_director_rule: SafetyDirectorRule,
    /// LS and LEC grading thresholds (reference data, `domain::risk`).
    pub risk_grading: crate::domain::risk::RiskGrading,
    pub clock: Arc<dyn Clock>,
    pub attachments: AttachmentStore,
    /// Signs and checks list cursors.
    pub cursor_key: crate::auth::cursors::CursorKey,
    /// False until the database has been migrated and seeded; until then every answer but
    /// `/healthz` is `503` (a server may start while its database is down).
    pub ready: Arc<std::sync::atomic::AtomicBool>,
    pub metrics: crate::metrics::Metrics,
    /// Slots for ledger exports running at once (`http::export`).
    pub exports: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(config: Config, db: Db, reference: &ReferenceData) -> anyhow::Result<AppState> {
        let passwords = Passwords::new(
            config.argon2_memory_kib,
            config.password_hash_concurrency,
            config.password_hash_queue,
        )?;
        let mut owned = db.metrics.collectors();
        owned.push(Box::new(passwords.rejected.clone()));
        let backend = match db.backend {
            crate::config::Backend::Postgres => "postgres",
            crate::config::Backend::Sqlite => "sqlite",
        };
        let metrics = crate::metrics::Metrics::new(env!("CARGO_PKG_VERSION"), backend, owned);
        metrics.pool_max.set(i64::from(config.database_pool_size));
        Ok(AppState {
            tokens: Tokens::new(&config),
            passwords,
            metrics,
            safety_director_rule: reference.safety_director_rule.clone(),
            risk_grading: reference.risk_grading,
            clock: Arc::new(SystemClock),
            attachments: AttachmentStore::configured(&config.data_dir, config.s3.as_ref())?,
            cursor_key: crate::auth::cursors::CursorKey::new(config.jwt_secret.as_deref()),
            ready: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            exports: Arc::new(tokio::sync::Semaphore::new(config.export_concurrency)),
            db,
            config,
        })
    }
}

impl AppState {
    /// Runs a handler's database work: with a pooled connection, off the request thread, and
    /// with [`crate::db::now`] reading the server's clock, so tests that pin the clock pin the
    /// stored times too.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let clock = self.clock.clone();
        self.db
            .run(move |c| crate::db::with_clock(clock, || f(c)))
            .await
    }
}
