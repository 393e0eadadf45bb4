//! Deadline extensions (hazards and listings alike): their closed vocabularies.

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
