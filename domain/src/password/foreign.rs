//! Password hashes made by other systems, accepted on import and verified with their own
//! scheme until the user's next sign-in replaces them with Rampart's argon2id.
//!
//! Accepted: argon2 (any variant and parameters, PHC), bcrypt (`$2a$`, `$2b$`, `$2y$`),
//! scrypt (PHC `$scrypt$`, as passlib and RustCrypto write it), Firebase's modified scrypt
//! (stored as `$firebase-scrypt$…`, with the project's signer key and salt separator it
//! needs), PBKDF2-SHA256 (passlib's `$pbkdf2-sha256$rounds$…` and RustCrypto's PHC form) and
//! Django's `pbkdf2_sha256$iterations$salt$hash`. Parameters are bounded, so that no
//! imported hash makes a sign-in cost more than a few hundred megabytes or seconds.

use argon2::password_hash::PasswordHash;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use subtle::ConstantTimeEq;

/// A hash scheme Rampart verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2,
    Bcrypt,
    Scrypt,
    FirebaseScrypt,
    Pbkdf2Sha256,
    DjangoPbkdf2Sha256,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Argon2 => "argon2",
            Scheme::Bcrypt => "bcrypt",
            Scheme::Scrypt => "scrypt",
            Scheme::FirebaseScrypt => "firebase-scrypt",
            Scheme::Pbkdf2Sha256 => "pbkdf2-sha256",
            Scheme::DjangoPbkdf2Sha256 => "django-pbkdf2-sha256",
        }
    }
}

/// Most memory one verification may take (argon2's `m`, scrypt's `128·r·N`).
const MAX_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
const MAX_ARGON2_PASSES: u32 = 16;
const MAX_PARALLELISM: u32 = 16;
const MAX_BCRYPT_COST: u32 = 15;
const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;
/// argon2's work, memory (KiB) times passes: 256 MiB × 4, 64 MiB × 16 (Rampart's own is
/// 19 MiB × 2).
const MAX_ARGON2_WORK: u64 = 1 << 20;
/// scrypt's work, N·r·p: ln=20 with r=8 (Firebase's default is ln=14, r=8, passlib's ln=16).
const MAX_SCRYPT_WORK: u64 = 1 << 23;
/// scrypt's block size: 8 everywhere in practice; a huge `r` with a tiny `N` would make
/// its other buffers (128·r·p bytes) the cost.
const MAX_SCRYPT_R: u32 = 32;
const FIREBASE_PREFIX: &str = "$firebase-scrypt$";

/// Why an imported hash is refused: `code` is the machine code reported for the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

fn unknown(message: impl Into<String>) -> Refused {
    Refused { code: "UNKNOWN_HASH_FORMAT", message: message.into() }
}

fn malformed(scheme: Scheme, what: impl std::fmt::Display) -> Refused {
    Refused { code: "INVALID_HASH", message: format!("{} hash is malformed: {what}", scheme.as_str()) }
}

fn too_costly(scheme: Scheme, what: impl std::fmt::Display) -> Refused {
    Refused {
        code: "HASH_TOO_COSTLY",
        message: format!("{} parameters are beyond what Rampart verifies: {what}", scheme.as_str()),
    }
}

/// The scheme of a stored hash, from its form alone.
pub fn scheme_of(stored: &str) -> Option<Scheme> {
    if stored.starts_with("$argon2") {
        Some(Scheme::Argon2)
    } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| stored.starts_with(p)) {
        Some(Scheme::Bcrypt)
    } else if stored.starts_with("$scrypt$") {
        Some(Scheme::Scrypt)
    } else if stored.starts_with(FIREBASE_PREFIX) {
        Some(Scheme::FirebaseScrypt)
    } else if stored.starts_with("$pbkdf2-sha256$") {
        Some(Scheme::Pbkdf2Sha256)
    } else if stored.starts_with("pbkdf2_sha256$") {
        Some(Scheme::DjangoPbkdf2Sha256)
    } else {
        None
    }
}

