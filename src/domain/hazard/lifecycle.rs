//! The hazard's lifecycle (SPEC §3, §7): for each action, what it needs and what it changes.
//! Pure: the caller loads the hazard and the facts, asks the policy who may act, and saves the
//! [`Change`] this returns. Closing by delisting (销号) goes through the same rules as `accept`.

use serde_json::{json, Value};

use super::{Action, HazardFields, HazardLevel, HazardStatus};
use crate::domain::validate::FieldError;
use crate::domain::Refusal;

/// The lifecycle state of a hazard: what its rules look at besides the fields.
#[derive(Debug, Clone, Copy)]
pub struct State {
    pub status: HazardStatus,
    pub level: HazardLevel,
    /// Under active listed supervision (挂牌督办).
    pub listed: bool,
}

/// A lifecycle action as the client asked for it.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: Action,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub level: Option<HazardLevel>,
}

/// What the rules need to know beyond the hazard itself.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    /// The account taking the action.
    pub actor_id: i64,
    /// At least one attachment with stage `after` exists.
    pub has_after_attachment: bool,
}

/// What an action changes. `None` leaves a column alone; `closed: Some(true)` stamps
/// `closed_at` with the time of the write, `Some(false)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub status: Option<HazardStatus>,
    pub level: Option<HazardLevel>,
    pub rectification_note: Option<Option<String>>,
    pub submitted_by: Option<Option<i64>>,
    pub closed: Option<bool>,
    pub listed: Option<bool>,
}

/// A change and the audit details that describe it (the timeline shows them).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub change: Change,
    pub details: Value,
}

/// `409 invalid_transition` unless `action` is allowed from `status`; the status it leads to.
pub fn next_status(status: HazardStatus, action: Action) -> Result<HazardStatus, Refusal> {
    status
        .after(action)
        .ok_or_else(|| invalid_transition(status, action))
}

fn invalid_transition(status: HazardStatus, action: Action) -> Refusal {
    let allowed = status.allowed_actions();
    let names = if allowed.is_empty() {
        "none".to_string()
    } else {
        allowed
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Refusal::conflict(
        "invalid_transition",
        format!("`{action}` is not allowed on a {status} hazard; allowed: {names}"),
    )
    .with_context(json!({"status": status, "allowed_actions": allowed}))
}

fn listed(what: &str) -> Refusal {
    Refusal::conflict(
        "hazard_listed",
        format!("This hazard is under listed supervision (挂牌督办): {what}"),
    )
}

/// A required free text (reason, note): trimmed, 1–2000 characters.
pub fn required_text(value: Option<&str>, pointer: &str, what: &str) -> Result<String, Refusal> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() && v.chars().count() <= 2000 => Ok(v.to_string()),
        _ => Err(Refusal::invalid_field(
            pointer,
            format!("{what} (1–2000 characters) is required"),
        )),
    }
}

fn prerequisites_missing(detail: &str, missing: Vec<FieldError>) -> Refusal {
    Refusal::unprocessable("prerequisites_missing", detail, missing)
}

/// Works out the effect of `req` on a hazard in `state` with `fields`, after the policy has
/// allowed the caller and [`next_status`] the state: `409 hazard_listed`, then the `422`s.
pub fn plan(
    state: State,
    fields: &HazardFields,
    req: &Request,
    facts: Facts,
) -> Result<Outcome, Refusal> {
    let next = next_status(state.status, req.action)?;
    let mut change = Change {
        status: (next != state.status).then_some(next),
        ..Default::default()
    };
    let mut details = json!({"status": {"before": state.status, "after": next}});
    let note = req.note.as_deref().filter(|n| !n.trim().is_empty());
    match req.action {
        Action::StartRectification => {
            let missing = fields.missing_for_rectification();
            if !missing.is_empty() {
                return Err(prerequisites_missing(
                    "Rectification needs the complete 五定 block (and, for a major hazard, its report and plan)",
                    missing,
                ));
            }
        }
        Action::SubmitForAcceptance => {
            let note = required_text(req.note.as_deref(), "/note", "the rectification note")?;
            if !facts.has_after_attachment {
                return Err(prerequisites_missing(
                    "1 field is invalid",
                    vec![FieldError::new(
                        "/attachments",
                        "upload at least one attachment with stage `after` first",
                    )],
                ));
            }
            details["note"] = json!(note);
            change.rectification_note = Some(Some(note));
            change.submitted_by = Some(Some(facts.actor_id));
        }
        Action::Accept => {
            if state.listed {
                return Err(listed("it is closed by delisting (销号)"));
            }
            change.closed = Some(true);
        }
        Action::Reject => {
            details["reason"] = json!(required_text(req.reason.as_deref(), "/reason", "a reason")?);
            change.submitted_by = Some(None);
        }
        Action::Void => {
            if state.listed {
                return Err(listed("cancel the listing before voiding the hazard"));
            }
            details["reason"] = json!(required_text(req.reason.as_deref(), "/reason", "a reason")?);
        }
        Action::Reopen => {
            details["reason"] = json!(required_text(req.reason.as_deref(), "/reason", "a reason")?);
            change.closed = Some(false);
            change.submitted_by = Some(None);
        }
        Action::Regrade => {
            let level = regrade(state, fields, req.level)?;
            let reason = required_text(req.reason.as_deref(), "/reason", "a reason")?;
            details["level"] = json!({"before": state.level, "after": level});
            details["reason"] = json!(reason);
            change.level = Some(level);
        }
    }
    if req.action != Action::SubmitForAcceptance {
        if let Some(note) = note {
            details["note"] = json!(note);
        }
    }
    Ok(Outcome { change, details })
}

