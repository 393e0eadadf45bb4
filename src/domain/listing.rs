//! Listed supervision (挂牌督办) and the two lists (两个清单): their closed vocabularies.

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

text_enum! {
    pub enum ProblemStatus {
        Open = "open",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
}

text_enum! {
    pub enum MeasureKind {
        Law = "law",
        Regulation = "regulation",
        Standard = "standard",
        NormativeDocument = "normative_document",
        Mechanism = "mechanism",
        InternalSystem = "internal_system",
    }
}

text_enum! {
    pub enum MeasureStatus {
        Planned = "planned",
        Drafting = "drafting",
        Issued = "issued",
        Implementing = "implementing",
        Repealed = "repealed",
    }
}

text_enum! {
    pub enum ReviewDecision {
        Accepted = "accepted",
        Returned = "returned",
    }
}

/// A reporting period: `YYYY-Bn` (bi-monthly, n = 1..6, "双月一调度") or `YYYY-MM`.
/// Returns the first day of the period.
pub fn period_start(period: &str) -> Option<chrono::NaiveDate> {
    let (year, rest) = period.split_once('-')?;
    if year.len() != 4 {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let month = match rest.strip_prefix('B') {
        Some(n) if n.len() == 1 => {
            let n: u32 = n.parse().ok()?;
            if !(1..=6).contains(&n) {
                return None;
            }
            2 * n - 1
        }
        Some(_) => return None,
        None if rest.len() == 2 => rest.parse().ok().filter(|m| (1..=12).contains(m))?,
        None => return None,
    };
    chrono::NaiveDate::from_ymd_opt(year, month, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(period_start("2026-B6").unwrap().to_string(), "2026-11-01");
        assert_eq!(period_start("2026-11").unwrap().to_string(), "2026-11-01");
        assert_eq!(period_start("2026-B1").unwrap().to_string(), "2026-01-01");
        for bad in [
            "2026-B7",
            "2026-B0",
            "2026-13",
            "26-11",
            "2026-1",
            "2026-B12",
            "2026-11-01",
        ] {
            assert!(period_start(bad).is_none(), "{bad}");
        }
    }
}

text_enum! {
    /// A period submission of the two lists: `submitted`, then reviewed by the city as
    /// `accepted` or `returned` (a returned period may be submitted again).
    pub enum SubmissionStatus {
        Submitted = "submitted",
        Accepted = "accepted",
        Returned = "returned",
    }
}