/// Checks an imported hash without verifying anything: a scheme Rampart knows, well formed,
/// parameters within bounds. The hash is then stored as it is.
pub fn accept(hash: &str) -> Result<Scheme, Refused> {
    let scheme = scheme_of(hash).ok_or_else(|| {
        unknown("password_hash is in no format Rampart imports (argon2, bcrypt, scrypt, firebase-scrypt, pbkdf2-sha256, Django pbkdf2_sha256)")
    })?;
    match scheme {
        Scheme::Argon2 => argon2_params(hash).map(|_| ()),
        Scheme::Bcrypt => bcrypt_cost(hash).map(|_| ()),
        Scheme::Scrypt => Phc::parse(hash, scheme).and_then(|p| p.scrypt_params()).map(|_| ()),
        Scheme::FirebaseScrypt => Firebase::parse(hash).map(|_| ()),
        Scheme::Pbkdf2Sha256 => Pbkdf2::parse_phc(hash).map(|_| ()),
        Scheme::DjangoPbkdf2Sha256 => Pbkdf2::parse_django(hash).map(|_| ()),
    }?;
    Ok(scheme)
}

/// Verifies `password` against a stored hash of any scheme but argon2 (which `password.rs`
/// runs on its reused working area). Err when the hash is unreadable.
pub fn verify(password: &[u8], stored: &str) -> Result<bool, Refused> {
    match accept(stored)? {
        Scheme::Argon2 => Err(unknown("argon2 is verified by the argon2 path")),
        Scheme::Bcrypt => bcrypt::verify(password, stored).map_err(|e| malformed(Scheme::Bcrypt, e)),
        Scheme::Scrypt => {
            let phc = Phc::parse(stored, Scheme::Scrypt)?;
            let params = phc.scrypt_params()?;
            let mut out = vec![0u8; phc.hash.len()];
            scrypt::scrypt(password, &phc.salt, &params, &mut out).map_err(|e| malformed(Scheme::Scrypt, e))?;
            Ok(bool::from(out.ct_eq(&phc.hash)))
        }
        Scheme::FirebaseScrypt => Firebase::parse(stored)?.verify(password),
        Scheme::Pbkdf2Sha256 => Ok(Pbkdf2::parse_phc(stored)?.verify(password)),
        Scheme::DjangoPbkdf2Sha256 => Ok(Pbkdf2::parse_django(stored)?.verify(password)),
    }
}

/// Checks an argon2 PHC string's parameters against the bounds.
fn argon2_params(hash: &str) -> Result<argon2::Params, Refused> {
    let parsed = PasswordHash::new(hash).map_err(|e| malformed(Scheme::Argon2, e))?;
    argon2::Algorithm::try_from(parsed.algorithm).map_err(|e| malformed(Scheme::Argon2, e))?;
    if let Some(v) = parsed.version {
        argon2::Version::try_from(v).map_err(|e| malformed(Scheme::Argon2, e))?;
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(malformed(Scheme::Argon2, "no salt or output"));
    }
    let params = argon2::Params::try_from(&parsed).map_err(|e| malformed(Scheme::Argon2, e))?;
    if u64::from(params.m_cost()) * 1024 > MAX_MEMORY_BYTES {
        return Err(too_costly(Scheme::Argon2, format!("m={} KiB", params.m_cost())));
    }
    let work = u64::from(params.m_cost()) * u64::from(params.t_cost());
    if params.t_cost() > MAX_ARGON2_PASSES || params.p_cost() > MAX_PARALLELISM || work > MAX_ARGON2_WORK {
        return Err(too_costly(Scheme::Argon2, format!("t={}, p={}", params.t_cost(), params.p_cost())));
    }
    Ok(params)
}

/// The memory an argon2 hash's verification takes, in argon2 blocks (none when unreadable).
pub fn argon2_blocks(hash: &str) -> Option<usize> {
    argon2_params(hash).ok().map(|p| p.block_count())
}

/// `$2b$12$<22 salt chars><31 hash chars>`.
fn bcrypt_cost(hash: &str) -> Result<u32, Refused> {
    let parts: Vec<&str> = hash.split('$').collect();
    let [_, _, cost, rest] = parts.as_slice() else {
        return Err(malformed(Scheme::Bcrypt, "expected $2b$cost$salthash"));
    };
    let cost: u32 = cost.parse().map_err(|_| malformed(Scheme::Bcrypt, "cost is not a number"))?;
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/';
    if rest.len() != 53 || !rest.chars().all(b64) {
        return Err(malformed(Scheme::Bcrypt, "salt and hash must be 53 characters of bcrypt's base64"));
    }
    if !(4..=31).contains(&cost) {
        return Err(malformed(Scheme::Bcrypt, "cost must be 4-31"));
    }
    if cost > MAX_BCRYPT_COST {
        return Err(too_costly(Scheme::Bcrypt, format!("cost {cost} (at most {MAX_BCRYPT_COST})")));
    }
    Ok(cost)
}

