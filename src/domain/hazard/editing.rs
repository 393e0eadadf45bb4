//! Changing a hazard's fields (`PATCH`): what may change at which stage. Pure: the caller
//! merges the patch, asks the policy who may change which field, and saves what this returns.

use chrono::NaiveDate;
use serde_json::json;

use super::lifecycle::State;
use super::{HazardFields, HazardSource, HazardStatus};
use crate::domain::Refusal;

/// The fields after the edit, checked against the rules of the hazard's stage, in the
/// documented order: `409 not_editable`, `409 deadline_locked`, then the `422`s. `source`
/// decides the `source` (the policy's rule for the caller, when the patch names one).
pub fn edit(
    state: State,
    current: &HazardFields,
    enterprise_id: i64,
    mut input: HazardFields,
    today: NaiveDate,
    source: impl FnOnce(Option<HazardSource>) -> Result<HazardSource, Refusal>,
) -> Result<HazardFields, Refusal> {
    if !state.status.is_open() {
        return Err(Refusal::conflict(
            "not_editable",
            format!(
                "A {} hazard cannot be changed; reopen it first",
                state.status
            ),
        )
        .with_context(json!({"status": state.status})));
    }
    if input.rectification_deadline != current.rectification_deadline
        && state.status != HazardStatus::Reported
    {
        return Err(Refusal::conflict(
            "deadline_locked",
            "The deadline is locked once rectification has started; request an extension",
        )
        .with_context(json!({
            "status": state.status,
            "rectification_deadline": current.rectification_deadline,
        })));
    }
    if input.enterprise_id != Some(enterprise_id) {
        return Err(Refusal::invalid_field("/enterprise_id", "cannot change"));
    }
    if input.level != state.level {
        return Err(Refusal::invalid_field(
            "/level",
            "change the level with the regrade transition",
        ));
    }
    input.source = Some(source(input.source)?);
    let fields = input.validate(today).map_err(Refusal::invalid)?;
    // Once rectification has started, the 五定 block (and the major documents) stay complete.
    if state.status != HazardStatus::Reported {
        let missing = fields.missing_for_rectification();
        if !missing.is_empty() {
            return Err(Refusal::invalid(missing));
        }
    }
    Ok(fields)
}

/// The enterprise a new hazard is recorded at: an enterprise account's own (naming another is
/// `404`, as if it did not exist), or the one a regulator names (required).
pub fn enterprise_of_new(own: Option<i64>, named: Option<i64>) -> Result<i64, Refusal> {
    match (own, named) {
        (Some(own), Some(named)) if named != own => Err(Refusal::not_found()),
        (Some(own), _) => Ok(own),
        (None, Some(named)) => Ok(named),
        (None, None) => Err(Refusal::invalid_field(
            "/enterprise_id",
            "required: the enterprise the hazard was found at",
        )),
    }
}
