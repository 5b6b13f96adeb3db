//! The request's query string and headers as typed values ([`ast`]), parsed by PostgREST's
//! grammar. Nothing here knows the schema or builds SQL: names are checked against the schema
//! cache by the planner, values only ever become bound parameters.
//!
//! The grammar is PostgREST's (v13, unchanged in v14): each production mirrors its Parsec
//! counterpart on the small Parsec-compatible core in `parsec`, so that a PGRST100 carries
//! the same position and "unexpected … expecting …" details. Modules, one per parameter:
//! `query_string` (pairs, decoding, `Content-Location`), `field` (names, JSON paths, key
//! paths), `select`, `filter` (with `pg_array` for `(any)`/`(all)`), `logic`, `order`,
//! `range` (`limit`/`offset` and `Range`), `params` (which key is what), and the headers
//! `prefer` and `accept`.

mod accept;
pub mod ast;
mod field;
mod filter;
mod logic;
mod order;
mod params;
mod parsec;
mod pg_array;
mod prefer;
mod query_string;
mod range;
mod select;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod roundtrip_tests;
#[cfg(test)]
mod wire_tests;

use crate::ApiError;
use ast::{MediaType, Preferences, QueryParams, RangeHeader, Target};

/// Parses a raw query string (percent-encoded, `+` meaning space, without the `?`).
///
/// ```
/// use rest::query::{parse_query, ast::{Target, Direction}};
/// let q = parse_query("select=id,children(id)&order=created_at.desc.nullslast", Target::Relation)?;
/// assert_eq!(q.order[0].terms[0].direction, Some(Direction::Desc));
/// assert_eq!(q.canonical, "order=created_at.desc.nullslast&select=id%2Cchildren%28id%29");
/// # Ok::<(), rest::ApiError>(())
/// ```
///
/// Errors: [`ApiError::ParseQuery`] (PGRST100) for what does not parse, and
/// [`ApiError::InvalidRange`] (PGRST103) for a negative `limit` (PostgREST's "Limit should be
/// greater than or equal to zero."; it only checks the root level, this checks every level).
pub fn parse_query(query: &str, target: Target) -> Result<QueryParams, ApiError> {
    params::parse_query(query, target)
}

/// Reads every `Prefer` header value; with `handling=strict`, unknown items are PGRST122.
///
/// Every `timezone=` value is taken as known; the server, which knows `pg_timezone_names`,
/// uses [`parse_preferences_with_timezones`] instead. `tx=` is read whatever `db-tx-end`
/// allows; honouring it is the server's decision.
pub fn parse_preferences<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Preferences, ApiError> {
    prefer::preferences(values, |_| true)
}

/// [`parse_preferences`] with PostgREST's timezone rule: a `timezone=` that `known_timezone`
/// refuses is ignored and counted invalid (so PGRST122 with `handling=strict`).
pub fn parse_preferences_with_timezones<'a>(
    values: impl IntoIterator<Item = &'a str>,
    known_timezone: impl Fn(&str) -> bool,
) -> Result<Preferences, ApiError> {
    prefer::preferences(values, known_timezone)
}

/// A `Range` header: `Ok(None)` when it does not parse (PostgREST ignores it), PGRST103 when
/// its first row is after its last.
///
/// PostgREST reads it on GET only, and a `limit=0` in the query string overrides even an
/// invalid one (both are the caller's to apply).
pub fn parse_range(value: &str) -> Result<Option<RangeHeader>, ApiError> {
    range::range_header(value)
}

/// The `Accept` header's media types this server can produce, best first (`Json` when absent);
/// PGRST107 naming what was asked when none can be.
///
/// Which of them fits the request (a table, a scalar RPC, the root) is the caller's choice; when
/// none does, [`accepted_media_names`] gives PGRST107's list.
pub fn parse_accept(value: Option<&str>) -> Result<Vec<MediaType>, ApiError> {
    let producible = accept::producible(value);
    if producible.is_empty() {
        return Err(ApiError::NoAcceptableMedia {
            asked: accept::asked(value),
        });
    }
    Ok(producible)
}

/// Every media type of the `Accept` header as PostgREST names it in PGRST107 (`toMime` of what
/// it decoded), best first: `application/vnd.pgrst.array+json` is `application/json`, an
/// unknown type is listed as written.
pub fn accepted_media_names(value: Option<&str>) -> Vec<String> {
    accept::asked(value)
}
