//! Deadline extensions (hazards and listings alike): their vocabulary and rules.

use chrono::NaiveDate;

use super::hazard::NO_DEADLINE;
use super::Refusal;

text_enum! {
    /// What an extension moves the deadline of.
    pub enum ExtensionSubject {
        Hazard = "hazard",
        Listing = "listing",
    }
}

text_enum! {
    /// `pending` until a regulator decides; then `approved` (the deadline moved) or `denied`.
    pub enum ExtensionStatus {
        Pending = "pending",
        Approved = "approved",
        Denied = "denied",
    }
}

/// An extension request's own rules (the subject decides whether it takes requests at all):
/// one pending request at a time (`409 extension_pending`), a reason, and a new deadline later
/// than the current one (`422`). Returns the trimmed reason.
pub fn check_request(
    current_deadline: Option<NaiveDate>,
    pending_exists: bool,
    reason: &str,
    new_deadline: NaiveDate,
) -> Result<String, Refusal> {
    if pending_exists {
        return Err(pending_refusal());
    }
    let reason = required_text(reason, "/reason")?;
    if current_deadline.is_some_and(|d| new_deadline <= d) || new_deadline >= NO_DEADLINE {
        return Err(Refusal::invalid_field(
            "/new_deadline",
            "must be later than the current deadline",
        ));
    }
    Ok(reason)
}

/// One request pending per subject.
pub fn pending_refusal() -> Refusal {
    Refusal::conflict(
        "extension_pending",
        "An extension request for this hazard is already pending",
    )
}

/// A decision's rules (who decides is the policy's): the request is still pending
/// (`409 extension_decided`), its subject still open (`409 invalid_transition`), and the
/// decision carries a note (`422`). Returns the trimmed note.
pub fn check_decision(
    status: ExtensionStatus,
    subject_open: bool,
    note: &str,
) -> Result<String, Refusal> {
    if status != ExtensionStatus::Pending {
        return Err(decided_refusal());
    }
    if !subject_open {
        return Err(Refusal::conflict(
            "invalid_transition",
            "The subject is no longer open; its deadline no longer matters",
        ));
    }
    required_text(note, "/note")
}

pub fn decided_refusal() -> Refusal {
    Refusal::conflict("extension_decided", "This request has already been decided")
}

fn required_text(value: &str, pointer: &str) -> Result<String, Refusal> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 2000 {
        return Err(Refusal::invalid_field(
            pointer,
            "1–2000 characters required",
        ));
    }
    Ok(v.to_string())
}
