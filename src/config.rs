//! Typed settings from the environment, validated at start: a bad value stops the process
//! with a message naming the variable. Every variable here is listed in the README.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_pool_size: u32,
    pub database_timeout: Duration,
    /// `None` = the built-in Loudi reference data.
    pub reference_data: Option<PathBuf>,
    pub admin_password: Option<String>,
    pub jwt_secret: Option<Vec<u8>>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub workers: usize,
    pub login_max_failures: u32,
    /// How often the purge of expired idempotency keys and sessions runs (one node per run).
    pub purge_interval: Duration,
    /// How often PostgreSQL's statistics tally slots are folded (`db::stats::fold_tallies`).
    pub tally_fold_interval: Duration,
    /// How often new audit events are sealed into the hash chain (`db::audit_chain::seal`).
    pub audit_seal_interval: Duration,
    /// How long the change feed keeps events (`HAZREG_EVENT_RETENTION_DAYS`).
    pub event_retention: Duration,
    /// How long a staged attachment waits to be bound (`HAZREG_STAGED_ATTACHMENT_TTL_SECS`).
    pub staged_attachment_ttl: Duration,
    /// Which webhook targets are allowed beyond the public internet.
    pub webhook_targets: crate::domain::webhook::TargetPolicy,
    /// How long a webhook receiver has to answer (`HAZREG_WEBHOOK_TIMEOUT_SECS`).
    pub webhook_timeout: Duration,
    /// Failed attempts in a row that disable a subscription (`HAZREG_WEBHOOK_DISABLE_AFTER`).
    pub webhook_disable_after: u32,
    /// How often each process looks for deliveries to make (`HAZREG_WEBHOOK_POLL_MS`).
    pub webhook_poll: Duration,
    pub login_lockout: Duration,
    pub login_address_max_failures_per_minute: u32,
    pub trust_forwarded_for: bool,
    /// Send `Strict-Transport-Security` (only when TLS terminates in front of the server).
    pub hsts: bool,
    pub argon2_memory_kib: u32,
    pub password_hash_concurrency: usize,
    /// Password checks that may wait for a hashing slot before the next answers `503 busy`.
    pub password_hash_queue: usize,
    /// Largest accepted attachment upload.
    pub upload_max_bytes: u64,
    /// Ledger exports that may run at once (`HAZREG_EXPORT_CONCURRENCY`); more answer 503.
    pub export_concurrency: usize,
    /// When deadline reminders fire, in days from the deadline (`HAZREG_REMINDER_*_DAYS`).
    pub reminder_offsets: crate::domain::reminder::Offsets,
    /// How often each process looks for reminders to raise (`HAZREG_REMINDER_INTERVAL_SECS`).
    pub reminder_interval: Duration,
    /// The day of the month after a quarter its report is due (`HAZREG_QUARTERLY_REPORT_DUE_DAY`,
    /// 1–28, default 15).
    pub quarterly_report_due_day: u32,
    /// Public reports (举报) and their rewards (`HAZREG_PUBLIC_REPORT_*`, `HAZREG_REWARD_*`).
    pub public_reports: crate::domain::public_report::IntakeConfig,
    /// The bearer token of `GET /metrics` on the API's address (`None`: metrics off there).
    pub metrics_token: Option<String>,
    /// A separate address serving only `GET /metrics`, without a token.
    pub metrics_bind: Option<SocketAddr>,
    /// `serve --no-migrate`: refuse to start while migrations are pending instead of running them.
    pub no_migrate: bool,
    /// Evidence files in S3-compatible object storage (`None`: on the local disk).
    pub s3: Option<S3Config>,
    /// `HAZREG_ADMIN_TOTP=required`: administrators must sign in with a second factor.
    pub admin_totp_required: bool,
}

/// `HAZREG_S3_*`: the bucket every node keeps evidence files in.
#[derive(Clone)]
pub struct S3Config {
    pub bucket: String,
    /// For MinIO, moto, Ceph and the like; `None` = AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Key prefix of the files (`attachments` by default).
    pub prefix: String,
    /// Allow an `http://` endpoint (a local server; never over an untrusted network).
    pub allow_http: bool,
}

