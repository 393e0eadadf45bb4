//! Builds the actix application and binds it (port 0 works, for tests).

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::rejections::{self, RouteTable};
use crate::routes;
use crate::state::AppState;

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "idempotency-key",
            "x-request-id",
        ])
        .expose_headers([
            "etag",
            "location",
            "x-request-id",
            "retry-after",
            "idempotent-replayed",
        ])
        .max_age(3600);
    for o in origins {
        cors = if o == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(o)
        };
    }
    cors
}

/// Starts serving on `listener`; returns the running server (await it, or spawn it).
pub fn serve(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    serve_shared(web::Data::new(state), listener)
}

/// [`serve`] with a state the caller keeps a handle on (to finish initialising it later).
pub fn serve_shared(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    crate::background::start(&state);
    crate::webhooks::start(&state);
    let workers = state.config.workers;
    let origins = state.config.cors_origins.clone();
    let openapi: utoipa::openapi::OpenApi =
        serde_json::from_value(crate::openapi::document()).map_err(std::io::Error::other)?;
    let routes = web::Data::new(RouteTable::from_openapi(&openapi));
    let server = HttpServer::new(move || {
        App::new()
            .into_utoipa_app()
            .map(|app| {
                app.app_data(state.clone())
                    .app_data(routes.clone())
                    .app_data(web::QueryConfig::default().error_handler(rejections::query_error))
                    .app_data(web::PathConfig::default().error_handler(rejections::path_error))
                    .wrap(ErrorHandlers::new().default_handler(rejections::problemize))
                    .wrap(from_fn(crate::http::text::middleware))
                    .wrap(from_fn(crate::http::ready::middleware))
                    .wrap(from_fn(crate::http::headers::middleware))
                    .wrap(cors(&origins))
                    .wrap(from_fn(crate::http::request_id::middleware))
                    .wrap(from_fn(crate::http::metrics::middleware))
                    // Before the /api/v1 scope, which would otherwise swallow
                    // /api/v1/openapi.json.
                    .route(
                        "/docs",
                        web::get().to(|| async {
                            actix_web::HttpResponse::PermanentRedirect()
                                .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                                .finish()
                        }),
                    )
                    .service(
                        SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi.clone()),
                    )
            })
            .configure(routes::configure)
            .map(|app| app.default_service(web::to(rejections::no_route)))
            .into_app()
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Serves `GET /metrics` alone, without a token, on `listener` (`HAZREG_METRICS_BIND`).
pub fn serve_metrics(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(routes::metrics::scrape_private))
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok(server)
}

/// What first start produced.
pub struct Bootstrapped {
    pub state: AppState,
    /// The generated password of `admin`, when this start created it without a configured one.
    pub generated_admin_password: Option<String>,
    pub admin_created: bool,
    /// The versions of the migrations this start applied (none when another node did).
    pub migrations_applied: Vec<String>,
}

/// Opens the database, runs the migrations, and on an empty database loads the reference data
/// and creates the first administrator. Running it again changes nothing.
pub fn bootstrap(config: crate::config::Config) -> anyhow::Result<Bootstrapped> {
    let (state, reference) = prepare(config)?;
    let first = initialise(&state, &reference).map_err(InitError::into_inner)?;
    Ok(Bootstrapped {
        state,
        generated_admin_password: first.generated_admin_password,
        admin_created: first.admin_created,
        migrations_applied: first.migrations_applied,
    })
}

/// Why [`initialise`] did not finish.
#[derive(Debug)]
pub enum InitError {
    /// The database could not be reached: try again later.
    Unavailable(anyhow::Error),
    /// Anything else (a failed migration, bad seed data): stop.
    Fatal(anyhow::Error),
}

impl InitError {
    pub fn into_inner(self) -> anyhow::Error {
        match self {
            InitError::Unavailable(e) | InitError::Fatal(e) => e,
        }
    }
}

/// What the first start did.
pub struct FirstStart {
    pub generated_admin_password: Option<String>,
    pub admin_created: bool,
    pub migrations_applied: Vec<String>,
}

/// Everything that needs no database: configuration, the (lazy) pool, reference data, keys.
pub fn prepare(
    config: crate::config::Config,
) -> anyhow::Result<(AppState, crate::db::seed::ReferenceData)> {
    use crate::db::{seed, Db};
    let db = Db::new(
        &config.database_url,
        config.database_pool_size,
        config.database_timeout,
    )?;
    let reference = seed::ReferenceData::load(config.reference_data.as_deref())?;
    if let Some(p) = &config.admin_password {
        let mut errors = crate::domain::validate::Errors::default();
        crate::domain::account::check_password(&mut errors, p, "admin");
        if let Some(e) = errors.0.first() {
            anyhow::bail!("HAZREG_ADMIN_PASSWORD {}", e.message);
        }
    }
    let state = AppState::new(config, db, &reference)?;
    Ok((state, reference))
}

/// Migrates, seeds an empty database and creates the first administrator; then marks the
/// state ready. Fails (and may be retried) while the database is unreachable.
pub fn initialise(
    state: &AppState,
    reference: &crate::db::seed::ReferenceData,
) -> Result<FirstStart, InitError> {
    let config = &state.config;
    // Its own connection, unbounded: waiting on the start lock while another node migrates, or
    // building an index, may rightly take longer than a request's bound.
    let mut conn = state.db.dedicated().map_err(|e| {
        InitError::Unavailable(anyhow::anyhow!(
            "cannot connect to the database at {}: {e}",
            crate::config::redact_url(&config.database_url)
        ))
    })?;
    let first = first_start(state, &mut conn, reference).map_err(InitError::Fatal)?;
    state.ready.store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(first)
}

fn first_start(
    state: &AppState,
    conn: &mut crate::db::AnyConnection,
    reference: &crate::db::seed::ReferenceData,
) -> anyhow::Result<FirstStart> {
    crate::db::with_start_lock(conn, |conn| first_start_locked(state, conn, reference))
}

fn first_start_locked(
    state: &AppState,
    conn: &mut crate::db::AnyConnection,
    reference: &crate::db::seed::ReferenceData,
) -> anyhow::Result<FirstStart> {
    use crate::db::seed;
    let mut migrations_applied = Vec::new();
    if state.config.no_migrate {
        let pending = crate::db::pending_migrations(conn)?;
        if !pending.is_empty() {
            anyhow::bail!(
                "{} migration(s) pending ({}); with --no-migrate this node does not run them: \
                 run `hazard-registry migrate` first (docs/OPERATIONS.md, Upgrades)",
                pending.len(),
                pending.join(", ")
            );
        }
    } else {
        let applied = crate::db::run_migrations(conn)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "migrations applied");
        }
        migrations_applied = applied;
    }
    if seed::reference_if_empty(conn, reference)? {
        tracing::info!(
            jurisdictions = reference.jurisdictions.len(),
            sectors = reference.sectors.len(),
            departments = reference.departments.len(),
            "reference data loaded"
        );
    }
    let mut generated = None;
    let password = match &state.config.admin_password {
        Some(p) => p.clone(),
        None => {
            let p = crate::auth::password::generate_password();
            generated = Some(p.clone());
            p
        }
    };
    let admin_created = if crate::db::accounts::count(conn)? == 0 {
        let hash = state.passwords.hash_blocking(&password)?;
        seed::admin_if_no_accounts(conn, reference, &hash)?
    } else {
        false
    };
    Ok(FirstStart {
        generated_admin_password: generated.filter(|_| admin_created),
        admin_created,
        migrations_applied,
    })
}
