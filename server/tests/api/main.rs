#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The API integration tests: one binary, a real server on port 0 per test, over a fresh
//! SQLite file or a fresh PostgreSQL schema (`RAMPART_TEST_POSTGRES_URL`).

mod helpers;
mod proxy;

mod accounts;
mod admission;
mod api_keys;
mod apps;
mod audit;
mod audit_access;
mod audit_chain;
mod config;
mod cookie_api;
mod credentials;
mod end_users;
mod entitlements;
mod errors;
mod federation;
mod federation_upstream;
mod hosted;
mod hosted_flows;
mod isolation;
mod keys;
mod license_admin;
mod licenses;
mod limits;
mod mail;
mod members;
mod metrics;
mod multinode;
mod oidc_browser;
mod oidc_provider;
mod ops;
mod organizations;
mod otp;
mod quickstart;
mod roles;
mod security;
mod seed001;
mod sessions;
mod signing;
mod tokens;
mod transfer;
mod waitlists;
mod webhooks;
