//! The change feed's vocabulary (SPEC §8): what an event is called, what it is about, who may
//! read it, and the position a reader resumes from.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

text_enum! {
    /// What happened, as `<subject>.<verb>`. `hazard.transitioned` carries the lifecycle
    /// `action` in its `data`.
    pub enum EventType {
        EnterpriseCreated = "enterprise.created",
        EnterpriseUpdated = "enterprise.updated",
        HazardCreated = "hazard.created",
        HazardUpdated = "hazard.updated",
        HazardTransitioned = "hazard.transitioned",
        HazardExtensionRequested = "hazard.extension_requested",
        HazardExtensionDecided = "hazard.extension_decided",
        HazardAttachmentAdded = "hazard.attachment_added",
        ListingCreated = "listing.created",
        ListingDelisted = "listing.delisted",
        ListingCancelled = "listing.cancelled",
        ListingExtensionRequested = "listing.extension_requested",
        ListingExtensionDecided = "listing.extension_decided",
        ProblemItemCreated = "problem_item.created",
        ProblemItemUpdated = "problem_item.updated",
        MeasureItemCreated = "measure_item.created",
        MeasureItemUpdated = "measure_item.updated",
        ListSubmissionCreated = "list_submission.created",
        ListSubmissionReviewed = "list_submission.reviewed",
        AccountCreated = "account.created",
        AccountUpdated = "account.updated",
        ReminderRaised = "reminder.raised",
        ReminderAcknowledged = "reminder.acknowledged",
        QuarterlyReportCreated = "quarterly_report.created",
    }
}

text_enum! {
    /// What an event is about: its `GET` is what the event's `data` holds.
    pub enum SubjectType {
        Enterprise = "enterprise",
        Hazard = "hazard",
        Listing = "listing",
        ProblemItem = "problem_item",
        MeasureItem = "measure_item",
        ListSubmission = "list_submission",
        Account = "account",
        Reminder = "reminder",
        QuarterlyReport = "quarterly_report",
    }
}

text_enum! {
    /// Which readers an event is for, besides its place: regulated records (enterprises,
    /// hazards, listings) are read by regulators in reach (and department sectors) and by the
    /// enterprise itself; the two lists by regulators in reach; accounts by those who may read
    /// accounts.
    pub enum Audience {
        Regulated = "regulated",
        Lists = "lists",
        Accounts = "accounts",
    }
}

impl EventType {
    pub fn subject(self) -> SubjectType {
        let (subject, _) = self.as_str().split_once('.').unwrap_or_default();
        SubjectType::parse(subject).unwrap_or(SubjectType::Hazard)
    }
}

impl SubjectType {
    pub fn audience(self) -> Audience {
        match self {
            // A reminder's own audience depends on its kind (`db::events::publish_for`).
            SubjectType::Enterprise
            | SubjectType::Hazard
            | SubjectType::Listing
            | SubjectType::Reminder
            | SubjectType::QuarterlyReport => Audience::Regulated,
            SubjectType::ProblemItem | SubjectType::MeasureItem | SubjectType::ListSubmission => {
                Audience::Lists
            }
            SubjectType::Account => Audience::Accounts,
        }
    }
}

/// A place in the feed: the writing transaction (PostgreSQL's transaction id; 0 on SQLite) and
/// the event id. Readers go in this order; see `db::events` for why it has no gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub tx: i64,
    pub id: i64,
}

const CURSOR_PREFIX: &str = "f1:";

impl Position {
    /// The opaque cursor a client resumes from. It is not signed: it names a place in the
    /// feed, and every page is filtered by the reader's own scope, so a made-up cursor shows
    /// nothing more than a real one. It survives a rotation of the server's secrets.
    pub fn cursor(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{}:{}", self.tx, self.id))
    }

    pub fn from_cursor(raw: &str) -> Option<Position> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let (tx, id) = text.strip_prefix(CURSOR_PREFIX)?.split_once(':')?;
        let (tx, id) = (tx.parse().ok()?, id.parse().ok()?);
        (tx >= 0 && id >= 0).then_some(Position { tx, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let p = Position {
            tx: 912_345,
            id: 77,
        };
        assert_eq!(Position::from_cursor(&p.cursor()), Some(p));
        assert_eq!(Position::from_cursor("f1:1:2"), None);
        assert_eq!(Position::from_cursor(""), None);
        let negative = URL_SAFE_NO_PAD.encode("f1:-1:2");
        assert_eq!(Position::from_cursor(&negative), None);
        let junk = URL_SAFE_NO_PAD.encode("f1:1:2:3");
        assert_eq!(Position::from_cursor(&junk), None);
    }

    #[test]
    fn every_type_names_its_subject() {
        for t in EventType::ALL {
            assert_eq!(
                t.as_str().split_once('.').map(|(s, _)| s),
                Some(t.subject().as_str())
            );
        }
    }
}