/// Fields of a `$name$params$salt$hash` string; salt and hash in (unpadded) base64, with
/// passlib's `.` for `+` accepted.
struct Phc {
    params: Vec<(String, String)>,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn b64(raw: &str) -> Option<Vec<u8>> {
    let raw = raw.replace('.', "+");
    STANDARD_NO_PAD.decode(raw.trim_end_matches('=')).ok()
}

impl Phc {
    fn parse(hash: &str, scheme: Scheme) -> Result<Phc, Refused> {
        let parts: Vec<&str> = hash.split('$').collect();
        let [_, _, params, salt, out] = parts.as_slice() else {
            return Err(malformed(scheme, "expected $name$parameters$salt$hash"));
        };
        let params = params
            .split(',')
            .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed(scheme, "parameters must be name=value"))?;
        let salt = b64(salt).ok_or_else(|| malformed(scheme, "salt is not base64"))?;
        let hash = b64(out).ok_or_else(|| malformed(scheme, "hash is not base64"))?;
        if salt.is_empty() || hash.len() < 16 || hash.len() > 128 {
            return Err(malformed(scheme, "salt is empty or the hash is not 16-128 bytes"));
        }
        Ok(Phc { params, salt, hash })
    }

    fn number(&self, name: &str, scheme: Scheme) -> Result<u32, Refused> {
        let value = self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        value
            .ok_or_else(|| malformed(scheme, format!("no {name}")))?
            .parse()
            .map_err(|_| malformed(scheme, format!("{name} is not a number")))
    }

    fn scrypt_params(&self) -> Result<scrypt::Params, Refused> {
        let (ln, r, p) =
            (self.number("ln", Scheme::Scrypt)?, self.number("r", Scheme::Scrypt)?, self.number("p", Scheme::Scrypt)?);
        scrypt_params(Scheme::Scrypt, ln, r, p, self.hash.len())
    }
}

fn scrypt_params(scheme: Scheme, log_n: u32, r: u32, p: u32, len: usize) -> Result<scrypt::Params, Refused> {
    if !(1..=31).contains(&log_n) || r == 0 || p == 0 {
        return Err(malformed(scheme, "ln must be 1-31, r and p at least 1"));
    }
    // scrypt allocates 128·r·N for its table and 128·r·(p + 1) beside it.
    let blocks = (1u64 << log_n).saturating_add(u64::from(p)).saturating_add(2);
    let memory = 128u64.saturating_mul(u64::from(r)).saturating_mul(blocks);
    let work = (1u64 << log_n).saturating_mul(u64::from(r)).saturating_mul(u64::from(p));
    if memory > MAX_MEMORY_BYTES || p > MAX_PARALLELISM || r > MAX_SCRYPT_R || work > MAX_SCRYPT_WORK {
        return Err(too_costly(scheme, format!("ln={log_n}, r={r}, p={p}")));
    }
    let log_n = u8::try_from(log_n).map_err(|_| malformed(scheme, "ln"))?;
    scrypt::Params::new(log_n, r, p, len).map_err(|e| malformed(scheme, e))
}

/// PBKDF2-HMAC-SHA256 with a salt and an expected output.
struct Pbkdf2 {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Pbkdf2 {
    /// passlib's `$pbkdf2-sha256$29000$salt$hash` or RustCrypto's `$pbkdf2-sha256$i=…,l=…$salt$hash`.
    fn parse_phc(hash: &str) -> Result<Pbkdf2, Refused> {
        let scheme = Scheme::Pbkdf2Sha256;
        let parts: Vec<&str> = hash.split('$').collect();
        let [_, _, rounds, ..] = parts.as_slice() else {
            return Err(malformed(scheme, "expected $pbkdf2-sha256$rounds$salt$hash"));
        };
        let (iterations, phc) = if rounds.contains('=') {
            let phc = Phc::parse(hash, scheme)?;
            (phc.number("i", scheme)?, phc)
        } else {
            let rewritten = hash.replacen(&format!("${rounds}$"), "$i=0$", 1);
            let phc = Phc::parse(&rewritten, scheme)?;
            (rounds.parse().map_err(|_| malformed(scheme, "rounds is not a number"))?, phc)
        };
        Pbkdf2::bounded(scheme, iterations, phc.salt, phc.hash)
    }

