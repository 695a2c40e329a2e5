//! The physical limits, measured in this process with Rampart's own code: one argon2id
//! verify and hash with its parameters, and one JWT signature per algorithm.

use std::time::{Duration, Instant};

use anyhow::Result;
use domain::crypto::MasterKey;
use domain::keys::{generate, Signer, SigningAlg};
use domain::tokens::Claims;
use secrecy::SecretString;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Ceilings {
    pub cores: usize,
    /// One argon2id verify (m=19456, t=2, p=1), median.
    pub argon2_verify_ms: f64,
    pub argon2_hash_ms: f64,
    /// Verifies a second with every core verifying at once, as the server runs them: below
    /// `cores / verify time` by what the cores' shared memory bandwidth takes away.
    pub argon2_parallel_rps: f64,
    /// One access-token signature (claims serialised, signed, encoded), median, per algorithm.
    pub sign_us: Vec<(String, f64)>,
}

impl Ceilings {
    /// Sign-ins a second if every core did nothing but verify.
    pub fn signin_rps(&self) -> f64 {
        self.cores as f64 * 1000.0 / self.argon2_verify_ms
    }

    pub fn signup_rps(&self) -> f64 {
        self.cores as f64 * 1000.0 / self.argon2_hash_ms
    }

    /// One signature with `alg`, in microseconds, if it was measured.
    pub fn sign_us_of(&self, alg: SigningAlg) -> Option<f64> {
        self.sign_us.iter().find(|(a, _)| a == alg.as_str()).map(|(_, us)| *us)
    }

    /// Refreshes a second if every core did nothing but sign.
    pub fn refresh_rps(&self, alg: SigningAlg) -> f64 {
        self.cores as f64 * 1_000_000.0 / self.sign_us_of(alg).unwrap_or(f64::NAN)
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub async fn measure() -> Result<Ceilings> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let password = "CorrectHorseBatteryStaple";
    let hash = domain::password::hash(SecretString::from(password)).await?;
    let mut verify = Vec::new();
    let mut hashing = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let ok = domain::password::verify(SecretString::from(password), Some(hash.clone())).await?;
        verify.push(started.elapsed());
        anyhow::ensure!(ok, "argon2 verify failed on its own hash");
        let started = Instant::now();
        domain::password::hash(SecretString::from(password)).await?;
        hashing.push(started.elapsed());
    }

    // All cores at once, through the same bounded pool the server uses: one round first, so
    // that every core's working area exists (as in a server that has been up a while).
    let all_cores = |rounds: usize| {
        let hash = hash.clone();
        async move {
            let running: Vec<_> = (0..rounds)
                // One admission key each: the server's bound on one app's queue would refuse
                // a burst this large from a single key (it admits them all in turn).
                .map(|i| {
                    let key = uuid::Uuid::from_u128(i as u128 + 1);
                    tokio::spawn(domain::password::verify_for(key, SecretString::from(password), Some(hash.clone())))
                })
                .collect();
            for r in running {
                anyhow::ensure!(r.await??, "argon2 verify failed on its own hash");
            }
            anyhow::Ok(())
        }
    };
    all_cores(cores).await?;
    let rounds = 12 * cores;
    let started = Instant::now();
    all_cores(rounds).await?;
    let argon2_parallel_rps = rounds as f64 / started.elapsed().as_secs_f64();

    let master = MasterKey::from_base64(&MasterKey::generate_base64()).map_err(anyhow::Error::msg)?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        iss: "http://127.0.0.1:3000/bench".into(),
        aud: "bench".into(),
        sub: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + 3600,
        jti: uuid::Uuid::new_v4().to_string(),
        sid: uuid::Uuid::new_v4().to_string(),
        role: "member".into(),
        org: None,
        org_role: None,
        client_id: None,
        scope: None,
    };
    let mut sign_us = Vec::new();
    for alg in SigningAlg::ALL {
        let key = generate(alg, &master)?;
        let signer = Signer::open(&master, &key.kid, key.alg, &key.private_sealed)?;
        let batch = 200;
        let mut samples = Vec::new();
        for _ in 0..11 {
            let started = Instant::now();
            for _ in 0..batch {
                std::hint::black_box(signer.sign(&claims)?);
            }
            samples.push(started.elapsed() / batch);
        }
        sign_us.push((alg.as_str().to_owned(), median(samples).as_secs_f64() * 1e6));
    }
    Ok(Ceilings {
        cores,
        argon2_verify_ms: median(verify).as_secs_f64() * 1e3,
        argon2_hash_ms: median(hashing).as_secs_f64() * 1e3,
        argon2_parallel_rps,
        sign_us,
    })
}
