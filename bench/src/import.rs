//! The million-user import (issue 17): `rampart import` fed a generated file of JSON lines on
//! its standard input, its resident memory sampled as the lines go in, then fed the first
//! tenth again (every line already there: `unchanged`). Memory is bounded when what the
//! process holds once half the lines are in grows over the second half by no more than the
//! duplicate check's keys (12 bytes each, three or four a user): the users themselves, their
//! hashes and profiles, are never held beyond their batch. (The first half also pays for the
//! start: connections, statement caches, the allocator's own growth.)

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::report::{mib, rate, Target};
use crate::server::{rss_kib, Launch};

/// The app the users go into, made for this alone.
pub const APP: &str = "bench-import";
pub const NAME: &str = "import: users as JSON lines through `rampart import`";
/// What the peak may exceed the resident memory at half the lines by, per user of the second
/// half: the duplicate check's keys (about 40 bytes a user) and their array's growth.
const BYTES_PER_USER_ALLOWED: f64 = 64.0;
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportRun {
    pub users: u64,
    pub seconds: f64,
    /// Resident memory once half the lines had gone in, and its peak over the run.
    pub rss_half_kib: u64,
    pub peak_rss_kib: u64,
    /// `(lines handed over, resident KiB)`, every `SAMPLE_EVERY`.
    pub samples: Vec<(u64, u64)>,
    pub rerun_users: u64,
    pub rerun_seconds: f64,
}

#[derive(Deserialize)]
struct Summary {
    lines: u64,
    created: u64,
    unchanged: u64,
    failed_count: u64,
}

/// One user line, as a file from elsewhere would carry it (no id: found by email on a rerun).
fn line(n: u64, hash: &str) -> String {
    format!(
        "{{\"username\":\"imp{n:07}\",\"display_name\":\"Imported {n}\",\"emails\":[{{\"address\":\"imp{n:07}@import.example\",\"verified\":true}}],\"password_hash\":\"{hash}\"}}\n"
    )
}

struct Fed {
    seconds: f64,
    summary: Summary,
    samples: Vec<(u64, u64)>,
    peak_kib: u64,
}

/// Runs `rampart import --app APP` on the store of `launch` (the server stopped), writing
/// `users` lines into its standard input from another thread.
fn feed(launch: &Launch, users: u64, hash: &str) -> Result<Fed> {
    let mut child = Command::new(&launch.binary)
        .args(["import", "--app", APP])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &launch.database_url)
        .env("RAMPART_DATA_DIR", &launch.data_dir)
        .env("RAMPART_MASTER_KEY", &launch.master_key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new().create(true).append(true).open(launch.data_dir.join("import.log"))?,
        ))
        .spawn()
        .with_context(|| format!("start {} import", launch.binary.display()))?;
    let pid = child.id();
    let started = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let writer = {
        let stdin = child.stdin.take().context("no stdin")?;
        let (sent, hash) = (sent.clone(), hash.to_owned());
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut out = BufWriter::with_capacity(64 * 1024, stdin);
            for n in 0..users {
                out.write_all(line(n, &hash).as_bytes())?;
                sent.store(n + 1, Ordering::Relaxed);
            }
            out.flush()
        })
    };
    let mut samples = Vec::new();
    let mut peak_kib = 0;
    while child.try_wait()?.is_none() {
        if let Some((rss, hwm)) = rss_kib(pid) {
            samples.push((sent.load(Ordering::Relaxed), rss));
            peak_kib = peak_kib.max(hwm);
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
    let seconds = started.elapsed().as_secs_f64();
    writer.join().map_err(|_| anyhow::anyhow!("the line writer panicked"))?.context("write the lines")?;
    let output = child.wait_with_output()?;
    let summary: Summary = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "rampart import answered {} without a summary; see {}",
            output.status,
            launch.data_dir.join("import.log").display()
        )
    })?;
    if summary.lines != users || summary.failed_count != 0 {
        bail!(
            "rampart import read {} of {users} lines, {} refused; see {}",
            summary.lines,
            summary.failed_count,
            launch.data_dir.join("import.log").display()
        );
    }
    Ok(Fed { seconds, summary, samples, peak_kib })
}

