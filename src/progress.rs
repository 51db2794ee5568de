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
    /// (or a few, if samples are further apart than txgs). `None` until the second step: the
    /// first is of a txg the copy (or these samples) began in the middle of, and can be tiny
    /// (the demo's recording in the tests).
    pub txg_step: Option<u64>,
    /// Steps of ZFS's counter seen.
    #[serde(default)]
    pub steps: u32,
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
            steps: 0,
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
            self.steps = self.steps.saturating_add(1);
            if self.steps >= 2 {
                self.txg_step = Some(self.txg_step.map_or(step, |s| s.max(step)));
            }
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

    /// `(ZFS's copied, to copy, origin read)` of the evacuating reports in a recording, on 2.3.2
    /// at EBS 16 MiB/s: `zevac status --json` sampled twice a second through a copy (`uptime
    /// JSON` lines, the lab's watch test), or `zevac status --watch --json` (the demo).
    fn recorded(name: &str) -> Vec<(u64, u64, u64)> {
        crate::testing::fixture_in("2.3.2", "progress", name)
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(&l[l.find('{')?..]).ok()?;
                let n = |k: &str| v[k].as_u64();
                Some((
                    n("copied_bytes")?,
                    n("total_bytes")?,
                    n("origin_read_bytes")?,
                ))
            })
            .collect()
    }

    const SAMPLES: &str = "status-samples.txt";
    /// Its first step of ZFS's counter is 1 MiB, its second 146 MiB.
    const DEMO: &str = "watch-json-demo.jsonl";

    /// Replays `samples` as `--watch` sees them; returns the estimates.
    fn replay(samples: &[(u64, u64, u64)]) -> Vec<u64> {
        let mut p = None;
        samples
            .iter()
            .map(|&(c, total, read)| observe(&mut p, c, total, read, false))
            .collect()
    }

    fn largest_step(samples: &[(u64, u64, u64)]) -> u64 {
        samples.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap()
    }

    #[test]
    fn on_recorded_copies_it_moves_every_sample_and_stays_within_a_txg_of_zfs() {
        for name in [SAMPLES, DEMO] {
            let samples = recorded(name);
            assert!(samples.len() > 10, "{name}: {} samples", samples.len());
            let est = replay(&samples);
            let step = largest_step(&samples);
            for (i, w) in est.windows(2).enumerate() {
                assert!(
                    w[1] > w[0],
                    "{name}: stood still at sample {}: {w:?}",
                    i + 1
                );
            }
            for (i, &(c, total, _)) in samples.iter().enumerate() {
                assert!(est[i] >= c && est[i] <= total);
                if let Some(next) = samples[i..].iter().map(|s| s.0).find(|&n| n > c) {
                    assert!(
                        est[i] <= next + step,
                        "{name} {i}: {} > {next} + {step}",
                        est[i]
                    );
                }
            }
        }
    }

    #[test]
    fn on_a_recorded_copy_a_burst_of_other_reads_runs_at_most_two_txgs_ahead() {
        let mut samples = recorded(SAMPLES);
        // 200 MiB read by something else just after ZFS's second step, kept in the counter.
        let steps: Vec<usize> = (1..samples.len())
            .filter(|&i| samples[i].0 > samples[i - 1].0)
            .collect();
        let at = steps[1];
        for s in &mut samples[at + 1..] {
            s.2 += 200 * MIB;
        }
        let est = replay(&samples);
        let (c, total, _) = samples[at + 1];
        let step = c - samples[at - 1].0;
        assert_eq!(est[at + 1], (c + 2 * step).min(total), "{est:?}");
        assert!(est.windows(2).all(|w| w[1] >= w[0]), "{est:?}");
        let most = largest_step(&samples);
        for (e, s) in est.iter().zip(&samples) {
            assert!(*e <= s.0 + 2 * most, "{e} against ZFS's {}", s.0);
        }
    }

    #[test]
    fn reads_move_the_estimate_between_txgs_and_the_txg_anchors_it() {
        let mut p = Progress::start(0, 100 * MIB, 1000, false);
        // Until ZFS's second step, only the total bounds it: the first is of a partial txg.
        assert_eq!(p.observe(MIB, 100 * MIB, 1000 + 8 * MIB, false), 8 * MIB);
        assert_eq!(p.at(1000 + 30 * MIB), 30 * MIB);
        // ZFS confirms 11 MiB (a step of 10): the estimate never goes back, reads move it on.
        assert_eq!(
            p.observe(11 * MIB, 100 * MIB, 1000 + 10 * MIB, false),
            11 * MIB
        );
        assert_eq!(p.at(1000 + 14 * MIB), 15 * MIB);
        // Two txgs' worth (10 MiB each) ahead of ZFS at most, however much the origin reads.
        assert_eq!(p.at(1000 + 50 * MIB), 31 * MIB);
    }

    #[test]
    fn it_never_goes_back_when_zfs_confirms_less_than_was_read() {
        let mut p = Progress::start(0, 100 * MIB, 0, false);
        p.observe(MIB, 100 * MIB, MIB, false);
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
        let restarted = p.observe(2 * MIB, 50 * MIB, 40 * MIB, false);
        assert_eq!((restarted, p.txg_step, p.steps), (2 * MIB, None, 0));
    }
}
