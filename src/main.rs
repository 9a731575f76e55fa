use clap::Parser;

fn main() {
    tune_malloc();
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
///
/// Its defaults also hand big blocks back to the kernel as soon as they are freed
/// (blocks over a threshold that starts at 128 kB are mapped alone; a heap's free top
/// is trimmed past 128 kB), and the next batch's buffers fault in fresh, zeroed pages:
/// a 40M-row snapshot_diff spent about a quarter of its CPU time in the kernel. Blocks
/// up to 32 MiB (a Parquet page, a batch's column) are reused from the heap instead,
/// which keeps up to 1 GiB of free top and grows 64 MiB at a time; each tunable
/// yields to its `MALLOC_*_` variable. That run took 2 to 3 seconds less, for about
/// 200 MB more peak RSS.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_TOP_PAD: i32 = -2;
    const M_MMAP_THRESHOLD: i32 = -3;
    const M_ARENA_MAX: i32 = -8;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tunables = [
        (
            M_ARENA_MAX,
            "MALLOC_ARENA_MAX",
            i32::try_from(cores).unwrap_or(i32::MAX),
        ),
        (M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", 32 << 20),
        (M_TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", 1 << 30),
        (M_TOP_PAD, "MALLOC_TOP_PAD_", 64 << 20),
    ];
    for (param, variable, value) in tunables {
        if std::env::var_os(variable).is_some() {
            continue;
        }
        // SAFETY: mallopt only sets a malloc tunable; it is called before any other
        // thread exists, and a value it refuses leaves malloc as it was.
        unsafe {
            mallopt(param, value);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
