//! The watcher's Prometheus metrics, in node_exporter's textfile format.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::record::{WatchRecord, WatchState};

/// Gauges in the text format, every sample labelled with the pool.
struct Gauges {
    out: String,
    pool: String,
}

/// A label value as the text format needs it: backslash, double quote and newline escaped.
fn escaped(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Gauges {
    fn new(pool: &str) -> Self {
        Self {
            out: String::new(),
            pool: escaped(pool),
        }
    }

    /// A gauge with one sample per set of extra labels.
    fn labelled(&mut self, name: &str, help: &str, samples: &[(&[(&str, &str)], f64)]) {
        let _ = writeln!(
            self.out,
            "# HELP zevac_{name} {help}\n# TYPE zevac_{name} gauge"
        );
        for (labels, v) in samples {
            let extra: String = labels
                .iter()
                .map(|(k, val)| format!(",{k}=\"{}\"", escaped(val)))
                .collect();
            let _ = writeln!(
                self.out,
                "zevac_{name}{{pool=\"{}\"{extra}}} {v}",
                self.pool
            );
        }
    }

    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.labelled(name, help, &[(&[], value)]);
    }
}

/// The metrics text for a record.
pub fn render(r: &WatchRecord) -> String {
    let mut g = Gauges::new(&r.pool);
    let on = |b: bool| f64::from(u8::from(b));
    let states: Vec<[(&str, &str); 1]> = WatchState::ALL
        .iter()
        .map(|s| [("state", s.name())])
        .collect();
    let samples: Vec<_> = WatchState::ALL
        .iter()
        .zip(&states)
        .map(|(s, l)| (&l[..], on(*s == r.state)))
        .collect();
    g.labelled("state", "1 for the evacuation's current state.", &samples);
    g.gauge(
        "bytes_to_copy",
        "Bytes the removal copies in all.",
        r.total_bytes as f64,
    );
    g.gauge(
        "bytes_copied",
        "Bytes copied so far.",
        r.copied_bytes as f64,
    );
    g.gauge(
        "bytes_copied_estimate",
        "Bytes copied, ZFS's counter moved on by the origin's reads since its last txg.",
        r.progress.map_or(r.copied_bytes, |p| p.bytes) as f64,
    );
    g.gauge(
        "copy_rate_bytes_per_second",
        "Smoothed copy rate (NaN while estimating).",
        r.rate_bytes_per_second.unwrap_or(f64::NAN),
    );
    g.gauge(
        "eta_seconds",
        "Seconds left to copy (NaN while estimating).",
        r.eta_seconds.unwrap_or(f64::NAN),
    );
    let phases: Vec<[(&str, &str); 2]> = ["boot", "steady", "verify"]
        .iter()
        .map(|p| [("phase", *p), ("profile", r.profile.as_str())])
        .collect();
    let samples: Vec<_> = phases
        .iter()
        .map(|l| (&l[..], on(r.phase.map(|x| x.name()) == Some(l[0].1))))
        .collect();
    g.labelled("phase", "1 for the tunables phase in force.", &samples);
    g.gauge(
        "cap_bytes_per_second",
        "The bandwidth cap on the copy (0: none).",
        r.cap_bytes_per_second.unwrap_or(0) as f64,
    );
    if let Some(cow) = r.cow {
        store_gauges(&mut g, cow);
    }
    g.out
}

/// Immutable origin, while the snapshot exists: how full its store is (1: invalid).
fn store_gauges(g: &mut Gauges, cow: crate::devmapper::CowUsage) {
    let (used, size) = match cow {
        crate::devmapper::CowUsage::InUse {
            allocated,
            total,
            metadata,
        } => ((allocated + metadata) as f64, total as f64),
        _ => (f64::NAN, f64::NAN),
    };
    g.gauge(
        "cow_used_bytes",
        "Bytes of the origin snapshot's copy-on-write store in use (NaN: invalid).",
        used,
    );
    g.gauge(
        "cow_size_bytes",
        "Bytes of the origin snapshot's copy-on-write store.",
        size,
    );
    g.gauge(
        "cow_used_ratio",
        "Share of the copy-on-write store in use (1: full, the snapshot invalid).",
        cow.fraction(),
    );
}

/// Writes the metrics file atomically (node_exporter may read it at any moment).
pub fn write(path: &Path, r: &WatchRecord) -> Result<()> {
    crate::runfile::replace(path, render(r).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_carry_the_pool_and_escape_label_values() {
        let mut r = crate::testing::watch_record(WatchState::Evacuating);
        let text = render(&r);
        assert!(
            text.contains("zevac_state{pool=\"rpool\",state=\"evacuating\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("zevac_state{pool=\"rpool\",state=\"verified\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("zevac_phase{pool=\"rpool\",phase=\"steady\",profile=\"gentle\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("zevac_cap_bytes_per_second{pool=\"rpool\"} 41943040\n"),
            "{text}"
        );
        assert!(text
            .contains("# TYPE zevac_eta_seconds gauge\nzevac_eta_seconds{pool=\"rpool\"} NaN\n"));
        assert!(!text.contains("cow_used"), "no store, no store gauges");
        r.profile = "a\"b\\c".into();
        assert!(
            render(&r).contains(r#"profile="a\"b\\c"}"#),
            "{}",
            render(&r)
        );
    }
}
