//! `rampart export` and `rampart import`: an app's end-users as JSON lines, streamed from
//! and to files or the standard streams, with progress on standard error.

use std::io::{IsTerminal, Write as _};
use std::time::{Duration, Instant};

use domain::engine::{Engine, FirebaseHashConfig, ImportSummary, LineSplitter};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Writes the app's users to `out`; answers how many.
pub async fn export(engine: &Engine, slug: &str, out: impl AsyncWrite + Unpin) -> anyhow::Result<u64> {
    let mut out = tokio::io::BufWriter::new(out);
    let mut export = engine.start_export_as_operator(slug).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let mut shown = Instant::now();
    while let Some(chunk) = engine.export_chunk(&mut export).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        out.write_all(&chunk).await?;
        if shown.elapsed() >= PROGRESS_EVERY {
            shown = Instant::now();
            eprintln!("export: {} users ({}/s)", export.users, rate(export.users, started));
        }
    }
    out.flush().await?;
    eprintln!("export: {} users written in {:.1}s", export.users, started.elapsed().as_secs_f64());
    Ok(export.users)
}

/// Reads users from `input` into the app, printing each refused line and the progress to
/// standard error as it goes; answers the summary.
/// `total`: the input's size in bytes when known (a file), for a bar with a percentage and
/// the time left. On a terminal the bar is redrawn in place; elsewhere it is a line a second.
pub async fn import(
    engine: &Engine,
    slug: &str,
    input: impl AsyncRead + Unpin,
    total: Option<u64>,
    firebase: Option<FirebaseHashConfig>,
) -> anyhow::Result<ImportSummary> {
    let mut import = engine.start_import_as_operator(slug, firebase).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut input = tokio::io::BufReader::new(input);
    let mut lines = LineSplitter::default();
    let mut buf = vec![0u8; 64 * 1024];
    let started = Instant::now();
    let mut shown = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let mut bar = Progress { total, read: 0, terminal, drawn: false };
    let report = |import: &mut domain::engine::Import<'_>, bar: &mut Progress| {
        for f in import.drain_failures() {
            bar.clear();
            eprintln!("import: line {}: {}: {}", f.line, f.code, f.message);
        }
    };
    loop {
        let n = input.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        bar.read += n as u64;
        for item in lines.push(&buf[..n]) {
            import.feed(item).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        report(&mut import, &mut bar);
        if shown.elapsed() >= PROGRESS_EVERY {
            shown = Instant::now();
            bar.show(import.summary(), started);
        }
    }
    bar.clear();
    if let Some(item) = lines.finish() {
        import.feed(item).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    import.flush().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    report(&mut import, &mut bar);
    let summary = import.finish().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "import: {} lines in {:.1}s: {} created, {} updated, {} unchanged, {} failed",
        summary.lines,
        started.elapsed().as_secs_f64(),
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.failed_count
    );
    Ok(summary)
}

/// The import's progress on standard error.
struct Progress {
    total: Option<u64>,
    read: u64,
    terminal: bool,
    /// A bar is on the terminal's last line (cleared before anything else is printed).
    drawn: bool,
}

const BAR_WIDTH: usize = 30;

impl Progress {
    fn line(&self, s: &ImportSummary, started: Instant) -> String {
        let counts = format!(
            "{} lines ({}/s): {} created, {} updated, {} unchanged, {} failed",
            s.lines,
            rate(s.lines, started),
            s.created,
            s.updated,
            s.unchanged,
            s.failed_count
        );
        match self.total.filter(|t| *t > 0) {
            Some(total) => {
                let done = (self.read as f64 / total as f64).clamp(0.0, 1.0);
                let filled = (done * BAR_WIDTH as f64).round() as usize;
                let elapsed = started.elapsed().as_secs_f64();
                let left = if done > 0.0 { elapsed * (1.0 - done) / done } else { 0.0 };
                format!(
                    "import: [{}{}] {:>3.0}% {counts}, about {} left",
                    "#".repeat(filled),
                    ".".repeat(BAR_WIDTH - filled),
                    100.0 * done,
                    duration(left)
                )
            }
            None => format!("import: {counts}"),
        }
    }

    fn show(&mut self, s: &ImportSummary, started: Instant) {
        let line = self.line(s, started);
        if self.terminal {
            // Redrawn in place: back to the start of the line, then erase what is left of it.
            eprint!("\r{line}\x1b[K");
            let _ = std::io::stderr().flush();
            self.drawn = true;
        } else {
            eprintln!("{line}");
        }
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[K");
            self.drawn = false;
        }
    }
}

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn rate(n: u64, since: Instant) -> u64 {
    let secs = since.elapsed().as_secs_f64();
    if secs > 0.0 {
        (n as f64 / secs) as u64
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_the_share_read_and_the_time_left() {
        let summary = ImportSummary {
            lines: 500,
            created: 400,
            updated: 50,
            unchanged: 40,
            failed_count: 10,
            ..Default::default()
        };
        let started = Instant::now() - Duration::from_secs(10);
        let bar = Progress { total: Some(1000), read: 250, terminal: false, drawn: false };
        let line = bar.line(&summary, started);
        assert!(line.starts_with("import: [########......................]  25% 500 lines ("), "{line}");
        assert!(line.contains("400 created, 50 updated, 40 unchanged, 10 failed, about 30s left"), "{line}");
        let unknown = Progress { total: None, ..bar };
        assert!(unknown.line(&summary, started).starts_with("import: 500 lines ("));
        assert_eq!(duration(3725.0), "1h02m");
        assert_eq!(duration(75.0), "1m15s");
    }
}
