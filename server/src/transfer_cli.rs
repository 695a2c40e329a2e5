//! `rampart export` and `rampart import`: an app's end-users as JSON lines, streamed from
//! and to files or the standard streams, with progress on standard error.

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
pub async fn import(
    engine: &Engine,
    slug: &str,
    input: impl AsyncRead + Unpin,
    firebase: Option<FirebaseHashConfig>,
) -> anyhow::Result<ImportSummary> {
    let mut import = engine.start_import_as_operator(slug, firebase).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut input = tokio::io::BufReader::new(input);
    let mut lines = LineSplitter::default();
    let mut buf = vec![0u8; 64 * 1024];
    let started = Instant::now();
    let mut shown = Instant::now();
    let report = |import: &mut domain::engine::Import<'_>| {
        for f in import.drain_failures() {
            eprintln!("import: line {}: {}: {}", f.line, f.code, f.message);
        }
    };
    loop {
        let n = input.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        for item in lines.push(&buf[..n]) {
            import.feed(item).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        report(&mut import);
        if shown.elapsed() >= PROGRESS_EVERY {
            shown = Instant::now();
            let s = import.summary();
            eprintln!(
                "import: {} lines ({}/s): {} created, {} updated, {} unchanged, {} failed",
                s.lines,
                rate(s.lines, started),
                s.created,
                s.updated,
                s.unchanged,
                s.failed_count
            );
        }
    }
    if let Some(item) = lines.finish() {
        import.feed(item).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    import.flush().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    report(&mut import);
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

fn rate(n: u64, since: Instant) -> u64 {
    let secs = since.elapsed().as_secs_f64();
    if secs > 0.0 {
        (n as f64 / secs) as u64
    } else {
        n
    }
}
