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

/// Everything at or below one jurisdiction, named by the column that says so in one equality.
/// The tree has fixed levels (city → county or zone → township; the reference data is checked
/// for that shape), so every regulated row carries its city, its county-level unit and its own
/// jurisdiction, and "at or below X" is `city_code = X`, `county_code = X` or
/// `jurisdiction_code = X` by X's level. An index led by that column serves every scoped list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A city and everything below it.
    City(String),
    /// A county-level unit (county or zone) and its townships.
    CountyLevel(String),
    /// A township: only itself (townships have no children).
    Exact(String),
    /// The whole tree: only the command line's own principal.
    Everything,
}

impl Reach {
    pub fn of(level: JurisdictionLevel, code: &str) -> Reach {
        let code = code.to_string();
        match level {
            JurisdictionLevel::City => Reach::City(code),
            JurisdictionLevel::County | JurisdictionLevel::Zone => Reach::CountyLevel(code),
            JurisdictionLevel::Township => Reach::Exact(code),
        }
    }
}

/// The parent level a jurisdiction of `level` must have (`None`: it is a root). The fixed
/// shape is what lets [`Reach`] be one equality.
pub fn allowed_parent(level: JurisdictionLevel, parent: Option<JurisdictionLevel>) -> bool {
    matches!(
        (level, parent),
        (JurisdictionLevel::City, None)
            | (
                JurisdictionLevel::County | JurisdictionLevel::Zone,
                Some(JurisdictionLevel::City)
            )
            | (
                JurisdictionLevel::Township,
                Some(JurisdictionLevel::County | JurisdictionLevel::Zone)
            )
    )
}
