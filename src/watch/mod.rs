//! `zevac watch`, the stage-2 service: follows the copy ZFS runs after `zevac apply` from boot to
//! a verified end. It switches the profile from `boot` to `steady`, holds the copy to the cap,
//! reports to systemd (`sd_notify`) and to a metrics file, and once the copy is done restores the
//! tunables, scrubs with the `verify` phase and reports the result. Safe to restart at any
//! moment; a lock in `/run/zevac` keeps a second one from fighting the first.

pub mod cap;
pub mod metrics;
pub mod rate;
/// The records the watcher keeps, under their old path.
pub use crate::records as record;

use std::fs::OpenOptions;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};

use crate::config::Config;
use crate::devmapper::{CowUsage, Dmsetup};
use crate::discover::sysfs;
use crate::exec::Executor;
use crate::paths::Paths;
use crate::profile::{Cap, Phase, Profile};
pub use crate::records::{
    now_epoch, now_epoch_f64, CapOverride, CopyStart, WatchRecord, WatchState,
};
use crate::runfile::{PoolRecord, RunRecord};
use crate::tunables::{Tunables, REMOVAL_SUSPEND};
use crate::zfs::text::Scrub;
use crate::zfs::{PoolStatus, RemovalState, VdevClass, ZfsVersion, Zpool};
use cap::{Action, CapController, OriginRateProbe};
use rate::RateEstimator;

/// How a watch ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The pool has no removal and never had one this boot.
    NoEvacuation,
    /// Copied and scrubbed clean (now or by an earlier watcher).
    Verified,
    /// SIGTERM or SIGINT: tunables restored, ZFS's copy left running.
    Stopped,
}

/// Why a watch failed in a way the caller must tell apart.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("another zevac watch is running (lock {0} is held)")]
    AlreadyRunning(String),
    #[error("ZFS canceled the removal of {vdev} after {copied} of {to_copy} bytes: {reason}. The pool stays on the origin, as before the removal; the tunables are restored")]
    Canceled {
        vdev: String,
        copied: u64,
        to_copy: u64,
        reason: String,
    },
    #[error(
        "the verification scrub of {pool} found {errors} errors: run `zpool status -v {pool}`"
    )]
    ScrubErrors { pool: String, errors: u64 },
}

/// Runs the watcher to its end (a tokio current-thread runtime: one pool, a few commands a tick).
pub fn run(
    exec: &dyn Executor,
    config: &Config,
    profile: &Profile,
    paths: &Paths,
) -> Result<Ended> {
    std::fs::create_dir_all(&paths.run_dir)
        .with_context(|| format!("cannot create {}", paths.run_dir.display()))?;
    let lock_path = paths.run_dir.join("watch.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    let _lock = Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|_| WatchError::AlreadyRunning(lock_path.display().to_string()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(Watcher::new(exec, config, profile, paths)?.run())
}

/// The store's fill level from which the watcher warns.
const COW_WARN_FRACTION: f64 = 0.5;

struct Watcher<'a> {
    exec: &'a dyn Executor,
    zpool: Zpool<'a>,
    version: ZfsVersion,
    config: &'a Config,
    profile: &'a Profile,
    paths: &'a Paths,
    tunables: Tunables,
    started: Instant,
    estimator: RateEstimator,
    controller: Option<CapController>,
    /// Measures the origin's rate for a cap given as a share of it.
    probe: Option<OriginRateProbe>,
    /// Whether a controller has been started (the first counts from the copy's start).
    counted_from_start: bool,
    record: WatchRecord,
    ready_sent: bool,
    /// The snapshot's origin device (`major:minor`), read once from its table.
    snapshot_origin: Option<String>,
}

