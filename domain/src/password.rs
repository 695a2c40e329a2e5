//! argon2id password hashing with the OWASP parameters, always off the async runtime.

use std::sync::LazyLock;

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use self::admission::{Admission, Limits};

use crate::{Error, Result};

mod admission;
pub mod foreign;

pub use foreign::{FirebaseParams, Refused, Scheme};

/// m = 19 MiB, t = 2, p = 1 (OWASP's argon2id recommendation).
fn params() -> Result<Params> {
    Params::new(19_456, 2, 1, None).map_err(|e| Error::internal(anyhow::anyhow!("{e}")))
}

fn argon2() -> Result<Argon2<'static>> {
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params()?))
}

/// What an unknown user's password is verified against, so the answer takes as long as for
/// a known one: Rampart's parameters, a random salt and a random output. Verifying costs
/// exactly a real verify (the cost is in the parameters) and never matches (a 2^-256
/// chance), and making it costs nothing: no 19 MiB computed at start, none kept after.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| dummy_hash().unwrap_or_default());

fn dummy_hash() -> Result<String> {
    use rand::RngCore;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    rand::rngs::OsRng.fill_bytes(&mut out);
    Ok(own_phc(&salt, &out)?.to_string())
}

/// Rampart's own argon2id PHC string for `salt` and `out`.
fn own_phc<'a>(salt: &'a SaltString, out: &[u8]) -> Result<PasswordHash<'a>> {
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()?).map_err(|e| failed("params", e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(out).map_err(|e| failed("output", e))?),
    })
}

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(anyhow::anyhow!("{what}: {e}"))
}

/// `memory` is argon2's working area, reused across calls (see `Slots`); it grows to the
/// size the parameters need.
fn hash_blocking(password: &SecretString, memory: &mut Vec<Block>) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let argon2 = argon2()?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| failed("salt", e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory.resize(params()?.block_count(), Block::default());
    argon2
        .hash_password_into_with_memory(password.expose_secret().as_bytes(), salt_bytes, &mut out, &mut memory[..])
        .map_err(|e| failed("hashing failed", e))?;
    Ok(own_phc(&salt, &out)?.to_string())
}

fn verify_blocking(password: &SecretString, stored: Option<&str>, memory: &mut Vec<Block>) -> Result<bool> {
    let (hash, known) = match stored {
        Some(h) => (h, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    if foreign::scheme_of(hash).is_some_and(|s| s != Scheme::Argon2) {
        // A stored hash that cannot be verified is a wrong password, never a 500 for every
        // sign-in of that user.
        let ok = foreign::verify(password.expose_secret().as_bytes(), hash).unwrap_or(false);
        // An imported hash never answers faster than an unknown user's dummy verify: the
        // cheap schemes (PBKDF2 at passlib's defaults) would otherwise tell them apart.
        verify_argon2(password, &DUMMY_HASH, memory)?;
        return Ok(ok && known);
    }
    let ok = verify_argon2(password, hash, memory);
    // So do imported argon2 hashes with weaker parameters than Rampart's, and unreadable ones.
    if ok.is_err() || (known && needs_rehash(hash)) {
        verify_argon2(password, &DUMMY_HASH, memory)?;
    }
    Ok(ok.unwrap_or(false) && known)
}

/// Verifies against an argon2 PHC string of any variant and parameters. An imported hash
/// with more memory than Rampart's own gives its working area back afterwards, so the
/// threads keep `cores × 19 MiB` between computations.
fn verify_argon2(password: &SecretString, hash: &str, memory: &mut Vec<Block>) -> Result<bool> {
    let unreadable = |e: password_hash::Error| failed("stored hash unreadable", e);
    let parsed = PasswordHash::new(hash).map_err(unreadable)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(unreadable)?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| failed("stored hash version", e))?;
    let theirs = Params::try_from(&parsed).map_err(unreadable)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(failed("stored hash unreadable", "no salt or output"));
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(unreadable)?;
    memory.resize(theirs.block_count(), Block::default());
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), theirs);
    let mut out = vec![0u8; expected.len()];
    let computed = argon2.hash_password_into_with_memory(
        password.expose_secret().as_bytes(),
        salt_bytes,
        &mut out,
        &mut memory[..],
    );
    let own = params()?.block_count();
    if memory.len() > own {
        memory.truncate(own);
        memory.shrink_to_fit();
    }
    computed.map_err(|e| failed("verification failed", e))?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(unreadable)? == expected)
}

/// The scheme a stored hash is in, for the audit log (`argon2` for Rampart's own).
pub fn scheme_name(stored: &str) -> &'static str {
    foreign::scheme_of(stored).map_or("unknown", Scheme::as_str)
}

