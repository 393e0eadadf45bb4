//! Hazard Registry: a REST API for 事故隐患排查治理.
//!
//! Where things live: `domain/` holds the rules (no HTTP, no SQL), `auth/` who is calling and
//! what they may do, `db/` storage and scoped queries, `routes/` the handlers, `http/` the
//! plumbing every handler shares.

pub mod app;
pub mod attachment_store;
pub mod auth;
pub mod background;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod webhook_client;
pub mod webhooks;
