//! Prometheus metrics (`GET /metrics`, off unless `HAZREG_METRICS_TOKEN` or
//! `HAZREG_METRICS_BIND` is set): one registry per server, filled by the HTTP middleware
//! (`http::metrics`), the database runner (`db::Db::run`), the background jobs, and, when
//! scraped, by gauges read off the pool and the password hashers (`routes::metrics`).
//!
//! Names follow Prometheus' conventions: a `hazreg_` prefix, base units (seconds), `_total` on
//! counters. Route labels are templates (`/api/v1/hazards/{id}`), never raw paths, so the
//! number of series stays bounded whatever clients send.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets for requests and waits, in seconds: 1 ms … 10 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What a pooled connection checkout costs (`Db::run`), shared by every clone of the pool.
#[derive(Clone)]
pub struct PoolMetrics {
    /// Seconds from asking the pool for a connection to holding one.
    pub checkout_wait: Histogram,
    /// Checkouts that gave up (no connection within the database timeout).
    pub checkout_timeouts: IntCounter,
}

impl PoolMetrics {
    pub fn new() -> PoolMetrics {
        PoolMetrics {
            checkout_wait: Histogram::with_opts(
                HistogramOpts::new(
                    "hazreg_db_pool_wait_seconds",
                    "Time a request waited for a pooled database connection.",
                )
                .buckets(BUCKETS.to_vec()),
            )
            .expect("valid histogram"),
            checkout_timeouts: IntCounter::new(
                "hazreg_db_pool_timeouts_total",
                "Requests that got no database connection within HAZREG_DATABASE_TIMEOUT_SECS.",
            )
            .expect("valid counter"),
        }
    }
}

impl Default for PoolMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl PoolMetrics {
    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![
            Box::new(self.checkout_wait.clone()),
            Box::new(self.checkout_timeouts.clone()),
        ]
    }
}

/// Password checks turned away because the hashing queue was full (`auth::password`).
pub fn hash_rejections() -> IntCounter {
    IntCounter::new(
        "hazreg_password_hash_rejected_total",
        "Password checks answered 503 busy because the hashing queue was full.",
    )
    .expect("valid counter")
}

/// The server's metrics. Cheap to clone (every metric is a shared handle).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub pool_connections: IntGaugeVec,
    pub pool_max: IntGauge,
    pub hash_slots: IntGaugeVec,
    pub job_runs: IntCounterVec,
    pub job_last_success: IntGaugeVec,
}

impl Metrics {
    /// Registers every metric, those other parts own (`owned`: the pool's, the hashers') included,
    /// and the build info (`version`, `backend`).
    pub fn new(
        version: &str,
        backend: &str,
        owned: Vec<Box<dyn prometheus::core::Collector>>,
    ) -> Metrics {
        let registry = Registry::new();
        let m = Metrics {
            http_requests: IntCounterVec::new(
                Opts::new(
                    "hazreg_http_requests_total",
                    "HTTP requests answered, by route template, method and status.",
                ),
                &["route", "method", "status"],
            )
            .expect("valid counter"),
            http_duration: HistogramVec::new(
                HistogramOpts::new(
                    "hazreg_http_request_duration_seconds",
                    "Time from receiving a request to its answer, by route template and method.",
                )
                .buckets(BUCKETS.to_vec()),
                &["route", "method"],
            )
            .expect("valid histogram"),
            pool_connections: IntGaugeVec::new(
                Opts::new(
                    "hazreg_db_pool_connections",
                    "Open database connections of this process, by state (idle, in_use).",
                ),
                &["state"],
            )
            .expect("valid gauge"),
            pool_max: IntGauge::new(
                "hazreg_db_pool_max_connections",
                "HAZREG_DATABASE_POOL_SIZE: the most connections this process opens.",
            )
            .expect("valid gauge"),
            hash_slots: IntGaugeVec::new(
                Opts::new(
                    "hazreg_password_hash_requests",
                    "Password checks (logins, password changes) hashing now or queued for a \
                     hashing thread, by state (hashing, queued).",
                ),
                &["state"],
            )
            .expect("valid gauge"),
            job_runs: IntCounterVec::new(
                Opts::new(
                    "hazreg_background_job_runs_total",
                    "Runs of the server's timed jobs, by job and outcome (done, idle, failed).",
                ),
                &["job", "outcome"],
            )
            .expect("valid counter"),
            job_last_success: IntGaugeVec::new(
                Opts::new(
                    "hazreg_background_job_last_success_timestamp_seconds",
                    "Unix time of the last run of each timed job that did not fail.",
                ),
                &["job"],
            )
            .expect("valid gauge"),
            registry,
        };
        let build = IntGaugeVec::new(
            Opts::new(
                "hazreg_build_info",
                "Always 1; the labels say which build serves and on which database.",
            ),
            &["version", "backend"],
        )
        .expect("valid gauge");
        build.with_label_values(&[version, backend]).set(1);
        let mut collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(m.http_requests.clone()),
            Box::new(m.http_duration.clone()),
            Box::new(m.pool_connections.clone()),
            Box::new(m.pool_max.clone()),
            Box::new(m.hash_slots.clone()),
            Box::new(m.job_runs.clone()),
            Box::new(m.job_last_success.clone()),
            Box::new(build),
        ];
        collectors.extend(owned);
        for c in collectors {
            m.registry.register(c).expect("metric names are unique");
        }
        m
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding to memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
