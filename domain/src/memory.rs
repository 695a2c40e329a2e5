//! How the process holds its memory.

/// Turns transparent huge pages off for this process, before it allocates much.
///
/// Where the kernel's THP setting is `always`, every 2 MiB of heap that is touched at all is
/// backed by a whole huge page: the allocator's arenas then hold about 15 MB more at idle
/// than they use. Measured on a release build with THP off from the allocator's start
/// (`MIMALLOC_ALLOW_THP=0`): idle RSS 56–59 MB with, 41 MB without; peak under sign-ins
/// 108–113 MB with, 90–92 MB without; sign-ins, argon2's 19 MiB areas included, as fast
/// either way within the machine's noise. Turned off here, first thing in `main`, the huge
/// pages touched before it stay (4 MiB of them in a debug build, whose idle anonymous memory
/// went from 34 to 19 MB). Linux only; elsewhere, and should the kernel refuse, nothing
/// changes.
pub fn keep_pages_small() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!(error = %e, "could not turn transparent huge pages off");
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The flag is the process's (its memory map's), so another thread sees it too.
    #[test]
    fn huge_pages_are_off_for_the_whole_process() {
        super::keep_pages_small();
        let seen = std::thread::spawn(|| std::fs::read_to_string("/proc/self/status").unwrap()).join().unwrap();
        let flag = seen.lines().find(|l| l.starts_with("THP_enabled:"));
        // Kernels before 6.x do not report the flag; the call itself must then still succeed.
        if let Some(flag) = flag {
            assert!(flag.ends_with('0'), "{flag}");
        }
    }
}
