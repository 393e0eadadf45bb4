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

impl JurisdictionLevel {
    /// A county-level unit (区县级): a county, county-level city or district, or a functional
    /// zone that reports like one. Hazard codes and county statistics are by this unit.
    pub fn is_county_level(self) -> bool {
        matches!(self, JurisdictionLevel::County | JurisdictionLevel::Zone)
    }

    /// The units that keep the two lists: the county-level units and the city.
    pub fn keeps_lists(self) -> bool {
        self.is_county_level() || self == JurisdictionLevel::City
    }
}

/// The county-level unit of a jurisdiction, given its chain from the root (`(code, level)`,
/// root first): the nearest county-level ancestor-or-self; for a city-level jurisdiction, the
/// root of the chain.
pub fn county_level_unit(chain: &[(String, JurisdictionLevel)]) -> Option<&str> {
    chain
        .iter()
        .rev()
        .find(|(_, level)| level.is_county_level())
        .or(chain.first())
        .map(|(code, _)| code.as_str())
}

/// The city of a jurisdiction, given its chain from the root: the first `city` on it, or the
/// root.
pub fn city_of(chain: &[(String, JurisdictionLevel)]) -> Option<&str> {
    chain
        .iter()
        .find(|(_, level)| *level == JurisdictionLevel::City)
        .or(chain.first())
        .map(|(code, _)| code.as_str())
}
