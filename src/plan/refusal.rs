//! Why a plan does nothing, or refuses: typed, so callers and tests tell the cases apart; each
//! with the sentence a user reads.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::layout::{COW_LABEL, GPT_OVERHEAD, MIN_DATA_BYTES};
use crate::zfs::VdevKind;

/// Why there is nothing to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Idle {
    /// `zevac=off` on the kernel command line.
    Disabled,
    NoLocalDisks,
    /// ZFS is copying; it carries the copy on by itself.
    Running {
        vdev: Option<String>,
        percent: f64,
        copied: u64,
        to_copy: u64,
    },
    Finished {
        pool: String,
    },
    NothingOnOrigin {
        pool: String,
    },
}

/// Why zevac will not start, before it changes anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// ZFS cannot remove a top-level vdev from a pool with raidz or draid.
    #[error("pool {pool} has a {} vdev ({vdev}); ZFS cannot remove a vdev from a pool with raidz or draid", raidz_word(.kind))]
    Raidz {
        pool: String,
        kind: VdevKind,
        vdev: String,
    },
    #[error("pool {pool} has a checkpoint ({} KiB); ZFS cannot remove a vdev while one exists \
             (discard it with `zpool checkpoint -d {pool}`)", .bytes >> 10)]
    Checkpoint { pool: String, bytes: u64 },
    #[error("the encryption keys of {} are not loaded; ZFS's removal can fail on them (load them first)", .datasets.join(", "))]
    KeysNotLoaded { datasets: Vec<String> },
    #[error("pool {pool} has the device_removal feature disabled; enable it with `zpool set feature@device_removal=enabled {pool}`")]
    RemovalFeatureDisabled { pool: String },
    #[error("no origin disk found (no EBS or configured origin disk)")]
    NoOriginDisk,
    #[error("pool {pool} has {} vdevs on the origin ({}); zevac moves exactly one", .vdevs.len(), .vdevs.join(", "))]
    ManyOriginVdevs { pool: String, vdevs: Vec<String> },
    #[error("the origin vdev {vdev} is a {kind:?}, not a single device")]
    OriginNotADevice { vdev: String, kind: VdevKind },
    #[error("cannot read the ashift of the origin vdev {vdev}")]
    NoAshift { vdev: String },
    /// Immutable, but the pool is imported writable from the origin itself.
    #[error(
        "pool {pool} is imported writable from its origin {origin} itself; the immutable \
             origin needs zevac to import it through a snapshot: export the pool first, or set \
             origin.mode = \"in-place\""
    )]
    ImportedFromOrigin { pool: String, origin: String },
    /// Immutable, but the pool on the origin already has a local disk.
    #[error(
        "the pool on the origin already has local disk {disk} (an in-place evacuation began): \
             finish it with origin.mode = \"in-place\""
    )]
    InPlaceBegun { disk: String },
    #[error("local disk {disk} is not blank (it holds {holds}); zevac writes only to blank disks unless \
             local.allow_wipe = true")]
    NotBlank { disk: String, holds: String },
    /// zevac's partitions without a store, for an immutable origin.
    #[error(
        "the local disks carry zevac's partitions but no copy-on-write store ({COW_LABEL}) for \
             the immutable origin; set origin.mode = \"in-place\", or wipe them"
    )]
    NoStore,
    #[error("local disk {disk} ({} MiB) is too small for zevac's partitions: the GPT's {} MiB, {} MiB \
             of special, {} MiB of cache and {} MiB of copy-on-write store leave less than the {} \
             MiB ZFS needs for a data vdev",
             .disk_bytes >> 20, GPT_OVERHEAD >> 20, .special >> 20, .cache >> 20, .cow >> 20, MIN_DATA_BYTES >> 20)]
    DiskTooSmall {
        disk: String,
        disk_bytes: u64,
        special: u64,
        cache: u64,
        cow: u64,
    },
    #[error("the local disks are too small: they offer about {} MiB for data, the origin holds {} MiB \
             and ZFS keeps {} MiB free", .room >> 20, .origin >> 20, .slop >> 20)]
    NoRoom { room: u64, origin: u64, slop: u64 },
    #[error("the origin vdev {origin} is not a partition or disk of known size")]
    OriginSizeUnknown { origin: String },
}

fn raidz_word(kind: &VdevKind) -> &'static str {
    if *kind == VdevKind::Raidz {
        "raidz"
    } else {
        "draid"
    }
}

impl Idle {
    /// Its JSON name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::NoLocalDisks => "no-local-disks",
            Self::Running { .. } => "running",
            Self::Finished { .. } => "finished",
            Self::NothingOnOrigin { .. } => "nothing-on-origin",
        }
    }
}

impl fmt::Display for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disabled => f.write_str(
                "zevac is disabled on the kernel command line (zevac=off): the pool stays on its origin",
            ),
            Self::NoLocalDisks => f.write_str("no local disks: the pool stays on its origin"),
            Self::Running {
                vdev,
                percent,
                copied,
                to_copy,
            } => write!(
                f,
                "the evacuation of {} is running ({percent:.0}%: {} of {} MiB); ZFS carries it on",
                vdev.as_deref().unwrap_or("the origin"),
                copied >> 20,
                to_copy >> 20
            ),
            Self::Finished { pool } => write!(
                f,
                "the evacuation is finished: pool {pool} lives on the local disks"
            ),
            Self::NothingOnOrigin { pool } => write!(
                f,
                "pool {pool} has no vdev on the origin disks: nothing to move"
            ),
        }
    }
}

impl Refusal {
    /// Its JSON name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Raidz { .. } => "raidz",
            Self::Checkpoint { .. } => "checkpoint",
            Self::KeysNotLoaded { .. } => "keys-not-loaded",
            Self::RemovalFeatureDisabled { .. } => "removal-feature-disabled",
            Self::NoOriginDisk => "no-origin-disk",
            Self::ManyOriginVdevs { .. } => "many-origin-vdevs",
            Self::OriginNotADevice { .. } => "origin-not-a-device",
            Self::NoAshift { .. } => "no-ashift",
            Self::ImportedFromOrigin { .. } => "imported-from-origin",
            Self::InPlaceBegun { .. } => "in-place-begun",
            Self::NotBlank { .. } => "not-blank",
            Self::NoStore => "no-store",
            Self::DiskTooSmall { .. } => "disk-too-small",
            Self::NoRoom { .. } => "no-room",
            Self::OriginSizeUnknown { .. } => "origin-size-unknown",
        }
    }
}

/// `{"<tag>": kind, "reason": sentence}`: the sentence stays where the JSON always had it.
fn serialize_reason<S: Serializer>(
    s: S,
    tag: &'static str,
    kind: &str,
    reason: String,
) -> Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct("Reason", 2)?;
    st.serialize_field(tag, kind)?;
    st.serialize_field("reason", &reason)?;
    st.end()
}

impl Serialize for Idle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_reason(s, "why", self.kind(), self.to_string())
    }
}

impl Serialize for Refusal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_reason(s, "refusal", self.kind(), self.to_string())
    }
}
