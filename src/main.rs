use clap::Parser;

fn main() {
    tune_allocator();
    let cli = source_aftership::cli::Cli::parse();
    std::process::exit(source_aftership::run(cli));
}

/// Pages are a few hundred KB each: keep glibc from mapping and unmapping (and
/// trimming) such buffers for every page, which showed up as most of the system
/// time of a large read (bench/findings.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
