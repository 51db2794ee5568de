//! The copy's progress between ZFS's updates. ZFS's `copied` counter moves only when a txg syncs,
//! by a txg's worth of the copy at a time; the origin disk's read counter moves in real time. The
//! estimate is ZFS's counter plus what the origin has read since the estimate was last anchored,
//! re-anchored at every sample, and kept honest three ways:
//! - it never goes below what ZFS has confirmed, nor backwards;
//! - it never runs more than two txgs' worth (twice the largest step ZFS's counter has made)
//!   ahead of what ZFS has confirmed, nor past the bytes to copy. The copy's own reads run that
//!   far ahead of the counter: the txg syncing and the one open. So it is at most one txg's
//!   worth ahead of the counter's next value, and other reads of the origin (the root's
//!   foreground) can push it no further before the next txg catches it up;
//! - while the copy is held (a cap's pause, or waiting for the watcher), reads are not the copy's
//!   and do not count.

use serde::{Deserialize, Serialize};

/// Where a progress figure comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EstimateSource {
    /// ZFS's own `copied` counter, as it stands.
    #[default]
    Zfs,
    /// ZFS's counter, moved on by the origin disk's reads since it last changed.
    OriginReads,
}

/// The estimator's state: small, and kept in the watcher's record so that a one-shot
/// `zevac status` continues the watcher's estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The estimate at the last sample (at least ZFS's counter then).
    pub bytes: u64,
    /// The origin disk's read counter at the last sample.
    pub origin_read: u64,
    /// ZFS's `copied` counter at the last sample.
    pub confirmed: u64,
    pub to_copy: u64,
    /// The largest step ZFS's counter has made between two samples: one txg's worth of the copy
    /// (or a few, if samples are further apart than txgs); `None` before the first step.
    pub txg_step: Option<u64>,
    /// Whether the copy was held at the last sample.
    pub held: bool,
}

impl Progress {
    /// The first sample of a copy at `confirmed` of `to_copy` bytes, the origin's counter at
    /// `origin_read`.
    pub fn start(confirmed: u64, to_copy: u64, origin_read: u64, held: bool) -> Self {
        Self {
            bytes: confirmed.min(to_copy),
            origin_read,
            confirmed,
            to_copy,
            txg_step: None,
            held,
        }
    }

    /// How far ahead of ZFS's counter the estimate may run.
    fn limit(&self) -> u64 {
        self.txg_step
            .map_or(self.to_copy, |s| {
                self.confirmed.saturating_add(s.saturating_mul(2))
            })
            .min(self.to_copy)
    }

    /// The estimate when the origin's counter reads `origin_read`.
    pub fn at(&self, origin_read: u64) -> u64 {
        let moved = if self.held {
            0
        } else {
            origin_read.saturating_sub(self.origin_read)
        };
        self.bytes
            .saturating_add(moved)
            .min(self.limit())
            .max(self.confirmed.min(self.to_copy))
    }

    /// A new sample: ZFS's counter and the origin's, read together. Returns the estimate now.
    pub fn observe(&mut self, confirmed: u64, to_copy: u64, origin_read: u64, held: bool) -> u64 {
        // A smaller counter or another total: a new removal, or a crash lost progress.
        if confirmed < self.confirmed || to_copy != self.to_copy || origin_read < self.origin_read {
            *self = Self::start(confirmed, to_copy, origin_read, held);
            return self.bytes;
        }
        let now = self.at(origin_read);
        if confirmed > self.confirmed {
            let step = confirmed - self.confirmed;
            self.txg_step = Some(self.txg_step.map_or(step, |s| s.max(step)));
        }
        self.confirmed = confirmed;
        self.bytes = now.max(confirmed).min(to_copy);
        self.origin_read = origin_read;
        self.held = held;
        self.bytes
    }
}

