//! Metrics in Prometheus' text format, served on a listener of their own
//! (`HEARTH_METRICS_ADDR`, off by default).
//!
//! Each application has its own recorder (no global one), so two instances in one process (as in
//! the tests) count apart. The hot paths hold pre-registered handles and pay one atomic add per
//! event (a batch of frames written, a batch of messages stored), never a lookup; gauges that
//! describe state (open sockets, queue depths, the database pool) are read when the page is
//! scraped. With metrics off, every handle is a no-op and the HTTP middleware is not installed.

use metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::sync::Arc;
use std::time::Duration;

const METADATA: Metadata<'static> = Metadata::new("hearth", Level::INFO, Some(module_path!()));

/// Request latencies, in seconds: from well under a millisecond (is_member) to the seconds a
/// database outage takes to answer.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A message's stages, in seconds: finer than requests', since a stage of a delivery that must
/// take under 10 ms in all is what they tell apart.
const STAGE_BUCKETS: [f64; 18] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.003, 0.005, 0.007_5, 0.01, 0.015, 0.02, 0.03, 0.05,
    0.075, 0.1, 0.25, 0.5, 1.0,
];

/// The stages of a message sent on a socket, each a `stage` label of
/// [`names::MESSAGE_STAGE`].
pub mod stage {
    /// Read from the socket until its socket's store task took it (queued behind the
    /// previous store of the same socket).
    pub const WAIT: &str = "wait";
    /// The store: one round trip and a durable commit, for a batch of a socket's messages.
    pub const STORE: &str = "store";
    /// From the commit until the frame is queued for every socket of the channel here (and
    /// handed to Redis).
    pub const PUBLISH: &str = "publish";
    /// From being queued for a socket until written to it (a batch's oldest frame).
    pub const WRITE: &str = "write";
}

/// Every series, with its help text: the README's table is written from this list.
pub mod names {
    pub const HTTP_REQUESTS: &str = "hearth_http_requests_total";
    pub const HTTP_DURATION: &str = "hearth_http_request_duration_seconds";
    pub const SOCKETS_OPEN: &str = "hearth_sockets_open";
    pub const MESSAGES_STORED: &str = "hearth_messages_stored_total";
    pub const FRAMES_DELIVERED: &str = "hearth_frames_delivered_total";
    pub const QUEUE_DEPTH: &str = "hearth_fanout_queue_depth";
    pub const QUEUE_DEPTH_MAX: &str = "hearth_fanout_queue_depth_max";
    pub const TOO_SLOW: &str = "hearth_sockets_too_slow_total";
    pub const GAP_FILLS: &str = "hearth_gap_fills_total";
    pub const REDIS_RECONNECTS: &str = "hearth_redis_reconnects_total";
    pub const REDIS_LAG: &str = "hearth_redis_lag_seconds";
    pub const MESSAGE_STAGE: &str = "hearth_message_stage_seconds";
    pub const DB_POOL_SIZE: &str = "hearth_db_pool_connections";
    pub const DB_POOL_IN_USE: &str = "hearth_db_pool_in_use";
    pub const DB_POOL_WAITING: &str = "hearth_db_pool_waiting";
    pub const RATE_LIMITED: &str = "hearth_rate_limited_total";
}

/// What each series means (`# HELP`).
const DESCRIPTIONS: [(&str, &str); 16] = [
    (
        names::HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status",
    ),
    (
        names::HTTP_DURATION,
        "Time to answer an HTTP request, by route template and method",
    ),
    (
        names::SOCKETS_OPEN,
        "WebSocket connections open on this instance",
    ),
    (
        names::MESSAGES_STORED,
        "Chat messages stored (new messages, not nonce replays)",
    ),
    (
        names::FRAMES_DELIVERED,
        "Frames written to sockets (live events and replays)",
    ),
    (
        names::QUEUE_DEPTH,
        "Frames queued for sockets and not written yet, summed over sockets",
    ),
    (
        names::QUEUE_DEPTH_MAX,
        "The longest queue of one socket (1024 closes it with 4009)",
    ),
    (
        names::TOO_SLOW,
        "Sockets closed with 4009 because their queue was full",
    ),
    (
        names::GAP_FILLS,
        "Gaps in a channel's sequence filled from the database",
    ),
    (
        names::REDIS_RECONNECTS,
        "Subscriptions to Redis made again after losing one",
    ),
    (
        names::REDIS_LAG,
        "From a message being stored on another instance to its arrival here through Redis",
    ),
    (
        names::MESSAGE_STAGE,
        "Where a socket message's time goes, by stage: wait (for its socket's store task), \
         store (round trip and commit), publish (to every local socket's queue), write (queued \
         until written to a socket)",
    ),
    (names::DB_POOL_SIZE, "Connections the database pool holds"),
    (
        names::DB_POOL_IN_USE,
        "Pool connections lent out to requests",
    ),
    (
        names::DB_POOL_WAITING,
        "Requests waiting for a pool connection",
    ),
    (
        names::RATE_LIMITED,
        "Requests and frames refused by a rate limit, by limit",
    ),
];

