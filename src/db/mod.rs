//! Storage: one diesel code base over PostgreSQL and SQLite.
//!
//! The backend is picked by the URL scheme (`config::backend_of`), never by diesel's
//! try-one-then-the-other `establish`. Queries run on actix's blocking pool (`Db::run`); every
//! write goes through [`write_tx`], which starts SQLite transactions with `BEGIN IMMEDIATE`
//! so concurrent writers queue on the busy timeout instead of failing with "database is locked".

pub mod accounts;
pub mod audit;
pub mod audit_chain;
pub mod enterprises;
pub mod events;
pub mod extensions;
pub mod hazards;
pub mod idempotency;
pub mod inspections;
pub mod inventory;
pub mod jobs;
pub mod ledger;
pub mod listings;
pub mod lists;
pub mod plan;
pub mod public_reports;
pub mod quarterly;
pub mod reference;
pub mod reminders;
pub mod risk;
pub mod schema;
pub mod scope;
pub mod seed;
pub mod sessions;
pub mod stats;
pub mod text;
pub mod throttle;
pub mod totp;
pub mod webhooks;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{backend_of, sqlite_path, Backend};

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// r2d2 manager that connects with the backend the URL names.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    backend: Backend,
    /// The bound on one statement (PostgreSQL `statement_timeout`).
    statement_timeout: Duration,
}

/// libpq settings that keep a dead or hung server from holding a connection for good: a
/// bounded connect, TCP keepalives, and a bound on unacknowledged writes; and the sessions'
/// `application_name`. Only those the URL does not set itself are added.
///
/// And no TLS to a server on this machine's loopback: libpq's default (`sslmode=prefer`)
/// encrypts whenever the server offers it, but traffic to 127.0.0.1 never leaves the kernel,
/// and `prefer` authenticates no one anyway. On the 2-core bench it cost about a fifth of the
/// county list's throughput. A URL with its own `sslmode`, or `PGSSLMODE` in the
/// environment, is left as it is (a loopback server that accepts only `hostssl` needs one).
fn pg_url_with_timeouts(url: &str, timeout: Duration) -> String {
    let secs = timeout.as_secs().max(2);
    let ms = timeout.as_millis().max(1000);
    let mut wanted = vec![
        ("connect_timeout", secs.to_string()),
        ("keepalives", "1".to_string()),
        ("keepalives_idle", "5".to_string()),
        ("keepalives_interval", "2".to_string()),
        ("keepalives_count", "2".to_string()),
        ("tcp_user_timeout", ms.to_string()),
        // How operators (and the tests) tell the server's sessions apart in pg_stat_activity.
        ("application_name", "hazard-registry".to_string()),
    ];
    if loopback_only(url) && std::env::var_os("PGSSLMODE").is_none() {
        wanted.push(("sslmode", "disable".to_string()));
    }
    let mut out = url.to_string();
    for (key, value) in wanted {
        if !url.contains(&format!("{key}=")) {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&format!("{key}={value}"));
        }
    }
    out
}

