//! What a toxic's JSON means: Toxiproxy's attributes for each type with their defaults, checked
//! once when the toxic is added or updated and turned into a typed [`Effect`].

use serde_json::{Map, Value};

use super::ProxyError;
use crate::faults::{ToxicKind, ToxicSpec};

/// A toxic's attributes, validated: milliseconds, bytes, KB/s or microseconds as in Toxiproxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Latency {
        latency: u64,
        jitter: u64,
    },
    Timeout {
        timeout: u64,
    },
    ResetPeer {
        timeout: u64,
    },
    SlowClose {
        delay: u64,
    },
    Bandwidth {
        rate: u64,
    },
    Slicer {
        average_size: u64,
        size_variation: u64,
        delay: u64,
    },
    LimitData {
        bytes: u64,
    },
    /// Acts on the proxy, not on bytes: the registry closes the listener while it is present.
    Down,
}

/// A toxic on a proxy. `key` changes whenever the toxic is added or updated, so connections
/// roll its toxicity again, as Toxiproxy restarts a toxic's stub on update.
#[derive(Debug)]
pub(crate) struct Toxic {
    pub key: u64,
    pub spec: ToxicSpec,
    pub effect: Effect,
}

/// Toxiproxy's attributes for each type, with their defaults.
fn attributes_of(kind: ToxicKind) -> &'static [(&'static str, u64)] {
    match kind {
        ToxicKind::Latency => &[("latency", 0), ("jitter", 0)],
        ToxicKind::Timeout => &[("timeout", 0)],
        ToxicKind::ResetPeer => &[("timeout", 0)],
        ToxicKind::SlowClose => &[("delay", 0)],
        ToxicKind::Bandwidth => &[("rate", 0)],
        ToxicKind::Slicer => &[("average_size", 0), ("size_variation", 0), ("delay", 0)],
        ToxicKind::LimitData => &[("bytes", 0)],
        ToxicKind::Down => &[],
    }
}

/// Fills in the name (`<type>_<stream>`) and every attribute's default, and checks that each
/// attribute is known and a non-negative integer and that the toxicity is a probability.
pub(crate) fn validate(
    proxy: &str,
    mut spec: ToxicSpec,
) -> Result<(ToxicSpec, Effect), ProxyError> {
    if spec.name.is_empty() {
        let stream = serde_json::to_value(spec.stream).expect("a stream serialises");
        spec.name = format!(
            "{}_{}",
            spec.kind.name(),
            stream.as_str().unwrap_or_default()
        );
    }
    let bad = |reason: String| ProxyError::BadToxic {
        proxy: proxy.to_string(),
        toxic: spec.name.clone(),
        reason,
    };
    if !(0.0..=1.0).contains(&spec.toxicity) {
        return Err(bad(format!(
            "toxicity must be a probability between 0 and 1, got {}",
            spec.toxicity
        )));
    }
    // A refused connect cannot be rolled per connection: the listener is either open or not.
    if spec.kind == ToxicKind::Down && spec.toxicity != 1.0 {
        return Err(bad(format!(
            "toxicity must be 1 for a down toxic, got {}: down refuses every connection \
             (the listener is closed), it cannot pick some",
            spec.toxicity
        )));
    }
    let known = attributes_of(spec.kind);
    if let Some(unknown) = spec
        .attributes
        .keys()
        .find(|k| !known.iter().any(|(n, _)| n == k))
    {
        let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
        return Err(bad(format!(
            "unknown attribute `{unknown}` for a {} toxic (it takes: {})",
            spec.kind.name(),
            names.join(", ")
        )));
    }
    let mut values = Vec::with_capacity(known.len());
    let mut attributes = Map::new();
    for (name, default) in known {
        let value = match spec.attributes.get(*name) {
            None => *default,
            // Go's int64 is Toxiproxy's type; larger values would overflow its arithmetic.
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= i64::MAX as u64)
                .ok_or_else(|| bad(format!("{name} must be a non-negative integer, got {v}")))?,
        };
        values.push(value);
        attributes.insert(name.to_string(), Value::from(value));
    }
    let effect = match spec.kind {
        ToxicKind::Latency => Effect::Latency {
            latency: values[0],
            jitter: values[1],
        },
        ToxicKind::Timeout => Effect::Timeout { timeout: values[0] },
        ToxicKind::ResetPeer => Effect::ResetPeer { timeout: values[0] },
        ToxicKind::SlowClose => Effect::SlowClose { delay: values[0] },
        ToxicKind::Bandwidth => Effect::Bandwidth { rate: values[0] },
        ToxicKind::Slicer => Effect::Slicer {
            average_size: values[0],
            size_variation: values[1],
            delay: values[2],
        },
        ToxicKind::LimitData => Effect::LimitData { bytes: values[0] },
        ToxicKind::Down => Effect::Down,
    };
    // Toxiproxy accepts this default and then recurses forever on the first chunk.
    if let Effect::Slicer {
        average_size: 0, ..
    } = effect
    {
        return Err(bad(
            "average_size must be a positive integer (bytes per slice)".into(),
        ));
    }
    spec.attributes = attributes;
    Ok((spec, effect))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Stream;

    fn spec(kind: ToxicKind, attributes: Value) -> ToxicSpec {
        ToxicSpec {
            name: String::new(),
            kind,
            stream: Stream::Downstream,
            toxicity: 1.0,
            attributes: attributes.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn defaults_fill_name_and_attributes() {
        let (spec, effect) = validate(
            "db",
            spec(ToxicKind::Latency, serde_json::json!({"latency": 5})),
        )
        .unwrap();
        assert_eq!(spec.name, "latency_downstream");
        assert_eq!(
            Value::Object(spec.attributes),
            serde_json::json!({"latency": 5, "jitter": 0})
        );
        assert_eq!(
            effect,
            Effect::Latency {
                latency: 5,
                jitter: 0
            }
        );
    }

    #[test]
    fn nonsense_is_rejected_with_the_attribute_named() {
        let cases = [
            (
                ToxicKind::Latency,
                serde_json::json!({"latency": -1}),
                "latency must be a non-negative integer",
            ),
            (
                ToxicKind::Latency,
                serde_json::json!({"latency": "5"}),
                "latency must be a non-negative integer",
            ),
            (
                ToxicKind::Bandwidth,
                serde_json::json!({"rate": 1.5}),
                "rate must be a non-negative integer",
            ),
            (
                ToxicKind::Timeout,
                serde_json::json!({"latency": 1}),
                "unknown attribute `latency`",
            ),
            (
                ToxicKind::Slicer,
                serde_json::json!({}),
                "average_size must be a positive integer",
            ),
        ];
        for (kind, attributes, expected) in cases {
            let err = validate("db", spec(kind, attributes.clone()))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{kind:?} {attributes}: {err}");
            assert!(err.contains("db"), "names the proxy: {err}");
        }
        let mut bad = spec(ToxicKind::Latency, serde_json::json!({}));
        bad.toxicity = 1.5;
        assert!(
            validate("db", bad)
                .unwrap_err()
                .to_string()
                .contains("toxicity")
        );
    }
}
