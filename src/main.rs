use clap::Parser;

fn main() {
    tune_allocator();
    widen_stdout_pipe();
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

/// Airbyte reads a connector's stdout through a pipe, 64 KB by default: a large
/// read then blocks on the reader every 64 KB and most of its system time goes to
/// switching tasks (bench/findings.md). Ask for a 1 MiB pipe (the usual maximum
/// for an unprivileged process); when stdout is not a pipe, or the kernel says no,
/// nothing changes.
#[cfg(target_os = "linux")]
fn widen_stdout_pipe() {
    // SAFETY: fcntl on fd 1 with F_SETPIPE_SZ touches no memory of this process; a
    // failure (not a pipe, over the limit) is reported as -1 and ignored.
    unsafe {
        libc::fcntl(libc::STDOUT_FILENO, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

#[cfg(not(target_os = "linux"))]
fn widen_stdout_pipe() {}
