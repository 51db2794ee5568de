//! A smoothed copy rate and ETA from samples of ZFS's copied counter. The counter moves only at
//! txg sync (every few seconds) and sits near zero at first (measured in the lab), so the rate is taken between
//! the moments the counter changed, over a window, and is `None` ("estimating") until two changes
//! at least `MIN_SPAN` apart are seen.

use std::collections::VecDeque;

/// Seconds of counter changes needed before a rate means anything.
pub const MIN_SPAN: f64 = 4.0;
/// Seconds of history the rate is averaged over.
pub const WINDOW: f64 = 30.0;
/// Seconds without a change of the counter after which the copy counts as stalled: many txgs
/// (each moves the counter of a running copy), so neither a slow copy nor a slow txg.
pub const STALL: f64 = 60.0;

/// What the samples say at one moment: the rate and ETA (`None` while estimating, and while the
/// copy is stalled), and how long it has stood still once that counts as a stall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub rate: Option<f64>,
    pub eta: Option<f64>,
    pub stalled: Option<f64>,
}

/// Samples of `(seconds, copied bytes)`, monotonic in time.
#[derive(Debug, Clone, Default)]
pub struct RateEstimator {
    /// Only the samples where the counter changed (the first of each value).
    changes: VecDeque<(f64, u64)>,
    /// The last moment the counter stood still on purpose (the copy paused).
    paused_at: Option<f64>,
}

impl RateEstimator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the counter at time `t` (seconds on any monotonic clock).
    pub fn push(&mut self, t: f64, copied: u64) {
        match self.changes.back() {
            Some(&(_, last)) if last == copied => return,
            // A smaller counter is a new removal (or a crash lost progress): start over.
            Some(&(_, last)) if copied < last => self.changes.clear(),
            _ => {}
        }
        self.changes.push_back((t, copied));
        while self.changes.len() > 2 && t - self.changes[1].0 >= WINDOW {
            self.changes.pop_front();
        }
    }

    /// Bytes per second, or `None` while estimating.
    pub fn rate(&self) -> Option<f64> {
        let (&(t0, c0), &(t1, c1)) = (self.changes.front()?, self.changes.back()?);
        (t1 - t0 >= MIN_SPAN && c1 > c0).then(|| (c1 - c0) as f64 / (t1 - t0))
    }

    /// Seconds left to copy `to_copy` bytes, or `None` while estimating.
    pub fn eta(&self, copied: u64, to_copy: u64) -> Option<f64> {
        let rate = self.rate()?;
        Some(to_copy.saturating_sub(copied) as f64 / rate)
    }

    /// Seconds the counter has stood still at `t`, once that is longer than `STALL`: the rate
    /// and the ETA of the samples before it no longer say anything.
    pub fn stalled_for(&self, t: f64) -> Option<f64> {
        let &(changed, _) = self.changes.back()?;
        let last = self.paused_at.map_or(changed, |p| p.max(changed));
        (t - last > STALL).then_some(t - last)
    }

    /// The rate, ETA and stall at `t` for a copy at `copied` of `to_copy` bytes: a stalled
    /// copy has no rate or ETA, since the samples before the stall no longer say anything.
    pub fn estimate(&self, t: f64, copied: u64, to_copy: u64) -> Estimate {
        let stalled = self.stalled_for(t);
        let moving = stalled.is_none();
        Estimate {
            rate: self.rate().filter(|_| moving),
            eta: self.eta(copied, to_copy).filter(|_| moving),
            stalled,
        }
    }

    /// Records that the copy is paused at `t`, so the counter standing still is no stall.
    pub fn paused(&mut self, t: f64) {
        self.paused_at = Some(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy at 32 MiB/s whose counter moves every 5 s (a txg), sampled every second.
    fn txg_counter(t: f64) -> u64 {
        let synced = (t / 5.0).floor() * 5.0;
        (synced * f64::from(32 << 20)) as u64
    }

    #[test]
    fn estimating_until_two_changes_then_the_true_rate() {
        let mut r = RateEstimator::new();
        for s in 0..5 {
            r.push(f64::from(s), txg_counter(f64::from(s)));
            assert_eq!(r.rate(), None, "one txg seen at t={s}");
        }
        for s in 5..=60 {
            r.push(f64::from(s), txg_counter(f64::from(s)));
            if s >= 10 {
                let rate = r.rate().unwrap();
                assert!((rate - f64::from(32 << 20)).abs() < 1.0, "t={s}: {rate}");
            }
        }
        let eta = r
            .eta(txg_counter(60.0), txg_counter(60.0) + (320 << 20))
            .unwrap();
        assert!((eta - 10.0).abs() < 0.01, "{eta}");
    }

    #[test]
    fn the_window_follows_a_rate_change_and_a_reset_starts_over() {
        let mut r = RateEstimator::new();
        let mut copied = 0u64;
        for s in 1..=100u32 {
            // 10 MiB/s for 50 s, then 40 MiB/s, one txg every 5 s.
            if s % 5 == 0 {
                copied += if s <= 50 { 50 << 20 } else { 200 << 20 };
            }
            r.push(f64::from(s), copied);
        }
        let rate = r.rate().unwrap() / f64::from(1 << 20);
        assert!((rate - 40.0).abs() < 0.01, "{rate}");
        r.push(101.0, 1 << 20);
        assert_eq!(r.rate(), None);
    }

    #[test]
    fn a_counter_standing_still_for_a_minute_is_a_stall() {
        let mut r = RateEstimator::new();
        for s in 0..=30 {
            r.push(f64::from(s), txg_counter(f64::from(s)));
        }
        // The last change was at 30 s; ZFS copies nothing more.
        for s in 31..=90 {
            r.push(f64::from(s), txg_counter(30.0));
            assert_eq!(r.stalled_for(f64::from(s)), None, "t={s}");
        }
        assert_eq!(r.stalled_for(91.0), Some(61.0));
        let stuck = r.estimate(91.0, txg_counter(30.0), 1 << 30);
        assert_eq!(
            (stuck.rate, stuck.eta, stuck.stalled),
            (None, None, Some(61.0))
        );
        r.push(92.0, txg_counter(35.0));
        assert_eq!(r.stalled_for(92.0), None);
        // A pause of the copy (the cap) is no stall, until a minute after it ends.
        r.paused(150.0);
        assert_eq!(r.stalled_for(150.0), None);
        assert_eq!(r.stalled_for(211.0), Some(61.0));
    }
}
