//! `zevac status`: where the evacuation stands, from ZFS itself plus the watcher's record when
//! there is one (it answers without the watcher). `--json` gives [`StatusReport`], a stable
//! object for scripts; `--watch` follows the copy live until it ends.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::OriginMode;
use crate::devmapper::{CowUsage, Dmsetup};
use crate::profile::{Cap, Phase};
use crate::progress::{EstimateSource, Progress};
use crate::runfile::PoolRecord;
use crate::tunables::Tunables;
use crate::watch::rate::RateEstimator;
use crate::watch::{now_epoch, WatchRecord, WatchState};
use crate::zfs::text::Scrub;
use crate::zfs::{PoolStatus, RemovalState, VdevClass, Zpool};

/// The stable JSON of `zevac status --json` (documented in docs/usage.md). Bytes and seconds are
/// integers or floats; absent values are `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub pool: String,
    pub state: CopyState,
    pub phase: Option<Phase>,
    /// ZFS's own counter: it moves only when a txg syncs.
    pub copied_bytes: u64,
    pub total_bytes: u64,
    pub percent: f64,
    /// The progress between ZFS's updates: `copied_bytes` moved on by the origin's reads since,
    /// never behind ZFS's counter, never backwards, and at most one txg's worth ahead
    /// ([`crate::progress`]); ZFS's counter itself where there is no estimate.
    #[serde(default)]
    pub estimated_bytes: u64,
    #[serde(default)]
    pub estimated_percent: f64,
    #[serde(default)]
    pub estimate_source: EstimateSource,
    /// While evacuating: the origin disk's read counter, as this report read it.
    #[serde(default)]
    pub origin_read_bytes: Option<u64>,
    /// Smoothed; `null` while estimating.
    pub rate_bytes_per_second: Option<f64>,
    pub eta_seconds: Option<f64>,
    /// Epoch seconds (OpenZFS 2.3+; 2.1's text has no exact times).
    pub started_at: Option<u64>,
    pub finished_at: Option<u64>,
    pub elapsed_seconds: Option<u64>,
    pub mapping_memory_bytes: Option<u64>,
    pub profile: Option<String>,
    /// The cap in force (`null`: none, or a share of the origin's rate still measuring it).
    pub cap_bytes_per_second: Option<u64>,
    /// The cap as asked for: `"40 MiB/s"`, or `"50%"` of the origin's measured rate.
    pub cap: Option<Cap>,
    /// The origin's rate the watcher measured for a share cap.
    pub origin_rate_bytes_per_second: Option<f64>,
    pub paused_by_cap: bool,
    /// Seconds the copy has made no progress though nothing paused it, once over a minute
    /// (`null` otherwise); the rate and ETA are `null` then.
    #[serde(default)]
    pub stalled_seconds: Option<f64>,
    /// `apply` started the removal with the copy paused for the watcher
    /// (`watch.starts_copy`), and no watcher has let it go yet.
    #[serde(default)]
    pub waiting_for_watcher: bool,
    pub origin: Option<String>,
    /// State `added`: whether the origin still takes new blocks (its `allocating` vdev
    /// property, OpenZFS 2.2+; `null` otherwise).
    #[serde(default)]
    pub origin_allocating: Option<bool>,
    pub local: Vec<String>,
    pub scrub: Option<Scrub>,
    /// `immutable` or `in-place` (the configuration's `origin.mode`).
    pub origin_mode: OriginMode,
    /// Immutable, while the snapshot exists: its copy-on-write store (`state` `in-use` with
    /// `allocated`, `total` and `metadata` bytes, or `invalid`).
    pub cow: Option<CowUsage>,
    /// Immutable: when the watcher removed the snapshot and released its store (epoch seconds).
    pub snapshot_released_at: Option<u64>,
    pub watcher_running: bool,
    pub message: Option<String>,
}

