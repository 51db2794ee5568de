//! The watcher's Prometheus metrics, in node_exporter's textfile format.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::record::{WatchRecord, WatchState};

/// The metrics text for a record.
pub fn render(r: &WatchRecord) -> String {
    let pool = &r.pool;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP zevac_{name} {help}\n# TYPE zevac_{name} gauge");
        for (labels, v) in samples {
            let _ = writeln!(out, "zevac_{name}{{pool=\"{pool}\"{labels}}} {v}");
        }
    };
    let states = [
        WatchState::Evacuating,
        WatchState::Verifying,
        WatchState::Verified,
        WatchState::Canceled,
        WatchState::Failed,
    ];
    let state_samples: Vec<_> = states
        .iter()
        .map(|s| {
            let name = serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (
                format!(",state=\"{name}\""),
                f64::from(u8::from(*s == r.state)),
            )
        })
        .collect();
    gauge(
        "state",
        "1 for the evacuation's current state.",
        &state_samples,
    );
    gauge(
        "bytes_to_copy",
        "Bytes the removal copies in all.",
        &[(String::new(), r.total_bytes as f64)],
    );
    gauge(
        "bytes_copied",
        "Bytes copied so far.",
        &[(String::new(), r.copied_bytes as f64)],
    );
    gauge(
        "copy_rate_bytes_per_second",
        "Smoothed copy rate (NaN while estimating).",
        &[(String::new(), r.rate_bytes_per_second.unwrap_or(f64::NAN))],
    );
    gauge(
        "eta_seconds",
        "Seconds left to copy (NaN while estimating).",
        &[(String::new(), r.eta_seconds.unwrap_or(f64::NAN))],
    );
    let phase_samples: Vec<_> = ["boot", "steady", "verify"]
        .iter()
        .map(|p| {
            let on = r.phase.map(|x| x.name()) == Some(p);
            (
                format!(",phase=\"{p}\",profile=\"{}\"", r.profile),
                f64::from(u8::from(on)),
            )
        })
        .collect();
    gauge(
        "phase",
        "1 for the tunables phase in force.",
        &phase_samples,
    );
    gauge(
        "cap_bytes_per_second",
        "The bandwidth cap on the copy (0: none).",
        &[(String::new(), r.cap_bytes_per_second.unwrap_or(0) as f64)],
    );
    // Immutable origin, while the snapshot exists: how full its store is (1: invalid).
    if let Some(cow) = r.cow {
        let (used, size) = match cow {
            crate::devmapper::CowUsage::InUse {
                allocated,
                total,
                metadata,
            } => ((allocated + metadata) as f64, total as f64),
            _ => (f64::NAN, f64::NAN),
        };
        gauge(
            "cow_used_bytes",
            "Bytes of the origin snapshot's copy-on-write store in use (NaN: invalid).",
            &[(String::new(), used)],
        );
        gauge(
            "cow_size_bytes",
            "Bytes of the origin snapshot's copy-on-write store.",
            &[(String::new(), size)],
        );
        gauge(
            "cow_used_ratio",
            "Share of the copy-on-write store in use (1: full, the snapshot invalid).",
            &[(String::new(), cow.fraction())],
        );
    }
    out
}

/// Writes the metrics file atomically (node_exporter may read it at any moment).
pub fn write(path: &Path, r: &WatchRecord) -> Result<()> {
    crate::runfile::replace(path, render(r).as_bytes())
}
