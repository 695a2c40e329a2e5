//! Request extractors: the caller's address and user agent, bearer tokens, and the
//! authenticated account.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use domain::engine::{Principal, RequestMeta};
use domain::types::PLATFORM_SLUG;
use domain::Error;

use super::error::ApiError;
use crate::config::Cidr;

/// The header a request's id comes in (from a proxy that made one) and goes back out in.
pub const REQUEST_ID: &str = "x-request-id";

/// Works out who is calling, once per request: the peer address, or the first address in
/// `X-Forwarded-For` not belonging to a trusted proxy when the peer is one; and the request's
/// id, the caller's `X-Request-Id` when it is a sane one, else a new one, echoed in the
/// response. The request is served as part of that context, so the audit events it records
/// carry it.
pub async fn client_meta(State(trusted): State<Arc<Vec<Cidr>>>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = peer.map(|peer| client_ip(peer, req.headers(), &trusted));
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane_request_id(id))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    tracing::Span::current().record("request_id", request_id.as_str());
    let meta = RequestMeta { ip: ip.map(|ip| ip.to_string()), user_agent };
    let lang = req.uri().query().and_then(|q| {
        q.split('&').find_map(|pair| pair.strip_prefix("lang=")).map(|v| v.split('&').next().unwrap_or_default())
    });
    let accept_language = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let context = domain::audit::RequestContext {
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        request_id: Some(request_id.clone()),
        language: Some(domain::i18n::Language::pick(lang, accept_language)),
    };
    req.extensions_mut().insert(meta);
    let mut response = domain::audit::in_request(context, next.run(req)).await;
    if let Ok(value) = header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// A request id taken from a caller: short, and only characters that cannot forge a log line.
fn is_sane_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded.into_iter().rev().find(|ip| !is_trusted(*ip)).unwrap_or(peer)
}

/// The request's `RequestMeta`, as `client_meta` recorded it.
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Meta(parts.extensions.get::<RequestMeta>().cloned().unwrap_or_default()))
    }
}

/// The token of an `Authorization: Bearer …` header.
pub struct Bearer(pub String);

/// The message of the `401` for a request that carried no bearer at all.
pub const MISSING_BEARER: &str = "Missing bearer token";

pub fn bearer_of(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        bearer_of(&parts.headers).map(Bearer).ok_or(ApiError(Error::Unauthenticated(MISSING_BEARER)))
    }
}

/// A management caller: an account's access token or an app's API key.
pub struct ManagedBy(pub domain::engine::Caller);

impl FromRequestParts<AppState> for ManagedBy {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Bearer(token) = Bearer::from_request_parts(parts, state).await?;
        Ok(ManagedBy(state.engine.caller(&token).await?))
    }
}

/// A platform account, authenticated by its bearer access token.
pub struct Account(pub Principal);

impl FromRequestParts<AppState> for Account {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Bearer(token) = Bearer::from_request_parts(parts, state).await?;
        Ok(Account(state.engine.authenticate(PLATFORM_SLUG, &token).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.7".parse().unwrap());
        let proxies = [Cidr::parse("10.0.0.0/8").unwrap()];
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(proxy, &headers, &proxies), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(stranger, &headers, &proxies), stranger);
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &proxies), proxy);
    }

    #[test]
    fn request_ids_from_callers_are_checked() {
        assert!(is_sane_request_id("0191e3a4-7c2b-7d3e-9f00-123456789abc"));
        assert!(is_sane_request_id("req_abc.123:x/y+z="));
        for bad in ["", "a b", "line\nbreak", "quote\"", &"x".repeat(129), "é"] {
            assert!(!is_sane_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_of(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer_of(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, "bearer  xyz ".parse().unwrap());
        assert_eq!(bearer_of(&h).as_deref(), Some("xyz"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_of(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_of(&h), None);
    }
}
