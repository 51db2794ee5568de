//! The bandwidth cap. OpenZFS has no MiB/s limit for a removal, only queue depths and a pause
//! switch (`zfs_removal_suspend_progress`, zfs(4)). This controller holds the average copy rate
//! at the cap with a token bucket over the bytes read from the origin: the copy runs while the
//! bytes read are within what the cap has allowed since the start, and pauses while they are
//! ahead.
//!
//! A pause stops only new copy I/O: what ZFS has already issued (up to 64 MiB,
//! `zfs_remove_max_copy_bytes`, a constant) still lands, for seconds on a throttled volume. The
//! controller measures that drain at each pause and pauses that much early the next time, so the
//! bucket is not overdrawn by a whole drain when the copy ends (which a long copy evens out but a
//! short one shows as a rate above the cap).
//!
//! The copy starts in the initrd (`zevac apply` runs `zpool remove`) and runs uncapped until the
//! watcher takes over in stage 2. `apply` records where the origin's read counter stood when it
//! started the copy, and the watcher's first controller counts from there
//! ([`CapController::counting_from`]), so the cap holds as an average from the copy's start
//! (measured in the lab: counting from the watcher's start, a 256 MiB copy at a quarter of a
//! 16 MiB/s volume averaged 1.11 to 1.16 of the cap).
//!
//! The origin's counter counts the foreground's reads too, and they count against the cap: the
//! copy yields to a busy root. While the copy is paused, what reads the origin beyond the 64 MiB
//! it may still have in flight is the foreground's alone; it counts up to the cap, and what a
//! foreground heavier than the cap reads above it is forgiven. Otherwise its debt made the copy
//! wait long after the foreground had stopped, with the volume idle (the lab's sweep: random
//! reads read 600 MB in 10 s against a 16 MiB/s cap, and the copy then waited 24 s).

/// Unused allowance kept at most, in seconds at the cap: a copy held back by a slow disk may
/// catch up this much, not more (or one drain and a half, if that is larger: the lead the
/// controller keeps must fit in the bucket).
pub const BURST_SECONDS: f64 = 10.0;

/// The most copy I/O ZFS has issued at once (`zfs_remove_max_copy_bytes`, a constant), and so
/// the most a pause's drain can be: what reads the origin beyond it during a pause is the
/// foreground's (in the lab, 4k random reads of old data read 170 MiB in one pause, and a lead
/// of half of that held the copy back a further 11 s: 0.89 of the cap).
pub const MAX_COPY_IN_FLIGHT: f64 = 64.0 * 1048576.0;

/// The share of the last pause's drain the controller keeps as a lead.
const LEAD_SHARE: f64 = 0.5;
/// What to do with the copy now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Run,
    Pause,
}

/// The bytes landing after a pause began, measured until they slow below the cap (what reads
/// the origin after that is the foreground's, not the copy's drain).
#[derive(Debug, Clone)]
struct Drain {
    since: u64,
    last: (f64, u64),
    settled: bool,
    /// The previous sample of this pause.
    tick: (f64, u64),
}

impl Drain {
    fn observe(&mut self, t: f64, bytes: u64, cap: f64) {
        let (t1, b1) = self.last;
        if !self.settled && t > t1 {
            self.settled = (bytes.saturating_sub(b1) as f64) < cap * (t - t1);
            if !self.settled {
                self.last = (t, bytes);
            }
        }
    }

    fn landed(&self) -> f64 {
        self.last.1.saturating_sub(self.since) as f64
    }
}

/// A token bucket over the bytes read, with a lead for the drain after a pause.
#[derive(Debug, Clone)]
pub struct CapController {
    cap: f64,
    /// `(seconds, bytes)` from which the allowance counts.
    origin: Option<(f64, u64)>,
    /// The current pause; `None` while running.
    pause: Option<Drain>,
    /// Bytes that landed after the last pause began: the lead to keep.
    drain: f64,
    /// What is left to copy, as ZFS last said (its copied counter lags, so this is at least
    /// what is left): no lead larger than that is needed.
    remaining: Option<f64>,
    /// Whether the counter has the foreground's reads in it (the origin's disk counter), or is
    /// ZFS's copied counter, which publishes a txg's copy at once, pause or not.
    counts_foreground: bool,
}

