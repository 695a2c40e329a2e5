//! Load from a separate process: wrk over loopback, with the Lua scripts in `bench/wrk`.
//! Each script prints one JSON line of totals and latency percentiles when it is done, and
//! for the requests it timed by class (`timed` in `common.lua`), the same per class.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// What `done()` in `bench/wrk/common.lua` prints.
#[derive(Debug, Clone, Deserialize)]
pub struct WrkSummary {
    pub requests: u64,
    pub duration_us: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub status_errors: u64,
    pub timeouts: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
    #[serde(default)]
    pub classes: BTreeMap<String, ClassSummary>,
}

/// One class of request as the script timed it: answers by status, latency percentiles.
#[derive(Debug, Clone, Deserialize)]
pub struct ClassSummary {
    pub ok: u64,
    pub refused: u64,
    pub shed: u64,
    pub other: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

/// One class of request in a measured run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Class {
    /// Answers a second, whatever their status.
    pub rps: f64,
    /// 2xx answers.
    pub ok: u64,
    /// 401: a sign-in refused for its credentials.
    pub refused: u64,
    /// 503: refused at admission, with `Retry-After`.
    pub shed: u64,
    /// Any other status.
    pub other: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Class {
    pub fn answers(&self) -> u64 {
        self.ok + self.refused + self.shed + self.other
    }

    /// A sign-in's verdict a second: accepted or refused for its password, not shed.
    pub fn decided_rps(&self) -> f64 {
        match self.answers() {
            0 => 0.0,
            n => self.rps * (self.ok + self.refused) as f64 / n as f64,
        }
    }
}

/// One measured run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub requests: u64,
    pub rps: f64,
    #[serde(default)]
    pub mean_ms: f64,
    pub p50_ms: f64,
    #[serde(default)]
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Non-2xx answers, socket errors and timeouts.
    pub errors: u64,
    /// The share of the machine's cores busy during the run (server, database and wrk
    /// alike), from `/proc/stat`; 0 where it cannot be read.
    #[serde(default)]
    pub cpu_busy: f64,
    /// The classes the script timed on its own, by name (`me`, `refresh`, `signin`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<String, Class>,
}

impl Measured {
    /// Core time per request, in microseconds: what the whole machine spent on each.
    pub fn core_us_per_request(&self, cores: usize) -> Option<f64> {
        (self.cpu_busy > 0.0 && self.rps > 0.0).then(|| cores as f64 * self.cpu_busy * 1e6 / self.rps)
    }
}

/// Busy and total jiffies of all cores together, from the `cpu` line of `/proc/stat`.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_line(stat.lines().next()?)
}

fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest time is counted in user).
    let v: Vec<u64> = fields.take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = v[..] else { return None };
    let busy = user + nice + system + irq + softirq + steal;
    Some((busy, busy + idle + iowait))
}

/// The share of the cores busy between two `cpu_jiffies` readings.
fn busy_between(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> f64 {
    match (before, after) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => (b1.saturating_sub(b0)) as f64 / (t1 - t0) as f64,
        _ => 0.0,
    }
}

impl WrkSummary {
    pub fn parse(stdout: &str) -> Result<WrkSummary> {
        let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).context("wrk printed no summary")?;
        serde_json::from_str(line).with_context(|| format!("unreadable wrk summary: {line}"))
    }

    pub fn measured(&self) -> Measured {
        let seconds = (self.duration_us as f64 / 1e6).max(1e-9);
        Measured {
            requests: self.requests,
            rps: self.requests as f64 / seconds,
            mean_ms: self.mean_us / 1e3,
            p50_ms: self.p50_us as f64 / 1e3,
            p90_ms: self.p90_us as f64 / 1e3,
            p99_ms: self.p99_us as f64 / 1e3,
            max_ms: self.max_us as f64 / 1e3,
            errors: self.connect_errors + self.read_errors + self.write_errors + self.status_errors + self.timeouts,
            cpu_busy: 0.0,
            classes: self
                .classes
                .iter()
                .map(|(name, c)| {
                    let answers = c.ok + c.refused + c.shed + c.other;
                    let class = Class {
                        rps: answers as f64 / seconds,
                        ok: c.ok,
                        refused: c.refused,
                        shed: c.shed,
                        other: c.other,
                        mean_ms: c.mean_us / 1e3,
                        p50_ms: c.p50_us as f64 / 1e3,
                        p90_ms: c.p90_us as f64 / 1e3,
                        p99_ms: c.p99_us as f64 / 1e3,
                        max_ms: c.max_us as f64 / 1e3,
                    };
                    (name.clone(), class)
                })
                .collect(),
        }
    }
}

pub struct Wrk {
    /// `bench/wrk`, where the scripts are and where wrk runs.
    pub scripts: PathBuf,
}