/// Where the evacuation stands, from ZFS's removal and the watcher's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CopyState {
    /// No removal.
    None,
    /// zevac's disks are in the pool, and the origin's removal has not started.
    Added,
    Evacuating,
    /// Done, not verified yet.
    Copied,
    Verifying,
    Verified,
    Canceled,
    Failed,
}

impl CopyState {
    fn of(removal: Option<RemovalState>, watch: Option<WatchState>) -> Self {
        match (removal, watch) {
            (None, Some(WatchState::Verified)) => Self::Verified,
            (None, _) => Self::None,
            (Some(RemovalState::InProgress), _) => Self::Evacuating,
            (Some(RemovalState::Canceled), _) => Self::Canceled,
            (Some(RemovalState::Finished), Some(WatchState::Verified)) => Self::Verified,
            (Some(RemovalState::Finished), Some(WatchState::Failed)) => Self::Failed,
            (Some(RemovalState::Finished), Some(WatchState::Verifying)) => Self::Verifying,
            (Some(RemovalState::Finished), _) => Self::Copied,
        }
    }

    /// Its name, as the JSON spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Added => "added",
            Self::Evacuating => "evacuating",
            Self::Copied => "copied",
            Self::Verifying => "verifying",
            Self::Verified => "verified",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
        }
    }
}

/// Whether the watcher of `watch` is alive and still has work: its process exists, its record
/// is fresh, its state not final.
fn watcher_alive(watch: Option<&WatchRecord>, now: u64) -> bool {
    watch.is_some_and(|w| {
        Path::new(&format!("/proc/{}", w.pid)).exists()
            && now.saturating_sub(w.updated_at) < 60
            && !matches!(
                w.state,
                WatchState::Verified | WatchState::Failed | WatchState::Canceled
            )
    })
}

impl StatusReport {
    /// Builds the report from ZFS's status and zevac's records.
    pub fn build(
        status: &PoolStatus,
        watch: Option<&WatchRecord>,
        tunables_phase: Option<(Option<String>, Option<Phase>)>,
        now: u64,
    ) -> Self {
        let removal = status.removal.as_ref();
        let watcher_running = watcher_alive(watch, now);
        let state = CopyState::of(removal.map(|r| r.state), watch.map(|w| w.state));
        let evacuating = state == CopyState::Evacuating;
        let (copied, total) = removal.map_or((0, 0), |r| (r.copied, r.to_copy));
        let started_at = removal.and_then(|r| r.start_time);
        let finished_at = removal.and_then(|r| r.end_time);
        let elapsed = started_at.map(|s| finished_at.unwrap_or(now).saturating_sub(s));
        // The watcher's smoothed rate while it runs; else the average since the start (2.3).
        let live = watch.filter(|_| watcher_running);
        let mut rate = live.and_then(|w| w.rate_bytes_per_second);
        let stalled = live.and_then(|w| w.stalled_seconds).filter(|_| evacuating);
        if rate.is_none() && evacuating && stalled.is_none() {
            rate = elapsed
                .filter(|&e| e >= 10 && copied > 0)
                .map(|e| copied as f64 / e as f64);
        }
        let eta = evacuating
            .then(|| rate.map(|r| total.saturating_sub(copied) as f64 / r))
            .flatten();
        let (profile, phase) = tunables_phase.unwrap_or_default();
        let percent = removal.map_or(0.0, |r| (r.percent() * 100.0).round() / 100.0);
        StatusReport {
            pool: status.name.clone(),
            state,
            phase,
            copied_bytes: copied,
            total_bytes: total,
            percent,
            estimated_bytes: copied,
            estimated_percent: percent,
            estimate_source: EstimateSource::Zfs,
            origin_read_bytes: None,
            rate_bytes_per_second: rate.filter(|_| evacuating),
            eta_seconds: eta,
            started_at,
            finished_at,
            elapsed_seconds: elapsed,
            mapping_memory_bytes: removal
                .filter(|r| r.state == RemovalState::Finished)
                .and_then(|r| r.mapping_memory),
            profile: profile.or_else(|| watch.map(|w| w.profile.clone())),
            cap_bytes_per_second: live.and_then(|w| w.cap_bytes_per_second),
            cap: live.and_then(|w| w.cap),
            origin_rate_bytes_per_second: watch.and_then(|w| w.origin_rate_bytes_per_second),
            paused_by_cap: live.is_some_and(|w| w.paused_by_cap),
            stalled_seconds: stalled,
            waiting_for_watcher: false,
            origin: removal.and_then(|r| r.path.clone()),
            origin_allocating: None,
            local: new_vdevs(status),
            scrub: watch.and_then(|w| w.scrub.clone()),
            origin_mode: OriginMode::default(),
            cow: None,
            snapshot_released_at: watch.and_then(|w| w.snapshot_released_at),
            watcher_running,
            message: watch.and_then(|w| w.message.clone()),
        }
    }