/// Whether a stored hash is other than Rampart's own argon2id with today's parameters: an
/// imported hash (or an older parameter set), replaced at the next successful sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    let current = params().ok().and_then(|p| ParamsString::try_from(&p).ok());
    parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13.into())
        || current.is_none_or(|c| c != parsed.params)
}

/// Hashes a password on an argon2 thread, as work of no app in particular.
pub async fn hash(password: SecretString) -> Result<String> {
    hash_for(NEUTRAL, password).await
}

/// Hashes a password on an argon2 thread, queued as `app`'s work (see `admission`).
pub async fn hash_for(app: Uuid, password: SecretString) -> Result<String> {
    on_a_core(admit(app)?, move |memory| hash_blocking(&password, memory)).await
}

/// Verifies a password on an argon2 thread, as work of no app in particular. With
/// `stored = None` (unknown user, or a user without a password) it verifies against a
/// dummy hash and answers `false`, in the same time.
pub async fn verify(password: SecretString, stored: Option<String>) -> Result<bool> {
    verify_for(NEUTRAL, password, stored).await
}

/// [`verify`], queued as `app`'s work (see `admission`).
pub async fn verify_for(app: Uuid, password: SecretString, stored: Option<String>) -> Result<bool> {
    verify_admitted(admit(app)?, password, stored).await
}

/// A place taken in the argon2 admission before the work's inputs are known (see [`admit`]).
#[must_use = "a place is given up when it is dropped"]
pub struct Admitted(admission::Entry, std::time::Instant);

/// Takes a place in `app`'s argon2 queue, or fails at once with `Unavailable` when the
/// queue is full. A sign-in asks before it looks the user up: a refused one then costs no
/// store read, and whether it is refused cannot depend on who it names.
pub fn admit(app: Uuid) -> Result<Admitted> {
    match WORKERS.admission.enter(app) {
        Ok(entry) => Ok(Admitted(entry, std::time::Instant::now())),
        Err(e) => {
            crate::telemetry::argon2_refused();
            Err(e)
        }
    }
}

/// How many password computations wait for an argon2 thread now (`/metrics`).
pub fn queue_depth() -> usize {
    WORKERS.admission.waiting()
}

/// [`verify_for`] in a place taken with [`admit`].
pub async fn verify_admitted(place: Admitted, password: SecretString, stored: Option<String>) -> Result<bool> {
    on_a_core(place, move |memory| verify_blocking(&password, stored.as_deref(), memory)).await
}

// ---- Where argon2 runs: admission, its own threads, their working areas ----

/// The admission key of password work done for no app in particular (the bench, an
/// unknown app's sign-in).
pub const NEUTRAL: Uuid = Uuid::nil();

/// Where argon2 runs: how many threads (one computation each at a time), and how many nice
/// levels below the thread that started them (see `Workers`; each level is about 10% less
/// CPU when the two compete; a negative number is that many above, which Linux allows only a
/// process with `CAP_SYS_NICE` or a matching `RLIMIT_NICE`). Set once, before the first
/// password is hashed ([`configure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// `None`: one per core.
    pub threads: Option<usize>,
    pub nice: i32,
}

impl Pool {
    pub const DEFAULT_NICE: i32 = 5;
}

impl Default for Pool {
    fn default() -> Pool {
        Pool { threads: None, nice: Pool::DEFAULT_NICE }
    }
}

static POOL: std::sync::OnceLock<Pool> = std::sync::OnceLock::new();

/// Sets the argon2 pool; answers false (and changes nothing) once the pool has been set or
/// has started with the defaults.
pub fn configure(pool: Pool) -> bool {
    POOL.set(pool).is_ok()
}

/// Work for an argon2 thread, given that thread's working area.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// At most one argon2 computation per core at a time, on threads of its own, one per
/// core, each with a working area kept from its last computation: a burst of sign-ins
/// waits in the admission queue instead of starting a thread and allocating — and
/// page-faulting — 19 MiB each. Memory stays at cores × 19 MiB. Waiting is per app,
/// served in turn, and bounded (`admission`): past the bound a request is refused at once
/// with `Unavailable`.
///
/// By default the threads run at a lower scheduling priority (`Pool::nice`) than the
/// runtime's: a storm of sign-ins keeps every one of them busy, and at equal priority the
/// kernel would share each core between them and the threads serving reads, whose answers
/// then wait behind a verify's time slice. Lower, argon2 takes what the requests leave;
/// fewer threads than cores at a higher priority instead keep those cores for sign-ins and
/// the rest for everything else (see [`place`]).
struct Workers {
    admission: Admission,
    jobs: std::sync::mpsc::Sender<Job>,
    /// Whether every thread moved its priority as `Pool::nice` asked.
    placed: bool,
}

