//! First start: load the reference data (a deployment may replace the file) and create the
//! first city administrator. Running it again on a seeded database changes nothing.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::accounts::{self, AccountBinding};
use super::audit::{self, Actor};
use super::schema::{department_sectors, departments, jurisdictions, sectors};
use super::{write_tx, AnyConnection};
use crate::domain::enterprise::SafetyDirectorRule;
use crate::domain::role::Role;

pub const BUILTIN_REFERENCE: &str = include_str!("../../reference/loudi.json");

#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceData {
    pub jurisdictions: Vec<JurisdictionSeed>,
    pub sectors: Vec<SectorSeed>,
    pub departments: Vec<DepartmentSeed>,
    pub safety_director_rule: SafetyDirectorRule,
    /// LS and LEC grading thresholds (`domain::risk`); the common tables when absent.
    #[serde(default)]
    pub risk_grading: crate::domain::risk::RiskGrading,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JurisdictionSeed {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SectorSeed {
    pub code: String,
    pub name: String,
    pub high_risk: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DepartmentSeed {
    pub name: String,
    pub jurisdiction_code: String,
    pub sectors: Vec<String>,
}

impl ReferenceData {
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<ReferenceData> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|e| {
                anyhow::anyhow!("HAZREG_REFERENCE_DATA: cannot read {}: {e}", p.display())
            })?,
            None => BUILTIN_REFERENCE.to_string(),
        };
        let data: ReferenceData = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("reference data is not valid: {e}"))?;
        data.check()?;
        Ok(data)
    }

    /// The tree paths of all jurisdictions (`/root/child/`), checking the tree is sound.
    pub fn paths(&self) -> anyhow::Result<HashMap<&str, String>> {
        let parents: HashMap<&str, Option<&str>> = self
            .jurisdictions
            .iter()
            .map(|j| (j.code.as_str(), j.parent_code.as_deref()))
            .collect();
        let mut paths = HashMap::new();
        for j in &self.jurisdictions {
            let mut chain = vec![j.code.as_str()];
            let mut cur = j.parent_code.as_deref();
            while let Some(c) = cur {
                if chain.contains(&c) {
                    anyhow::bail!("reference data: jurisdiction {} is in a cycle", j.code);
                }
                chain.push(c);
                cur = *parents.get(c).ok_or_else(|| {
                    anyhow::anyhow!("reference data: unknown parent {c} of {}", j.code)
                })?;
            }
            chain.reverse();
            paths.insert(j.code.as_str(), format!("/{}/", chain.join("/")));
        }
        Ok(paths)
    }

    /// Each jurisdiction's city and county-level unit (`domain::jurisdiction::{city_of,
    /// county_level_unit}`), which every regulated row copies so scope is one equality.
    pub fn units(&self) -> anyhow::Result<HashMap<&str, (String, String)>> {
        use crate::domain::jurisdiction::{city_of, county_level_unit, JurisdictionLevel};
        let paths = self.paths()?;
        let levels: HashMap<&str, JurisdictionLevel> = self
            .jurisdictions
            .iter()
            .filter_map(|j| Some((j.code.as_str(), JurisdictionLevel::parse(&j.level)?)))
            .collect();
        let mut units = HashMap::new();
        for j in &self.jurisdictions {
            let chain: Vec<(String, JurisdictionLevel)> = paths[j.code.as_str()]
                .trim_matches('/')
                .split('/')
                .filter_map(|c| Some((c.to_string(), *levels.get(c)?)))
                .collect();
            let city = city_of(&chain).unwrap_or(&j.code).to_string();
            let county = county_level_unit(&chain).unwrap_or(&j.code).to_string();
            units.insert(j.code.as_str(), (city, county));
        }
        Ok(units)
    }

    fn check(&self) -> anyhow::Result<()> {
        self.risk_grading
            .check()
            .map_err(|e| anyhow::anyhow!("reference data: {e}"))?;
        use crate::domain::jurisdiction::{allowed_parent, JurisdictionLevel};
        let levels: HashMap<&str, Option<JurisdictionLevel>> = self
            .jurisdictions
            .iter()
            .map(|j| (j.code.as_str(), JurisdictionLevel::parse(&j.level)))
            .collect();
        for j in &self.jurisdictions {
            if let Some(level) = levels[j.code.as_str()] {
                let parent = j
                    .parent_code
                    .as_deref()
                    .and_then(|p| levels.get(p).copied().flatten());
                if !allowed_parent(level, parent) {
                    anyhow::bail!(
                        "reference data: jurisdiction {} ({}) cannot sit under {} (the tree is \
                         city → county or zone → township)",
                        j.code,
                        j.level,
                        j.parent_code.as_deref().unwrap_or("nothing")
                    );
                }
            }
        }
        let mut seen = HashSet::new();
        for j in &self.jurisdictions {
            if crate::domain::jurisdiction::JurisdictionLevel::parse(&j.level).is_none() {
                anyhow::bail!(
                    "reference data: jurisdiction {} has unknown level {}",
                    j.code,
                    j.level
                );
            }
            if j.code.contains('/') || !seen.insert(j.code.as_str()) {
                anyhow::bail!(
                    "reference data: jurisdiction code {} is invalid or repeated",
                    j.code
                );
            }
        }
        self.paths()?;
        let sectors: HashSet<&str> = self.sectors.iter().map(|s| s.code.as_str()).collect();
        for d in &self.departments {
            if !seen.contains(d.jurisdiction_code.as_str()) {
                anyhow::bail!(
                    "reference data: department {} has unknown jurisdiction",
                    d.name
                );
            }
            if let Some(s) = d.sectors.iter().find(|s| !sectors.contains(s.as_str())) {
                anyhow::bail!(
                    "reference data: department {} has unknown sector {s}",
                    d.name
                );
            }
        }
        if self.root().is_none() {
            anyhow::bail!("reference data: no root jurisdiction (one without parent_code)");
        }
        Ok(())
    }

    /// The first root jurisdiction: where the first administrator is bound.
    pub fn root(&self) -> Option<&JurisdictionSeed> {
        self.jurisdictions.iter().find(|j| j.parent_code.is_none())
    }
}

