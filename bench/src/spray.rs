//! The password spray (issue 13): sign-ins to many identifiers, offered at a multiple of
//! the argon2 ceiling whatever the answers, while `GET /me` runs as in its own scenario.
//! Each side is measured alone and then both at once, one wrk process each: what the
//! spray takes from the reads, and what the reads take from the sign-ins.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::load::{Class, Measured};
use crate::report::{ms, rate, Target};
use crate::seed::{self, Api};
use crate::server::Server;
use crate::{Bench, Ceiling, Scenario, MAIN_APP};

/// The spray asks for this many times the sign-ins the cores can verify.
pub const MULTIPLE: f64 = 5.0;
/// Enough connections that the schedule never waits for one: each holds a sign-in for at
/// most the admission queue's wait (a few hundred ms), most only for a 503's.
const CONNECTIONS: usize = 128;

/// Issue 13's targets.
const ME_P99_MS: f64 = 20.0;
const ME_SHARE: f64 = 0.5;
const SIGNIN_SHARE: f64 = 0.9;

pub const SCENARIO: Scenario = Scenario {
    name: "password spray: sign-in at 5× the argon2 ceiling, GET /me alongside",
    script: "spray.lua",
    slug: MAIN_APP,
    extra: "",
    password: true,
    fresh_refresh: false,
    ceiling: Ceiling::Argon2Verify,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spray {
    /// Sign-ins a second the spray was told to send.
    pub asked_rps: f64,
    /// `cores / one verify`, the ceiling it is a multiple of.
    pub ceiling_rps: f64,
    pub spray_connections: usize,
    pub me_connections: usize,
    pub me_alone: Measured,
    pub signin_alone: Measured,
    pub me_during: Measured,
    pub signin_during: Measured,
}

fn signins(m: &Measured) -> Class {
    m.classes.get("signin").cloned().unwrap_or_default()
}

fn share(during: f64, alone: f64) -> f64 {
    if alone > 0.0 {
        during / alone
    } else {
        0.0
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

impl Spray {
    pub fn me_share(&self) -> f64 {
        share(self.me_during.rps, self.me_alone.rps)
    }

    /// Sign-ins decided (accepted or refused for their password, not shed) during the
    /// spray, as a share of the spray alone.
    pub fn signin_share(&self) -> f64 {
        share(signins(&self.signin_during).decided_rps(), signins(&self.signin_alone).decided_rps())
    }

    pub fn targets(&self, store: &str) -> Vec<Target> {
        let (alone, during) = (signins(&self.signin_alone), signins(&self.signin_during));
        vec![
            Target {
                target: format!("{store}: GET /me p99 < {ME_P99_MS:.0} ms during the spray"),
                measured: ms(self.me_during.p99_ms),
                met: self.me_during.p99_ms < ME_P99_MS,
            },
            Target {
                target: format!("{store}: GET /me ≥ {:.0}% of its rate alone during the spray", 100.0 * ME_SHARE),
                measured: format!(
                    "{:.0}% ({}/s of {}/s)",
                    100.0 * self.me_share(),
                    rate(self.me_during.rps),
                    rate(self.me_alone.rps)
                ),
                met: self.me_share() >= ME_SHARE,
            },
            Target {
                target: format!(
                    "{store}: sign-ins decided during the spray ≥ {:.0}% of the spray alone",
                    100.0 * SIGNIN_SHARE
                ),
                measured: format!(
                    "{:.0}% ({}/s of {}/s; {} shed with 503)",
                    100.0 * self.signin_share(),
                    rate(during.decided_rps()),
                    rate(alone.decided_rps()),
                    during.shed
                ),
                met: self.signin_share() >= SIGNIN_SHARE,
            },
        ]
    }

    /// Alone, during, and what the targets say.
    pub fn render(&self) -> String {
        let (alone, during) = (signins(&self.signin_alone), signins(&self.signin_during));
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Password spray: sign-ins asked at {}/s ({:.0}× the argon2 ceiling of {}/s) on {} connections, \
             half to seeded users, one in four with the right password; GET /me on {} connections.\n",
            rate(self.asked_rps),
            self.asked_rps / self.ceiling_rps,
            rate(self.ceiling_rps),
            self.spray_connections,
            self.me_connections
        );
        let _ = writeln!(out, "| | alone | during the spray | share | target |\n|---|---:|---:|---:|---|");
        let me_share = self.me_share();
        let _ = writeln!(
            out,
            "| GET /me req/s | {} | {} | {:.0}% | ≥ {:.0}%: {} |",
            rate(self.me_alone.rps),
            rate(self.me_during.rps),
            100.0 * me_share,
            100.0 * ME_SHARE,
            verdict(me_share >= ME_SHARE)
        );
        let _ = writeln!(
            out,
            "| GET /me p99 (p50) | {} ({}) | {} ({}) | | < {ME_P99_MS:.0} ms: {} |",
            ms(self.me_alone.p99_ms),
            ms(self.me_alone.p50_ms),
            ms(self.me_during.p99_ms),
            ms(self.me_during.p50_ms),
            verdict(self.me_during.p99_ms < ME_P99_MS)
        );
        let signin_share = self.signin_share();
        let _ = writeln!(
            out,
            "| sign-ins decided/s (200 + 401) | {} | {} | {:.0}% | ≥ {:.0}%: {} |",
            rate(alone.decided_rps()),
            rate(during.decided_rps()),
            100.0 * signin_share,
            100.0 * SIGNIN_SHARE,
            verdict(signin_share >= SIGNIN_SHARE)
        );
        let _ = writeln!(out, "| sign-ins sent/s | {} | {} | | |", rate(alone.rps), rate(during.rps));
        let _ = writeln!(out, "| sign-ins shed (503), in all | {} | {} | | |", alone.shed, during.shed);
        let _ = writeln!(
            out,
            "| sign-in p99, every answer (p50) | {} ({}) | {} ({}) | | |",
            ms(alone.p99_ms),
            ms(alone.p50_ms),
            ms(during.p99_ms),
            ms(during.p50_ms)
        );
        let errors = |m: &Measured, c: &Class| m.errors - (c.refused + c.shed);
        let _ = writeln!(
            out,
            "| other errors (GET /me; sign-in) | {}; {} | {}; {} | | |\n",
            self.me_alone.errors,
            errors(&self.signin_alone, &alone),
            self.me_during.errors,
            errors(&self.signin_during, &during)
        );
        out
    }

    /// What `--compare` lists: the reads and the decided sign-ins during the spray.
    pub fn compared(&self) -> Vec<(&'static str, f64, f64)> {
        let during = signins(&self.signin_during);
        vec![
            ("spray: GET /me during", self.me_during.rps, self.me_during.p99_ms),
            ("spray: sign-ins decided during", during.decided_rps(), during.p99_ms),
        ]
    }
}

impl Bench<'_> {
    /// Measures `GET /me` alone, the spray alone, then both at once.
    pub(crate) async fn spray(&self, api: &Api, server: &Server, reads: &[seed::Pair]) -> Result<Spray> {
        let asked_rps = MULTIPLE * self.ceilings.signin_rps();
        let data = self.data_file(api, &SCENARIO, reads).await?;
        let me_args = [MAIN_APP.to_owned(), data.display().to_string(), "1".to_owned(), "me".to_owned()];
        let spray_args = [MAIN_APP.to_owned(), data.display().to_string(), "1".to_owned(), format!("{asked_rps:.0}")];
        let me = |seconds: u64| {
            self.wrk.start("read.lua", &server.base, self.args.connections, Duration::from_secs(seconds), &me_args)
        };
        let spray = |seconds: u64| {
            self.wrk.start("spray.lua", &server.base, CONNECTIONS, Duration::from_secs(seconds), &spray_args)
        };
        let outcome = async {
            if self.args.warmup > 0 {
                let (m, s) = (me(self.args.warmup)?, spray(self.args.warmup)?);
                m.wait()?;
                s.wait()?;
            }
            let me_alone = me(self.args.duration)?.wait()?;
            let signin_alone = spray(self.args.duration)?.wait()?;
            let (m, s) = (me(self.args.duration)?, spray(self.args.duration)?);
            let (me_during, signin_during) = (m.wait()?, s.wait()?);
            anyhow::Ok(Spray {
                asked_rps,
                ceiling_rps: self.ceilings.signin_rps(),
                spray_connections: CONNECTIONS,
                me_connections: self.args.connections,
                me_alone,
                signin_alone,
                me_during,
                signin_during,
            })
        }
        .await;
        std::fs::remove_file(&data).ok();
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(rps: f64, p99_ms: f64, signin: Option<(u64, u64, u64)>) -> Measured {
        let mut classes = std::collections::BTreeMap::new();
        if let Some((ok, refused, shed)) = signin {
            let class = Class { rps, ok, refused, shed, p99_ms, ..Class::default() };
            classes.insert("signin".to_owned(), class);
        }
        Measured {
            requests: 1,
            rps,
            mean_ms: 1.0,
            p50_ms: 1.0,
            p90_ms: 1.0,
            p99_ms,
            max_ms: p99_ms,
            errors: signin.map_or(0, |(_, refused, shed)| refused + shed),
            cpu_busy: 0.0,
            classes,
        }
    }

    #[test]
    fn targets_compare_each_side_with_itself_alone() {
        let spray = Spray {
            asked_rps: 500.0,
            ceiling_rps: 100.0,
            spray_connections: 128,
            me_connections: 32,
            me_alone: measured(40_000.0, 3.0, None),
            // 100 of 500 sent a second decided alone, 90 with the reads: 90%.
            signin_alone: measured(500.0, 200.0, Some((25, 75, 400))),
            me_during: measured(19_000.0, 19.0, None),
            signin_during: measured(500.0, 250.0, Some((20, 70, 410))),
        };
        let verdicts: Vec<bool> = spray.targets("sqlite").iter().map(|t| t.met).collect();
        assert_eq!(verdicts, [true, false, true], "p99 < 20 ms, 47.5% < 50%, 90% ≥ 90%");
        assert!((spray.signin_share() - 0.9).abs() < 1e-9);
        let table = spray.render();
        assert!(table.contains("| GET /me req/s | 40000 | 19000 | 48% | ≥ 50%: MISSED |"), "{table}");
        assert!(table.contains("| sign-ins shed (503), in all | 400 | 410 |"), "{table}");
        assert!(table.contains("| other errors (GET /me; sign-in) | 0; 0 | 0; 0 |"), "{table}");
    }
}
