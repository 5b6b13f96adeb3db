//! `Prefer` headers (RFC 7240) as PostgREST's `Preferences.fromHeaders` reads them: every
//! header split at `,`, items trimmed, and for each kind the first item that is one of its
//! exact values wins (`return=bogus, return=minimal` is minimal). What is none of them is kept
//! as written, and is PGRST122 with `handling=strict`.

use crate::ApiError;

use super::ast::{Count, Handling, Missing, Preferences, Resolution, Returning, Tx};

const RESOLUTION: &[(&str, Resolution)] = &[
    ("resolution=merge-duplicates", Resolution::MergeDuplicates),
    ("resolution=ignore-duplicates", Resolution::IgnoreDuplicates),
];
const RETURNING: &[(&str, Returning)] = &[
    ("return=representation", Returning::Representation),
    ("return=minimal", Returning::Minimal),
    ("return=headers-only", Returning::HeadersOnly),
];
const COUNT: &[(&str, Count)] = &[
    ("count=exact", Count::Exact),
    ("count=planned", Count::Planned),
    ("count=estimated", Count::Estimated),
];
const TX: &[(&str, Tx)] = &[("tx=commit", Tx::Commit), ("tx=rollback", Tx::Rollback)];
const MISSING: &[(&str, Missing)] = &[
    ("missing=default", Missing::Default),
    ("missing=null", Missing::Null),
];
const HANDLING: &[(&str, Handling)] = &[
    ("handling=strict", Handling::Strict),
    ("handling=lenient", Handling::Lenient),
];

/// The first item that is one of `table`'s values.
fn first_of<T: Copy>(items: &[&str], table: &[(&str, T)]) -> Option<T> {
    items
        .iter()
        .find_map(|item| table.iter().find(|(text, _)| text == item).map(|&(_, v)| v))
}

fn is_known(item: &str) -> bool {
    fn listed<T>(table: &[(&str, T)], item: &str) -> bool {
        table.iter().any(|(text, _)| *text == item)
    }
    listed(RESOLUTION, item)
        || listed(RETURNING, item)
        || listed(COUNT, item)
        || listed(TX, item)
        || listed(MISSING, item)
        || listed(HANDLING, item)
}

/// `BS.strip` over ASCII white space.
fn strip(item: &str) -> &str {
    item.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r'))
}

/// Reads the headers; `known_timezone` says whether a `timezone=` value is one PostgreSQL
/// knows (`pg_timezone_names`): PostgREST ignores an unknown one and counts it invalid.
pub(crate) fn preferences<'a>(
    values: impl IntoIterator<Item = &'a str>,
    known_timezone: impl Fn(&str) -> bool,
) -> Result<Preferences, ApiError> {
    let items: Vec<&str> = values
        .into_iter()
        // `BS.split` of an empty value is no item at all; of `a,` it is `a` and ``.
        .filter(|v| !v.is_empty())
        .flat_map(|v| v.split(','))
        .map(strip)
        .collect();
    // Only the first `timezone=` counts, and it decides for every `timezone=` item.
    let timezone = items.iter().find_map(|i| i.strip_prefix("timezone="));
    let timezone_accepted = timezone.is_some_and(&known_timezone);
    // Only the first `max-affected=` counts; one that does not read as a 64-bit integer is
    // ignored (PostgREST's `readMaybe` would wrap one past the range; here it is ignored).
    let max_affected = items
        .iter()
        .find_map(|i| i.strip_prefix("max-affected="))
        .and_then(|v| v.parse::<i64>().ok());
    let invalid: Vec<String> = items
        .iter()
        .filter(|item| {
            !is_known(item)
                && (!item.starts_with("timezone=") || !timezone_accepted)
                && !item.starts_with("max-affected=")
        })
        .map(|item| (*item).to_owned())
        .collect();
    let prefs = Preferences {
        resolution: first_of(&items, RESOLUTION),
        missing: first_of(&items, MISSING),
        returning: first_of(&items, RETURNING),
        count: first_of(&items, COUNT),
        handling: first_of(&items, HANDLING),
        timezone: timezone.filter(|_| timezone_accepted).map(str::to_owned),
        max_affected,
        tx: first_of(&items, TX),
        invalid,
    };
    if prefs.handling == Some(Handling::Strict) && !prefs.invalid.is_empty() {
        return Err(ApiError::InvalidPreferences {
            invalid: prefs.invalid,
        });
    }
    Ok(prefs)
}

#[cfg(test)]
mod tests;
