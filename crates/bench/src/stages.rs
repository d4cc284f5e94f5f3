//! Where a message's time goes, read off the server's own histograms
//! (`hearth_message_stage_seconds{stage}` on its metrics listener): scraped before and after a
//! delivery scenario, the difference of the buckets gives each stage's p50 and p99 over the
//! scenario alone.

use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The stages, in the order a message goes through them.
pub const STAGES: [&str; 4] = ["wait", "store", "publish", "write"];

const SERIES: &str = "hearth_message_stage_seconds_bucket{stage=\"";

/// Cumulative bucket counts of each stage, by upper bound in seconds (`+Inf` as infinity).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histograms(BTreeMap<String, Vec<(f64, f64)>>);

/// `GET /metrics` from the server's metrics listener.
pub async fn scrape(addr: SocketAddr) -> anyhow::Result<Histograms> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut page = String::new();
    stream.read_to_string(&mut page).await?;
    if !page.starts_with("HTTP/1.1 200") {
        bail!(
            "metrics answered {}",
            page.lines().next().unwrap_or_default()
        );
    }
    Ok(parse(&page))
}

/// The stage buckets of a page in Prometheus' text format.
pub fn parse(page: &str) -> Histograms {
    let mut stages: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for line in page.lines() {
        let Some(rest) = line.strip_prefix(SERIES) else {
            continue;
        };
        let parsed = (|| {
            let (stage, rest) = rest.split_once('"')?;
            let rest = rest.strip_prefix(",le=\"")?;
            let (le, rest) = rest.split_once('"')?;
            let count: f64 = rest.trim_start_matches('}').trim().parse().ok()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((stage.to_owned(), le, count))
        })();
        if let Some((stage, le, count)) = parsed {
            stages.entry(stage).or_default().push((le, count));
        }
    }
    for buckets in stages.values_mut() {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Histograms(stages)
}

impl Histograms {
    /// The `q` quantile of `stage` over what was recorded between `before` and `self`, in
    /// milliseconds (interpolated within its bucket); `None` when nothing was.
    pub fn quantile_since(&self, before: &Histograms, stage: &str, q: f64) -> Option<f64> {
        let now = self.0.get(stage)?;
        let then = before.0.get(stage);
        let delta: Vec<(f64, f64)> = now
            .iter()
            .map(|(le, count)| {
                let earlier = then
                    .and_then(|t| t.iter().find(|(l, _)| l == le))
                    .map_or(0.0, |(_, c)| *c);
                (*le, count - earlier)
            })
            .collect();
        let total = delta.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for (le, cumulative) in delta {
            if cumulative >= rank {
                if le.is_infinite() {
                    // Past the last bound: say the bound (a lower bound of the truth).
                    return Some(lower.0 * 1000.0);
                }
                let within = (cumulative - lower.1).max(f64::MIN_POSITIVE);
                let share = ((rank - lower.1) / within).clamp(0.0, 1.0);
                return Some((lower.0 + (le - lower.0) * share) * 1000.0);
            }
            lower = (le, cumulative);
        }
        None
    }

    /// How many were recorded for `stage` since `before`.
    pub fn count_since(&self, before: &Histograms, stage: &str) -> f64 {
        let last = |h: &Histograms| h.0.get(stage).and_then(|b| b.last()).map_or(0.0, |b| b.1);
        last(self) - last(before)
    }
}

/// Scrapes `addr`, with the context of what failed.
pub async fn snapshot(addr: SocketAddr) -> anyhow::Result<Histograms> {
    scrape(addr)
        .await
        .with_context(|| format!("cannot read the server's metrics at {addr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(counts: [u64; 4]) -> String {
        let [a, b, c, inf] = counts;
        format!(
            "# TYPE hearth_message_stage_seconds histogram\n\
             hearth_message_stage_seconds_bucket{{stage=\"store\",le=\"0.001\"}} {a}\n\
             hearth_message_stage_seconds_bucket{{stage=\"store\",le=\"0.002\"}} {b}\n\
             hearth_message_stage_seconds_bucket{{stage=\"store\",le=\"0.01\"}} {c}\n\
             hearth_message_stage_seconds_bucket{{stage=\"store\",le=\"+Inf\"}} {inf}\n\
             hearth_message_stage_seconds_sum{{stage=\"store\"}} 1.5\n\
             hearth_http_requests_total{{route=\"x\"}} 3\n"
        )
    }

    #[test]
    fn quantiles_come_from_the_difference_of_two_scrapes() {
        let before = parse(&page([50, 50, 50, 50]));
        // Since: 100 more, 90 of them under 1 ms, 8 between 1 and 2 ms, 2 between 2 and 10.
        let after = parse(&page([140, 148, 150, 150]));
        assert_eq!(after.count_since(&before, "store"), 100.0);
        let p50 = after
            .quantile_since(&before, "store", 0.5)
            .unwrap_or_default();
        assert!((p50 - 0.5556).abs() < 0.01, "{p50}");
        let p99 = after
            .quantile_since(&before, "store", 0.99)
            .unwrap_or_default();
        assert!((p99 - 6.0).abs() < 0.01, "{p99}");
        assert_eq!(after.quantile_since(&before, "write", 0.5), None);
        assert_eq!(before.quantile_since(&before, "store", 0.5), None);
    }

    #[test]
    fn a_quantile_past_the_last_bound_is_that_bound() {
        let before = parse(&page([0, 0, 0, 0]));
        let after = parse(&page([0, 0, 0, 10]));
        assert_eq!(after.quantile_since(&before, "store", 0.99), Some(10.0));
    }
}