static WORKERS: LazyLock<Workers> = LazyLock::new(|| {
    let pool = *POOL.get_or_init(Pool::default);
    let threads = pool.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let limits = Limits::for_cores(threads);
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
    let (report, reports) = std::sync::mpsc::channel::<bool>();
    let mut started_threads = 0;
    for n in 0..limits.running {
        let queue = queue.clone();
        let report = report.clone();
        let started = std::thread::Builder::new().name(format!("rampart-argon2-{n}")).spawn(move || {
            let _ = report.send(set_priority(pool.nice));
            drop(report);
            let mut area = Vec::new();
            loop {
                let job = match queue.lock() {
                    Ok(queue) => queue.recv(),
                    Err(poisoned) => poisoned.into_inner().recv(),
                };
                let Ok(job) = job else { return };
                // A panic ends the job (its caller gets an internal error), not the thread.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut area)));
            }
        });
        match started {
            Ok(_) => started_threads += 1,
            Err(e) => tracing::error!(error = %e, "could not start an argon2 thread"),
        }
    }
    drop(report);
    // Each thread says as it starts: `place` knows where they are before it moves its caller.
    let placed = reports.iter().take(started_threads).filter(|placed| !placed).count() == 0;
    Workers { admission: Admission::new(limits), jobs, placed }
});

/// Where argon2 ended up against the rest of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Its threads moved themselves by `Pool::nice`.
    AsAsked,
    /// Raising them was refused, so the calling thread (and every thread it starts from now
    /// on) runs this many levels lower instead.
    RestLowered(i32),
    /// Neither could move: argon2 runs at the same priority as the rest.
    Unplaced,
}

/// Starts the argon2 threads now (they otherwise start with the first password), each
/// moving itself the configured `Pool::nice` levels, and answers where they ended up. A
/// thread's nice value is inherited from the thread that starts it: when a negative `nice`
/// cannot raise them (no `CAP_SYS_NICE`), the calling thread lowers itself by as much instead,
/// which is the same order between the two for every thread it starts from then on. Call it
/// after [`configure`] and before starting the threads that serve requests (the runtime's).
pub fn place() -> Placement {
    let nice = POOL.get_or_init(Pool::default).nice;
    place_after(WORKERS.placed, nice)
}

fn place_after(placed: bool, nice: i32) -> Placement {
    if placed {
        return Placement::AsAsked;
    }
    if nice >= 0 {
        return Placement::Unplaced;
    }
    match move_priority(-nice) {
        Ok(()) => Placement::RestLowered(-nice),
        Err(_) => Placement::Unplaced,
    }
}

/// Moves the calling argon2 thread's priority `nice` levels down (up when negative; Linux
/// keeps a nice value per thread, inherited from the thread that started it); false when it
/// could not, and argon2 then runs at the priority it started with.
fn set_priority(nice: i32) -> bool {
    move_priority(nice)
        .map_err(|e| tracing::debug!(error = %e, nice, "could not move an argon2 thread's priority"))
        .is_ok()
}

/// Moves the calling thread's nice value by `by` levels (clamped to Linux's −20..=19).
/// Lowering needs no privilege, raising needs `CAP_SYS_NICE` (or `RLIMIT_NICE`); elsewhere
/// than Linux, nothing moves.
pub fn move_priority(by: i32) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if by != 0 {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        getpriority_process(me).and_then(|now| setpriority_process(me, (now + by).clamp(-20, 19)))?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = by;
    Ok(())
}

async fn on_a_core<T: Send + 'static>(
    place: Admitted,
    work: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
) -> Result<T> {
    let slot = place.0.await;
    crate::telemetry::argon2_waited(place.1.elapsed());
    let (done, outcome) = tokio::sync::oneshot::channel();
    // The slot goes with the work: if the caller goes away meanwhile, it is still held until
    // the computation ends, so no more than one runs per core.
    let job: Job = Box::new(move |area| {
        let result = work(area);
        drop(slot);
        let _ = done.send(result);
    });
    WORKERS.jobs.send(job).map_err(|_| Error::internal(anyhow::anyhow!("no argon2 thread is running")))?;
    outcome.await.map_err(|_| Error::internal(anyhow::anyhow!("an argon2 computation panicked")))?
}

