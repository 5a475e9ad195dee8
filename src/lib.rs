//! Gatehouse: a user-account service. See README.md for the tour.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod audit;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod entities;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod metrics;
mod names;
pub mod telemetry;
