//! Listed supervision (挂牌督办) of major hazards: its vocabulary and the rules for listing.
//! Not to be confused with the two lists (两个清单, `domain::lists`).

use chrono::NaiveDate;
use serde_json::json;

use super::hazard::lifecycle::State;
use super::hazard::{HazardLevel, NO_DEADLINE};
use super::validate::Errors;
use super::Refusal;

text_enum! {
    /// Who listed the hazard: the province (recorded by the city), the city, or the county.
    pub enum ListingLevel {
        Province = "province",
        City = "city",
        County = "county",
    }
}

text_enum! {
    pub enum ListingStatus {
        Listed = "listed",
        Delisted = "delisted",
        Cancelled = "cancelled",
    }
}

/// Which unit lists at a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The hazard's county-level unit (`county` listings).
    CountyLevelUnit,
    /// The hazard's city (`city` and `province` listings: the city records the province's).
    City,
}

impl ListingLevel {
    pub fn authority(self) -> Authority {
        match self {
            ListingLevel::County => Authority::CountyLevelUnit,
            ListingLevel::City | ListingLevel::Province => Authority::City,
        }
    }
}

/// What a new listing says, normalised.
#[derive(Debug, Clone)]
pub struct ListingTexts {
    pub notice_no: String,
    pub requirements: String,
    pub responsible_unit: String,
}

/// Whether a hazard in `hazard` can be listed with these texts and deadline, in the documented
/// order: `409 already_listed`, `409 invalid_transition` (closed or void), then every `422`
/// at once (not major, empty texts, a past deadline).
pub fn check_new(
    hazard: State,
    already_listed: bool,
    texts: ListingTexts,
    deadline: NaiveDate,
    today: NaiveDate,
) -> Result<ListingTexts, Refusal> {
    if already_listed {
        return Err(already_listed_refusal());
    }
    if !hazard.status.is_open() {
        return Err(Refusal::conflict(
            "invalid_transition",
            format!("A {} hazard cannot be listed", hazard.status),
        )
        .with_context(json!({"status": hazard.status})));
    }
    let mut e = Errors::default();
    if hazard.level != HazardLevel::Major {
        e.add("/hazard_id", "only a major hazard can be listed");
    }
    let texts = ListingTexts {
        notice_no: e.text("/notice_no", &texts.notice_no, 100),
        requirements: e.text("/requirements", &texts.requirements, 5000),
        responsible_unit: e.text("/responsible_unit", &texts.responsible_unit, 200),
    };
    if deadline < today || deadline >= NO_DEADLINE {
        e.add("/deadline", "must be today or later");
    }
    e.into_result().map_err(Refusal::invalid)?;
    Ok(texts)
}

/// One active listing per hazard.
pub fn already_listed_refusal() -> Refusal {
    Refusal::conflict(
        "already_listed",
        "This hazard already has an active listing",
    )
}

/// Delisting and cancelling end an active listing only.
pub fn check_active(status: ListingStatus) -> super::Verdict {
    if status != ListingStatus::Listed {
        return Err(Refusal::conflict(
            "invalid_transition",
            format!("The listing is already {status}"),
        )
        .with_context(json!({"status": status})));
    }
    Ok(())
}