impl std::fmt::Debug for Config {
    // Secrets never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("database", &redact_url(&self.database_url))
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

/// The URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_map(&std::env::vars().collect())
    }

    pub fn from_map(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            env.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        fn parse<T: std::str::FromStr>(
            var: &'static str,
            raw: Option<String>,
            default: T,
            what: &str,
        ) -> Result<T, ConfigError> {
            match raw {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| err(var, format!("expected {what}, got {v:?}"))),
            }
        }
        let positive = |var: &'static str, default: u64| -> Result<u64, ConfigError> {
            let v = parse(var, get(var), default, "a positive whole number")?;
            if v == 0 {
                return Err(err(var, "must be greater than 0"));
            }
            Ok(v)
        };
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());

        let data_dir = PathBuf::from(get("HAZREG_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = get("HAZREG_DATABASE_URL").unwrap_or_else(|| {
            format!("sqlite://{}", data_dir.join("hazard-registry.db").display())
        });
        backend_of(&database_url)?;

        let bind = parse(
            "HAZREG_BIND",
            get("HAZREG_BIND"),
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "an address like 127.0.0.1:8080",
        )?;
        let jwt_secret = get("HAZREG_JWT_SECRET").map(String::into_bytes);
        if let Some(s) = &jwt_secret {
            if s.len() < 32 {
                return Err(err(
                    "HAZREG_JWT_SECRET",
                    "must be at least 32 bytes (use e.g. `openssl rand -base64 48`)",
                ));
            }
        }
        let log_format = match get("HAZREG_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "HAZREG_LOG_FORMAT",
                    format!("expected `pretty` or `json`, got {other:?}"),
                ))
            }
        };
        let cors_origins: Vec<String> = get("HAZREG_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for o in &cors_origins {
            if o != "*" && !(o.starts_with("http://") || o.starts_with("https://")) {
                return Err(err(
                    "HAZREG_CORS_ORIGINS",
                    format!("{o:?} is not an origin like https://app.example.org (or *)"),
                ));
            }
        }
        let argon2_memory_kib = parse(
            "HAZREG_ARGON2_MEMORY_KIB",
            get("HAZREG_ARGON2_MEMORY_KIB"),
            19456u32,
            "a number of KiB",
        )?;
        if argon2_memory_kib < 64 {
            return Err(err("HAZREG_ARGON2_MEMORY_KIB", "must be at least 64"));
        }
        let flag = |name: &'static str| match get(name).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(err(name, format!("expected true or false, got {other:?}"))),
        };
        let trust_forwarded_for = flag("HAZREG_TRUST_FORWARDED_FOR")?;
        let metrics_token = get("HAZREG_METRICS_TOKEN");
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(err(
                "HAZREG_METRICS_TOKEN",
                "must be at least 16 characters (use e.g. `openssl rand -hex 24`)",
            ));
        }
        let metrics_bind = match get("HAZREG_METRICS_BIND") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| {
                err(
                    "HAZREG_METRICS_BIND",
                    format!("expected an address like 127.0.0.1:9464, got {v:?}"),
                )
            })?),
        };
        let admin_totp_required = match get("HAZREG_ADMIN_TOTP").as_deref() {
            None | Some("optional") => false,
            Some("required") => true,
            Some(other) => {
                return Err(err(
                    "HAZREG_ADMIN_TOTP",
                    format!("expected `optional` or `required`, got {other:?}"),
                ))
            }
        };
        let mut allowed_networks = Vec::new();
        for net in get("HAZREG_WEBHOOK_ALLOWED_NETWORKS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            allowed_networks.push(net.parse::<ipnet::IpNet>().map_err(|_| {
                err(
                    "HAZREG_WEBHOOK_ALLOWED_NETWORKS",
                    format!("expected CIDR networks like 10.1.0.0/16, got {net:?}"),
                )
            })?);
        }
        let webhook_targets = crate::domain::webhook::TargetPolicy {
            allow_loopback: flag("HAZREG_WEBHOOK_ALLOW_LOOPBACK")?,
            allowed_networks,
        };
        let s3 = match get("HAZREG_S3_BUCKET") {
            None => None,
            Some(bucket) => {
                let required = |var: &'static str| {
                    get(var).ok_or_else(|| err(var, "is required when HAZREG_S3_BUCKET is set"))
                };
                let endpoint = get("HAZREG_S3_ENDPOINT");
                let allow_http = flag("HAZREG_S3_ALLOW_HTTP")?;
                if let Some(e) = &endpoint {
                    if !(e.starts_with("https://") || (allow_http && e.starts_with("http://"))) {
                        return Err(err(
                            "HAZREG_S3_ENDPOINT",
                            "expected https://… (or http://… with HAZREG_S3_ALLOW_HTTP=true)",
                        ));
                    }
                }
                Some(S3Config {
                    bucket,
                    endpoint,
                    region: get("HAZREG_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: required("HAZREG_S3_ACCESS_KEY_ID")?,
                    secret_access_key: required("HAZREG_S3_SECRET_ACCESS_KEY")?,
                    prefix: get("HAZREG_S3_PREFIX").unwrap_or_else(|| "attachments".into()),
                    allow_http,
                })
            }
        };
        if sample_password(&database_url) {
            return Err(err(
                "HAZREG_DATABASE_URL",
                format!(
                    "its password is the sample `{SAMPLE_DB_PASSWORD}` from old examples; \
                     choose a real one (e.g. `openssl rand -hex 24`)"
                ),
            ));
        }
        let hsts = flag("HAZREG_HSTS")?;
        let days = |var: &'static str, default: u64| -> Result<u32, ConfigError> {
            let v = parse(var, get(var), default, "a whole number of days")?;
            u32::try_from(v)
                .ok()
                .filter(|d| *d <= 366)
                .ok_or_else(|| err(var, "must be at most 366"))
        };
        let reminder_offsets = crate::domain::reminder::Offsets {
            due_soon_days: days("HAZREG_REMINDER_DUE_SOON_DAYS", 3)?,
            overdue_days: days("HAZREG_REMINDER_OVERDUE_DAYS", 1)?,
            escalate_days: days("HAZREG_REMINDER_ESCALATE_DAYS", 7)?,
        }
        .checked()
        .map_err(|e| err("HAZREG_REMINDER_ESCALATE_DAYS", e))?;

        let quarterly_report_due_day =
            u32::try_from(positive("HAZREG_QUARTERLY_REPORT_DUE_DAY", 15)?)
                .ok()
                .filter(|d| *d <= 28)
                .ok_or_else(|| {
                    err(
                        "HAZREG_QUARTERLY_REPORT_DUE_DAY",
                        "must be a day from 1 to 28",
                    )
                })?;
        let public_reports = crate::domain::public_report::IntakeConfig {
            per_address_per_hour: positive("HAZREG_PUBLIC_REPORT_RATE_PER_HOUR", 5)? as u32,
            max_photos: parse(
                "HAZREG_PUBLIC_REPORT_MAX_PHOTOS",
                get("HAZREG_PUBLIC_REPORT_MAX_PHOTOS"),
                5u32,
                "a whole number",
            )?,
            max_photo_bytes: positive("HAZREG_PUBLIC_REPORT_PHOTO_MAX_BYTES", 10 * 1024 * 1024)?,
            captcha_verify_url: get("HAZREG_CAPTCHA_VERIFY_URL"),
            captcha_secret: get("HAZREG_CAPTCHA_SECRET"),
            reward: crate::domain::public_report::RewardRule {
                rate_percent: parse(
                    "HAZREG_REWARD_RATE_PERCENT",
                    get("HAZREG_REWARD_RATE_PERCENT"),
                    15.0f64,
                    "a percentage",
                )?,
                min_yuan: parse(
                    "HAZREG_REWARD_MIN_YUAN",
                    get("HAZREG_REWARD_MIN_YUAN"),
                    3_000i64,
                    "a whole number of yuan",
                )?,
                max_yuan: parse(
                    "HAZREG_REWARD_MAX_YUAN",
                    get("HAZREG_REWARD_MAX_YUAN"),
                    300_000i64,
                    "a whole number of yuan",
                )?,
            }
            .checked()
            .map_err(|e| err("HAZREG_REWARD_MAX_YUAN", e))?,
        };
        if public_reports.captcha_verify_url.is_some() && public_reports.captcha_secret.is_none() {
            return Err(err(
                "HAZREG_CAPTCHA_SECRET",
                "is required with HAZREG_CAPTCHA_VERIFY_URL",
            ));
        }

        Ok(Config {
            bind,
            database_pool_size: positive("HAZREG_DATABASE_POOL_SIZE", 10)? as u32,
            database_timeout: Duration::from_secs(positive("HAZREG_DATABASE_TIMEOUT_SECS", 2)?),
            reference_data: get("HAZREG_REFERENCE_DATA").map(PathBuf::from),
            admin_password: get("HAZREG_ADMIN_PASSWORD"),
            jwt_secret,
            jwt_issuer: get("HAZREG_JWT_ISSUER").unwrap_or_else(|| "hazard-registry".into()),
            jwt_audience: get("HAZREG_JWT_AUDIENCE")
                .unwrap_or_else(|| "hazard-registry-api".into()),
            access_token_ttl: Duration::from_secs(positive("HAZREG_ACCESS_TOKEN_TTL_SECS", 900)?),
            refresh_token_ttl: Duration::from_secs(positive(
                "HAZREG_REFRESH_TOKEN_TTL_SECS",
                14 * 24 * 3600,
            )?),
            cors_origins,
            log_format,
            log_filter: get("HAZREG_LOG").unwrap_or_else(|| "info".into()),
            workers: positive("HAZREG_WORKERS", cpus as u64)? as usize,
            login_max_failures: positive("HAZREG_LOGIN_MAX_FAILURES", 5)? as u32,
            purge_interval: Duration::from_secs(positive("HAZREG_PURGE_INTERVAL_SECS", 3600)?),
            tally_fold_interval: Duration::from_secs(positive(
                "HAZREG_TALLY_FOLD_INTERVAL_SECS",
                60,
            )?),
            audit_seal_interval: Duration::from_secs(positive(
                "HAZREG_AUDIT_SEAL_INTERVAL_SECS",
                10,
            )?),
            webhook_targets,
            staged_attachment_ttl: Duration::from_secs(positive(
                "HAZREG_STAGED_ATTACHMENT_TTL_SECS",
                24 * 3600,
            )?),
            webhook_timeout: Duration::from_secs(positive("HAZREG_WEBHOOK_TIMEOUT_SECS", 10)?),
            webhook_disable_after: positive("HAZREG_WEBHOOK_DISABLE_AFTER", 20)? as u32,
            webhook_poll: Duration::from_millis(positive("HAZREG_WEBHOOK_POLL_MS", 1000)?),
            event_retention: Duration::from_secs(
                positive("HAZREG_EVENT_RETENTION_DAYS", 30)? * 24 * 3600,
            ),
            login_lockout: Duration::from_secs(positive("HAZREG_LOGIN_LOCKOUT_SECS", 300)?),
            login_address_max_failures_per_minute: positive(
                "HAZREG_LOGIN_ADDRESS_MAX_FAILURES_PER_MINUTE",
                20,
            )? as u32,
            trust_forwarded_for,
            hsts,
            argon2_memory_kib,
            // One core stays free for everything else.
            password_hash_concurrency: positive(
                "HAZREG_PASSWORD_HASH_CONCURRENCY",
                (cpus as u64).saturating_sub(1).max(1),
            )? as usize,
            password_hash_queue: positive("HAZREG_PASSWORD_HASH_QUEUE", 32)? as usize,
            upload_max_bytes: positive("HAZREG_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)?,
            export_concurrency: positive("HAZREG_EXPORT_CONCURRENCY", 2)? as usize,
            reminder_offsets,
            reminder_interval: Duration::from_secs(positive("HAZREG_REMINDER_INTERVAL_SECS", 300)?),
            quarterly_report_due_day,
            public_reports,
            metrics_token,
            metrics_bind,
            no_migrate: false,
            s3,
            admin_totp_required,
            data_dir,
            database_url,
        })
    }

    pub fn backend(&self) -> Backend {
        backend_of(&self.database_url).unwrap_or(Backend::Sqlite)
    }
}

