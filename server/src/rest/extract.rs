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

/// Works out who is calling, once per request: the peer address, or the first address in
/// `X-Forwarded-For` not belonging to a trusted proxy when the peer is one.
pub async fn client_meta(State(trusted): State<Arc<Vec<Cidr>>>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = peer.map(|peer| client_ip(peer, req.headers(), &trusted));
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    req.extensions_mut().insert(RequestMeta { ip: ip.map(|ip| ip.to_string()), user_agent });
    next.run(req).await
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