impl CapController {
    /// A cap of `bytes_per_second` (non-zero).
    pub fn new(bytes_per_second: u64) -> Self {
        Self {
            cap: bytes_per_second.max(1) as f64,
            origin: None,
            pause: None,
            drain: 0.0,
            remaining: None,
            counts_foreground: true,
        }
    }

    /// The same, steering on ZFS's copied counter (no disk counter for the origin): what it
    /// shows during a pause is all the copy's, none to forgive.
    pub fn on_copied_counter(mut self) -> Self {
        self.counts_foreground = false;
        self
    }

    /// What ZFS says is left to copy. Near the end a pause's drain is at most that, so the
    /// lead shrinks to it: a lead of half a drain held back from a copy with less than that
    /// left only ends it later (a 256 MiB copy at half a 16 MiB/s volume ended at 0.88 of the
    /// cap in the lab, its last pause waiting for 28 MiB of lead with 11 MiB to go).
    pub fn set_remaining(&mut self, bytes: u64) {
        self.remaining = Some(bytes as f64);
    }

    /// The same, its allowance counting from `t0` (seconds, on the clock of [`Self::update`],
    /// earlier than its first sample) with the counter at `bytes0`: what the copy read before
    /// this controller started counts against the cap.
    pub fn counting_from(mut self, t0: f64, bytes0: u64) -> Self {
        self.origin = Some((t0, bytes0));
        self
    }

    pub fn cap(&self) -> u64 {
        self.cap as u64
    }

    /// The drain measured at the last pause, in bytes.
    pub fn drain(&self) -> u64 {
        self.drain as u64
    }

    /// The decision at time `t` (seconds, monotonic) with the counter at `bytes`.
    pub fn update(&mut self, t: f64, bytes: u64) -> Action {
        let (t0, c0) = match self.origin {
            Some((t0, c0)) if bytes >= c0 => (t0, c0),
            // First sample, or the counter went back (a new removal, progress lost in a crash).
            _ => {
                *self = Self {
                    origin: Some((t, bytes)),
                    remaining: self.remaining,
                    counts_foreground: self.counts_foreground,
                    ..Self::new(self.cap as u64)
                };
                return Action::Run;
            }
        };
        let cap = self.cap;
        let mut c0 = c0;
        if let Some(drain) = self.pause.as_mut() {
            drain.observe(t, bytes, cap);
            // Beyond what the copy can have in flight, the reads of a pause are the foreground's:
            // they count up to the cap, and what a heavier foreground reads above it is forgiven.
            let (t1, b1) = drain.tick;
            let foreground = bytes.saturating_sub(b1.max(drain.since + MAX_COPY_IN_FLIGHT as u64));
            let above_cap = foreground as f64 - cap * (t - t1).max(0.0);
            if self.counts_foreground && above_cap >= 1.0 {
                c0 += above_cap as u64;
                self.origin = Some((t0, c0));
            }
            drain.tick = (t, bytes);
        }
        let used = (bytes - c0) as f64;
        let burst = (self.cap * BURST_SECONDS).max(1.5 * self.drain);
        let mut credit = self.cap * (t - t0) - used;
        if credit > burst {
            // Forget allowance older than the burst: a slow stretch must not buy a long sprint.
            self.origin = Some((t - (used + burst) / self.cap, c0));
            credit = burst;
        }
        let lead = (self.drain * LEAD_SHARE).min(self.remaining.unwrap_or(f64::INFINITY));
        if credit >= lead {
            if let Some(drain) = self.pause.take() {
                // What this pause measured is the lead for the next one (the disk's speed, and
                // so the drain, may change).
                self.drain = drain.landed().min(MAX_COPY_IN_FLIGHT);
            }
            Action::Run
        } else {
            self.pause.get_or_insert(Drain {
                since: bytes,
                last: (t, bytes),
                settled: false,
                tick: (t, bytes),
            });
            Action::Pause
        }
    }
}

