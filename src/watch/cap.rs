//! The bandwidth cap. OpenZFS has no MiB/s limit for a removal, only queue depths and a pause
//! switch (`zfs_removal_suspend_progress`, FACTS). This controller holds the average copy rate
//! at the cap with a token bucket over ZFS's copied counter: the copy runs while the bytes copied
//! are within what the cap has allowed since the start, and pauses while they are ahead. The
//! counter moves only at txg sync, so each decision lags by up to a txg; the bucket makes the
//! lag even out instead of adding up, so the average converges on the cap.

/// Unused allowance kept at most, in seconds at the cap: a copy held back by a slow disk may
/// catch up this much, not more.
pub const BURST_SECONDS: f64 = 10.0;

/// What to do with the copy now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Run,
    Pause,
}

/// A token bucket over the copied counter.
#[derive(Debug, Clone)]
pub struct CapController {
    cap: f64,
    /// `(seconds, copied)` from which the allowance counts.
    origin: Option<(f64, u64)>,
}

impl CapController {
    /// A cap of `bytes_per_second` (non-zero).
    pub fn new(bytes_per_second: u64) -> Self {
        Self {
            cap: bytes_per_second.max(1) as f64,
            origin: None,
        }
    }

    pub fn cap(&self) -> u64 {
        self.cap as u64
    }

    /// The decision at time `t` (seconds, monotonic) with the counter at `copied`.
    pub fn update(&mut self, t: f64, copied: u64) -> Action {
        let (t0, c0) = match self.origin {
            Some((t0, c0)) if copied >= c0 => (t0, c0),
            // First sample, or the counter went back (a new removal, progress lost in a crash).
            _ => {
                self.origin = Some((t, copied));
                return Action::Run;
            }
        };
        let used = (copied - c0) as f64;
        let burst = self.cap * BURST_SECONDS;
        let mut credit = self.cap * (t - t0) - used;
        if credit > burst {
            // Forget allowance older than the burst: a slow stretch must not buy a long sprint.
            self.origin = Some((t - (used + burst) / self.cap, c0));
            credit = burst;
        }
        if credit >= 0.0 {
            Action::Run
        } else {
            Action::Pause
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A removal as the lab shows it: copies at `disk` bytes/s while not paused, with up to
    /// `in_flight` bytes still landing after a pause, and publishes its counter at each txg
    /// (`txg` seconds). Returns the average rate over `seconds`, ticking the controller each
    /// `tick` seconds.
    fn simulate(disk: f64, cap: f64, txg: f64, tick: f64, seconds: f64) -> f64 {
        let in_flight = 64.0 * f64::from(1 << 20);
        let mut ctl = CapController::new(cap as u64);
        let (mut t, mut real, mut published, mut paused_for) = (0.0, 0.0f64, 0u64, 0.0);
        let mut action = Action::Run;
        let dt = 0.1;
        let mut next_tick = 0.0;
        let mut next_txg = txg;
        while t < seconds {
            if t >= next_tick {
                action = ctl.update(t, published);
                next_tick += tick;
            }
            match action {
                Action::Run => {
                    real += disk * dt;
                    paused_for = 0.0;
                }
                // I/Os already issued still complete.
                Action::Pause if paused_for * disk < in_flight => {
                    real += disk * dt;
                    paused_for += dt;
                }
                Action::Pause => {}
            }
            t += dt;
            if t >= next_txg {
                published = real as u64;
                next_txg += txg;
            }
        }
        real / seconds
    }

    #[test]
    fn holds_the_cap_within_ten_percent_at_a_quarter_and_a_half_of_the_disk() {
        let disk = 32.0 * f64::from(1 << 20);
        for share in [0.25, 0.5] {
            for txg in [1.0, 5.0] {
                let rate = simulate(disk, disk * share, txg, 1.0, 600.0);
                let ratio = rate / (disk * share);
                assert!(
                    (0.9..=1.1).contains(&ratio),
                    "share {share}, txg {txg} s: {ratio:.3}"
                );
            }
        }
    }

    #[test]
    fn a_cap_above_the_disk_never_pauses() {
        let mut ctl = CapController::new(100 << 20);
        for s in 0..100u64 {
            assert_eq!(ctl.update(s as f64, s * (32 << 20)), Action::Run);
        }
    }

    #[test]
    fn allowance_does_not_pile_up_while_the_copy_stalls() {
        let cap = 10u64 << 20;
        let mut ctl = CapController::new(cap);
        ctl.update(0.0, 0);
        // Stalled for 100 s (a slow import), then 300 MiB lands at once.
        assert_eq!(ctl.update(100.0, 0), Action::Run);
        assert_eq!(
            ctl.update(101.0, 300 << 20),
            Action::Pause,
            "only 10 s of burst were kept"
        );
    }
}