impl<'a> Watcher<'a> {
    fn new(
        exec: &'a dyn Executor,
        config: &'a Config,
        profile: &'a Profile,
        paths: &'a Paths,
    ) -> Result<Self> {
        let zpool = Zpool::new(exec);
        let version = zpool.version()?;
        let now = now_epoch();
        let previous = WatchRecord::load_for(&paths.run_dir, &config.pool)?;
        let record = WatchRecord {
            pool: config.pool.clone(),
            pid: std::process::id(),
            state: previous
                .as_ref()
                .map_or(WatchState::Evacuating, |p| p.state),
            profile: profile.name.clone(),
            phase: paths.tunables().record()?.phase,
            cap_bytes_per_second: None,
            cap: None,
            // Measured once a boot: a restarted watcher keeps its predecessor's.
            origin_rate_bytes_per_second: previous
                .as_ref()
                .and_then(|p| p.origin_rate_bytes_per_second),
            copied_bytes: 0,
            total_bytes: 0,
            rate_bytes_per_second: None,
            eta_seconds: None,
            progress: None,
            paused_by_cap: false,
            stalled_seconds: None,
            watch_started_at: now,
            copy_finished_at: previous.as_ref().and_then(|p| p.copy_finished_at),
            scrub_started_at: previous.as_ref().and_then(|p| p.scrub_started_at),
            verified_at: previous.as_ref().and_then(|p| p.verified_at),
            scrub: previous.as_ref().and_then(|p| p.scrub.clone()),
            cow: None,
            snapshot_released_at: previous.as_ref().and_then(|p| p.snapshot_released_at),
            message: None,
            updated_at: now,
        };
        Ok(Self {
            exec,
            zpool,
            version,
            config,
            profile,
            paths,
            tunables: paths.tunables(),
            started: Instant::now(),
            estimator: RateEstimator::new(),
            controller: None,
            probe: None,
            counted_from_start: false,
            record,
            ready_sent: false,
            snapshot_origin: None,
        })
    }

    async fn run(mut self) -> Result<Ended> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let interval = self.config.watch.interval;
        loop {
            match self.tick() {
                Ok(Some(ended)) => return Ok(ended),
                Ok(None) => {}
                Err(e) => {
                    // Whatever went wrong, the module parameters go back to what they were.
                    let restored = self.tunables.restore();
                    self.record.state = match e.downcast_ref::<WatchError>() {
                        Some(WatchError::Canceled { .. }) => WatchState::Canceled,
                        _ => WatchState::Failed,
                    };
                    self.record.message = Some(format!("{e:#}"));
                    self.publish(&format!("failed: {e:#}"));
                    restored.context("restoring the tunables after a failure")?;
                    return Err(e);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = term.recv() => return self.stop("SIGTERM"),
                _ = int.recv() => return self.stop("SIGINT"),
            }
        }
    }

    /// A signal: put the parameters back (which also lifts a cap pause) and leave ZFS copying.
    fn stop(mut self, signal: &str) -> Result<Ended> {
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
        self.tunables.restore().context("restoring the tunables")?;
        self.record.phase = None;
        self.record.paused_by_cap = false;
        self.record.message = Some(format!(
            "watcher stopped by {signal}; tunables restored; ZFS keeps copying"
        ));
        self.publish(&format!("stopped by {signal}; tunables restored"));
        tracing::info!("stopped by {signal}: tunables restored, the copy goes on in ZFS");
        Ok(Ended::Stopped)
    }

    fn tick(&mut self) -> Result<Option<Ended>> {
        let pool = &self.config.pool;
        let status = self
            .zpool
            .status(pool, self.version)
            .with_context(|| format!("reading pool {pool}'s status"))?;
        let Some(removal) = status.removal.clone() else {
            if self.record.state == WatchState::Verified {
                self.publish("verified earlier");
                return Ok(Some(Ended::Verified));
            }
            return self.start_pending_removal(&status);
        };
        self.record.copied_bytes = removal.copied;
        self.record.total_bytes = removal.to_copy;
        match removal.state {
            RemovalState::InProgress => {
                let origin_read = removal.path.as_deref().and_then(|p| self.origin_read(p));
                self.evacuating(removal.copied, removal.to_copy, origin_read)?;
                Ok(None)
            }
            RemovalState::Canceled => Err(WatchError::Canceled {
                vdev: removal.path.clone().unwrap_or_else(|| "the origin".into()),
                copied: removal.copied,
                to_copy: removal.to_copy,
                reason: self.cancel_reason(removal.start_time),
            }
            .into()),
            RemovalState::Finished => self.verifying(&status),
        }
    }

