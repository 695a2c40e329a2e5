//! Webhooks as the Standard Webhooks specification has them: `whsec_` secrets, the
//! `webhook-id`, `webhook-timestamp` and `webhook-signature` headers (HMAC-SHA256 of
//! `{id}.{timestamp}.{body}`, `v1,` + base64, several space-separated during a secret's
//! rotation), and the HTTP client that delivers them, which reaches only the addresses the
//! operator allows (no loopback, private, link-local or metadata address otherwise), checked
//! on the address it connects to, so DNS cannot be used to slip past the check.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use url::Url;

use crate::net::Reachable;
use crate::{Error, Result};

/// Every secret starts with this (the specification's prefix).
pub const SECRET_PREFIX: &str = "whsec_";
/// How long one delivery may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer the delivery log keeps.
pub const RESPONSE_KEPT: usize = 1024;

/// A new signing secret: 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` entry of `secret` for message `id` sent at `timestamp` (seconds).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let raw = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(raw).map_err(|_| Error::internal(anyhow::anyhow!("webhook secret is not base64")))?;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let mut signed = Vec::with_capacity(id.len() + body.len() + 24);
    signed.extend_from_slice(id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.to_string().as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    Ok(format!("v1,{}", STANDARD.encode(aws_lc_rs::hmac::sign(&key, &signed).as_ref())))
}

/// Checks an endpoint URL as given: `http` or `https`, a host, no credentials, no fragment,
/// at most 2048 characters; an address literal must be one `reachable` permits. Names are
/// checked again at every delivery, on the addresses they resolve to then.
pub fn check_url(raw: &str, reachable: &Reachable) -> Result<Url> {
    let raw = raw.trim();
    let refuse = |why: &str| Error::invalid(format!("url {why}"));
    if raw.len() > 2048 {
        return Err(refuse("must be at most 2048 characters"));
    }
    let url = Url::parse(raw).map_err(|_| refuse("must be an absolute http(s) URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("must be an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(refuse("must not have a fragment"));
    }
    let literal = match url.host() {
        None => return Err(refuse("must name a host")),
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if (name == "localhost" || name.ends_with(".localhost")) && !reachable.permits(IpAddr::from([127, 0, 0, 1]))
            {
                return Err(refuse("must not point inside this host or its network"));
            }
            None
        }
    };
    if literal.is_some_and(|ip| !reachable.permits(ip)) {
        return Err(refuse("must not point inside this host or its network"));
    }
    Ok(url)
}

/// Resolves names as the system does, then keeps only the addresses `reachable` permits:
/// a name that resolves to nothing else fails to connect.
#[derive(Clone)]
pub(crate) struct GuardedResolver {
    reachable: Arc<Reachable>,
}

impl GuardedResolver {
    pub(crate) fn new(reachable: Arc<Reachable>) -> GuardedResolver {
        GuardedResolver { reachable }
    }
}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let reachable = self.reachable.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| reachable.permits(a.ip())).collect();
            if allowed.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{} resolves only to addresses webhooks may not reach", name.as_str()),
                ));
            }
            Ok(allowed.into_iter())
        })
    }
}

/// What a receiver answered: its status and the start of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Posts signed messages to endpoints.
pub struct Sender {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
    reachable: Arc<Reachable>,
}

impl Sender {
    pub fn new(reachable: Reachable) -> std::result::Result<Sender, String> {
        let reachable = Arc::new(reachable);
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let tls = rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier(tls)
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth();
        let mut http = HttpConnector::new_with_resolver(GuardedResolver { reachable: reachable.clone() });
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Sender { client: Client::builder(TokioExecutor::new()).build(connector), reachable })
    }

    /// Posts `body` to `url` with the Standard Webhooks headers. `Err` when no answer came
    /// (refused address, unreachable, timeout); any answer is `Ok`, success or not.
    pub async fn post(
        &self,
        url: &str,
        id: &str,
        timestamp: i64,
        signatures: &str,
        body: Bytes,
    ) -> std::result::Result<Answer, String> {
        // Address literals never reach the resolver: checked here, at every delivery.
        let parsed = Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if literal.is_some_and(|ip| !self.reachable.permits(ip)) {
            return Err("the URL's address is one webhooks may not reach".into());
        }
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "Rampart-Webhooks/1")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures)
            .body(Full::new(body))
            .map_err(|e| format!("request: {e}"))?;
        let response = match tokio::time::timeout(TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                let mut cause: &dyn std::error::Error = &e;
                let mut why = e.to_string();
                while let Some(inner) = cause.source() {
                    why = format!("{why}: {inner}");
                    cause = inner;
                }
                return Err(why);
            }
            Err(_) => return Err("no answer within 10 s".into()),
        };
        let status = response.status().as_u16();
        let body = match tokio::time::timeout(TIMEOUT, response.into_body().collect()).await {
            Ok(Ok(body)) => String::from_utf8_lossy(&body.to_bytes()).chars().take(RESPONSE_KEPT).collect(),
            _ => String::new(),
        };
        Ok(Answer { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Cidr;

    #[test]
    fn signature_matches_the_specifications_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_prefixed_and_random() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX));
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(&a[SECRET_PREFIX.len()..]).unwrap().len(), 32);
    }

    /// The guard at delivery: a name is refused when all it resolves to is internal (here
    /// `localhost`, which the system resolves without any network), and allowed when the
    /// operator opened that network.
    #[tokio::test]
    async fn names_resolving_inside_are_refused_at_connect() {
        use std::str::FromStr;
        use tower_service::Service;
        let mut closed = GuardedResolver { reachable: Arc::new(Reachable::default()) };
        let refused = closed.call(Name::from_str("localhost").unwrap()).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
        let opened = Reachable { opened: vec![Cidr::parse("127.0.0.0/8").unwrap(), Cidr::parse("::1").unwrap()] };
        let mut open = GuardedResolver { reachable: Arc::new(opened) };
        let found: Vec<SocketAddr> = open.call(Name::from_str("localhost").unwrap()).await.unwrap().collect();
        assert!(!found.is_empty() && found.iter().all(|a| a.ip().is_loopback()));
        // A whole request to such a name is refused before anything is sent.
        let sender = Sender::new(Reachable::default()).unwrap();
        let outcome = sender.post("http://localhost:9/hook", "msg_1", 1, "v1,x", Bytes::from_static(b"{}")).await;
        assert!(outcome.unwrap_err().contains("may not reach"));
        let outcome = sender.post("http://127.0.0.1:9/hook", "msg_1", 1, "v1,x", Bytes::from_static(b"{}")).await;
        assert!(outcome.unwrap_err().contains("may not reach"));
    }

    #[test]
    fn urls_are_checked() {
        let closed = Reachable::default();
        assert!(check_url("https://hooks.example.com/rampart", &closed).is_ok());
        for bad in [
            "ftp://example.com/x",
            "https://user:pass@example.com/",
            "https://example.com/#frag",
            "/relative",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.5/",
            "http://localhost:3000/",
            "http://app.localhost/",
        ] {
            assert!(check_url(bad, &closed).is_err(), "{bad}");
        }
        let open = Reachable { opened: vec![Cidr::parse("127.0.0.0/8").unwrap()] };
        assert!(check_url("http://127.0.0.1:8080/hook", &open).is_ok());
        assert!(check_url("http://localhost:8080/hook", &open).is_ok());
        assert!(check_url("http://10.0.0.5/", &open).is_err());
    }
}
