//! The HTTP client of sign-ins through external providers: the one `openidconnect` and
//! `oauth2` call for discovery, JWKS, token and user-info requests, over the same hyper and
//! rustls stack as the SMS provider's. It follows no redirect (a token endpoint that
//! redirects could send the code elsewhere), answers within a timeout, reads at most 1 MiB,
//! and speaks plain http only to loopback hosts. Like webhooks, it connects only to public
//! addresses unless the operator opened internal networks (`RAMPART_OUTBOUND_ALLOWED_NETWORKS`):
//! a tenant's admin sets these URLs, and must not make Rampart reach inside its network.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openidconnect::{HttpRequest, HttpResponse};

/// How long a provider may take to answer one request.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from a provider.
const MAX_BODY: usize = 1024 * 1024;

/// Why a request to a provider failed (its text goes to the log, never to the end-user).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

#[derive(Clone)]
pub struct ProviderHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector<crate::webhooks::GuardedResolver>>, Full<Bytes>>,
    reachable: std::sync::Arc<crate::net::Reachable>,
}

impl std::fmt::Debug for ProviderHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderHttp")
    }
}

/// Whether Rampart may send requests to `url`: https anywhere, plain http only to a loopback
/// host (a provider on the same machine, as in tests). The reason when not.
pub fn usable_url(url: &url::Url) -> Result<(), String> {
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err("must be https (plain http only for loopback hosts)".into()),
        _ => Err("must be an https URL".into()),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl ProviderHttp {
    pub fn new(reachable: crate::net::Reachable) -> Result<ProviderHttp, String> {
        let reachable = std::sync::Arc::new(reachable);
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
        let tls = rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier(tls)
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth();
        let mut http = HttpConnector::new_with_resolver(crate::webhooks::GuardedResolver::new(reachable.clone()));
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(ProviderHttp { client: Client::builder(TokioExecutor::new()).build(connector), reachable })
    }

    /// Sends one request and reads its answer whole.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let target = url::Url::parse(&request.uri().to_string()).map_err(|e| HttpError(format!("bad URL: {e}")))?;
        usable_url(&target).map_err(|why| HttpError(format!("{target}: {why}")))?;
        // Address literals never reach the resolver's check.
        let literal = match target.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if literal.is_some_and(|ip| !self.reachable.permits(ip)) {
            return Err(HttpError(format!(
                "{}: an address Rampart may not reach",
                target.origin().ascii_serialization()
            )));
        }
        let (mut parts, body) = request.into_parts();
        parts.headers.insert(http::header::USER_AGENT, http::HeaderValue::from_static("Rampart"));
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let response = match tokio::time::timeout(TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(HttpError(format!("{}: {e}", target.origin().ascii_serialization()))),
            Err(_) => return Err(HttpError(format!("{}: no answer in time", target.origin().ascii_serialization()))),
        };
        let (parts, body) = response.into_parts();
        let body = match tokio::time::timeout(TIMEOUT, Limited::new(body, MAX_BODY).collect()).await {
            Ok(Ok(body)) => body.to_bytes().to_vec(),
            Ok(Err(e)) => return Err(HttpError(format!("reading the answer: {e}"))),
            Err(_) => return Err(HttpError("the answer did not arrive in time".into())),
        };
        Ok(http::Response::from_parts(parts, body))
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        let ok = |u: &str| usable_url(&url::Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://accounts.google.com"));
        assert!(ok("http://127.0.0.1:8080/x"));
        assert!(ok("http://localhost:1/"));
        assert!(ok("http://[::1]:9/"));
        assert!(!ok("http://example.com/"));
        assert!(!ok("http://10.0.0.1/"));
        assert!(!ok("ftp://example.com/"));
        assert!(!ok("file:///etc/passwd"));
    }
}