/// The database password the compose file once defaulted to: it is public, so never usable.
pub const SAMPLE_DB_PASSWORD: &str = "hazreg-change-me";

fn sample_password(url: &str) -> bool {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => url[s + 3..at]
            .split_once(':')
            .is_some_and(|(_, pw)| pw == SAMPLE_DB_PASSWORD),
        _ => false,
    }
}

/// The backend is chosen by URL scheme, never by trying one and falling back to the other.
pub fn backend_of(url: &str) -> Result<Backend, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite://") || url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else {
        Err(err(
            "HAZREG_DATABASE_URL",
            "expected postgres://… or sqlite://<path>",
        ))
    }
}

/// The file path of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_sqlite_under_data_dir() {
        let c = Config::from_map(&map(&[])).unwrap();
        assert_eq!(c.backend(), Backend::Sqlite);
        assert_eq!(c.database_url, "sqlite://./data/hazard-registry.db");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = Config::from_map(&map(&[("HAZREG_BIND", "nowhere")])).unwrap_err();
        assert_eq!(e.var, "HAZREG_BIND");
        let e = Config::from_map(&map(&[("HAZREG_DATABASE_URL", "host=x dbname=y")])).unwrap_err();
        assert_eq!(e.var, "HAZREG_DATABASE_URL");
        let e = Config::from_map(&map(&[("HAZREG_JWT_SECRET", "short")])).unwrap_err();
        assert_eq!(e.var, "HAZREG_JWT_SECRET");
        let e = Config::from_map(&map(&[("HAZREG_ACCESS_TOKEN_TTL_SECS", "0")])).unwrap_err();
        assert_eq!(e.var, "HAZREG_ACCESS_TOKEN_TTL_SECS");
        let e = Config::from_map(&map(&[("HAZREG_METRICS_TOKEN", "short")])).unwrap_err();
        assert_eq!(e.var, "HAZREG_METRICS_TOKEN");
        let e = Config::from_map(&map(&[("HAZREG_METRICS_BIND", "9464")])).unwrap_err();
        assert_eq!(e.var, "HAZREG_METRICS_BIND");
        let e = Config::from_map(&map(&[("HAZREG_S3_BUCKET", "evidence")])).unwrap_err();
        assert_eq!(e.var, "HAZREG_S3_ACCESS_KEY_ID");
        let e = Config::from_map(&map(&[
            ("HAZREG_S3_BUCKET", "evidence"),
            ("HAZREG_S3_ACCESS_KEY_ID", "k"),
            ("HAZREG_S3_SECRET_ACCESS_KEY", "s"),
            ("HAZREG_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ]))
        .unwrap_err();
        assert_eq!(e.var, "HAZREG_S3_ENDPOINT");
    }

    #[test]
    fn the_sample_database_password_is_refused() {
        let e = Config::from_map(&map(&[(
            "HAZREG_DATABASE_URL",
            "postgres://hazreg:hazreg-change-me@db:5432/hazreg",
        )]))
        .unwrap_err();
        assert_eq!(e.var, "HAZREG_DATABASE_URL");
        assert!(Config::from_map(&map(&[(
            "HAZREG_DATABASE_URL",
            "postgres://hazreg:a-real-one-3f9c@db:5432/hazreg",
        )]))
        .is_ok());
    }

    #[test]
    fn redacts_database_password() {
        assert_eq!(
            redact_url("postgres://app:secret@db:5432/hz"),
            "postgres://app:***@db:5432/hz"
        );
    }
}
