//! Configuration: built-in defaults, then an optional `rampart.toml`, then environment
//! variables. A bad value stops the start with one line naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use domain::crypto::MasterKey;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub use domain::net::Cidr;

/// Everything a node needs to start. Secrets are `SecretString` so `Debug` never shows them.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub bind: SocketAddr,
    /// Base of issuers and mail links; `None` means `http://{the bound address}`.
    pub public_url: Option<String>,
    /// Given, or (development only) a file in the data dir, made on first use: loading the
    /// configuration writes nothing (`Config::master_key` does).
    pub master_key: MasterKeySource,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub sms_url: Option<SecretString>,
    pub sms_from: String,
    /// Rate-limit and lockout counters in Redis instead of the store.
    pub redis_url: Option<SecretString>,
    pub trusted_proxies: Vec<Cidr>,
    /// Internal networks webhooks may reach (loopback, private ranges are refused otherwise).
    pub outbound_allowed_networks: Vec<Cidr>,
    /// When set, `GET /metrics` needs `Authorization: Bearer <this>`.
    pub metrics_token: Option<SecretString>,
    pub log_format: LogFormat,
    /// Where password hashing runs (`RAMPART_ARGON2_THREADS`, `RAMPART_ARGON2_NICE`).
    pub argon2: domain::password::Pool,
    pub data_dir: PathBuf,
    /// Where the built site (wasm, css) is served from.
    pub site_root: String,
    /// The site's folder of built assets under `site_root`, and their file name, as
    /// cargo-leptos built them.
    pub site_pkg_dir: String,
    pub output_name: String,
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// `RAMPART_MASTER_KEY`, or the file's `master_key` (boxed: an expanded AES key is 1 KiB).
    Given(Box<MasterKey>),
    /// Development only: this file, generated on first use (`Config::master_key`).
    DevelopmentFile(PathBuf),
}

/// The optional file, with every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    public_url: Option<String>,
    master_key: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    sms_url: Option<String>,
    sms_from: Option<String>,
    redis_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    metrics_token: Option<String>,
    outbound_allowed_networks: Option<Vec<String>>,
    log_format: Option<String>,
    argon2_threads: Option<i64>,
    argon2_nice: Option<i64>,
    data_dir: Option<String>,
    site_root: Option<String>,
    site_pkg_dir: Option<String>,
    output_name: Option<String>,
}

/// A configuration error, printed as one line naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

fn bad(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { variable: variable.into(), message: message.into() }
}

