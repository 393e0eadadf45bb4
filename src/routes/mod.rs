//! Handlers only: extract → check → call `db`/`domain` → map to response types.
//! Handler name = operationId.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod enterprises;
pub mod events;
pub mod exchange;
pub mod extensions;
pub mod hazards;
pub mod health;
pub mod inspections;
pub mod listings;
pub mod lists;
pub mod metrics;
pub mod public_reports;
pub mod quarterly;
pub mod reference;
pub mod reminders;
pub mod risk;
pub mod risk_stats;
pub mod stats;
pub mod submissions;
pub mod totp;
pub mod webhooks;

use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::error::ApiResult;

/// Every route, registered once: the router and the OpenAPI document are both built from this
/// list (utoipa-actix-web collects each handler's `#[utoipa::path]` as it is mounted), so a
/// route cannot exist undocumented and a documented operation cannot be missing.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::get_metrics)
        .service(
            scope("/api/v1")
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::get_me)
                .service(totp::start_totp_enrolment)
                .service(totp::confirm_totp_enrolment)
                .service(totp::disable_totp)
                .service(totp::reset_totp)
                .service(accounts::create_account)
                .service(accounts::list_accounts)
                .service(accounts::get_account)
                .service(accounts::update_account)
                .service(reference::list_jurisdictions)
                .service(reference::list_sectors)
                .service(reference::list_departments)
                .service(enterprises::create_enterprise)
                .service(enterprises::list_enterprises)
                .service(enterprises::get_enterprise)
                .service(enterprises::update_enterprise)
                .service(hazards::create_hazard)
                .service(hazards::list_hazards)
                .service(hazards::export_hazards)
                .service(hazards::get_hazard)
                .service(hazards::update_hazard)
                .service(hazards::transition_hazard)
                .service(hazards::list_hazard_timeline)
                .service(extensions::create_extension)
                .service(extensions::list_extensions)
                .service(extensions::get_extension)
                .service(extensions::decide_extension)
                .service(attachments::upload_attachment)
                .service(attachments::list_attachments)
                .service(attachments::get_attachment)
                .service(attachments::stage_attachment)
                .service(listings::create_listing)
                .service(listings::list_listings)
                .service(listings::export_listings)
                .service(listings::get_listing)
                .service(listings::delist_listing)
                .service(listings::cancel_listing)
                .service(listings::list_listing_timeline)
                .service(listings::create_listing_extension)
                .service(listings::list_listing_extensions)
                .service(listings::get_listing_extension)
                .service(listings::decide_listing_extension)
                .service(lists::create_problem_item)
                .service(lists::list_problem_items)
                .service(lists::export_problem_items)
                .service(lists::get_problem_item)
                .service(lists::update_problem_item)
                .service(lists::list_problem_item_history)
                .service(lists::create_measure_item)
                .service(lists::list_measure_items)
                .service(lists::export_measure_items)
                .service(lists::get_measure_item)
                .service(lists::update_measure_item)
                .service(lists::list_measure_item_history)
                .service(submissions::create_submission)
                .service(submissions::list_submissions)
                .service(submissions::get_submission)
                .service(submissions::review_submission)
                .service(stats::hazard_stats)
                .service(stats::listing_stats)
                .service(risk_stats::risk_unit_stats)
                .service(risk_stats::red_risk_enterprises)
                .service(risk_stats::inspection_stats)
                .service(risk_stats::hazard_origin_stats)
                .service(audit::list_audit_events)
                .service(events::list_events)
                .service(reminders::list_reminders)
                .service(reminders::get_reminder)
                .service(reminders::acknowledge_reminder)
                .service(quarterly::create_quarterly_report)
                .service(quarterly::list_quarterly_reports)
                .service(quarterly::quarterly_report_compliance)
                .service(quarterly::export_quarterly_reports)
                .service(quarterly::get_quarterly_report)
                .service(public_reports::submit_public_report)
                .service(public_reports::track_public_report)
                .service(public_reports::list_public_reports)
                .service(public_reports::get_public_report)
                .service(public_reports::get_public_report_photo)
                .service(public_reports::triage_public_report)
                .service(public_reports::convert_public_report)
                .service(public_reports::dismiss_public_report)
                .service(public_reports::verify_public_report)
                .service(risk::create_risk_unit)
                .service(risk::list_risk_units)
                .service(risk::get_risk_unit)
                .service(risk::update_risk_unit)
                .service(risk::create_risk_event)
                .service(risk::list_risk_events)
                .service(risk::get_risk_event)
                .service(risk::list_risk_assessments)
                .service(risk::assess_risk_event)
                .service(risk::create_control_measure)
                .service(risk::list_control_measures)
                .service(risk::get_control_measure)
                .service(inspections::create_inspection_task)
                .service(inspections::list_inspection_tasks)
                .service(inspections::get_inspection_task)
                .service(inspections::list_inspection_slots)
                .service(inspections::create_check_record)
                .service(inspections::list_check_records)
                .service(inspections::get_check_record)
                .service(exchange::exchange_risk_units)
                .service(exchange::exchange_risk_events)
                .service(exchange::exchange_control_measures)
                .service(exchange::exchange_check_tasks)
                .service(exchange::exchange_check_records)
                .service(exchange::exchange_hazards)
                .service(webhooks::create_webhook)
                .service(webhooks::list_webhooks)
                .service(webhooks::get_webhook)
                .service(webhooks::update_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::rotate_webhook_secret)
                .service(webhooks::list_webhook_deliveries)
                .service(webhooks::redeliver_webhook_delivery),
        );
}

/// A `jurisdiction_code` list filter: that jurisdiction and everything below it, as its
/// [`Reach`](crate::domain::jurisdiction::Reach); an unknown code is `422 validation_failed`
/// pointing at the parameter, so a typo never reads as "nothing found".
pub fn jurisdiction_filter(
    c: &mut crate::db::AnyConnection,
    code: Option<&str>,
) -> ApiResult<Option<crate::domain::jurisdiction::Reach>> {
    let Some(code) = code else { return Ok(None) };
    crate::db::scope::reach_of(c, code)?
        .map(Some)
        .ok_or_else(|| {
            crate::error::ApiError::invalid_field(
                "validation_failed",
                "/jurisdiction_code",
                format!("no jurisdiction has the code {code:?}"),
            )
        })
}

/// A single resource with its `ETag`.
pub fn with_etag<T: serde::Serialize>(version: i64, body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, crate::http::etag(version)))
        .json(body)
}