/// The new level of a `regrade`: different from the current one, never general while listed,
/// and a major level carrying what a major hazard needs at its stage.
fn regrade(
    state: State,
    fields: &HazardFields,
    level: Option<HazardLevel>,
) -> Result<HazardLevel, Refusal> {
    let level =
        level.ok_or_else(|| Refusal::invalid_field("/level", "the new level is required"))?;
    if state.listed && level == HazardLevel::General {
        return Err(listed("a listed hazard stays major until its listing ends"));
    }
    if level == state.level {
        return Err(Refusal::invalid_field(
            "/level",
            format!("the hazard is already {level}"),
        ));
    }
    let mut regraded = fields.clone();
    regraded.level = level;
    let mut problems = match regraded.clone().validate(chrono::NaiveDate::MAX) {
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    if level == HazardLevel::Major && state.status != HazardStatus::Reported {
        problems.extend(regraded.missing_major_documents());
    }
    if problems.is_empty() {
        Ok(level)
    } else {
        Err(Refusal::invalid(problems))
    }
}

/// Closing by delisting (销号): the listing authority's acceptance. The hazard must be where
/// `accept` is allowed (pending acceptance); it closes and is no longer listed.
pub fn close_by_delisting(state: State) -> Result<Outcome, Refusal> {
    let next = next_status(state.status, Action::Accept).map_err(|_| {
        Refusal::conflict(
            "invalid_transition",
            format!(
                "Delisting needs the hazard pending acceptance; it is {}",
                state.status
            ),
        )
        .with_context(json!({"hazard_status": state.status}))
    })?;
    Ok(Outcome {
        change: Change {
            status: Some(next),
            closed: Some(true),
            listed: Some(false),
            ..Default::default()
        },
        details: json!({"status": {"before": state.status, "after": next}}),
    })
}

/// Put under listed supervision (the listing's rules are `domain::listing::check_new`).
pub fn listing_started() -> Change {
    Change {
        listed: Some(true),
        ..Default::default()
    }
}

/// No longer under listed supervision (the listing was cancelled; delisting closes the hazard
/// through [`close_by_delisting`]).
pub fn listing_ended() -> Change {
    Change {
        listed: Some(false),
        ..Default::default()
    }
}

/// A closed or void hazard takes no more attachments (`409 not_editable`).
pub fn takes_attachments(state: State) -> crate::domain::Verdict {
    if !state.status.is_open() {
        return Err(Refusal::conflict(
            "not_editable",
            format!("A {} hazard takes no more attachments", state.status),
        )
        .with_context(json!({"status": state.status})));
    }
    Ok(())
}

/// Extensions move a locked deadline: a hazard takes requests only while rectifying.
pub fn takes_extension_requests(state: State) -> crate::domain::Verdict {
    if state.status != HazardStatus::Rectifying {
        return Err(Refusal::conflict(
            "invalid_transition",
            format!(
                "A {} hazard's deadline is not locked; extensions are for hazards under rectification",
                state.status
            ),
        )
        .with_context(json!({"status": state.status})));
    }
    Ok(())
}

/// The status a new hazard starts in: `rectifying` when it comes with everything
/// `start_rectification` needs, `reported` otherwise.
pub fn initial_status(fields: &HazardFields) -> HazardStatus {
    if fields.missing_for_rectification().is_empty() {
        HazardStatus::Rectifying
    } else {
        HazardStatus::Reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: HazardStatus, listed: bool) -> State {
        State {
            status,
            level: HazardLevel::Major,
            listed,
        }
    }

    #[test]
    fn delisting_follows_the_accept_rule() {
        let closing = close_by_delisting(state(HazardStatus::PendingAcceptance, true)).unwrap();
        assert_eq!(closing.change.status, Some(HazardStatus::Closed));
        assert_eq!(closing.change.listed, Some(false));
        assert_eq!(closing.change.closed, Some(true));
        let refused = close_by_delisting(state(HazardStatus::Rectifying, true)).unwrap_err();
        assert_eq!(refused.code, "invalid_transition");
    }

    #[test]
    fn a_state_that_forbids_the_action_is_a_conflict() {
        let r = next_status(HazardStatus::Closed, Action::Accept).unwrap_err();
        assert_eq!(r.code, "invalid_transition");
        assert_eq!(
            r.context.unwrap()["allowed_actions"],
            serde_json::json!(["reopen"])
        );
    }
}
