//! Paging GET /admin/users as GoTrue does: its `sort` and `paginate` helpers (internal/api),
//! pop's paginator under them, and `addPaginationHeaders` for `Link` and `X-Total-Count`.
//!
//! GoTrue parses `page` and `per_page` as uint64 and hands them to pop as Go ints: values past
//! i64::MAX wrap negative there, and pop replaces a page below 1 by 1 and a page size below 1
//! by 20. That is followed here, except where Go would fail: the offset `(page - 1) * per_page`
//! wraps in Go (a negative offset PostgreSQL refuses, answered 500), and saturates here into a
//! page past every row; and `per_page=0` divides by zero in GoTrue's `Link` arithmetic (a
//! panic, answered 500), where the page count here uses pop's 20.

use super::go_quote;
use super::query::GoQuery;
use crate::error::ApiError;

/// GoTrue's default page size.
const DEFAULT_PER_PAGE: u64 = 50;
/// What pop uses for a page size below 1.
const POP_FALLBACK_PER_PAGE: i64 = 20;

/// One page of the listing, as asked and as queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// `page` as the client sent it (1 if absent).
    pub number: u64,
    /// `per_page` as the client sent it (50 if absent).
    pub per_page: u64,
    /// The SQL `LIMIT` and `OFFSET`.
    pub limit: i64,
    pub offset: i64,
}

/// The order of the listing: GoTrue allows only `created_at`, newest first by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

/// GoTrue's `sort`: every `sort` value must be `created_at`, optionally followed by one space
/// and `asc` or `desc` in any case; the first decides the order.
pub fn order(query: &GoQuery) -> Result<Order, ApiError> {
    let mut order = None;
    for value in query.all("sort") {
        let (field, direction) = match value.split_once(' ') {
            Some((field, direction)) => (field, Some(direction)),
            None => (value, None),
        };
        if field != "created_at" {
            return Err(bad_sort(format!("bad field for sort '{field}'")));
        }
        let this = match direction.map(str::to_uppercase).as_deref() {
            None | Some("DESC") => Order::NewestFirst,
            Some("ASC") => Order::OldestFirst,
            Some(_) => {
                return Err(bad_sort(format!(
                    "bad direction for sort '{}', only 'asc' and 'desc' allowed",
                    direction.unwrap_or_default()
                )));
            }
        };
        order.get_or_insert(this);
    }
    Ok(order.unwrap_or(Order::NewestFirst))
}

fn bad_sort(reason: String) -> ApiError {
    ApiError::Validation(format!("Bad Sort Parameters: {reason}"))
}

/// GoTrue's `paginate`, then pop's paginator.
pub fn page(query: &GoQuery) -> Result<Page, ApiError> {
    let number = parse_uint(query.get("page"), 1)?;
    let per_page = parse_uint(query.get("per_page"), DEFAULT_PER_PAGE)?;
    let limit = i64::try_from(per_page)
        .ok()
        .filter(|n| *n >= 1)
        .unwrap_or(POP_FALLBACK_PER_PAGE);
    let first = i64::try_from(number).ok().filter(|n| *n >= 1).unwrap_or(1);
    Ok(Page {
        number,
        per_page,
        limit,
        offset: (first - 1).checked_mul(limit).unwrap_or(i64::MAX),
    })
}

/// `strconv.ParseUint(value, 10, 64)` for a present, non-empty value; `default` otherwise.
fn parse_uint(value: Option<&str>, default: u64) -> Result<u64, ApiError> {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    let fail = |reason: &str| {
        ApiError::Validation(format!(
            "Bad Pagination Parameters: strconv.ParseUint: parsing {}: {reason}",
            go_quote::strconv(text)
        ))
    };
    let mut n: u64 = 0;
    for byte in text.bytes() {
        if !byte.is_ascii_digit() {
            return Err(fail("invalid syntax"));
        }
        // Go reports the overflow at the digit that causes it, before any later bad byte.
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(byte - b'0')))
            .ok_or_else(|| fail("value out of range"))?;
    }
    Ok(n)
}

