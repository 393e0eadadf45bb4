//! The jurisdiction tree's levels.

text_enum! {
    /// `city`; `county` or `zone` (a functional zone, reporting like a county); `township`.
    pub enum JurisdictionLevel {
        City = "city",
        County = "county",
        Zone = "zone",
        Township = "township",
    }
}