impl Wrk {
    pub fn find(scripts: &Path) -> Result<Wrk> {
        let found = Command::new("wrk").arg("--version").output();
        if found.is_err() {
            bail!("wrk is not installed (Debian: apt-get install wrk; `make bench` installs it)");
        }
        Ok(Wrk { scripts: scripts.to_owned() })
    }

    /// Starts `script` against `base` with one wrk thread and `connections` connections;
    /// `wait` for its measurement. Two runs may go on at once.
    pub fn start(
        &self,
        script: &str,
        base: &str,
        connections: usize,
        duration: Duration,
        args: &[String],
    ) -> Result<Running> {
        let before = cpu_jiffies();
        let child = Command::new("wrk")
            .current_dir(&self.scripts)
            .arg("--threads=1")
            .arg(format!("--connections={connections}"))
            .arg(format!("--duration={}s", duration.as_secs().max(1)))
            .arg("--timeout=10s")
            .arg(format!("--script={script}"))
            .arg(base)
            .arg("--")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("run wrk")?;
        Ok(Running { child, script: script.to_owned(), before })
    }
}

/// A wrk run under way.
pub struct Running {
    child: Child,
    script: String,
    before: Option<(u64, u64)>,
}

impl Running {
    pub fn wait(self) -> Result<Measured> {
        let output = self.child.wait_with_output().context("wait for wrk")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("wrk {} failed: {}{}", self.script, stdout, String::from_utf8_lossy(&output.stderr));
        }
        let cpu_busy = busy_between(self.before, cpu_jiffies());
        Ok(Measured { cpu_busy, ..WrkSummary::parse(&stdout)?.measured() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_busy_comes_from_the_cpu_line() {
        let before = parse_cpu_line("cpu  100 0 50 800 50 0 0 0 0 0");
        let after = parse_cpu_line("cpu  400 0 150 900 50 0 0 0 0 0");
        assert_eq!(before, Some((150, 1000)));
        // 400 busy jiffies of 500.
        assert!((busy_between(before, after) - 0.8).abs() < 1e-9);
        assert_eq!(parse_cpu_line("cpu0 1 2 3 4 5 6 7 8"), None);
        assert_eq!(busy_between(None, after), 0.0);
        let m = Measured { rps: 4000.0, cpu_busy: 0.5, ..WrkSummary::parse(SUMMARY).unwrap().measured() };
        assert_eq!(m.core_us_per_request(2), Some(250.0));
    }

    const SUMMARY: &str =
        "{\"requests\":1,\"duration_us\":1000000,\"connect_errors\":0,\"read_errors\":0,\"write_errors\":0,\
        \"status_errors\":0,\"timeouts\":0,\"p50_us\":1,\"p90_us\":1,\"p99_us\":1,\"max_us\":1,\"mean_us\":1.0}";

    #[test]
    fn parses_the_summary_line_after_wrks_own_output() {
        let out = "Running 1s test @ http://127.0.0.1:1\n  1 threads and 4 connections\n\
            {\"requests\":2000,\"duration_us\":2000000,\"connect_errors\":0,\"read_errors\":1,\"write_errors\":0,\
            \"status_errors\":3,\"timeouts\":1,\"p50_us\":450,\"p90_us\":800,\"p99_us\":1500,\"max_us\":9000,\"mean_us\":500.5}\n";
        let m = WrkSummary::parse(out).unwrap().measured();
        assert_eq!(m.requests, 2000);
        assert!((m.rps - 1000.0).abs() < 1e-6);
        assert!((m.p50_ms - 0.45).abs() < 1e-9 && (m.p99_ms - 1.5).abs() < 1e-9);
        assert_eq!(m.errors, 5);
        assert!(m.classes.is_empty(), "a script that times no class reports none");
    }

    #[test]
    fn classes_are_rated_over_the_run() {
        let out = "{\"requests\":1000,\"duration_us\":2000000,\"connect_errors\":0,\"read_errors\":0,\
            \"write_errors\":0,\"status_errors\":0,\"timeouts\":0,\"p50_us\":1,\"p90_us\":1,\"p99_us\":1,\
            \"max_us\":1,\"mean_us\":1.0,\"classes\":{\"signin\":{\"ok\":20,\"refused\":60,\"shed\":120,\
            \"other\":0,\"p50_us\":900,\"p90_us\":40000,\"p99_us\":120000,\"max_us\":150000,\"mean_us\":9000.5}}}";
        let m = WrkSummary::parse(out).unwrap().measured();
        let signin = &m.classes["signin"];
        assert_eq!(signin.answers(), 200);
        assert!((signin.rps - 100.0).abs() < 1e-9);
        assert!((signin.decided_rps() - 40.0).abs() < 1e-9, "accepted and refused, not shed");
        assert!((signin.p99_ms - 120.0).abs() < 1e-9);
    }

    #[test]
    fn no_summary_is_an_error() {
        assert!(WrkSummary::parse("Running 1s test\n").is_err());
        assert!(WrkSummary::parse("{\"requests\": \"x\"}").is_err());
    }
}