    /// Django's `pbkdf2_sha256$iterations$salt$hash`: the salt is used as the text it is, the
    /// hash is padded base64 of 32 bytes.
    fn parse_django(hash: &str) -> Result<Pbkdf2, Refused> {
        let scheme = Scheme::DjangoPbkdf2Sha256;
        let parts: Vec<&str> = hash.split('$').collect();
        let [_, iterations, salt, out] = parts.as_slice() else {
            return Err(malformed(scheme, "expected pbkdf2_sha256$iterations$salt$hash"));
        };
        let iterations = iterations.parse().map_err(|_| malformed(scheme, "iterations is not a number"))?;
        let hash = STANDARD.decode(out).map_err(|_| malformed(scheme, "hash is not base64"))?;
        if salt.is_empty() || hash.len() != 32 {
            return Err(malformed(scheme, "salt is empty or the hash is not 32 bytes"));
        }
        Pbkdf2::bounded(scheme, iterations, salt.as_bytes().to_vec(), hash)
    }

    fn bounded(scheme: Scheme, iterations: u32, salt: Vec<u8>, hash: Vec<u8>) -> Result<Pbkdf2, Refused> {
        if iterations == 0 {
            return Err(malformed(scheme, "iterations must be at least 1"));
        }
        if iterations > MAX_PBKDF2_ITERATIONS {
            return Err(too_costly(scheme, format!("{iterations} iterations (at most {MAX_PBKDF2_ITERATIONS})")));
        }
        // One SHA-256 block of output: a longer one multiplies the iterations.
        if hash.len() != 32 {
            return Err(malformed(scheme, "the hash must be 32 bytes (PBKDF2-SHA256's own length)"));
        }
        Ok(Pbkdf2 { iterations, salt, hash })
    }

    fn verify(&self, password: &[u8]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &self.salt, self.iterations, &mut out);
        bool::from(out.ct_eq(&self.hash))
    }
}

/// The project-wide parameters of a Firebase Auth export (`hash_config` in the console's
/// "password hash parameters"), given once per import.
#[derive(Clone, PartialEq, Eq)]
pub struct FirebaseParams {
    pub signer_key: Vec<u8>,
    pub salt_separator: Vec<u8>,
    pub rounds: u32,
    pub mem_cost: u32,
}

impl std::fmt::Debug for FirebaseParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirebaseParams")
            .field("signer_key", &"[redacted]")
            .field("rounds", &self.rounds)
            .field("mem_cost", &self.mem_cost)
            .finish()
    }
}

impl FirebaseParams {
    /// From the base64 values Firebase's console shows.
    pub fn parse(
        signer_key: &str,
        salt_separator: &str,
        rounds: u32,
        mem_cost: u32,
    ) -> Result<FirebaseParams, Refused> {
        let scheme = Scheme::FirebaseScrypt;
        let signer_key =
            STANDARD.decode(signer_key.trim()).map_err(|_| malformed(scheme, "signer key is not base64"))?;
        let salt_separator =
            STANDARD.decode(salt_separator.trim()).map_err(|_| malformed(scheme, "salt separator is not base64"))?;
        if signer_key.is_empty() || signer_key.len() > 256 {
            return Err(malformed(scheme, "signer key must be 1-256 bytes"));
        }
        scrypt_params(scheme, mem_cost, rounds, 1, 64)?;
        Ok(FirebaseParams { signer_key, salt_separator, rounds, mem_cost })
    }

    /// The stored form of one user's Firebase hash and salt (base64, as exported): the
    /// project's parameters travel with it, since verifying needs them.
    pub fn stored(&self, hash: &str, salt: &str) -> Result<String, Refused> {
        let scheme = Scheme::FirebaseScrypt;
        let hash = STANDARD.decode(hash.trim()).map_err(|_| malformed(scheme, "password_hash is not base64"))?;
        let salt = STANDARD.decode(salt.trim()).map_err(|_| malformed(scheme, "password_salt is not base64"))?;
        if hash.len() != self.signer_key.len() {
            return Err(malformed(scheme, "password_hash is not as long as the signer key"));
        }
        Ok(format!(
            "{FIREBASE_PREFIX}ln={},r={}${}${}${}${}",
            self.mem_cost,
            self.rounds,
            STANDARD.encode(&self.salt_separator),
            STANDARD.encode(&self.signer_key),
            STANDARD.encode(salt),
            STANDARD.encode(hash)
        ))
    }
}