    fn evacuating(&mut self, copied: u64, to_copy: u64, origin_read: Option<u64>) -> Result<()> {
        let t = self.started.elapsed().as_secs_f64();
        self.record.state = WatchState::Evacuating;
        if self.record.phase != Some(Phase::Steady)
            && self.started.elapsed() >= self.profile.steady_delay
        {
            let applied = self.tunables.apply_phase(self.profile, Phase::Steady)?;
            if !applied.missing.is_empty() {
                self.record.message = Some(format!(
                    "the zfs module lacks {}",
                    applied.missing.join(", ")
                ));
            }
            self.record.phase = Some(Phase::Steady);
        }
        // The cap steers on the bytes read from the origin disk, which move in real time; the
        // copied counter lags by one or more txgs and jumps by up to 100 MiB (lab, 2.3.2), so a
        // pause decided on it comes far too late on a small or short copy. Other reads of the
        // origin disk count too, which a cap meant to spare EBS should include anyway.
        self.steer(t, origin_read, copied, to_copy)?;
        self.watch_cow()?;
        // Between txgs, the progress moves with the origin's reads (crate::progress).
        let held = self.record.paused_by_cap;
        let moving = match origin_read {
            Some(read) => {
                crate::progress::observe(&mut self.record.progress, copied, to_copy, read, held)
            }
            None => copied,
        };
        self.estimator.push(t, moving);
        if held {
            self.estimator.paused(t);
        }
        let estimate = self.estimator.estimate(t, moving, to_copy);
        self.record.rate_bytes_per_second = estimate.rate;
        self.record.eta_seconds = estimate.eta;
        self.stalled(estimate.stalled);
        let r = &self.record;
        let line = progress_line(
            &r.pool,
            moving,
            to_copy,
            r.rate_bytes_per_second,
            r.eta_seconds,
            r.paused_by_cap,
            r.stalled_seconds,
        );
        self.publish(&line);
        Ok(())
    }

    /// Records how long ZFS has copied nothing without a pause by zevac (`still` seconds, once
    /// over a minute), warning once when it starts (seen in the lab with write errors on a new
    /// vdev, where ZFS neither went on nor cancelled the removal). The copy is ZFS's; zevac
    /// leaves it be.
    fn stalled(&mut self, still: Option<f64>) {
        if still.is_some() && self.record.stalled_seconds.is_none() {
            tracing::warn!(
                pool = %self.config.pool,
                "the copy has made no progress for a minute: see zpool status -v"
            );
        }
        self.record.stalled_seconds = still;
    }

    /// A probe of the origin's rate for a share cap: on the origin's read counter, seeded with
    /// where it stood when `apply` started the copy (which has run uncapped since, so the cap
    /// comes that much sooner), or on ZFS's copied counter.
    fn new_probe(&self, t: f64, on_origin: bool) -> Result<OriginRateProbe> {
        if !on_origin {
            return Ok(OriginRateProbe::new(
                OriginRateProbe::TXG_WINDOW_SECONDS,
                OriginRateProbe::TXG_SPAN_SECONDS,
            ));
        }
        let mut probe = OriginRateProbe::new(
            OriginRateProbe::WINDOW_SECONDS,
            OriginRateProbe::SPAN_SECONDS,
        );
        if let Some(s) = CopyStart::load_for(&self.paths.run_dir, &self.config.pool)? {
            probe.observe(t - s.seconds_ago().max(0.0), s.origin_read_bytes);
        }
        Ok(probe)
    }

