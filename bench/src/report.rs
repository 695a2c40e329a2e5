//! The results: one table per store and data set, the targets with their verdicts, and the
//! JSON that two runs are compared by.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use domain::keys::SigningAlg;
use serde::{Deserialize, Serialize};

use crate::ceiling::Ceilings;
use crate::import::ImportRun;
use crate::load::{Class, Measured};
use crate::spray::Spray;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub scenario: String,
    pub connections: usize,
    #[serde(flatten)]
    pub measured: Measured,
    /// Requests a second the bound allows; `null` where the row is itself a ceiling.
    pub ceiling_rps: Option<f64>,
    pub bound: String,
    /// For one class of a mixed scenario's requests: the scenario it is part of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of: Option<String>,
}

impl Row {
    pub fn new(scenario: &str, connections: usize, measured: Measured, ceiling: f64, bound: &str) -> Row {
        Row {
            scenario: scenario.to_owned(),
            connections,
            measured,
            ceiling_rps: ceiling.is_finite().then_some(ceiling),
            bound: bound.to_owned(),
            part_of: None,
        }
    }

    /// One class of `of`'s requests, as its script timed them (`timed` in `common.lua`);
    /// its errors are its answers that were not 2xx.
    pub fn part(of: &Row, label: &str, class: &Class) -> Row {
        let measured = Measured {
            requests: class.answers(),
            rps: class.rps,
            mean_ms: class.mean_ms,
            p50_ms: class.p50_ms,
            p90_ms: class.p90_ms,
            p99_ms: class.p99_ms,
            max_ms: class.max_ms,
            errors: class.answers() - class.ok,
            cpu_busy: 0.0,
            classes: Default::default(),
        };
        Row {
            scenario: format!("{} › {label}", of.scenario),
            connections: of.connections,
            measured,
            ceiling_rps: None,
            bound: "its share of the mix".into(),
            part_of: Some(of.scenario.clone()),
        }
    }

    pub fn pct_of_ceiling(&self) -> Option<f64> {
        self.ceiling_rps.map(|c| 100.0 * self.measured.rps / c)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub apps: usize,
    pub users: usize,
    pub start_to_ready_ms: f64,
    pub idle_rss_kib: u64,
    pub peak_rss_kib: u64,
    pub rows: Vec<Row>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spray: Option<Spray>,
}

impl Phase {
    pub fn row(&self, prefix: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.scenario.starts_with(prefix))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreRun {
    pub store: String,
    /// The very first start, on an empty database: migrations and the platform app's key.
    #[serde(default)]
    pub first_start_ms: f64,
    pub phases: Vec<Phase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub started_at: String,
    pub git_rev: Option<String>,
    pub binary_bytes: u64,
    pub seconds_per_scenario: u64,
    pub ceilings: Ceilings,
    pub stores: Vec<StoreRun>,
    pub targets: Vec<Target>,
}

/// The rate a mix can reach when each part is held to its own ceiling: requests are spent
/// in proportion, so the times add up (a weighted harmonic mean).
pub fn mixed_ceiling(me: f64, refresh: f64, signin: f64) -> f64 {
    1.0 / (0.90 / me + 0.08 / refresh + 0.02 / signin)
}

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 / 1024.0)
}

pub(crate) fn rate(rps: f64) -> String {
    if rps >= 100.0 {
        format!("{rps:.0}")
    } else {
        format!("{rps:.1}")
    }
}

