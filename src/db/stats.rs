//! Statistics, computed in the database (GROUP BY over the caller's scope), never by loading
//! rows. The rows counted are chosen with the same scope builder as every list
//! (`db::scope`), and "overdue" is the domain's definition (`HazardStatus::counts_overdue`).

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Text};

use super::hazards::overdue_now;
use super::schema::{hazard_tallies as t, hazards as h, listings as l};
use super::scope::{hazards_visible, listings_visible, tallies_within, Scope};
use super::AnyConnection;
use crate::domain::extension::{ExtensionStatus, ExtensionSubject};
use crate::domain::hazard::{HazardLevel, HazardStatus};
use crate::domain::jurisdiction::Reach;
use crate::domain::listing::ListingStatus;

#[derive(Queryable, Debug, Clone, Default)]
pub struct HazardGroup {
    pub key: String,
    pub found: i64,
    pub closed: i64,
    pub overdue: i64,
    pub major_found: i64,
    pub major_listed: i64,
    pub major_delisted: i64,
    pub extensions_granted: i64,
}

impl HazardGroup {
    /// Adds another group's figures to these (the key stays).
    pub fn add(&mut self, o: &HazardGroup) {
        self.found += o.found;
        self.closed += o.closed;
        self.overdue += o.overdue;
        self.major_found += o.major_found;
        self.major_listed += o.major_listed;
        self.major_delisted += o.major_delisted;
        self.extensions_granted += o.extensions_granted;
    }