    /// The cap: the runtime override (`zevac tune --cap`) or the config's or the profile's. It
    /// counts the origin disk's reads, or ZFS's copied bytes where there is no such counter.
    fn steer(&mut self, t: f64, origin_read: Option<u64>, copied: u64, to_copy: u64) -> Result<()> {
        let overridden = CapOverride::load(&self.paths.run_dir)?;
        let asked = match &overridden {
            Some(o) => o.cap,
            None => self.config.cap(self.profile),
        };
        if matches!(asked, Some(Cap::Share(_)))
            && self.record.origin_rate_bytes_per_second.is_none()
        {
            // Until the origin's rate is measured, the copy runs uncapped (the first controller
            // then pays that back, counting from the copy's start).
            let mut probe = match self.probe.take() {
                Some(p) => p,
                None => self.new_probe(t, origin_read.is_some())?,
            };
            let measured = probe.observe(t, origin_read.unwrap_or(copied));
            self.probe = Some(probe);
            if let Some(rate) = measured {
                tracing::info!(
                    rate_mib_per_second = rate / f64::from(1 << 20),
                    "measured the origin's rate for a share cap"
                );
                self.record.origin_rate_bytes_per_second = Some(rate);
            }
        }
        self.record.cap = asked;
        let cap = asked.and_then(|c| c.resolve(self.record.origin_rate_bytes_per_second));
        if self.controller.as_ref().map(CapController::cap) != cap {
            // The configured cap holds from the copy's start: the watcher's first controller
            // counts from where `apply` found the origin's counter when it started the copy,
            // which ran uncapped until now. A cap set at runtime counts from when it is set.
            let start = match (cap, origin_read, &overridden, self.counted_from_start) {
                (Some(_), Some(_), None, false) => {
                    CopyStart::load_for(&self.paths.run_dir, &self.config.pool)?
                }
                _ => None,
            };
            tracing::info!(cap = ?cap, from_copy_start = start.is_some(), "bandwidth cap");
            self.controller = cap.map(|c| {
                let controller = match origin_read {
                    Some(_) => CapController::new(c),
                    None => CapController::new(c).on_copied_counter(),
                };
                match &start {
                    Some(s) => {
                        controller.counting_from(t - s.seconds_ago().max(0.0), s.origin_read_bytes)
                    }
                    None => controller,
                }
            });
            self.counted_from_start = true;
        }
        self.record.cap_bytes_per_second = cap;
        let pause = match self.controller.as_mut() {
            Some(c) => {
                let bytes = origin_read.unwrap_or(copied);
                c.set_remaining(to_copy.saturating_sub(copied));
                let action = c.update(t, bytes);
                tracing::debug!(t, bytes, drain = c.drain(), ?action, "cap controller");
                action == Action::Pause
            }
            None => false,
        };
        // Whether zevac holds the copy now, read from the module and zevac's record rather than
        // remembered: a watcher restarted after a crash must lift its predecessor's pause, and
        // `zevac tune --restore` may have lifted one behind this watcher's back. A pause zevac
        // did not set (an operator's) is not zevac's to lift while no cap asks for it.
        let held = self
            .tunables
            .holds_the_copy(Some(&self.tunables.record()?))?;
        if pause != held {
            self.tunables
                .set_recorded(REMOVAL_SUSPEND, if pause { "1" } else { "0" })?;
        }
        if held && !pause {
            self.copy_starts_here(origin_read)?;
        }
        self.record.paused_by_cap = pause;
        Ok(())
    }

    fn verifying(&mut self, status: &PoolStatus) -> Result<Option<Ended>> {
        let pool = self.config.pool.clone();
        if self.record.state == WatchState::Verified {
            self.publish(&format!("{pool}: evacuated and verified earlier"));
            return Ok(Some(Ended::Verified));
        }
        self.record.rate_bytes_per_second = None;
        self.record.eta_seconds = Some(0.0);
        self.record.paused_by_cap = false;
        self.record.copy_finished_at.get_or_insert_with(now_epoch);
        let scrub = self.zpool.scrub_state(&pool)?;
        if self.record.scrub_started_at.is_none() {
            // Once, before the scrub: the snapshot goes (ZFS has closed the origin).
            if self.record.snapshot_released_at.is_none() {
                self.release_snapshot()?;
            }
            // The copy's tunables go back first; then the scrub runs under the verify phase.
            self.tunables.restore()?;
            let applied = self.tunables.apply_phase(self.profile, Phase::Verify)?;
            if !applied.missing.is_empty() {
                self.record.message = Some(format!(
                    "the zfs module lacks {}",
                    applied.missing.join(", ")
                ));
            }
            self.record.phase = Some(Phase::Verify);
            if scrub != Scrub::Running {
                self.zpool
                    .scrub(&pool)
                    .context("starting the verification scrub")?;
            }
            self.record.scrub_started_at = Some(now_epoch());
            self.record.state = WatchState::Verifying;
            self.publish(&format!("verifying {pool}: scrub started"));
            return Ok(None);
        }
        match scrub {
            Scrub::Finished { errors, .. } => {
                self.tunables.restore()?;
                self.record.phase = None;
                self.record.scrub = Some(scrub.clone());
                if errors > 0 {
                    return Err(WatchError::ScrubErrors { pool, errors }.into());
                }
                if self.config.layout.cache_for_copy_only {
                    self.remove_copy_caches(status)?;
                }
                self.record.state = WatchState::Verified;
                self.record.verified_at = Some(now_epoch());
                self.publish(&format!("{pool}: evacuated and verified, scrub clean"));
                Ok(Some(Ended::Verified))
            }
            Scrub::Canceled => bail!("the verification scrub of {pool} was canceled; run `zpool scrub {pool}` or restart zevac-watch"),
            Scrub::Running | Scrub::None => {
                self.record.state = WatchState::Verifying;
                self.publish(&format!("verifying {pool}: scrub running"));
                Ok(None)
            }
        }
    }

