use clap::Parser;

/// mimalloc instead of the system allocator (`Cargo.toml` says why; the README's benchmark
/// section has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() {
    let cli = hazard_registry::cli::Cli::parse();
    if let Err(e) = hazard_registry::cli::run(cli).await {
        eprintln!("hazard-registry: {e:#}");
        std::process::exit(1);
    }
}
