//! The query string as a whole: which key is what, and in which order PostgREST checks them
//! (so that of two mistakes the client hears about the same one).
//!
//! Keys: `select`, `columns`, `on_conflict` are reserved as they are; a key whose last
//! `.`-separated word is `order`, `limit`, `offset`, `and` or `or` belongs to that level
//! (`clients.order`); every other key with a value is a filter, or on `GET /rpc/f` an argument
//! when its value does not start with an operator. Checked in PostgREST's order: every
//! `order`, every logic tree, `columns`, `select`, every filter, `on_conflict`, then pages.

use crate::ApiError;

use super::ast::{Filter, LogicFilter, Order, PageRange, QueryParams, SelectItem, Target};
use super::field::{columns, tree_path};
use super::filter::{op_expr, single_value};
use super::logic::{logic_path, logic_tree};
use super::order::order;
use super::parsec::{Reply, State, alt};
use super::query_string::{self, Pair};
use super::range::page;
use super::select::field_forest;

/// Runs `parser` over `input`; an error is PGRST100 with PostgREST's message
/// `"failed to parse <what> (<shown>)" (line L, column C)` and Parsec's details.
fn run<T>(
    what: &str,
    shown: &str,
    input: &str,
    parser: impl Fn(&[char], State) -> Reply<T>,
) -> Result<T, ApiError> {
    let chars: Vec<char> = input.chars().collect();
    match parser(&chars, State::START) {
        Reply::Ok { value, .. } => Ok(value),
        Reply::Err { error, .. } | Reply::Fatal(error) => Err(ApiError::ParseQuery {
            message: format!(
                "\"failed to parse {what} ({shown})\" (line {}, column {})",
                error.pos.line, error.pos.column
            ),
            details: error.details(),
        }),
    }
}

/// The last `.`-separated word of a key, split as text (quotes do not protect a `.`).
fn last_word(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

fn ends_in(key: &str, words: &[&str]) -> bool {
    words.contains(&last_word(key))
}

const RESERVED: [&str; 3] = ["select", "columns", "on_conflict"];
const RESERVED_ON_EVERY_LEVEL: [&str; 5] = ["order", "limit", "offset", "and", "or"];

/// Parses a raw query string; see [`super::parse_query`].
pub(crate) fn parse_query(query: &str, target: Target) -> Result<QueryParams, ApiError> {
    let raw = query_string::split(query);
    let canonical = query_string::canonical(&raw);
    let pairs = query_string::decode(raw)?;
    let with_value = |pred: &dyn Fn(&str) -> bool| -> Vec<(&str, &str)> {
        pairs
            .iter()
            .filter_map(|Pair { key, value }| Some((key.as_str(), value.as_deref()?)))
            .filter(|(k, _)| pred(k))
            .collect()
    };
    // `lookup`: the first pair with the key, whose value may be absent.
    let first = |name: &str| -> Option<&str> {
        pairs
            .iter()
            .find(|p| p.key == name)
            .and_then(|p| p.value.as_deref())
    };

    let mut orders = Vec::new();
    for (key, value) in with_value(&|k| ends_in(k, &["order"])) {
        let (path, _) = run("tree path", key, key, tree_path)?;
        let terms = run("order", value, value, order)?;
        orders.push(Order { path, terms });
    }

    let mut logic = Vec::new();
    for (key, value) in with_value(&|k| ends_in(k, &["and", "or"])) {
        let (path, op) = run("logic path", key, key, logic_path)?;
        let glued = format!("{op}{value}");
        let tree = run("logic tree", value, &glued, |src: &[char], st: State| {
            logic_tree(src, st, 0)
        })?;
        logic.push(LogicFilter { path, tree });
    }

    let columns_param = match first("columns") {
        Some(text) => {
            let mut names = run("columns parameter", text, text, columns)?;
            // PostgREST keeps them as a set.
            names.sort();
            names.dedup();
            Some(names)
        }
        None => None,
    };

    let select = match first("select") {
        Some(text) => run("select parameter", text, text, field_forest(0))?,
        None => vec![SelectItem::Star],
    };

    let mut filters = Vec::new();
    let mut rpc_args = Vec::new();
    let is_filter = |k: &str| !ends_in(k, &RESERVED_ON_EVERY_LEVEL) && !RESERVED.contains(&k);
    for (key, value) in with_value(&is_filter) {
        let (path, field) = run("tree path", key, key, tree_path)?;
        let condition = |src: &[char], st: State| op_expr(single_value)(src, st).map(Some);
        let parsed = if target == Target::RpcRead {
            run(
                "filter",
                value,
                value,
                alt(condition, super::parsec::pure(None)),
            )?
        } else {
            run("filter", value, value, condition)?
        };
        match parsed {
            Some(condition) => filters.push(Filter {
                path,
                field,
                condition,
            }),
            // PostgREST names the argument after the key's last name.
            None => rpc_args.push((field.name, value.to_owned())),
        }
    }

    let on_conflict = match first("on_conflict") {
        Some(text) => Some(run("on_conflict parameter", text, text, columns)?),
        None => None,
    };

    let ranges = pages(&with_value(&|k| ends_in(k, &["limit", "offset"])))?;

    Ok(QueryParams {
        select,
        filters,
        logic,
        order: orders,
        ranges,
        columns: columns_param,
        on_conflict,
        rpc_args,
        canonical,
    })
}

/// `limit`/`offset` pairs grouped per level by key text (`a.offset` counts as `a.limit`; of a
/// repeated key the last wins), in the order levels first appear.
fn pages(pairs: &[(&str, &str)]) -> Result<Vec<PageRange>, ApiError> {
    struct Level<'a> {
        key: String,
        limit: Option<&'a str>,
        offset: Option<&'a str>,
    }
    let mut levels: Vec<Level> = Vec::new();
    for &(key, value) in pairs {
        let is_offset = last_word(key) == "offset";
        let level_key = if is_offset {
            format!("{}limit", &key[..key.len() - "offset".len()])
        } else {
            key.to_owned()
        };
        let at = match levels.iter().position(|l| l.key == level_key) {
            Some(at) => at,
            None => {
                levels.push(Level {
                    key: level_key,
                    limit: None,
                    offset: None,
                });
                levels.len() - 1
            }
        };
        let level = &mut levels[at];
        if is_offset {
            level.offset = Some(value);
        } else {
            level.limit = Some(value);
        }
    }
    let mut ranges = Vec::new();
    for level in levels {
        let (offset, limit) = page(level.limit, level.offset)?;
        let (path, _) = run("tree path", &level.key, &level.key, tree_path)?;
        if offset.is_some() || limit.is_some() {
            ranges.push(PageRange {
                path,
                offset,
                limit,
            });
        }
    }
    Ok(ranges)
}
