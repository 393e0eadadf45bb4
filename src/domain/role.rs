use super::jurisdiction::JurisdictionLevel;

text_enum! {
    /// What an account may do; see SPEC §1.
    pub enum Role {
        CityAdmin = "city_admin",
        CityOfficer = "city_officer",
        CountyAdmin = "county_admin",
        CountyOfficer = "county_officer",
        Enterprise = "enterprise",
        Auditor = "auditor",
    }
}

impl Role {
    /// Regulators write regulated data inside their scope; auditors only read.
    pub fn is_regulator(self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::CityOfficer | Role::CountyAdmin | Role::CountyOfficer
        )
    }

    pub fn is_officer(self) -> bool {
        matches!(self, Role::CityOfficer | Role::CountyOfficer)
    }

    /// Jurisdiction levels an account of this role may be bound to.
    pub fn may_bind_to(self, level: JurisdictionLevel) -> bool {
        match self {
            Role::CityAdmin | Role::CityOfficer | Role::Auditor => level == JurisdictionLevel::City,
            Role::CountyAdmin | Role::CountyOfficer => level.is_county_level(),
            Role::Enterprise => false,
        }
    }

    /// The levels [`Role::may_bind_to`] accepts, for messages.
    pub fn jurisdiction_levels(self) -> Vec<&'static str> {
        JurisdictionLevel::ALL
            .iter()
            .filter(|l| self.may_bind_to(**l))
            .map(|l| l.as_str())
            .collect()
    }
}
