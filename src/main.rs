use clap::Parser;

#[actix_web::main]
async fn main() {
    let cli = hazard_registry::cli::Cli::parse();
    if let Err(e) = hazard_registry::cli::run(cli).await {
        eprintln!("hazard-registry: {e:#}");
        std::process::exit(1);
    }
}
