//! A cell of the benchmark and what it measured: the cap and workload a cell states, the
//! cell itself, its result record (`results.json`), fio's latencies, and the guest's fio set-up.
//! The sweep, the peers and the plots all use these.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use zevac::config::CapSetting;
use zevac::units::{Cap, Rate};

use crate::events::Events;
use crate::{BootSpec, Versions};

const MIB: f64 = 1_048_576.0;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A cap for the copy, as a cell states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CapSpec {
    /// No cap at all (`tunables.cap = "none"`), whatever the profile says.
    None,
    /// The profile's own cap, if it has one.
    Profile,
    /// This fraction of the EBS throttle.
    OfThrottle(f64),
    /// This many MiB/s.
    MibPerSecond(f64),
}

impl CapSpec {
    /// The cap in MiB/s for an EBS throttled to `throttle_mib`; `None` for none or the
    /// profile's (which [`Cell::cap_mib`] looks up).
    fn mib(self, throttle_mib: u64) -> Option<f64> {
        match self {
            CapSpec::None | CapSpec::Profile => None,
            CapSpec::OfThrottle(f) => Some(f * throttle_mib as f64),
            CapSpec::MibPerSecond(m) => Some(m),
        }
    }
}

impl FromStr for CapSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "none" {
            return Ok(CapSpec::None);
        }
        if s == "profile" {
            return Ok(CapSpec::Profile);
        }
        if let Some(p) = s.strip_suffix('%') {
            let p: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("cap {s:?}: not a percentage"))?;
            if !(p > 0.0 && p <= 100.0) {
                return Err(format!(
                    "cap {s:?}: a percentage of the throttle, 0 < p <= 100"
                ));
            }
            return Ok(CapSpec::OfThrottle(p / 100.0));
        }
        if let Some(m) = s.strip_suffix("MiB/s") {
            let m: f64 = m
                .trim()
                .parse()
                .map_err(|_| format!("cap {s:?}: not a number of MiB/s"))?;
            if m > 0.0 {
                return Ok(CapSpec::MibPerSecond(m));
            }
        }
        Err(format!(
            "cap {s:?}: write \"none\", \"profile\", a share of the throttle (\"25%\") or \"8 MiB/s\""
        ))
    }
}

impl fmt::Display for CapSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapSpec::None => write!(f, "none"),
            CapSpec::Profile => write!(f, "profile"),
            CapSpec::OfThrottle(x) => write!(f, "{}%", x * 100.0),
            CapSpec::MibPerSecond(m) => write!(f, "{m} MiB/s"),
        }
    }
}

impl<'de> Deserialize<'de> for CapSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for CapSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The foreground I/O a cell runs (fio, in the guest) before, during and after the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// No foreground I/O: the copy alone.
    None,
    /// 4k random reads of the golden image's old data, several times the ARC (held to 64 MiB).
    Randread,
    /// etcd's disk check: 2300-byte sequential writes, each followed by fdatasync.
    Fsync,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::None => "none",
            Workload::Randread => "randread",
            Workload::Fsync => "fsync",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long each fio phase runs.
pub const FIO_SECONDS: u32 = 10;

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub data_mib: u64,
    pub throttle_mib: u64,
    pub profile: String,
    pub cap: CapSpec,
    pub workload: Workload,
    /// Which boot of the cell, from 0 (`Matrix::repeats`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeat: u32,
}

impl Cell {
    /// The cap in force in MiB/s, the profile's looked up in zevac's shipped profiles.
    pub fn cap_mib(&self) -> Result<Option<f64>> {
        Ok(match self.cap {
            CapSpec::Profile => {
                let p = zevac::profile::find(Path::new("/nonexistent"), &self.profile)?;
                // A share of the origin's rate is known once the watcher measured it: `measure`
                // reads it from the watcher's record.
                p.cap.and_then(|c| c.resolve(None)).map(|c| c as f64 / MIB)
            }
            other => other.mib(self.throttle_mib),
        })
    }

    /// The guest's /etc/zevac.toml for this cell; `local` names the local disks when some
    /// instance store must stay out of the pool (the raw fsync baseline).
    pub fn config(&self, local: &[String]) -> Result<String> {
        let mut c = zevac::config::Config::default();
        c.local.disks = local
            .iter()
            .map(|d| zevac::units::DiskPattern::new(d))
            .collect::<Result<_>>()?;
        c.tunables.profile = self.profile.clone();
        c.tunables.cap = match (self.cap, self.cap_mib()?) {
            (CapSpec::Profile, _) => None,
            (_, None) => Some(CapSetting::NoCap),
            // In KiB/s: a share of a throttle is rarely a whole number of MiB/s.
            (_, Some(m)) => Some(CapSetting::Cap(Cap::Rate(Rate(
                (m * 1024.0).round() as u64 * 1024,
            )))),
        };
        c.watch.interval = std::time::Duration::from_secs(1);
        // As the NixOS module boots: the watcher, in stage 2, starts the copy.
        c.watch.starts_copy = true;
        Ok(c.to_toml())
    }

