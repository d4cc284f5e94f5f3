//! What a scenario measures: latencies in a histogram, counts, and the resulting table row.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Latencies in microseconds, from 1 µs to 10 minutes, 3 significant digits.
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    #[expect(
        clippy::expect_used,
        reason = "constant bounds, valid for hdrhistogram: this cannot fail"
    )]
    pub fn new() -> Self {
        Self(Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"))
    }

    pub fn record(&mut self, latency: Duration) {
        self.record_micros(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn record_micros(&mut self, micros: u64) {
        // Values above the highest trackable one are clamped to it.
        self.0.saturating_record(micros.max(1));
    }

    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The highest latency recorded, in milliseconds; 0 when nothing was recorded.
    pub fn max_ms(&self) -> f64 {
        self.0.max() as f64 / 1000.0
    }

    /// How many latencies recorded exceed `limit` (at the histogram's precision).
    pub fn count_above(&self, limit: Duration) -> u64 {
        let micros = u64::try_from(limit.as_micros()).unwrap_or(u64::MAX);
        self.0
            .iter_recorded()
            .filter(|v| v.value_iterated_to() > micros)
            .map(|v| v.count_at_value())
            .sum()
    }

    /// The `q` quantile (0..=1) in milliseconds; 0 when nothing was recorded.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Counts of one worker (or one socket), merged into a scenario's total.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub ok: u64,
    pub errors: u64,
    pub latencies: Latencies,
    /// The first error seen, to tell a reader what went wrong.
    pub first_error: Option<String>,
    /// Errors by kind (the message with its numbers blanked out).
    pub kinds: BTreeMap<String, u64>,
}

/// An error message with digits replaced, so that errors differing only by ids or ports count
/// as one kind.
fn kind_of(message: &str) -> String {
    message
        .chars()
        .take(120)
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

impl Tally {
    pub fn error(&mut self, what: impl Into<String>) {
        let what = what.into();
        self.errors += 1;
        *self.kinds.entry(kind_of(&what)).or_default() += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies.merge(&other.latencies);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        for (kind, n) in other.kinds {
            *self.kinds.entry(kind).or_default() += n;
        }
    }
}

/// One line of the results table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    /// Operations (requests, logins, deliveries, sockets) per second.
    pub throughput: f64,
    /// What `throughput` counts: `req/s`, `logins/s`, `deliveries/s`, `sockets/s`.
    pub unit: &'static str,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The highest latency, where a scenario reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
    /// Operations completed (correct ones) in the measured window.
    pub count: u64,
    pub errors: u64,
    /// WebSocket scenarios: deliveries expected but never received.
    pub lost: Option<u64>,
    /// WebSocket scenarios: deliveries received more than once.
    pub duplicates: Option<u64>,
    /// Idle scenario: resident memory of the server per open socket.
    pub rss_per_socket_kib: Option<f64>,
    /// Memory scenarios: the server's resident memory at the end, in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_mib: Option<f64>,
    pub first_error: Option<String>,
    /// How many errors of each kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// Named figures besides throughput and latency (frames per socket, CPU time, a stage's
    /// p99, ...), each the median of the runs in a median row.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub figures: BTreeMap<String, f64>,
    /// Anything else worth knowing about the run (sizes, rates, memory before and after).
    pub notes: Vec<String>,
    /// The target for this scenario and whether this row meets it.
    pub goal: Option<Goal>,
}

/// A target of issue 6.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub text: String,
    pub met: bool,
}

impl Row {
    /// A row from a tally over `window`, throughput counting correct operations.
    pub fn from_tally(
        scenario: impl Into<String>,
        unit: &'static str,
        tally: Tally,
        window: Duration,
    ) -> Self {
        let seconds = window.as_secs_f64().max(1e-9);
        Self {
            scenario: scenario.into(),
            throughput: tally.ok as f64 / seconds,
            unit,
            p50_ms: tally.latencies.quantile_ms(0.50),
            p99_ms: tally.latencies.quantile_ms(0.99),
            max_ms: None,
            count: tally.ok,
            errors: tally.errors,
            lost: None,
            duplicates: None,
            rss_per_socket_kib: None,
            rss_mib: None,
            first_error: tally.first_error,
            error_kinds: tally.kinds,
            figures: BTreeMap::new(),
            notes: Vec::new(),
            goal: None,
        }
    }

    /// Whether nothing went wrong: no error, nothing lost, nothing twice.
    pub fn clean(&self) -> bool {
        self.errors == 0 && self.lost.unwrap_or(0) == 0 && self.duplicates.unwrap_or(0) == 0
    }
}