/// Whether a `postgres://` URL names only hosts on this machine's loopback (`localhost`,
/// `127.x.x.x`, `::1`). Anything that could send the connection elsewhere makes the answer
/// no: a query parameter naming a host, an address or a service (`host`, `hostaddr`,
/// `service`, or any percent-encoded key), the `PGHOSTADDR`, `PGSERVICE` or `PGSERVICEFILE`
/// environment, or an authority that is not plainly `[user[:password]@]host[:port][,…]`.
fn loopback_only(url: &str) -> bool {
    if ["PGHOSTADDR", "PGSERVICE", "PGSERVICEFILE"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return false;
    }
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    // libpq's authority ends at the first `/`; with no path, at the query's `?`.
    let (authority, query) = match rest.split_once('/') {
        Some((a, tail)) => (a, tail.split_once('?').map_or("", |(_, q)| q)),
        None => rest.split_once('?').unwrap_or((rest, "")),
    };
    if authority.contains('?') {
        return false;
    }
    let redirects = query.split('&').any(|pair| {
        let key = pair.split('=').next().unwrap_or("");
        key.contains('%') || matches!(key, "host" | "hostaddr" | "service")
    });
    if redirects {
        return false;
    }
    // The user ends at the first `@`, as libpq reads it (an `@` in a password is `%40`).
    let hosts = authority.split_once('@').map_or(authority, |(_, h)| h);
    !hosts.is_empty()
        && !hosts.contains(['@', '%'])
        && hosts.split(',').all(|h| {
            let host = match h.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(""),
                None => h.split(':').next().unwrap_or(""),
            };
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
}

/// A pooled connection, and whether it was found broken. Connections are not pinged when
/// checked out (that would cost every request a round trip); instead, after work that failed,
/// [`Db::run`] pings the connection once and, if it is dead, the pool drops it.
pub struct Conn {
    inner: AnyConnection,
    broken: bool,
}

impl std::ops::Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl Conn {
    /// After failed work: whether the connection still answers; a dead one leaves the pool.
    fn check_after_failure(&mut self) {
        if self.inner.batch_execute("SELECT 1").is_err() {
            self.broken = true;
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<Conn, Self::Error> {
        self.open().map(|inner| Conn {
            inner,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.inner
            .batch_execute("SELECT 1")
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || std::thread::panicking()
    }
}

impl Manager {
    fn open(&self) -> Result<AnyConnection, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgres => {
                let mut c = diesel::PgConnection::establish(&pg_url_with_timeouts(
                    &self.url,
                    self.statement_timeout,
                ))?;
                // The server ends any statement that runs past the bound. No JIT: every query
                // here is served by an index or by the statistics tallies and runs in
                // milliseconds, and compiling a plan whose estimate crosses `jit_above_cost`
                // (the statistics' aggregates at 1M hazards) cost more than running it.
                c.batch_execute(&format!(
                    "SET statement_timeout = {}; SET random_page_cost = 1.1; SET jit = off",
                    self.statement_timeout.as_millis()
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Postgresql(c))
            }
            Backend::Sqlite => {
                // `optimize = 0x10002` (SQLite's advice for a new connection) refreshes the
                // planner's statistics of any table that has none or has grown or shrunk
                // many times over, within a bounded amount of work; pool connections are
                // reopened every 30 minutes (r2d2's lifetime), so the statistics follow the
                // data. Without them SQLite cannot tell a partial index (the overdue ones) is
                // smaller than the whole table.
                let mut c = diesel::SqliteConnection::establish(sqlite_path(&self.url))?;
                c.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                     PRAGMA busy_timeout = {}; PRAGMA synchronous = FULL; \
                     PRAGMA optimize = 0x10002;",
                    SQLITE_BUSY_TIMEOUT.as_millis()
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// A little under the request bound, so a slow statement is ended by the server (a clean
/// error) before the request gives up on it.
fn statement_timeout(request_bound: Duration) -> Duration {
    request_bound
        .saturating_sub(Duration::from_millis(500))
        .max(Duration::from_millis(500))
}

/// The pool plus the means to run blocking database work off the request threads.
#[derive(Clone)]
pub struct Db {
    pub pool: Pool,
    pub backend: Backend,
    /// How long a request waits for its database work before answering `503`.
    pub timeout: Duration,
    /// Checkout waits and timeouts (`GET /metrics`).
    pub metrics: crate::metrics::PoolMetrics,
    url: String,
}

impl Db {
    /// Builds the pool lazily (no connection is opened until first use), so a server whose
    /// database is down still starts answering `503` and recovers by itself.
    pub fn new(url: &str, size: u32, timeout: Duration) -> anyhow::Result<Self> {
        let backend = backend_of(url)?;
        if backend == Backend::Sqlite {
            if let Some(dir) = std::path::Path::new(sqlite_path(url)).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
        }
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .test_on_check_out(false)
            .build_unchecked(Manager {
                url: url.to_string(),
                backend,
                statement_timeout: statement_timeout(timeout),
            });
        Ok(Db {
            pool,
            backend,
            timeout,
            metrics: crate::metrics::PoolMetrics::new(),
            url: url.to_string(),
        })
    }

    /// One connection of its own, outside the pool and without the per-statement bound
    /// (PostgreSQL `statement_timeout = 0`), for work that may rightly take long: the first
    /// start (waiting on the start lock while another node migrates, building indexes) and the
    /// command line (backup, verify). Closed when dropped, so a session lock cannot linger.
    pub fn dedicated(&self) -> Result<AnyConnection, diesel::ConnectionError> {
        let mut conn = Manager {
            url: self.url.clone(),
            backend: self.backend,
            statement_timeout: statement_timeout(self.timeout),
        }
        .open()?;
        if let AnyConnection::Postgresql(c) = &mut conn {
            c.batch_execute("SET statement_timeout = 0")
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
    }

    /// Runs `f` with a pooled connection on the blocking pool. `f`'s own error type carries
    /// its failures; the runner adds its own ([`Unavailable`]) when no connection or no answer
    /// comes.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
    {
        let pool = self.pool.clone();
        let statement_bound =
            (self.backend == Backend::Postgres).then(|| statement_timeout(self.timeout));
        let metrics = self.metrics.clone();
        let work = actix_web::web::block(move || {
            let asked = std::time::Instant::now();
            let got = pool.get();
            metrics.checkout_wait.observe(asked.elapsed().as_secs_f64());
            let mut conn = got.map_err(|e| {
                metrics.checkout_timeouts.inc();
                Unavailable::Pool(e.to_string())
            })?;
            let started = std::time::Instant::now();
            let done = f(&mut conn);
            if done.is_err() {
                conn.check_after_failure();
                // Work that failed after running past the statement timeout was ended by the
                // server for taking too long (diesel does not pass SQLSTATE 57014 on, and
                // PostgreSQL's messages are translated): the database is overloaded, not the
                // request wrong, so the answer is 503 with Retry-After, never 500.
                if statement_bound.is_some_and(|b| started.elapsed() >= b) {
                    return Err(Unavailable::NoAnswer(started.elapsed()).into());
                }
            }
            done
        });
        if self.backend == Backend::Sqlite {
            // A file in this process: it cannot hang the way a server can, and a write waiting
            // on the lock must not be answered 503 while it may still commit.
            return work.await.map_err(|e| Unavailable::Bug(e.to_string()))?;
        }
        // A PostgreSQL server that stopped answering (hung, partitioned) must not hold the
        // request: past the bound the answer is 503. The work may still finish later; a write's
        // outcome is then unknown to the client, which retries with the same Idempotency-Key.
        let bound = self.timeout;
        match tokio::time::timeout(bound, work).await {
            Ok(done) => done.map_err(|e| Unavailable::Bug(e.to_string()))?,
            Err(_) => Err(Unavailable::NoAnswer(bound).into()),
        }
    }
}

pub fn run_migrations(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let names = |v: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        v.iter().map(|m| m.to_string()).collect()
    };
    match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS).map(names),
        // In one `BEGIN IMMEDIATE` transaction (each migration's own becomes a savepoint), so
        // two processes migrating one file take turns: the second finds nothing pending.
        AnyConnection::Sqlite(c) => c
            .immediate_transaction(|c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(names)
                    .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))
            })
            .map_err(Into::into),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// The migrations this build has that the database has not applied yet.
pub fn pending_migrations(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let pending = match conn {
        AnyConnection::Postgresql(c) => c
            .pending_migrations(PG_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
        AnyConnection::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
    };
    pending.map_err(|e| anyhow::anyhow!("reading the pending migrations: {e}"))
}

/// Runs `f` while holding PostgreSQL's advisory lock of the first start (migrations, reference
/// data, first administrator), so nodes starting together, or `migrate` beside a starting node,
/// take turns instead of racing. SQLite needs none: its writes take the file's lock.
pub fn with_start_lock<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    const KEY: i64 = 0x4841_5a52_4547; // "HAZREG"
    let pg = matches!(conn, AnyConnection::Postgresql(_));
    if pg {
        // Polled, never waited for inside a statement: `CREATE INDEX CONCURRENTLY` in the
        // holder's migrations waits for every open transaction to end, and a waiting
        // `pg_advisory_lock` call is one, so the two would deadlock.
        loop {
            let got: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "pg_try_advisory_lock({KEY})"
            )))
            .get_result(conn)?;
            if got {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let done = f(conn);
    if pg {
        if let Err(e) = conn.batch_execute(&format!("SELECT pg_advisory_unlock({KEY})")) {
            tracing::warn!(error = %e, "releasing the start lock (the session ends it anyway)");
        }
    }
    done
}

/// Why [`Db::run`] could not run the work.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("no database connection: {0}")]
    Pool(String),
    #[error("no answer from the database within {} ms", .0.as_millis())]
    NoAnswer(Duration),
    /// The work panicked or was cancelled: a bug, not an outage.
    #[error("database work failed: {0}")]
    Bug(String),
}

type Tm = <AnyConnection as Connection>::TransactionManager;

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite, `BEGIN` on PostgreSQL.
/// Commits on `Ok`, rolls back on `Err`.
pub fn write_tx<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // SQLite writers of this process queue here, not in SQLite's busy handler: that one sleeps
    // up to 100 ms between tries however soon the lock frees, which made the slowest of eight
    // concurrent writes wait hundreds of milliseconds. This lock hands over at once, in turn
    // (`unlock_fair`). Other processes on the file (the command line) still meet the busy
    // timeout; if this lock stays taken that long, the write goes on and meets it too.
    let turn = match conn {
        AnyConnection::Sqlite(_) => SQLITE_WRITERS.try_lock_for(SQLITE_BUSY_TIMEOUT),
        AnyConnection::Postgresql(_) => None,
    };
    let done = write_tx_inner(conn, f);
    if let Some(turn) = turn {
        parking_lot::MutexGuard::unlock_fair(turn);
    }
    done
}

/// One writer at a time per process on SQLite (`write_tx`).
static SQLITE_WRITERS: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// SQLite's busy timeout (`PRAGMA busy_timeout`, set on every connection in `Manager::open`).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn write_tx_inner<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        // `BEGIN IMMEDIATE` fails only when the write lock stays taken past the busy
        // timeout (or the file is unusable): the database cannot take the command now.
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(|e| {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UnableToSendCommand,
                    Box::new(format!("SQLite could not begin a write: {e}")),
                )
            })?
        }
        AnyConnection::Postgresql(_) => Tm::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(v) => {
            Tm::commit_transaction(conn)?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rb) = Tm::rollback_transaction(conn) {
                tracing::warn!(error = %rb, "rollback failed");
            }
            Err(e)
        }
    }
}

