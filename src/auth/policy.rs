//! Who may do what: every role question is answered here (→ 403), after the query has already
//! limited the caller to their scope (→ 404).

use crate::auth::Principal;
use crate::domain::enterprise::SELF_SERVICE_FIELDS;
use crate::domain::hazard::{Action, HazardLevel, HazardSource};
use crate::domain::role::Role;
use crate::domain::{Refusal, Verdict};

fn deny(detail: impl Into<String>) -> Refusal {
    Refusal::forbidden("forbidden", detail)
}

/// Reading accounts: administrators within their reach, and the auditor.
pub fn read_accounts(p: &Principal) -> Verdict {
    match p.role {
        Role::CityAdmin | Role::CountyAdmin | Role::Auditor => Ok(()),
        _ => Err(deny("Only administrators and auditors read accounts")),
    }
}

/// Managing accounts at all: administrators only (checked before paying for a password hash).
pub fn manage_accounts(p: &Principal) -> Verdict {
    match p.role {
        Role::CityAdmin | Role::CountyAdmin => Ok(()),
        _ => Err(deny("Only administrators manage accounts")),
    }
}

/// Whether `actor` may create or change an account of `role` bound at `target_path`
/// (the jurisdiction path, or the enterprise's jurisdiction path for enterprise accounts).
/// A city admin manages every account in the city; a county admin manages its county's
/// officers and enterprise accounts; nobody else manages accounts.
pub fn manage_account(actor: &Principal, role: Role, target_path: &str) -> Verdict {
    manage_accounts(actor)?;
    let allowed_roles: &[Role] = match actor.role {
        Role::CityAdmin => Role::ALL,
        Role::CountyAdmin => &[Role::CountyOfficer, Role::Enterprise],
        _ => &[],
    };
    if !actor.reaches(target_path) {
        return Err(Refusal::forbidden(
            "out_of_jurisdiction",
            "The account would be bound outside your jurisdiction",
        ));
    }
    if !allowed_roles.contains(&role) {
        return Err(deny(format!(
            "A {} cannot manage {} accounts",
            actor.role, role
        )));
    }
    Ok(())
}

/// Only the city administrator and the auditor read the audit log.
pub fn read_audit(p: &Principal) -> Verdict {
    match p.role {
        Role::CityAdmin | Role::Auditor => Ok(()),
        _ => Err(deny(
            "Only the city administrator and auditors read the audit log",
        )),
    }
}

/// Registering an enterprise: a regulator, at a jurisdiction in reach, and — for an officer
/// bound to a department — in one of that department's sectors.
/// An unknown jurisdiction (`None`) is left to validation.
pub fn create_enterprise(
    p: &Principal,
    jurisdiction_path: Option<&str>,
    sector_code: &str,
) -> Verdict {
    if !p.role.is_regulator() {
        return Err(deny("Only regulators register enterprises"));
    }
    let Some(jurisdiction_path) = jurisdiction_path else {
        return Ok(());
    };
    if !p.reaches(jurisdiction_path) {
        return Err(Refusal::forbidden(
            "out_of_jurisdiction",
            "The jurisdiction is outside your reach",
        ));
    }
    sector_in_reach(p, sector_code)
}

/// Changing an enterprise already in scope: regulators change anything (keeping it within
/// their reach); its own enterprise account only contacts, size and safety director.
pub fn update_enterprise(
    p: &Principal,
    changed_fields: &[&str],
    new_jurisdiction_path: Option<&str>,
    new_sector: Option<&str>,
) -> Verdict {
    match p.role {
        Role::Auditor => Err(deny("Auditors have read-only access")),
        Role::Enterprise => {
            let refused: Vec<&str> = changed_fields
                .iter()
                .copied()
                .filter(|f| !SELF_SERVICE_FIELDS.contains(f))
                .collect();
            if refused.is_empty() {
                Ok(())
            } else {
                Err(Refusal::forbidden(
                    "field_not_allowed",
                    format!(
                        "An enterprise account may change only {}; refused: {}",
                        SELF_SERVICE_FIELDS.join(", "),
                        refused.join(", ")
                    ),
                ))
            }
        }
        _ => {
            if let Some(path) = new_jurisdiction_path {
                if !p.reaches(path) {
                    return Err(Refusal::forbidden(
                        "out_of_jurisdiction",
                        "The new jurisdiction is outside your reach",
                    ));
                }
            }
            match new_sector {
                Some(s) => sector_in_reach(p, s),
                None => Ok(()),
            }
        }
    }
}