/// Imports `users` new users, then the first tenth of them again.
pub fn run(launch: &Launch, users: u64, hash: &str) -> Result<ImportRun> {
    let first = feed(launch, users, hash)?;
    if first.summary.created != users {
        bail!("the import created {} of {users} users", first.summary.created);
    }
    let rss_half_kib =
        first.samples.iter().filter(|(sent, _)| *sent <= users / 2).map(|(_, rss)| *rss).max().unwrap_or(0);
    let tenth = users / 10;
    let again = feed(launch, tenth, hash)?;
    if again.summary.unchanged != tenth {
        bail!("the rerun of {tenth} lines left {} unchanged, not all", again.summary.unchanged);
    }
    Ok(ImportRun {
        users,
        seconds: first.seconds,
        rss_half_kib,
        peak_rss_kib: first.peak_kib,
        samples: first.samples,
        rerun_users: tenth,
        rerun_seconds: again.seconds,
    })
}

impl ImportRun {
    /// Bytes of resident memory the run grew by, per user of the second half.
    pub fn bytes_per_user(&self) -> f64 {
        let after = self.users - self.users / 2;
        1024.0 * self.peak_rss_kib.saturating_sub(self.rss_half_kib) as f64 / after.max(1) as f64
    }

    pub fn bounded(&self) -> bool {
        self.rss_half_kib > 0 && self.bytes_per_user() <= BYTES_PER_USER_ALLOWED
    }

    pub fn target(&self, store: &str) -> Target {
        Target {
            target: format!(
                "{store}: import of {} users in bounded memory (≤ {BYTES_PER_USER_ALLOWED:.0} bytes per user over the second half)",
                self.users
            ),
            measured: format!(
                "{:.0} bytes per user ({} at half, peak {})",
                self.bytes_per_user(),
                mib(self.rss_half_kib),
                mib(self.peak_rss_kib)
            ),
            met: self.bounded(),
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ =
            writeln!(out, "Import through `rampart import` (standard input, JSON lines, one argon2id hash each):\n");
        let _ = writeln!(
            out,
            "| run | users | seconds | users/s | RSS at half | peak RSS | bytes per user, second half |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        let _ = writeln!(
            out,
            "| new users | {} | {:.1} | {} | {} | {} | {:.0} |",
            self.users,
            self.seconds,
            rate(self.users as f64 / self.seconds),
            mib(self.rss_half_kib),
            mib(self.peak_rss_kib),
            self.bytes_per_user()
        );
        let _ = writeln!(
            out,
            "| the first tenth again (unchanged) | {} | {:.1} | {} | | | |\n",
            self.rerun_users,
            self.rerun_seconds,
            rate(self.rerun_users as f64 / self.rerun_seconds)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_user() {
        let l = line(42, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        assert!(l.ends_with('\n') && l.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["username"], "imp0000042");
        assert_eq!(v["emails"][0]["address"], "imp0000042@import.example");
    }

    #[test]
    fn bounded_compares_the_peak_with_the_first_half() {
        let run = |half, peak| ImportRun {
            users: 1_000_000,
            seconds: 1.0,
            rss_half_kib: half,
            peak_rss_kib: peak,
            samples: vec![],
            rerun_users: 1,
            rerun_seconds: 1.0,
        };
        // 500,000 users in the second half: 64 bytes each is 31,250 KiB.
        assert!(run(100_000, 130_000).bounded());
        assert!(!run(100_000, 132_000).bounded());
        assert!((run(100_000, 131_250).bytes_per_user() - 64.0).abs() < 1e-9);
        assert!(!run(0, 1).bounded(), "no sample is no evidence");
    }
}
