#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The API integration tests: one binary, a real server on port 0 per test, over a fresh
//! SQLite file or a fresh PostgreSQL schema (`RAMPART_TEST_POSTGRES_URL`).

mod helpers;

mod accounts;
mod apps;
mod errors;
mod ops;
mod quickstart;
mod tokens;