/// Keeps an estimate in step with samples: `observe` starts it at the first.
pub fn observe(
    progress: &mut Option<Progress>,
    confirmed: u64,
    to_copy: u64,
    origin_read: u64,
    held: bool,
) -> u64 {
    match progress {
        Some(p) => p.observe(confirmed, to_copy, origin_read, held),
        None => {
            progress
                .insert(Progress::start(confirmed, to_copy, origin_read, held))
                .bytes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// `(uptime, ZFS's copied, to copy, origin read)` of the evacuating samples of `zevac status
    /// --json`, twice a second through a copy at EBS 16 MiB/s (the lab's watch test, 2.3.2).
    fn recorded() -> Vec<(f64, u64, u64, u64)> {
        crate::testing::fixture_in("2.3.2", "progress", "status-samples.txt")
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(t, json)| {
                let v: serde_json::Value = serde_json::from_str(json).ok()?;
                let n = |k: &str| v[k].as_u64();
                Some((
                    t.parse().ok()?,
                    n("copied_bytes")?,
                    n("total_bytes")?,
                    n("origin_read_bytes")?,
                ))
            })
            .collect()
    }

    /// Replays `samples` as `--watch` sees them; returns the estimates.
    fn replay(samples: &[(f64, u64, u64, u64)]) -> Vec<u64> {
        let mut p = None;
        samples
            .iter()
            .map(|&(_, c, total, read)| observe(&mut p, c, total, read, false))
            .collect()
    }

    #[test]
    fn on_a_recorded_copy_it_moves_every_sample_and_stays_within_a_txg_of_zfs() {
        let samples = recorded();
        assert!(samples.len() > 10, "{} samples", samples.len());
        let est = replay(&samples);
        let step = samples.windows(2).map(|w| w[1].1 - w[0].1).max().unwrap();
        for (i, w) in est.windows(2).enumerate() {
            assert!(w[1] > w[0], "stood still at sample {}: {w:?}", i + 1);
        }
        for (i, &(_, c, total, _)) in samples.iter().enumerate() {
            assert!(est[i] >= c && est[i] <= total);
            if let Some(next) = samples[i..].iter().map(|s| s.1).find(|&n| n > c) {
                assert!(
                    est[i] <= next + step,
                    "sample {i}: {} > {next} + {step}",
                    est[i]
                );
            }
        }
    }

    #[test]
    fn on_a_recorded_copy_a_burst_of_other_reads_runs_at_most_two_txgs_ahead() {
        let mut samples = recorded();
        // 200 MiB read by something else just after ZFS's first step, and kept in the counter.
        let first_step = samples.iter().position(|s| s.1 > samples[0].1).unwrap();
        for s in &mut samples[first_step + 1..] {
            s.3 += 200 * MIB;
        }
        let est = replay(&samples);
        let (_, c, total, _) = samples[first_step + 1];
        let step = c - samples[first_step - 1].1;
        assert_eq!(est[first_step + 1], (c + 2 * step).min(total), "{est:?}");
        assert!(est.windows(2).all(|w| w[1] >= w[0]), "{est:?}");
        let most = samples.windows(2).map(|w| w[1].1 - w[0].1).max().unwrap();
        for (e, s) in est.iter().zip(&samples) {
            assert!(*e <= s.1 + 2 * most, "{e} against ZFS's {}", s.1);
        }
    }

    #[test]
    fn reads_move_the_estimate_between_txgs_and_the_txg_anchors_it() {
        let mut p = Progress::start(0, 100 * MIB, 1000, false);
        // Before ZFS's first step, only the total bounds it.
        assert_eq!(p.observe(0, 100 * MIB, 1000 + 8 * MIB, false), 8 * MIB);
        // ZFS confirms 10 MiB: the estimate goes to it, and reads move it on from there.
        assert_eq!(
            p.observe(10 * MIB, 100 * MIB, 1000 + 10 * MIB, false),
            10 * MIB
        );
        assert_eq!(p.at(1000 + 14 * MIB), 14 * MIB);
        // Two txgs' worth (10 MiB each) ahead of ZFS at most, however much the origin reads.
        assert_eq!(p.at(1000 + 50 * MIB), 30 * MIB);
    }

    #[test]
    fn it_never_goes_back_when_zfs_confirms_less_than_was_read() {
        let mut p = Progress::start(0, 100 * MIB, 0, false);
        p.observe(10 * MIB, 100 * MIB, 10 * MIB, false);
        assert_eq!(p.observe(10 * MIB, 100 * MIB, 18 * MIB, false), 18 * MIB);
        // ZFS confirms 16 MiB: the estimate stays at 18 and goes on from there.
        assert_eq!(p.observe(16 * MIB, 100 * MIB, 18 * MIB, false), 18 * MIB);
        assert_eq!(p.at(19 * MIB), 19 * MIB);
    }

    #[test]
    fn a_held_copy_stands_still_whatever_else_reads_the_origin() {
        let mut p = Progress::start(0, 100 * MIB, 0, false);
        p.observe(10 * MIB, 100 * MIB, 12 * MIB, true);
        assert_eq!(p.at(40 * MIB), 12 * MIB);
        // Let go: the reads from here on count.
        p.observe(10 * MIB, 100 * MIB, 40 * MIB, false);
        assert_eq!(p.at(43 * MIB), 15 * MIB);
    }

    #[test]
    fn the_end_is_zfss_and_a_new_removal_starts_over() {
        let mut p = Progress::start(0, 30 * MIB, 0, false);
        p.observe(20 * MIB, 30 * MIB, 25 * MIB, false);
        assert_eq!(p.at(90 * MIB), 30 * MIB, "never past the bytes to copy");
        assert_eq!(p.observe(30 * MIB, 30 * MIB, 31 * MIB, false), 30 * MIB);
        assert_eq!(p.observe(2 * MIB, 50 * MIB, 40 * MIB, false), 2 * MIB);
        assert_eq!(p.txg_step, None);
    }
}
