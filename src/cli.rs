//! The command line: `serve` (default), `migrate`, `backup`, `restore`, `openapi`,
//! `create-account`.

use std::io::BufRead;

use clap::{Parser, Subcommand};

use crate::auth::Principal;
use crate::config::Config;
use crate::domain::role::Role;

#[derive(Parser)]
#[command(
    name = "hazard-registry",
    version,
    about = "事故隐患排查治理 REST API server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the migrations, seed an empty database, and serve the API (the default).
    Serve {
        /// Do not run migrations: refuse to start while any is pending (for the nodes of a
        /// rolling upgrade, after `migrate` ran once; docs/OPERATIONS.md).
        #[arg(long)]
        no_migrate: bool,
    },
    /// Run pending migrations (one node at a time on PostgreSQL), load the reference data into
    /// an empty database and create the first administrator, then exit. The first step of an
    /// upgrade.
    Migrate,
    /// Take an online backup into DIR: on SQLite a consistent snapshot of the database, and on
    /// both databases the evidence files it references, with a manifest (docs/OPERATIONS.md).
    Backup {
        #[arg(long, value_name = "DIR")]
        to: std::path::PathBuf,
    },
    /// Restore a backup from DIR into the configured data directory and database (SQLite: the
    /// database file and evidence; PostgreSQL: the evidence, after `pg_restore`).
    Restore {
        #[arg(long, value_name = "DIR")]
        from: std::path::PathBuf,
        /// Replace a database and mix into evidence files that are already there.
        #[arg(long)]
        force: bool,
    },
    /// Recompute the audit log's hash chain and report the first broken link (exit status 1)
    /// or the head of an intact chain (docs/OPERATIONS.md, "Audit log").
    AuditVerify,
    /// Print the OpenAPI document.
    Openapi,
    /// Create an account from the command line (e.g. a second administrator or an auditor).
    /// The password is read from standard input (one line), or generated and printed.
    CreateAccount {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        display_name: Option<String>,
        /// For regulators and auditors.
        #[arg(long)]
        jurisdiction: Option<String>,
        #[arg(long)]
        department_id: Option<i64>,
        /// For the enterprise role.
        #[arg(long)]
        enterprise_id: Option<i64>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!(
            "expected one of {}",
            Role::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration error: {e}"))?;
    crate::telemetry::init(&config);
    match cli.command.unwrap_or(Command::Serve { no_migrate: false }) {
        Command::Openapi => {
            print!("{}", crate::openapi::document_pretty());
            Ok(())
        }
        Command::Migrate => {
            let boot = crate::app::bootstrap(config)?;
            println!("{} migration(s) applied", boot.migrations_applied.len());
            for version in &boot.migrations_applied {
                println!("  {version}");
            }
            announce(&crate::app::FirstStart {
                generated_admin_password: boot.generated_admin_password,
                admin_created: boot.admin_created,
                migrations_applied: boot.migrations_applied,
            });
            Ok(())
        }
        Command::AuditVerify => {
            let db = crate::db::Db::new(&config.database_url, 1, config.database_timeout)?;
            let mut conn = db.dedicated()?;
            let v = crate::db::audit_chain::verify(&mut conn, 5000)?;
            match &v.broken {
                None => {
                    println!(
                        "audit chain intact: {} events checked, head {}; {} not sealed yet",
                        v.checked, v.head, v.unsealed
                    );
                    Ok(())
                }
                Some(b) => anyhow::bail!(
                    "audit chain BROKEN at position {}{}: {} ({} links before it are intact)",
                    b.position,
                    b.seq.map(|s| format!(" (event {s})")).unwrap_or_default(),
                    b.reason,
                    v.checked
                ),
            }
        }
        Command::Serve { no_migrate } => {
            config.no_migrate = no_migrate;
            serve(config).await
        }
        Command::Backup { to } => {
            let report = crate::backup::backup(&config, &to).await?;
            let m = &report.manifest;
            println!(
                "backup of a {} installation in {}: {} hazards, {} evidence files ({} copied, {} already there)",
                m.backend,
                to.display(),
                m.counts.get("hazards").unwrap_or(&0),
                m.attachments.len(),
                report.copied,
                report.already_there
            );
            if m.database.is_none() {
                println!(
                    "  PostgreSQL: this holds the evidence only; dump the database with pg_dump \
                     (docs/OPERATIONS.md, Backup)"
                );
            }
            Ok(())
        }
        Command::Restore { from, force } => {
            let report = crate::backup::restore(&config, &from, force).await?;
            let m = &report.manifest;
            println!(
                "restored the backup of {} from {}: {} hazards, {} evidence files into {}",
                m.created_at,
                from.display(),
                m.counts.get("hazards").unwrap_or(&0),
                m.attachments.len(),
                config.data_dir.display()
            );
            if let Some(db) = &report.database {
                println!("  database file: {}", db.display());
            }
            match report.missing_evidence {
                Some(0) => println!("  every attachment row of the database finds its file"),
                Some(n) => println!(
                    "  WARNING: {n} attachment row(s) of the database have no file: was the \
                     evidence backup taken before the dump?"
                ),
                None => {}
            }
            Ok(())
        }
        Command::CreateAccount {
            username,
            role,
            display_name,
            jurisdiction,
            department_id,
            enterprise_id,
            password_stdin,
        } => {
            let boot = crate::app::bootstrap(config)?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (crate::auth::password::generate_password(), true)
            };
            let input = crate::routes::accounts::BindingInput {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                role,
                jurisdiction_code: jurisdiction,
                department_id,
                enterprise_id,
                disabled: false,
            };
            let id = crate::routes::accounts::create_from_cli(
                &boot.state,
                &system_principal(),
                &username,
                &password,
                input,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}{}", e.detail, field_errors(&e)))?;
            println!("created account {id} ({username}, {role})");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
    }
}

fn field_errors(e: &crate::error::ApiError) -> String {
    e.errors
        .iter()
        .map(|f| format!("\n  {}: {}", f.pointer, f.message))
        .collect()
}

/// The command line acts with full reach, like the operator it is.
fn system_principal() -> Principal {
    Principal {
        account_id: 0,
        username: "cli".into(),
        role: Role::CityAdmin,
        jurisdiction_code: None,
        jurisdiction_path: Some("/".into()),
        reach: None,
        department_id: None,
        department_sectors: None,
        enterprise_id: None,
        session_id: String::new(),
        request_id: "cli".into(),
        second_factor: true,
    }
}

fn announce(first: &crate::app::FirstStart) {
    if let Some(pw) = &first.generated_admin_password {
        println!(
            "\n  First start: created the city administrator.\n    username: admin\n    password: {pw}\n  \
             This password is shown only once. Sign in at POST /api/v1/auth/login and change it.\n"
        );
    } else if first.admin_created {
        tracing::info!("created the city administrator `admin` with HAZREG_ADMIN_PASSWORD");
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    use crate::app::{initialise, InitError};
    if config.backend() == crate::config::Backend::Postgres && config.jwt_secret.is_none() {
        // Several nodes share one PostgreSQL; each would invent its own key and refuse the
        // others' tokens and cursors. SQLite is one process by nature and may invent one.
        anyhow::bail!(
            "HAZREG_JWT_SECRET is required with PostgreSQL: every node serving one database \
             must sign with the same key (use e.g. `openssl rand -base64 48`)"
        );
    }
    // SQLite: held while serving, so `restore` cannot replace the file under this process.
    let _serving = crate::backup::serving_lock(&config)?;
    let bind = config.bind;
    let metrics_bind = config.metrics_bind;
    let (state, reference) = crate::app::prepare(config)?;
    let state = actix_web::web::Data::new(state);
    let first = {
        let (state, reference) = (state.clone(), reference.clone());
        actix_web::web::block(move || initialise(&state, &reference)).await?
    };
    match first {
        Ok(first) => announce(&first),
        Err(InitError::Fatal(e)) => return Err(e),
        Err(InitError::Unavailable(e)) => {
            // Serve anyway (503 and /readyz 503) and finish the start once the database answers.
            tracing::warn!(error = %e, "database unavailable at start; answering 503 until it is back");
            let state = state.clone();
            actix_web::rt::spawn(async move {
                loop {
                    actix_web::rt::time::sleep(std::time::Duration::from_secs(2)).await;
                    let (s, r) = (state.clone(), reference.clone());
                    match actix_web::web::block(move || initialise(&s, &r)).await {
                        Ok(Ok(first)) => {
                            tracing::info!("database reachable: migrated, seeded, serving");
                            announce(&first);
                            return;
                        }
                        Ok(Err(InitError::Unavailable(_))) => continue,
                        Ok(Err(InitError::Fatal(e))) => {
                            tracing::error!(error = %e, "first start failed; exiting");
                            std::process::exit(1);
                        }
                        Err(e) => tracing::warn!(error = %e, "blocking pool"),
                    }
                }
            });
        }
    }
    let listener = std::net::TcpListener::bind(bind)
        .map_err(|e| anyhow::anyhow!("HAZREG_BIND {bind}: {e}"))?;
    tracing::info!(
        address = %listener.local_addr()?,
        database = %crate::config::redact_url(&state.config.database_url),
        "serving; API docs at /docs"
    );
    if let Some(address) = metrics_bind {
        let listener = std::net::TcpListener::bind(address)
            .map_err(|e| anyhow::anyhow!("HAZREG_METRICS_BIND {address}: {e}"))?;
        tracing::info!(address = %listener.local_addr()?, "metrics at /metrics");
        actix_web::rt::spawn(crate::app::serve_metrics(state.clone(), listener)?);
    }
    crate::app::serve_shared(state, listener)?.await?;
    Ok(())
}