/// The `Link` header: the request's own path and query with `page` set, `next` while pages
/// remain after this one, then `last`.
pub fn link(path: &str, query: &GoQuery, page: &Page, total: u64) -> String {
    let per_page = if page.per_page == 0 {
        POP_FALLBACK_PER_PAGE as u64
    } else {
        page.per_page
    };
    let pages = total / per_page + u64::from(!total.is_multiple_of(per_page));
    let target = |number: u64| {
        format!(
            "<{path}?{}>",
            query.encode_with("page", &number.to_string())
        )
    };
    let mut header = String::new();
    if pages > page.number {
        header.push_str(&format!(
            "{}; rel=\"next\", ",
            target(page.number.wrapping_add(1))
        ));
    }
    header.push_str(&format!("{}; rel=\"last\"", target(pages)));
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> GoQuery {
        GoQuery::parse(text)
    }

    #[test]
    fn page_sizes_follow_gotrue_and_pop() {
        let p = page(&q("")).unwrap();
        assert_eq!((p.number, p.per_page, p.limit, p.offset), (1, 50, 50, 0));
        let p = page(&q("per_page=186495662215507552&page=1")).unwrap();
        assert_eq!((p.limit, p.offset), (186495662215507552, 0));
        // Zero, and values Go's int conversion makes negative, are pop's 20.
        assert_eq!(page(&q("per_page=0")).unwrap().limit, 20);
        assert_eq!(page(&q("per_page=9223372036854775808")).unwrap().limit, 20);
        assert_eq!(page(&q("page=0&per_page=5")).unwrap().offset, 0);
        assert_eq!(page(&q("page=3&per_page=5")).unwrap().offset, 10);
        assert_eq!(
            page(&q("page=3&per_page=9223372036854775807"))
                .unwrap()
                .offset,
            i64::MAX
        );
    }

    #[test]
    fn bad_numbers_get_strconv_s_messages() {
        let message = |text: &str| page(&q(text)).unwrap_err().to_string();
        assert_eq!(
            message("per_page=-1"),
            r#"Bad Pagination Parameters: strconv.ParseUint: parsing "-1": invalid syntax"#
        );
        assert_eq!(
            message("page=18446744073709551616"),
            r#"Bad Pagination Parameters: strconv.ParseUint: parsing "18446744073709551616": value out of range"#
        );
        assert_eq!(
            message("page=99999999999999999999x"),
            r#"Bad Pagination Parameters: strconv.ParseUint: parsing "99999999999999999999x": value out of range"#
        );
        assert!(message("page=+1").ends_with("invalid syntax"));
        assert_eq!(
            page(&q("page=18446744073709551615")).unwrap().number,
            u64::MAX
        );
    }

    #[test]
    fn sort_allows_created_at_only() {
        assert_eq!(order(&q("")).unwrap(), Order::NewestFirst);
        assert_eq!(
            order(&q("sort=created_at+asc")).unwrap(),
            Order::OldestFirst
        );
        assert_eq!(
            order(&q("sort=created_at+DESC&sort=created_at+asc")).unwrap(),
            Order::NewestFirst
        );
        assert_eq!(
            order(&q("sort=email")).unwrap_err().to_string(),
            "Bad Sort Parameters: bad field for sort 'email'"
        );
        assert_eq!(
            order(&q("sort=created_at+up")).unwrap_err().to_string(),
            "Bad Sort Parameters: bad direction for sort 'up', only 'asc' and 'desc' allowed"
        );
    }

    #[test]
    fn link_keeps_the_query_and_sets_the_page() {
        let query = q("per_page=2&filter=a");
        let p = page(&query).unwrap();
        assert_eq!(
            link("/admin/users", &query, &p, 5),
            r#"</admin/users?filter=a&page=2&per_page=2>; rel="next", </admin/users?filter=a&page=3&per_page=2>; rel="last""#
        );
        assert_eq!(
            link("/admin/users", &q(""), &page(&q("")).unwrap(), 0),
            r#"</admin/users?page=0>; rel="last""#
        );
        let zero = q("per_page=0");
        assert_eq!(
            link("/admin/users", &zero, &page(&zero).unwrap(), 41),
            r#"</admin/users?page=2&per_page=0>; rel="next", </admin/users?page=3&per_page=0>; rel="last""#
        );
    }
}