fn sector_in_reach(p: &Principal, sector_code: &str) -> Verdict {
    match &p.department_sectors {
        Some(sectors) if !sectors.iter().any(|s| s == sector_code) => Err(Refusal::forbidden(
            "out_of_sector",
            "Your department does not supervise this sector",
        )),
        _ => Ok(()),
    }
}

/// Recording and editing hazards, their attachments and extension requests: regulators in scope
/// and the enterprise's own accounts. Auditors only read.
pub fn work_on_hazards(p: &Principal) -> Verdict {
    if p.role == Role::Auditor {
        return Err(deny("Auditors have read-only access"));
    }
    Ok(())
}

/// What a hazard's finder wrote down: an enterprise may not rewrite a finding a regulator
/// recorded, only fill in the rectification (五定, report, plan).
pub const HAZARD_FINDING_FIELDS: &[&str] = &[
    "title",
    "description",
    "location",
    "source",
    "nature",
    "standard_ref",
    "major_reason",
    "discovered_on",
];

/// Editing a hazard's fields. `reporter`: the role of the account that recorded it.
pub fn edit_hazard(p: &Principal, reporter: Option<Role>, changed: &[String]) -> Verdict {
    work_on_hazards(p)?;
    let found_by_regulator = reporter != Some(Role::Enterprise);
    if p.role != Role::Enterprise || !found_by_regulator {
        return Ok(());
    }
    let refused: Vec<&str> = changed
        .iter()
        .map(String::as_str)
        .filter(|f| HAZARD_FINDING_FIELDS.contains(f))
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Refusal::forbidden(
            "field_not_allowed",
            format!(
                "A regulator recorded this finding; your account may fill in the rectification but not change: {}",
                refused.join(", ")
            ),
        ))
    }
}

/// Who may take a lifecycle action on a hazard of `level` (SPEC §3). Separation of duties and
/// the state machine are checked after this, where the hazard's state is known.
pub fn hazard_action(
    p: &Principal,
    action: Action,
    level: HazardLevel,
    new_level: Option<HazardLevel>,
) -> Verdict {
    work_on_hazards(p)?;
    if p.role.is_regulator() {
        return Ok(());
    }
    match action {
        Action::StartRectification | Action::SubmitForAcceptance => Ok(()),
        Action::Accept | Action::Reject if level == HazardLevel::General => Ok(()),
        Action::Accept | Action::Reject => Err(Refusal::forbidden(
            "regulator_required",
            "Only a regulator accepts or rejects the rectification of a major hazard",
        )),
        // An enterprise may raise its own hazard to major, never lower one.
        Action::Regrade
            if !(level == HazardLevel::Major && new_level == Some(HazardLevel::General)) =>
        {
            Ok(())
        }
        Action::Regrade => Err(Refusal::forbidden(
            "regulator_required",
            "Only a regulator regrades a hazard from major to general",
        )),
        Action::Void | Action::Reopen => Err(Refusal::forbidden(
            "regulator_required",
            "Only a regulator voids or reopens a hazard",
        )),
    }
}

/// Enterprises self-inspect; regulators inspect. Neither may claim the other's source; without
/// one, each gets its own.
pub fn hazard_source(p: &Principal, given: Option<HazardSource>) -> Result<HazardSource, Refusal> {
    let (default, refused) = if p.role == Role::Enterprise {
        (
            HazardSource::SelfInspection,
            HazardSource::RegulatorInspection,
        )
    } else {
        (
            HazardSource::RegulatorInspection,
            HazardSource::SelfInspection,
        )
    };
    match given {
        Some(s) if s == refused => Err(Refusal::invalid_field(
            "/source",
            format!("a {} cannot record a hazard as {}", p.role, s),
        )),
        Some(s) => Ok(s),
        None => Ok(default),
    }
}

/// Closing a rectification — accepting it, or delisting its listing (销号) — is never done by
/// the user who submitted it (separation of duties). The role part of accepting is
/// [`hazard_action`]; the listing authority's is [`listing_authority`].
pub fn close_rectification(p: &Principal, submitted_by: Option<i64>, how: &str) -> Verdict {
    not_the_same_user(p, submitted_by, how)
}