/// A stored Firebase hash: the project's parameters, the user's salt and hash.
struct Firebase {
    params: FirebaseParams,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Firebase {
    fn parse(stored: &str) -> Result<Firebase, Refused> {
        let scheme = Scheme::FirebaseScrypt;
        let parts: Vec<&str> = stored.split('$').collect();
        let [_, _, cost, separator, key, salt, hash] = parts.as_slice() else {
            return Err(malformed(scheme, "expected $firebase-scrypt$ln=…,r=…$separator$signer_key$salt$hash"));
        };
        let phc = Phc {
            params: cost
                .split(',')
                .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                .collect(),
            salt: Vec::new(),
            hash: Vec::new(),
        };
        let params = FirebaseParams::parse(key, separator, phc.number("r", scheme)?, phc.number("ln", scheme)?)?;
        let salt = STANDARD.decode(salt).map_err(|_| malformed(scheme, "salt is not base64"))?;
        let hash = STANDARD.decode(hash).map_err(|_| malformed(scheme, "hash is not base64"))?;
        if hash.len() != params.signer_key.len() {
            return Err(malformed(scheme, "hash is not as long as the signer key"));
        }
        Ok(Firebase { params, salt, hash })
    }

    /// Firebase's algorithm: scrypt(password, salt ‖ separator, N = 2^mem_cost, r = rounds,
    /// p = 1, 64 bytes); its first 32 bytes are the AES-256 key that encrypts the signer key
    /// in CTR mode from a zero counter; the ciphertext is the hash.
    fn verify(&self, password: &[u8]) -> Result<bool, Refused> {
        use aes::cipher::{KeyIvInit, StreamCipher};
        let scheme = Scheme::FirebaseScrypt;
        let params = scrypt_params(scheme, self.params.mem_cost, self.params.rounds, 1, 64)?;
        let mut salt = self.salt.clone();
        salt.extend_from_slice(&self.params.salt_separator);
        let mut derived = [0u8; 64];
        scrypt::scrypt(password, &salt, &params, &mut derived).map_err(|e| malformed(scheme, e))?;
        let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new(derived[..32].into(), &[0u8; 16].into());
        let mut block = self.params.signer_key.clone();
        cipher.apply_keystream(&mut block);
        Ok(bool::from(block.ct_eq(&self.hash)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example Firebase publishes with its scrypt (firebase/scrypt's README).
    #[test]
    fn firebase_published_example() {
        let params = FirebaseParams::parse(
            "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
            "Bw==",
            8,
            14,
        )
        .unwrap();
        let stored = params
            .stored(
                "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
                "42xEC+ixf3L2lw==",
            )
            .unwrap();
        assert_eq!(accept(&stored), Ok(Scheme::FirebaseScrypt));
        assert_eq!(verify(b"user1password", &stored), Ok(true));
        assert_eq!(verify(b"user1Password", &stored), Ok(false));
        assert!(!format!("{params:?}").contains("jxspr8"), "the signer key is not printed");
    }

    #[test]
    fn unknown_malformed_and_costly_hashes_are_refused() {
        for (hash, code) in [
            ("", "UNKNOWN_HASH_FORMAT"),
            ("plaintext", "UNKNOWN_HASH_FORMAT"),
            ("$1$abc$def", "UNKNOWN_HASH_FORMAT"),
            ("$2b$12$short", "INVALID_HASH"),
            ("$2b$16$bMymofxbv8SxZZofmzUx1uFrybmlm9pzyLsEiL6ugmpE0Eq06h22S", "HASH_TOO_COSTLY"),
            ("$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "HASH_TOO_COSTLY"),
            ("$scrypt$ln=16,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "INVALID_HASH"),
            ("$pbkdf2-sha256$99999999$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "HASH_TOO_COSTLY"),
            ("pbkdf2_sha256$1000$salt$notbase64!", "INVALID_HASH"),
            ("$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "HASH_TOO_COSTLY"),
            ("$firebase-scrypt$ln=14,r=8$Bw==$a2V5$c2FsdA==", "INVALID_HASH"),
            // Small N, huge r or p: scrypt's other buffers and its work are bounded too.
            ("$scrypt$ln=1,r=1048576,p=16$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "HASH_TOO_COSTLY"),
            ("$scrypt$ln=16,r=64,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "HASH_TOO_COSTLY"),
            ("$scrypt$ln=17,r=8,p=16$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "HASH_TOO_COSTLY"),
            // argon2 at the memory bound with the most passes.
            ("$argon2id$v=19$m=262144,t=16,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "HASH_TOO_COSTLY"),
            // A PBKDF2 output longer than one block multiplies its iterations.
            ("$pbkdf2-sha256$29000$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0.Pw", "INVALID_HASH"),
        ] {
            assert_eq!(accept(hash).map_err(|r| r.code), Err(code), "{hash}");
        }
    }
}
