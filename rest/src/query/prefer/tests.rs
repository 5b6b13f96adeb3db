//! `Prefer`: rows from PostgREST's doctests (Preferences.hs) and PreferencesSpec.

use super::*;

fn parse(headers: &[&str]) -> Result<Preferences, ApiError> {
    preferences(headers.iter().copied(), |tz| tz == "America/Los_Angeles")
}

#[test]
fn one_header_with_a_comma_list() {
    let p = parse(&[
        "resolution=ignore-duplicates, count=exact, timezone=America/Los_Angeles, max-affected=100",
    ])
    .unwrap();
    assert_eq!(
        p,
        Preferences {
            resolution: Some(Resolution::IgnoreDuplicates),
            count: Some(Count::Exact),
            timezone: Some("America/Los_Angeles".into()),
            max_affected: Some(100),
            ..Preferences::default()
        }
    );
}

#[test]
fn several_headers_first_of_each_kind_wins() {
    let p = parse(&[
        "resolution=ignore-duplicates",
        "count=exact",
        "missing=null",
        "handling=lenient",
        "invalid",
        "max-affected=5999",
        "resolution=merge-duplicates",
    ])
    .unwrap();
    assert_eq!(p.resolution, Some(Resolution::IgnoreDuplicates));
    assert_eq!(p.missing, Some(Missing::Null));
    assert_eq!(p.handling, Some(Handling::Lenient));
    assert_eq!(p.max_affected, Some(5999));
    assert_eq!(p.invalid, vec!["invalid".to_owned()]);
    assert_eq!(
        parse(&["tx=commit, tx=rollback"]).unwrap().tx,
        Some(Tx::Commit)
    );
    // The first *valid* value of a kind wins.
    assert_eq!(
        parse(&["return=bogus, return=minimal"]).unwrap().returning,
        Some(Returning::Minimal)
    );
}

#[test]
fn spaces_are_ignored_and_clients_lists_read() {
    let p = parse(&["count=exact,    tx=commit   ,return=representation , missing=default, handling=lenient, anything"]).unwrap();
    assert_eq!(p.count, Some(Count::Exact));
    assert_eq!(p.tx, Some(Tx::Commit));
    assert_eq!(p.returning, Some(Returning::Representation));
    assert_eq!(p.missing, Some(Missing::Default));
    assert_eq!(p.invalid, vec!["anything".to_owned()]);
    // supabase-py joins with `,`, supabase-js's Headers with `, `.
    for header in [
        "return=representation,count=exact",
        "return=representation, count=exact",
    ] {
        let p = parse(&[header]).unwrap();
        assert_eq!(
            (p.returning, p.count),
            (Some(Returning::Representation), Some(Count::Exact))
        );
    }
    let p = parse(&["return=headers-only", "count=planned", "count=estimated"]).unwrap();
    assert_eq!(
        (p.returning, p.count),
        (Some(Returning::HeadersOnly), Some(Count::Planned))
    );
    assert_eq!(parse(&[""]).unwrap(), Preferences::default());
    assert_eq!(parse(&[]).unwrap(), Preferences::default());
}

#[test]
fn strict_handling_refuses_what_it_does_not_know() {
    let invalid = |items: &[&str]| {
        Err(ApiError::InvalidPreferences {
            invalid: items.iter().map(|s| s.to_string()).collect(),
        })
    };
    assert_eq!(
        parse(&["handling=strict, anything"]),
        invalid(&["anything"])
    );
    assert_eq!(
        parse(&["handling=strict", "something, else"]),
        invalid(&["something", "else"])
    );
    assert_eq!(
        parse(&["handling=strict, timezone=Invalid/Timezone"]),
        invalid(&["timezone=Invalid/Timezone"])
    );
    // A trailing comma is an empty item, and PostgREST counts it.
    assert_eq!(parse(&["handling=strict,"]), invalid(&[""]));
    let ok = parse(&["handling=strict, max-affected=5, timezone=America/Los_Angeles"]).unwrap();
    assert_eq!(ok.max_affected, Some(5));
    // Lenient: an unknown timezone is ignored.
    let lenient = parse(&["timezone=Invalid/Timezone"]).unwrap();
    assert_eq!(lenient.timezone, None);
    assert_eq!(
        lenient.invalid,
        vec!["timezone=Invalid/Timezone".to_owned()]
    );
    // max-affected that does not read as a 64-bit integer is ignored, never invalid.
    let p = parse(&["handling=strict, max-affected=99999999999999999999"]).unwrap();
    assert_eq!(p.max_affected, None);
}
