//! Black-box tests: each test starts a real server on a loopback port with a
//! fresh SQLite file, and talks HTTP to it. One binary, many modules.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up step should stop it loudly

mod client;
mod helpers;

mod hostile;
mod introspection;

mod admin_cli;
mod audit;
mod binary;
mod concurrency;
mod django_fixture;
mod django_hashes;
mod django_import;
mod graphql;
mod lifecycle;
mod metrics;
mod openapi;
mod operations;
mod pages;
mod rate_limits;
mod request_limits;
mod rest_errors;
mod rest_login;
mod rest_logout;
mod rest_register;
mod rules;
mod scale_out;
mod secrets;
mod throttling;
mod uniform_login;