/// Where the raw values come from; tests pass their own.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Defaults, then the file (`RAMPART_CONFIG`, or `./rampart.toml` if present), then `env`.
    pub fn load(env: &dyn Source) -> Result<Config, ConfigError> {
        let file = match env.get("RAMPART_CONFIG") {
            Some(path) => read_file(&path, true)?,
            None => read_file("rampart.toml", false)?,
        };
        let pick = |var: &str, from_file: Option<String>| env.get(var).or(from_file);

        let data_dir = PathBuf::from(pick("RAMPART_DATA_DIR", file.data_dir).unwrap_or_else(|| "data".into()));
        let database_url = pick("DATABASE_URL", file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}/rampart.db", data_dir.display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres:")
            || database_url.starts_with("postgresql:"))
        {
            return Err(bad("DATABASE_URL", "must start with sqlite:// or postgres://"));
        }

        let bind_raw = pick("RAMPART_BIND", file.bind).unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind: SocketAddr = bind_raw
            .parse()
            .map_err(|_| bad("RAMPART_BIND", format!("'{bind_raw}' is not an address like 127.0.0.1:3000")))?;

        let public_url = match pick("RAMPART_PUBLIC_URL", file.public_url) {
            Some(url) => {
                let url = url.trim_end_matches('/').to_owned();
                let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) => Some(url),
                    _ => return Err(bad("RAMPART_PUBLIC_URL", format!("'{url}' is not an http(s) URL"))),
                }
            }
            None => None,
        };

        let master_key = match pick("RAMPART_MASTER_KEY", file.master_key) {
            Some(raw) => MasterKeySource::Given(Box::new(
                MasterKey::from_base64(&raw).map_err(|m| bad("RAMPART_MASTER_KEY", m))?,
            )),
            None => {
                // The generated key lies beside the database: a copy of one is a copy of both.
                // Fine on a developer's machine, never where others can reach the server.
                let https = public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
                if https || !bind.ip().is_loopback() {
                    return Err(bad(
                        "RAMPART_MASTER_KEY",
                        "must be set when RAMPART_PUBLIC_URL is https or RAMPART_BIND is not a loopback address \
                         (the generated development key is kept beside the database)",
                    ));
                }
                MasterKeySource::DevelopmentFile(data_dir.join("master.key"))
            }
        };

        let smtp_url = pick("RAMPART_SMTP_URL", file.smtp_url);
        if let Some(url) = &smtp_url {
            // The transport reads the URL (schemes, TLS modes, credentials); its refusals name
            // the variable and never the password.
            if let Err(e) = domain::mail::transport::Smtp::from_url(url) {
                let message = e.to_string();
                return Err(bad("RAMPART_SMTP_URL", message.trim_start_matches("RAMPART_SMTP_URL: ")));
            }
        }
        let sms_url = pick("RAMPART_SMS_URL", file.sms_url);
        if let Some(url) = &sms_url {
            domain::mail::sms::SmsTransport::from_url(url).map_err(|m| bad("RAMPART_SMS_URL", m))?;
        }
        let sms_from = pick("RAMPART_SMS_FROM", file.sms_from).unwrap_or_else(|| "Rampart".into());
        if sms_from.is_empty() || sms_from.len() > 32 || sms_from.chars().any(char::is_control) {
            return Err(bad("RAMPART_SMS_FROM", "must be a phone number or a sender name of at most 32 characters"));
        }
        let redis_url = pick("RAMPART_REDIS_URL", file.redis_url);
        if let Some(url) = &redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("redis+unix://")) {
                return Err(bad("RAMPART_REDIS_URL", "must be a redis:// or rediss:// URL"));
            }
        }
        let mail_from =
            pick("RAMPART_MAIL_FROM", file.mail_from).unwrap_or_else(|| "Rampart <no-reply@localhost>".into());
        if !mail_from.contains('@') {
            return Err(bad("RAMPART_MAIL_FROM", "must contain an email address"));
        }

        let trusted_proxies = match env.get("RAMPART_TRUSTED_PROXIES") {
            Some(raw) => {
                raw.split(',').filter(|s| !s.trim().is_empty()).map(|s| Cidr::parse(s.trim())).collect::<Result<_, _>>()
            }
            None => file.trusted_proxies.unwrap_or_default().iter().map(|s| Cidr::parse(s)).collect(),
        }
        .map_err(|m| bad("RAMPART_TRUSTED_PROXIES", m))?;

        let outbound_allowed_networks = match env.get("RAMPART_OUTBOUND_ALLOWED_NETWORKS") {
            Some(raw) => {
                raw.split(',').filter(|s| !s.trim().is_empty()).map(|s| Cidr::parse(s.trim())).collect::<Result<_, _>>()
            }
            None => file.outbound_allowed_networks.unwrap_or_default().iter().map(|s| Cidr::parse(s)).collect(),
        }
        .map_err(|m| bad("RAMPART_OUTBOUND_ALLOWED_NETWORKS", m))?;
        let metrics_token = pick("RAMPART_METRICS_TOKEN", file.metrics_token);
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(bad("RAMPART_METRICS_TOKEN", "must be at least 16 characters, without spaces"));
        }
        let log_format = match pick("RAMPART_LOG_FORMAT", file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(bad("RAMPART_LOG_FORMAT", format!("'{other}' is not 'text' or 'json'"))),
        };
        // From the environment, else the file; one range check for both.
        let number = |var: &str, from_file: Option<i64>| match env.get(var) {
            Some(raw) => raw.trim().parse::<i64>().map(Some).map_err(|_| bad(var, format!("'{raw}' is not a number"))),
            None => Ok(from_file),
        };
        let argon2_threads = match number("RAMPART_ARGON2_THREADS", file.argon2_threads)? {
            None => None,
            Some(n) => Some(
                usize::try_from(n)
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or_else(|| bad("RAMPART_ARGON2_THREADS", "must be a number of threads from 1 to 256"))?,
            ),
        };
        let nice =
            number("RAMPART_ARGON2_NICE", file.argon2_nice)?.unwrap_or(i64::from(domain::password::Pool::DEFAULT_NICE));
        let argon2_nice = i32::try_from(nice)
            .ok()
            .filter(|n| (-20..=19).contains(n))
            .ok_or_else(|| bad("RAMPART_ARGON2_NICE", "must be a nice increment from -20 to 19"))?;
        let argon2 = domain::password::Pool { threads: argon2_threads, nice: argon2_nice };
        let site_root = pick("LEPTOS_SITE_ROOT", file.site_root).unwrap_or_else(|| "target/site".into());
        let site_pkg_dir = pick("LEPTOS_SITE_PKG_DIR", file.site_pkg_dir).unwrap_or_else(|| "pkg".into());
        let output_name = pick("LEPTOS_OUTPUT_NAME", file.output_name).unwrap_or_else(|| "rampart".into());

        Ok(Config {
            database_url: SecretString::from(database_url),
            bind,
            public_url,
            master_key,
            smtp_url: smtp_url.map(SecretString::from),
            mail_from,
            sms_url: sms_url.map(SecretString::from),
            sms_from,
            redis_url: redis_url.map(SecretString::from),
            trusted_proxies,
            metrics_token: metrics_token.map(SecretString::from),
            outbound_allowed_networks,
            log_format,
            argon2,
            data_dir,
            site_root,
            site_pkg_dir,
            output_name,
        })
    }

    /// Where mail goes: SMTP when `RAMPART_SMTP_URL` is set, else the dev outbox; from
    /// `RAMPART_MAIL_FROM`. `worker`: whether this process sends the queue.
    pub fn mail_settings(&self, worker: bool) -> Result<domain::mail::MailSettings, ConfigError> {
        use secrecy::ExposeSecret;
        let (from_name, from_address) = domain::mail::parse_from(&self.mail_from)
            .ok_or_else(|| bad("RAMPART_MAIL_FROM", "must be an address or Name <address>"))?;
        let transport = match &self.smtp_url {
            Some(url) => {
                let smtp = domain::mail::transport::Smtp::from_url(url.expose_secret()).map_err(|e| {
                    let message = e.to_string();
                    bad("RAMPART_SMTP_URL", message.trim_start_matches("RAMPART_SMTP_URL: "))
                })?;
                Some(std::sync::Arc::new(smtp) as std::sync::Arc<dyn domain::mail::transport::Transport>)
            }
            None => None,
        };
        let sms = match &self.sms_url {
            Some(url) => Some(
                domain::mail::sms::SmsTransport::from_url(url.expose_secret())
                    .map_err(|m| bad("RAMPART_SMS_URL", m))?,
            ),
            None => None,
        };
        Ok(domain::mail::MailSettings {
            transport,
            from_name,
            from_address,
            sms,
            sms_from: self.sms_from.clone(),
            worker,
        })
    }

    /// Where rate-limit and lockout counters live: Redis when `RAMPART_REDIS_URL` is set
    /// (connected now, so a wrong one stops the start), else the store (`None`).
    pub async fn counters(&self) -> Result<Option<domain::limits::Limiter>, ConfigError> {
        use secrecy::ExposeSecret;
        match &self.redis_url {
            Some(url) => domain::limits::Limiter::on_redis(url.expose_secret())
                .await
                .map(Some)
                .map_err(|e| bad("RAMPART_REDIS_URL", e.to_string().trim_start_matches("RAMPART_REDIS_URL: "))),
            None => Ok(None),
        }
    }

    /// The master key: the one given, or the development key file's, made if missing.
    pub fn master_key(&self) -> Result<MasterKey, ConfigError> {
        match &self.master_key {
            MasterKeySource::Given(key) => Ok(MasterKey::clone(key)),
            MasterKeySource::DevelopmentFile(path) => dev_master_key(path),
        }
    }

    /// Whether the master key is the generated development one.
    pub fn master_key_generated(&self) -> bool {
        matches!(self.master_key, MasterKeySource::DevelopmentFile(_))
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// The base of issuers and mail links for a server listening on `bound`: the configured
    /// public URL, else `http://{bound}`. The one rule `serve` and the commands share.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

fn read_file(path: &str, required: bool) -> Result<FileConfig, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| bad("RAMPART_CONFIG", format!("{path}: {}", e.message()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(FileConfig::default()),
        Err(e) => Err(bad("RAMPART_CONFIG", format!("{path}: {e}"))),
    }
}

/// Development only: a key generated once into the data dir, readable by its owner only.
fn dev_master_key(path: &std::path::Path) -> Result<MasterKey, ConfigError> {
    let var = "RAMPART_MASTER_KEY";
    if let Ok(text) = std::fs::read_to_string(path) {
        return MasterKey::from_base64(&text).map_err(|m| bad(var, format!("{}: {m}", path.display())));
    }
    let data_dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(data_dir).map_err(|e| bad("RAMPART_DATA_DIR", format!("{}: {e}", data_dir.display())))?;
    let encoded = MasterKey::generate_base64();
    write_private(path, &encoded).map_err(|e| bad(var, format!("cannot write {}: {e}", path.display())))?;
    MasterKey::from_base64(&encoded).map_err(|m| bad(var, m))
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Map(HashMap<&'static str, String>);
    impl Source for Map {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    fn env(pairs: &[(&'static str, &str)]) -> Map {
        let dir = std::env::temp_dir().join(format!("rampart-config-{}", uuid::Uuid::new_v4()));
        let mut map: HashMap<_, _> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
        map.entry("RAMPART_DATA_DIR").or_insert_with(|| dir.display().to_string());
        Map(map)
    }

    #[test]
    fn defaults() {
        let c = Config::load(&env(&[])).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, None);
        assert!(c.database_url().starts_with("sqlite://") && c.database_url().ends_with("/rampart.db"));
        assert!(c.master_key_generated());
        // Loading wrote nothing; the key file is made when the key is first asked for.
        assert!(!c.data_dir.join("master.key").exists());
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(!format!("{c:?}").contains(c.database_url()));
        // The generated key is kept: a second start reads the same one.
        let dir = c.data_dir.display().to_string();
        let again = Config::load(&env(&[("RAMPART_DATA_DIR", &dir)])).unwrap();
        let sealed = c.master_key().unwrap().seal(b"x", b"y").unwrap();
        assert_eq!(again.master_key().unwrap().open(&sealed, b"y").unwrap(), b"x");
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("RAMPART_BIND", "nonsense"),
            ("DATABASE_URL", "mysql://x"),
            ("RAMPART_PUBLIC_URL", "ftp://x"),
            ("RAMPART_MASTER_KEY", "short"),
            ("RAMPART_SMTP_URL", "http://x"),
            ("RAMPART_SMS_URL", "smtp://x"),
            ("RAMPART_SMS_FROM", ""),
            ("RAMPART_REDIS_URL", "http://x"),
            ("RAMPART_MAIL_FROM", "nobody"),
            ("RAMPART_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("RAMPART_LOG_FORMAT", "xml"),
            ("RAMPART_ARGON2_THREADS", "0"),
            ("RAMPART_ARGON2_THREADS", "many"),
            ("RAMPART_ARGON2_NICE", "-21"),
            ("RAMPART_ARGON2_NICE", "20"),
            ("RAMPART_CONFIG", "/nonexistent/rampart.toml"),
        ] {
            let err = Config::load(&env(&[(var, value)])).unwrap_err();
            assert_eq!(err.variable, var, "{value}");
            assert!(err.to_string().starts_with(&format!("invalid {var}: ")));
        }
    }

    #[test]
    fn file_then_environment() {
        let dir = std::env::temp_dir().join(format!("rampart-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rampart.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:4000\"\npublic_url = \"https://auth.example.com/\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let path = file.display().to_string();
        let key = MasterKey::generate_base64();
        let c = Config::load(&env(&[("RAMPART_CONFIG", &path), ("RAMPART_MASTER_KEY", &key)])).unwrap();
        assert_eq!(c.bind.port(), 4000);
        assert_eq!(c.public_url.as_deref(), Some("https://auth.example.com"));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.argon2, domain::password::Pool { threads: None, nice: 5 }, "the defaults");
        std::fs::write(&file, "argon2_threads = 1\nargon2_nice = 0\n").unwrap();
        let c = Config::load(&env(&[("RAMPART_CONFIG", &path), ("RAMPART_MASTER_KEY", &key)])).unwrap();
        assert_eq!(c.argon2, domain::password::Pool { threads: Some(1), nice: 0 });
        let c = Config::load(&env(&[("RAMPART_CONFIG", &path), ("RAMPART_ARGON2_NICE", "10")])).unwrap();
        assert_eq!(c.argon2, domain::password::Pool { threads: Some(1), nice: 10 });
        let c = Config::load(&env(&[("RAMPART_CONFIG", &path), ("RAMPART_ARGON2_NICE", "-10")])).unwrap();
        assert_eq!(c.argon2, domain::password::Pool { threads: Some(1), nice: -10 }, "above the rest");
        std::fs::write(&file, "argon2_threads = 0\n").unwrap();
        assert_eq!(Config::load(&env(&[("RAMPART_CONFIG", &path)])).unwrap_err().variable, "RAMPART_ARGON2_THREADS");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:4000\"\npublic_url = \"https://auth.example.com/\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let c = Config::load(&env(&[
            ("RAMPART_CONFIG", &path),
            ("RAMPART_BIND", "0.0.0.0:5000"),
            ("RAMPART_MASTER_KEY", &key),
        ]))
        .unwrap();
        assert_eq!(c.bind.port(), 5000);
        std::fs::write(&file, "unknown_key = 1\n").unwrap();
        assert_eq!(Config::load(&env(&[("RAMPART_CONFIG", &path)])).unwrap_err().variable, "RAMPART_CONFIG");
    }

    /// The development key is for a developer's own machine: a server reachable by others
    /// (https, or bound beyond loopback) must be given its key, and nothing is written.
    #[test]
    fn no_generated_master_key_where_others_can_reach_the_server() {
        for vars in [
            vec![("RAMPART_PUBLIC_URL", "https://auth.example.com")],
            vec![("RAMPART_BIND", "0.0.0.0:3000")],
            vec![("RAMPART_BIND", "[::]:3000")],
            vec![("RAMPART_BIND", "192.0.2.10:3000"), ("RAMPART_PUBLIC_URL", "http://auth.example.com")],
        ] {
            let source = env(&vars);
            let dir = PathBuf::from(source.get("RAMPART_DATA_DIR").unwrap());
            let err = Config::load(&source).unwrap_err();
            assert_eq!(err.variable, "RAMPART_MASTER_KEY", "{vars:?}");
            assert!(err.to_string().contains("must be set"), "{err}");
            assert!(!dir.join("master.key").exists(), "no key file written for {vars:?}");
        }
        // Loopback over plain http stays the zero-setup developer start.
        for bind in ["127.0.0.1:3000", "[::1]:3000"] {
            assert!(Config::load(&env(&[("RAMPART_BIND", bind)])).unwrap().master_key_generated());
        }
        let key = MasterKey::generate_base64();
        let given = Config::load(&env(&[("RAMPART_BIND", "0.0.0.0:3000"), ("RAMPART_MASTER_KEY", &key)])).unwrap();
        assert!(!given.master_key_generated());
    }

    #[test]
    fn cidrs() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains("127.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1/128").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("nope").is_err());
    }
}