    /// Each instance store holds the whole pool, with room: both together hold it twice.
    pub(crate) fn instance_store_mib(&self) -> u64 {
        (self.data_mib * 3 / 2).max(1024)
    }

    pub(crate) fn label(&self) -> String {
        let repeat = if self.repeat > 0 {
            format!(", repeat {}", self.repeat)
        } else {
            String::new()
        };
        format!(
            "{} MiB, EBS {} MiB/s, {}, cap {}, workload {}{repeat}",
            self.data_mib, self.throttle_mib, self.profile, self.cap, self.workload
        )
    }

    /// The same cell, whatever its repeat.
    pub fn same_settings(&self, other: &Cell) -> bool {
        Cell {
            repeat: 0,
            ..self.clone()
        } == Cell {
            repeat: 0,
            ..other.clone()
        }
    }
}

/// What one cell measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellResult {
    #[serde(flatten)]
    pub cell: Cell,
    pub zfs: String,
    /// The Debian versions the cell ran on (not recorded before the lab resolved them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Versions>,
    /// The host the cell ran on ([`machine`]; not recorded before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// The cap in force (`None`: no cap).
    pub cap_mib_per_second: Option<f64>,
    /// Wall time of `zevac apply` in the guest: what the initrd step holds the boot for.
    pub boot_blocking_seconds: f64,
    /// Its writable `zpool import`, as zevac reports it.
    pub import_seconds: Option<f64>,
    /// Every command `apply` ran, with its time, from its log (not recorded before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_commands: Option<Vec<crate::apply_log::CommandTime>>,
    /// Mounting the root's four file systems right after, while the copy runs (or, with
    /// `watch.starts_copy`, before the watcher starts it): the rest of
    /// what holds the boot.
    pub root_mount_seconds: f64,
    /// The same mounts before the copy, the pool on EBS alone (workload cells only).
    pub root_mount_before_seconds: Option<f64>,
    /// The bytes ZFS had to copy (`removal_stats.to_copy` / `zevac status`).
    /// What ZFS had to copy (`total_bytes`); `None`: its status did not say.
    pub to_copy_bytes: Option<u64>,
    /// From `zevac apply` returning, or from the copy's start where it came later (the watcher
    /// started it: `watch.starts_copy`), to `zpool wait -t remove` returning (guest clock).
    pub copy_seconds_after_boot: f64,
    /// Bytes read from the EBS disk in that window (its sysfs counter).
    pub ebs_read_bytes: u64,
    /// Their rate over the window: the copy's rate on the disk.
    pub rate_mib_per_second: f64,
    pub rate_to_throttle: f64,
    /// `rate / cap`, with a cap: the window after boot only, which misses the uncapped start.
    pub rate_to_cap: Option<f64>,
    /// How long the copy waited after `apply` returned for the watcher to start it
    /// (`watch.starts_copy`: the root mount and the watcher's start; guest clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_waited_seconds: Option<f64>,
    /// From `zpool remove` returning (apply's `copy-start.json`) to the copy's end (guest clock):
    /// the window the cap averages over.
    #[serde(default)]
    pub copy_seconds_from_start: Option<f64>,
    /// Bytes read from the EBS disk in that window (the copy's and any foreground's, which the
    /// cap counts alike).
    #[serde(default)]
    pub ebs_read_from_start_bytes: Option<u64>,
    /// From the copy's start to the EBS disk's last read before the copy's end (sampled twice
    /// a second): the time the copy read, without the txg syncs after its last byte.
    #[serde(default)]
    pub read_seconds_from_start: Option<f64>,
    /// The EBS reads from the copy's start over the read time and the cap: the cap's accuracy,
    /// by the cap's own definition.
    #[serde(default)]
    pub cap_accuracy: Option<f64>,
    /// From the copy's start to the watcher's (the root mounted, guest clock): the cap is the
    /// watcher's, so it acts from there.
    #[serde(default)]
    pub watcher_seconds_from_start: Option<f64>,
    /// ZFS's own removal clock (whole seconds, 2.3 only).
    pub zfs_copy_seconds: Option<f64>,
    pub mapping_memory_bytes: Option<u64>,
    pub scrub_errors: Option<u64>,
    pub manifest_ok: bool,
    /// The workload before the copy (the pool on EBS alone), during it, after the verification.
    pub before: Option<Latency>,
    pub during: Option<Latency>,
    pub after: Option<Latency>,
    /// The share of the `during` run in which the copy was still going (it may end first).
    pub during_copy_overlap: Option<f64>,
    /// fsync: the same job on a raw instance store, and `after` IOPS over it.
    pub raw: Option<Latency>,
    pub fsync_iops_to_raw: Option<f64>,
    pub run_dir: PathBuf,
}

