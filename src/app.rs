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
    let workers = state.config.workers;
    let origins = state.config.cors_origins.clone();
    let state = web::Data::new(state);
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
                    .wrap(from_fn(crate::http::headers::middleware))
                    .wrap(cors(&origins))
                    .wrap(from_fn(crate::http::request_id::middleware))
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

/// What first start produced.
pub struct Bootstrapped {
    pub state: AppState,
    /// The generated password of `admin`, when this start created it without a configured one.
    pub generated_admin_password: Option<String>,
    pub admin_created: bool,
}

/// Opens the database, runs the migrations, and on an empty database loads the reference data
/// and creates the first administrator. Running it again changes nothing.
pub fn bootstrap(config: crate::config::Config) -> anyhow::Result<Bootstrapped> {
    use crate::db::{seed, Db};
    let db = Db::new(
        &config.database_url,
        config.database_pool_size,
        config.database_timeout,
    )?;
    let mut conn = db.pool.get().map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to the database at {}: {e}",
            crate::config::redact_url(&config.database_url)
        )
    })?;
    let applied = crate::db::run_migrations(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "migrations applied");
    }
    let reference = seed::ReferenceData::load(config.reference_data.as_deref())?;
    if seed::reference_if_empty(&mut conn, &reference)? {
        tracing::info!(
            jurisdictions = reference.jurisdictions.len(),
            sectors = reference.sectors.len(),
            departments = reference.departments.len(),
            "reference data loaded"
        );
    }
    let state = AppState::new(config, db, &reference)?;
    let mut generated = None;
    let password = match &state.config.admin_password {
        Some(p) => {
            let mut errors = crate::domain::validate::Errors::default();
            crate::domain::account::check_password(&mut errors, p, "admin");
            if let Some(e) = errors.0.first() {
                anyhow::bail!("HAZREG_ADMIN_PASSWORD {}", e.message);
            }
            p.clone()
        }
        None => {
            let p = crate::cli::generate_password();
            generated = Some(p.clone());
            p
        }
    };
    let admin_created = if crate::db::accounts::count(&mut conn)? == 0 {
        let hash = state.passwords.hash_blocking(&password)?;
        seed::admin_if_no_accounts(&mut conn, &reference, &hash)?
    } else {
        false
    };
    Ok(Bootstrapped {
        state,
        generated_admin_password: generated.filter(|_| admin_created),
        admin_created,
    })
}
