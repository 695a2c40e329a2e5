//! Text messages through an HTTP provider: a Twilio-compatible form POST (`To`, `From`,
//! `Body`) to `RAMPART_SMS_URL`, with the URL's user and password as Basic credentials
//! (Twilio's `https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json`).

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::transport::SendError;

/// How long a provider may take to answer.
const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct SmsTransport {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// Without its credentials.
    url: url::Url,
    /// `Basic …`, from the URL's user and password.
    authorization: Option<String>,
}

impl std::fmt::Debug for SmsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

impl SmsTransport {
    /// From `RAMPART_SMS_URL` (http or https); the reason when it cannot be.
    pub fn from_url(raw: &str) -> Result<SmsTransport, String> {
        let mut url = url::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("must be an http:// or https:// URL".into());
        }
        let authorization = match (decode(url.username()), url.password().map(decode)) {
            (user, None) if user.is_empty() => None,
            (user, password) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.unwrap_or_default()))
            )),
        };
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
        let tls = rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier(tls)
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(SmsTransport { client, url, authorization })
    }

    /// The provider, without credentials, for logs.
    pub fn describe(&self) -> String {
        format!("SMS via {}", self.url)
    }

    /// Sends `body` from `from` (a number or sender name) to `to` (E.164). A refusal of this
    /// message (4xx other than 408 and 429) is permanent; an unreachable or failing provider
    /// is worth another try.
    pub async fn send(&self, from: &str, to: &str, body: &str) -> Result<(), SendError> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("To", to)
            .append_pair("From", from)
            .append_pair("Body", body)
            .finish();
        let mut request = http::Request::post(self.url.as_str())
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json");
        if let Some(authorization) = &self.authorization {
            request = request.header(http::header::AUTHORIZATION, authorization);
        }
        let request = request
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| SendError::Permanent(format!("SMS request: {e}")))?;
        let unreachable = |e: &dyn std::fmt::Display| SendError::Transient(format!("SMS provider: {e}"));
        let response = match tokio::time::timeout(TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(unreachable(&e)),
            Err(_) => return Err(unreachable(&"no answer in time")),
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let detail = match tokio::time::timeout(TIMEOUT, response.into_body().collect()).await {
            Ok(Ok(body)) => String::from_utf8_lossy(&body.to_bytes()).chars().take(200).collect(),
            _ => String::new(),
        };
        let why = format!("SMS provider answered {status}: {detail}");
        if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            Err(SendError::Permanent(why))
        } else {
            Err(SendError::Transient(why))
        }
    }
}
