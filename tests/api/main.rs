//! Integration tests through HTTP, each on SQLite and on PostgreSQL.

mod contract;
mod support;

mod accounts;
mod audit_chain;
mod auth;
mod backup;
mod check_order;
mod closed_sets;
mod conventions;
mod enterprises;
mod events;
mod exports;
mod hardening;
mod hazards;
mod inspections;
mod layers;
mod listings;
mod lists;
mod matrix;
mod metrics;
mod openapi;
mod operations;
mod plans;
mod public_reports;
mod quarterly;
mod register_plans;
mod reminders;
mod risk;
mod staging;
mod stats;
mod storage;
mod totp;
mod webhooks;