    /// Why ZFS canceled the removal: its debug log says so for I/O errors (any read or write
    /// error of the copy cancels it, OpenZFS's vdev_removal.c); `zpool status` does not.
    fn cancel_reason(&self, started: Option<u64>) -> String {
        let log = std::fs::read_to_string(&self.paths.dbgmsg).unwrap_or_default();
        match crate::zfs::dbgmsg::last_removal_io_errors(&log, started) {
            Some(errors) => format!(
                "{errors}; `zpool status -v {}` names the device and any damaged files",
                self.config.pool
            ),
            None => format!(
                "ZFS's debug log ({}) names no I/O error: `zpool remove -s` canceled it, or the log has rolled over",
                self.paths.dbgmsg.display()
            ),
        }
    }

    /// The copy starts at this watcher's lift of a pause zevac held: where `apply` held it for
    /// the watcher (`watch.starts_copy`), that is the copy's start, for a later watcher's cap
    /// and the bench. A record there already (a restarted watcher, a cap's pause) stays.
    fn copy_starts_here(&mut self, origin_read: Option<u64>) -> Result<()> {
        let pool = &self.config.pool;
        if CopyStart::load_for(&self.paths.run_dir, pool)?.is_some() {
            return Ok(());
        }
        if let Some(bytes) = origin_read {
            CopyStart::now(pool, bytes).save(&self.paths.run_dir)?;
        }
        tracing::info!("the copy starts: the watcher lifted the pause apply left for it");
        Ok(())
    }

    /// Bytes read so far from the disk under the origin vdev `path`. Through the snapshot, the
    /// EBS disk under it: the snapshot device's own counters move only in jumps of 100 MiB and
    /// more (lab, kernel 6.12), far too late for the cap.
    fn origin_read(&mut self, path: &str) -> Option<u64> {
        crate::origin::read_counter(self.exec, &self.paths.sys, path, &mut self.snapshot_origin)
    }

    /// Immutable origin: how full the snapshot's store is. Warns from half full: ZFS writes about
    /// 2 MiB there (its labels), so a store filling is a store far too small, or something else
    /// writing through the snapshot; a full store invalidates the snapshot and the copy fails.
    fn watch_cow(&mut self) -> Result<()> {
        let Some(usage) = Dmsetup::new(self.exec).snapshot_usage()? else {
            self.record.cow = None;
            return Ok(());
        };
        let fraction = usage.fraction();
        if fraction >= COW_WARN_FRACTION {
            let warning = match usage {
                CowUsage::InUse { total, .. } => format!(
                    "the origin's copy-on-write store is {:.0}% full ({} MiB): when full, the \
                     snapshot becomes invalid and the copy fails (EBS stays unchanged)",
                    fraction * 100.0,
                    total >> 20
                ),
                _ => "the origin's snapshot is invalid: its copy-on-write store filled up; EBS is \
                      unchanged, the copy cannot finish"
                    .to_string(),
            };
            tracing::warn!("{warning}");
            self.record.message = Some(warning);
        }
        self.record.cow = Some(usage);
        Ok(())
    }