    /// State `added`: the removal of `origin` has not started.
    fn pending_removal(&mut self, origin: String, allocating: Option<bool>) {
        self.local.retain(|v| *v != origin);
        self.state = CopyState::Added;
        self.origin = Some(origin);
        self.origin_allocating = allocating;
    }

    /// The estimate `bytes` (from `source`), within ZFS's counter and the bytes to copy.
    fn estimated(&mut self, bytes: u64, source: EstimateSource) {
        self.estimated_bytes = bytes.max(self.copied_bytes).min(self.total_bytes);
        self.estimated_percent = match self.total_bytes {
            0 => 0.0,
            t => (self.estimated_bytes as f64 * 10000.0 / t as f64).round() / 100.0,
        };
        self.estimate_source = source;
    }

    /// While evacuating: the origin's counter read now, and the estimate a running watcher's
    /// `progress` gives with it.
    fn origin_read(&mut self, read: Option<u64>, watcher: Option<&Progress>) {
        self.origin_read_bytes = read;
        if let (Some(read), Some(p), true) = (read, watcher, self.watcher_running) {
            self.estimated(p.at(read), EstimateSource::OriginReads);
        }
    }

    /// The errors of the finished scrub that verified the copy.
    pub fn scrub_errors(&self) -> Option<u64> {
        match self.scrub {
            Some(Scrub::Finished { errors, .. }) => Some(errors),
            _ => None,
        }
    }

    /// Whether `--watch` has nothing more to wait for.
    pub fn is_final(&self) -> bool {
        match self.state {
            CopyState::Evacuating | CopyState::Verifying => false,
            // Copied: the end, unless a watcher is about to verify it; added: to start it.
            CopyState::Copied | CopyState::Added => !self.watcher_running,
            _ => true,
        }
    }

    /// The one-line progress (what `--watch` prints on a pipe).
    pub fn line(&self) -> String {
        match self.state {
            CopyState::None => format!("pool {}: no evacuation", self.pool),
            CopyState::Added => format!(
                "pool {}: the local disks are in the pool, but the removal of {} has not \
                 started{}: zevac watch or the next zevac apply starts it",
                self.pool,
                self.origin.as_deref().unwrap_or("the origin"),
                match self.origin_allocating {
                    Some(false) => " (it takes no new blocks)",
                    Some(true) => " (it still takes new blocks)",
                    None => "",
                }
            ),
            CopyState::Evacuating if self.waiting_for_watcher => format!(
                "evacuating {}: the removal has started, and the copy waits for zevac watch to \
                 start it (zevac tune --restore starts it without a watcher)",
                self.pool
            ),
            CopyState::Evacuating => crate::watch::progress_line(
                &self.pool,
                self.estimated_bytes.max(self.copied_bytes),
                self.total_bytes,
                self.rate_bytes_per_second,
                self.eta_seconds,
                self.paused_by_cap,
                self.stalled_seconds,
            ),
            CopyState::Verifying => format!("verifying {}: copy done, scrub running", self.pool),
            other => format!("pool {}: {}", self.pool, other.name()),
        }
    }

