//! The Rampart process under test: started from the release binary on a fresh store, timed
//! from spawn to its first ready answer, measured through /proc, stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub struct Server {
    child: Child,
    pub base: String,
    pub start_to_ready: Duration,
}

/// Everything a start needs: the binary, the store and the secrets, the same across restarts.
#[derive(Clone)]
pub struct Launch {
    /// The same port at every start, so the issuer (and every token issued) stays valid
    /// across restarts.
    pub port: u16,
    pub binary: PathBuf,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub master_key: String,
    /// Set after the rest (`--env`).
    pub env: Vec<(String, String)>,
}

pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Launch {
    /// Starts the binary and waits for `GET /ready` to answer 200.
    pub async fn start(&self) -> Result<Server> {
        let port = self.port;
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("rampart.log"))
            .context("open the server log")?;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let started = Instant::now();
        let mut child = Command::new(&self.binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            .env("RAMPART_DATA_DIR", &self.data_dir)
            .env("RAMPART_MASTER_KEY", &self.master_key)
            .env("RAMPART_BIND", format!("127.0.0.1:{port}"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("start {}", self.binary.display()))?;
        loop {
            if let Ok(r) = client.get(format!("{base}/ready")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "rampart exited with {status} before it was ready; see {}",
                    self.data_dir.join("rampart.log").display()
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                bail!("rampart was not ready within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(Server { child, base, start_to_ready: started.elapsed() })
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size now, and its peak since the start, in KiB.
    pub fn rss_kib(&self) -> Result<(u64, u64)> {
        rss_kib(self.pid()).with_context(|| format!("no memory figures for process {}", self.pid()))
    }

    /// SIGTERM (a graceful stop), then SIGKILL if it lingers.
    pub async fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        for _ in 0..100 {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A process's resident set size now, and its peak, in KiB (`VmRSS`, `VmHWM`); `None` once
/// it has gone.
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|r| r.split_whitespace().next()?.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

pub fn binary_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path).with_context(|| format!("{} is missing: build it first", path.display()))?.len())
}
