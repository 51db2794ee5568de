//! Inspect: what the planner needs to know of an imported pool, read through [`Zpool`].

use anyhow::{Context, Result};

use crate::origin::Origin;
use crate::zfs::{PoolStatus, ZfsVersion, Zpool};

/// An imported pool, as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolState {
    pub status: PoolStatus,
    pub version: ZfsVersion,
    pub checkpoint_bytes: Option<u64>,
    pub device_removal_feature: bool,
    /// Datasets whose encryption key is not loaded.
    pub locked_datasets: Vec<String>,
    /// The ashift of the vdev on the origin (from its label), if there is one.
    pub origin_ashift: Option<u32>,
    /// `used` of the root dataset: all data, right even where vdev `alloc` is not.
    pub used_bytes: u64,
    /// Imported read-only (zevac's probe import, which writes nothing).
    pub read_only: bool,
}

/// After `apply`'s own writable import: reads again only what an import changes, the status
/// (the origin's path, now maybe through the snapshot, and the local vdevs), and keeps from
/// `earlier` (the probe import's) what belongs to the pool's data: the checkpoint, the feature,
/// the keys (neither import loads them), `used` and the origin's label.
pub fn refresh(zpool: &Zpool, pool: &str, earlier: &PoolState) -> Result<PoolState> {
    let status = zpool
        .status(pool, earlier.version)
        .with_context(|| format!("reading the status of pool {pool}"))?;
    Ok(PoolState {
        status,
        read_only: false,
        locked_datasets: earlier.locked_datasets.clone(),
        ..*earlier
    })
}

/// Reads the pool's state. The pool must be imported.
pub fn inspect(zpool: &Zpool, pool: &str, origin: &Origin) -> Result<PoolState> {
    let version = zpool.version()?;
    let status = zpool
        .status(pool, version)
        .with_context(|| format!("reading the status of pool {pool}"))?;
    let props = zpool.properties(pool)?;
    let origin_ashift = match origin.vdevs(&status).first().and_then(|v| v.path.clone()) {
        Some(path) => Some(zpool.label_ashift(&path)?),
        None => None,
    };
    Ok(PoolState {
        checkpoint_bytes: props.checkpoint_bytes()?,
        read_only: props.get("readonly") == Some("on"),
        device_removal_feature: props.device_removal_available(),
        locked_datasets: zpool.locked_datasets(pool)?,
        used_bytes: zpool.used_bytes(pool)?,
        origin_ashift,
        version,
        status,
    })
}