    /// The human form: several lines.
    pub fn human(&self) -> String {
        let mut out = vec![self.line(), format!("  {}", self.tuning().join(", "))];
        if !matches!(self.state, CopyState::None | CopyState::Added) {
            out.extend(self.copy_lines());
        }
        if let Some(o) = &self.origin {
            out.push(format!("  from {o}"));
        }
        out.push(self.origin_line());
        if !self.local.is_empty() {
            out.push(format!("  onto {}", self.local.join(", ")));
        }
        match &self.scrub {
            Some(Scrub::Finished { errors, repaired }) => out.push(format!(
                "  scrub: {errors} errors, {repaired} bytes repaired"
            )),
            Some(s) => out.push(format!("  scrub: {s:?}")),
            None => {}
        }
        if let Some(m) = &self.message {
            out.push(format!("  {m}"));
        }
        out.join("\n")
    }

    /// The profile, phase, cap and watcher.
    fn tuning(&self) -> Vec<String> {
        let mut tune = vec![];
        if let Some(p) = &self.profile {
            tune.push(format!("profile {p}"));
        }
        if let Some(ph) = self.phase {
            tune.push(format!("phase {ph}"));
        }
        let mib = |b: f64| format!("{:.1} MiB/s", b / f64::from(1 << 20));
        match (self.cap_bytes_per_second, self.cap) {
            (Some(c), Some(Cap::Share(p))) => tune.push(format!(
                "cap {} ({p}% of the origin's {})",
                mib(c as f64),
                self.origin_rate_bytes_per_second.map_or("?".into(), mib)
            )),
            (Some(c), _) => tune.push(format!("cap {}", mib(c as f64))),
            (None, Some(Cap::Share(p))) => {
                tune.push(format!("cap {p}% (measuring the origin's rate)"))
            }
            (None, _) if self.watcher_running => tune.push("no cap".into()),
            (None, _) => {}
        }
        tune.push(if self.watcher_running {
            "watcher running".into()
        } else {
            "no watcher".into()
        });
        tune
    }

    /// How much is copied, since when, and what the finished removal costs.
    fn copy_lines(&self) -> Vec<String> {
        let took = match (self.finished_at, self.elapsed_seconds) {
            (Some(_), Some(e)) => format!("took {}", human_secs(e as f64)),
            (None, Some(e)) => format!("elapsed {}", human_secs(e as f64)),
            _ => String::new(),
        };
        let mut out = vec![format!(
            "  copied {} of {} MiB ({:.1}%) {took}",
            self.copied_bytes >> 20,
            self.total_bytes >> 20,
            self.percent
        )];
        if self.estimate_source == EstimateSource::OriginReads {
            out.push(format!(
                "  about {} MiB ({:.1}%) by the origin's reads since ZFS's last txg",
                self.estimated_bytes >> 20,
                self.estimated_percent
            ));
        }
        if let Some(f) = self.finished_at {
            out.push(format!(
                "  finished at {}",
                humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(f))
            ));
        }
        if let Some(m) = self.mapping_memory_bytes {
            out.push(format!(
                "  mapping memory {m} bytes (loaded at every import)"
            ));
        }
        out
    }

    fn origin_line(&self) -> String {
        let mode = match self.origin_mode {
            OriginMode::Immutable => "immutable (EBS is never written)",
            OriginMode::InPlace => "in place",
        };
        match self.cow {
            Some(usage) => format!(
                "  origin {mode}: snapshot {}, {usage}",
                crate::devmapper::SNAPSHOT_PATH
            ),
            None if self.snapshot_released_at.is_some() => {
                format!("  origin {mode}: snapshot removed, store released")
            }
            None => format!("  origin {mode}"),
        }
    }
}