/// The user who submitted a rectification never accepts it (separation of duties); nor does
/// the requester of an extension decide it.
pub fn not_the_same_user(p: &Principal, other: Option<i64>, what: &str) -> Verdict {
    if other == Some(p.account_id) {
        return Err(Refusal::forbidden(
            "separation_of_duties",
            format!("You cannot {what} yourself; another user must"),
        ));
    }
    Ok(())
}

/// Deciding a deadline extension: a regulator in scope.
pub fn decide_extension(p: &Principal) -> Verdict {
    if !p.role.is_regulator() {
        return Err(Refusal::forbidden(
            "regulator_required",
            "Only a regulator decides a deadline extension",
        ));
    }
    Ok(())
}

/// Listing, delisting and cancelling (挂牌督办 / 销号): an administrator of the authority
/// jurisdiction or of an ancestor. A county admin therefore lists at county level in its own
/// county only; the city admin at city (and records province) level.
pub fn listing_authority(p: &Principal, authority_path: &str) -> Verdict {
    if !matches!(p.role, Role::CityAdmin | Role::CountyAdmin) {
        return Err(deny(
            "Only administrators list, delist or cancel listed supervision",
        ));
    }
    if !p.reaches(authority_path) {
        return Err(Refusal::forbidden(
            "out_of_jurisdiction",
            "The listing authority is outside your jurisdiction",
        ));
    }
    Ok(())
}

/// Editing the two lists: regulators (within reach, checked with the owner); auditors read.
pub fn edit_lists(p: &Principal) -> Verdict {
    if !p.role.is_regulator() {
        return Err(deny("Only regulators edit the two lists"));
    }
    Ok(())
}

/// The owner of a list item (a jurisdiction, by tree path) is at or below the editor's own.
pub fn list_owner(p: &Principal, owner_path: &str) -> Verdict {
    if !p.reaches(owner_path) {
        return Err(Refusal::forbidden(
            "out_of_jurisdiction",
            "The owner is outside your jurisdiction",
        ));
    }
    Ok(())
}

/// A `province` listing is recorded by the city administrator only.
pub fn listing_level(p: &Principal, level: crate::domain::listing::ListingLevel) -> Verdict {
    if level == crate::domain::listing::ListingLevel::Province && p.role != Role::CityAdmin {
        return Err(deny(
            "A province listing is recorded by the city administrator",
        ));
    }
    Ok(())
}

/// Statistics are for regulators and auditors.
pub fn read_stats(p: &Principal) -> Verdict {
    if p.role == Role::Enterprise {
        return Err(deny("Statistics are for regulators and auditors"));
    }
    Ok(())
}

/// A list submission is made by an administrator or officer of the owner's own jurisdiction.
pub fn submit_lists(p: &Principal, owner_jurisdiction_code: &str) -> Verdict {
    if !p.role.is_regulator() || p.jurisdiction_code.as_deref() != Some(owner_jurisdiction_code) {
        return Err(deny(
            "A submission is made by an administrator or officer of the owner's own jurisdiction",
        ));
    }
    Ok(())
}

/// The city (`city_admin`, `city_officer`) reviews list submissions.
pub fn review_submissions(p: &Principal) -> Verdict {
    match p.role {
        Role::CityAdmin | Role::CityOfficer => Ok(()),
        _ => Err(deny("Only the city reviews submissions")),
    }
}

/// Who takes a second factor (TOTP): the administrators (等保 2.0 level 3 asks two factors of
/// privileged users).
pub fn use_second_factor(p: &Principal) -> Verdict {
    match p.role {
        Role::CityAdmin | Role::CountyAdmin => Ok(()),
        _ => Err(deny(
            "Only administrators (city_admin, county_admin) use a second factor",
        )),
    }
}

/// With `HAZREG_ADMIN_TOTP=required`: an administrator whose session did not pass a second
/// factor may only read `/me`, enrol (`enrolling`) and sign out until it does.
pub fn second_factor_gate(p: &Principal, required: bool, enrolling: bool) -> Verdict {
    if !required || enrolling || p.second_factor || use_second_factor(p).is_err() {
        return Ok(());
    }
    Err(Refusal::forbidden(
        "second_factor_required",
        "Administrators must sign in with a second factor here: enrol with POST \
         /api/v1/me/totp and /api/v1/me/totp/confirm, then sign in again with totp_code",
    ))
}

