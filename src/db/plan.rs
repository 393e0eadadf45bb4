//! The query plans of the list queries, as the database would run them (tests keep them from
//! regressing to full scans; `docs/ARCHITECTURE.md`, "Scope").

use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};
use diesel::{QueryResult, RunQueryDsl};

use super::AnyConnection;

/// `<prefix> <query>`, keeping the query's binds.
struct Explain<Q, ST> {
    prefix: &'static str,
    query: Q,
    row: std::marker::PhantomData<ST>,
}

impl<Q, ST> QueryId for Explain<Q, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<B>, ST, B: diesel::backend::Backend> QueryFragment<B> for Explain<Q, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, B>) -> QueryResult<()> {
        out.push_sql(self.prefix);
        self.query.walk_ast(out.reborrow())
    }
}

impl<Q, ST: diesel::sql_types::SqlType + diesel::query_builder::QueryId + 'static> Query
    for Explain<Q, ST>
{
    type SqlType = ST;
}

impl<Q, ST, C> RunQueryDsl<C> for Explain<Q, ST> {}

/// The plan lines of `query`: PostgreSQL's `EXPLAIN`, or the details of SQLite's
/// `EXPLAIN QUERY PLAN`.
pub fn explain<Q>(conn: &mut AnyConnection, query: Q) -> QueryResult<Vec<String>>
where
    Q: QueryFragment<super::scope::Backend>,
{
    if matches!(conn, AnyConnection::Postgresql(_)) {
        Explain::<_, Text> {
            prefix: "EXPLAIN ",
            query,
            row: std::marker::PhantomData,
        }
        .load::<String>(conn)
    } else {
        let rows: Vec<(i32, i32, i32, String)> = Explain::<_, (Integer, Integer, Integer, Text)> {
            prefix: "EXPLAIN QUERY PLAN ",
            query,
            row: std::marker::PhantomData,
        }
        .load(conn)?;
        Ok(rows.into_iter().map(|r| r.3).collect())
    }
}
