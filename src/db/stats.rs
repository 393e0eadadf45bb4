//! Statistics, computed in the database (GROUP BY over the caller's scope), never by loading
//! rows. The SQL is written once; only bind placeholders and the month expression differ
//! between the backends.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::scope::{subtree_pattern, Scope};
use super::AnyConnection;

#[derive(QueryableByName, Debug, Clone, Default)]
pub struct HazardGroup {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub found: i64,
    #[diesel(sql_type = BigInt)]
    pub closed: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = BigInt)]
    pub major_found: i64,
    #[diesel(sql_type = BigInt)]
    pub major_listed: i64,
    #[diesel(sql_type = BigInt)]
    pub major_delisted: i64,
    #[diesel(sql_type = BigInt)]
    pub extensions_granted: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HazardGrouping {
    Jurisdiction,
    Sector,
    Level,
    Source,
    Month,
}

/// Positional placeholders in the dialect of the connection.
struct Binds {
    pg: bool,
    n: usize,
}

impl Binds {
    fn next(&mut self) -> String {
        self.n += 1;
        if self.pg {
            format!("${}", self.n)
        } else {
            "?".into()
        }
    }
}

/// The scope condition on a hazards alias `h`, and the sector binds it needs.
fn scope_sql(b: &mut Binds, scope: &Scope) -> (String, Option<String>, Vec<String>) {
    match scope {
        Scope::Enterprise(_) => ("1 = 0".into(), None, Vec::new()),
        Scope::Subtree { path, sectors } => {
            let mut sql = format!(
                "h.jurisdiction_code IN (SELECT code FROM jurisdictions WHERE path LIKE {} ESCAPE '\\')",
                b.next()
            );
            let sectors = sectors.clone().unwrap_or_default();
            if !sectors.is_empty()
                || matches!(
                    scope,
                    Scope::Subtree {
                        sectors: Some(_),
                        ..
                    }
                )
            {
                let marks: Vec<String> = sectors.iter().map(|_| b.next()).collect();
                if marks.is_empty() {
                    sql.push_str(" AND 1 = 0");
                } else {
                    sql.push_str(&format!(" AND h.sector_code IN ({})", marks.join(", ")));
                }
            }
            (sql, Some(subtree_pattern(path)), sectors)
        }
    }
}

pub fn hazards(
    conn: &mut AnyConnection,
    scope: &Scope,
    grouping: HazardGrouping,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<HazardGroup>> {
    let pg = matches!(conn, AnyConnection::Postgresql(_));
    let mut b = Binds { pg, n: 0 };
    let key = match grouping {
        HazardGrouping::Jurisdiction => "h.county_code".to_string(),
        HazardGrouping::Sector => "h.sector_code".to_string(),
        HazardGrouping::Level => "h.level".to_string(),
        HazardGrouping::Source => "h.source".to_string(),
        HazardGrouping::Month if pg => "to_char(h.discovered_on, 'YYYY-MM')".to_string(),
        HazardGrouping::Month => "strftime('%Y-%m', h.discovered_on)".to_string(),
    };
    let today_mark = b.next();
    let from_mark = b.next();
    let to_mark = b.next();
    let (scope_cond, pattern, sectors) = scope_sql(&mut b, scope);
    let sql = format!(
        "SELECT {key} AS key, \
           CAST(COUNT(*) AS BIGINT) AS found, \
           CAST(SUM(CASE WHEN h.status = 'closed' THEN 1 ELSE 0 END) AS BIGINT) AS closed, \
           CAST(SUM(CASE WHEN h.status IN ('reported', 'rectifying') AND h.deadline_key < {today_mark} THEN 1 ELSE 0 END) AS BIGINT) AS overdue, \
           CAST(SUM(CASE WHEN h.level = 'major' THEN 1 ELSE 0 END) AS BIGINT) AS major_found, \
           CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = h.id) THEN 1 ELSE 0 END) AS BIGINT) AS major_listed, \
           CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM listings l WHERE l.hazard_id = h.id AND l.status = 'delisted') THEN 1 ELSE 0 END) AS BIGINT) AS major_delisted, \
           CAST(SUM(COALESCE(x.n, 0)) AS BIGINT) AS extensions_granted \
         FROM hazards h \
         LEFT JOIN (SELECT subject_id, COUNT(*) AS n FROM deadline_extensions \
                    WHERE subject_type = 'hazard' AND status = 'approved' GROUP BY subject_id) x ON x.subject_id = h.id \
         WHERE h.status <> 'void' AND h.discovered_on >= {from_mark} AND h.discovered_on <= {to_mark} AND {scope_cond} \
         GROUP BY {key} ORDER BY {key}"
    );
    let mut q = diesel::sql_query(sql)
        .into_boxed::<<AnyConnection as diesel::Connection>::Backend>()
        .bind::<Date, _>(today)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to);
    if let Some(p) = pattern {
        q = q.bind::<Text, _>(p);
    }
    for s in sectors {
        q = q.bind::<Text, _>(s);
    }
    q.load(conn)
}

#[derive(QueryableByName, Debug, Clone, Default)]
pub struct ListingGroup {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub listed: i64,
    #[diesel(sql_type = BigInt)]
    pub delisted: i64,
    #[diesel(sql_type = BigInt)]
    pub cancelled: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

/// Listings grouped by `level` or by the hazard's county-level unit, listed in [from, to].
pub fn listings(
    conn: &mut AnyConnection,
    scope: &Scope,
    by_level: bool,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<ListingGroup>> {
    let pg = matches!(conn, AnyConnection::Postgresql(_));
    let mut b = Binds { pg, n: 0 };
    let key = if by_level { "l.level" } else { "h.county_code" };
    let today_mark = b.next();
    let from_mark = b.next();
    let to_mark = b.next();
    let (scope_cond, pattern, sectors) = scope_sql(&mut b, scope);
    let sql = format!(
        "SELECT {key} AS key, \
           CAST(COUNT(*) AS BIGINT) AS total, \
           CAST(SUM(CASE WHEN l.status = 'listed' THEN 1 ELSE 0 END) AS BIGINT) AS listed, \
           CAST(SUM(CASE WHEN l.status = 'delisted' THEN 1 ELSE 0 END) AS BIGINT) AS delisted, \
           CAST(SUM(CASE WHEN l.status = 'cancelled' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled, \
           CAST(SUM(CASE WHEN l.status = 'listed' AND l.deadline < {today_mark} THEN 1 ELSE 0 END) AS BIGINT) AS overdue \
         FROM listings l JOIN hazards h ON h.id = l.hazard_id \
         WHERE l.listed_at >= {from_mark} AND l.listed_at < {to_mark} AND {scope_cond} \
         GROUP BY {key} ORDER BY {key}"
    );
    // Listing times are UTC; the day boundaries are Asia/Shanghai midnights.
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::hours(8);
    let end = to
        .succ_opt()
        .unwrap_or(to)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        - chrono::Duration::hours(8);
    let mut q = diesel::sql_query(sql)
        .into_boxed::<<AnyConnection as diesel::Connection>::Backend>()
        .bind::<Date, _>(today)
        .bind::<diesel::sql_types::Timestamp, _>(start)
        .bind::<diesel::sql_types::Timestamp, _>(end);
    if let Some(p) = pattern {
        q = q.bind::<Text, _>(p);
    }
    for s in sectors {
        q = q.bind::<Text, _>(s);
    }
    q.load(conn)
}
