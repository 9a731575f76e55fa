use clap::Parser;

fn main() {
    cap_malloc_arenas();
    let cli = lakemart::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("lakemart=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(lakemart::commands::execute(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// glibc's malloc gives threads arenas of their own, up to eight per core, and keeps
/// what each frees for that arena's next use. One phase's freed memory (a sort's, on
/// the runtime's threads) then stays resident while the next phase allocates anew in
/// other arenas (a file rewrite, on blocking threads): a 40M-row snapshot_diff peaked
/// at 2.3 GiB of RSS for 1.2 GiB with one arena per core. So: one arena per core,
/// unless `MALLOC_ARENA_MAX` says otherwise.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn cap_malloc_arenas() {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_ARENA_MAX: i32 = -8;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // SAFETY: mallopt only sets a malloc tunable; it is called before any other thread
    // exists, and a value it refuses leaves malloc as it was.
    unsafe {
        mallopt(M_ARENA_MAX, i32::try_from(cores).unwrap_or(i32::MAX));
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn cap_malloc_arenas() {}
