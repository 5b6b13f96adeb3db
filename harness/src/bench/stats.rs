//! Summaries of repeated measurements: a median with its spread for a handful of boots, and
//! percentiles from an HDR histogram for thousands of request latencies.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// A few runs of the same measurement, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub runs: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

impl Spread {
    /// `None` when there is nothing to summarise. An even count takes the mean of the middle two.
    pub fn of(samples: &[Duration]) -> Option<Spread> {
        if samples.is_empty() {
            return None;
        }
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let middle = ms.len() / 2;
        let median_ms = if ms.len().is_multiple_of(2) {
            (ms[middle - 1] + ms[middle]) / 2.0
        } else {
            ms[middle]
        };
        Some(Spread {
            runs: ms.len(),
            median_ms,
            min_ms: ms[0],
            max_ms: ms[ms.len() - 1],
        })
    }
}

/// Request latencies in microseconds, 1 µs to 60 s at three significant digits.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            histogram: Histogram::new_with_bounds(1, 60_000_000, 3)
                .expect("static histogram bounds are valid"),
        }
    }
}

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(micros.max(1));
    }

    pub fn add(&mut self, other: &Latencies) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms with the same bounds add");
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The latency at `quantile` (0.5 for p50) in milliseconds; 0 when nothing was recorded.
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        self.histogram.value_at_quantile(quantile) as f64 / 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle_and_the_extremes() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        let odd = Spread::of(&ms(&[300, 100, 200])).unwrap();
        assert_eq!(
            (odd.runs, odd.median_ms, odd.min_ms, odd.max_ms),
            (3, 200.0, 100.0, 300.0)
        );
        let even = Spread::of(&ms(&[400, 100, 200, 300])).unwrap();
        assert_eq!(even.median_ms, 250.0);
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn latencies_give_percentiles_within_the_histogram_precision() {
        let mut first = Latencies::default();
        let mut second = Latencies::default();
        for micros in 1..=500u64 {
            first.record(Duration::from_micros(micros * 1000));
        }
        for micros in 501..=1000u64 {
            second.record(Duration::from_micros(micros * 1000));
        }
        first.add(&second);
        assert_eq!(first.count(), 1000);
        let p50 = first.quantile_ms(0.5);
        let p99 = first.quantile_ms(0.99);
        assert!((p50 - 500.0).abs() <= 1.0, "p50 {p50}");
        assert!((p99 - 990.0).abs() <= 1.0, "p99 {p99}");
        assert_eq!(Latencies::default().quantile_ms(0.99), 0.0);
    }
}