/// Measures the rate the origin delivers to the uncapped copy, for a cap given as a share of it
/// (`"50%"`): the best rate over any `window` seconds of samples, once `span` seconds of them
/// are in. The best, not the average, since the copy may stall in between (ZFS syncs a txg
/// before the copy flows; a foreground burst takes its turn). The foreground's reads count, as
/// they do against the cap.
#[derive(Debug, Clone)]
pub struct OriginRateProbe {
    window: f64,
    span: f64,
    first: Option<f64>,
    /// Samples from the newest one at least `window` old.
    samples: std::collections::VecDeque<(f64, u64)>,
    best: Option<f64>,
}

impl OriginRateProbe {
    /// On the origin's read counter, which moves in real time.
    pub const WINDOW_SECONDS: f64 = 4.0;
    pub const SPAN_SECONDS: f64 = 12.0;
    /// On ZFS's copied counter, which moves once a txg (every 5 to 10 s, in the lab).
    pub const TXG_WINDOW_SECONDS: f64 = 30.0;
    pub const TXG_SPAN_SECONDS: f64 = 40.0;

    pub fn new(window: f64, span: f64) -> Self {
        Self {
            window,
            span: span.max(window),
            first: None,
            samples: Default::default(),
            best: None,
        }
    }

    /// Takes a sample at `t` seconds with the counter at `bytes`; the measured rate (bytes per
    /// second) once the span is in.
    pub fn observe(&mut self, t: f64, bytes: u64) -> Option<f64> {
        if self.samples.back().is_some_and(|&(_, b)| bytes < b) {
            // The counter went back (a new removal): start over.
            *self = Self::new(self.window, self.span);
        }
        let first = *self.first.get_or_insert(t);
        self.samples.push_back((t, bytes));
        while self.samples.len() > 1 && t - self.samples[1].0 >= self.window {
            self.samples.pop_front();
        }
        if let Some(&(t0, b0)) = self
            .samples
            .front()
            .filter(|&&(t0, _)| t - t0 >= self.window)
        {
            let rate = (bytes - b0) as f64 / (t - t0);
            self.best = Some(self.best.map_or(rate, |b| b.max(rate)));
        }
        self.best.filter(|&r| r > 0.0 && t - first >= self.span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1048576.0;

    /// A removal of `total` bytes as the lab shows it: while running, ZFS keeps up to 64 MiB of
    /// copy I/O issued, which lands at what the disk has left after the foreground (reading
    /// `foreground.0` bytes/s of old data until `foreground.1` seconds); a pause stops new I/O
    /// only. The controller ticks every second on the origin's read counter (real time) and, on
    /// an `Some(txg)` lag, on the copied counter published at each txg instead. Returns the
    /// copy's average rate divided by the cap and the origin's (copy and foreground) divided by
    /// the cap.
    fn simulate(
        disk: f64,
        cap: f64,
        total: f64,
        txg: Option<f64>,
        foreground: (f64, f64),
    ) -> (f64, f64) {
        simulate_from(disk, cap, total, txg, foreground, 0, true)
    }

    fn copy_rate_to_cap(disk: f64, cap: f64, total: f64, txg: Option<f64>) -> f64 {
        simulate(disk, cap, total, txg, (0.0, 0.0)).0
    }

    /// The same, with the copy running `head` seconds uncapped before the controller starts (as
    /// between `zevac apply` in the initrd and the watcher in stage 2), and the controller
    /// counting from the copy's start (`charge`) or from its own.
    fn copy_with_head_start(
        disk: f64,
        cap: f64,
        total: f64,
        txg: Option<f64>,
        head: u64,
        charge: bool,
    ) -> f64 {
        simulate_from(disk, cap, total, txg, (0.0, 0.0), head, charge).0
    }

    fn simulate_from(
        disk: f64,
        cap: f64,
        total: f64,
        txg: Option<f64>,
        foreground: (f64, f64),
        head: u64,
        charge: bool,
    ) -> (f64, f64) {
        let in_flight = 64.0 * MIB;
        let mut ctl: Option<CapController> = None;
        let (mut t, mut issued, mut landed, mut published) = (0.0, 0.0f64, 0.0f64, 0.0f64);
        let mut foreground_read = 0.0f64;
        let (dt, mut next_tick, mut next_txg) = (0.01, 0.0, txg.unwrap_or(0.0));
        let mut action = Action::Run;
        while landed < total {
            if t >= next_tick {
                if t >= head as f64 {
                    let ctl = ctl.get_or_insert_with(|| {
                        let ctl = CapController::new(cap as u64);
                        let ctl = if txg.is_some() {
                            ctl.on_copied_counter()
                        } else {
                            ctl
                        };
                        if charge {
                            ctl.counting_from(0.0, 0)
                        } else {
                            ctl
                        }
                    });
                    let counter = if txg.is_some() {
                        published
                    } else {
                        landed + foreground_read
                    };
                    // ZFS's copied counter: at each txg, or (without one) every 5 s.
                    ctl.set_remaining((total - published) as u64);
                    action = ctl.update(t, counter as u64);
                }
                next_tick += 1.0;
            }
            if action == Action::Run {
                issued = (landed + in_flight).min(total);
            }
            assert!(t < 1e5, "the copy never ended");
            let foreground_now = if t < foreground.1 {
                foreground.0.min(disk) * dt
            } else {
                0.0
            };
            foreground_read += foreground_now;
            landed = (landed + disk * dt - foreground_now).min(issued);
            t += dt;
            if t >= next_txg {
                published = landed;
                next_txg += txg.unwrap_or(5.0);
            }
        }
        (total / t / cap, (total + foreground_read) / t / cap)
    }

    /// The lab's case: 256 MiB at a quarter of a 16 MiB/s volume, the watcher starting 4 s
    /// after the copy. Counting from the copy's start, the copy averages the cap; counting from
    /// the watcher's, it ran above it (1.11 to 1.16 in the lab's sweep).
    #[test]
    fn the_copy_before_the_watcher_counts_against_the_cap() {
        let (disk, cap, total) = (16.0 * MIB, 4.0 * MIB, 256.0 * MIB);
        let charged = copy_with_head_start(disk, cap, total, None, 4, true);
        let uncharged = copy_with_head_start(disk, cap, total, None, 4, false);
        assert!((0.95..=1.05).contains(&charged), "{charged:.3}");
        assert!(uncharged > 1.1, "{uncharged:.3}");
    }

    #[test]
    fn counting_from_the_copys_start_pauses_for_what_ran_ahead() {
        // 48 MiB read in the 4 s before the watcher, at 4 MiB/s: 32 MiB ahead, paid by 12 s.
        let mut ctl = CapController::new(4 << 20).counting_from(0.0, 0);
        assert_eq!(ctl.update(4.0, 48 << 20), Action::Pause);
        assert_eq!(ctl.update(11.5, 48 << 20), Action::Pause);
        assert_eq!(ctl.update(12.0, 48 << 20), Action::Run);
    }

    #[test]
    fn holds_the_cap_within_ten_percent_at_a_quarter_and_a_half_of_the_disk() {
        let disk = 32.0 * MIB;
        for share in [0.25, 0.5] {
            for counter in [None, Some(1.0), Some(5.0)] {
                let ratio = copy_rate_to_cap(disk, disk * share, 8192.0 * MIB, counter);
                assert!(
                    (0.9..=1.1).contains(&ratio),
                    "share {share}, txg {counter:?}: {ratio:.3}"
                );
            }
        }
    }

    /// The drain cannot be recalled, so a copy's end leaves up to half a drain (32 MiB) above
    /// the allowance, or below it by what ZFS's lagging counter overstates as left: 1 GiB
    /// copies end within 5 % of the cap, and a 256 MiB one (the lab's) at most 5 % above it
    /// (without the lead: further above, as measured in the lab).
    #[test]
    fn a_copy_ends_near_the_cap() {
        for (disk, share) in [(16.0, 0.5), (16.0, 0.25), (64.0, 0.5), (8.0, 0.125)] {
            let (cap, disk) = (disk * MIB * share, disk * MIB);
            let long = copy_rate_to_cap(disk, cap, 1024.0 * MIB, None);
            let short = copy_rate_to_cap(disk, cap, 256.0 * MIB, None);
            println!(
                "simulated copy at {share} of {} MiB/s: 1 GiB {long:.3}, 256 MiB {short:.3} of the cap",
                disk / MIB
            );
            assert!(
                (0.95..=1.05).contains(&long),
                "{disk} at {share}: {long:.3}"
            );
            assert!(short <= 1.05, "{disk} at {share}: {short:.3}");
            // With the lead no larger than what is left, a short copy no longer ends a lead's
            // worth late (without it: below the cap at 16 MiB/s, as in the lab), unless the
            // 64 MiB in flight are a quarter of the copy.
            if disk <= 16.0 * MIB {
                assert!(short >= 0.95, "{disk} at {share}: {short:.3}");
            }
        }
    }

    #[test]
    fn the_lead_is_the_drain_measured_at_the_last_pause() {
        let cap = 4u64 << 20;
        let mut ctl = CapController::new(cap);
        ctl.update(0.0, 0);
        // 32 MiB in the first second: over the allowance, a pause; 16 MiB more land in the
        // next two seconds, then nothing.
        assert_eq!(ctl.update(1.0, 32 << 20), Action::Pause);
        ctl.update(2.0, 40 << 20);
        ctl.update(3.0, 48 << 20);
        ctl.update(4.0, 48 << 20);
        // No lead yet: the debt (48 MiB - 4 s * 4 MiB) is paid back at 4 MiB/s by 12 s.
        assert_eq!(ctl.update(11.5, 48 << 20), Action::Pause);
        assert_eq!(ctl.update(12.0, 48 << 20), Action::Run);
        assert_eq!(ctl.drain(), 16 << 20);
        // From now on the copy pauses half that drain (8 MiB) early: after 16 MiB more by
        // 13 s, it runs again once the allowance is 8 MiB ahead of the bytes read, at 18 s.
        let read = 64 << 20;
        assert_eq!(ctl.update(13.0, read), Action::Pause);
        assert_eq!(ctl.update(17.5, read), Action::Pause);
        assert_eq!(ctl.update(18.0, read), Action::Run);
    }

    #[test]
    fn the_probe_takes_the_best_window_once_its_span_is_in() {
        let mut probe = OriginRateProbe::new(4.0, 12.0);
        // Every 2 s: 2 s of stall (a txg sync), then 16 MiB/s, then 8 MiB/s (a foreground burst
        // slows the copy).
        let rates = [0.0, 16.0, 16.0, 16.0, 8.0, 8.0, 8.0];
        let mut bytes = 0.0;
        let mut measured = None;
        for (i, r) in rates.iter().enumerate() {
            bytes += r * MIB * 2.0;
            measured = probe.observe(2.0 * (i + 1) as f64, bytes as u64);
            if i < 5 {
                assert_eq!(measured, None, "the span is not in at {} s", 2 * (i + 1));
            }
        }
        assert_eq!(measured, Some(16.0 * MIB));
    }

    #[test]
    fn a_sample_from_the_copys_start_counts_toward_the_span() {
        // The copy started 6 s before the watcher (the initrd, then stage 2) at 16 MiB/s.
        let mut probe = OriginRateProbe::new(4.0, 12.0);
        assert_eq!(probe.observe(-6.0, 0), None);
        assert_eq!(probe.observe(0.0, 96 << 20), None);
        assert_eq!(probe.observe(6.0, 192 << 20), Some(16.0 * MIB));
    }

    #[test]
    fn the_probe_waits_for_the_copy_to_move() {
        let mut probe = OriginRateProbe::new(4.0, 12.0);
        for s in 0..30 {
            assert_eq!(probe.observe(s as f64, 7 << 20), None);
        }
        // A counter that goes back (another removal) starts the measure over.
        let mut probe = OriginRateProbe::new(4.0, 4.0);
        assert_eq!(probe.observe(0.0, 100 << 20), None);
        assert_eq!(probe.observe(4.0, 132 << 20), Some(8.0 * MIB));
        assert_eq!(probe.observe(5.0, 0), None);
    }

    #[test]
    fn the_foregrounds_reads_during_a_pause_are_not_the_drain() {
        let mut ctl = CapController::new(8 << 20);
        ctl.update(0.0, 0);
        assert_eq!(ctl.update(1.0, 64 << 20), Action::Pause);
        // The copy stops, but random reads of old data go on at 16 MiB/s for 10 s.
        for s in 2..=11u64 {
            ctl.update(s as f64, (64 << 20) + (s - 1) * (16 << 20));
        }
        let read = (64 << 20) + 10 * (16 << 20);
        let mut t = 11.0;
        while ctl.update(t, read) == Action::Pause {
            t += 1.0;
        }
        assert_eq!(ctl.drain(), 64 << 20, "no more than ZFS can have in flight");
    }

    /// The sweep's case: random reads at four times the cap while the copy waits. The copy does
    /// not run while the foreground takes more than the cap, and runs again once it stops, where
    /// counting every read made it wait a second for every four of the foreground's.
    #[test]
    fn a_foreground_above_the_cap_leaves_no_debt_behind() {
        let mut ctl = CapController::new(16 << 20);
        ctl.update(0.0, 0);
        // 32 MiB read in the first second, then the copy pauses; random reads of old data read
        // 64 MiB/s for 20 s.
        assert_eq!(ctl.update(1.0, 32 << 20), Action::Pause);
        let mut read = 32u64 << 20;
        for s in 2..=21u64 {
            read += 64 << 20;
            assert_eq!(ctl.update(s as f64, read), Action::Pause, "{s} s");
        }
        // Counted: the 32 MiB, 64 MiB the copy may have had in flight, and the cap's worth of
        // the foreground for the 19 s after that: the allowance is 64 MiB behind, paid in 4 s
        // once the foreground stops (counting all 1312 MiB read, the copy would wait until 82 s).
        for s in 22..=24 {
            assert_eq!(ctl.update(s as f64, read), Action::Pause, "{s} s");
        }
        assert_eq!(ctl.update(25.0, read), Action::Run);
    }

    /// With a foreground lighter than the cap, copy and foreground together hold the cap. One
    /// heavier than the cap has the volume to itself, and the copy goes on once it stops: the
    /// copy ends about as much later as the foreground lasted, not later still.
    #[test]
    fn a_foreground_shares_the_cap_or_has_the_volume() {
        let (disk, cap, total) = (16.0 * MIB, 4.0 * MIB, 256.0 * MIB);
        let (copy, both) = simulate(disk, cap, total, None, (1.0 * MIB, f64::INFINITY));
        assert!((0.9..=1.1).contains(&both), "{both:.3}");
        assert!((0.65..=0.85).contains(&copy), "{copy:.3}");
        let alone = total / cap / copy_rate_to_cap(disk, cap, total, None);
        let (copy, _) = simulate(disk, cap, total, None, (12.0 * MIB, 30.0));
        let later = total / cap / copy - alone;
        assert!((20.0..=40.0).contains(&later), "{later:.1} s later");
    }

    /// On ZFS's copied counter a txg publishes what was copied before the pause at once: that is
    /// the copy's, and counts in full.
    #[test]
    fn on_the_copied_counter_nothing_is_forgiven() {
        let mut ctl = CapController::new(4 << 20).on_copied_counter();
        ctl.update(0.0, 0);
        assert_eq!(ctl.update(1.0, 32 << 20), Action::Pause);
        assert_eq!(ctl.update(2.0, 32 << 20), Action::Pause);
        // A txg publishes 128 MiB more: 160 MiB in all, paid at 4 MiB/s by 40 s.
        assert_eq!(ctl.update(3.0, 160 << 20), Action::Pause);
        assert_eq!(ctl.update(39.5, 160 << 20), Action::Pause);
        assert_eq!(ctl.update(40.0, 160 << 20), Action::Run);
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