    /// Takes another group's figures off these (the key stays).
    pub fn subtract(&mut self, o: &HazardGroup) {
        self.found -= o.found;
        self.closed -= o.closed;
        self.overdue -= o.overdue;
        self.major_found -= o.major_found;
        self.major_listed -= o.major_listed;
        self.major_delisted -= o.major_delisted;
        self.extensions_granted -= o.extensions_granted;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HazardGrouping {
    Jurisdiction,
    Sector,
    Level,
    Source,
    Month,
}

/// `CAST(SUM(CASE WHEN <condition> THEN 1 ELSE 0 END) AS BIGINT)`: a count of the rows of the
/// group that meet a condition, the same on both backends.
fn count_where(condition: &str) -> String {
    format!("CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS BIGINT)")
}

fn is_pg(conn: &AnyConnection) -> bool {
    matches!(conn, AnyConnection::Postgresql(_))
}

/// Hazard figures per group over [from, to] (days of discovery), with overdue as of `today`.
///
/// Whole months come from `hazard_tallies` (kept by triggers, migration 000011), the days of
/// the period that do not fill a month from the rows (a period reaching today reads its last
/// month whole and takes off the days after it, [`Period::split_through`]), and overdue —
/// which depends on today — from the rows through the partial overdue indexes. The three are added up per key; a group
/// exists when it found something, as with one `GROUP BY` over the rows.
pub fn hazards(
    conn: &mut AnyConnection,
    scope: &Scope,
    grouping: HazardGrouping,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<HazardGroup>> {
    let mut parts = Vec::new();
    let mut beyond = Vec::new();
    let days = match scope {
        Scope::Subtree { reach, sectors, .. } => {
            let split = Period::split_through(from, to, today);
            if let Some((first, last)) = &split.months {
                parts.extend(tallied(conn, reach, sectors, grouping, first, last)?);
            }
            if let Some((a, b)) = split.beyond {
                beyond = counted(conn, scope, grouping, a, b)?;
            }
            split.days
        }
        // An enterprise's own hazards are few; and its tallies are not kept apart.
        Scope::Enterprise(_) => vec![(from, to)],
    };
    for (a, b) in days {
        parts.extend(counted(conn, scope, grouping, a, b)?);
    }
    let mut groups: BTreeMap<String, HazardGroup> = BTreeMap::new();
    fn group<'a>(groups: &'a mut BTreeMap<String, HazardGroup>, key: &str) -> &'a mut HazardGroup {
        groups
            .entry(key.to_string())
            .or_insert_with(|| HazardGroup {
                key: key.to_string(),
                ..HazardGroup::default()
            })
    }
    for p in parts {
        group(&mut groups, &p.key).add(&p);
    }
    for p in beyond {
        group(&mut groups, &p.key).subtract(&p);
    }
    for (key, n) in overdue(conn, scope, grouping, from, to, today)? {
        if let Some(g) = groups.get_mut(&key) {
            g.overdue += n;
        }
    }
    Ok(groups.into_values().filter(|g| g.found > 0).collect())
}

/// A period of days as the whole months it covers (`YYYY-MM`, first and last) and the runs of
/// days outside them; and the days after the period that those months hold too, to be taken
/// off again (`beyond`).
#[derive(Debug, PartialEq, Eq)]
struct Period {
    months: Option<(String, String)>,
    days: Vec<(NaiveDate, NaiveDate)>,
    beyond: Option<(NaiveDate, NaiveDate)>,
}

impl Period {
    /// [`Period::split`], except that a period reaching `today` whose last month starts inside
    /// it reads that month whole from its tally and takes off the days after `to`. Nothing
    /// can be discovered after today (a later `discovered_on` is refused), so those days
    /// normally hold no rows and cost one empty index range instead of counting every row
    /// of the month so far, the busiest days of a dashboard's period. Subtracting is exact
    /// whatever they hold: every figure is a sum over rows.
    fn split_through(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Period {
        let first = to.with_day(1).unwrap_or(to);
        let month_end = first
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(to);
        match to.succ_opt() {
            Some(next) if to >= today && to < month_end && first >= from => Period {
                beyond: Some((next, month_end)),
                ..Period::split(from, month_end)
            },
            _ => Period::split(from, to),
        }
    }

    fn split(from: NaiveDate, to: NaiveDate) -> Period {
        let first_of = |d: NaiveDate| d.with_day(1).unwrap_or(d);
        let next_month = |d: NaiveDate| {
            first_of(d)
                .checked_add_months(Months::new(1))
                .unwrap_or(NaiveDate::MAX)
        };
        // The first day of the first whole month, and the day after the last whole month.
        let start = if from.day() == 1 {
            from
        } else {
            next_month(from)
        };
        let end = if to.succ_opt().is_some_and(|d| d.day() == 1) {
            to.succ_opt().unwrap_or(to)
        } else {
            first_of(to)
        };
        if start >= end {
            return Period {
                months: None,
                days: vec![(from, to)],
                beyond: None,
            };
        }
        let month = |d: NaiveDate| d.format("%Y-%m").to_string();
        let last = end.pred_opt().unwrap_or(end);
        let mut days = Vec::new();
        if from < start {
            days.push((from, start.pred_opt().unwrap_or(start)));
        }
        if end <= to {
            days.push((end, to));
        }
        Period {
            months: Some((month(start), month(last))),
            days,
            beyond: None,
        }
    }
}

/// The tallies of whole months `first`..=`last` within a reach (and sectors).
fn tallied(
    conn: &mut AnyConnection,
    reach: &Reach,
    sectors: &Option<Vec<String>>,
    grouping: HazardGrouping,
    first: &str,
    last: &str,
) -> QueryResult<Vec<HazardGroup>> {
    let key = match grouping {
        HazardGrouping::Jurisdiction => "hazard_tallies.county_code",
        HazardGrouping::Sector => "hazard_tallies.sector_code",
        HazardGrouping::Level => "hazard_tallies.level",
        HazardGrouping::Source => "hazard_tallies.source",
        HazardGrouping::Month => "hazard_tallies.month",
    };
    let total =
        |column: &str| sql::<BigInt>(&format!("CAST(SUM(hazard_tallies.{column}) AS BIGINT)"));
    t::table
        .filter(tallies_within(reach, sectors))
        .filter(t::month.ge(first.to_string()))
        .filter(t::month.le(last.to_string()))
        .group_by(sql::<Text>(key))
        .select((
            sql::<Text>(key),
            total("found"),
            total("closed"),
            sql::<BigInt>("CAST(0 AS BIGINT)"),
            sql::<BigInt>(&format!(
                "CAST(SUM(CASE WHEN hazard_tallies.level = '{}' THEN hazard_tallies.found ELSE 0 END) AS BIGINT)",
                HazardLevel::Major
            )),
            total("listed"),
            total("delisted"),
            total("extensions_granted"),
        ))
        .load(conn)
}

fn row_key(conn: &AnyConnection, grouping: HazardGrouping) -> &'static str {
    match grouping {
        HazardGrouping::Jurisdiction => "hazards.county_code",
        HazardGrouping::Sector => "hazards.sector_code",
        HazardGrouping::Level => "hazards.level",
        HazardGrouping::Source => "hazards.source",
        HazardGrouping::Month if is_pg(conn) => "to_char(hazards.discovered_on, 'YYYY-MM')",
        HazardGrouping::Month => "strftime('%Y-%m', hazards.discovered_on)",
    }
}

/// The figures (overdue aside) counted from the rows discovered in [from, to]: what the
/// tallies hold, for days that do not fill a month.
fn counted(
    conn: &mut AnyConnection,
    scope: &Scope,
    grouping: HazardGrouping,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<HazardGroup>> {
    let key = row_key(conn, grouping);
    let listed = |extra: &str| {
        format!("EXISTS (SELECT 1 FROM listings WHERE listings.hazard_id = hazards.id{extra})")
    };
    let delisted = format!(" AND listings.status = '{}'", ListingStatus::Delisted);
    let granted = format!(
        "CAST(SUM((SELECT COUNT(*) FROM deadline_extensions x \
         WHERE x.subject_type = '{}' AND x.status = '{}' AND x.subject_id = hazards.id)) AS BIGINT)",
        ExtensionSubject::Hazard,
        ExtensionStatus::Approved
    );
    h::table
        .filter(hazards_visible(scope))
        .filter(h::status.ne(HazardStatus::Void.as_str()))
        .filter(h::discovered_on.ge(from))
        .filter(h::discovered_on.le(to))
        .group_by(sql::<Text>(key))
        .select((
            sql::<Text>(key),
            count_star(),
            sql::<BigInt>(&count_where(&format!(
                "hazards.status = '{}'",
                HazardStatus::Closed
            ))),
            sql::<BigInt>("CAST(0 AS BIGINT)"),
            sql::<BigInt>(&count_where(&format!(
                "hazards.level = '{}'",
                HazardLevel::Major
            ))),
            sql::<BigInt>(&count_where(&listed(""))),
            sql::<BigInt>(&count_where(&listed(&delisted))),
            sql::<BigInt>(&granted),
        ))
        .load(conn)
}

/// The overdue count's query. On SQLite the group key and the discovery range are written
/// with a unary `+` (SQLite's way to keep a term off the index choice): otherwise, having no
/// cost for covering, it walks a (scope, key) or (scope, discovered) index through every row of
/// the scope to spare a sort, where the overdue index holds only the overdue rows.
macro_rules! overdue_query {
    ($conn:expr, $scope:expr, $grouping:expr, $from:expr, $to:expr, $today:expr) => {{
        let column = row_key($conn, $grouping);
        let (key, discovered) = if is_pg($conn) {
            (column.to_string(), "hazards.discovered_on")
        } else if $grouping == HazardGrouping::Month {
            (column.to_string(), "+hazards.discovered_on")
        } else {
            (format!("+{column}"), "+hazards.discovered_on")
        };
        h::table
            .filter(hazards_visible($scope))
            .filter(overdue_now($today))
            .filter(
                sql::<Bool>(&format!("{discovered} >= "))
                    .bind::<Date, _>($from)
                    .sql(&format!(" AND {discovered} <= "))
                    .bind::<Date, _>($to),
            )
            .group_by(sql::<Text>(&key))
            .select((sql::<Text>(&key), count_star()))
    }};
}

/// Hazards discovered in [from, to] and overdue today, per key: read from the partial overdue
/// indexes (`db::hazards::overdue_now`).
fn overdue(
    conn: &mut AnyConnection,
    scope: &Scope,
    grouping: HazardGrouping,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<(String, i64)>> {
    overdue_query!(conn, scope, grouping, from, to, today).load(conn)
}

/// The plans of the statistics' queries (`db::plan`): the tallies' and the overdue count's.
pub fn hazards_plan(
    conn: &mut AnyConnection,
    scope: &Scope,
    grouping: HazardGrouping,
    today: NaiveDate,
) -> QueryResult<Vec<String>> {
    let from = today.with_day(1).unwrap_or(today) - Months::new(12);
    let mut lines = Vec::new();
    if let Scope::Subtree { reach, sectors, .. } = scope {
        let key = "hazard_tallies.month";
        let q = t::table
            .filter(tallies_within(reach, sectors))
            .filter(t::month.ge(from.format("%Y-%m").to_string()))
            .group_by(sql::<Text>(key))
            .select((sql::<Text>(key), count_star()));
        lines.extend(super::plan::explain(conn, q)?);
    }
    let q = overdue_query!(conn, scope, grouping, from, today, today);
    lines.extend(super::plan::explain(conn, q)?);
    Ok(lines)
}

#[derive(Queryable, Debug, Clone, Default)]
pub struct ListingGroup {
    pub key: String,
    pub total: i64,
    pub listed: i64,
    pub delisted: i64,
    pub cancelled: i64,
    pub overdue: i64,
}

/// Listings grouped by `level` or by the hazard's county-level unit, listed in [from, to]
/// (Asia/Shanghai dates).
pub fn listings(
    conn: &mut AnyConnection,
    scope: &Scope,
    by_level: bool,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<ListingGroup>> {
    let key = if by_level {
        "listings.level"
    } else {
        "(SELECT hazards.county_code FROM hazards WHERE hazards.id = listings.hazard_id)"
    };
    let status_is =
        |s: ListingStatus| sql::<BigInt>(&count_where(&format!("listings.status = '{s}'")));
    let overdue = sql::<BigInt>(&format!(
        "CAST(SUM(CASE WHEN listings.status = '{}' AND listings.deadline < ",
        ListingStatus::Listed
    ))
    .bind::<Date, _>(today)
    .sql(" THEN 1 ELSE 0 END) AS BIGINT)");
    let (start, end) = crate::clock::shanghai_days_utc(from, to);
    l::table
        .filter(listings_visible(scope))
        .filter(l::listed_at.ge(start))
        .filter(l::listed_at.lt(end))
        .group_by(sql::<Text>(key))
        .select((
            sql::<Text>(key),
            count_star(),
            status_is(ListingStatus::Listed),
            status_is(ListingStatus::Delisted),
            status_is(ListingStatus::Cancelled),
            overdue,
        ))
        .order(sql::<Text>(key))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn months(a: &str, b: &str) -> Option<(String, String)> {
        Some((a.to_string(), b.to_string()))
    }

    #[test]
    fn a_period_is_its_whole_months_and_the_days_around_them() {
        let p = Period::split(d("2026-01-01"), d("2026-12-31"));
        assert_eq!(p.months, months("2026-01", "2026-12"));
        assert!(p.days.is_empty());
        let p = Period::split(d("2024-12-01"), d("2026-12-02"));
        assert_eq!(p.months, months("2024-12", "2026-11"));
        assert_eq!(p.days, vec![(d("2026-12-01"), d("2026-12-02"))]);
        let p = Period::split(d("2026-01-15"), d("2026-03-10"));
        assert_eq!(p.months, months("2026-02", "2026-02"));
        assert_eq!(
            p.days,
            vec![
                (d("2026-01-15"), d("2026-01-31")),
                (d("2026-03-01"), d("2026-03-10"))
            ]
        );
        // February of a leap year ends on the 29th.
        let p = Period::split(d("2024-02-01"), d("2024-02-29"));
        assert_eq!(p.months, months("2024-02", "2024-02"));
        let p = Period::split(d("2024-02-01"), d("2024-02-28"));
        assert_eq!(p.months, None);
        assert_eq!(p.days, vec![(d("2024-02-01"), d("2024-02-28"))]);
        // Within one month, or one day.
        let p = Period::split(d("2026-05-03"), d("2026-05-03"));
        assert_eq!(p.months, None);
        assert_eq!(p.days, vec![(d("2026-05-03"), d("2026-05-03"))]);
        let p = Period::split(d("2026-05-31"), d("2026-07-01"));
        assert_eq!(p.months, months("2026-06", "2026-06"));
        assert_eq!(
            p.days,
            vec![
                (d("2026-05-31"), d("2026-05-31")),
                (d("2026-07-01"), d("2026-07-01"))
            ]
        );
    }

    #[test]
    fn a_period_reaching_today_reads_its_last_month_whole_and_takes_off_the_rest() {
        let today = d("2026-12-08");
        // The dashboard's period: two years to today.
        let p = Period::split_through(d("2024-12-01"), today, today);
        assert_eq!(p.months, months("2024-12", "2026-12"));
        assert!(p.days.is_empty());
        assert_eq!(p.beyond, Some((d("2026-12-09"), d("2026-12-31"))));
        // Past today, too; a head of days stays counted.
        let p = Period::split_through(d("2026-10-15"), d("2026-12-20"), today);
        assert_eq!(p.months, months("2026-11", "2026-12"));
        assert_eq!(p.days, vec![(d("2026-10-15"), d("2026-10-31"))]);
        assert_eq!(p.beyond, Some((d("2026-12-21"), d("2026-12-31"))));
        // The month alone, from its first day.
        let p = Period::split_through(d("2026-12-01"), today, today);
        assert_eq!(p.months, months("2026-12", "2026-12"));
        assert_eq!(p.beyond, Some((d("2026-12-09"), d("2026-12-31"))));
        // Unchanged: a period ending before today; a last month that starts before `from`; a
        // period that ends with its month.
        for (from, to) in [
            ("2024-12-01", "2026-12-07"),
            ("2026-12-03", "2026-12-08"),
            ("2026-01-01", "2026-12-31"),
        ] {
            assert_eq!(
                Period::split_through(d(from), d(to), today),
                Period::split(d(from), d(to)),
                "{from}..{to}"
            );
        }
        // The last day there is.
        let p = Period::split_through(d("2026-12-01"), NaiveDate::MAX, today);
        assert_eq!(p, Period::split(d("2026-12-01"), NaiveDate::MAX));
    }
}

/// Folds the sessions' tally slots into one row per tally (`hazard_tally_fold`, migration
/// 000012) and answers how many slot rows it moved. PostgreSQL only: SQLite keeps one row per
/// tally. Safe beside writers and on several nodes at once (it skips rows a writer holds).
pub fn fold_tallies(conn: &mut AnyConnection) -> QueryResult<i64> {
    match conn {
        AnyConnection::Postgresql(c) => diesel::select(hazard_tally_fold()).get_result(c),
        AnyConnection::Sqlite(_) => Ok(0),
    }
}

diesel::define_sql_function! {
    fn hazard_tally_fold() -> BigInt;
}