impl CellResult {
    /// The copy's own rate from its start to its last read of EBS, over the cap: below the
    /// cap's accuracy by the foreground's share. Its bytes are at most what ZFS had to copy (of
    /// which some was copied before `zpool remove` returned: 17 MiB of 266 at 64 MiB/s) and at
    /// most what EBS read in that window (the foreground's reads included): the lesser of the
    /// two, an upper bound.
    pub fn copy_rate_to_cap(&self) -> Option<f64> {
        let (cap, seconds) = self.cap_mib_per_second.zip(self.read_seconds_from_start)?;
        let to_copy = self.to_copy_bytes?;
        let bytes = self
            .ebs_read_from_start_bytes
            .map_or(to_copy, |b| b.min(to_copy));
        Some(bytes as f64 / seconds / MIB / cap)
    }

    /// Whether the copy still read EBS after the watcher started (after the root mount that
    /// follows `apply`), its first pause took hold (the 64 MiB ZFS keeps in flight landed, at
    /// the throttle) and two ticks went by: else the cap, which is the watcher's, never held
    /// it (`fast` at 64 MiB/s read its 256 MiB in 4.2 s, the watcher came at 2.0 s).
    pub fn copy_outlasted_the_initrd(&self) -> bool {
        match (self.copy_seconds_from_start, self.read_seconds_from_start) {
            (Some(from_start), Some(read)) => {
                // Cells measured before the watcher's start was recorded: apply's end and the
                // root mount, which leaves out the records the guest takes in between (1.5 s
                // under emulation in one cell, whose copy then ended in its first pause's drain).
                let watcher = self
                    .watcher_seconds_from_start
                    .unwrap_or(from_start - self.copy_seconds_after_boot + self.root_mount_seconds);
                let drain =
                    zevac::watch::cap::MAX_COPY_IN_FLIGHT / MIB / self.cell.throttle_mib as f64;
                read > watcher + drain + 2.0
            }
            _ => true,
        }
    }
}

/// One fio run: latency percentiles (of each read, or of each fdatasync) and IOPS.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub iops: f64,
}

impl Latency {
    /// From fio's JSON: the read latency (`clat_ns`) for reads; for writes with fdatasync, the
    /// latency of the fdatasync calls (`sync.lat_ns`), which is what etcd waits for, and the
    /// write IOPS.
    pub fn from_fio(json: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(json).context("fio's JSON")?;
        let job = &v["jobs"][0];
        let (lat, iops) = if job["read"]["io_bytes"].as_u64().unwrap_or(0) > 0 {
            (&job["read"]["clat_ns"], job["read"]["iops"].as_f64())
        } else {
            (&job["sync"]["lat_ns"], job["write"]["iops"].as_f64())
        };
        let pct = |p: &str| -> Result<f64> {
            lat["percentile"][p]
                .as_f64()
                .map(|ns| ns / 1e6)
                .with_context(|| format!("fio's JSON has no percentile {p}: {lat}"))
        };
        Ok(Self {
            p50_ms: pct("50.000000")?,
            p99_ms: pct("99.000000")?,
            p999_ms: pct("99.900000")?,
            iops: iops.context("fio's JSON has no IOPS")?,
        })
    }
}

impl CellResult {
    /// Whether the cell ran as it should (verified, data intact); its numbers count only then.
    pub fn ok(&self) -> bool {
        self.manifest_ok && self.scrub_errors == Some(0)
    }
}

/// A blank 1 GiB instance store the guest gets as `$LAB_RAW` and leaves raw: the fsync
/// baseline.
pub(crate) fn raw_disk(run: &crate::Run) -> Result<crate::Disk> {
    let raw = run.path("raw.img");
    crate::disks::create_blank(&raw, 1024 << 20)?;
    let mut d = crate::Disk::instance_store(raw, 2);
    d.id = "raw".into();
    Ok(d)
}

/// `spec` with Debian's fio, installed on the host, and the libraries ldd finds for it.
pub(crate) fn with_fio(spec: BootSpec) -> Result<BootSpec> {
    crate::apt::ensure_installed(&["fio"])?;
    Ok(spec.binary("/usr/bin/fio", "/usr/bin/fio"))
}

/// The fio run a guest recorded as `fio_<phase>`, if it ran one.
pub(crate) fn fio_phase(ev: &Events, phase: &str) -> Result<Option<Latency>> {
    match ev.cmd(&format!("fio_{phase}")) {
        Ok(c) if c.rc != 0 => bail!("fio {phase} wrote no results: {}", c.stderr.trim()),
        Ok(c) => Latency::from_fio(&c.stdout)
            .with_context(|| format!("fio {phase}"))
            .map(Some),
        Err(_) => Ok(None),
    }
}