/// Handles on everything Hearth counts; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Option<Arc<Exporter>>,
    pub messages_stored: Counter,
    pub frames_delivered: Counter,
    pub too_slow: Counter,
    pub gap_fills: Counter,
    pub redis_reconnects: Counter,
    pub redis_lag: Histogram,
    /// The stages of a message ([`stage`]).
    pub stages: Stages,
}

/// One histogram per stage of a message.
#[derive(Clone)]
pub struct Stages {
    pub wait: Histogram,
    pub store: Histogram,
    pub publish: Histogram,
    pub write: Histogram,
}

impl Stages {
    fn noop() -> Self {
        Self {
            wait: Histogram::noop(),
            store: Histogram::noop(),
            publish: Histogram::noop(),
            write: Histogram::noop(),
        }
    }
}

struct Exporter {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

/// State read when the page is scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub sockets_open: usize,
    pub queue_depth: usize,
    pub queue_depth_max: usize,
    pub db_pool_size: usize,
    pub db_pool_in_use: usize,
    pub db_pool_waiting: usize,
}

impl Metrics {
    /// Counts nothing (the default: `HEARTH_METRICS_ADDR` unset).
    pub fn disabled() -> Self {
        Self {
            inner: None,
            messages_stored: Counter::noop(),
            frames_delivered: Counter::noop(),
            too_slow: Counter::noop(),
            gap_fills: Counter::noop(),
            redis_reconnects: Counter::noop(),
            redis_lag: Histogram::noop(),
            stages: Stages::noop(),
        }
    }