    /// No removal: if zevac's disks are in the pool with the origin (the initrd stopped short of
    /// `zpool remove`), starts it and goes on watching; else there is nothing to watch.
    fn start_pending_removal(&mut self, status: &PoolStatus) -> Result<Option<Ended>> {
        let pool = &self.config.pool;
        let disks = crate::discover::machine(self.exec, self.paths, self.config)?;
        let Some(vdev) = crate::origin::pending_removal(self.config, &disks, status) else {
            self.publish(&format!("{pool}: no evacuation"));
            return Ok(Some(Ended::NoEvacuation));
        };
        tracing::info!(
            "the local disks are in {pool} and the removal of {vdev} has not started: starting it"
        );
        self.zpool
            .remove(pool, &vdev)
            .with_context(|| format!("starting the removal of {vdev}"))?;
        self.publish(&format!("{pool}: started the removal of {vdev}"));
        Ok(None)
    }

    /// Immutable origin: once the copy is done, the snapshot goes and its store is released
    /// ([`crate::origin::release`]).
    fn release_snapshot(&mut self) -> Result<()> {
        self.record.cow = None;
        let disks = crate::discover::machine(self.exec, self.paths, self.config)?;
        if crate::origin::release(self.exec, &disks)?.is_some() {
            self.record.snapshot_released_at = Some(now_epoch());
        }
        Ok(())
    }

    /// Removes the L2ARC devices zevac made (partitions labelled `zevac-cache`).
    fn remove_copy_caches(&self, status: &PoolStatus) -> Result<()> {
        for v in status.vdevs.iter().filter(|v| v.class == VdevClass::Cache) {
            let Some(path) = &v.path else { continue };
            if sysfs::partition_name(&self.paths.sys, path).as_deref()
                == Some(crate::layout::CACHE_LABEL)
            {
                self.zpool
                    .remove(&self.config.pool, path)
                    .with_context(|| format!("removing the copy-only cache device {path}"))?;
            }
        }
        Ok(())
    }

    /// Saves the record, writes the metrics, tells systemd.
    fn publish(&mut self, line: &str) {
        self.record.updated_at = now_epoch();
        if let Err(e) = self.record.save(&self.paths.run_dir) {
            tracing::warn!("{e:#}");
        }
        if let Some(path) = &self.config.watch.metrics_file {
            if let Err(e) = metrics::write(std::path::Path::new(path), &self.record) {
                tracing::warn!("{e:#}");
            }
        }
        let mut states = vec![sd_notify::NotifyState::Status(line)];
        if !self.ready_sent {
            states.push(sd_notify::NotifyState::Ready);
            self.ready_sent = true;
        }
        let _ = sd_notify::notify(false, &states);
        tracing::info!("{line}");
    }
}

/// `evacuating rpool: 43% (215 MiB of 501 MiB), 31 MiB/s, about 9s left`: the watcher's
/// sd_notify STATUS and `zevac status`'s line. `rate` and `eta` are `None` while estimating.
pub fn progress_line(
    pool: &str,
    copied: u64,
    total: u64,
    rate: Option<f64>,
    eta: Option<f64>,
    held_at_cap: bool,
    stalled: Option<f64>,
) -> String {
    let pct = if total > 0 {
        copied as f64 * 100.0 / total as f64
    } else {
        0.0
    };
    let speed = match (stalled, rate, eta) {
        (Some(still), _, _) => format!(
            "no progress for {} (zpool status -v {pool} shows device errors, if any)",
            humantime::format_duration(Duration::from_secs(still as u64))
        ),
        (None, Some(rate), Some(eta)) => format!(
            "{:.0} MiB/s, about {} left",
            rate / f64::from(1 << 20),
            humantime::format_duration(Duration::from_secs(eta.round() as u64))
        ),
        _ => "rate estimating".into(),
    };
    let held = if held_at_cap {
        " (held at the cap)"
    } else {
        ""
    };
    format!(
        "evacuating {pool}: {pct:.0}% ({} MiB of {} MiB), {speed}{held}",
        copied >> 20,
        total >> 20
    )
}