/// Makes the current PostgreSQL transaction REPEATABLE READ (call first in the transaction);
/// SQLite transactions are serializable already.
pub fn repeatable_read(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(c) => {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        }
        AnyConnection::Sqlite(_) => Ok(()),
    }
}

/// Maps a unique-constraint violation to a client-facing error; anything else passes through.
pub fn on_unique_violation<E: From<diesel::result::Error>>(
    e: diesel::result::Error,
    mapped: impl FnOnce() -> E,
) -> E {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => mapped(),
        other => other.into(),
    }
}

/// A closed-set value read back from a row: an unknown one is a deserialization error.
pub fn stored<T>(r: Result<T, crate::domain::UnknownValue>) -> diesel::QueryResult<T> {
    r.map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

thread_local! {
    static CLOCK: std::cell::RefCell<Option<std::sync::Arc<dyn crate::clock::Clock>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with [`now`] reading `clock` (the server's clock, which tests pin).
pub fn with_clock<T>(clock: std::sync::Arc<dyn crate::clock::Clock>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<std::sync::Arc<dyn crate::clock::Clock>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CLOCK.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(CLOCK.with(|c| c.borrow_mut().replace(clock)));
    f()
}

/// The time a write stamps on its rows, read when the write runs (after its connection and,
/// on SQLite, its write lock are held), truncated to microseconds (the precision both databases
/// keep): from the server's clock ([`with_clock`]), or the system clock for work outside a
/// request (the command line, background purges).
pub fn now() -> chrono::NaiveDateTime {
    let t = CLOCK
        .with(|c| c.borrow().as_ref().map(|clock| clock.now()))
        .unwrap_or_else(chrono::Utc::now);
    let n = t.naive_utc();
    n - Duration::from_nanos(u64::from(n.and_utc().timestamp_subsec_nanos() % 1000))
}

/// Today in Asia/Shanghai by [`now`]: the business date of a representation built inside a
/// write (the change feed's `data`).
pub fn today() -> chrono::NaiveDate {
    crate::clock::shanghai_date(to_utc(now()))
}

pub fn to_utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

diesel::define_sql_function! {
    /// SQL `lower(text)`, for case-insensitive search on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_told_apart_from_remote_ones() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/hazreg",
            "postgres://u:p%40ss@localhost/hazreg?application_name=x",
            "postgresql://127.0.0.2",
            "postgres://[::1]:5432/db",
            "postgres://a@localhost:5432,127.0.0.1:5433/db",
        ] {
            assert!(loopback_only(url), "{url}");
        }
        for url in [
            "postgres://postgres@db.internal:5432/hazreg",
            "postgres://postgres@10.0.0.5/hazreg",
            "postgres://a@localhost:5432,db2:5432/db",
            "postgres://postgres@127.0.0.1:5432/hazreg?host=/var/run/postgresql",
            "postgres:///hazreg",
            "postgres://user@/hazreg",
            "not a url",
            "postgres://[2001:db8::1]/db",
            "postgres://127.0.0.1.example.com/db",
            "postgres://u@localhost/db?hostaddr=10.0.0.5",
            "postgres://u@localhost/db?sslcert=x&hostaddr=10.0.0.5",
            "postgres://u@localhost/db?service=remote",
            "postgres://u@localhost/db?%68ost=db.internal",
            "postgres://localhost?@remote/db?x=1",
            "postgres://u@localhost?hostaddr=10.0.0.5",
            "postgres://a@b@127.0.0.1/db",
            "postgres://u@%31%32%37.0.0.1/db",
        ] {
            assert!(!loopback_only(url), "{url}");
        }
    }

    #[test]
    fn tls_is_turned_off_only_for_loopback_urls_that_do_not_choose() {
        let t = Duration::from_secs(10);
        // (The test process must not have PGSSLMODE set for the first case.)
        if std::env::var_os("PGSSLMODE").is_none() {
            assert!(
                pg_url_with_timeouts("postgres://p@127.0.0.1/db", t).contains("sslmode=disable")
            );
        }
        let own = pg_url_with_timeouts("postgres://p@127.0.0.1/db?sslmode=require", t);
        assert!(own.contains("sslmode=require") && !own.contains("sslmode=disable"));
        let remote = pg_url_with_timeouts("postgres://p@db.internal/db", t);
        assert!(!remote.contains("sslmode"), "{remote}");
        assert!(
            remote.contains("?connect_timeout=10&keepalives=1"),
            "{remote}"
        );
    }
}