pub(crate) fn ms(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

fn targets(ceilings: &Ceilings, stores: &[StoreRun]) -> Vec<Target> {
    let mut out = Vec::new();
    let mut push = |target: String, measured: String, met: bool| out.push(Target { target, measured, met });
    for store in stores {
        let s = &store.store;
        let Some(small) = store.phases.first() else { continue };
        let failing: Vec<String> = store
            .phases
            .iter()
            .flat_map(|p| {
                // A part's errors are already its scenario's.
                p.rows
                    .iter()
                    .filter(|r| r.measured.errors > 0 && r.part_of.is_none())
                    .map(move |r| format!("{} ({})", r.scenario, p.name))
            })
            .collect();
        push(
            format!("{s}: no errors in any scenario"),
            if failing.is_empty() { "none".into() } else { failing.join(", ") },
            failing.is_empty(),
        );
        if let Some(r) = small.row("sign-in") {
            let pct = r.pct_of_ceiling().unwrap_or(0.0);
            // What the cores manage with every one verifying at once, for the reader.
            let parallel = 100.0 * ceilings.argon2_parallel_rps / ceilings.signin_rps();
            push(
                format!("{s}: sign-in ≥ 90% of the argon2 ceiling"),
                format!("{pct:.0}% (argon2 alone on every core at once: {parallel:.0}%)"),
                pct >= 90.0,
            );
            let limit = 3.0 * ceilings.argon2_verify_ms;
            push(
                format!("{s}: sign-in p99 < 3 × one verify ({})", ms(limit)),
                ms(r.measured.p99_ms),
                r.measured.p99_ms < limit,
            );
        }
        if let Some(r) = small.row("refresh, RS256") {
            let pct = r.pct_of_ceiling().unwrap_or(0.0);
            let mut measured = format!("{pct:.0}%");
            // The share of the signing ceiling is the share of the cores' time spent signing.
            // At 80%, everything else (HTTP, JSON, the store, wrk) would have a quarter of a
            // signature's time per refresh; say what it took.
            if let (Some(core_us), Some(sign_us)) =
                (r.measured.core_us_per_request(ceilings.cores), ceilings.sign_us_of(SigningAlg::Rs256))
            {
                measured += &format!(
                    " (cores {:.0}% busy; all but the signature took {:.0} µs of core time per refresh, 80% leaves {:.0} µs)",
                    100.0 * r.measured.cpu_busy,
                    core_us - sign_us,
                    sign_us / 4.0
                );
            }
            push(format!("{s}: refresh (RS256) ≥ 80% of the signing ceiling"), measured, pct >= 80.0);
        }
        if let Some(r) = small.row("refresh, EdDSA") {
            push(
                format!("{s}: refresh (EdDSA) ≥ 5,000/s"),
                format!("{}/s", rate(r.measured.rps)),
                r.measured.rps >= 5000.0,
            );
        }
        if let Some(r) = small.row("GET /me") {
            if s == "sqlite" {
                push(
                    format!("{s}: GET /me ≥ 20,000/s"),
                    format!("{}/s", rate(r.measured.rps)),
                    r.measured.rps >= 20_000.0,
                );
                push(format!("{s}: GET /me p99 < 5 ms"), ms(r.measured.p99_ms), r.measured.p99_ms < 5.0);
            }
            let pct = r.pct_of_ceiling().unwrap_or(0.0);
            push(format!("{s}: GET /me ≥ 60% of the routing ceiling"), format!("{pct:.0}%"), pct >= 60.0);
        }
        if let Some(spray) = &small.spray {
            for t in spray.targets(s) {
                push(t.target, t.measured, t.met);
            }
        }
        if let Some(import) = &store.import {
            let t = import.target(s);
            push(t.target, t.measured, t.met);
        }
        push(format!("{s}: idle RSS < 40 MB"), mib(small.idle_rss_kib), small.idle_rss_kib < 40 * 1024);
        push(
            format!("{s}: first start (empty database) to ready < 200 ms"),
            ms(store.first_start_ms),
            store.first_start_ms < 200.0,
        );
        for phase in &store.phases {
            push(
                format!("{s}: start to ready < 200 ms ({})", phase.name),
                ms(phase.start_to_ready_ms),
                phase.start_to_ready_ms < 200.0,
            );
        }
        if let Some(large) = store.phases.get(1) {
            let mut worst: Option<(String, f64)> = None;
            for r in &small.rows {
                let Some(l) = large.rows.iter().find(|l| l.scenario == r.scenario) else { continue };
                let change = 100.0 * (l.measured.rps - r.measured.rps) / r.measured.rps;
                if worst.as_ref().is_none_or(|(_, w)| change < *w) {
                    worst = Some((r.scenario.clone(), change));
                }
            }
            if let Some((scenario, change)) = worst {
                push(
                    format!("{s}: 1,000 apps / 10,000 users within 20% of 1 app"),
                    format!("worst {change:+.0}% ({scenario})"),
                    change >= -20.0,
                );
            }
        }
    }
    out
}

impl Run {
    pub fn new(binary_bytes: u64, seconds: u64, ceilings: Ceilings, stores: Vec<StoreRun>) -> Run {
        let git_rev = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        let targets = targets(&ceilings, &stores);
        Run {
            started_at: chrono::Utc::now().to_rfc3339(),
            git_rev,
            binary_bytes,
            seconds_per_scenario: seconds,
            ceilings,
            stores,
            targets,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let c = &self.ceilings;
        let _ = writeln!(
            out,
            "# Rampart benchmark ({}, {} cores, binary {:.1} MB, {} s per scenario)\n",
            self.git_rev.as_deref().unwrap_or("unknown revision"),
            c.cores,
            self.binary_bytes as f64 / 1_048_576.0,
            self.seconds_per_scenario
        );
        let signs: Vec<String> = c.sign_us.iter().map(|(alg, us)| format!("{alg} {us:.1} µs")).collect();
        let _ = writeln!(
            out,
            "Ceilings measured in this run: argon2id verify {} (hash {}) → {} sign-ins/s on {} cores \
             ({}/s measured with every core verifying at once); one JWT signature: {}.\n",
            ms(c.argon2_verify_ms),
            ms(c.argon2_hash_ms),
            rate(c.signin_rps()),
            c.cores,
            rate(c.argon2_parallel_rps),
            signs.join(", ")
        );
        for store in &self.stores {
            let _ = writeln!(
                out,
                "{}: first start on an empty database to ready {}\n",
                store.store,
                ms(store.first_start_ms)
            );
            let small = store.phases.first();
            for phase in &store.phases {
                let _ = writeln!(
                    out,
                    "## {} — {} ({} users in the measured app)\n\nrestart to ready {} · idle RSS {} · peak RSS under load {}\n",
                    store.store,
                    phase.name,
                    phase.users,
                    ms(phase.start_to_ready_ms),
                    mib(phase.idle_rss_kib),
                    mib(phase.peak_rss_kib)
                );
                let compare = !std::ptr::eq(phase, small.unwrap_or(phase));
                let _ = writeln!(
                    out,
                    "| scenario | req/s | p50 | p99 | errors | ceiling | % of ceiling |{}",
                    if compare { " vs 1 app |" } else { "" }
                );
                let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|{}", if compare { "---:|" } else { "" });
                for r in &phase.rows {
                    let ceiling = match r.ceiling_rps {
                        Some(c) => format!("{} ({})", rate(c), r.bound),
                        None => format!("— ({})", r.bound),
                    };
                    let pct = r.pct_of_ceiling().map(|p| format!("{p:.0}%")).unwrap_or_else(|| "—".into());
                    let versus = small
                        .filter(|_| compare)
                        .and_then(|s| s.rows.iter().find(|x| x.scenario == r.scenario))
                        .map(|s| format!(" {:+.0}% |", 100.0 * (r.measured.rps - s.measured.rps) / s.measured.rps))
                        .unwrap_or_default();
                    // A part is named by its class, under its scenario.
                    let name = match r.scenario.rsplit_once(" › ") {
                        Some((_, class)) if r.part_of.is_some() => format!("↳ {class}"),
                        _ => r.scenario.clone(),
                    };
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {} |{}",
                        name,
                        rate(r.measured.rps),
                        ms(r.measured.p50_ms),
                        ms(r.measured.p99_ms),
                        r.measured.errors,
                        ceiling,
                        pct,
                        versus
                    );
                }
                let _ = writeln!(out);
                if let Some(spray) = &phase.spray {
                    out += &spray.render();
                }
            }
            if let Some(import) = &store.import {
                let _ = writeln!(out, "## {} — import\n", store.store);
                out += &import.render();
            }
        }
        let _ = writeln!(out, "## Targets\n\n| target | measured | |\n|---|---:|---|");
        for t in &self.targets {
            let _ = writeln!(out, "| {} | {} | {} |", t.target, t.measured, if t.met { "met" } else { "MISSED" });
        }
        out
    }
}

/// Prints, for every scenario both files measured, the change in req/s and p99.
pub fn compare(before: &Path, after: &Path) -> Result<()> {
    let read = |p: &Path| -> Result<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(p).with_context(|| format!("read {}", p.display()))?)
            .with_context(|| format!("{} is not a results file", p.display()))
    };
    let (a, b) = (read(before)?, read(after)?);
    let stores = |v: &serde_json::Value| -> Result<Vec<StoreRun>> {
        Ok(serde_json::from_value(v.get("stores").cloned().context("no stores in a results file")?)?)
    };
    let (a, b) = (stores(&a)?, stores(&b)?);
    println!("| store | data | scenario | req/s before | req/s after | change | p99 before | p99 after |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for sa in &a {
        let Some(sb) = b.iter().find(|s| s.store == sa.store) else { continue };
        for pa in &sa.phases {
            let Some(pb) = sb.phases.iter().find(|p| p.name == pa.name) else { continue };
            for ra in &pa.rows {
                let Some(rb) = pb.rows.iter().find(|r| r.scenario == ra.scenario) else { continue };
                println!(
                    "| {} | {} | {} | {} | {} | {:+.0}% | {} | {} |",
                    sa.store,
                    pa.name,
                    ra.scenario,
                    rate(ra.measured.rps),
                    rate(rb.measured.rps),
                    100.0 * (rb.measured.rps - ra.measured.rps) / ra.measured.rps,
                    ms(ra.measured.p99_ms),
                    ms(rb.measured.p99_ms)
                );
            }
            let (Some(xa), Some(xb)) = (&pa.spray, &pb.spray) else { continue };
            for ((what, rps_a, p99_a), (_, rps_b, p99_b)) in xa.compared().into_iter().zip(xb.compared()) {
                println!(
                    "| {} | {} | {what} | {} | {} | {:+.0}% | {} | {} |",
                    sa.store,
                    pa.name,
                    rate(rps_a),
                    rate(rps_b),
                    100.0 * (rps_b - rps_a) / rps_a,
                    ms(p99_a),
                    ms(p99_b)
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, rps: f64, p99: f64, ceiling: f64) -> Row {
        let measured = Measured {
            requests: 1,
            rps,
            mean_ms: p99 / 2.0,
            p50_ms: p99 / 2.0,
            p90_ms: p99,
            p99_ms: p99,
            max_ms: p99,
            errors: 0,
            cpu_busy: 0.0,
            classes: Default::default(),
        };
        Row::new(name, 4, measured, ceiling, "x")
    }

    fn ceilings() -> Ceilings {
        Ceilings {
            cores: 2,
            argon2_verify_ms: 20.0,
            argon2_hash_ms: 20.0,
            argon2_parallel_rps: 80.0,
            sign_us: vec![("RS256".into(), 500.0), ("EdDSA".into(), 20.0)],
        }
    }

    #[test]
    fn ceilings_follow_cores_and_unit_costs() {
        let c = ceilings();
        assert!((c.signin_rps() - 100.0).abs() < 1e-9);
        assert!((c.refresh_rps(domain::keys::SigningAlg::Rs256) - 4000.0).abs() < 1e-9);
        assert!(c.refresh_rps(domain::keys::SigningAlg::Es256).is_nan(), "an unmeasured algorithm has no ceiling");
        // All reads: the mix is bounded by reads; one slow part dominates it.
        assert!((mixed_ceiling(1000.0, 1000.0, 1000.0) - 1000.0).abs() < 1e-9);
        assert!(mixed_ceiling(30_000.0, 4000.0, 100.0) < 100.0 / 0.02);
    }

    #[test]
    fn targets_are_judged_from_the_rows() {
        let phase = |name: &str, me: f64| Phase {
            name: name.into(),
            apps: 1,
            users: 1,
            start_to_ready_ms: 50.0,
            idle_rss_kib: 20 * 1024,
            peak_rss_kib: 60 * 1024,
            rows: vec![
                row("sign-in (password)", 95.0, 55.0, 100.0),
                row("refresh, RS256", 3000.0, 9.0, 4000.0),
                row("refresh, EdDSA", 4000.0, 9.0, 100_000.0),
                row("GET /me", me, 3.0, 30_000.0),
            ],
            spray: None,
        };
        let stores = vec![StoreRun {
            store: "sqlite".into(),
            first_start_ms: 150.0,
            phases: vec![phase("small", 25_000.0), phase("large", 19_000.0)],
            import: None,
        }];
        let verdicts: Vec<(String, bool)> =
            targets(&ceilings(), &stores).into_iter().map(|t| (t.target, t.met)).collect();
        let verdict = |prefix: &str| verdicts.iter().find(|(t, _)| t.contains(prefix)).map(|(_, m)| *m);
        assert_eq!(verdict("sign-in ≥ 90%"), Some(true));
        assert_eq!(verdict("sign-in p99"), Some(true), "55 ms < 3 × 20 ms");
        assert_eq!(verdict("refresh (RS256)"), Some(false), "75% < 80%");
        assert_eq!(verdict("refresh (EdDSA)"), Some(false));
        assert_eq!(verdict("GET /me ≥ 20,000"), Some(true));
        assert_eq!(verdict("idle RSS"), Some(true));
        assert_eq!(verdict("within 20%"), Some(false), "GET /me fell 24%");
        let measured =
            |prefix: &str| targets(&ceilings(), &stores).into_iter().find(|t| t.target.contains(prefix)).unwrap();
        assert!(measured("sign-in ≥ 90%").measured.contains("every core at once"));
        // Without a CPU reading the RS256 verdict stands alone; with one, it says where the
        // time went: 2 cores × 90% / 3000/s = 600 µs per refresh, 100 µs of it beyond the
        // 500 µs signature, against 125 µs left at 80%.
        assert_eq!(measured("refresh (RS256)").measured, "75%");
        let mut busy = stores.clone();
        for phase in &mut busy[0].phases {
            for row in &mut phase.rows {
                row.measured.cpu_busy = 0.9;
            }
        }
        let verdict = targets(&ceilings(), &busy).into_iter().find(|t| t.target.contains("refresh (RS256)")).unwrap();
        assert!(verdict.measured.contains("90% busy; all but the signature took 100 µs"), "{}", verdict.measured);
        assert!(verdict.measured.ends_with("80% leaves 125 µs)"), "{}", verdict.measured);
    }

    #[test]
    fn rows_without_a_ceiling_have_no_percentage() {
        let r = row("routing", 30_000.0, 2.0, f64::NAN);
        assert_eq!(r.ceiling_rps, None);
        assert_eq!(r.pct_of_ceiling(), None);
    }
}