/// Makes the dummy hash (random bytes, no argon2) before the first sign-in asks for it.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verify_and_dummy() {
        let h = hash(SecretString::from("CorrectHorseBatteryStaple")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(SecretString::from("CorrectHorseBatteryStaple"), Some(h.clone())).await.unwrap());
        assert!(!verify(SecretString::from("wrong"), Some(h)).await.unwrap());
        assert!(!verify(SecretString::from("rampart-dummy-password-for-timing"), None).await.unwrap());
        // The dummy is a well-formed hash with today's parameters (so a verify against it
        // costs what a real one does), not one of a password.
        warm_up();
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", *DUMMY_HASH);
        assert!(!needs_rehash(&DUMMY_HASH));
        assert!(!verify(SecretString::from(""), Some(DUMMY_HASH.clone())).await.unwrap());
    }

    /// The reused working area changes nothing: hashes are standard PHC strings that the
    /// argon2 crate's own verifier accepts, and hashes it made (other parameters included,
    /// as after a future parameter change or an import) verify here.
    #[tokio::test]
    async fn interoperates_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash(SecretString::from("pässwörd")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon2().unwrap().verify_password("pässwörd".as_bytes(), &parsed).is_ok());
        assert!(argon2().unwrap().verify_password(b"passwoerd", &parsed).is_err());

        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        for (m, t, p) in [(19_456, 2, 1), (8_192, 3, 1), (4_096, 1, 2)] {
            let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, t, p, None).unwrap());
            let theirs = other.hash_password(b"CorrectHorse", &salt).unwrap().to_string();
            assert!(verify(SecretString::from("CorrectHorse"), Some(theirs.clone())).await.unwrap(), "{theirs}");
            assert!(!verify(SecretString::from("correcthorse"), Some(theirs)).await.unwrap());
        }
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(4_096, 3, 1, None).unwrap())
            .hash_password(b"legacy", &salt)
            .unwrap()
            .to_string();
        assert!(verify(SecretString::from("legacy"), Some(argon2i)).await.unwrap());
    }

    #[tokio::test]
    async fn unreadable_hashes_never_match() {
        // A wrong password as far as the caller can tell (after the dummy verify), so one
        // broken stored hash is not a 500 at each of that user's sign-ins.
        for bad in [
            "",
            "plaintext",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
            "$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(!verify(SecretString::from("x"), Some(bad.into())).await.unwrap(), "{bad}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_the_working_areas() {
        let h = hash(SecretString::from("shared")).await.unwrap();
        let checks: Vec<_> = (0..8)
            .map(|i| {
                let h = h.clone();
                tokio::spawn(async move {
                    verify(SecretString::from(if i % 2 == 0 { "shared" } else { "other" }), Some(h)).await
                })
            })
            .collect();
        for (i, c) in checks.into_iter().enumerate() {
            assert_eq!(c.await.unwrap().unwrap(), i % 2 == 0);
        }
    }

    /// argon2 runs on its own threads, at a lower priority than the runtime's.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn argon2_runs_on_its_own_lower_priority_threads() {
        let nice_here = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let (name, nice) = on_a_core(admit(NEUTRAL).unwrap(), move |_| {
            Ok((std::thread::current().name().map(str::to_owned), nice_here()))
        })
        .await
        .unwrap();
        assert!(name.unwrap().starts_with("rampart-argon2-"));
        assert_eq!(nice, (nice_here() + Pool::DEFAULT_NICE).min(19), "the caller's thread keeps its priority");
    }

    /// Without `CAP_SYS_NICE` a thread may not raise itself, so a negative nice lowers the
    /// caller instead, by as much: argon2 (left where it started) is then above it. Run on a
    /// thread of its own, which drops the capability for itself alone (Linux keeps
    /// capabilities and nice values per thread).
    #[cfg(target_os = "linux")]
    #[test]
    fn without_the_privilege_the_rest_is_lowered_instead() {
        use rustix::thread::{capabilities, set_capabilities, CapabilitySet};
        std::thread::spawn(|| {
            let nice_here = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
            let mut caps = capabilities(None).unwrap();
            caps.effective -= CapabilitySet::SYS_NICE;
            caps.permitted -= CapabilitySet::SYS_NICE;
            set_capabilities(None, caps).unwrap();
            let before = nice_here();
            if before > -20 {
                assert!(move_priority(-1).is_err(), "raising needs the privilege");
            }
            assert_eq!(nice_here(), before);
            if before <= 16 {
                assert_eq!(place_after(false, -3), Placement::RestLowered(3));
                assert_eq!(nice_here(), before + 3);
            }
            let after = nice_here();
            assert_eq!(place_after(true, -3), Placement::AsAsked, "argon2 moved itself: nothing else moves");
            assert_eq!(place_after(false, 5), Placement::Unplaced, "a failed lowering is not made up for");
            assert_eq!(nice_here(), after);
        })
        .join()
        .unwrap();
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_and_the_threads_go_on() {
        let panicked = on_a_core(admit(NEUTRAL).unwrap(), |_| -> Result<()> { panic!("argon2 never does this") }).await;
        assert!(matches!(panicked, Err(Error::Internal(_))), "{panicked:?}");
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        for _ in 0..2 * cores {
            assert!(on_a_core(admit(NEUTRAL).unwrap(), |_| Ok(true)).await.unwrap());
        }
    }
}
