//! `Preference-Applied`: which of the request's preferences were honoured, in PostgREST's
//! spelling.

use crate::config::Config;
use crate::plan::{self, Plan};
use crate::query::ast;

/// `Preference-Applied`: the preferences this request honoured.
pub fn preference_applied(
    prefs: &ast::Preferences,
    plan: &Plan,
    config: &Config,
    max_affected: Option<i64>,
) -> Option<(&'static str, String)> {
    use ast::*;
    let mut items = Vec::new();
    if let Some(r) = prefs.resolution
        && matches!(plan.kind, plan::PlanKind::Upsert { .. })
    {
        items.push(
            match r {
                Resolution::MergeDuplicates => "resolution=merge-duplicates",
                Resolution::IgnoreDuplicates => "resolution=ignore-duplicates",
            }
            .to_owned(),
        );
    }
    if let Some(m) = prefs.missing {
        items.push(
            match m {
                Missing::Default => "missing=default",
                Missing::Null => "missing=null",
            }
            .to_owned(),
        );
    }
    if plan.kind != plan::PlanKind::Read
        && let Some(r) = prefs.returning
    {
        items.push(
            match r {
                Returning::Minimal => "return=minimal",
                Returning::HeadersOnly => "return=headers-only",
                Returning::Representation => "return=representation",
            }
            .to_owned(),
        );
    }
    if let Some(c) = prefs.count {
        items.push(
            match c {
                Count::Exact => "count=exact",
                Count::Planned => "count=planned",
                Count::Estimated => "count=estimated",
            }
            .to_owned(),
        );
    }
    if let Some(h) = prefs.handling {
        items.push(
            match h {
                Handling::Strict => "handling=strict",
                Handling::Lenient => "handling=lenient",
            }
            .to_owned(),
        );
    }
    if let Some(tz) = &prefs.timezone {
        items.push(format!("timezone={tz}"));
    }
    if let Some(n) = max_affected {
        items.push(format!("max-affected={n}"));
    }
    if config.db_tx_end.allow_override
        && let Some(tx) = prefs.tx
    {
        items.push(
            match tx {
                Tx::Commit => "tx=commit",
                Tx::Rollback => "tx=rollback",
            }
            .to_owned(),
        );
    }
    (!items.is_empty()).then(|| ("Preference-Applied", items.join(", ")))
}