/// Which kinds of events a caller's feed (and its webhooks) carry: the records it may `GET`.
/// Regulated records for everyone (within scope); the two lists for regulators and auditors
/// (enterprises keep none); accounts for those who read accounts ([`read_accounts`]).
pub fn feed_audiences(p: &Principal) -> Vec<crate::domain::event::Audience> {
    use crate::domain::event::Audience;
    let mut audiences = vec![Audience::Regulated];
    if p.enterprise_id.is_none() {
        audiences.push(Audience::Lists);
    }
    if read_accounts(p).is_ok() {
        audiences.push(Audience::Accounts);
    }
    audiences
}

/// Subscribing to webhooks: administrators (their jurisdiction) and enterprise accounts (their
/// enterprise); a subscription sees what its owner's feed shows.
pub fn subscribe_webhooks(p: &Principal) -> Verdict {
    match p.role {
        Role::CityAdmin | Role::CountyAdmin | Role::Enterprise => Ok(()),
        _ => Err(deny(
            "Only administrators and enterprise accounts subscribe to webhooks",
        )),
    }
}

/// Which reminders a caller reads (within its scope): enterprise accounts only those addressed
/// to the enterprise (`due_soon`); regulators and auditors every kind.
pub fn reminder_kinds(p: &Principal) -> Option<Vec<crate::domain::reminder::ReminderKind>> {
    use crate::domain::reminder::ReminderKind;
    p.enterprise_id.map(|_| vec![ReminderKind::DueSoon])
}

/// Acknowledging a reminder: those it is addressed to. `due_soon`: the enterprise's accounts
/// or a regulator in scope; `overdue`: a regulator in scope; `escalated`: a city-level
/// regulator. Auditors only read.
pub fn acknowledge_reminder(p: &Principal, kind: crate::domain::reminder::ReminderKind) -> Verdict {
    use crate::domain::jurisdiction::Reach;
    use crate::domain::reminder::ReminderKind;
    if p.role == Role::Auditor {
        return Err(deny(
            "Auditors read reminders; they do not acknowledge them",
        ));
    }
    let city_level = matches!(p.reach, Some(Reach::City(_)) | Some(Reach::Everything));
    match (kind, p.role) {
        (ReminderKind::DueSoon, _) => Ok(()),
        (_, Role::Enterprise) => Err(deny("This reminder is addressed to the regulator")),
        (ReminderKind::Overdue, _) => Ok(()),
        (ReminderKind::Escalated, _) if city_level => Ok(()),
        (ReminderKind::Escalated, _) => Err(deny(
            "An escalation is addressed to the city; a city-level regulator acknowledges it",
        )),
    }
}

/// A quarterly report is made by the enterprise, or filed for it by a regulator in scope (a
/// paper report); auditors only read.
pub fn submit_quarterly_report(p: &Principal) -> Verdict {
    if p.role == Role::Auditor {
        return Err(deny("Auditors read reports; they do not submit them"));
    }
    Ok(())
}

/// Handling public reports (triage, convert, dismiss, verify): regulators in scope; auditors
/// only read. (Enterprise accounts never see them: `404`.)
pub fn handle_public_reports(p: &Principal) -> Verdict {
    if !p.role.is_regulator() {
        return Err(deny("Only regulators handle public reports"));
    }
    Ok(())
}

/// A public reporter's contact is confidential: regulator administrators in scope see it,
/// nobody else (officers, auditors, enterprises).
pub fn see_reporter_contact(p: &Principal) -> bool {
    matches!(p.role, Role::CityAdmin | Role::CountyAdmin)
}

/// The risk register (units, events, measures) is kept by the enterprise itself; regulators
/// and auditors read it. Answers the enterprise whose register it is.
pub fn edit_risk_register(p: &Principal) -> Result<i64, Refusal> {
    match (p.role, p.enterprise_id) {
        (Role::Enterprise, Some(id)) => Ok(id),
        _ => Err(deny(
            "The enterprise keeps its own risk register; regulators and auditors read it",
        )),
    }
}