/// The pool's vdevs other than the one being removed. After a cancel the origin is an ordinary
/// vdev again, not one of the new disks.
fn new_vdevs(status: &PoolStatus) -> Vec<String> {
    let origin = status.removal.as_ref().and_then(|r| r.path.clone());
    status
        .vdevs
        .iter()
        .filter(|v| !v.removing && v.class != VdevClass::Spare)
        .filter(|v| v.path.is_none() || v.path != origin)
        .map(|v| v.path.clone().unwrap_or_else(|| v.name.clone()))
        .collect()
}

fn human_secs(s: f64) -> String {
    humantime::format_duration(Duration::from_secs(s.round() as u64)).to_string()
}

/// What `zevac status` reads: ZFS, device mapper, and zevac's records.
pub struct Sources<'a> {
    pub zpool: &'a Zpool<'a>,
    pub dmsetup: &'a Dmsetup<'a>,
    pub origin_mode: OriginMode,
    /// The origin vdev whose removal has not started though zevac's disks are in the pool
    /// ([`crate::origin::pending_removal`]; asked only when the pool has no removal).
    pub pending_removal: &'a dyn Fn(&PoolStatus) -> Option<String>,
    /// Bytes read so far from the disk under an origin vdev ([`crate::origin::read_counter`]).
    pub origin_read: &'a dyn Fn(&str) -> Option<u64>,
    pub run_dir: &'a Path,
    pub params: &'a Path,
}

/// Reads everything and builds the report.
pub fn report(src: &Sources, pool: &str) -> Result<Option<StatusReport>> {
    let (zpool, run_dir, params) = (src.zpool, src.run_dir, src.params);
    if !zpool.is_imported(pool)? {
        return Ok(None);
    }
    let version = zpool.version()?;
    let status = zpool
        .status(pool, version)
        .context("reading the pool status")?;
    let watch = WatchRecord::load_for(run_dir, pool).ok().flatten();
    let tunables = Tunables::new(params, run_dir);
    let record = tunables.record().ok();
    let phase = record.as_ref().map(|r| (r.profile.clone(), r.phase));
    let mut report = StatusReport::build(&status, watch.as_ref(), phase, now_epoch());
    report.waiting_for_watcher = report.state == CopyState::Evacuating
        && !report.watcher_running
        && tunables.holds_the_copy(record.as_ref())?;
    report.origin_mode = src.origin_mode;
    report.cow = src.dmsetup.snapshot_usage()?;
    if report.state == CopyState::Evacuating {
        let read = report.origin.as_deref().and_then(src.origin_read);
        let progress = watch.as_ref().and_then(|w| w.progress.as_ref());
        report.origin_read(read, progress);
    }
    if report.state == CopyState::None {
        if let Some(path) = (src.pending_removal)(&status) {
            let allocating = version
                .has_vdev_props()
                .then(|| zpool.vdev_allocating(pool, &path))
                .transpose()?;
            report.pending_removal(path, allocating);
        }
    }
    Ok(Some(report))
}

/// How `--watch` shows the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// indicatif's bar, redrawn in place (a terminal).
    Bar,
    /// One line per change (a pipe).
    Lines,
    /// The JSON report, one line per sample.
    Json,
}

impl View {
    /// `Json` if asked for, else a bar on a terminal and lines on a pipe.
    pub fn for_stdout(json: bool) -> Self {
        match (json, std::io::stdout().is_terminal()) {
            (true, _) => Self::Json,
            (false, true) => Self::Bar,
            (false, false) => Self::Lines,
        }
    }
}

/// `--watch`'s own smoothing of a series of reports: the estimate (its own anchor, never
/// behind what it showed before nor behind a running watcher's), and the rate and ETA from that
/// same estimate.
struct Follow {
    started: Instant,
    progress: Option<Progress>,
    shown: u64,
    estimator: RateEstimator,
}