/// Loads the reference data into an empty database. Returns whether it did.
pub fn reference_if_empty(conn: &mut AnyConnection, data: &ReferenceData) -> anyhow::Result<bool> {
    let paths = data.paths()?;
    let units = data.units()?;
    let inserted = write_tx(conn, |conn| {
        let existing: i64 = jurisdictions::table.count().get_result(conn)?;
        if existing > 0 {
            return Ok::<_, diesel::result::Error>(false);
        }
        let now = super::now();
        // Parents first: sort by depth.
        let mut ordered: Vec<&JurisdictionSeed> = data.jurisdictions.iter().collect();
        ordered.sort_by_key(|j| paths[j.code.as_str()].matches('/').count());
        for j in ordered {
            diesel::insert_into(jurisdictions::table)
                .values((
                    jurisdictions::code.eq(&j.code),
                    jurisdictions::name.eq(&j.name),
                    jurisdictions::level.eq(&j.level),
                    jurisdictions::parent_code.eq(&j.parent_code),
                    jurisdictions::path.eq(&paths[j.code.as_str()]),
                    jurisdictions::updated_at.eq(now),
                    jurisdictions::city_code.eq(&units[j.code.as_str()].0),
                    jurisdictions::county_code.eq(&units[j.code.as_str()].1),
                ))
                .execute(conn)?;
        }
        for s in &data.sectors {
            diesel::insert_into(sectors::table)
                .values((
                    sectors::code.eq(&s.code),
                    sectors::name.eq(&s.name),
                    sectors::high_risk.eq(s.high_risk),
                    sectors::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        for d in &data.departments {
            let id: i64 = diesel::insert_into(departments::table)
                .values((
                    departments::name.eq(&d.name),
                    departments::jurisdiction_code.eq(&d.jurisdiction_code),
                    departments::updated_at.eq(now),
                ))
                .returning(departments::id)
                .get_result(conn)?;
            for s in &d.sectors {
                diesel::insert_into(department_sectors::table)
                    .values((
                        department_sectors::department_id.eq(id),
                        department_sectors::sector_code.eq(s),
                    ))
                    .execute(conn)?;
            }
        }
        audit::record(
            conn,
            &Actor::system(),
            "seed",
            "reference_data",
            "reference_data",
            &json!({
                "jurisdictions": data.jurisdictions.len(),
                "sectors": data.sectors.len(),
                "departments": data.departments.len(),
            }),
        )?;
        Ok(true)
    })?;
    Ok(inserted)
}

/// Creates the city administrator `admin` when there is no account at all.
/// `hash` turns the password into its stored form. Returns whether it did.
pub fn admin_if_no_accounts(
    conn: &mut AnyConnection,
    data: &ReferenceData,
    password_hash: &str,
) -> anyhow::Result<bool> {
    let root = data
        .root()
        .ok_or_else(|| anyhow::anyhow!("no root jurisdiction"))?;
    let created = write_tx(conn, |conn| {
        if accounts::count(conn)? > 0 {
            return Ok::<_, diesel::result::Error>(false);
        }
        let binding = AccountBinding {
            display_name: "City administrator".into(),
            role: Role::CityAdmin.as_str().into(),
            jurisdiction_code: Some(root.code.clone()),
            department_id: None,
            enterprise_id: None,
            disabled: false,
        };
        let row = accounts::insert(conn, "admin", password_hash, &binding)?;
        audit::record(
            conn,
            &Actor::system(),
            "create",
            "account",
            &row.id.to_string(),
            &json!({"username": {"before": null, "after": "admin"}, "role": {"before": null, "after": "city_admin"}}),
        )?;
        Ok(true)
    })?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::ReferenceData;

    fn data(jurisdictions: &str) -> anyhow::Result<ReferenceData> {
        let text = format!(
            r#"{{"jurisdictions": {jurisdictions}, "sectors": [], "departments": [],
                "safety_director_rule": {{"min_employees": 100, "min_annual_revenue_10k_yuan": 5000,
                "sectors": []}}}}"#
        );
        let data: ReferenceData = serde_json::from_str(&text)?;
        data.check()?;
        Ok(data)
    }

    const CITY: &str = r#"{"code": "C", "name": "c", "level": "city", "parent_code": null}"#;

    #[test]
    fn the_tree_has_its_fixed_shape() {
        let ok = data(&format!(
            r#"[{CITY},
               {{"code": "K", "name": "k", "level": "county", "parent_code": "C"}},
               {{"code": "Z", "name": "z", "level": "zone", "parent_code": "C"}},
               {{"code": "T", "name": "t", "level": "township", "parent_code": "Z"}}]"#
        ))
        .expect("city → county or zone → township");
        let units = ok.units().expect("units");
        assert_eq!(units["T"], ("C".to_string(), "Z".to_string()));
        assert_eq!(units["K"], ("C".to_string(), "K".to_string()));
        assert_eq!(units["C"], ("C".to_string(), "C".to_string()));
        for bad in [
            r#"{"code": "T", "name": "t", "level": "township", "parent_code": "C"}"#,
            r#"{"code": "K2", "name": "k", "level": "county", "parent_code": null}"#,
            r#"{"code": "C2", "name": "c", "level": "city", "parent_code": "C"}"#,
        ] {
            let e = data(&format!("[{CITY}, {bad}]")).expect_err(bad);
            assert!(e.to_string().contains("cannot sit under"), "{e}");
        }
        let e = data(&format!(
            r#"[{CITY},
               {{"code": "K", "name": "k", "level": "county", "parent_code": "C"}},
               {{"code": "K3", "name": "k", "level": "county", "parent_code": "K"}}]"#
        ))
        .expect_err("county under county");
        assert!(e.to_string().contains("cannot sit under"), "{e}");
    }
}
