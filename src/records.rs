//! The records zevac keeps under `/run/zevac` besides `state.json`, and the clocks they are
//! stamped with: `watch.json`, what the watcher is doing, for `zevac status` (which must answer
//! without the watcher) and for a restarted watcher to pick up where the last one stopped;
//! `cap.json`, a cap set at runtime; `copy-start.json`, where `apply` started the copy.

use serde::{Deserialize, Serialize};

use crate::profile::Phase;
use crate::runfile::{PoolRecord, RunRecord};
use crate::zfs::text::Scrub;

/// Where the evacuation stands, as the watcher sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchState {
    /// ZFS is copying.
    Evacuating,
    /// The copy is done; the scrub that verifies it runs.
    Verifying,
    /// Copied and scrubbed clean.
    Verified,
    /// ZFS canceled the removal (an I/O error).
    Canceled,
    /// The scrub found errors, or the watcher failed.
    Failed,
}

impl WatchState {
    pub const ALL: [Self; 5] = [
        Self::Evacuating,
        Self::Verifying,
        Self::Verified,
        Self::Canceled,
        Self::Failed,
    ];

    /// Its name, as the JSON and the metrics spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Evacuating => "evacuating",
            Self::Verifying => "verifying",
            Self::Verified => "verified",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
        }
    }
}

/// The watcher's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchRecord {
    pub pool: String,
    pub pid: u32,
    pub state: WatchState,
    pub profile: String,
    pub phase: Option<Phase>,
    /// The cap in force, in bytes per second (`None`: none, or a share still measuring).
    pub cap_bytes_per_second: Option<u64>,
    /// The cap as asked for (profile, config or `zevac tune`).
    #[serde(default)]
    pub cap: Option<crate::profile::Cap>,
    /// For a share cap: the origin's rate the watcher measured with the copy uncapped.
    #[serde(default)]
    pub origin_rate_bytes_per_second: Option<f64>,
    pub copied_bytes: u64,
    pub total_bytes: u64,
    /// Smoothed; `None` while estimating.
    pub rate_bytes_per_second: Option<f64>,
    pub eta_seconds: Option<f64>,
    /// The copy's progress between ZFS's txg updates, from the origin's read counter (`None`
    /// where there is none): a one-shot `zevac status` continues it.
    #[serde(default)]
    pub progress: Option<crate::progress::Progress>,
    /// Whether the cap controller has the copy paused right now.
    pub paused_by_cap: bool,
    /// Seconds ZFS's copied counter has stood still without a pause by zevac, once over a minute.
    #[serde(default)]
    pub stalled_seconds: Option<f64>,
    /// Epoch seconds.
    pub watch_started_at: u64,
    pub copy_finished_at: Option<u64>,
    pub scrub_started_at: Option<u64>,
    pub verified_at: Option<u64>,
    pub scrub: Option<Scrub>,
    /// Immutable origin: the snapshot's store while the copy runs.
    #[serde(default)]
    pub cow: Option<crate::devmapper::CowUsage>,
    /// Immutable origin: when the snapshot was removed and its store released (epoch seconds).
    #[serde(default)]
    pub snapshot_released_at: Option<u64>,
    pub message: Option<String>,
    pub updated_at: u64,
}

impl RunRecord for WatchRecord {
    const FILE: &'static str = "watch.json";
}

impl PoolRecord for WatchRecord {
    fn pool(&self) -> &str {
        &self.pool
    }
}

/// Where the copy started, as `zevac apply` recorded it when it started or resumed a removal
/// (`/run/zevac/copy-start.json`): the copy runs uncapped from the initrd until the watcher
/// starts, and the watcher's cap counts the origin's reads from here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyStart {
    pub pool: String,
    /// Epoch seconds.
    pub at: f64,
    /// Seconds since boot then ([`since_boot`], `/proc/uptime`'s clock): what the watcher counts
    /// from, since the wall clock may be stepped between the initrd and stage 2 (NTP's first
    /// sync on a fresh instance).
    #[serde(default)]
    pub since_boot: Option<f64>,
    /// The origin disk's read counter then, in bytes.
    pub origin_read_bytes: u64,
}

impl RunRecord for CopyStart {
    const FILE: &'static str = "copy-start.json";
}

impl PoolRecord for CopyStart {
    fn pool(&self) -> &str {
        &self.pool
    }
}

impl CopyStart {
    /// The copy of `pool` starts now, with the origin's read counter at `origin_read_bytes`.
    pub fn now(pool: &str, origin_read_bytes: u64) -> Self {
        Self {
            pool: pool.to_string(),
            at: now_epoch_f64(),
            since_boot: since_boot(),
            origin_read_bytes,
        }
    }

    /// How long ago the copy started: on the boot clock, or on the wall clock for a record
    /// without it.
    pub fn seconds_ago(&self) -> f64 {
        match (self.since_boot, since_boot()) {
            (Some(then), Some(now)) => now - then,
            _ => now_epoch_f64() - self.at,
        }
    }
}

/// Seconds since the epoch, with their fraction.
pub fn now_epoch_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Seconds since boot, suspend included (`CLOCK_BOOTTIME`, the clock of `/proc/uptime`): one
/// clock for the initrd and stage 2 that no time sync steps.
pub fn since_boot() -> Option<f64> {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .ok()
        .map(|t| t.tv_sec() as f64 + t.tv_nsec() as f64 * 1e-9)
}

/// Seconds since the epoch.
pub fn now_epoch() -> u64 {
    now_epoch_f64() as u64
}

/// A cap set at runtime by `zevac tune --cap` (`/run/zevac/cap.json`), over the profile's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapOverride {
    /// `None`: no cap.
    pub cap: Option<crate::profile::Cap>,
}

impl RunRecord for CapOverride {
    const FILE: &'static str = "cap.json";
}