impl Follow {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            progress: None,
            shown: 0,
            estimator: RateEstimator::new(),
        }
    }

    fn sample(&mut self, r: &mut StatusReport) {
        if r.state != CopyState::Evacuating {
            self.progress = None;
            self.shown = r.estimated_bytes;
            return;
        }
        let held = r.paused_by_cap || r.waiting_for_watcher;
        // Without a read counter the estimate is ZFS's counter, and the rate comes from that.
        if let Some(read) = r.origin_read_bytes {
            if self.progress.is_some_and(|p| p.to_copy != r.total_bytes) {
                self.shown = 0;
            }
            let own = crate::progress::observe(
                &mut self.progress,
                r.copied_bytes,
                r.total_bytes,
                read,
                held,
            );
            self.shown = self.shown.max(own).max(r.estimated_bytes);
            r.estimated(self.shown, EstimateSource::OriginReads);
        }
        let t = self.started.elapsed().as_secs_f64();
        self.estimator.push(t, r.estimated_bytes);
        if held {
            self.estimator.paused(t);
        }
        let estimate = self.estimator.estimate(t, r.estimated_bytes, r.total_bytes);
        // Until this loop's own rate, the watcher's (or the average since the start) stands.
        if estimate.rate.is_some() || estimate.stalled.is_some() {
            (r.rate_bytes_per_second, r.eta_seconds) = (estimate.rate, estimate.eta);
            r.stalled_seconds = estimate.stalled;
        }
    }
}