    /// A recorder of this application's own.
    pub fn enabled() -> anyhow::Result<Self> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(names::HTTP_DURATION.to_owned()),
                &LATENCY_BUCKETS,
            )?
            .set_buckets_for_metric(Matcher::Full(names::REDIS_LAG.to_owned()), &LATENCY_BUCKETS)?
            .set_buckets_for_metric(
                Matcher::Full(names::MESSAGE_STAGE.to_owned()),
                &STAGE_BUCKETS,
            )?
            .build_recorder();
        for (name, help) in DESCRIPTIONS {
            let unit = name.ends_with("_seconds").then_some(Unit::Seconds);
            recorder.describe_counter(name.into(), unit, help.into());
        }
        let handle = recorder.handle();
        let exporter = Arc::new(Exporter { recorder, handle });
        let counter = |name: &'static str| {
            exporter
                .recorder
                .register_counter(&Key::from_static_name(name), &METADATA)
        };
        let stage = |name: &'static str| {
            exporter.recorder.register_histogram(
                &Key::from_parts(
                    names::MESSAGE_STAGE,
                    vec![Label::from_static_parts("stage", name)],
                ),
                &METADATA,
            )
        };
        let stages = Stages {
            wait: stage(stage::WAIT),
            store: stage(stage::STORE),
            publish: stage(stage::PUBLISH),
            write: stage(stage::WRITE),
        };
        Ok(Self {
            stages,
            messages_stored: counter(names::MESSAGES_STORED),
            frames_delivered: counter(names::FRAMES_DELIVERED),
            too_slow: counter(names::TOO_SLOW),
            gap_fills: counter(names::GAP_FILLS),
            redis_reconnects: counter(names::REDIS_RECONNECTS),
            redis_lag: exporter
                .recorder
                .register_histogram(&Key::from_static_name(names::REDIS_LAG), &METADATA),
            inner: Some(exporter),
        })
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The counter of refusals by the rate limit called `limit`.
    pub fn rate_limited(&self, limit: &'static str) -> Counter {
        match &self.inner {
            Some(exporter) => exporter.recorder.register_counter(
                &Key::from_parts(
                    names::RATE_LIMITED,
                    vec![Label::from_static_parts("limit", limit)],
                ),
                &METADATA,
            ),
            None => Counter::noop(),
        }
    }

    /// Counts one HTTP request. `route` is the matched route's template (never the raw path:
    /// ids would make a series per request).
    pub fn http_request(&self, route: String, method: &'static str, status: u16, took: Duration) {
        let Some(exporter) = &self.inner else { return };
        let route = Label::new("route", route);
        let method = Label::from_static_parts("method", method);
        let requests = Key::from_parts(
            names::HTTP_REQUESTS,
            vec![
                route.clone(),
                method.clone(),
                Label::new("status", status.to_string()),
            ],
        );
        exporter
            .recorder
            .register_counter(&requests, &METADATA)
            .increment(1);
        let duration = Key::from_parts(names::HTTP_DURATION, vec![route, method]);
        exporter
            .recorder
            .register_histogram(&duration, &METADATA)
            .record(took.as_secs_f64());
    }

    /// The page, with the state gauges set from `snapshot` first.
    pub fn render(&self, snapshot: Snapshot) -> Option<String> {
        let exporter = self.inner.as_ref()?;
        let gauge = |name: &'static str, value: usize| {
            // Precision is not at stake below 2^53.
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
            let value = value as f64;
            exporter
                .recorder
                .register_gauge(&Key::from_static_name(name), &METADATA)
                .set(value);
        };
        gauge(names::SOCKETS_OPEN, snapshot.sockets_open);
        gauge(names::QUEUE_DEPTH, snapshot.queue_depth);
        gauge(names::QUEUE_DEPTH_MAX, snapshot.queue_depth_max);
        gauge(names::DB_POOL_SIZE, snapshot.db_pool_size);
        gauge(names::DB_POOL_IN_USE, snapshot.db_pool_in_use);
        gauge(names::DB_POOL_WAITING, snapshot.db_pool_waiting);
        Some(exporter.handle.render())
    }

    /// Drains histogram samples into their buckets; without it, samples of a server nobody
    /// scrapes would pile up.
    pub fn upkeep(&self) {
        if let Some(exporter) = &self.inner {
            exporter.handle.run_upkeep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_labels_reach_the_page_in_prometheus_text_format() -> anyhow::Result<()> {
        let metrics = Metrics::enabled()?;
        metrics.messages_stored.increment(3);
        metrics.rate_limited("login_failures").increment(1);
        metrics.http_request(
            "/api/x/{id}/".to_owned(),
            "GET",
            200,
            Duration::from_millis(2),
        );
        let page = metrics
            .render(Snapshot {
                sockets_open: 7,
                ..Snapshot::default()
            })
            .unwrap_or_default();
        assert!(page.contains("hearth_messages_stored_total 3"), "{page}");
        assert!(
            page.contains("hearth_rate_limited_total{limit=\"login_failures\"} 1"),
            "{page}"
        );
        assert!(
            page.contains(
                "hearth_http_requests_total{route=\"/api/x/{id}/\",method=\"GET\",status=\"200\"} 1"
            ),
            "{page}"
        );
        assert!(
            page.contains("hearth_http_request_duration_seconds_bucket"),
            "{page}"
        );
        assert!(page.contains("hearth_sockets_open 7"), "{page}");
        assert!(
            page.contains("# HELP hearth_messages_stored_total"),
            "{page}"
        );
        Ok(())
    }

    #[test]
    fn disabled_metrics_render_nothing_and_cost_nothing() {
        let metrics = Metrics::disabled();
        metrics.messages_stored.increment(1);
        metrics.http_request("/".to_owned(), "GET", 200, Duration::ZERO);
        assert!(metrics.render(Snapshot::default()).is_none());
    }
}
