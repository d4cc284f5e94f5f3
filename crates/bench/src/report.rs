//! The targets, the medians of several runs, and the printed table.

use crate::scenarios::Plan;
use crate::stats::{Goal, Row};
use std::fmt::Write as _;

fn goal(text: &str, met: bool) -> Option<Goal> {
    Some(Goal {
        text: text.to_owned(),
        met,
    })
}

/// The target for `row`'s scenario (issue 6's, raised where issue 17 raised it), judged.
pub fn judge(row: &Row, plan: &Plan) -> Option<Goal> {
    let (t, p99, clean) = (row.throughput, row.p99_ms, row.clean());
    let lost = row.lost.unwrap_or(0);
    // Both clients are held to the same target.
    match crate::client::Client::of(&row.scenario).1 {
        "is_member" => goal(
            "≥ 40,000 req/s, p99 ≤ 10 ms",
            t >= 40_000.0 && p99 <= 10.0 && clean,
        ),
        "server_list" => goal("≥ 5,000 req/s", t >= 5_000.0 && clean),
        "join_leave" => goal(
            "≥ 6,000 req/s, p99 ≤ 20 ms, all correct",
            t >= 6_000.0 && p99 <= 20.0 && clean,
        ),
        "join_leave_hot" => goal(
            "≥ 6,000 req/s, p99 ≤ 20 ms, all correct",
            t >= 6_000.0 && p99 <= 20.0 && clean,
        ),
        // Sustaining the offered rate with bounded latency is what shows the capacity.
        "login" => goal(
            "≥ 40 logins/s sustained",
            plan.login_rate >= 40.0 && t >= plan.login_rate * 0.975 && p99 <= 1_000.0 && clean,
        ),
        "is_member+login" => goal("p99 ≤ 20 ms", p99 <= 20.0 && clean),
        "fanout_20" => goal("0 lost, 0 dup, p99 ≤ 20 ms", p99 <= 20.0 && clean),
        "fanout_400" => goal(
            "≥ 250,000 deliveries/s, 0 lost",
            t >= 250_000.0 && lost == 0,
        ),
        "chat" => goal("0 lost, p99 ≤ 10 ms", p99 <= 10.0 && clean),
        "dm_pingpong" => goal("0 lost, p99 ≤ 10 ms", p99 <= 10.0 && clean),
        "personal_fanout" => goal("p99 ≤ 20 ms, 0 lost", p99 <= 20.0 && clean),
        "history_1k" | "history_10m" | "compat_history_10m" | "members_1k" | "members_100k"
        | "is_member_100k" | "join_leave_100k" | "catalogue_small" | "catalogue_10k" => {
            goal("p99 ≤ 10 ms, all correct", p99 <= 10.0 && clean)
        }
        "unread" => goal("≥ 3,000 req/s, all correct", t >= 3_000.0 && clean),
        "ack" => goal("≥ 5,000 req/s, all correct", t >= 5_000.0 && clean),
        "history_rich" => row
            .figures
            .get("vs_plain")
            .and_then(|ratio| goal("≥ 80 % of the plain history's rate", *ratio >= 0.8 && clean)),
        "search" => row.figures.get("messages_stored").and_then(|stored| {
            goal(
                "p99 ≤ 50 ms over ≥ 1,000,000 messages, all correct",
                p99 <= 50.0 && *stored >= 1_000_000.0 && clean,
            )
        }),
        "replay_10k" => goal(
            "10,000 messages in order in ≤ 100 ms (p99)",
            p99 <= 100.0 && clean,
        ),
        "presence_crowd" => row.figures.get("frames_per_socket").and_then(|frames| {
            goal(
                "≤ 10 frames per socket (O(N)) for 10,000 sockets, all open",
                *frames <= 10.0 && plan.crowd.sockets >= 10_000 && clean,
            )
        }),
        "login_memory" => row.rss_mib.and_then(|mib| {
            goal(
                "≤ 64 MiB RSS after 10,000 logins, 64 at once",
                mib <= 64.0 && plan.login_memory.logins >= 10_000 && clean,
            )
        }),
        "idle" => row
            .rss_per_socket_kib
            .and_then(|kib| goal("≤ 8 KiB RSS per socket", kib <= 8.0 && row.errors == 0)),
        "idle_personal" => row.rss_per_socket_kib.and_then(|kib| {
            goal(
                "≤ 14 KiB RSS per personal socket (10 subscriptions)",
                kib <= 14.0 && row.errors == 0,
            )
        }),
        _ => None,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// One row from several runs of a scenario: the median throughput, p50 and p99 (each on its
/// own), and the errors, losses and duplicates of all runs added up.
pub fn median_row(mut runs: Vec<Row>) -> Option<Row> {
    if runs.len() <= 1 {
        return runs.pop();
    }
    let take = |f: fn(&Row) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
    let (throughput, p50, p99) = (
        take(|r| r.throughput),
        take(|r| r.p50_ms),
        take(|r| r.p99_ms),
    );
    let rss: Vec<f64> = runs.iter().filter_map(|r| r.rss_per_socket_kib).collect();
    let rss_mib: Vec<f64> = runs.iter().filter_map(|r| r.rss_mib).collect();
    let max = runs.iter().filter_map(|r| r.max_ms).reduce(f64::max);
    let mut row = runs.first()?.clone();
    row.notes.push(format!(
        "median of {} runs: throughput {:?}",
        runs.len(),
        runs.iter()
            .map(|r| r.throughput.round())
            .collect::<Vec<_>>()
    ));
    row.throughput = throughput;
    row.p50_ms = p50;
    row.p99_ms = p99;
    // The worst of every run: a maximum is not smoothed by a median.
    row.max_ms = max;
    row.errors = runs.iter().map(|r| r.errors).sum();
    row.lost = runs.iter().map(|r| r.lost).sum();
    row.duplicates = runs.iter().map(|r| r.duplicates).sum();
    row.count = runs.iter().map(|r| r.count).sum();
    row.first_error = runs.iter().find_map(|r| r.first_error.clone());
    row.error_kinds.clear();
    for run in &runs {
        for (kind, n) in &run.error_kinds {
            *row.error_kinds.entry(kind.clone()).or_default() += n;
        }
    }
    for (name, value) in row.figures.iter_mut() {
        let mut values: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.figures.get(name))
            .copied()
            .collect();
        *value = median(&mut values);
    }
    if !rss.is_empty() {
        row.rss_per_socket_kib = Some(median(&mut rss.clone()));
    }
    if !rss_mib.is_empty() {
        row.notes
            .push(format!("resident MiB of each run: {rss_mib:.1?}"));
        row.rss_mib = Some(median(&mut rss_mib.clone()));
    }
    Some(row)
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The results table, with the notes and first errors below it.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:>22} {:>9} {:>9} {:>7} {:>7} {:>5}  target",
        "scenario", "throughput", "p50 ms", "p99 ms", "errors", "lost", "dups"
    );
    for row in rows {
        let mut throughput = format!("{} {}", thousands(row.throughput), row.unit);
        if let Some(kib) = row.rss_per_socket_kib {
            throughput = format!("{kib:.2} KiB/socket");
        }
        if let Some(mib) = row.rss_mib {
            throughput = format!("{mib:.1} MiB RSS");
        }
        let target = row.goal.as_ref().map_or_else(String::new, |g| {
            format!("{} {}", if g.met { "MET " } else { "MISS" }, g.text)
        });
        let _ = writeln!(
            out,
            "{:<16} {:>22} {:>9.2} {:>9.2} {:>7} {:>7} {:>5}  {target}",
            row.scenario,
            throughput,
            row.p50_ms,
            row.p99_ms,
            row.errors,
            count(row.lost),
            count(row.duplicates),
        );
    }
    let _ = writeln!(out);
    for row in rows {
        for (name, value) in &row.figures {
            let _ = writeln!(out, "  {}: {name} = {value:.2}", row.scenario);
        }
    }
    for row in rows {
        for note in &row.notes {
            let _ = writeln!(out, "  {}: {note}", row.scenario);
        }
        if let Some(error) = &row.first_error {
            let _ = writeln!(out, "  {}: first error: {error}", row.scenario);
        }
        let mut kinds: Vec<_> = row.error_kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        for (kind, n) in kinds.into_iter().take(5) {
            let _ = writeln!(out, "  {}: {n} × {kind}", row.scenario);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
    }
}
