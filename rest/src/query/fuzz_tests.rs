//! Property tests: hostile input (all of Unicode, NUL and surrogate encodings, deep
//! parentheses, huge integers) never panics and always yields `Ok` or a client error.
//!
//! The budget is small in `cargo test` (256 cases each); `PROPTEST_CASES=20000` runs more.
//! Each property prints one line with the cases it ran and what they gave.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::ast::*;
use super::{parse_accept, parse_preferences, parse_query, parse_range};
use crate::ApiError;

const DEFAULT_CASES: u32 = 256;

/// The runner's settings: `PROPTEST_CASES` cases (256 by default), nothing persisted.
pub(super) fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_CASES),
        failure_persistence: None,
        ..Config::default()
    }
}

// ---- hostile input ----------------------------------------------------------------------

/// Pieces of the grammar and of attacks, glued at random.
fn fragment() -> impl Strategy<Value = String> {
    let tokens = [
        "select",
        "order",
        "limit",
        "offset",
        "or",
        "and",
        "not.",
        "not.or",
        "columns",
        "on_conflict",
        "a.b",
        "children.order",
        "=",
        "&",
        ";",
        "(",
        ")",
        ",",
        ".",
        ":",
        "::",
        "eq",
        "in",
        "is",
        "fts",
        "like",
        "*",
        "\"",
        "\\",
        "->",
        "->>",
        "!",
        "!inner",
        "...",
        "{",
        "}",
        "null",
        "(any)",
        "%00",
        "%ED%A0%80",
        "%FF",
        "%C3",
        "%",
        "%zz",
        "+",
        "\t",
        "\n",
        "99999999999999999999",
        "-1",
        "0",
        "count()",
        ".sum()",
    ];
    prop_oneof![
        6 => proptest::sample::select(tokens.to_vec()).prop_map(str::to_owned),
        2 => any::<String>(),
        1 => (1usize..2000).prop_map(|n| "(".repeat(n)),
        1 => (1usize..2000).prop_map(|n| "a(".repeat(n)),
        1 => (1usize..2000).prop_map(|n| "or(".repeat(n)),
        1 => "[0-9]{15,40}",
    ]
}

fn hostile_query() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        3 => prop::collection::vec(fragment(), 0..24).prop_map(|parts| parts.concat()),
    ]
}

#[test]
fn hostile_query_strings_never_panic() {
    let cases = AtomicUsize::new(0);
    let oks = AtomicUsize::new(0);
    let parse_errors = AtomicUsize::new(0);
    let range_errors = AtomicUsize::new(0);
    let targets = prop_oneof![
        Just(Target::Relation),
        Just(Target::RpcRead),
        Just(Target::RpcWrite)
    ];
    let mut runner = TestRunner::new(config());
    let result = runner.run(&(hostile_query(), targets), |(query, target)| {
        cases.fetch_add(1, Ordering::Relaxed);
        let parsed = catch_unwind(AssertUnwindSafe(|| parse_query(&query, target)))
            .map_err(|_| TestCaseError::fail(format!("panic on {query:?}")))?;
        match parsed {
            Ok(_) => oks.fetch_add(1, Ordering::Relaxed),
            Err(ApiError::ParseQuery { .. }) => parse_errors.fetch_add(1, Ordering::Relaxed),
            Err(ApiError::InvalidRange { .. }) => range_errors.fetch_add(1, Ordering::Relaxed),
            Err(other) => return Err(TestCaseError::fail(format!("{query:?}: {other:?}"))),
        };
        Ok(())
    });
    println!(
        "fuzz query grammar: {} cases run, Ok: {}, PGRST100: {}, PGRST103: {}",
        cases.load(Ordering::Relaxed),
        oks.load(Ordering::Relaxed),
        parse_errors.load(Ordering::Relaxed),
        range_errors.load(Ordering::Relaxed),
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn hostile_headers_never_panic() {
    let cases = AtomicUsize::new(0);
    let oks = AtomicUsize::new(0);
    let errs = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config());
    let header = prop_oneof![
        any::<String>(),
        prop::collection::vec(
            proptest::sample::select(vec![
                "handling=strict",
                "return=minimal",
                ",",
                " ",
                ";q=",
                "0.5",
                "*/*",
                "text/csv",
                "application/vnd.pgrst.plan",
                ";for=\"",
                "-",
                "5",
                "99999999999999999999",
            ]),
            0..12
        )
        .prop_map(|p| p.concat()),
    ];
    let result = runner.run(&prop::collection::vec(header, 0..4), |headers| {
        cases.fetch_add(1, Ordering::Relaxed);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            [
                parse_preferences(headers.iter().map(String::as_str)).is_ok(),
                parse_range(headers.first().map_or("", String::as_str)).is_ok(),
                parse_accept(headers.first().map(String::as_str)).is_ok(),
            ]
        }))
        .map_err(|_| TestCaseError::fail(format!("panic on {headers:?}")))?;
        for ok in outcome {
            if ok {
                oks.fetch_add(1, Ordering::Relaxed);
            } else {
                errs.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    });
    println!(
        "fuzz Prefer/Range/Accept: {} cases run, Ok: {}, Err: {}",
        cases.load(Ordering::Relaxed),
        oks.load(Ordering::Relaxed),
        errs.load(Ordering::Relaxed),
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn the_deepest_accepted_nesting_fits_a_small_stack() {
    // 512 KiB, a quarter of a tokio worker's stack, in an unoptimised build (which needs
    // about 14 KiB a level; an optimised one far less).
    let depth = super::parsec::MAX_DEPTH;
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let select = format!("select={}id{}", "a(".repeat(depth), ")".repeat(depth));
            let logic = format!(
                "or=({}a.eq.1{})",
                "or(".repeat(depth - 1),
                ")".repeat(depth - 1)
            );
            (
                parse_query(&select, Target::Relation).is_ok(),
                parse_query(&logic, Target::Relation).is_ok(),
            )
        })
        .expect("a thread starts");
    assert_eq!(handle.join().expect("no stack overflow"), (true, true));
}
