//! The planner: a parsed request ([`crate::query::ast`]) + the schema cache + preferences →
//! one SQL statement with bound parameters ([`sql::Sql`]) and what the response needs to know
//! about it. Every name is checked against the cache before it is quoted into the text.
//!
//! Every statement has the same result row, so one executor and one response builder serve
//! reads, writes and calls: `total` (the count asked for, or NULL), `page_count` (rows the
//! statement produced), `body` (the response body as text, or NULL), `inserted` (rows an
//! upsert inserted), `locations` (primary-key values for `Location`) and the
//! `response.headers` / `response.status` settings SQL may have set.

pub mod filter;
mod output;
pub mod payload;
mod put;
pub mod read;
pub mod related_order;
pub mod relationship;
pub mod rpc;
pub mod select;
pub mod sql;
pub mod write;

use crate::query::ast::{MediaType, PageRange, RangeHeader};

pub use output::{BodyShape, finish};
use sql::Sql;

/// What kind of response the statement feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    Read,
    Insert,
    Upsert {
        merge: bool,
    },
    Update,
    Delete,
    Put,
    /// A function call; `void` functions answer 204.
    Call {
        void: bool,
    },
}

/// How the total of `Prefer: count=` is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountPlan {
    /// In the statement itself.
    Exact,
    /// From `EXPLAIN` of this statement (PostgreSQL's row estimate).
    Planned(Sql),
    /// Exact up to `db-max-rows`, the estimate past it.
    Estimated { explain: Sql, max_rows: u64 },
}

/// A planned request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub sql: Sql,
    pub kind: PlanKind,
    pub read_only: bool,
    pub count: Option<CountPlan>,
    /// The first row's offset, for `Content-Range`.
    pub offset: u64,
    pub media: MediaType,
    /// Primary-key column names, in `locations` order (for `Location`).
    pub pk: Vec<String>,
    /// The relation or function name, for `Location` and `Content-Location`.
    pub resource: String,
}

/// The rows a request reads: `limit`/`offset` intersected with the `Range` header, capped by
/// `db-max-rows`. Returns `(offset, limit)`.
pub fn page(
    range: Option<&PageRange>,
    header: Option<RangeHeader>,
    max_rows: Option<u64>,
) -> (u64, Option<u64>) {
    let q_offset = range.and_then(|r| r.offset).unwrap_or(0);
    let q_limit = range.and_then(|r| r.limit);
    let mut lower = q_offset;
    // Inclusive upper bound; None is open.
    let mut upper: Option<Option<u64>> = q_limit.map(|l| (l > 0).then(|| q_offset + l - 1));
    if let Some(h) = header {
        lower = lower.max(h.first);
        if let Some(last) = h.last {
            upper = Some(match upper {
                None => Some(last),
                Some(None) => None,
                Some(Some(u)) => Some(u.min(last)),
            });
        }
    }
    let mut limit = match upper {
        None => None,
        Some(None) => Some(0),
        Some(Some(u)) if u >= lower => Some(u - lower + 1),
        Some(Some(_)) => Some(0),
    };
    if let Some(max) = max_rows {
        limit = Some(limit.map_or(max, |l| l.min(max)));
    }
    (lower, limit)
}

#[cfg(test)]
mod tests;