fn progress_bar() -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(0);
    b.set_style(
        indicatif::ProgressStyle::with_template("{msg}\n[{bar:40}] {percent:>3}%  {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    b
}

/// `--watch`: follows the evacuation until it ends, shown as `view` says, a sample every
/// `every`. Returns the last report.
pub fn watch(
    src: &Sources,
    pool: &str,
    every: Duration,
    view: View,
) -> Result<Option<StatusReport>> {
    let bar = (view == View::Bar).then(progress_bar);
    let mut follow = Follow::new();
    let mut last_line = String::new();
    loop {
        let Some(mut r) = report(src, pool)? else {
            match view {
                View::Json => println!(
                    "{}",
                    serde_json::json!({"pool": pool, "state": "not-imported"})
                ),
                _ => println!("pool {pool} is not imported"),
            }
            return Ok(None);
        };
        follow.sample(&mut r);
        let line = r.line();
        match (&bar, view) {
            (Some(b), _) => {
                b.set_length(r.total_bytes.max(1));
                b.set_position(r.estimated_bytes);
                b.set_message(line.clone());
            }
            (None, View::Json) => println!("{}", serde_json::to_string(&r)?),
            (None, _) if line != last_line => println!("{line}"),
            (None, _) => {}
        }
        last_line = line;
        if r.is_final() {
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            if view != View::Json {
                println!("{}", r.human());
            }
            return Ok(Some(r));
        }
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;
    use crate::zfs::status::from_json;

    fn record(state: WatchState) -> WatchRecord {
        crate::testing::watch_record(state)
    }

    /// `name()` is what the JSON says, for every state (the metrics and lines use `name()`).
    #[test]
    fn state_names_are_the_json_names() {
        use CopyState::*;
        for s in [
            None, Evacuating, Copied, Verifying, Verified, Canceled, Failed,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
        for s in WatchState::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
    }

    #[test]
    fn a_canceled_removal_does_not_count_the_origin_among_the_new_disks() {
        for (version, status) in [
            (
                "2.3.2",
                from_json(&fixture("2.3.2", "canceled_status_json.stdout"), "rpool"),
            ),
            (
                "2.1.11",
                crate::zfs::text::status_from_text(
                    &fixture("2.1.11", "canceled_status.stdout"),
                    &fixture("2.1.11", "canceled_list.stdout"),
                    "rpool",
                ),
            ),
        ] {
            let status = status.unwrap();
            let rep = StatusReport::build(&status, None, None, 0);
            assert_eq!(rep.state.name(), "canceled", "{version}");
            let origin = rep.origin.clone().unwrap();
            assert!(!rep.local.contains(&origin), "{version}: {:?}", rep.local);
            assert_eq!(rep.local.len(), status.vdevs.len() - 1, "{version}");
        }
    }

    /// The instance stores added and the removal not started (the lab's recorded state): the
    /// origin is not counted among the new disks, and the line says what starts the removal.
    #[test]
    fn a_removal_not_started_says_what_starts_it() {
        let status = from_json(&fixture("2.3.2", "added_status_json.stdout"), "rpool").unwrap();
        let mut rep = StatusReport::build(&status, None, None, 0);
        assert_eq!(rep.state, CopyState::None);
        let origin = status.vdevs[0].path.clone().unwrap();
        rep.pending_removal(origin.clone(), Some(false));
        assert_eq!(serde_json::to_value(&rep).unwrap()["state"], "added");
        assert_eq!(rep.local.len(), status.vdevs.len() - 1);
        assert!(!rep.local.contains(&origin), "{:?}", rep.local);
        assert_eq!(
            rep.line(),
            format!(
                "pool rpool: the local disks are in the pool, but the removal of {origin} has \
                 not started (it takes no new blocks): zevac watch or the next zevac apply \
                 starts it"
            )
        );
        assert!(rep.is_final());
        rep.watcher_running = true;
        assert!(!rep.is_final(), "a watcher is about to start it");
    }

    #[test]
    fn a_running_watchers_estimate_moves_with_the_origins_reads() {
        let s = from_json(&fixture("2.3.2", "removing_status_json.stdout"), "rpool").unwrap();
        let r = s.removal.clone().unwrap();
        let mut w = record(WatchState::Evacuating);
        let mut p = None;
        crate::progress::observe(&mut p, r.copied, r.to_copy, 1 << 30, false);
        w.progress = p;
        let now = w.updated_at;
        let mut rep = StatusReport::build(&s, Some(&w), None, now);
        assert_eq!(
            (rep.estimated_bytes, rep.estimate_source),
            (r.copied, EstimateSource::Zfs)
        );
        rep.origin_read(Some((1 << 30) + (8 << 20)), w.progress.as_ref());
        assert_eq!(rep.estimated_bytes, (r.copied + (8 << 20)).min(r.to_copy));
        assert_eq!(rep.estimate_source, EstimateSource::OriginReads);
        assert_eq!(
            rep.copied_bytes, r.copied,
            "ZFS's own figure stays as ZFS says it"
        );
        assert!(
            rep.human().contains("by the origin's reads"),
            "{}",
            rep.human()
        );
        // No watcher: ZFS's counter, whatever the origin read.
        let mut alone = StatusReport::build(&s, None, None, now);
        alone.origin_read(Some(1 << 40), w.progress.as_ref());
        assert_eq!(
            (alone.estimated_bytes, alone.estimate_source),
            (r.copied, EstimateSource::Zfs)
        );
    }

    #[test]
    fn a_running_copy_without_a_watcher_averages_since_the_start() {
        let s = from_json(&fixture("2.3.2", "removing_status_json.stdout"), "rpool").unwrap();
        let r = s.removal.clone().unwrap();
        let now = r.start_time.unwrap() + 20;
        let rep = StatusReport::build(&s, None, None, now);
        assert_eq!(rep.state.name(), "evacuating");
        assert_eq!(rep.copied_bytes, r.copied);
        if r.copied > 0 {
            let rate = rep.rate_bytes_per_second.unwrap();
            assert!((rate - r.copied as f64 / 20.0).abs() < 1.0);
            assert!(rep.eta_seconds.unwrap() > 0.0);
        } else {
            assert_eq!(rep.rate_bytes_per_second, None, "estimating");
        }
        assert!(!rep.is_final());
        assert_eq!(rep.origin, r.path);
        assert_eq!(rep.local.len(), 2, "the two instance stores");
        // Early on, the rate says "estimating".
        let early = StatusReport::build(&s, None, None, r.start_time.unwrap() + 2);
        assert!(early.line().contains("rate estimating"), "{}", early.line());
        // Held by apply for a watcher that has not come: the line says what starts the copy.
        let waiting = StatusReport {
            waiting_for_watcher: true,
            ..early
        };
        assert!(
            waiting.line().contains("the copy waits for zevac watch") && !waiting.is_final(),
            "{}",
            waiting.line()
        );
    }

    #[test]
    fn the_watcher_record_gives_the_rate_profile_cap_and_verdict() {
        let s = from_json(&fixture("2.3.2", "removing_status_json.stdout"), "rpool").unwrap();
        let w = record(WatchState::Evacuating);
        let now = w.updated_at + 1;
        let rep = StatusReport::build(&s, Some(&w), None, now);
        assert!(rep.watcher_running);
        assert_eq!(rep.rate_bytes_per_second, Some(f64::from(31 << 20)));
        assert!(rep.human().contains("cap 40.0 MiB/s"), "{}", rep.human());
        // A share of the origin's rate: measuring, then measured.
        let mut share = record(WatchState::Evacuating);
        share.cap = Some(Cap::Share(50));
        share.cap_bytes_per_second = None;
        let rep = StatusReport::build(&s, Some(&share), None, now);
        assert!(
            rep.human()
                .contains("cap 50% (measuring the origin's rate)"),
            "{}",
            rep.human()
        );
        // A copy the watcher saw stand still for a minute: no rate, no average, the line says so.
        let mut stuck = record(WatchState::Evacuating);
        (stuck.rate_bytes_per_second, stuck.stalled_seconds) = (None, Some(65.0));
        let rep = StatusReport::build(&s, Some(&stuck), None, now);
        assert_eq!((rep.rate_bytes_per_second, rep.eta_seconds), (None, None));
        assert!(
            rep.line()
                .contains("no progress for 1m 5s (zpool status -v rpool"),
            "{}",
            rep.line()
        );
        share.origin_rate_bytes_per_second = Some(f64::from(26 << 20));
        share.cap_bytes_per_second = Some(13 << 20);
        let rep = StatusReport::build(&s, Some(&share), None, now);
        assert!(
            rep.human()
                .contains("cap 13.0 MiB/s (50% of the origin's 26.0 MiB/s)"),
            "{}",
            rep.human()
        );

        let done = from_json(&fixture("2.3.2", "finished_status_json.stdout"), "rpool").unwrap();
        let fin = done.removal.clone().unwrap();
        let copied = StatusReport::build(&done, None, None, now);
        assert_eq!(copied.state.name(), "copied");
        assert!(copied.is_final(), "no watcher will verify it");
        assert_eq!(
            copied.elapsed_seconds,
            Some(fin.end_time.unwrap() - fin.start_time.unwrap())
        );
        assert_eq!(copied.mapping_memory_bytes, fin.mapping_memory);
        assert_eq!(copied.rate_bytes_per_second, None);

        let mut v = record(WatchState::Verified);
        v.scrub = Some(Scrub::Finished {
            repaired: 0,
            errors: 0,
        });
        let verified = StatusReport::build(&done, Some(&v), None, now);
        assert_eq!(verified.state.name(), "verified");
        assert!(
            verified.human().contains("scrub: 0 errors"),
            "{}",
            verified.human()
        );
        let json = serde_json::to_value(&verified).unwrap();
        assert_eq!(json["state"], "verified");
        assert_eq!(json["scrub"]["errors"], 0);
    }

    #[test]
    fn no_removal_says_so() {
        let s = from_json(&fixture("2.3.2", "imported_status_json.stdout"), "rpool").unwrap();
        let rep = StatusReport::build(&s, None, None, 0);
        assert_eq!(rep.state.name(), "none");
        assert!(rep.is_final());
        assert_eq!(rep.line(), "pool rpool: no evacuation");
    }
}
